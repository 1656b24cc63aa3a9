#include "image/highpass.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <opencv2/imgproc.hpp>

#include "common/error.h"

namespace iqa {

namespace {

constexpr int kTableSize = 1 << 10;

// TF's InitCoeffsTable(a = -0.5): [i * 2] the weight at distance x = i / 1024, [i * 2 + 1] at 1 + x.
const std::vector<float>& keys_table() {
  static const std::vector<float> table = [] {
    const double a = -0.5;
    std::vector<float> t(size_t(kTableSize + 1) * 2);
    for (int i = 0; i <= kTableSize; ++i) {
      float x = float(i * 1.0 / kTableSize);
      t[size_t(i) * 2] = float(((a + 2) * x - (a + 3)) * x * x + 1);
      x += 1.0f;
      t[size_t(i) * 2 + 1] = float(((a * x - 5 * a) * x + 8 * a) * x - 4 * a);
    }
    return t;
  }();
  return table;
}

struct Taps {
  int index[4];
  float weight[4];
};

std::vector<Taps> bicubic_taps(int in, int out) {
  const float scale = float(in) / float(out);
  const std::vector<float>& t = keys_table();
  std::vector<Taps> taps(static_cast<size_t>(out));
  for (int x = 0; x < out; ++x) {
    const float f = (float(x) + 0.5f) * scale - 0.5f;
    const int64_t loc = int64_t(std::floor(f));
    const float delta = f - float(loc);
    const int64_t off = std::lrint(delta * kTableSize);
    const float w[4] = {t[size_t(off) * 2 + 1], t[size_t(off) * 2], t[size_t(kTableSize - off) * 2], t[size_t(kTableSize - off) * 2 + 1]};
    Taps& k = taps[size_t(x)];
    float sum = 0;
    for (int j = 0; j < 4; ++j) {
      const int64_t want = loc - 1 + j;
      k.index[j] = int(std::clamp<int64_t>(want, 0, in - 1));
      k.weight[j] = k.index[j] == want ? w[j] : 0.0f;
      sum += k.weight[j];
    }
    if (std::fabs(sum) >= 1000.0f * std::numeric_limits<float>::min())
      for (float& v : k.weight) v *= 1.0f / sum;
  }
  return taps;
}

}  // namespace

cv::Mat tf_bicubic_resize(const cv::Mat& img, cv::Size size) {
  cv::Mat src;
  img.convertTo(src, CV_32F);
  const int cn = src.channels(), h = size.height, w = size.width;
  const std::vector<Taps> ys = bicubic_taps(src.rows, h), xs = bicubic_taps(src.cols, w);
  cv::Mat out(h, w, CV_32FC(cn));
  for (int y = 0; y < h; ++y) {
    const Taps& ty = ys[size_t(y)];
    const float* r[4];
    for (int j = 0; j < 4; ++j) r[j] = src.ptr<float>(ty.index[j]);
    float* d = out.ptr<float>(y);
    for (int x = 0; x < w; ++x) {
      const Taps& tx = xs[size_t(x)];
      for (int c = 0; c < cn; ++c) {
        // Each of the 4 columns down the rows first, then across (TF's order).
        float col[4];
        for (int i = 0; i < 4; ++i) {
          const size_t at = size_t(tx.index[i]) * cn + c;
          col[i] = ty.weight[0] * r[0][at] + ty.weight[1] * r[1][at] + ty.weight[2] * r[2][at] + ty.weight[3] * r[3][at];
        }
        d[x * cn + c] = tx.weight[0] * col[0] + tx.weight[1] * col[1] + tx.weight[2] * col[2] + tx.weight[3] * col[3];
      }
    }
  }
  return out;
}

cv::Mat highpass_normalize(const cv::Mat& grey, const HighpassSpec& spec) {
  if (grey.channels() != 1) fail(ErrorCode::Input, "high-pass normalisation takes a grey image, got " + std::to_string(grey.channels()) + " channels");
  if (spec.ksize < 1 || !(spec.sigma > 0) || spec.factor < 1) fail(ErrorCode::Model, "high-pass: ksize and factor must be positive, sigma above 0");
  const cv::Mat x = to_float(grey, 255.0, CV_32F);
  // 1-D taps; the 2-D kernel is their outer product, and normalising each factor normalises it.
  const double centre = std::nearbyint(spec.ksize / 2.0);  // round half to even, as tf.round
  cv::Mat k(spec.ksize, 1, CV_32F);
  double total = 0;
  for (int i = 0; i < spec.ksize; ++i) total += std::exp(-(i - centre) * (i - centre) / (2 * spec.sigma * spec.sigma));
  for (int i = 0; i < spec.ksize; ++i) k.at<float>(i) = float(std::exp(-(i - centre) * (i - centre) / (2 * spec.sigma * spec.sigma)) / total);
  const int before = (spec.ksize - 1) / 2;  // TF SAME: the odd padding pixel goes after
  cv::Mat low;
  cv::sepFilter2D(x, low, CV_32F, k, k, cv::Point(before, before), 0, cv::BORDER_CONSTANT);
  const float inv = float(1.0 / spec.factor);
  const cv::Size small(int(std::ceil(float(x.cols) * inv)), int(std::ceil(float(x.rows) * inv)));
  low = resize_image(resize_image(low, small, spec.interp), x.size(), spec.interp);
  cv::Mat out = x - low;
  return out * (1.0 / 255.0);
}

}  // namespace iqa
