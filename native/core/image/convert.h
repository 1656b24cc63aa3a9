// The one conversion path every metric uses: colour, depth, resize, crop, tensor packing.
#pragma once
#include <opencv2/core.hpp>

namespace iqa {

// Full-scale value of a canonical image's depth (255, 65535 or 1.0).
double full_scale(const cv::Mat& img);

// Converts to CV_64F (or CV_32F) with the full scale mapped to `range` (e.g. 255 or 1).
cv::Mat to_float(const cv::Mat& img, double range, int depth = CV_64F);

// Drops an alpha channel (BGRA -> BGR); other images pass through.
cv::Mat drop_alpha(const cv::Mat& img);

// MATLAB rgb2gray: Y = 0.298936021293775 R + 0.587043074451121 G + 0.114020904255103 B,
// rounded for integer images (as MATLAB returns uint8/uint16), unrounded for float.
// Gray input is returned as is; alpha is ignored.
cv::Mat rgb2gray_matlab(const cv::Mat& img);

// OpenCV's cvtColor BGR(A)2GRAY (ITU-R 601 0.299/0.587/0.114, fixed-point for 8-bit).
cv::Mat rgb2gray_opencv(const cv::Mat& img);

// Pillow's Image.convert('L') (ITU-R 601-2): for 8-bit (R*19595 + G*38470 + B*7471 + 0x8000) >> 16,
// Pillow's fixed point (equal to Pillow 13 on all 2^24 colours; OpenCV's rounding differs by 1 on
// 21,745 of them). Other depths: 0.299 R + 0.587 G + 0.114 B unrounded. Alpha is ignored.
cv::Mat rgb2gray_pil(const cv::Mat& img);

// Which of the conversions above a model or a metric was trained with.
// TensorFlow's tf.image.rgb_to_grayscale on float pixels: 0.2989 R + 0.5870 G + 0.1140 B in
// float32, unrounded; CV_32F out on the unit scale.
cv::Mat rgb2gray_tf(const cv::Mat& img);

enum class GrayConversion { Matlab, OpenCV, Pil, Tf };
GrayConversion parse_gray(const std::string& name);
cv::Mat rgb2gray(const cv::Mat& img, GrayConversion how);

// OpenCV's INTER_AREA/LINEAR/CUBIC, MATLAB's antialiased bicubic, and Pillow's filters
// (image/pil_resize.h: what torchvision's Resize does on PIL images).
// TfGaussian: TensorFlow's antialiased Gaussian (image/tf_resize.h; returns CV_32F on [0, 1]);
// TfBicubic: TensorFlow's bicubic without antialiasing (image/highpass.h; CV_32F, same scale).
enum class Interp { Area, Bilinear, Bicubic, MatlabBicubic, PilNearest, PilBox, PilBilinear, PilHamming, PilBicubic, PilLanczos, TfGaussian, TfBicubic };
Interp parse_interp(const std::string& name);

cv::Mat resize_image(const cv::Mat& img, cv::Size size, Interp interp);

// MATLAB imresize(img, [rows cols], 'bicubic') including its default antialiasing when
// shrinking. Works on any depth/channel count; computes in double and returns CV_64F.
cv::Mat imresize_matlab(const cv::Mat& img, cv::Size size, bool antialias = true);
// imresize(img, scale): output size ceil(scale * input) per dimension.
cv::Mat imresize_matlab(const cv::Mat& img, double scale, bool antialias = true);

// torch.nn.functional.interpolate(x, scale_factor=s, mode='bilinear', align_corners=False):
// output floor(size * s), source coordinate (dst + 0.5) / s - 0.5 clamped at 0 (the scale
// itself maps coordinates, not the size ratio). Float images only.
cv::Mat torch_bilinear_scale(const cv::Mat& img, double scale);

// Checked region of interest (a copy).
cv::Mat crop(const cv::Mat& img, const cv::Rect& roi);

// Packs an image into an NCHW float tensor: value = (pixel / full_scale - mean[c]) / std[c],
// channels in RGB order when `rgb` (else BGR). 1-channel input is repeated to 3 channels when
// `out_channels` is 3. `dst` holds out_channels * rows * cols floats.
void pack_nchw(const cv::Mat& img, float* dst, int out_channels, bool rgb, const float mean[3], const float stdev[3]);

// Local contrast normalisation of one H x W float plane, in place: (x - mu) / (sigma + c) with
// mu, sigma the mean and standard deviation over a window x window box, sigma =
// sqrt(max(E[x^2] - mu^2, 0)), symmetric border (scipy convolve2d boundary='symm' = OpenCV
// BORDER_REFLECT). As numpy on a float32 patch: x^2 in float32, the box means and the rest in double.
void local_contrast_normalize(float* plane, int rows, int cols, int window, double c);

}  // namespace iqa
