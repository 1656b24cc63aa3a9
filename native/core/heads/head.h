// Model heads: turn a batch of raw model outputs into one score per sample (per crop).
// A head names the outputs it reads and checks their shapes against the session at load.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "ort/session.h"

namespace iqa {

struct HeadSpec {
  std::string type;                  // "scalar" | "distribution-mean" | "hyperiqa-target" | "svr" | "gaussian"
  std::vector<std::string> outputs;  // output names the head reads, in its order
  std::vector<int64_t> sizes;        // hyperiqa-target: target_in, f1, f2, f3, f4, 1; svr: feature count
  std::vector<double> bins;          // distribution-mean: value of each class (NIMA: 1..10)
  bool softmax = false;              // distribution-mean: outputs are logits
  std::string svr_model;             // svr: libsvm text model file
  std::vector<double> scaler_mean, scaler_scale;  // svr: (x - mean) / scale per feature (empty: none)
};

class Head {
 public:
  virtual ~Head() = default;
  const std::vector<std::string>& outputs() const { return outputs_; }
  // Checks the session's outputs (names, element types, non-batch dims); ERR_MODEL naming the mismatch.
  virtual void validate(const std::vector<ort::TensorInfo>& session_outputs) const = 0;
  // outs[i] is the batch of outputs()[i]; writes n scores.
  virtual void compute(const std::vector<ort::OutputView>& outs, size_t n, double* scores) const = 0;
  // Heads whose score is the mean of a distribution with a per-sample spread (gaussian: a mean and
  // a scale output) write each sample's scale here, for the model's seeded sampling mode.
  virtual bool has_spread() const { return false; }
  virtual void compute_spread(const std::vector<ort::OutputView>& outs, size_t n, double* spread) const;

 protected:
  std::vector<std::string> outputs_;
};

std::unique_ptr<Head> make_head(const HeadSpec& spec);

// Shared check: the session has an output `name` whose dims after the batch equal `dims` (-1: any).
void expect_output(const std::vector<ort::TensorInfo>& outs, const std::string& name, const std::vector<int64_t>& dims);

}  // namespace iqa
