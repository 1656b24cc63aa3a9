#include "fr/msssim.h"

#include <cmath>

#include <opencv2/imgproc.hpp>

#include "fr/ssim.h"

namespace iqa {

namespace {
constexpr int kLevels = 5;
constexpr double kWeights[kLevels] = {0.0448, 0.2856, 0.3001, 0.2363, 0.1333};

cv::Mat halve(const cv::Mat& plane) {
  cv::Mat filtered;
  // imfilter(im, ones(2)/4, 'symmetric', 'same'): kernel centre at (1,1), so each output
  // averages the pixel and its right/lower neighbours (anchor 0); edges repeat (BORDER_REFLECT).
  cv::boxFilter(plane, filtered, CV_64F, cv::Size(2, 2), cv::Point(0, 0), true, cv::BORDER_REFLECT);
  return subsample(filtered, 2);
}
}  // namespace

MsSsim::MsSsim(const Options& opts) {
  gray_ = fr_gray_option(opts, "ms-ssim");
  std::string method = opts.text("method", "product");
  if (method != "product" && method != "wtd_sum") fail(ErrorCode::Input, "ms-ssim option method must be 'product' or 'wtd_sum'");
  product_ = method == "product";
}

FrDetail MsSsim::detail(const cv::Mat& ref, const cv::Mat& dist, bool want_maps) const {
  auto planes = fr_planes(ref, dist, gray_);
  const int min_side = std::min(ref.rows, ref.cols);
  if (min_side < 11 << (kLevels - 1))
    fail(ErrorCode::Input, "ms-ssim needs images of at least 176x176 pixels (11 at the coarsest of 5 scales), got " + std::to_string(ref.cols) + "x" +
                               std::to_string(ref.rows));
  std::vector<double> scores;
  std::vector<cv::Mat> maps;
  for (auto& [a0, b0] : planes) {
    cv::Mat a = a0, b = b0;
    double mcs[kLevels], mssim = 0;
    for (int l = 0; l < kLevels; ++l) {
      bool last = l == kLevels - 1;
      SsimMaps m = ssim_maps(a, b, true, !last);
      if (last) mssim = cv::mean(m.ssim)[0];
      else mcs[l] = cv::mean(m.cs)[0];
      if (want_maps) maps.push_back(last ? m.ssim : m.cs);
      if (!last) {
        a = halve(a);
        b = halve(b);
      }
    }
    double v;
    if (product_) {
      v = std::pow(std::max(mssim, 0.0), kWeights[kLevels - 1]);
      for (int l = 0; l < kLevels - 1; ++l) v *= std::pow(std::max(mcs[l], 0.0), kWeights[l]);
    } else {
      double wsum = 0;
      for (double w : kWeights) wsum += w;
      v = mssim * (kWeights[kLevels - 1] / wsum);
      for (int l = 0; l < kLevels - 1; ++l) v += mcs[l] * (kWeights[l] / wsum);
    }
    scores.push_back(v);
  }
  return fr_combine(std::move(scores), std::move(maps));
}

}  // namespace iqa
