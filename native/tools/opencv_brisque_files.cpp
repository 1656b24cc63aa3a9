// The anchor of bench/brisque.mjs's whole-process row: what a C++ user of OpenCV writes to
// score files, cv::imread(IMREAD_COLOR) + cv::quality::QualityBRISQUE::compute, on one thread.
//
//   opencv_brisque_files MODEL RANGE < list-of-image-paths
// prints one JSON object {"images", "seconds", "scores": {"<path>": score}}; the time covers
// reading, decoding and scoring every file (not the model load).
#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/quality.hpp>

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s MODEL RANGE < paths\n", argv[0]);
    return 2;
  }
  cv::setNumThreads(1);
  auto brisque = cv::quality::QualityBRISQUE::create(argv[1], argv[2]);
  std::vector<std::string> paths;
  for (std::string p; std::getline(std::cin, p);)
    if (!p.empty()) paths.push_back(p);
  std::vector<double> scores(paths.size());
  auto t0 = std::chrono::steady_clock::now();
  for (size_t i = 0; i < paths.size(); ++i) {
    cv::Mat img = cv::imread(paths[i], cv::IMREAD_COLOR);
    scores[i] = img.empty() ? -1 : brisque->compute(img)[0];
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("{\"images\": %zu, \"seconds\": %.4f, \"scores\": {", paths.size(), seconds);
  for (size_t i = 0; i < paths.size(); ++i) {
    std::string key;
    for (char c : paths[i]) {
      if (c == '"' || c == '\\') key += '\\';
      key += c;
    }
    std::printf("%s\"%s\": %.9g", i ? ", " : "", key.c_str(), scores[i]);
  }
  std::printf("}}\n");
  return 0;
}
