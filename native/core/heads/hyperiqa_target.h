// HyperIQA's target network (Su et al., CVPR 2020), batched: per sample, five fully connected
// layers whose weights and biases the hyper network produced for that sample
// (target_in -> f1 -> f2 -> f3 -> f4 -> 1, sigmoid after the first four).
// Each weight is used once per sample, so this is memory-bound mat-vec work: plain loops over
// contiguous rows (a GEMM would not reuse anything). Accumulates in double.
#pragma once
#include "heads/head.h"

namespace iqa {

class HyperIqaTargetHead : public Head {
 public:
  explicit HyperIqaTargetHead(const HeadSpec& spec);
  void validate(const std::vector<ort::TensorInfo>& session_outputs) const override;
  void compute(const std::vector<ort::OutputView>& outs, size_t n, double* scores) const override;

  // One sample: x[sizes[0]], w[k] is [sizes[k+1] x sizes[k]] row-major, b[k] is [sizes[k+1]].
  static double forward(const std::vector<int64_t>& sizes, const float* x, const float* const* w, const float* const* b);

 private:
  std::vector<int64_t> sizes_;
};

}  // namespace iqa
