// TensorFlow's tf.image.resize(method='gaussian', antialias=True) (the ScaleAndTranslate kernel):
// per axis, output pixel x samples the input at (x + 0.5) * in / out; the Gaussian kernel
// (sigma 0.5, support 3 sigma = 1.5 pixels) is stretched by max(in / out, 1) when shrinking, its
// taps at input pixel centres within the support, normalised to sum 1; float32 throughout.
// Rows (height) first, then columns, as TF gathers them. MUSIQ's official preprocessing resizes
// this way. Checked against TensorFlow on pixels (test/tf-resize.test.ts).
#pragma once
#include <opencv2/core.hpp>

namespace iqa {

// Any depth and channel count in; CV_32F out with the full scale mapped to 1 (a float image on
// [0, 1] for 8/16-bit input), like TF resizing a converted float image.
cv::Mat tf_gaussian_resize(const cv::Mat& img, cv::Size size);

}  // namespace iqa
