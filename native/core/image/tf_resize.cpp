#include "image/tf_resize.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "image/convert.h"

namespace iqa {

namespace {

struct Spans {
  int size = 0;                 // taps per output pixel (some weights 0 near the borders)
  std::vector<int> starts;      // first input pixel of each output pixel
  std::vector<float> weights;   // [out][size]
};

// TF's ComputeSpansCore for the Gaussian kernel, scale = out / in, no translation.
Spans spans(int in, int out) {
  const float scale = float(out) / float(in);
  const float inv_scale = 1.0f / scale;
  const float kernel_scale = std::max(inv_scale, 1.0f);
  const float radius = 1.5f, sigma = 0.5f;  // TF GaussianKernelFunc: radius 1.5, sigma = radius / 3
  Spans s;
  s.size = std::min(2 * int(std::ceil(radius * kernel_scale)) + 1, in);
  s.starts.assign(size_t(out), 0);
  s.weights.assign(size_t(out) * s.size, 0.0f);
  const float one_over_kernel_scale = 1.0f / kernel_scale;
  for (int x = 0; x < out; ++x) {
    const float sample = (float(x) + 0.5f) * inv_scale;
    if (sample < 0 || sample > float(in)) continue;  // outside the source: an empty span
    int start = int(std::ceil(sample - radius * kernel_scale - 0.5f));
    int end = int(std::floor(sample + radius * kernel_scale - 0.5f));
    start = std::clamp(start, 0, in - 1);
    end = std::clamp(end, 0, in - 1) + 1;
    float* w = s.weights.data() + size_t(x) * s.size;
    float total = 0.0f;
    for (int src = start; src < end; ++src) {
      const float d = std::fabs((float(src) + 0.5f - sample) * one_over_kernel_scale);
      const float v = d < radius ? std::exp(-d * d / (2.0f * sigma * sigma)) : 0.0f;
      w[src - start] = v;
      total += v;
    }
    if (std::fabs(total) >= 1000.0f * std::numeric_limits<float>::min())
      for (int k = 0; k < end - start; ++k) w[k] /= total;
    s.starts[size_t(x)] = start;
  }
  return s;
}

}  // namespace

cv::Mat tf_gaussian_resize(const cv::Mat& img, cv::Size size) {
  cv::Mat src = img.depth() == CV_32F && full_scale(img) == 1.0 ? img : to_float(img, 1.0, CV_32F);
  if (!src.isContinuous()) src = src.clone();
  const int cn = src.channels(), H = src.rows, W = src.cols, h = size.height, w = size.width;
  const Spans rows = spans(H, h), cols = spans(W, w);
  // Rows first: [h, W], then columns: [h, w].
  cv::Mat mid(h, W, CV_32FC(cn), cv::Scalar::all(0)), out(h, w, CV_32FC(cn), cv::Scalar::all(0));
  for (int y = 0; y < h; ++y) {
    float* dst = mid.ptr<float>(y);
    const float* k = rows.weights.data() + size_t(y) * rows.size;
    for (int t = 0; t < rows.size && rows.starts[size_t(y)] + t < H; ++t) {
      if (k[t] == 0.0f) continue;
      const float* s = src.ptr<float>(rows.starts[size_t(y)] + t);
      for (int i = 0; i < W * cn; ++i) dst[i] += k[t] * s[i];
    }
  }
  for (int y = 0; y < h; ++y) {
    const float* s = mid.ptr<float>(y);
    float* dst = out.ptr<float>(y);
    for (int x = 0; x < w; ++x) {
      const float* k = cols.weights.data() + size_t(x) * cols.size;
      const int start = cols.starts[size_t(x)];
      for (int t = 0; t < cols.size && start + t < W; ++t)
        for (int c = 0; c < cn; ++c) dst[x * cn + c] += k[t] * s[(start + t) * cn + c];
    }
  }
  return out;
}

}  // namespace iqa
