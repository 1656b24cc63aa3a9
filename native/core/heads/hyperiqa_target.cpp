#include "heads/hyperiqa_target.h"

#include <cmath>

#include "common/error.h"

namespace iqa {

HyperIqaTargetHead::HyperIqaTargetHead(const HeadSpec& spec) : sizes_(spec.sizes) {
  if (sizes_.size() != 6 || sizes_.back() != 1)
    fail(ErrorCode::Model, "hyperiqa-target head needs sizes [target_in, f1, f2, f3, f4, 1]");
  for (int64_t s : sizes_)
    if (s <= 0) fail(ErrorCode::Model, "hyperiqa-target sizes must be positive");
  outputs_ = spec.outputs;
  if (outputs_.empty()) outputs_ = {"target_in_vec", "fc1w", "fc1b", "fc2w", "fc2b", "fc3w", "fc3b", "fc4w", "fc4b", "fc5w", "fc5b"};
  if (outputs_.size() != 11) fail(ErrorCode::Model, "hyperiqa-target head reads 11 outputs (target_in_vec, fc1w, fc1b, ..., fc5b)");
}

void HyperIqaTargetHead::validate(const std::vector<ort::TensorInfo>& outs) const {
  expect_output(outs, outputs_[0], {sizes_[0]});
  for (int k = 0; k < 5; ++k) {
    expect_output(outs, outputs_[1 + 2 * k], {sizes_[k + 1], sizes_[k]});
    expect_output(outs, outputs_[2 + 2 * k], {sizes_[k + 1]});
  }
}

double HyperIqaTargetHead::forward(const std::vector<int64_t>& sizes, const float* x, const float* const* w, const float* const* b) {
  // Widest layer is the input; two ping-pong buffers hold the activations.
  double a[2][1024];
  double* cur = a[0];
  double* next = a[1];
  std::vector<double> big;
  if (sizes[0] > 1024) {
    big.resize(size_t(sizes[0]) * 2);
    cur = big.data();
    next = big.data() + sizes[0];
  }
  for (int64_t i = 0; i < sizes[0]; ++i) cur[i] = x[i];
  for (int k = 0; k < 5; ++k) {
    const int64_t in = sizes[k], out = sizes[k + 1];
    const float* W = w[k];
    for (int64_t o = 0; o < out; ++o) {
      const float* row = W + o * in;
      double acc = 0;
      for (int64_t i = 0; i < in; ++i) acc += double(row[i]) * cur[i];
      acc += b[k][o];
      next[o] = k < 4 ? 1.0 / (1.0 + std::exp(-acc)) : acc;
    }
    std::swap(cur, next);
  }
  return cur[0];
}

void HyperIqaTargetHead::compute(const std::vector<ort::OutputView>& outs, size_t n, double* scores) const {
  const float* w[5];
  const float* b[5];
  const size_t xs = size_t(sizes_[0]);
  for (size_t s = 0; s < n; ++s) {
    for (int k = 0; k < 5; ++k) {
      w[k] = outs[1 + 2 * k].data + s * size_t(sizes_[k + 1] * sizes_[k]);
      b[k] = outs[2 + 2 * k].data + s * size_t(sizes_[k + 1]);
    }
    scores[s] = forward(sizes_, outs[0].data + s * xs, w, b);
  }
}

}  // namespace iqa
