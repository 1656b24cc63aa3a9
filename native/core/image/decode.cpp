#include <cmath>
#include <cstring>
#include <fstream>
#include <sys/stat.h>
#include <vector>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "common/error.h"
#include "image/codecs.h"
#include "image/exif.h"
#include "image/image.h"

namespace iqa {
namespace {

uint32_t be16(const uint8_t* p) { return (uint32_t(p[0]) << 8) | p[1]; }
uint32_t be32(const uint8_t* p) { return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | p[3]; }
uint32_t le16(const uint8_t* p) { return uint32_t(p[0]) | (uint32_t(p[1]) << 8); }
uint32_t le32(const uint8_t* p) { return uint32_t(p[0]) | (uint32_t(p[1]) << 8) | (uint32_t(p[2]) << 16) | (uint32_t(p[3]) << 24); }

bool is_jpeg(const uint8_t* d, size_t n) { return n >= 3 && d[0] == 0xFF && d[1] == 0xD8 && d[2] == 0xFF; }

// Walks JPEG segments up to the first SOS. Returns the SOS offset (or 0) and fills the SOF size.
size_t jpeg_walk(const uint8_t* d, size_t n, HeaderInfo* info) {
  size_t i = 2;
  while (i + 4 <= n) {
    if (d[i] != 0xFF) return 0;
    uint8_t m = d[i + 1];
    if (m == 0xFF) { ++i; continue; }  // fill byte
    if (m == 0xD8 || (m >= 0xD0 && m <= 0xD7) || m == 0x01) { i += 2; continue; }
    uint32_t len = be16(d + i + 2);
    if (len < 2) return 0;
    bool sof = (m >= 0xC0 && m <= 0xCF) && m != 0xC4 && m != 0xC8 && m != 0xCC;
    if (sof && info && i + 9 <= n) {
      info->known = true;
      info->format = "jpeg";
      info->height = be16(d + i + 5);
      info->width = be16(d + i + 7);
    }
    if (m == 0xDA) return i;
    i += 2 + len;
  }
  return 0;
}

// libjpeg only warns on a premature end of data and fills the rest with grey; a JPEG whose
// entropy-coded data never reaches an EOI marker is truncated, and we reject it.
bool jpeg_has_eoi(const uint8_t* d, size_t n) {
  size_t sos = jpeg_walk(d, n, nullptr);
  if (sos == 0) return false;
  // From the end: the marker is almost always in the last bytes (a forward scan of a 5 MB
  // photo's entropy-coded data costs milliseconds); the answer is the same.
  for (size_t i = n - 1; i > sos + 2; --i)
    if (d[i] == 0xD9 && d[i - 1] == 0xFF) return true;
  return false;
}

void sniff_tiff(const uint8_t* d, size_t n, HeaderInfo& info) {
  bool le = d[0] == 'I';
  auto u16 = [&](size_t o) { return le ? le16(d + o) : be16(d + o); };
  auto u32 = [&](size_t o) { return le ? le32(d + o) : be32(d + o); };
  uint64_t ifd = u32(4);
  if (ifd + 2 > n) return;
  uint32_t count = u16(ifd);
  for (uint32_t k = 0; k < count; ++k) {
    size_t e = ifd + 2 + 12 * size_t(k);
    if (e + 12 > n) return;
    uint32_t tag = u16(e), type = u16(e + 2);
    uint64_t value = type == 3 ? u16(e + 8) : u32(e + 8);
    if (tag == 256) info.width = value;
    if (tag == 257) info.height = value;
  }
  if (info.width && info.height) { info.known = true; info.format = "tiff"; }
}

// Formats recognised by their signature that this build cannot decode.
const char* unsupported_format(const uint8_t* d, size_t n) {
  if (n >= 12 && std::memcmp(d + 4, "ftyp", 4) == 0) {
    const char* brand = reinterpret_cast<const char*>(d + 8);
    for (const char* b : {"heic", "heix", "hevc", "hevx", "heim", "heis", "mif1", "msf1"})
      if (std::memcmp(brand, b, 4) == 0) return "HEIC";
    for (const char* b : {"avif", "avis"})
      if (std::memcmp(brand, b, 4) == 0) return "AVIF";
  }
  if ((n >= 2 && d[0] == 0xFF && d[1] == 0x0A) || (n >= 12 && std::memcmp(d, "\0\0\0\x0cJXL \r\n\x87\n", 12) == 0)) return "JPEG XL";
  if (n >= 4 && std::memcmp(d, "8BPS", 4) == 0) return "PSD";
  return nullptr;
}

// The largest DCT scale 1/d (d = 8, 4, 2) whose output still covers `target` on both sides;
// libjpeg's scaled size is ceil(side / d). Orientations 5-8 transpose the stored image.
int jpeg_shrink_denominator(const HeaderInfo& info, cv::Size target, int orientation, bool auto_orient) {
  if (target.width <= 0 || target.height <= 0 || !info.known) return 1;
  uint64_t w = info.width, h = info.height;
  if (auto_orient && orientation >= 5) std::swap(w, h);
  for (int d : {8, 4, 2})
    if ((w + d - 1) / d >= uint64_t(target.width) && (h + d - 1) / d >= uint64_t(target.height)) return d;
  return 1;
}

}  // namespace

HeaderInfo sniff_header(const uint8_t* d, size_t n) {
  HeaderInfo info;
  if (n >= 24 && std::memcmp(d, "\x89PNG\r\n\x1a\n", 8) == 0 && std::memcmp(d + 12, "IHDR", 4) == 0) {
    info = {true, "png", be32(d + 16), be32(d + 20)};
  } else if (is_jpeg(d, n)) {
    jpeg_walk(d, n, &info);
  } else if (n >= 10 && (std::memcmp(d, "GIF87a", 6) == 0 || std::memcmp(d, "GIF89a", 6) == 0)) {
    info = {true, "gif", le16(d + 6), le16(d + 8)};
  } else if (n >= 26 && d[0] == 'B' && d[1] == 'M') {
    int32_t w = int32_t(le32(d + 18)), h = int32_t(le32(d + 22));
    info = {true, "bmp", uint64_t(std::llabs(w)), uint64_t(std::llabs(h))};
  } else if (n >= 30 && std::memcmp(d, "RIFF", 4) == 0 && std::memcmp(d + 8, "WEBP", 4) == 0) {
    if (std::memcmp(d + 12, "VP8 ", 4) == 0) info = {true, "webp", le16(d + 26) & 0x3FFF, le16(d + 28) & 0x3FFF};
    else if (std::memcmp(d + 12, "VP8L", 4) == 0) {
      uint32_t b = le32(d + 21);
      info = {true, "webp", (b & 0x3FFF) + 1, ((b >> 14) & 0x3FFF) + 1};
    } else if (std::memcmp(d + 12, "VP8X", 4) == 0) {
      info = {true, "webp", (le32(d + 24) & 0xFFFFFF) + 1, (le32(d + 27) & 0xFFFFFF) + 1};
    }
  } else if (n >= 8 && ((d[0] == 'I' && d[1] == 'I' && d[2] == 42 && d[3] == 0) ||
                        (d[0] == 'M' && d[1] == 'M' && d[2] == 0 && d[3] == 42))) {
    sniff_tiff(d, n, info);
  }
  return info;
}

static void check_pixels(uint64_t w, uint64_t h, const DecodeOptions& opts) {
  if (w == 0 || h == 0) fail(ErrorCode::Input, "image has zero width or height");
  if (opts.max_pixels && w * h > opts.max_pixels)
    fail(ErrorCode::TooLarge, "image of " + std::to_string(w) + "x" + std::to_string(h) +
                                  " pixels exceeds the pixel limit of " + std::to_string(opts.max_pixels));
}

cv::Mat decode_image(const uint8_t* data, size_t size, const DecodeOptions& opts) {
  if (data == nullptr || size == 0) fail(ErrorCode::Input, "empty image buffer");
  if (const char* name = unsupported_format(data, size)) {
    bool heic = std::strcmp(name, "HEIC") == 0, avif = std::strcmp(name, "AVIF") == 0;
    if ((heic || avif) && heif_can_decode(avif)) {
      cv::Mat img = decode_heif(data, size, name, [&](uint64_t w, uint64_t h) { check_pixels(w, h, opts); });
      check_pixels(uint64_t(img.cols), uint64_t(img.rows), opts);
      return img;
    }
    fail(ErrorCode::Decode, std::string("unsupported format ") + name);
  }
  HeaderInfo info = sniff_header(data, size);
  if (info.known) check_pixels(info.width, info.height, opts);
  if (is_jpeg(data, size) && !jpeg_has_eoi(data, size)) fail(ErrorCode::Decode, "truncated JPEG (no end-of-image marker)");
  cv::Mat img;
  CodecWarnings warnings;  // kept off stderr; an error with fail_on_warning, else dropped
  const int orientation = exif_orientation(data, size);
  bool is_png = size >= 8 && std::memcmp(data, "\x89PNG\r\n\x1a\n", 8) == 0;
  try {
    if (is_jpeg(data, size)) {
      int denom = jpeg_shrink_denominator(info, opts.shrink_to, orientation, opts.auto_orient);
      img = decode_jpeg(data, size, warnings, denom);
    } else if (is_png) {
      img = decode_png(data, size, warnings);
    } else if (is_gif(data, size)) {
      img = decode_gif_first_frame(data, size);
    } else if (is_animated_webp(data, size)) {
      img = decode_webp_first_frame(data, size);
    } else {
      cv::Mat buf(1, int(std::min<size_t>(size, size_t(INT32_MAX))), CV_8U, const_cast<uint8_t*>(data));
      img = cv::imdecode(buf, cv::IMREAD_UNCHANGED | cv::IMREAD_ANYDEPTH);
    }
  } catch (const cv::Exception& e) {
    fail(ErrorCode::Decode, std::string("cannot decode image: ") + e.what());
  }
  if (img.empty()) fail(ErrorCode::Decode, std::string("cannot decode image (") + (info.known ? info.format : "unrecognised format") + ")");
  if (opts.fail_on_warning && !warnings.empty()) {
    std::string all;
    for (const std::string& w : warnings) all += (all.empty() ? "" : "; ") + w;
    fail(ErrorCode::Decode, "the codec warned (failOn 'warning'): " + all);
  }
  check_pixels(uint64_t(img.cols), uint64_t(img.rows), opts);
  if (img.dims != 2) fail(ErrorCode::Decode, "multi-dimensional images are not supported");
  // imdecode(IMREAD_UNCHANGED) leaves JPEG, PNG and WebP in stored order, but OpenCV's TIFF
  // decoder (libtiff's RGBA reader and its own strip paths) always turns to the TIFF tag.
  bool stored_order = std::strcmp(info.format, "tiff") != 0;
  if (opts.auto_orient && stored_order) apply_orientation(img, orientation);
  else if (!opts.auto_orient && !stored_order) apply_orientation(img, inverse_orientation(orientation));
  // Normalise depth to 8U, 16U or 32F in [0,1].
  switch (img.depth()) {
    case CV_8U: case CV_16U: case CV_32F: break;
    case CV_8S: img.convertTo(img, CV_8U, 1, 128); break;
    case CV_16S: img.convertTo(img, CV_16U, 1, 32768); break;
    default: img.convertTo(img, CV_32F); break;
  }
  if (img.depth() == CV_32F) {
    cv::patchNaNs(img, 0);
    cv::min(cv::max(img, 0.0), 1.0, img);
  }
  if (img.channels() == 2) {  // gray + alpha
    std::vector<cv::Mat> planes;
    cv::split(img, planes);
    img = planes[0];
  }
  if (img.channels() != 1 && img.channels() != 3 && img.channels() != 4)
    fail(ErrorCode::Decode, "unsupported channel count " + std::to_string(img.channels()));
  return img;
}

cv::Mat read_image_file(const std::string& path, const DecodeOptions& opts) {
  if (path.empty()) fail(ErrorCode::Input, "empty path");
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) fail(ErrorCode::Input, "no such file: " + path);
  if (S_ISDIR(st.st_mode)) fail(ErrorCode::Input, "path is a directory: " + path);
  if (!S_ISREG(st.st_mode)) fail(ErrorCode::Input, "not a regular file: " + path);
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(ErrorCode::Input, "cannot open file: " + path);
  std::vector<uint8_t> bytes(static_cast<size_t>(st.st_size));
  if (!bytes.empty() && !in.read(reinterpret_cast<char*>(bytes.data()), std::streamsize(bytes.size())))
    fail(ErrorCode::Input, "cannot read file: " + path);
  if (bytes.empty()) fail(ErrorCode::Input, "empty file: " + path);
  try {
    return decode_image(bytes.data(), bytes.size(), opts);
  } catch (const Error& e) {
    throw Error(e.code(), std::string(e.what()) + ": " + path);
  }
}

