#include "fr/gmsd.h"

#include <cmath>

#include <opencv2/imgproc.hpp>

namespace iqa {

namespace {
constexpr double kT = 170.0;

cv::Mat gradient_magnitude(const cv::Mat& plane) {
  cv::Mat avg;
  // conv2(Y, ones(2)/4, 'same'): output(i,j) averages (i..i+1, j..j+1), zeros past the end.
  cv::boxFilter(plane, avg, CV_64F, cv::Size(2, 2), cv::Point(0, 0), true, cv::BORDER_CONSTANT);
  cv::Mat y = subsample(avg, 2);
  // conv2 flips the kernel; the magnitude ignores the sign, so correlating with the Prewitt
  // kernels as written gives the same map.
  static const cv::Matx33d kx(1 / 3., 0, -1 / 3., 1 / 3., 0, -1 / 3., 1 / 3., 0, -1 / 3.);
  static const cv::Matx33d ky(1 / 3., 1 / 3., 1 / 3., 0, 0, 0, -1 / 3., -1 / 3., -1 / 3.);
  cv::Mat ix, iy;
  cv::filter2D(y, ix, CV_64F, kx, cv::Point(-1, -1), 0, cv::BORDER_CONSTANT);
  cv::filter2D(y, iy, CV_64F, ky, cv::Point(-1, -1), 0, cv::BORDER_CONSTANT);
  cv::Mat g;
  cv::magnitude(ix, iy, g);
  return g;
}
}  // namespace

Gmsd::Gmsd(const Options& opts) { gray_ = fr_gray_option(opts, "gmsd"); }

FrDetail Gmsd::detail(const cv::Mat& ref, const cv::Mat& dist, bool want_maps) const {
  auto planes = fr_planes(ref, dist, gray_);
  if (ref.rows < 4 || ref.cols < 4) fail(ErrorCode::Input, "gmsd needs images of at least 4x4 pixels");
  std::vector<double> scores;
  std::vector<cv::Mat> maps;
  for (auto& [a, b] : planes) {
    cv::Mat g1 = gradient_magnitude(a), g2 = gradient_magnitude(b);
    cv::Mat q(g1.size(), CV_64F);
    for (int r = 0; r < q.rows; ++r) {
      const double *p1 = g1.ptr<double>(r), *p2 = g2.ptr<double>(r);
      double* d = q.ptr<double>(r);
      for (int i = 0; i < q.cols; ++i) d[i] = (2 * p1[i] * p2[i] + kT) / (p1[i] * p1[i] + p2[i] * p2[i] + kT);
    }
    // std2 (normalised by N-1), two-pass: cv::meanStdDev's one-pass E[q^2] - E[q]^2 loses
    // digits when the map is nearly constant (near-identical images).
    const double n = double(q.total()), mean = cv::sum(q)[0] / n;
    double ss = 0;
    for (int r = 0; r < q.rows; ++r) {
      const double* d = q.ptr<double>(r);
      for (int i = 0; i < q.cols; ++i) ss += (d[i] - mean) * (d[i] - mean);
    }
    scores.push_back(std::sqrt(ss / (n - 1)));
    if (want_maps) maps.push_back(q);
  }
  return fr_combine(std::move(scores), std::move(maps));
}

}  // namespace iqa
