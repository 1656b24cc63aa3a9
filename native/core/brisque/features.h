// BRISQUE features (Mittal, Moorthy, Bovik 2012): MSCN coefficients of the grey image, a
// (A)GGD fit to them and AGGD fits to their products with the horizontal, vertical and two
// diagonal neighbours, at the full and the half scale: 2 x (2 + 4 x 4) = 36 features.
//
// Two variants, each following its reference numerically:
//  - Original: the authors' MATLAB release (brisque_feature.m) on MATLAB rgb2gray luminance,
//    0-255 doubles: normalised 7x7 Gaussian window (sigma 7/6) applied with filter2 (zero
//    padding), C = 1, GGD fit for the MSCN image, circshift neighbours, MATLAB bicubic
//    imresize(0.5) with antialiasing between scales.
//  - OpenCV: cv::quality::QualityBRISQUE (opencv_contrib 4.6): OpenCV grey / 255 in float,
//    GaussianBlur with replicated borders, sigma + 1/255, AGGD fit for the MSCN image too,
//    zero-filled (not circular) neighbours, cv::resize(INTER_CUBIC) to floor(size / 2).
#pragma once
#include <array>
#include <vector>

#include <opencv2/core.hpp>

namespace iqa::brisque {

constexpr int kFeatureCount = 36;
// Smallest image side: the second scale must still hold a 7x7 window.
constexpr int kMinSide = 14;

enum class Variant { Original, OpenCV };

// ERR_INPUT when either side is below kMinSide.
void check_size(const cv::Mat& img);

// Grey input of each variant from a canonical image (gray/BGR/BGRA, 8U/16U/32F).
// Original: MATLAB rgb2gray (rounded for integer input), CV_64F on 0-255.
// OpenCV: cvtColor BGR2GRAY, CV_32F on 0-1 (exactly QualityBRISQUE's conversion for 8-bit input).
// For 8-bit input the result shares a per-thread buffer: valid until the thread's next call.
cv::Mat gray_original(const cv::Mat& img);
cv::Mat gray_opencv(const cv::Mat& img);

std::array<double, kFeatureCount> features_original(const cv::Mat& gray255);
std::array<float, kFeatureCount> features_opencv(const cv::Mat& gray01);

}  // namespace iqa::brisque
