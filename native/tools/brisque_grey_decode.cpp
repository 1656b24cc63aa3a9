// Is decoding JPEG straight to luminance (libjpeg's JCS_GRAYSCALE, what cv::imread(
// IMREAD_GRAYSCALE) does: Y without chroma upsampling or colour conversion) close enough for
// BRISQUE? Scores cv::quality::QualityBRISQUE on imread(IMREAD_COLOR) (then its BGR2GRAY) and on
// imread(IMREAD_GRAYSCALE), and reports the grey pixels' and the scores' largest differences.
//
//   brisque_grey_decode MODEL RANGE < list-of-jpeg-paths      -> one JSON line
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <string>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/quality.hpp>

int main(int argc, char** argv) {
  if (argc < 3) return 2;
  cv::setNumThreads(1);
  auto brisque = cv::quality::QualityBRISQUE::create(argv[1], argv[2]);
  int images = 0, within_1e3 = 0;
  double max_score = 0, sum_score = 0, max_pixel = 0;
  for (std::string p; std::getline(std::cin, p);) {
    if (p.empty()) continue;
    cv::Mat colour = cv::imread(p, cv::IMREAD_COLOR), grey = cv::imread(p, cv::IMREAD_GRAYSCALE);
    if (colour.empty() || grey.empty()) continue;
    cv::Mat converted;
    cv::cvtColor(colour, converted, cv::COLOR_BGR2GRAY);
    max_pixel = std::max(max_pixel, cv::norm(converted, grey, cv::NORM_INF));
    double d = std::abs(brisque->compute(colour)[0] - brisque->compute(grey)[0]);
    if (!std::isfinite(d)) continue;
    ++images;
    within_1e3 += d <= 1e-3;
    max_score = std::max(max_score, d);
    sum_score += d;
  }
  std::printf("{\"images\": %d, \"max_grey_pixel_diff\": %g, \"max_score_diff\": %.6g, \"mean_score_diff\": %.6g, \"within_1e-3\": %d}\n", images,
              max_pixel, max_score, images ? sum_score / images : 0.0, within_1e3);
  return 0;
}
