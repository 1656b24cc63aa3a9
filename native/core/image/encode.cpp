#include "image/encode.h"

#include <opencv2/imgcodecs.hpp>

#include "common/error.h"

namespace iqa {

std::vector<uint8_t> encode_image(const cv::Mat& img, const std::string& format, int quality) {
  std::string ext;
  std::vector<int> params;
  if (format == "png") ext = ".png";
  else if (format == "jpeg" || format == "jpg") { ext = ".jpg"; params = {cv::IMWRITE_JPEG_QUALITY, quality}; }
  else if (format == "webp") { ext = ".webp"; params = {cv::IMWRITE_WEBP_QUALITY, quality}; }
  else if (format == "bmp") ext = ".bmp";
  else if (format == "tiff") ext = ".tiff";
  else fail(ErrorCode::Input, "unknown output format '" + format + "' (png, jpeg, webp, bmp, tiff)");
  if (quality < 1 || quality > 101) fail(ErrorCode::Input, "quality must be 1..100");
  cv::Mat src = img;
  if (img.depth() == CV_32F) img.convertTo(src, CV_8U, 255.0);
  if (src.depth() == CV_16U && ext != ".png" && ext != ".tiff") src.convertTo(src, CV_8U, 1.0 / 257);
  std::vector<uint8_t> out;
  try {
    if (!cv::imencode(ext, src, out, params)) fail(ErrorCode::Internal, "encoding as " + format + " failed");
  } catch (const cv::Exception& e) {
    fail(ErrorCode::Input, "cannot encode as " + format + ": " + e.err);
  }
  return out;
}

}  // namespace iqa
