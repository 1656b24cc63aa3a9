// GMSD of Xue, Zhang, Mou & Bovik (2014), as the authors' GMSD.m computes it: both images are
// averaged over 2x2 (conv2 'same', zero beyond the last row/column) and every second row and
// column from the first is kept; Prewitt gradients ([1 0 -1; 1 0 -1; 1 0 -1]/3 and its
// transpose, conv2 'same', zero borders); gradient-magnitude similarity
// (2 g1 g2 + T) / (g1^2 + g2^2 + T) with T = 170; score = std2 of that map (normalised by N-1).
// Lower is better; 0 for identical images.
//
// Options: channels 'gray' (default, MATLAB rgb2gray) | 'rgb'.
// OpenCV's cv::quality::QualityGMSD builds the same map for even image sizes (for odd sizes its
// resize drops the last row/column) and reports the population standard deviation (N).
#pragma once
#include "fr/fr_common.h"

namespace iqa {

class Gmsd : public FrMapMetric {
 public:
  explicit Gmsd(const Options& opts);
  FrDetail detail(const cv::Mat& ref, const cv::Mat& dist, bool want_maps) const override;

 private:
  bool gray_;
};

}  // namespace iqa
