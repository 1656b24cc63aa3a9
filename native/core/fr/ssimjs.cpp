// Numerics of ssim.js 3.5 and image-ssim 0.2 (see ssimjs.h). The loops mirror the packages'
// arithmetic order where rounding can change a result (ssim.js 'weber' truncates to integers;
// image-ssim stores float32 luma); elsewhere OpenCV filters do the work in double.
#include "fr/ssimjs.h"

#include <cmath>
#include <limits>

#include <opencv2/imgproc.hpp>

#include "common/error.h"
#include "fr/fr_common.h"
#include "fr/ssim.h"

// Hot loops are also compiled for AVX2 and picked at load time (GCC/Clang function
// multi-versioning); without it, x86-64 builds use SSE2 only.
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && !defined(__APPLE__)
#define IQA_MULTIVERSION __attribute__((target_clones("avx2", "default")))
#else
#define IQA_MULTIVERSION
#endif

namespace iqa {

namespace {

// ECMAScript ToInt32: truncate, wrap modulo 2^32; NaN and infinities give 0. ssim.js stores
// into Int32Array, which applies exactly this.
inline int32_t js_to_int32(double v) {
  if (v > -2147483649.0 && v < 2147483648.0) return int32_t(v);  // truncation toward zero
  if (!std::isfinite(v)) return 0;
  double t = std::trunc(v);
  double m = std::fmod(t, 4294967296.0);
  if (m < 0) m += 4294967296.0;
  return int32_t(uint32_t(m));
}

// ssim.js downsample 'original': f = Math.round(min(w, h) / maxSize); if f > 1, imfilter with
// ones(f)/f^2 ('symmetric'; ssim.js pads floor(f/2) before and f-1-floor(f/2) after, i.e. the
// default OpenCV anchor) and keep every f-th row/column. The value is (exact integer sum) * (1/f^2)
// as ssim.js's box convolution computes it, so the box sums are taken unnormalised.
// 'symmetric' padding index: ... 1 0 | 0 1 ... n-1 | n-1 n-2 ...
inline int reflect_index(int i, int n) {
  const int period = 2 * n;
  i %= period;
  if (i < 0) i += period;
  return i < n ? i : period - 1 - i;
}

// ssim.js downsample 'original' (see ssimjs_downsample): only every f-th output of the filter
// is kept, so block sums are taken at those samples alone (f^2 times less work than filtering
// every pixel): per output row the f source rows are added column-wise (`row(r, buf)` fills
// source row r), then f neighbouring column sums per output. Integer grey sums are exact in any
// order; the scaling is ssim.js's sum * (1/f^2).
// Sample: the row type (double, or int32_t for 8-bit grey, whose column and block sums are exact
// integers converted once per output); Acc: the block-sum accumulator.
template <typename Sample, typename Acc, typename RowFn>
cv::Mat box_downsample(int W, int H, int f, RowFn row) {
  const int off = f / 2, oh = (H + f - 1) / f, ow = (W + f - 1) / f;
  const double scale = 1.0 / double(f * f);
  cv::Mat out(oh, ow, CV_64F);
  parallel_rows(oh, 32, [&](int y0, int y1) {
    std::vector<Sample> colsum(W), buf(W);
    Sample* __restrict cs = colsum.data();
    const Sample* __restrict b = buf.data();
    for (int y = y0; y < y1; ++y) {
      std::fill(colsum.begin(), colsum.end(), Sample(0));
      for (int r = 0; r < f; ++r) {
        row(reflect_index(y * f - off + r, H), buf.data());
        for (int x = 0; x < W; ++x) cs[x] += b[x];
      }
      double* d = out.ptr<double>(y);
      for (int x = 0; x < ow; ++x) {
        const int start = x * f - off;
        Acc acc = 0;
        if (start >= 0 && start + f <= W) {
          for (int k = 0; k < f; ++k) acc += cs[start + k];
        } else {
          for (int k = 0; k < f; ++k) acc += cs[reflect_index(start + k, W)];
        }
        d[x] = double(acc) * scale;
      }
    }
  });
  return out;
}

// One row of ssim.js's grey conversion of RGBA bytes.
IQA_MULTIVERSION void gray_row(const uint8_t* __restrict d, int W, bool original, double* __restrict out) {
  if (original) {
    for (int i = 0; i < W; ++i) {
      // Stored into a Uint8Array: truncation (the sum is within [0.5, 255.5]).
      const double v = 0.29894 * d[4 * i] + 0.58704 * d[4 * i + 1] + 0.11402 * d[4 * i + 2] + 0.5;
      out[i] = double(uint8_t(int(v)));
    }
  } else {
    for (int i = 0; i < W; ++i) out[i] = double((77 * int(d[4 * i]) + 150 * int(d[4 * i + 1]) + 29 * int(d[4 * i + 2]) + 128) >> 8);
  }
}

// One row of ssim.js's grey conversion as integers (both versions give 0..255 integers).
IQA_MULTIVERSION void gray_row_int(const uint8_t* __restrict d, int W, bool original, int32_t* __restrict out) {
  if (original) {
    for (int i = 0; i < W; ++i) {
      const double v = 0.29894 * d[4 * i] + 0.58704 * d[4 * i + 1] + 0.11402 * d[4 * i + 2] + 0.5;
      out[i] = int32_t(uint8_t(int(v)));
    }
  } else {
    for (int i = 0; i < W; ++i) out[i] = (77 * int32_t(d[4 * i]) + 150 * int32_t(d[4 * i + 1]) + 29 * int32_t(d[4 * i + 2]) + 128) >> 8;
  }
}

}  // namespace

cv::Mat ssimjs_downsample(const cv::Mat& g, int f) {
  if (f <= 1) return g;
  return box_downsample<double, double>(g.cols, g.rows, f, [&](int r, double* buf) { std::copy(g.ptr<double>(r), g.ptr<double>(r) + g.cols, buf); });
}

cv::Mat ssimjs_gray(const uint8_t* rgba, int width, int height, bool original, int f) {
  const size_t stride = size_t(width) * 4;
  if (f > 1) return box_downsample<int32_t, int64_t>(width, height, f, [&](int r, int32_t* buf) { gray_row_int(rgba + r * stride, width, original, buf); });
  cv::Mat g(height, width, CV_64F);
  parallel_rows(height, 64, [&](int r0, int r1) {
    for (int r = r0; r < r1; ++r) gray_row(rgba + r * stride, width, original, g.ptr<double>(r));
  });
  return g;
}

int ssimjs_factor(int width, int height, const SsimJsParams& p) {
  if (!p.downsample) return 1;
  const double f = std::floor(std::min(width, height) / p.max_size + 0.5);  // Math.round
  if (!(f > 1)) return 1;
  if (f > double(std::max(width, height)) * 2) fail(ErrorCode::Input, "maxSize is too small for this image");
  return int(f);
}

namespace {

SsimJsResult gaussian_ssim(const cv::Mat& x, const cv::Mat& y, const cv::Mat& kernel, double c1, double c2) {
  const int K = kernel.rows;
  if (x.cols - K + 1 < 0 || x.rows - K + 1 < 0) fail(ErrorCode::Input, "Invalid array length: the image is smaller than the SSIM window");
  SsimJsResult r;
  if (x.cols - K + 1 == 0 || x.rows - K + 1 == 0) {
    r.map.create(std::max(0, x.rows - K + 1), std::max(0, x.cols - K + 1), CV_64F);
    r.mssim = std::numeric_limits<double>::quiet_NaN();
    return r;
  }
  SsimMaps m = ssim_maps_valid(x, y, kernel, c1, c2, false, !(c1 > 0 && c2 > 0));
  r.map = m.ssim;
  r.mssim = cv::mean(r.map)[0];
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
  // Non-overlapping windows (the last ones clipped), ssim.js's summation orders: sums in
  // row-major order, (co)variances from the last value back to the first.
  const int W = x.cols, H = x.rows;
  SsimJsResult r;
  r.map.create((H + ws - 1) / ws, (W + ws - 1) / ws, CV_64F);
  double total = 0;
  for (int wy = 0, oy = 0; oy < H; oy += ws, ++wy) {
    const int wh = std::min(ws, H - oy);
    for (int wx = 0, ox = 0; ox < W; ox += ws, ++wx) {
      const int ww = std::min(ws, W - ox);
      const double n = double(ww) * wh;
      double s1 = 0, s2 = 0;
      for (int j = 0; j < wh; ++j) {
        const double *a = x.ptr<double>(oy + j) + ox, *b = y.ptr<double>(oy + j) + ox;
        for (int i = 0; i < ww; ++i) s1 += a[i];
        for (int i = 0; i < ww; ++i) s2 += b[i];
      }
      const double a1 = s1 / n, a2 = s2 / n;
      double var1 = 0, var2 = 0, cov = 0;
      for (int j = wh - 1; j >= 0; --j) {
        const double* a = x.ptr<double>(oy + j) + ox;
        for (int i = ww - 1; i >= 0; --i) var1 += (a[i] - a1) * (a[i] - a1);
      }
      for (int j = wh - 1; j >= 0; --j) {
        const double* b = y.ptr<double>(oy + j) + ox;
        for (int i = ww - 1; i >= 0; --i) var2 += (b[i] - a2) * (b[i] - a2);
      }
      for (int j = wh - 1; j >= 0; --j) {
        const double *a = x.ptr<double>(oy + j) + ox, *b = y.ptr<double>(oy + j) + ox;
        for (int i = ww - 1; i >= 0; --i) cov += (a[i] - a1) * (b[i] - a2);
      }
      var1 /= n;
      var2 /= n;
      cov /= n;
      const double numerator = (2 * a1 * a2 + c1) * (2 * cov + c2);
      const double denom1 = a1 * a1 + a2 * a2 + c1, denom2 = var1 + var2 + c2;
      const double s = numerator / (denom1 * denom2);
      r.map.at<double>(wy, wx) = s;
      total += s;
    }
  }
  r.mssim = total / double(r.map.total());
  return r;
}

// Output rows [y0, y1) of weber(), with their own running sums primed with the stripe's first
// ws-1 rows; returns the sum of the map values (compiled for AVX2 too).
IQA_MULTIVERSION double weber_rows(const cv::Mat& x, const cv::Mat& y, int ws, double c1, double c2, cv::Mat& map, int y0, int y1) {
  const int W = x.cols;
  const int ow = map.cols;
  double total = 0;
  std::vector<int64_t> col(size_t(W) * 5, 0);
  int64_t *__restrict c_1 = &col[0], *__restrict c_2 = c_1 + W, *__restrict c_11 = c_2 + W, *__restrict c_22 = c_11 + W, *__restrict c_12 = c_22 + W;
  std::vector<int64_t> rounded(size_t(W) * 2);
  auto add_row = [&](int row, int64_t sign) {
    // Int32Array.from(data, v => v + 0.5): the rounded pixels ssim.js sums.
    int64_t *__restrict a = rounded.data(), *__restrict b = a + W;
    const double *__restrict xa = x.ptr<double>(row), *__restrict ya = y.ptr<double>(row);
    for (int i = 0; i < W; ++i) a[i] = js_to_int32(xa[i] + 0.5), b[i] = js_to_int32(ya[i] + 0.5);
    for (int i = 0; i < W; ++i) {
      c_1[i] += sign * a[i];
      c_2[i] += sign * b[i];
      c_11[i] += sign * (a[i] * a[i]);
      c_22[i] += sign * (b[i] * b[i]);
      c_12[i] += sign * (a[i] * b[i]);
    }
  };
  auto wrap = [](int64_t v) { return double(int32_t(uint32_t(uint64_t(v)))); };
  // Per output row: the five window sums (as the int32 values ssim.js stores), then the
  // arithmetic in separate loops the compiler can vectorise.
  std::vector<double> buf(size_t(ow) * 8);
  double *__restrict w1 = &buf[0], *__restrict w2 = w1 + ow, *__restrict w11 = w2 + ow, *__restrict w22 = w11 + ow, *__restrict w12 = w22 + ow;
  double *__restrict t1 = w12 + ow, *__restrict t2 = t1 + ow, *__restrict t12 = t2 + ow;
  const double wsq = double(ws) * double(ws);
  for (int row = y0; row < y0 + ws - 1; ++row) add_row(row, 1);
  for (int oy = y0; oy < y1; ++oy) {
    add_row(oy + ws - 1, 1);
    int64_t s1 = 0, s2 = 0, s11 = 0, s22 = 0, s12 = 0;
    for (int i = 0; i < ws - 1; ++i) s1 += c_1[i], s2 += c_2[i], s11 += c_11[i], s22 += c_22[i], s12 += c_12[i];
    for (int ox = 0; ox < ow; ++ox) {
      const int in = ox + ws - 1;
      s1 += c_1[in], s2 += c_2[in], s11 += c_11[in], s22 += c_22[in], s12 += c_12[in];
      w1[ox] = wrap(s1), w2[ox] = wrap(s2), w11[ox] = wrap(s11), w22[ox] = wrap(s22), w12[ox] = wrap(s12);
      s1 -= c_1[ox], s2 -= c_2[ox], s11 -= c_11[ox], s22 -= c_22[ox], s12 -= c_12[ox];
    }
    // windowVariance / windowCovariance: 1024 * (E[x^2] - E[x]^2) in double, then stored in an
    // Int32Array (truncated).
    for (int ox = 0; ox < ow; ++ox) {
      const double m1 = w1[ox] / wsq, m2 = w2[ox] / wsq;
      t1[ox] = 1024 * (w11[ox] / wsq - m1 * m1);
      t2[ox] = 1024 * (w22[ox] / wsq - m2 * m2);
      t12[ox] = 1024 * (w12[ox] / wsq - m1 * m2);
      w1[ox] = m1, w2[ox] = m2;  // keep the means for the last step
    }
    for (int ox = 0; ox < ow; ++ox) {
      t1[ox] = js_to_int32(t1[ox]);
      t2[ox] = js_to_int32(t2[ox]);
      t12[ox] = js_to_int32(t12[ox]);
    }
    double* d = map.ptr<double>(oy);
    for (int ox = 0; ox < ow; ++ox) {
      const double m1 = w1[ox], m2 = w2[ox];
      const double varx = t1[ox] / 1024, vary = t2[ox] / 1024, covxy = t12[ox] / 1024;
      const double na = 2 * m1 * m2 + c1, nb = 2 * covxy + c2;
      const double da = m1 * m1 + m2 * m2 + c1, db = varx + vary + c2;
      d[ox] = (na * nb) / (da * db);  // ssim.js: (na * nb) / da / db, equal to ~1e-16
    }
    for (int ox = 0; ox < ow; ++ox) total += d[ox];
    add_row(oy, -1);
  }
  return total;
}

SsimJsResult weber(const cv::Mat& x, const cv::Mat& y, int ws, double c1, double c2) {
  // ssim.js builds Int32Array summed-area tables of the rounded pixels, their squares and
  // products; window sums come out exact and are stored as int32. Sliding column and row sums in
  // 64-bit give the same exact sums with less memory traffic.
  const int W = x.cols, H = x.rows, ow = W - ws + 1, oh = H - ws + 1;
  if (ow < 0 || oh < 0) fail(ErrorCode::Input, "Invalid typed array length: the image is smaller than the SSIM window");
  SsimJsResult r;
  r.map.create(oh, ow, CV_64F);
  if (ow == 0 || oh == 0) return r;  // ssim.js returns an empty map and mssim 0
  // Output rows in a few stripes, each with its own running sums (primed with its first ws-1
  // rows); per-stripe totals are added in stripe order.
  std::vector<double> totals(size_t(oh), 0.0);
  parallel_rows(oh, 48, [&](int y0, int y1) { totals[size_t(y0)] = weber_rows(x, y, ws, c1, c2, r.map, y0, y1); });
  double total = 0;
  for (double t : totals) total += t;
  // ssim.js keeps a running mean (m += (s - m) / (i + 1)); the plain mean agrees to ~1e-15
  // and avoids a serial division per pixel.
  const double mssim = total / double(r.map.total());
  r.mssim = mssim;
  return r;
}

}  // namespace

SsimJsResult ssimjs_compare(const cv::Mat& g1, const cv::Mat& g2, const SsimJsParams& p) {
  CV_Assert(g1.type() == CV_64F && g2.type() == CV_64F && g1.size() == g2.size());
  if (p.window < 1) fail(ErrorCode::Input, "windowSize must be a positive integer");
  const cv::Mat &x = g1, &y = g2;
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

// image-ssim's _lumaValuesForWindow for a whole row segment: float32 luma of pixels
// [x0, x0 + w) of row y. Reads past the data are NaN (JS undefined); an unknown channel count
// leaves zeros, as image-ssim does.
template <typename Sample>
void luma_row(const Sample& at, int channels, size_t first, int w, bool luminance, float* out) {
  switch (channels) {
    case 1:
      for (int i = 0; i < w; ++i) out[i] = float(at(first + i));
      break;
    case 2:
      for (int i = 0; i < w; ++i) out[i] = float(at(first + 2 * i) * (at(first + 2 * i + 1) / 255));
      break;
    case 3:
      for (int i = 0; i < w; ++i) {
        const size_t k = first + 3 * size_t(i);
        const double r = at(k), g = at(k + 1), b = at(k + 2);
        out[i] = float(luminance ? r * 0.212655 + g * 0.715158 + b * 0.072187 : r + g + b);
      }
      break;
    case 4:
      for (int i = 0; i < w; ++i) {
        const size_t k = first + 4 * size_t(i);
        const double r = at(k), g = at(k + 1), b = at(k + 2), a = at(k + 3);
        out[i] = float((luminance ? r * 0.212655 + g * 0.715158 + b * 0.072187 : r + g + b) * (a / 255));
      }
      break;
    default: std::fill(out, out + w, 0.0f);
  }
}

// Per-byte products for 8-bit RGB(A): the same doubles image-ssim computes (v * 0.212655, ...,
// a / 255), looked up instead of recomputed.
struct LumaTables {
  double r[256], g[256], b[256], alpha[256];
  LumaTables() {
    for (int v = 0; v < 256; ++v) r[v] = v * 0.212655, g[v] = v * 0.715158, b[v] = v * 0.072187, alpha[v] = v / 255.0;
  }
};

void luma_row_u8(const uint8_t* __restrict d, int channels, int w, bool luminance, float* __restrict out) {
  static const LumaTables t;
  if (channels == 3 && luminance)
    for (int i = 0; i < w; ++i) out[i] = float(t.r[d[3 * i]] + t.g[d[3 * i + 1]] + t.b[d[3 * i + 2]]);
  else if (channels == 4 && luminance)
    for (int i = 0; i < w; ++i) out[i] = float((t.r[d[4 * i]] + t.g[d[4 * i + 1]] + t.b[d[4 * i + 2]]) * t.alpha[d[4 * i + 3]]);
  else if (channels == 4)
    for (int i = 0; i < w; ++i) out[i] = float((double(d[4 * i]) + d[4 * i + 1] + d[4 * i + 2]) * t.alpha[d[4 * i + 3]]);
  else if (channels == 2)
    for (int i = 0; i < w; ++i) out[i] = float(d[2 * i] * t.alpha[d[2 * i + 1]]);
  else luma_row([&](size_t k) { return double(d[k]); }, channels, 0, w, luminance, out);
}

// Luma of rows [y, y + h) of one image into `out` (h x width, row-major).
void band_luma(const ImageSsimInput& in, int width, int y, int h, bool luminance, float* out) {
  const size_t ch = in.channels >= 1 && in.channels <= 4 ? size_t(in.channels) : 0;
  for (int j = 0; j < h; ++j) {
    const size_t first = size_t(y + j) * width * ch, last = first + size_t(width) * ch;
    float* o = out + size_t(j) * width;
    if (in.u8 && last <= in.length) luma_row_u8(in.u8 + first, in.channels, width, luminance, o);
    else if (in.f64 && last <= in.length) luma_row([&](size_t k) { return in.f64[k]; }, in.channels, first, width, luminance, o);
    else luma_row([&](size_t k) { return sample(in, k); }, in.channels, first, width, luminance, o);
  }
}
}  // namespace

ImageSsimResult image_ssim_compare(const ImageSsimInput& a, const ImageSsimInput& b, int width, int height, int window, double c1, double c2,
                                   bool luminance) {
  if (window < 1) fail(ErrorCode::Input, "windowSize must be a positive integer");
  const int bands = (height + window - 1) / window, per_row = (width + window - 1) / window;
  if (bands == 0 || per_row == 0) return {std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::quiet_NaN()};
  // Each band of `window` rows is independent; per-band sums are added in band order.
  std::vector<double> band_ssim(bands, 0.0), band_mcs(bands, 0.0);
  parallel_rows(bands, 8, [&](int b0, int b1) {
    std::vector<float> l1(size_t(window) * width), l2(size_t(window) * width);
    std::vector<double> cols(size_t(width) * 5);
    for (int band = b0; band < b1; ++band) {
      const int y = band * window, wh = std::min(window, height - y);
      band_luma(a, width, y, wh, luminance, l1.data());
      band_luma(b, width, y, wh, luminance, l2.data());
      // Column sums of x, y, x^2, y^2, xy over the band (vectorised across columns), then per
      // window. image-ssim takes deviations from the window means (two passes); the one-pass
      // moments agree to ~1e-12 here (sums in double of float32 values up to 765).
      std::fill(cols.begin(), cols.end(), 0.0);
      double *__restrict c1s = cols.data(), *__restrict c2s = c1s + width, *__restrict c11 = c2s + width, *__restrict c22 = c11 + width,
             *__restrict c12 = c22 + width;
      for (int j = 0; j < wh; ++j) {
        const float *__restrict p = &l1[size_t(j) * width], *__restrict q = &l2[size_t(j) * width];
        for (int i = 0; i < width; ++i) {
          const double u = p[i], v = q[i];
          c1s[i] += u, c2s[i] += v, c11[i] += u * u, c22[i] += v * v, c12[i] += u * v;
        }
      }
      double sum_ssim = 0, sum_mcs = 0;
      for (int x = 0; x < width; x += window) {
        const int ww = std::min(window, width - x);
        const double n = double(ww) * wh;
        double s1 = 0, s2 = 0, s11 = 0, s22 = 0, s12 = 0;
        for (int i = x; i < x + ww; ++i) s1 += c1s[i], s2 += c2s[i], s11 += c11[i], s22 += c22[i], s12 += c12[i];
        const double avg1 = s1 / n, avg2 = s2 / n, n1 = n - 1;
        const double sigsqx = (s11 - s1 * avg1) / n1, sigsqy = (s22 - s2 * avg2) / n1, sigxy = (s12 - s1 * avg2) / n1;
        const double numerator = (2 * avg1 * avg2 + c1) * (2 * sigxy + c2);
        const double denominator = (avg1 * avg1 + avg2 * avg2 + c1) * (sigsqx + sigsqy + c2);
        sum_ssim += numerator / denominator;
        sum_mcs += (2 * sigxy + c2) / (sigsqx + sigsqy + c2);
      }
      band_ssim[band] = sum_ssim;
      band_mcs[band] = sum_mcs;
    }
  });
  double mssim = 0, mcs = 0;
  for (int i = 0; i < bands; ++i) mssim += band_ssim[i], mcs += band_mcs[i];
  const double windows = double(bands) * per_row;
  return {mssim / windows, mcs / windows};
}

}  // namespace iqa
