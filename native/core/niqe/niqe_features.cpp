#include "niqe/niqe_features.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <cstdint>
#include <string>

#include <opencv2/imgproc.hpp>

#include "common/error.h"
#include "image/convert.h"

namespace iqa::niqe {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// The release's grid search for the AGGD shape: gam = 0.2:0.001:10 and the ratio
// r(gam) = gamma(2/gam)^2 / (gamma(1/gam) gamma(3/gam)), plus the per-shape factors the
// scale and mean parameters need.
struct ShapeTable {
  std::vector<double> gam, ratio, beta_factor, mean_factor;
  bool increasing = true;

  ShapeTable() {
    const int n = 9801;
    gam.resize(n);
    ratio.resize(n);
    beta_factor.resize(n);
    mean_factor.resize(n);
    for (int k = 0; k < n; ++k) {
      double a = 0.2 + k * 0.001;
      gam[k] = a;
      double g1 = std::tgamma(1 / a), g2 = std::tgamma(2 / a), g3 = std::tgamma(3 / a);
      ratio[k] = g2 * g2 / (g1 * g3);
      beta_factor[k] = std::sqrt(g1 / g3);
      mean_factor[k] = g2 / g1;
      if (k > 0 && !(ratio[k] > ratio[k - 1])) increasing = false;
    }
  }

