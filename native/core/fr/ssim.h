// SSIM of Wang, Bovik, Sheikh & Simoncelli (2004), as the authors' ssim.m computes it:
// 11x11 Gaussian window (sigma 1.5), K1 = 0.01, K2 = 0.03, L = 255, statistics over the
// 'valid' region only (the map is (H-10) x (W-10)), score = mean of the map.
//
// Options:
//   channels  'gray' (default: MATLAB rgb2gray luminance) | 'rgb' (each channel; score = mean)
//   downsample false (default) | true: the automatic downsampling of the reference ssim.m
//             (2011 revision): f = max(1, round(min(H, W) / 256)); if f > 1 both images are
//             filtered with an f x f average (imfilter, 'symmetric' borders, MATLAB's kernel
//             centre floor((f+1)/2)) and every f-th row and column from the first is kept.
//             The published calibration values (results_official.csv) are without it.
//   border    'valid' (default, as above) | 'reflect101': a full-size map with reflect-101
//             borders, as OpenCV's cv::quality::QualitySSIM computes it.
#pragma once
#include <opencv2/core.hpp>

#include "fr/fr_common.h"

namespace iqa {

struct SsimMaps {
  cv::Mat ssim;  // CV_64F
  cv::Mat cs;    // contrast-structure term (2 s12 + C2) / (s1 + s2 + C2); empty unless asked
};

// SSIM maps of two CV_64F planes with the 11x11 sigma-1.5 window. `valid`: crop to the region
// the window covers fully; else reflect-101 borders, full size.
SsimMaps ssim_maps(const cv::Mat& x, const cv::Mat& y, bool valid, bool want_cs, double k1 = 0.01, double k2 = 0.03, double L = 255.0);

// Valid-region SSIM map (and contrast-structure map) of two CV_64F planes with any separable
// kernel given as a CV_64F column; C1/C2 are the stabilising constants; `uqi` uses the
// constant-free (universal quality index) formula. Needs planes at least as large as the kernel.
SsimMaps ssim_maps_valid(const cv::Mat& x, const cv::Mat& y, const cv::Mat& kernel, double C1, double C2, bool want_cs, bool uqi);

// The reference ssim.m downsampling (see above); returns the input when f == 1.
cv::Mat ssim_auto_downsample(const cv::Mat& plane, int f);
int ssim_downsample_factor(int rows, int cols);

class Ssim : public FrMapMetric {
 public:
  explicit Ssim(const Options& opts);
  FrDetail detail(const cv::Mat& ref, const cv::Mat& dist, bool want_maps) const override;

 private:
  bool gray_, downsample_, valid_;
};

}  // namespace iqa
