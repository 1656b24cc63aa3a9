// NIQE patch features (Mittal, Soundararajan & Bovik 2013), numerically as the authors' MATLAB
// release computes them (computequality.m / computefeature.m / estimateaggdparam.m):
// grey image (MATLAB rgb2gray) on 0-255 in double, cropped to a multiple of 96x96; per scale
// MSCN coefficients with a 7x7 Gaussian window (sigma 7/6, replicate border) and C = 1; per
// block 18 AGGD parameters (the coefficients themselves and the products with their
// horizontal, vertical and two diagonal neighbours, circularly shifted inside the block);
// scale 2 is imresize(im, 0.5) (bicubic, antialiased) with 48x48 blocks. 36 features a patch.
#pragma once
#include <vector>

#include <opencv2/core.hpp>

namespace iqa::niqe {

constexpr int kBlockSize = 96;
constexpr int kFeaturesPerScale = 18;
constexpr int kFeatures = 2 * kFeaturesPerScale;

struct PatchFeatures {
  int patches = 0;
  // patches x kFeatures, row-major, patches in MATLAB's order (blocks column-major).
  // A block without negative (or positive) values gives NaN entries, as in the release.
  std::vector<double> features;
  // Mean local deviation (the MSCN denominator minus 1) of each patch at scale 1: the
  // release's patch sharpness used to select pristine patches.
  std::vector<double> sharpness;
};

// Throws ERR_INPUT for images smaller than one 96x96 block. max_side > 0 first shrinks the
// grey image (imresize by max_side / longer side) when its longer side exceeds max_side.
PatchFeatures compute_patch_features(const cv::Mat& img, int max_side = 0);

// The smallest image NIQE accepts, as a message fragment.
const char* minimum_size_text();

}  // namespace iqa::niqe
