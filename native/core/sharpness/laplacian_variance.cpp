#include "sharpness/laplacian_variance.h"

#include <opencv2/imgproc.hpp>

#include "image/convert.h"

namespace iqa {

LaplacianVariance::LaplacianVariance(const Options&) {}

double LaplacianVariance::score(const cv::Mat& img) const {
  if (img.rows < 3 || img.cols < 3) fail(ErrorCode::Input, "sharpness needs an image of at least 3x3 pixels");
  cv::Mat gray = rgb2gray_opencv(img.depth() == CV_8U ? img : to_float(img, 255.0, CV_32F));
  // cv::Laplacian has no 32F -> 64F path; 8-bit input keeps OpenCV's exact 8U -> 64F one.
  if (gray.depth() != CV_8U) gray.convertTo(gray, CV_64F);
  cv::Mat lap;
  cv::Laplacian(gray, lap, CV_64F, 1);
  cv::Scalar mean, stddev;
  cv::meanStdDev(lap, mean, stddev);
  return stddev[0] * stddev[0];
}

}  // namespace iqa
