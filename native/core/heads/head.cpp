#include "heads/head.h"

#include <cmath>

#include <onnxruntime_c_api.h>

#include "common/error.h"
#include "heads/hyperiqa_target.h"
#include "heads/svr_head.h"

namespace iqa {

namespace {

std::string dims_text(const std::vector<int64_t>& d) {
  std::string s = "[";
  for (size_t i = 0; i < d.size(); ++i) s += (i ? ", " : "") + (d[i] < 0 ? std::string("?") : std::to_string(d[i]));
  return s + "]";
}

// Output `name` is float32 [batch] or [batch, 1]: one value per sample.
void expect_scalar_output(const std::vector<ort::TensorInfo>& outs, const std::string& name, const char* head) {
  for (const auto& t : outs)
    if (t.name == name && (t.shape.size() > 2 || (t.shape.size() == 2 && t.shape[1] != 1 && t.shape[1] >= 0)))
      fail(ErrorCode::Model, "output '" + t.name + "' has shape " + dims_text(t.shape) + ", the " + head + " head needs [batch] or [batch, 1]");
  expect_output(outs, name, {});
}

void copy_scalar(const ort::OutputView& o, size_t n, double* dst, const char* head) {
  size_t per = 1;
  for (size_t i = 1; i < o.shape.size(); ++i) per *= size_t(o.shape[i]);
  if (per != 1) fail(ErrorCode::Model, std::string(head) + " head: output has " + std::to_string(per) + " values per sample");
  for (size_t s = 0; s < n; ++s) dst[s] = o.data[s];
}

// One score per sample from an output [N] or [N, 1].
class ScalarHead : public Head {
 public:
  explicit ScalarHead(const HeadSpec& spec) {
    if (spec.outputs.size() != 1) fail(ErrorCode::Model, "scalar head reads exactly one output");
    outputs_ = spec.outputs;
  }
  void validate(const std::vector<ort::TensorInfo>& outs) const override { expect_scalar_output(outs, outputs_[0], "scalar"); }
  void compute(const std::vector<ort::OutputView>& outs, size_t n, double* scores) const override { copy_scalar(outs[0], n, scores, "scalar"); }
};

// A Gaussian per sample (VAE-style regressors: GraphIQA's HyperPred): outputs mean and scale,
// each [N] or [N, 1]. The score is the mean; the scale is the spread the sampling mode draws with.
class GaussianHead : public Head {
 public:
  explicit GaussianHead(const HeadSpec& spec) {
    if (spec.outputs.size() != 2) fail(ErrorCode::Model, "gaussian head reads exactly two outputs: mean, scale");
    outputs_ = spec.outputs;
  }
  void validate(const std::vector<ort::TensorInfo>& outs) const override {
    for (const auto& name : outputs_) expect_scalar_output(outs, name, "gaussian");
  }
  void compute(const std::vector<ort::OutputView>& outs, size_t n, double* scores) const override { copy_scalar(outs[0], n, scores, "gaussian"); }
  bool has_spread() const override { return true; }
  void compute_spread(const std::vector<ort::OutputView>& outs, size_t n, double* spread) const override { copy_scalar(outs[1], n, spread, "gaussian"); }
};

// Mean of a distribution over score bins (NIMA: probabilities of 1..10).
class DistributionMeanHead : public Head {
 public:
  explicit DistributionMeanHead(const HeadSpec& spec) : bins_(spec.bins), softmax_(spec.softmax) {
    if (spec.outputs.size() != 1) fail(ErrorCode::Model, "distribution-mean head reads exactly one output");
    if (bins_.empty()) fail(ErrorCode::Model, "distribution-mean head needs bins (e.g. 1..10)");
    outputs_ = spec.outputs;
  }
  void validate(const std::vector<ort::TensorInfo>& outs) const override { expect_output(outs, outputs_[0], {int64_t(bins_.size())}); }
  void compute(const std::vector<ort::OutputView>& outs, size_t n, double* scores) const override {
    const size_t k = bins_.size();
    if (outs[0].shape.size() != 2 || size_t(outs[0].shape[1]) != k)
      fail(ErrorCode::Model, "distribution-mean head: output shape " + dims_text(outs[0].shape) + ", expected [batch, " + std::to_string(k) + "]");
    for (size_t s = 0; s < n; ++s) {
      const float* p = outs[0].data + s * k;
      double mx = p[0];
      for (size_t i = 1; i < k; ++i) mx = std::max(mx, double(p[i]));
      double sum = 0, acc = 0;
      for (size_t i = 0; i < k; ++i) {
        double w = softmax_ ? std::exp(double(p[i]) - mx) : double(p[i]);
        sum += w;
        acc += w * bins_[i];
      }
      scores[s] = sum > 0 ? acc / sum : std::nan("");
    }
  }

 private:
  std::vector<double> bins_;
  bool softmax_;
};

}  // namespace

void Head::compute_spread(const std::vector<ort::OutputView>&, size_t, double*) const { fail(ErrorCode::Model, "this head has no spread to sample from"); }

void expect_output(const std::vector<ort::TensorInfo>& outs, const std::string& name, const std::vector<int64_t>& dims) {
  for (const auto& t : outs) {
    if (t.name != name) continue;
    if (t.elem_type != ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT)
      fail(ErrorCode::Model, "output '" + name + "' is " + ort::elem_type_name(t.elem_type) + ", expected float32");
    if (dims.empty()) return;
    bool ok = t.shape.size() == dims.size() + 1;
    for (size_t i = 0; ok && i < dims.size(); ++i) ok = dims[i] < 0 || t.shape[i + 1] < 0 || t.shape[i + 1] == dims[i];
    if (!ok) {
      std::vector<int64_t> want = {-1};
      want.insert(want.end(), dims.begin(), dims.end());
      fail(ErrorCode::Model, "output '" + name + "' has shape " + dims_text(t.shape) + " but the head needs " + dims_text(want));
    }
    return;
  }
  std::string have;
  for (const auto& t : outs) have += (have.empty() ? "" : ", ") + t.name;
  fail(ErrorCode::Model, "the model has no output '" + name + "' (outputs: " + have + ")");
}

std::unique_ptr<Head> make_head(const HeadSpec& spec) {
  if (spec.type == "scalar") return std::make_unique<ScalarHead>(spec);
  if (spec.type == "distribution-mean") return std::make_unique<DistributionMeanHead>(spec);
  if (spec.type == "hyperiqa-target") return std::make_unique<HyperIqaTargetHead>(spec);
  if (spec.type == "svr") return std::make_unique<SvrHead>(spec);
  if (spec.type == "gaussian") return std::make_unique<GaussianHead>(spec);
  fail(ErrorCode::Model, "unknown head type '" + spec.type + "' (scalar, distribution-mean, hyperiqa-target, svr, gaussian)");
}

}  // namespace iqa
