#include "image/pil_resize.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "common/error.h"

namespace iqa {

namespace {

constexpr double kPi = 3.14159265358979323846;

double box(double x) { return x > -0.5 && x <= 0.5 ? 1.0 : 0.0; }
double bilinear(double x) {
  x = std::fabs(x);
  return x < 1.0 ? 1.0 - x : 0.0;
}
double hamming(double x) {
  x = std::fabs(x);
  if (x == 0.0) return 1.0;
  if (x >= 1.0) return 0.0;
  x *= kPi;
  // Pillow writes the window's constants as float literals (0.54f, 0.46f).
  return std::sin(x) / x * (0.54f + 0.46f * std::cos(x));
}
double bicubic(double x) {
  const double a = -0.5;  // Keys' cubic convolution, as Pillow
  x = std::fabs(x);
  if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
  if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
  return 0.0;
}
double sinc(double x) {
  if (x == 0.0) return 1.0;
  x *= kPi;
  return std::sin(x) / x;
}
double lanczos(double x) { return -3.0 <= x && x < 3.0 ? sinc(x) * sinc(x / 3) : 0.0; }

struct Filter {
  double (*fn)(double);
  double support;
};

Filter filter_of(PilFilter f) {
  switch (f) {
    case PilFilter::Nearest:
    case PilFilter::Box: return {box, 0.5};
    case PilFilter::Bilinear: return {bilinear, 1.0};
    case PilFilter::Hamming: return {hamming, 1.0};
    case PilFilter::Bicubic: return {bicubic, 2.0};
    case PilFilter::Lanczos: return {lanczos, 3.0};
  }
  return {bilinear, 1.0};
}

// Per output sample: the first input index, the tap count and the normalised weights.
struct Coeffs {
  int ksize = 0;
  std::vector<int> first, count;
  std::vector<double> weight;  // out * ksize
};

Coeffs coefficients(int in_size, int out_size, const Filter& f) {
  Coeffs c;
  const double scale = double(in_size) / out_size;
  const double filterscale = scale < 1.0 ? 1.0 : scale;
  const double support = f.support * filterscale;
  c.ksize = int(std::ceil(support)) * 2 + 1;
  c.first.resize(out_size);
  c.count.resize(out_size);
  c.weight.assign(size_t(out_size) * c.ksize, 0.0);
  const double ss = 1.0 / filterscale;
  for (int o = 0; o < out_size; ++o) {
    const double center = (o + 0.5) * scale;
    int lo = int(center - support + 0.5);  // truncation toward zero, as Pillow's (int) cast
    if (lo < 0) lo = 0;
    int hi = int(center + support + 0.5);
    if (hi > in_size) hi = in_size;
    const int n = hi - lo;
    double* w = &c.weight[size_t(o) * c.ksize];
    double sum = 0.0;
    for (int k = 0; k < n; ++k) {
      w[k] = f.fn((k + lo - center + 0.5) * ss);
      sum += w[k];
    }
    if (sum != 0.0)
      for (int k = 0; k < n; ++k) w[k] /= sum;
    c.first[o] = lo;
    c.count[o] = n;
  }
  return c;
}

constexpr int kPrecisionBits = 32 - 8 - 2;

std::vector<int32_t> fixed_point(const std::vector<double>& w) {
  std::vector<int32_t> out(w.size());
  for (size_t i = 0; i < w.size(); ++i)
    out[i] = w[i] < 0 ? int32_t(-0.5 + w[i] * (1 << kPrecisionBits)) : int32_t(0.5 + w[i] * (1 << kPrecisionBits));
  return out;
}

inline uint8_t clip8(int32_t v) {
  const int32_t s = v >> kPrecisionBits;  // arithmetic shift: negative sums clip to 0
  return uint8_t(s < 0 ? 0 : s > 255 ? 255 : s);
}

// One pass along rows (horizontal) or columns (vertical) of a CV_8U image with cn channels.
cv::Mat pass_8u(const cv::Mat& src, const Coeffs& c, bool horizontal) {
  const int cn = src.channels();
  const std::vector<int32_t> k = fixed_point(c.weight);
  const int out = int(c.first.size());
  cv::Mat dst = horizontal ? cv::Mat(src.rows, out, src.type()) : cv::Mat(out, src.cols, src.type());
  for (int y = 0; y < dst.rows; ++y) {
    uint8_t* d = dst.ptr<uint8_t>(y);
    for (int x = 0; x < dst.cols; ++x) {
      const int o = horizontal ? x : y;
      const int32_t* w = &k[size_t(o) * c.ksize];
      for (int ch = 0; ch < cn; ++ch) {
        int32_t acc = 1 << (kPrecisionBits - 1);
        if (horizontal) {
          const uint8_t* s = src.ptr<uint8_t>(y) + size_t(c.first[o]) * cn + ch;
          for (int t = 0; t < c.count[o]; ++t) acc += int32_t(s[size_t(t) * cn]) * w[t];
        } else {
          for (int t = 0; t < c.count[o]; ++t) acc += int32_t(src.ptr<uint8_t>(c.first[o] + t)[size_t(x) * cn + ch]) * w[t];
        }
        d[size_t(x) * cn + ch] = clip8(acc);
      }
    }
  }
  return dst;
}

// The same in double for other depths (Pillow's 32-bit modes); the type is kept.
cv::Mat pass_double(const cv::Mat& src, const Coeffs& c, bool horizontal) {
  cv::Mat s64;
  src.convertTo(s64, CV_MAKETYPE(CV_64F, src.channels()));
  const int cn = src.channels();
  const int out = int(c.first.size());
  cv::Mat dst = horizontal ? cv::Mat(src.rows, out, s64.type()) : cv::Mat(out, src.cols, s64.type());
  for (int y = 0; y < dst.rows; ++y) {
    double* d = dst.ptr<double>(y);
    for (int x = 0; x < dst.cols; ++x) {
      const int o = horizontal ? x : y;
      const double* w = &c.weight[size_t(o) * c.ksize];
      for (int ch = 0; ch < cn; ++ch) {
        double acc = 0.0;
        for (int t = 0; t < c.count[o]; ++t)
          acc += (horizontal ? s64.ptr<double>(y)[size_t(c.first[o] + t) * cn + ch] : s64.ptr<double>(c.first[o] + t)[size_t(x) * cn + ch]) * w[t];
        d[size_t(x) * cn + ch] = acc;
      }
    }
  }
  cv::Mat back;
  dst.convertTo(back, src.type());
  return back;
}

}  // namespace

// Pillow's NEAREST: an affine scale (ImagingScaleAffine) whose source position starts at half a
// step and is accumulated step by step in double, truncated (what Keras' load_img resizes with).
cv::Mat pil_nearest(const cv::Mat& img, cv::Size size) {
  if (size == img.size()) return img.clone();
  const double ax = double(img.cols) / size.width, ay = double(img.rows) / size.height;
  std::vector<int> xs(size_t(size.width));
  double xo = ax * 0.5;
  for (int x = 0; x < size.width; ++x, xo += ax) xs[size_t(x)] = std::min(int(xo), img.cols - 1);
  cv::Mat out(size, img.type());
  const size_t px = img.elemSize();
  double yo = ay * 0.5;
  for (int y = 0; y < size.height; ++y, yo += ay) {
    const uint8_t* src = img.ptr<uint8_t>(std::min(int(yo), img.rows - 1));
    uint8_t* dst = out.ptr<uint8_t>(y);
    for (int x = 0; x < size.width; ++x) std::memcpy(dst + size_t(x) * px, src + size_t(xs[size_t(x)]) * px, px);
  }
  return out;
}

cv::Mat pil_resize(const cv::Mat& img, cv::Size size, PilFilter filter) {
  if (img.empty()) fail(ErrorCode::Input, "empty image");
  if (size.width <= 0 || size.height <= 0) fail(ErrorCode::Input, "resize target must be positive");
  if (filter == PilFilter::Nearest) return pil_nearest(img, size);
  const Filter f = filter_of(filter);
  const bool u8 = img.depth() == CV_8U;
  cv::Mat m = img;
  // Pillow skips a pass whose size does not change (it would not be the identity for every filter).
  if (size.width != m.cols) m = u8 ? pass_8u(m, coefficients(m.cols, size.width, f), true) : pass_double(m, coefficients(m.cols, size.width, f), true);
  if (size.height != m.rows) m = u8 ? pass_8u(m, coefficients(m.rows, size.height, f), false) : pass_double(m, coefficients(m.rows, size.height, f), false);
  return m.data == img.data ? img.clone() : m;
}

}  // namespace iqa