  // Index of the first minimum of (ratio - x)^2, as MATLAB's min() returns it (index 1 when
  // every difference is NaN or infinite).
  int nearest(double x) const {
    if (!std::isfinite(x)) return 0;
    auto sq = [&](int k) { double d = ratio[k] - x; return d * d; };
    if (!increasing) {
      int best = 0;
      for (int k = 1; k < int(ratio.size()); ++k)
        if (sq(k) < sq(best)) best = k;
      return best;
    }
    // ratio is increasing, so (ratio - x)^2 falls then rises: the minimum is next to the
    // first entry >= x.
    int hi = int(std::lower_bound(ratio.begin(), ratio.end(), x) - ratio.begin());
    if (hi == 0) return 0;
    if (hi == int(ratio.size())) return hi - 1;
    return sq(hi - 1) <= sq(hi) ? hi - 1 : hi;
  }
};

const ShapeTable& shape_table() {
  static const ShapeTable table;
  return table;
}

// Sufficient statistics of estimateaggdparam over one sample vector.
struct AggdStats {
  double n = 0, n_neg = 0, ss_neg = 0, n_pos = 0, ss_pos = 0, sum_abs = 0, sum_sq = 0;
};

struct Aggd {
  int shape_index;
  double alpha, beta_l, beta_r;
};

// estimateaggdparam.m, with MATLAB's NaN semantics: an empty side has NaN deviation.
Aggd fit_aggd(const AggdStats& s) {
  const ShapeTable& t = shape_table();
  double left = s.n_neg > 0 ? std::sqrt(s.ss_neg / s.n_neg) : kNaN;
  double right = s.n_pos > 0 ? std::sqrt(s.ss_pos / s.n_pos) : kNaN;
  double g = left / right;
  double mean_abs = s.sum_abs / s.n;
  double rhat = mean_abs * mean_abs / (s.sum_sq / s.n);
  double rhatnorm = rhat * (g * g * g + 1) * (g + 1) / ((g * g + 1) * (g * g + 1));
  int k = t.nearest(rhatnorm);
  return {k, t.gam[k], left * t.beta_factor[k], right * t.beta_factor[k]};
}

cv::Mat gaussian_window_1d() {
  // fspecial('gaussian', 7, 7/6) normalised to sum 1 is the outer product of this kernel.
  return cv::getGaussianKernel(7, 7.0 / 6.0, CV_64F);
}

// How the MSCN numerator im - mu of a pixel behaves in exact arithmetic. The Gaussian weights
// depend on dx^2 + dy^2 only, and e^(-k / (2 sigma^2)) for the nine distinct k admit no integer
// relation, so the weighted mean equals the centre exactly iff, for every orbit of offsets
// {(+-dx, +-dy), (+-dy, +-dx)}, the differences I(c + d) - I(c) sum to zero (a flat window, a
// linear ramp, ...). Returns 2 for a flat window (sigma 0 too), 1 for an exact zero numerator,
// 0 otherwise. Windows are clipped as replicate padding makes them.
int exact_zero_numerator(const cv::Mat& im, int y, int x) {
  const double c = im.at<double>(y, x);
  auto at = [&](int dy, int dx) {
    const int yy = std::min(std::max(y + dy, 0), im.rows - 1), xx = std::min(std::max(x + dx, 0), im.cols - 1);
    return im.at<double>(yy, xx) - c;
  };
  bool flat = true;
  for (int a = 0; a <= 3; ++a) {
    for (int b = a; b <= 3; ++b) {
      if (a == 0 && b == 0) continue;
      // The orbit of (a, b): sign flips of both coordinates, and the swap when a != b.
      double sum = 0;
      for (int sa : {-1, 1}) {
        for (int sb : {-1, 1}) {
          if ((a == 0 && sa < 0) || (b == 0 && sb < 0)) continue;
          const double d1 = at(sa * a, sb * b);
          sum += d1;
          flat = flat && d1 == 0;
          if (a != b) {
            const double d2 = at(sb * b, sa * a);
            sum += d2;
            flat = flat && d2 == 0;
          }
        }
      }
      if (sum != 0) return 0;
    }
  }
  return flat ? 2 : 1;
}

// 1 where the (2r+1)x(2r+1) window around a pixel, clipped to the image as replicate padding
// makes it, holds one value only: no two horizontally or vertically adjacent pixels inside it
// differ. Counted with integral images of the "differs from the next pixel" maps (exact for
// any double values, unlike a min/max filter in lower precision; and cheaper on CV_64F).
cv::Mat flat_windows(const cv::Mat& im, int r) {
  const int rows = im.rows, cols = im.cols;
  cv::Mat dh = cv::Mat::zeros(rows, cols, CV_8U), dv = cv::Mat::zeros(rows, cols, CV_8U);
  for (int y = 0; y < rows; ++y) {
    const double* p = im.ptr<double>(y);
    const double* q = y + 1 < rows ? im.ptr<double>(y + 1) : nullptr;
    uint8_t* h = dh.ptr<uint8_t>(y);
    uint8_t* v = dv.ptr<uint8_t>(y);
    for (int x = 0; x + 1 < cols; ++x) h[x] = p[x] != p[x + 1];
    if (q)
      for (int x = 0; x < cols; ++x) v[x] = p[x] != q[x];
  }
  cv::Mat ih, iv;
  cv::integral(dh, ih, CV_32S);
  cv::integral(dv, iv, CV_32S);
  auto sum = [](const cv::Mat& s, int y0, int x0, int y1, int x1) {  // inclusive rectangle
    if (y1 < y0 || x1 < x0) return 0;
    return s.at<int>(y1 + 1, x1 + 1) - s.at<int>(y0, x1 + 1) - s.at<int>(y1 + 1, x0) + s.at<int>(y0, x0);
  };
  cv::Mat flat(rows, cols, CV_8U);
  for (int y = 0; y < rows; ++y) {
    const int y0 = std::max(0, y - r), y1 = std::min(rows - 1, y + r);
    uint8_t* f = flat.ptr<uint8_t>(y);
    for (int x = 0; x < cols; ++x) {
      const int x0 = std::max(0, x - r), x1 = std::min(cols - 1, x + r);
      f[x] = sum(ih, y0, x0, y1, x1 - 1) == 0 && sum(iv, y0, x0, y1 - 1, x1) == 0;
    }
  }
  return flat;
}

// MSCN coefficients (im - mu) / (sigma + 1) and sigma, with imfilter(..., 'replicate').
// Where mu equals the pixel in exact arithmetic (flat windows, ramps: exact_zero_numerator), a
// floating-point filter leaves residuals of ~1e-14 whose sign depends on the filter's rounding
// (MATLAB's imfilter, OpenCV's SIMD path, ...). Those signs decide on which side of the AGGD
// fit such pixels count, which moves NIQE by up to ~0.5 on images with flat areas. We use the
// exact values (0; and sigma 0 in flat windows), so results do not depend on the platform.
void mscn(const cv::Mat& im, cv::Mat& structdis, cv::Mat& sigma) {
  static const cv::Mat w = gaussian_window_1d();
  cv::Mat mu, mu2;
  cv::sepFilter2D(im, mu, CV_64F, w, w, cv::Point(-1, -1), 0, cv::BORDER_REPLICATE);
  cv::sepFilter2D(im.mul(im), mu2, CV_64F, w, w, cv::Point(-1, -1), 0, cv::BORDER_REPLICATE);
  const cv::Mat flat = flat_windows(im, 3);  // cheap first: most exact zeros are flat windows
  sigma.create(im.size(), CV_64F);
  structdis.create(im.size(), CV_64F);
  for (int y = 0; y < im.rows; ++y) {
    const double* pi = im.ptr<double>(y);
    const double* pm = mu.ptr<double>(y);
    const double* pm2 = mu2.ptr<double>(y);
    const uint8_t* pf = flat.ptr<uint8_t>(y);
    double* ps = sigma.ptr<double>(y);
    double* pd = structdis.ptr<double>(y);
    for (int x = 0; x < im.cols; ++x) {
      if (pf[x]) {
        ps[x] = 0;
        pd[x] = 0;
        continue;
      }
      double s = std::sqrt(std::fabs(pm2[x] - pm[x] * pm[x]));
      double d = pi[x] - pm[x];
      // Exact zeros leave residuals near 1e-16 |pixel|; a true numerator is far larger.
      if (std::fabs(d) <= 1e-9 * (1 + std::fabs(pi[x]))) {
        if (exact_zero_numerator(im, y, x)) d = 0;  // a ramp or other symmetric window
      }
      ps[x] = s;
      pd[x] = d / (s + 1);
    }
  }
}

// The AGGD statistics of one block's coefficients (dr = dc = 0, `self`) or of their products
// with the neighbour (i - dr, j - dc), wrapping inside the block as circshift(block, [dr dc])
// does (blkproc hands each block to computefeature on its own). One pass per vector keeps the
// accumulators in registers.
AggdStats block_stats(const cv::Mat& sd, cv::Rect r, bool self, int dr, int dc) {
  double sum_abs = 0, sum_sq = 0, ss_neg = 0, ss_pos = 0;
  long n_neg = 0, n_pos = 0;
  auto add = [&](double v) {  // branch-free: the signs of MSCN products are unpredictable
    const double sq = v * v;
    const bool neg = v < 0, pos = v > 0;
    sum_abs += std::fabs(v);
    sum_sq += sq;
    n_neg += neg;
    ss_neg += neg ? sq : 0.0;
    n_pos += pos;
    ss_pos += pos ? sq : 0.0;
  };
  const int h = r.height, w = r.width;
  for (int i = 0; i < h; ++i) {
    const double* row = sd.ptr<double>(r.y + i) + r.x;
    if (self) {
      for (int j = 0; j < w; ++j) add(row[j]);
      continue;
    }
    const double* nb = sd.ptr<double>(r.y + (i - dr + h) % h) + r.x;
    // j - dc stays inside [0, w) for j in [lo, hi); the one wrapped column is done apart.
    const int lo = dc > 0 ? dc : 0, hi = dc < 0 ? w + dc : w;
    if (dc > 0) add(row[0] * nb[w - 1]);
    for (int j = lo; j < hi; ++j) add(row[j] * nb[j - dc]);
    if (dc < 0) add(row[w - 1] * nb[0]);
  }
  AggdStats st;
  st.n = double(h) * w;
  st.n_neg = double(n_neg);
  st.n_pos = double(n_pos);
  st.ss_neg = ss_neg;
  st.ss_pos = ss_pos;
  st.sum_abs = sum_abs;
  st.sum_sq = sum_sq;
  return st;
}

// computefeature.m on one block: 18 values written to out. Shifts [0 1], [1 0], [1 1] and
// [1 -1] pair (i, j) with (i, j-1), (i-1, j), (i-1, j-1) and (i-1, j+1).
void block_features(const cv::Mat& sd, cv::Rect r, double* out) {
  const AggdStats st[5] = {block_stats(sd, r, true, 0, 0), block_stats(sd, r, false, 0, 1), block_stats(sd, r, false, 1, 0),
                           block_stats(sd, r, false, 1, 1), block_stats(sd, r, false, 1, -1)};
  const ShapeTable& t = shape_table();
  Aggd a = fit_aggd(st[0]);
  out[0] = a.alpha;
  out[1] = (a.beta_l + a.beta_r) / 2;
  for (int s = 1; s < 5; ++s) {
    a = fit_aggd(st[s]);
    double* o = out + 2 + 4 * (s - 1);
    o[0] = a.alpha;
    o[1] = (a.beta_r - a.beta_l) * t.mean_factor[a.shape_index];
    o[2] = a.beta_l;
    o[3] = a.beta_r;
  }
}

}  // namespace

