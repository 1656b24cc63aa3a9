// PSNR in dB on a 0-255 scale: 10 log10(255^2 / MSE), the MSE taken over all colour channels
// (alpha dropped), or over the MATLAB rgb2gray luminance with {channels: 'gray'}.
// Identical images give +Infinity.
#pragma once
#include "metric/metric.h"

namespace iqa {

class Psnr : public FrMetric {
 public:
  explicit Psnr(const Options& opts);
  double score(const cv::Mat& ref, const cv::Mat& dist) const override;

 private:
  bool gray_;
};

}  // namespace iqa
