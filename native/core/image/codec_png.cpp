#include <csetjmp>
#include <cstring>

#include <png.h>

#include "common/error.h"
#include "image/codecs.h"

namespace iqa {
namespace {

constexpr size_t kMaxWarnings = 4;

struct Reader {
  const uint8_t* data;
  size_t size;
  size_t pos;
  CodecWarnings* warnings;
  char message[256];
};

void on_error(png_structp png, png_const_charp msg) {
  auto* r = static_cast<Reader*>(png_get_error_ptr(png));
  std::snprintf(r->message, sizeof r->message, "%s", msg);
  png_longjmp(png, 1);
}

// Replaces libpng's default warning handler, which writes to stderr.
void on_warning(png_structp png, png_const_charp msg) {
  auto* r = static_cast<Reader*>(png_get_error_ptr(png));
  if (r->warnings->size() < kMaxWarnings) r->warnings->push_back(std::string("PNG: ") + msg);
}

void on_read(png_structp png, png_bytep out, png_size_t n) {
  auto* r = static_cast<Reader*>(png_get_io_ptr(png));
  if (n > r->size - r->pos) png_error(png, "PNG input buffer is incomplete");
  std::memcpy(out, r->data + r->pos, n);
  r->pos += n;
}

}  // namespace

// The transforms are OpenCV 4.6's PngDecoder::readHeader/readData for IMREAD_UNCHANGED.
cv::Mat decode_png(const uint8_t* data, size_t size, CodecWarnings& warnings) {
  Reader reader{data, size, 0, &warnings, {0}};
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &reader, on_error, on_warning);
  if (!png) fail(ErrorCode::Internal, "PNG: cannot allocate a reader");
  png_infop info = png_create_info_struct(png);
  png_infop end = info ? png_create_info_struct(png) : nullptr;
  cv::Mat out;
  std::vector<png_bytep> rows;
  if (!info || !end || setjmp(png_jmpbuf(png))) {
    png_destroy_read_struct(&png, info ? &info : nullptr, end ? &end : nullptr);
    fail(ErrorCode::Decode, std::string("PNG: ") + (reader.message[0] ? reader.message : "cannot allocate a reader"));
  }
  png_set_read_fn(png, &reader, on_read);
  png_read_info(png, info);
  png_uint_32 width = 0, height = 0;
  int bit_depth = 0, color_type = 0;
  png_get_IHDR(png, info, &width, &height, &bit_depth, &color_type, nullptr, nullptr, nullptr);
  int channels = 1;
  if (color_type == PNG_COLOR_TYPE_RGB || color_type == PNG_COLOR_TYPE_PALETTE) {
    png_bytep trans = nullptr;
    int num_trans = 0;
    png_color_16p trans_values = nullptr;
    png_get_tRNS(png, info, &trans, &num_trans, &trans_values);
    channels = num_trans > 0 ? 4 : 3;
  } else if (color_type == PNG_COLOR_TYPE_GRAY_ALPHA || color_type == PNG_COLOR_TYPE_RGB_ALPHA) {
    channels = 4;
  }
  int depth = bit_depth == 16 ? CV_16U : CV_8U;
  bool color = channels > 1;
  if (bit_depth == 16) png_set_swap(png);  // little-endian samples
  if (channels < 4) png_set_strip_alpha(png);
  else png_set_tRNS_to_alpha(png);
  if (color_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
  if ((color_type & PNG_COLOR_MASK_COLOR) == 0 && bit_depth < 8) png_set_expand_gray_1_2_4_to_8(png);
  if ((color_type & PNG_COLOR_MASK_COLOR) && color) png_set_bgr(png);
  else if (color) png_set_gray_to_rgb(png);
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
  if (png_get_rowbytes(png, info) != size_t(width) * channels * (bit_depth == 16 ? 2 : 1))
    png_error(png, "unexpected row size after transforms");
  out.create(int(height), int(width), CV_MAKETYPE(depth, channels));
  rows.resize(height);
  for (png_uint_32 y = 0; y < height; ++y) rows[y] = out.ptr<png_byte>(int(y));
  png_read_image(png, rows.data());
  png_read_end(png, end);
  png_destroy_read_struct(&png, &info, &end);
  return out;
}

}  // namespace iqa
