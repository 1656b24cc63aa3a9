// Drop-in numerics of the npm packages ssim.js 3.5 and image-ssim 0.2, so that
// iqa-node/ssim.js and iqa-node/image-ssim return their numbers (including their quirks: ssim.js
// 'weber' works on rounded pixels with variances truncated to 1/1024 in 32-bit integers,
// image-ssim keeps luma in float32 and divides variances by n-1). Option validation and
// constants (c1, c2 from k1, k2, bit depth) stay in the TypeScript wrappers, which mirror the
// packages' own code paths; these functions only do the pixel work.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

namespace iqa {

// --- ssim.js ---------------------------------------------------------------------------
enum class SsimJsMode { Fast, Original, Bezkrovny, Weber };

struct SsimJsParams {
  SsimJsMode mode = SsimJsMode::Weber;
  int window = 11;
  double c1 = 0, c2 = 0;
  bool downsample = true;  // downsample: 'original'
  double max_size = 256;
};

struct SsimJsResult {
  cv::Mat map;  // CV_64F, rows = map height
  double mssim = 0;
};

// ssim.js's downsampling factor for an image (1: none): Math.round(min(w, h) / maxSize) when
// downsample is 'original'.
int ssimjs_factor(int width, int height, const SsimJsParams& p);

// ssim.js rgb2grayInteger / rgb2gray ('original') of 4-byte RGBA pixels, then downsampled by
// `factor` as ssim.js's downsample 'original' does (fused: the full-size grey image is never
// stored); CV_64F.
cv::Mat ssimjs_gray(const uint8_t* rgba, int width, int height, bool original, int factor);

// The same downsampling of an already grey CV_64F image.
cv::Mat ssimjs_downsample(const cv::Mat& gray, int factor);

// The chosen mode on grey images that are already downsampled (p.downsample is ignored).
SsimJsResult ssimjs_compare(const cv::Mat& gray1, const cv::Mat& gray2, const SsimJsParams& p);

// --- image-ssim ------------------------------------------------------------------------
struct ImageSsimInput {
  const uint8_t* u8 = nullptr;  // exactly one of u8 / f64 is set
  const double* f64 = nullptr;
  size_t length = 0;            // samples; reads past it are NaN (JS undefined)
  int channels = 0;             // 1..4; anything else gives zero luma, as image-ssim does
};

struct ImageSsimResult {
  double ssim = 0, mcs = 0;
};

ImageSsimResult image_ssim_compare(const ImageSsimInput& a, const ImageSsimInput& b, int width, int height, int window, double c1, double c2,
                                   bool luminance);

}  // namespace iqa
