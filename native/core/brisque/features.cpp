#include "brisque/features.h"

#include <cmath>
#include <string>

#include <opencv2/imgproc.hpp>

#include "common/error.h"
#include "image/convert.h"

// Hot loops also compiled for AVX-512 and AVX2, picked at load time (GCC/Clang function
// multi-versioning on x86-64 ELF); elsewhere (macOS, arm64, MSVC) one portable version.
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && !defined(__APPLE__)
#if defined(__clang__) || __GNUC__ >= 11
#define IQA_BRISQUE_CLONES __attribute__((target_clones("arch=x86-64-v4", "avx2", "default")))
#else  // GCC 10 (the Debian 11 prebuild root) has no x86-64-v4 name
#define IQA_BRISQUE_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#endif
#else
#define IQA_BRISQUE_CLONES
#endif

namespace iqa::brisque {

namespace {

// ---- shape-parameter tables ------------------------------------------------------------

// r(gamma) = Gamma(2/g)^2 / (Gamma(1/g) Gamma(3/g)), the AGGD moment ratio.
double aggd_ratio(double g) { return std::tgamma(2 / g) * std::tgamma(2 / g) / (std::tgamma(1 / g) * std::tgamma(3 / g)); }

// OpenCV's grid: `for (double gam = 0.2; gam < 10; gam += 0.001)`, the same accumulated doubles
// and the same expression, so the table lookup below returns exactly what its loop returns.
struct OpencvGrid {
  std::vector<double> gam, r;
  OpencvGrid() {
    for (double g = 0.2; g < 10; g += 0.001) {
      gam.push_back(g);
      r.push_back(aggd_ratio(g));
    }
  }
};

// MATLAB's 0.2:0.001:10 (the colon operator fills from both ends) with the release's two ratios.
struct MatlabGrid {
  std::vector<double> gam, r_ggd, r_aggd;
  MatlabGrid() {
    const double a = 0.2, b = 10, d = 0.001;
    const int n = int(std::floor((b - a) / d + 0.5)) + 1;  // 9801
    for (int k = 0; k < n; ++k) {
      double g = 2 * k < n ? a + k * d : b - (n - 1 - k) * d;
      gam.push_back(g);
      r_ggd.push_back(std::tgamma(1 / g) * std::tgamma(3 / g) / (std::tgamma(2 / g) * std::tgamma(2 / g)));
      r_aggd.push_back(std::tgamma(2 / g) * std::tgamma(2 / g) / (std::tgamma(1 / g) * std::tgamma(3 / g)));
    }
  }
};

const OpencvGrid& opencv_grid() {
  static const OpencvGrid g;
  return g;
}
const MatlabGrid& matlab_grid() {
  static const MatlabGrid g;
  return g;
}

// ---- OpenCV variant ----------------------------------------------------------------------

// The sums QualityBRISQUE's AGGDfit accumulates: float samples promoted to double, zeros and
// NaNs skipped. Its loop adds them one by one; here they are summed in SIMD lanes (a different
// order, so the totals can differ in the last bits, ~1e-13 relative), which is what makes this
// part ~10x faster.
struct SignedSums {
  double pos_sq = 0, neg_sq = 0, abs_sum = 0;
  long pos_n = 0, neg_n = 0;
  void merge(const SignedSums& o) {
    pos_sq += o.pos_sq;
    neg_sq += o.neg_sq;
    abs_sum += o.abs_sum;
    pos_n += o.pos_n;
    neg_n += o.neg_n;
  }
};

// Products a[x] * b[x] (b == nullptr: a[x] itself) over n samples. Signs are tested in float
// (the sample is a float), squares and sums are taken in double as QualityBRISQUE does.
#define IQA_SIGNED_SUMS_BODY(EXPR)                                                  \
  _Pragma("omp simd reduction(+ : pos_sq, neg_sq, abs_sum, pos_n, neg_n)")          \
  for (int x = 0; x < n; ++x) {                                                     \
    float v = EXPR;                                                                 \
    float p = v > 0 ? v : 0.f, q = v < 0 ? v : 0.f;                                 \
    pos_n += v > 0;                                                                 \
    neg_n += v < 0;                                                                 \
    double pd = p, qd = q;                                                          \
    pos_sq += pd * pd;                                                              \
    neg_sq += qd * qd;                                                              \
    abs_sum += double(p - q);                                                       \
  }

IQA_BRISQUE_CLONES SignedSums signed_sums(const float* a, const float* b, int n) {
  double pos_sq = 0, neg_sq = 0, abs_sum = 0;
  int pos_n = 0, neg_n = 0;
  if (b) {
    IQA_SIGNED_SUMS_BODY(a[x] * b[x])
  } else {
    IQA_SIGNED_SUMS_BODY(a[x])
  }
  SignedSums s;
  s.pos_sq = pos_sq;
  s.neg_sq = neg_sq;
  s.abs_sum = abs_sum;
  s.pos_n = pos_n;
  s.neg_n = neg_n;
  return s;
}
#undef IQA_SIGNED_SUMS_BODY

// MSCN row: (img - mu) / (sqrt(sig - mu^2) + 1/255), all in float as QualityBRISQUE computes it
// (NaN where rounding makes the variance negative, as there).
IQA_BRISQUE_CLONES void mscn_row(const float* ip, const float* mp, const float* sp, float* dp, int n) {
  const float c = float(1.0 / 255);
#pragma omp simd
  for (int x = 0; x < n; ++x) {
    float m = mp[x];
    float s = std::sqrt(sp[x] - m * m) + c;
    dp[x] = (ip[x] - m) / s;
  }
}

struct AggdFit {
  double lsigma, rsigma, gamma;
};

AggdFit aggd_fit_opencv(const SignedSums& s, long total) {
  AggdFit f;
  f.lsigma = std::pow(s.neg_sq / double(s.neg_n), 0.5);
  f.rsigma = std::pow(s.pos_sq / double(s.pos_n), 0.5);
  double gammahat = f.lsigma / f.rsigma;
  double rhat = std::pow(s.abs_sum / double(total), 2.0) / ((s.neg_sq + s.pos_sq) / double(total));
  double rhatnorm = rhat * (std::pow(gammahat, 3) + 1) * (gammahat + 1) / std::pow(std::pow(gammahat, 2) + 1, 2);
  // QualityBRISQUE walks the grid until the distance grows (a NaN distance never grows).
  const OpencvGrid& g = opencv_grid();
  double prevgamma = 0, prevdiff = 1e10;
  for (size_t k = 0; k < g.gam.size(); ++k) {
    double diff = std::abs(g.r[k] - rhatnorm);
    if (diff > prevdiff) break;
    prevdiff = diff;
    prevgamma = g.gam[k];
  }
  f.gamma = prevgamma;
  return f;
}

// Per-thread scratch images: fresh multi-megabyte buffers per call cost more in page faults
// than the arithmetic. Kept only for images up to kKeepPixels.
struct Workspace {
  cv::Mat gray8, gray32, half;
  cv::Mat mu[2], sq[2], sig[2], mscn[2];  // per scale, so each keeps its size
};
constexpr size_t kKeepPixels = size_t(1) << 20;
Workspace& workspace() {
  thread_local Workspace ws;
  return ws;
}

void opencv_scale(const cv::Mat& img, int scale, float* out) {
  Workspace& ws = workspace();
  cv::Mat& mu = ws.mu[scale];
  cv::Mat& sq = ws.sq[scale];
  cv::Mat& sig = ws.sig[scale];
  cv::Mat& mscn = ws.mscn[scale];
  cv::GaussianBlur(img, mu, cv::Size(7, 7), 7. / 6., 0., cv::BORDER_REPLICATE);
  cv::multiply(img, img, sq);
  cv::GaussianBlur(sq, sig, cv::Size(7, 7), 7. / 6., 0., cv::BORDER_REPLICATE);
  const int rows = img.rows, cols = img.cols;
  mscn.create(rows, cols, CV_32F);
  for (int y = 0; y < rows; ++y) mscn_row(img.ptr<float>(y), mu.ptr<float>(y), sig.ptr<float>(y), mscn.ptr<float>(y), cols);
  // The MSCN fit and the four products with the neighbour (i+di, j+dj), (di,dj) = (0,1), (1,0),
  // (1,1), (-1,1). Outside the image the neighbour is 0, so those products are 0 (or NaN) and
  // add nothing; only the total count includes them.
  SignedSums s[5];
  for (int y = 0; y < rows; ++y) {
    const float* d = mscn.ptr<float>(y);
    s[0].merge(signed_sums(d, nullptr, cols));
    s[1].merge(signed_sums(d, d + 1, cols - 1));
    if (y + 1 < rows) {
      const float* below = mscn.ptr<float>(y + 1);
      s[2].merge(signed_sums(d, below, cols));
      s[3].merge(signed_sums(d, below + 1, cols - 1));
    }
    if (y > 0) s[4].merge(signed_sums(d, mscn.ptr<float>(y - 1) + 1, cols - 1));
  }
  const long total = long(rows) * cols;
  AggdFit f = aggd_fit_opencv(s[0], total);
  out[0] = float(f.gamma);
  out[1] = float(f.lsigma * f.lsigma + f.rsigma * f.rsigma) / 2;
  for (int k = 0; k < 4; ++k) {
    f = aggd_fit_opencv(s[k + 1], total);
    double constant = std::sqrt(std::tgamma(1 / f.gamma)) / std::sqrt(std::tgamma(3 / f.gamma));
    double meanparam = (f.rsigma - f.lsigma) * (std::tgamma(2 / f.gamma) / std::tgamma(1 / f.gamma)) * constant;
    out[2 + 4 * k] = float(f.gamma);
    out[3 + 4 * k] = float(meanparam);
    out[4 + 4 * k] = float(std::pow(f.lsigma, 2));
    out[5 + 4 * k] = float(std::pow(f.rsigma, 2));
  }
}

// ---- original (MATLAB) variant -------------------------------------------------------------

size_t argmin_abs(const std::vector<double>& table, double target, bool squared) {
  size_t best = 0;
  double best_d = INFINITY;
  for (size_t k = 0; k < table.size(); ++k) {
    double d = squared ? (table[k] - target) * (table[k] - target) : std::abs(target - table[k]);
    if (d < best_d) {  // first minimum, as MATLAB's min()
      best_d = d;
      best = k;
    }
  }
  return best;
}

// The release's MSCN: mu = filter2(window, img, 'same') (correlation, zero padding) with
// window = fspecial('gaussian', 7, 7/6) normalised, sigma the same filter of img.^2 minus mu^2,
// mscn = (img - mu) / (sqrt(|sigma|) + 1). img - mu is accumulated as sum(w * (img_c - img_n))
// (+ img_c times the window mass outside the image): equal to it, but exactly 0 in flat regions,
// as MATLAB's filter2 returns the grey level itself there. The AGGD fits count signs, and the
// tiny residues a plain weighted sum leaves there change the scores by up to ~0.1.
void mscn_original(const cv::Mat& img, cv::Mat& mscn) {
  static const std::array<double, 49> window = [] {
    std::array<double, 49> w{};
    const double sigma = 7. / 6.;
    double sum = 0;
    for (int y = 0; y < 7; ++y)
      for (int x = 0; x < 7; ++x) sum += w[y * 7 + x] = std::exp(-double((x - 3) * (x - 3) + (y - 3) * (y - 3)) / (2 * sigma * sigma));
    for (double& v : w) v /= sum;
    return w;
  }();
  const int rows = img.rows, cols = img.cols;
  mscn.create(rows, cols, CV_64F);
  for (int y = 0; y < rows; ++y) {
    const double* ip = img.ptr<double>(y);
    double* o = mscn.ptr<double>(y);
    for (int x = 0; x < cols; ++x) {
      const double c = ip[x];
      double mu = 0, sq = 0, diff = 0, outside = 0;
      for (int ky = 0; ky < 7; ++ky) {
        int yy = y + ky - 3;
        const double* src = yy >= 0 && yy < rows ? img.ptr<double>(yy) : nullptr;
        for (int kx = 0; kx < 7; ++kx) {
          int xx = x + kx - 3;
          double w = window[size_t(ky * 7 + kx)];
          if (!src || xx < 0 || xx >= cols) {
            outside += w;
            continue;
          }
          double n = src[xx];
          mu += w * n;
          sq += w * (n * n);
          diff += w * (c - n);
        }
      }
      o[x] = (diff + c * outside) / (std::sqrt(std::abs(sq - mu * mu)) + 1);
    }
  }
}

void original_scale(const cv::Mat& img, double* out) {
  const MatlabGrid& g = matlab_grid();
  const int rows = img.rows, cols = img.cols;
  const double n = double(rows) * cols;
  cv::Mat mscn;
  mscn_original(img, mscn);
  double sq = 0, ab = 0;
  for (int y = 0; y < rows; ++y) {
    const double* dp = mscn.ptr<double>(y);
    for (int x = 0; x < cols; ++x) {
      sq += dp[x] * dp[x];
      ab += std::abs(dp[x]);
    }
  }
  // estimateggdparam
  double sigma_sq = sq / n, e = ab / n;
  out[0] = g.gam[argmin_abs(g.r_ggd, sigma_sq / (e * e), false)];
  out[1] = sigma_sq;
  // circshift(A, [di dj]) pairs A(i,j) with A(i-di, j-dj) (wrapping around).
  const int shifts[4][2] = {{0, 1}, {1, 0}, {1, 1}, {-1, 1}};
  for (int k = 0; k < 4; ++k) {
    double neg_sq = 0, pos_sq = 0, abs_sum = 0, all_sq = 0;
    long neg_n = 0, pos_n = 0;
    for (int y = 0; y < rows; ++y) {
      const double* a = mscn.ptr<double>(y);
      const double* b = mscn.ptr<double>(((y - shifts[k][0]) % rows + rows) % rows);
      for (int x = 0; x < cols; ++x) {
        int xs = x - shifts[k][1];
        if (xs < 0) xs += cols;
        double v = a[x] * b[xs];
        if (v < 0) {
          neg_sq += v * v;
          ++neg_n;
        } else if (v > 0) {
          pos_sq += v * v;
          ++pos_n;
        }
        abs_sum += std::abs(v);
        all_sq += v * v;
      }
    }
    double leftstd = std::sqrt(neg_sq / double(neg_n));
    double rightstd = std::sqrt(pos_sq / double(pos_n));
    double gammahat = leftstd / rightstd;
    double rhat = (abs_sum / n) * (abs_sum / n) / (all_sq / n);
    double rhatnorm = (rhat * (gammahat * gammahat * gammahat + 1) * (gammahat + 1)) / ((gammahat * gammahat + 1) * (gammahat * gammahat + 1));
    double alpha = g.gam[argmin_abs(g.r_aggd, rhatnorm, true)];
    double constant = std::sqrt(std::tgamma(1 / alpha)) / std::sqrt(std::tgamma(3 / alpha));
    double meanparam = (rightstd - leftstd) * (std::tgamma(2 / alpha) / std::tgamma(1 / alpha)) * constant;
    out[2 + 4 * k] = alpha;
    out[3 + 4 * k] = meanparam;
    out[4 + 4 * k] = leftstd * leftstd;
    out[5 + 4 * k] = rightstd * rightstd;
  }
}

}  // namespace

void check_size(const cv::Mat& img) {
  if (img.rows < kMinSide || img.cols < kMinSide)
    fail(ErrorCode::Input, "BRISQUE needs an image of at least " + std::to_string(kMinSide) + "x" + std::to_string(kMinSide) + " pixels (got " +
                               std::to_string(img.cols) + "x" + std::to_string(img.rows) + ")");
}

cv::Mat gray_original(const cv::Mat& img) { return to_float(rgb2gray_matlab(img), 255.0, CV_64F); }

cv::Mat gray_opencv(const cv::Mat& img) {
  cv::Mat gray;
  if (img.depth() == CV_8U) {
    // QualityBRISQUE: cvtColor on the 8-bit image, then convertTo(CV_32F, 1/255). Both live in
    // the thread's workspace (no page faults per call), so the result is valid until this
    // thread's next call.
    Workspace& ws = workspace();
    if (img.channels() == 1) {
      img.convertTo(ws.gray32, CV_32F, 1. / 255.);
    } else {
      cv::cvtColor(img, ws.gray8, img.channels() == 4 ? cv::COLOR_BGRA2GRAY : cv::COLOR_BGR2GRAY);
      ws.gray8.convertTo(ws.gray32, CV_32F, 1. / 255.);
    }
    gray = ws.gray32;
  } else {
    // Its code divides by 255 whatever the depth; we keep its formula on a [0,1] float image.
    gray = rgb2gray_opencv(to_float(img, 1.0, CV_32F));
  }
  return gray;
}

std::array<double, kFeatureCount> features_original(const cv::Mat& gray255) {
  check_size(gray255);
  std::array<double, kFeatureCount> f{};
  cv::Mat img = gray255;
  original_scale(img, f.data());
  original_scale(imresize_matlab(img, 0.5), f.data() + 18);
  return f;
}

std::array<float, kFeatureCount> features_opencv(const cv::Mat& gray01) {
  check_size(gray01);
  std::array<float, kFeatureCount> f{};
  opencv_scale(gray01, 0, f.data());
  Workspace& ws = workspace();
  cv::resize(gray01, ws.half, cv::Size(gray01.cols / 2, gray01.rows / 2), 0, 0, cv::INTER_CUBIC);
  opencv_scale(ws.half, 1, f.data() + 18);
  if (gray01.total() > kKeepPixels) ws = Workspace();
  return f;
}

}  // namespace iqa::brisque
