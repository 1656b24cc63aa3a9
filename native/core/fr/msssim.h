// MS-SSIM of Wang, Simoncelli & Bovik (2003) as the authors' msssim.m computes it: 5 scales,
// exponents 0.0448 0.2856 0.3001 0.2363 0.1333, SSIM statistics per scale as in ssim.h
// ('valid' 11x11 Gaussian window, K = [0.01 0.03], L = 255); between scales both images are
// filtered with a 2x2 average (imfilter 'symmetric', 'same') and every second row and column
// from the first is kept. Needs min(H, W) >= 176 (11 pixels at the coarsest scale).
//
// Options:
//   channels 'gray' (default, MATLAB rgb2gray) | 'rgb'
//   method   'product' (default, the paper's: prod_{1..4} mcs^w * mssim_5^w5; a negative mean
//            contrast term is clamped to 0, where MATLAB would return a complex number) |
//            'wtd_sum' (msssim.m's alternative: weights normalised to sum 1, sum of
//            mcs_1..4 * w + mssim_5 * w5). The published calibration row (results_official.csv,
//            ms_ssim) is reproduced by 'wtd_sum', not by 'product'.
// Maps (on request): the contrast-structure maps of scales 1-4 and the SSIM map of scale 5.
#pragma once
#include "fr/fr_common.h"

namespace iqa {

class MsSsim : public FrMapMetric {
 public:
  explicit MsSsim(const Options& opts);
  FrDetail detail(const cv::Mat& ref, const cv::Mat& dist, bool want_maps) const override;

 private:
  bool gray_, product_;
};

}  // namespace iqa
