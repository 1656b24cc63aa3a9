// Image input: every metric receives a cv::Mat produced here.
// Canonical layout: channels in OpenCV order (gray, BGR or BGRA), depth CV_8U, CV_16U or
// CV_32F; float images hold values in [0, 1].
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include <opencv2/core.hpp>

namespace iqa {

// sharp's default limitInputPixels: 0x3FFF * 0x3FFF.
constexpr uint64_t kDefaultMaxPixels = 268402689ULL;

struct DecodeOptions {
  uint64_t max_pixels = kDefaultMaxPixels;  // 0 disables the limit
  // Turn decoded files to their EXIF orientation (as cv::imread, browsers, sharp's rotate());
  // false keeps the stored pixel order. Raw pixels and Mats are never turned.
  bool auto_orient = true;
  // JPEG shrink-on-load (as sharp does): decode at 1/2, 1/4 or 1/8 scale (libjpeg-turbo's DCT
  // scaling) to the smallest size whose width and height are still at least these, in the
  // image's displayed orientation; for callers that resize to a smaller size next. 0x0: off.
  cv::Size shrink_to{0, 0};
  // A decode that succeeded with codec warnings (libjpeg "Corrupt JPEG data", libpng CRC) fails
  // with ERR_DECODE and the warnings as its message; false scores it (sharp's failOn).
  bool fail_on_warning = false;
};

enum class PixelOrder { Gray, RGB, BGR, RGBA, BGRA };

// Where the pixels come from. Pointers are borrowed: the caller keeps them alive for the call.
struct ImageSource {
  enum class Kind { Path, Encoded, Raw } kind = Kind::Encoded;
  std::string path;
  const uint8_t* data = nullptr;
  size_t size = 0;  // bytes
  // Raw pixels only:
  int width = 0, height = 0, channels = 0;
  PixelOrder order = PixelOrder::Gray;
  bool is_float = false;  // float32 samples in [0,1]; else 8-bit
};

// Image dimensions read from a file header without decoding (PNG, JPEG, BMP, WebP, TIFF).
struct HeaderInfo {
  bool known = false;
  const char* format = "unknown";
  uint64_t width = 0, height = 0;
};
HeaderInfo sniff_header(const uint8_t* data, size_t size);

cv::Mat decode_image(const uint8_t* data, size_t size, const DecodeOptions& opts);
cv::Mat read_image_file(const std::string& path, const DecodeOptions& opts);
cv::Mat wrap_raw(const ImageSource& src, const DecodeOptions& opts);
cv::Mat load_image(const ImageSource& src, const DecodeOptions& opts);

}  // namespace iqa
