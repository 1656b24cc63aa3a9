// iqa-node's JPEG/PNG decoders (native/core/image/codec_*.cpp) against OpenCV's own
// cv::imdecode(IMREAD_UNCHANGED | IMREAD_ANYDEPTH), pixel for pixel, in one process (the same
// libjpeg-turbo and libpng). Orientation is left out (autoOrient false), as imdecode does here.
//
//   decode_parity < list-of-image-paths
// prints one line per mismatch and a JSON summary {"files", "identical", "mismatched"}.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/core/utils/logger.hpp>
#include <opencv2/imgcodecs.hpp>

#include "common/error.h"
#include "image/image.h"

int main() {
  cv::utils::logging::setLogLevel(cv::utils::logging::LOG_LEVEL_SILENT);
  iqa::DecodeOptions opts;
  opts.max_pixels = 0;
  opts.auto_orient = false;
  std::string path;
  int files = 0, identical = 0, mismatched = 0;
  while (std::getline(std::cin, path)) {
    if (path.empty()) continue;
    ++files;
    std::ifstream in(path, std::ios::binary);
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    cv::Mat ref = cv::imdecode(bytes, cv::IMREAD_UNCHANGED | cv::IMREAD_ANYDEPTH);
    std::string why;
    try {
      cv::Mat ours = iqa::decode_image(bytes.data(), bytes.size(), opts);
      if (ref.empty()) why = "OpenCV cannot decode it, iqa-node can";
      else if (ours.size() != ref.size() || ours.type() != ref.type()) why = "size or type differs";
      else if (cv::norm(ours, ref, cv::NORM_INF) != 0) why = "max |diff| " + std::to_string(cv::norm(ours, ref, cv::NORM_INF));
    } catch (const iqa::Error& e) {
      if (!ref.empty()) why = std::string("iqa-node fails: ") + e.what();
    }
    if (why.empty()) ++identical;
    else {
      ++mismatched;
      std::printf("%s: %s\n", path.c_str(), why.c_str());
    }
  }
  std::printf("{\"files\": %d, \"identical\": %d, \"mismatched\": %d}\n", files, identical, mismatched);
  return mismatched == 0 ? 0 : 1;
}
