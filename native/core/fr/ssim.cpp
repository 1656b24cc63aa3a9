#include "fr/ssim.h"

#include <cmath>
#include <vector>

#include <opencv2/imgproc.hpp>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && !defined(__APPLE__)
#define IQA_MULTIVERSION __attribute__((target_clones("avx2", "default")))  // AVX2 clone picked at load time
#else
#define IQA_MULTIVERSION
#endif

namespace iqa {

namespace {
constexpr int kWindow = 11;
constexpr double kSigma = 1.5;

const cv::Mat& gaussian_kernel() {
  static const cv::Mat k = cv::getGaussianKernel(kWindow, kSigma, CV_64F);
  return k;
}

cv::Mat blur(const cv::Mat& src, bool valid) {
  cv::Mat dst;
  // Separable filtering in double: the SSIM variance terms (E[x^2] - E[x]^2) cancel badly in
  // float32. With 'valid' the border mode is irrelevant because the border rows are cropped.
  cv::sepFilter2D(src, dst, CV_64F, gaussian_kernel(), gaussian_kernel(), cv::Point(-1, -1), 0, cv::BORDER_REFLECT_101);
  if (!valid) return dst;
  const int r = kWindow / 2;
  return dst(cv::Rect(r, r, src.cols - 2 * r, src.rows - 2 * r));
}
}  // namespace

// Valid-region SSIM with a separable kernel. One streaming pass computes the five Gaussian
// moments (x, y, x^2, y^2, xy) row by row straight from the inputs in double, which the
// compiler vectorises; five cv::sepFilter2D calls would need the squared images materialised
// and OpenCV's 64-bit separable filter is scalar.
namespace {
// Rows [i0, i1) of ssim_maps_valid (compiled for AVX2 too). Each input row is filtered
// horizontally once (its squares and product computed once) into a ring of the last K rows; each
// output row is then the vertical filter over the ring. The kernel is symmetric, so taps t and
// K-1-t share one multiplication.
IQA_MULTIVERSION void ssim_valid_rows(const cv::Mat& x, const cv::Mat& y, const double* k, int K, double C1, double C2, bool uqi, SsimMaps& out,
                                      bool want_cs, int i0, int i1) {
  const int W = x.cols, ow = out.ssim.cols, half = K / 2;
  std::vector<double> sq(size_t(W) * 3), ring(size_t(K) * 5 * ow), acc(size_t(5) * ow);
  double *__restrict xx = sq.data(), *__restrict yy = xx + W, *__restrict xy = yy + W;
  auto filter_row = [&](int r) {
    const double *__restrict a = x.ptr<double>(r), *__restrict b = y.ptr<double>(r);
    for (int j = 0; j < W; ++j) xx[j] = a[j] * a[j], yy[j] = b[j] * b[j], xy[j] = a[j] * b[j];
    double* __restrict dst = &ring[size_t(r % K) * 5 * ow];
    const double* src[5] = {a, b, xx, yy, xy};
    for (int m = 0; m < 5; ++m) {
      const double* __restrict s = src[m];
      double* __restrict d = dst + size_t(m) * ow;
      for (int j = 0; j < ow; ++j) d[j] = (K % 2) ? k[half] * s[j + half] : 0.0;
      for (int t = 0; t < half; ++t) {
        const double kt = k[t];
        const int u = K - 1 - t;
        for (int j = 0; j < ow; ++j) d[j] += kt * (s[j + t] + s[j + u]);
      }
    }
  };
  for (int r = i0; r < i0 + K - 1; ++r) filter_row(r);
  double *__restrict mx = acc.data(), *__restrict my = mx + ow, *__restrict mxx = my + ow, *__restrict myy = mxx + ow, *__restrict mxy = myy + ow;
  for (int i = i0; i < i1; ++i) {
    filter_row(i + K - 1);
    for (int m = 0; m < 5; ++m) {
      double* __restrict d = acc.data() + size_t(m) * ow;
      const double* __restrict centre = &ring[(size_t((i + half) % K) * 5 + m) * ow];
      for (int j = 0; j < ow; ++j) d[j] = (K % 2) ? k[half] * centre[j] : 0.0;
      for (int t = 0; t < half; ++t) {
        const double kt = k[t];
        const double *__restrict p = &ring[(size_t((i + t) % K) * 5 + m) * ow], *__restrict q = &ring[(size_t((i + K - 1 - t) % K) * 5 + m) * ow];
        for (int j = 0; j < ow; ++j) d[j] += kt * (p[j] + q[j]);
      }
    }
    double* __restrict d = out.ssim.ptr<double>(i);
    double* __restrict cs = want_cs ? out.cs.ptr<double>(i) : nullptr;
    for (int j = 0; j < ow; ++j) {
      const double mu1_sq = mx[j] * mx[j], mu2_sq = my[j] * my[j], mu12 = mx[j] * my[j];
      const double s1 = mxx[j] - mu1_sq, s2 = myy[j] - mu2_sq, s12 = mxy[j] - mu12;
      const double num2 = s12 * 2 + C2, den2 = s1 + s2 + C2;
      d[j] = uqi ? ((mu12 * 2) * (s12 * 2)) / ((mu1_sq + mu2_sq) * (s1 + s2)) : ((mu12 * 2 + C1) * num2) / ((mu1_sq + mu2_sq + C1) * den2);
      if (cs) cs[j] = num2 / den2;
    }
  }
}
}  // namespace

SsimMaps ssim_maps_valid(const cv::Mat& x, const cv::Mat& y, const cv::Mat& kernel, double C1, double C2, bool want_cs, bool uqi) {
  CV_Assert(x.type() == CV_64F && y.type() == CV_64F && x.size() == y.size() && kernel.type() == CV_64F && kernel.isContinuous());
  const int K = int(kernel.total()), W = x.cols, H = x.rows, ow = W - K + 1, oh = H - K + 1;
  CV_Assert(ow > 0 && oh > 0);
  SsimMaps out;
  out.ssim.create(oh, ow, CV_64F);
  if (want_cs) out.cs.create(oh, ow, CV_64F);
  // Output rows are independent: a few stripes, each with its own running buffers.
  parallel_rows(oh, 48, [&](int i0, int i1) { ssim_valid_rows(x, y, kernel.ptr<double>(0), K, C1, C2, uqi, out, want_cs, i0, i1); });
  return out;
}

SsimMaps ssim_maps(const cv::Mat& x, const cv::Mat& y, bool valid, bool want_cs, double k1, double k2, double L) {
  CV_Assert(x.type() == CV_64F && y.type() == CV_64F && x.size() == y.size());
  if (valid && (x.rows < kWindow || x.cols < kWindow))
    fail(ErrorCode::Input, "image of " + std::to_string(x.cols) + "x" + std::to_string(x.rows) + " is smaller than the 11x11 SSIM window");
  const double C1 = (k1 * L) * (k1 * L), C2 = (k2 * L) * (k2 * L);
  if (valid) return ssim_maps_valid(x, y, gaussian_kernel(), C1, C2, want_cs, false);
  cv::Mat xx = x.mul(x), yy = y.mul(y), xy = x.mul(y);
  cv::Mat mu1 = blur(x, valid), mu2 = blur(y, valid), e11 = blur(xx, valid), e22 = blur(yy, valid), e12 = blur(xy, valid);
  SsimMaps out;
  out.ssim.create(mu1.size(), CV_64F);
  if (want_cs) out.cs.create(mu1.size(), CV_64F);
  for (int r = 0; r < mu1.rows; ++r) {
    const double *m1 = mu1.ptr<double>(r), *m2 = mu2.ptr<double>(r), *a = e11.ptr<double>(r), *b = e22.ptr<double>(r), *c = e12.ptr<double>(r);
    double* s = out.ssim.ptr<double>(r);
    double* cs = want_cs ? out.cs.ptr<double>(r) : nullptr;
    for (int i = 0; i < mu1.cols; ++i) {
      double mu1_sq = m1[i] * m1[i], mu2_sq = m2[i] * m2[i], mu12 = m1[i] * m2[i];
      double s1 = a[i] - mu1_sq, s2 = b[i] - mu2_sq, s12 = c[i] - mu12;
      double num2 = 2 * s12 + C2, den2 = s1 + s2 + C2;
      s[i] = ((2 * mu12 + C1) * num2) / ((mu1_sq + mu2_sq + C1) * den2);
      if (cs) cs[i] = num2 / den2;
    }
  }
  return out;
}

int ssim_downsample_factor(int rows, int cols) {
  // MATLAB round() of a positive number: half away from zero.
  return std::max(1, int(std::floor(std::min(rows, cols) / 256.0 + 0.5)));
}

cv::Mat ssim_auto_downsample(const cv::Mat& plane, int f) {
  if (f <= 1) return plane;
  cv::Mat filtered;
  // imfilter(img, ones(f)/f^2, 'symmetric', 'same'): correlation with the kernel centre at
  // floor((f+1)/2) (1-based), i.e. anchor (f-1)/2; 'symmetric' repeats the edge = BORDER_REFLECT.
  const int anchor = (f - 1) / 2;
  cv::boxFilter(plane, filtered, CV_64F, cv::Size(f, f), cv::Point(anchor, anchor), true, cv::BORDER_REFLECT);
  return subsample(filtered, f);
}

Ssim::Ssim(const Options& opts) {
  gray_ = fr_gray_option(opts, "ssim");
  downsample_ = opts.flag("downsample", false);
  std::string border = opts.text("border", "valid");
  if (border != "valid" && border != "reflect101") fail(ErrorCode::Input, "ssim option border must be 'valid' or 'reflect101'");
  valid_ = border == "valid";
}

FrDetail Ssim::detail(const cv::Mat& ref, const cv::Mat& dist, bool want_maps) const {
  auto planes = fr_planes(ref, dist, gray_);
  std::vector<double> scores;
  std::vector<cv::Mat> maps;
  for (auto& [a, b] : planes) {
    int f = downsample_ ? ssim_downsample_factor(a.rows, a.cols) : 1;
    SsimMaps m = ssim_maps(ssim_auto_downsample(a, f), ssim_auto_downsample(b, f), valid_, false);
    scores.push_back(cv::mean(m.ssim)[0]);
    if (want_maps) maps.push_back(m.ssim);
  }
  return fr_combine(std::move(scores), std::move(maps));
}

}  // namespace iqa