static int order_channels(PixelOrder o) {
  switch (o) {
    case PixelOrder::Gray: return 1;
    case PixelOrder::RGB: case PixelOrder::BGR: return 3;
    case PixelOrder::RGBA: case PixelOrder::BGRA: return 4;
  }
  return 0;
}

cv::Mat wrap_raw(const ImageSource& s, const DecodeOptions& opts) {
  if (s.width <= 0 || s.height <= 0) fail(ErrorCode::Input, "raw image has zero or negative width or height");
  if (s.channels != 1 && s.channels != 3 && s.channels != 4)
    fail(ErrorCode::Input, "raw image channels must be 1, 3 or 4, got " + std::to_string(s.channels));
  if (order_channels(s.order) != s.channels) fail(ErrorCode::Input, "pixel order does not match the channel count");
  check_pixels(uint64_t(s.width), uint64_t(s.height), opts);
  size_t sample = s.is_float ? sizeof(float) : 1;
  size_t need = size_t(s.width) * size_t(s.height) * size_t(s.channels) * sample;
  if (s.data == nullptr || s.size < need)
    fail(ErrorCode::Input, "raw image data holds " + std::to_string(s.size) + " bytes, width*height*channels needs " + std::to_string(need));
  int type = CV_MAKETYPE(s.is_float ? CV_32F : CV_8U, s.channels);
  cv::Mat view(s.height, s.width, type, const_cast<uint8_t*>(s.data));
  if (s.is_float) {
    if (!cv::checkRange(view, true, nullptr, -1e30, 1e30)) fail(ErrorCode::Input, "raw float image contains NaN or infinite values");
  }
  cv::Mat out;
  switch (s.order) {
    case PixelOrder::RGB: cv::cvtColor(view, out, cv::COLOR_RGB2BGR); break;
    case PixelOrder::RGBA: cv::cvtColor(view, out, cv::COLOR_RGBA2BGRA); break;
    default: out = view.clone(); break;
  }
  if (s.is_float) cv::min(cv::max(out, 0.0), 1.0, out);
  return out;
}

cv::Mat load_image(const ImageSource& s, const DecodeOptions& opts) {
  switch (s.kind) {
    case ImageSource::Kind::Path: return read_image_file(s.path, opts);
    case ImageSource::Kind::Encoded: return decode_image(s.data, s.size, opts);
    case ImageSource::Kind::Raw: return wrap_raw(s, opts);
  }
  fail(ErrorCode::Internal, "unknown image source");
}

}  // namespace iqa
