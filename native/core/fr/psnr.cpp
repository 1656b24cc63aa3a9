#include "fr/psnr.h"

#include <cmath>
#include <limits>

#include "image/convert.h"

namespace iqa {

Psnr::Psnr(const Options& opts) {
  std::string ch = opts.text("channels", "rgb");
  if (ch != "rgb" && ch != "gray") fail(ErrorCode::Input, "psnr option channels must be 'rgb' or 'gray'");
  gray_ = ch == "gray";
}

double Psnr::score(const cv::Mat& ref_in, const cv::Mat& dist_in) const {
  cv::Mat ref = drop_alpha(ref_in), dist = drop_alpha(dist_in);
  require_same_shape(ref, dist);
  if (gray_) {
    ref = rgb2gray_matlab(ref);
    dist = rgb2gray_matlab(dist);
  }
  cv::Mat a = to_float(ref, 255.0), b = to_float(dist, 255.0);
  double sse = cv::norm(a, b, cv::NORM_L2SQR);
  double mse = sse / double(a.total() * a.channels());
  if (mse == 0) return std::numeric_limits<double>::infinity();
  return 10.0 * std::log10(255.0 * 255.0 / mse);
}

}  // namespace iqa
