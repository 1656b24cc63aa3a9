// Shared pieces of the full-reference metrics (SSIM, MS-SSIM, GMSD): channel preparation,
// MATLAB-style subsampling, and an optional "detail" interface returning per-channel scores and
// quality maps beside the score.
#pragma once
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <opencv2/core.hpp>

#include "common/options.h"
#include "metric/metric.h"

namespace iqa {

// Score, per-channel scores (R,G,B order; one entry for grey) and quality maps (CV_64F), the
// maps only when asked for. For several channels the score is the mean of the channel scores.
struct FrDetail {
  double score = 0;
  std::vector<double> channel_scores;
  std::vector<cv::Mat> maps;
};

class FrMapMetric : public FrMetric {
 public:
  virtual FrDetail detail(const cv::Mat& ref, const cv::Mat& dist, bool want_maps) const = 0;
  double score(const cv::Mat& ref, const cv::Mat& dist) const override { return detail(ref, dist, false).score; }
};

// The planes a metric compares, CV_64F on a 0-255 scale: the MATLAB rgb2gray luminance
// (rounded for integer input, as MATLAB returns uint8) when `gray`, else each colour channel in
// R,G,B order. Alpha is dropped. Checks sizes and channel counts (ERR_INPUT).
std::vector<std::pair<cv::Mat, cv::Mat>> fr_planes(const cv::Mat& ref, const cv::Mat& dist, bool gray);

// Reads the `channels` option: 'gray' (default) or 'rgb' (per channel).
bool fr_gray_option(const Options& opts, const char* metric);

// src(1:step:end, 1:step:end) in MATLAB terms: every step-th row and column from the first.
// Hand-written: OpenCV has no strided-subsample primitive (resize(INTER_NEAREST) rounds sizes
// differently for odd dimensions).
cv::Mat subsample(const cv::Mat& src, int step);

// Runs fn(begin, end) over [0, n) rows in a few stripes on OpenCV's pool when there is enough
// work (at least `min_rows` rows per stripe); inline otherwise, and inside an outer batch
// (OpenCV runs nested parallel regions serially).
void parallel_rows(int n, int min_rows, const std::function<void(int, int)>& fn);

// Mean of a CV_64F map; averages channel scores into a detail.
FrDetail fr_combine(std::vector<double> channel_scores, std::vector<cv::Mat> maps);

}  // namespace iqa