const char* minimum_size_text() { return "96x96 pixels (one 96x96 block)"; }

PatchFeatures compute_patch_features(const cv::Mat& img, int max_side) {
  if (img.empty()) fail(ErrorCode::Input, "NIQE got an empty image");
  if (img.rows < kBlockSize || img.cols < kBlockSize)
    fail(ErrorCode::Input, "NIQE needs an image of at least " + std::string(minimum_size_text()) + "; got " + std::to_string(img.cols) + "x" +
                               std::to_string(img.rows));
  // rgb2gray (rounded for integer input, as MATLAB returns uint8), then double on 0-255.
  cv::Mat grey = to_float(rgb2gray_matlab(img), 255.0, CV_64F);
  if (max_side > 0 && std::max(grey.rows, grey.cols) > max_side) {
    grey = imresize_matlab(grey, double(max_side) / std::max(grey.rows, grey.cols));
    if (grey.rows < kBlockSize || grey.cols < kBlockSize) fail(ErrorCode::Input, "NIQE: the image is smaller than one 96x96 block after shrinking to maxSide");
  }
  const int nbr = grey.rows / kBlockSize, nbc = grey.cols / kBlockSize;
  cv::Mat im = grey(cv::Rect(0, 0, nbc * kBlockSize, nbr * kBlockSize)).clone();

  PatchFeatures pf;
  pf.patches = nbr * nbc;
  pf.features.assign(size_t(pf.patches) * kFeatures, 0.0);
  pf.sharpness.assign(size_t(pf.patches), 0.0);
  for (int scale = 1; scale <= 2; ++scale) {
    cv::Mat structdis, sigma;
    mscn(im, structdis, sigma);
    const int bs = kBlockSize / scale;
    for (int c = 0; c < nbc; ++c) {
      for (int r = 0; r < nbr; ++r) {
        const int p = c * nbr + r;  // MATLAB's column-major block order
        cv::Rect roi(c * bs, r * bs, bs, bs);
        block_features(structdis, roi, &pf.features[size_t(p) * kFeatures + (scale - 1) * kFeaturesPerScale]);
        if (scale == 1) pf.sharpness[p] = cv::mean(sigma(roi))[0];
      }
    }
    if (scale == 1) im = imresize_matlab(im, 0.5);
  }
  return pf;
}

}  // namespace iqa::niqe
