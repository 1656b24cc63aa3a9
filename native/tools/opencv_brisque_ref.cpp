// Reference BRISQUE scores from OpenCV's own cv::quality::QualityBRISQUE (opencv_contrib, as
// Debian's libopencv-contrib-dev ships it): the golden values test/brisque.test.ts checks the
// `opencv` variant against. Nothing of iqa-node's BRISQUE is used here.
//
//   opencv_brisque_ref MODEL RANGE [PREFIX] < list-of-image-paths
// prints one JSON object {"opencv": version, "scores": {"<path without PREFIX>": score, ...},
// "nanFeatures": [paths whose QualityBRISQUE::computeFeatures holds NaN (flat images)]}.
// Images are read with cv::imread(IMREAD_COLOR), which turns JPEG and PNG to their EXIF
// orientation, as iqa-node does by default. Paths may contain spaces.
#include <cstdio>
#include <iostream>
#include <string>

#include <opencv2/core.hpp>
#include <opencv2/core/utility.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/quality.hpp>

static std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
      continue;
    }
    out += c;
  }
  return out + "\"";
}

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s MODEL RANGE [PREFIX] < paths\n", argv[0]);
    return 2;
  }
  const std::string prefix = argc > 3 ? argv[3] : "";
  cv::Ptr<cv::quality::QualityBRISQUE> brisque = cv::quality::QualityBRISQUE::create(argv[1], argv[2]);
  std::string path;
  bool first = true;
  std::string nan_list;
  std::printf("{\n\"opencv\": \"%s\",\n\"scores\": {\n", CV_VERSION);
  while (std::getline(std::cin, path)) {
    if (path.empty()) continue;
    cv::Mat img = cv::imread(path, cv::IMREAD_COLOR);
    if (img.empty()) {
      std::fprintf(stderr, "cannot read %s\n", path.c_str());
      return 1;
    }
    double score = brisque->compute(img)[0];
    std::string key = path.compare(0, prefix.size(), prefix) == 0 ? path.substr(prefix.size()) : path;
    cv::Mat features;
    cv::quality::QualityBRISQUE::computeFeatures(img, features);
    if (cv::checkRange(features, true) == false) nan_list += (nan_list.empty() ? "" : ", ") + json_string(key);
    std::printf("%s  %s: %.9g", first ? "" : ",\n", json_string(key).c_str(), score);
    first = false;
  }
  std::printf("\n},\n\"nanFeatures\": [%s]\n}\n", nan_list.c_str());
  return 0;
}
