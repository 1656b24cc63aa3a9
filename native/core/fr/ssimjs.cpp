// Numerics of ssim.js 3.5 and image-ssim 0.2 (see ssimjs.h). The loops mirror the packages'
// arithmetic order where rounding can change a result (ssim.js 'weber' truncates to integers;
// image-ssim stores float32 luma); elsewhere OpenCV filters do the work in double.
#include "fr/ssimjs.h"

#include <cmath>
#include <limits>

#include <opencv2/imgproc.hpp>

#include "common/error.h"
#include "fr/fr_common.h"

namespace iqa {

namespace {

// ECMAScript ToInt32: truncate, wrap modulo 2^32; NaN and infinities give 0. ssim.js stores
// into Int32Array, which applies exactly this.
inline int32_t js_to_int32(double v) {
  if (!std::isfinite(v)) return 0;
  double t = std::trunc(v);
  if (t >= -2147483648.0 && t <= 2147483647.0) return int32_t(t);
  double m = std::fmod(t, 4294967296.0);
  if (m < 0) m += 4294967296.0;
  return int32_t(uint32_t(m));
}

// ssim.js downsample 'original': f = Math.round(min(w, h) / maxSize); if f > 1, imfilter with
// ones(f)/f^2 ('symmetric'; ssim.js pads floor(f/2) before and f-1-floor(f/2) after, i.e. the
// default OpenCV anchor) and keep every f-th row/column. The value is (exact integer sum) * (1/f^2)
// as ssim.js's box convolution computes it, so the box sums are taken unnormalised.
cv::Mat ssimjs_downsample(const cv::Mat& g, int f) {
  cv::Mat sums;
  cv::boxFilter(g, sums, CV_64F, cv::Size(f, f), cv::Point(-1, -1), false, cv::BORDER_REFLECT);
  const double scale = 1.0 / double(f * f);
  cv::Mat out((g.rows + f - 1) / f, (g.cols + f - 1) / f, CV_64F);
  for (int y = 0; y < out.rows; ++y) {
    const double* s = sums.ptr<double>(y * f);
    double* d = out.ptr<double>(y);
    for (int x = 0; x < out.cols; ++x) d[x] = s[x * f] * scale;
  }
  return out;
}

// 'valid' correlation with a separable kernel (both kernels symmetric, so it equals ssim.js's
// convolution); anchor 0 makes dst(i, j) = sum k(a) k(b) src(i + a, j + b).
cv::Mat valid_filter(const cv::Mat& src, const cv::Mat& k) {
  const int K = k.rows;
  cv::Mat dst;
  cv::sepFilter2D(src, dst, CV_64F, k, k, cv::Point(0, 0), 0, cv::BORDER_CONSTANT);
  return dst(cv::Rect(0, 0, src.cols - K + 1, src.rows - K + 1));
}

SsimJsResult gaussian_ssim(const cv::Mat& x, const cv::Mat& y, const cv::Mat& k, double c1, double c2) {
  const int K = k.rows;
  if (x.cols - K + 1 < 0 || x.rows - K + 1 < 0) fail(ErrorCode::Input, "Invalid array length: the image is smaller than the SSIM window");
  SsimJsResult r;
  if (x.cols - K + 1 == 0 || x.rows - K + 1 == 0) {
    r.map.create(std::max(0, x.rows - K + 1), std::max(0, x.cols - K + 1), CV_64F);
    r.mssim = std::numeric_limits<double>::quiet_NaN();
    return r;
  }
  cv::Mat mu1 = valid_filter(x, k), mu2 = valid_filter(y, k);
  cv::Mat e11 = valid_filter(x.mul(x), k), e22 = valid_filter(y.mul(y), k), e12 = valid_filter(x.mul(y), k);
  const bool uqi = !(c1 > 0 && c2 > 0);
  r.map.create(mu1.size(), CV_64F);
  double sum = 0;
  for (int row = 0; row < mu1.rows; ++row) {
    const double *m1 = mu1.ptr<double>(row), *m2 = mu2.ptr<double>(row), *a = e11.ptr<double>(row), *b = e22.ptr<double>(row), *c = e12.ptr<double>(row);
    double* d = r.map.ptr<double>(row);
    for (int i = 0; i < mu1.cols; ++i) {
      double mu1_sq = m1[i] * m1[i], mu2_sq = m2[i] * m2[i], mu12 = m1[i] * m2[i];
      double s1 = a[i] - mu1_sq, s2 = b[i] - mu2_sq, s12 = c[i] - mu12;
      d[i] = uqi ? ((mu12 * 2) * (s12 * 2)) / ((mu1_sq + mu2_sq) * (s1 + s2))
                 : ((mu12 * 2 + c1) * (s12 * 2 + c2)) / ((mu1_sq + mu2_sq + c1) * (s1 + s2 + c2));
      sum += d[i];
    }
  }
  r.mssim = sum / double(r.map.total());
  return r;
}

// ssim.js 'fast': normpdf(|x|, 0, 1.5) over x = -floor(w/2)..floor(w/2), normalised.
cv::Mat fast_kernel(int window) {
  const int offset = window / 2, n = 2 * offset + 1;
  const double SQ2PI = 2.506628274631000502415765284811, sigma = 1.5;
  cv::Mat k(n, 1, CV_64F);
  double sum = 0;
  for (int i = 0; i < n; ++i) {
    double z = std::abs(i - offset) / sigma;
    k.at<double>(i) = std::exp(-(z * z) / 2) / (sigma * SQ2PI);
  }
  for (int i = 0; i < n; ++i) sum += k.at<double>(i);
  return k / sum;
}

// ssim.js 'original': fspecial('gaussian', w, 1.5), centre (w-1)/2 (between pixels for even w);
// the 2-D Gaussian is the outer product of this 1-D one.
cv::Mat original_kernel(int window) {
  const double centre = (window - 1) / 2.0;
  cv::Mat k(window, 1, CV_64F);
  double sum = 0;
  for (int i = 0; i < window; ++i) {
    double d = i - centre;
    k.at<double>(i) = std::exp(-(d * d) / (2 * 1.5 * 1.5));
    sum += k.at<double>(i);
  }
  return k / sum;
}

SsimJsResult bezkrovny(const cv::Mat& x, const cv::Mat& y, int ws, double c1, double c2) {
  const int W = x.cols, H = x.rows;
  SsimJsResult r;
  r.map.create((H + ws - 1) / ws, (W + ws - 1) / ws, CV_64F);
  std::vector<double> v1, v2;
  double total = 0;
  for (int wy = 0, oy = 0; oy < H; oy += ws, ++wy) {
    for (int wx = 0, ox = 0; ox < W; ox += ws, ++wx) {
      const int ww = std::min(ws, W - ox), wh = std::min(ws, H - oy);
      v1.clear();
      v2.clear();
      for (int j = 0; j < wh; ++j)
        for (int i = 0; i < ww; ++i) {
          v1.push_back(x.at<double>(oy + j, ox + i));
          v2.push_back(y.at<double>(oy + j, ox + i));
        }
      const double n = double(v1.size());
      double s1 = 0, s2 = 0;
      for (size_t i = 0; i < v1.size(); ++i) s1 += v1[i];
      for (size_t i = 0; i < v2.size(); ++i) s2 += v2[i];
      const double a1 = s1 / n, a2 = s2 / n;
      double var1 = 0, var2 = 0, cov = 0;
      for (size_t i = v1.size(); i-- > 0;) var1 += (v1[i] - a1) * (v1[i] - a1);
      for (size_t i = v2.size(); i-- > 0;) var2 += (v2[i] - a2) * (v2[i] - a2);
      for (size_t i = v1.size(); i-- > 0;) cov += (v1[i] - a1) * (v2[i] - a2);
      var1 /= n;
      var2 /= n;
      cov /= n;
      const double numerator = (2 * a1 * a2 + c1) * (2 * cov + c2);
      const double denom1 = a1 * a1 + a2 * a2 + c1, denom2 = var1 + var2 + c2;
      double s = numerator / (denom1 * denom2);
      r.map.at<double>(wy, wx) = s;
      total += s;
    }
  }
  r.mssim = total / double(r.map.total());
  return r;
}

// Window sums over ws x ws of an int32 image, as ssim.js's Int32Array partial sums give them
// (exact, then wrapped to int32).
std::vector<int32_t> window_sums(const std::vector<int64_t>& vals, int W, int H, int ws) {
  const int ow = W - ws + 1, oh = H - ws + 1;
  std::vector<int64_t> integral(size_t(W + 1) * (H + 1), 0);
  for (int y = 0; y < H; ++y) {
    int64_t row = 0;
    for (int x = 0; x < W; ++x) {
      row += vals[size_t(y) * W + x];
      integral[size_t(y + 1) * (W + 1) + x + 1] = integral[size_t(y) * (W + 1) + x + 1] + row;
    }
  }
  std::vector<int32_t> out(size_t(ow) * oh);
  for (int y = 0; y < oh; ++y)
    for (int x = 0; x < ow; ++x) {
      int64_t s = integral[size_t(y + ws) * (W + 1) + x + ws] - integral[size_t(y) * (W + 1) + x + ws] - integral[size_t(y + ws) * (W + 1) + x] +
                  integral[size_t(y) * (W + 1) + x];
      out[size_t(y) * ow + x] = int32_t(uint32_t(uint64_t(s)));
    }
  return out;
}

SsimJsResult weber(const cv::Mat& x, const cv::Mat& y, int ws, double c1, double c2) {
  const int W = x.cols, H = x.rows, ow = W - ws + 1, oh = H - ws + 1;
  if (ow < 0 || oh < 0) fail(ErrorCode::Input, "Invalid typed array length: the image is smaller than the SSIM window");
  SsimJsResult r;
  r.map.create(oh, ow, CV_64F);
  if (ow == 0 || oh == 0) return r;  // ssim.js returns an empty map and mssim 0
  const size_t n = size_t(W) * H;
  std::vector<int64_t> p1(n), p2(n), sq1(n), sq2(n), cross(n);
  for (int row = 0; row < H; ++row) {
    const double *a = x.ptr<double>(row), *b = y.ptr<double>(row);
    for (int i = 0; i < W; ++i) {
      size_t k = size_t(row) * W + i;
      p1[k] = js_to_int32(a[i] + 0.5);  // Int32Array.from(data, v => v + 0.5)
      p2[k] = js_to_int32(b[i] + 0.5);
      sq1[k] = p1[k] * p1[k];
      sq2[k] = p2[k] * p2[k];
      cross[k] = p1[k] * p2[k];
    }
  }
  std::vector<int32_t> sums1 = window_sums(p1, W, H, ws), sums2 = window_sums(p2, W, H, ws);
  std::vector<int32_t> var1 = window_sums(sq1, W, H, ws), var2 = window_sums(sq2, W, H, ws), cov = window_sums(cross, W, H, ws);
  const double wsq = double(ws) * double(ws);
  double mssim = 0;
  for (size_t i = 0; i < sums1.size(); ++i) {
    // windowVariance / windowCovariance: 1024 * (E[x^2] - E[x]^2), stored in an Int32Array.
    double m1 = sums1[i] / wsq, m2 = sums2[i] / wsq;
    int32_t v1 = js_to_int32(1024 * (var1[i] / wsq - m1 * m1));
    int32_t v2 = js_to_int32(1024 * (var2[i] / wsq - m2 * m2));
    int32_t cv = js_to_int32(1024 * (cov[i] / wsq - (sums1[i] / wsq) * (sums2[i] / wsq)));
    double meanx = sums1[i] / wsq, meany = sums2[i] / wsq;
    double varx = v1 / 1024.0, vary = v2 / 1024.0, covxy = cv / 1024.0;
    double na = 2 * meanx * meany + c1, nb = 2 * covxy + c2;
    double da = meanx * meanx + meany * meany + c1, db = varx + vary + c2;
    double s = (na * nb) / da / db;
    r.map.ptr<double>(0)[i] = s;
    mssim = i == 0 ? s : mssim + (s - mssim) / double(i + 1);
  }
  r.mssim = mssim;
  return r;
}

}  // namespace

cv::Mat ssimjs_gray(const uint8_t* d, int width, int height, bool original) {
  cv::Mat g(height, width, CV_64F);
  double* out = g.ptr<double>(0);
  const size_t n = size_t(width) * height;
  if (original) {
    for (size_t i = 0; i < n; ++i) {
      // Stored into a Uint8Array: truncation (the sum is within [0.5, 255.5]).
      double v = 0.29894 * d[4 * i] + 0.58704 * d[4 * i + 1] + 0.11402 * d[4 * i + 2] + 0.5;
      out[i] = double(uint8_t(int(v)));
    }
  } else {
    for (size_t i = 0; i < n; ++i) out[i] = double((77 * d[4 * i] + 150 * d[4 * i + 1] + 29 * d[4 * i + 2] + 128) >> 8);
  }
  return g;
}

SsimJsResult ssimjs_compare(const cv::Mat& g1, const cv::Mat& g2, const SsimJsParams& p) {
  CV_Assert(g1.type() == CV_64F && g2.type() == CV_64F && g1.size() == g2.size());
  if (p.window < 1) fail(ErrorCode::Input, "windowSize must be a positive integer");
  cv::Mat x = g1, y = g2;
  if (p.downsample) {
    double factor = std::min(g1.cols, g2.rows) / p.max_size;
    double f = std::floor(factor + 0.5);  // Math.round
    if (f > 1) {
      if (f > double(std::max(g1.rows, g1.cols)) * 2) fail(ErrorCode::Input, "maxSize is too small for this image");
      x = ssimjs_downsample(g1, int(f));
      y = ssimjs_downsample(g2, int(f));
    }
  }
  switch (p.mode) {
    case SsimJsMode::Fast: return gaussian_ssim(x, y, fast_kernel(p.window), p.c1, p.c2);
    case SsimJsMode::Original: return gaussian_ssim(x, y, original_kernel(p.window), p.c1, p.c2);
    case SsimJsMode::Bezkrovny: return bezkrovny(x, y, p.window, p.c1, p.c2);
    case SsimJsMode::Weber: return weber(x, y, p.window, p.c1, p.c2);
  }
  fail(ErrorCode::Input, "unknown ssim mode");
}

// --- image-ssim ---------------------------------------------------------------------------

namespace {
inline double sample(const ImageSsimInput& in, size_t i) {
  if (i >= in.length) return std::numeric_limits<double>::quiet_NaN();
  return in.u8 ? double(in.u8[i]) : in.f64[i];
}

// _lumaValuesForWindow: one float32 luma per pixel of the window, row-major.
void window_luma(const ImageSsimInput& in, int img_width, int x, int y, int w, int h, bool luminance, std::vector<float>& out) {
  out.assign(size_t(w) * h, 0.0f);
  size_t counter = 0;
  const size_t ch = size_t(in.channels);
  for (int j = y; j < y + h; ++j) {
    size_t offset = size_t(j) * img_width;
    size_t i = (offset + x) * ch, maxi = (offset + x + w) * ch;
    switch (in.channels) {
      case 1:
        while (i < maxi) out[counter++] = float(sample(in, i++));
        break;
      case 2:
        while (i < maxi) {
          double g = sample(in, i), a = sample(in, i + 1);
          i += 2;
          out[counter++] = float(g * (a / 255));
        }
        break;
      case 3:
        while (i < maxi) {
          double r = sample(in, i), g = sample(in, i + 1), b = sample(in, i + 2);
          i += 3;
          out[counter++] = float(luminance ? r * 0.212655 + g * 0.715158 + b * 0.072187 : r + g + b);
        }
        break;
      case 4:
        while (i < maxi) {
          double r = sample(in, i), g = sample(in, i + 1), b = sample(in, i + 2), a = sample(in, i + 3);
          i += 4;
          out[counter++] = float((luminance ? r * 0.212655 + g * 0.715158 + b * 0.072187 : r + g + b) * (a / 255));
        }
        break;
      default: return;  // unknown channel count: image-ssim leaves the luma at zero
    }
  }
}
}  // namespace

ImageSsimResult image_ssim_compare(const ImageSsimInput& a, const ImageSsimInput& b, int width, int height, int window, double c1, double c2,
                                   bool luminance) {
  if (window < 1) fail(ErrorCode::Input, "windowSize must be a positive integer");
  std::vector<float> l1, l2;
  double mssim = 0, mcs = 0;
  long windows = 0;
  for (int y = 0; y < height; y += window) {
    for (int x = 0; x < width; x += window) {
      const int ww = std::min(window, width - x), wh = std::min(window, height - y);
      window_luma(a, width, x, y, ww, wh, luminance, l1);
      window_luma(b, width, x, y, ww, wh, luminance, l2);
      double s1 = 0, s2 = 0;
      for (float v : l1) s1 += v;
      for (float v : l2) s2 += v;
      const double avg1 = s1 / double(l1.size()), avg2 = s2 / double(l2.size());
      double sigxy = 0, sigsqx = 0, sigsqy = 0;
      for (size_t i = 0; i < l1.size(); ++i) {
        double d1 = l1[i] - avg1, d2 = l2[i] - avg2;
        sigsqx += d1 * d1;
        sigsqy += d2 * d2;
        sigxy += d1 * d2;
      }
      const double n1 = double(l1.size()) - 1;
      sigsqx /= n1;
      sigsqy /= n1;
      sigxy /= n1;
      const double numerator = (2 * avg1 * avg2 + c1) * (2 * sigxy + c2);
      const double denominator = (avg1 * avg1 + avg2 * avg2 + c1) * (sigsqx + sigsqy + c2);
      mssim += numerator / denominator;
      mcs += (2 * sigxy + c2) / (sigsqx + sigsqy + c2);
      ++windows;
    }
  }
  return {mssim / double(windows), mcs / double(windows)};
}

}  // namespace iqa
