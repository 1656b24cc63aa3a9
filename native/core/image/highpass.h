// High-pass normalisation of a grey image: I - up(down(lowpass(I))), in float32 on the byte
// scale (0..255 for any depth, as TensorFlow sees a decoded uint8 image cast to float).
// DIQA-style preprocessing (Kim et al. 2019, as re-implemented in TensorFlow): the low band the
// HVS is insensitive to is removed before the network sees the image.
#pragma once
#include <opencv2/core.hpp>

#include "image/convert.h"

namespace iqa {

struct HighpassSpec {
  // Gaussian low-pass, TensorFlow-style: a ksize x ksize kernel whose taps sit at offsets
  // k - round_half_even(ksize / 2), k = 0..ksize-1 (so an even kernel is centred half a pixel
  // off), normalised to sum 1, applied as tf.nn.conv2d(padding='SAME'): zero padding, floor((ksize
  // - 1) / 2) before, the rest after.
  int ksize = 16;
  double sigma = 7.0 / 6.0;
  // down to ceil(side / factor) (float32, as TF's ceil(shape * (1 / factor))), then back up.
  int factor = 4;
  Interp interp = Interp::TfBicubic;
};

// One-channel image of any depth in; CV_32F out on the unit scale (the byte-scale result / 255),
// so that input.normalize applies to it as to any float image.
cv::Mat highpass_normalize(const cv::Mat& grey, const HighpassSpec& spec);

// TensorFlow's tf.image.resize(method='bicubic', antialias=False) (ResizeBicubic with
// half_pixel_centers): Keys cubic a = -0.5 from a 1024-entry coefficient table, sample
// (x + 0.5) * in / out - 0.5, taps outside the image dropped and the rest renormalised; float32.
// Any depth in, CV_32F out on the input's value scale (no rescaling).
cv::Mat tf_bicubic_resize(const cv::Mat& img, cv::Size size);

}  // namespace iqa
