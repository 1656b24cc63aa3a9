#include "video/video_model.h"

#include <cmath>

#include "common/error.h"

namespace iqa {

namespace {

constexpr int kFloat = 1;  // ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT

const ort::TensorInfo& find(const std::vector<ort::TensorInfo>& list, const std::string& name, const std::string& file, const char* what) {
  std::string names;
  for (const auto& t : list) {
    if (t.name == name) return t;
    names += (names.empty() ? "" : ", ") + t.name;
  }
  fail(ErrorCode::Model, file + ": no " + what + " '" + name + "' (it has: " + names + ")");
}

void expect_float(const ort::TensorInfo& t, const std::string& file) {
  if (t.elem_type != kFloat) fail(ErrorCode::Model, file + ": '" + t.name + "' is " + ort::elem_type_name(t.elem_type) + ", expected float32");
}

void expect_dim(const ort::TensorInfo& t, size_t rank, size_t axis, int64_t want, const std::string& file, const char* what) {
  if (t.shape.size() != rank) fail(ErrorCode::Model, file + ": '" + t.name + "' has rank " + std::to_string(t.shape.size()) + ", expected " + std::to_string(rank));
  if (want > 0 && t.shape[axis] > 0 && t.shape[axis] != want)
    fail(ErrorCode::Model, file + ": '" + t.name + "' has " + std::to_string(t.shape[axis]) + " " + what + ", the manifest says " + std::to_string(want));
}

}  // namespace

VideoModel::VideoModel(VideoModelSpec spec) : spec_(std::move(spec)) {
  if (spec_.feature_size <= 0 || spec_.state_size <= 0) fail(ErrorCode::Model, "feature and state sizes must be positive");
  if (spec_.batch < 1) fail(ErrorCode::Model, "frame batch must be positive");
  for (int c = 0; c < 3; ++c)
    if (!(spec_.stdev[c] > 0)) fail(ErrorCode::Model, "normalisation std must be positive");
  if (spec_.temporal_inputs.size() != 2 || spec_.temporal_outputs.size() != 2)
    fail(ErrorCode::Model, "the temporal graph takes (features, state) and gives (quality, state)");
  features_ = std::make_unique<ort::Session>(spec_.features_path, spec_.session);
  temporal_ = std::make_unique<ort::Session>(spec_.temporal_path, spec_.session);
  const std::string& ff = spec_.features_path;
  if (features_->inputs().size() != 1) fail(ErrorCode::Model, ff + ": a frame-feature graph takes one input");
  const auto& fin = find(features_->inputs(), spec_.features_input, ff, "input");
  expect_float(fin, ff);
  expect_dim(fin, 4, 1, 3, ff, "channels");
  const auto& fout = find(features_->outputs(), spec_.features_output, ff, "output");
  expect_float(fout, ff);
  expect_dim(fout, 2, 1, spec_.feature_size, ff, "features");
  const std::string& tf = spec_.temporal_path;
  if (temporal_->inputs().size() != 2) fail(ErrorCode::Model, tf + ": a temporal graph takes two inputs (features, state)");
  // Session::run feeds inputs in the graph's order: the manifest's names must be that order.
  if (temporal_->inputs()[0].name != spec_.temporal_inputs[0] || temporal_->inputs()[1].name != spec_.temporal_inputs[1])
    fail(ErrorCode::Model, tf + ": inputs are '" + temporal_->inputs()[0].name + "', '" + temporal_->inputs()[1].name + "'; the manifest says '" +
                               spec_.temporal_inputs[0] + "', '" + spec_.temporal_inputs[1] + "'");
  expect_float(temporal_->inputs()[0], tf);
  expect_dim(temporal_->inputs()[0], 3, 2, spec_.feature_size, tf, "features");
  expect_float(temporal_->inputs()[1], tf);
  expect_dim(temporal_->inputs()[1], 3, 2, spec_.state_size, tf, "state units");
  for (const auto& name : spec_.temporal_outputs) expect_float(find(temporal_->outputs(), name, tf, "output"), tf);
}

std::vector<float> VideoModel::features(const std::vector<cv::Mat>& frames) const {
  const int64_t D = spec_.feature_size;
  std::vector<float> rows;
  if (frames.empty()) return rows;
  rows.reserve(frames.size() * size_t(D));
  const int H = frames[0].rows, W = frames[0].cols;
  const size_t plane = size_t(H) * size_t(W);
  std::vector<float> input;
  for (size_t start = 0; start < frames.size(); start += size_t(spec_.batch)) {
    const size_t n = std::min(frames.size() - start, size_t(spec_.batch));
    input.assign(n * 3 * plane, 0.f);
    for (size_t i = 0; i < n; ++i) {
      const cv::Mat& f = frames[start + i];
      if (f.type() != CV_8UC3 || f.rows != H || f.cols != W) fail(ErrorCode::Input, "video frames must be BGR 8-bit of one size");
      float* dst = input.data() + i * 3 * plane;
      for (int c = 0; c < 3; ++c) {
        // BGR source: channel c of an RGB input is BGR channel 2 - c.
        const int src = spec_.rgb ? 2 - c : c;
        const float s = spec_.scale / spec_.stdev[c], b = -spec_.mean[c] / spec_.stdev[c];
        float* p = dst + size_t(c) * plane;
        for (int y = 0; y < H; ++y) {
          const uint8_t* row = f.ptr<uint8_t>(y);
          for (int x = 0; x < W; ++x) p[size_t(y) * W + x] = float(row[3 * x + src]) * s + b;
        }
      }
    }
    features_->run({ort::InputTensor{input.data(), kFloat, {int64_t(n), 3, H, W}}}, {spec_.features_output}, [&](const std::vector<ort::OutputView>& out) {
      const auto& shape = out[0].shape;
      if (shape.size() != 2 || shape[0] != int64_t(n) || shape[1] != D)
        fail(ErrorCode::Model, spec_.features_path + ": output has the wrong shape for " + std::to_string(n) + " frames of " + std::to_string(D) + " features");
      rows.insert(rows.end(), out[0].data, out[0].data + n * size_t(D));
    });
  }
  return rows;
}

std::vector<float> VideoModel::temporal(const std::vector<float>& rows, int64_t T, std::vector<float>& state) const {
  const int64_t D = spec_.feature_size, S = spec_.state_size;
  if (T <= 0) return {};
  if (rows.size() != size_t(T * D) || state.size() != size_t(S)) fail(ErrorCode::Internal, "temporal input sizes");
  std::vector<float> quality;
  temporal_->run({ort::InputTensor{rows.data(), kFloat, {1, T, D}}, ort::InputTensor{state.data(), kFloat, {1, 1, S}}}, spec_.temporal_outputs,
                 [&](const std::vector<ort::OutputView>& out) {
                   size_t nq = 1, ns = 1;
                   for (int64_t d : out[0].shape) nq *= size_t(d);
                   for (int64_t d : out[1].shape) ns *= size_t(d);
                   if (nq != size_t(T) || ns != size_t(S))
                     fail(ErrorCode::Model, spec_.temporal_path + ": outputs are not one value per frame and the state");
                   quality.assign(out[0].data, out[0].data + T);
                   state.assign(out[1].data, out[1].data + S);
                 });
  for (float q : quality)
    if (!std::isfinite(q)) fail(ErrorCode::Model, spec_.temporal_path + ": the model gave a non-finite quality (NaN or infinity)");
  return quality;
}

}  // namespace iqa
