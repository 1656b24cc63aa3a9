#include "heads/svr_head.h"

#include <cmath>
#include <string>

#include "common/error.h"

namespace iqa {

SvrHead::SvrHead(const HeadSpec& spec) : features_(spec.sizes.size() == 1 ? int(spec.sizes[0]) : 0) {
  if (spec.outputs.size() != 1) fail(ErrorCode::Model, "svr head reads exactly one output");
  if (features_ < 1) fail(ErrorCode::Model, "svr head needs the feature count (head.svr.features)");
  if (spec.svr_model.empty()) fail(ErrorCode::Model, "svr head needs a libsvm model file (head.svr.model)");
  outputs_ = spec.outputs;
  if (spec.scaler_mean.size() != spec.scaler_scale.size() || (!spec.scaler_mean.empty() && spec.scaler_mean.size() != size_t(features_)))
    fail(ErrorCode::Model, "svr head: the scaler has " + std::to_string(spec.scaler_mean.size()) + " means and " + std::to_string(spec.scaler_scale.size()) +
                               " scales for " + std::to_string(features_) + " features");
  for (size_t i = 0; i < spec.scaler_scale.size(); ++i) {
    if (!std::isfinite(spec.scaler_mean[i]) || !std::isfinite(spec.scaler_scale[i]) || spec.scaler_scale[i] == 0)
      fail(ErrorCode::Model, "svr head: scaler entry " + std::to_string(i) + " is not a finite mean and a finite non-zero scale");
    mean_.push_back(spec.scaler_mean[i]);
    inv_scale_.push_back(1.0 / spec.scaler_scale[i]);
  }
  svr_ = brisque::SvrModel::load(spec.svr_model, features_);
}

void SvrHead::validate(const std::vector<ort::TensorInfo>& outs) const { expect_output(outs, outputs_[0], {int64_t(features_)}); }

void SvrHead::compute(const std::vector<ort::OutputView>& outs, size_t n, double* scores) const {
  size_t per = 1;
  for (size_t i = 1; i < outs[0].shape.size(); ++i) per *= size_t(outs[0].shape[i]);
  if (per != size_t(features_)) fail(ErrorCode::Model, "svr head: output has " + std::to_string(per) + " values per sample, the SVR takes " + std::to_string(features_));
  std::vector<double> x(static_cast<size_t>(features_));
  for (size_t s = 0; s < n; ++s) {
    const float* f = outs[0].data + s * per;
    for (int i = 0; i < features_; ++i) x[size_t(i)] = mean_.empty() ? double(f[i]) : (double(f[i]) - mean_[size_t(i)]) * inv_scale_[size_t(i)];
    scores[s] = svr_->predict(x.data());
  }
}

}  // namespace iqa
