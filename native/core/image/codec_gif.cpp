#include <algorithm>
#include <cstring>

#include <gif_lib.h>

#include "common/error.h"
#include "image/codecs.h"

namespace iqa {
namespace {

struct Source {
  const uint8_t* data;
  size_t size;
  size_t pos;
};

int read_bytes(GifFileType* gif, GifByteType* out, int n) {
  auto* s = static_cast<Source*>(gif->UserData);
  size_t k = std::min(size_t(n < 0 ? 0 : n), s->size - s->pos);
  std::memcpy(out, s->data + s->pos, k);
  s->pos += k;
  return int(k);
}

struct GifCloser {
  GifFileType* gif;
  ~GifCloser() {
    int err = 0;
    if (gif) DGifCloseFile(gif, &err);
  }
};

[[noreturn]] void gif_fail(int code) { fail(ErrorCode::Decode, std::string("GIF: ") + (GifErrorString(code) ? GifErrorString(code) : "unknown error")); }

}  // namespace

bool is_gif(const uint8_t* d, size_t n) { return n >= 6 && (std::memcmp(d, "GIF87a", 6) == 0 || std::memcmp(d, "GIF89a", 6) == 0); }

// The first frame only (giflib, read record by record: later frames are never decoded), placed
// on the logical screen. BGRA when that frame has a transparent colour, else BGR; screen pixels
// outside the frame are the frame's transparent colour (alpha 0) or black.
cv::Mat decode_gif_first_frame(const uint8_t* data, size_t size) {
  Source src{data, size, 0};
  int err = 0;
  GifCloser closer{DGifOpen(&src, read_bytes, &err)};
  GifFileType* gif = closer.gif;
  if (!gif) gif_fail(err);
  int transparent = NO_TRANSPARENT_COLOR;
  for (int records = 0; records < 100000; ++records) {
    GifRecordType type;
    if (DGifGetRecordType(gif, &type) == GIF_ERROR) gif_fail(gif->Error);
    if (type == TERMINATE_RECORD_TYPE) fail(ErrorCode::Decode, "GIF: no image in the file");
    if (type == EXTENSION_RECORD_TYPE) {
      int code = 0;
      GifByteType* ext = nullptr;
      if (DGifGetExtension(gif, &code, &ext) == GIF_ERROR) gif_fail(gif->Error);
      if (code == GRAPHICS_EXT_FUNC_CODE && ext && ext[0] >= 4) {
        GraphicsControlBlock gcb{};
        if (DGifExtensionToGCB(ext[0], ext + 1, &gcb) == GIF_OK) transparent = gcb.TransparentColor;
      }
      while (ext) {
        if (DGifGetExtensionNext(gif, &ext) == GIF_ERROR) gif_fail(gif->Error);
      }
      continue;
    }
    if (type != IMAGE_DESC_RECORD_TYPE) continue;
    if (DGifGetImageDesc(gif) == GIF_ERROR) gif_fail(gif->Error);
    const GifImageDesc& desc = gif->Image;
    const ColorMapObject* map = desc.ColorMap ? desc.ColorMap : gif->SColorMap;
    if (!map || map->ColorCount <= 0) fail(ErrorCode::Decode, "GIF: no colour table");
    int sw = gif->SWidth, sh = gif->SHeight, fw = desc.Width, fh = desc.Height;
    if (sw <= 0 || sh <= 0 || fw <= 0 || fh <= 0) fail(ErrorCode::Decode, "GIF: zero width or height");
    int ch = transparent == NO_TRANSPARENT_COLOR ? 3 : 4;
    cv::Mat out(sh, sw, CV_MAKETYPE(CV_8U, ch), cv::Scalar::all(0));
    std::vector<GifPixelType> line(static_cast<size_t>(fw));
    // Interlaced frames arrive in 4 passes of rows.
    const int start[4] = {0, 4, 2, 1}, step[4] = {8, 8, 4, 2};
    std::vector<int> order;
    order.reserve(size_t(fh));
    if (desc.Interlace) {
      for (int p = 0; p < 4; ++p)
        for (int y = start[p]; y < fh; y += step[p]) order.push_back(y);
    } else {
      for (int y = 0; y < fh; ++y) order.push_back(y);
    }
    for (int y : order) {
      if (DGifGetLine(gif, line.data(), fw) == GIF_ERROR) gif_fail(gif->Error);
      int sy = desc.Top + y;
      if (sy < 0 || sy >= sh) continue;
      uint8_t* row = out.ptr<uint8_t>(sy);
      for (int x = 0; x < fw; ++x) {
        int sx = desc.Left + x;
        if (sx < 0 || sx >= sw) continue;
        int idx = line[size_t(x)];
        uint8_t* px = row + size_t(sx) * size_t(ch);
        if (idx >= map->ColorCount) idx = 0;
        const GifColorType& c = map->Colors[idx];
        px[0] = c.Blue;
        px[1] = c.Green;
        px[2] = c.Red;
        if (ch == 4) px[3] = idx == transparent ? 0 : 255;
      }
    }
    return out;
  }
  fail(ErrorCode::Decode, "GIF: too many records before the first image");
}

}  // namespace iqa
