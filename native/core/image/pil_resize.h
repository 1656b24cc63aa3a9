// Pillow's Image.resize (the resampling torchvision's Resize uses on PIL images): separable
// convolution with the filter's support scaled by the shrink factor (antialiasing), horizontal
// pass then vertical, and for 8-bit images Pillow's fixed-point arithmetic (22-bit coefficients,
// rounding, clipping after each pass) so the pixels are Pillow's bit for bit. Other depths
// accumulate in double and keep their type, as Pillow's 32-bit modes ("I", "F") do; on CV_32F
// values in [0, 1] that is also torch's antialiased bilinear/bicubic interpolate (torchvision's
// resize on tensors: the same weights, float32 between the passes).
// Hand-written (Pillow is a Python library, not linkable here); checked against Pillow on pixels
// in test/pil-resize.test.ts.
#pragma once
#include <string>

#include <opencv2/core.hpp>

namespace iqa {

enum class PilFilter { Nearest, Box, Bilinear, Hamming, Bicubic, Lanczos };

// Resizes any channel count (each channel on its own, as Pillow does per band).
cv::Mat pil_resize(const cv::Mat& img, cv::Size size, PilFilter filter);

}  // namespace iqa
