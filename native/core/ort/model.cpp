#include "ort/model.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>

#include <onnxruntime_c_api.h>
#include <opencv2/imgproc.hpp>

#include "common/error.h"
#include "common/splitmix64.h"

namespace iqa::ort {

namespace {

std::string dims_text(const std::vector<int64_t>& d) {
  std::string s = "[";
  for (size_t i = 0; i < d.size(); ++i) s += (i ? ", " : "") + (d[i] < 0 ? std::string("?") : std::to_string(d[i]));
  return s + "]";
}

std::string names_of(const std::vector<TensorInfo>& ts) {
  std::string s;
  for (const auto& t : ts) s += (s.empty() ? "" : ", ") + t.name;
  return s;
}

}  // namespace

cv::Size shorter_side_size(cv::Size image, int n) {
  const bool w_short = image.width <= image.height;
  const int s = w_short ? image.width : image.height, l = w_short ? image.height : image.width;
  // n * l is exact in double, the division correctly rounded, as Python's int * int / int.
  const int nl = int(double(n) * l / s);
  return w_short ? cv::Size(n, nl) : cv::Size(nl, n);
}

std::vector<cv::Rect> crop_rects(cv::Size image, cv::Size crop, CropPolicy policy, int count, uint64_t seed, GridRule grid, CenterRounding center) {
  if (policy == CropPolicy::Full || policy == CropPolicy::Resize || policy == CropPolicy::Tokens) return {cv::Rect(0, 0, image.width, image.height)};
  if (image.width < crop.width || image.height < crop.height)
    fail(ErrorCode::Input, "image " + std::to_string(image.width) + "x" + std::to_string(image.height) + " is smaller than the " +
                               std::to_string(crop.width) + "x" + std::to_string(crop.height) +
                               " crop (give the manifest a resize or use crop policy 'resize')");
  if (policy == CropPolicy::Grid) {
    auto cells = [grid](int length, int patch) { return grid == GridRule::Floor ? length / patch : (length - 1) / patch; };
    const int rows = cells(image.height, crop.height), cols = cells(image.width, crop.width);
    if (rows == 0 || cols == 0)
      fail(ErrorCode::Input, "image " + std::to_string(image.width) + "x" + std::to_string(image.height) + " has no " + std::to_string(crop.width) + "x" +
                                 std::to_string(crop.height) + " patch under the model's grid rule range(0, L - patch, patch): it needs at least " +
                                 std::to_string(crop.width + 1) + "x" + std::to_string(crop.height + 1) + " pixels");
    std::vector<cv::Rect> out;
    out.reserve(size_t(rows) * cols);
    for (int i = 0; i < rows; ++i)
      for (int j = 0; j < cols; ++j) out.emplace_back(j * crop.width, i * crop.height, crop.width, crop.height);
    return out;
  }
  if (policy == CropPolicy::Center) {
    // Margins are non-negative here; half-even: an odd margin 2k + 1 starts at k when k is even, k + 1 when odd.
    auto offset = [center](int margin) { return center == CenterRounding::HalfEven && margin % 2 == 1 && (margin / 2) % 2 == 1 ? margin / 2 + 1 : margin / 2; };
    return {cv::Rect(offset(image.width - crop.width), offset(image.height - crop.height), crop.width, crop.height)};
  }
  if (count <= 0) fail(ErrorCode::Input, "crop count must be positive");
  if (policy == CropPolicy::Uniform) {
    // A ceil(sqrt(n)) x ceil(sqrt(n)) grid of corners, steps (W - w) / floor(sqrt(n)) and
    // (H - h) / floor(sqrt(n)), row by row, the first n kept (pyiqa's uniform_crop).
    const int side = int(std::ceil(std::sqrt(double(count)))), div = int(std::floor(std::sqrt(double(count))));
    const int step_x = (image.width - crop.width) / div, step_y = (image.height - crop.height) / div;
    std::vector<cv::Rect> out;
    for (int i = 0; i < side && int(out.size()) < count; ++i)
      for (int j = 0; j < side && int(out.size()) < count; ++j) out.emplace_back(j * step_x, i * step_y, crop.width, crop.height);
    return out;
  }
  SplitMix64 g{seed};
  std::vector<cv::Rect> out;
  const uint64_t rx = uint64_t(image.width - crop.width) + 1, ry = uint64_t(image.height - crop.height) + 1;
  for (int i = 0; i < count; ++i) {
    int x = int(g.next() % rx);
    int y = int(g.next() % ry);
    out.emplace_back(x, y, crop.width, crop.height);
  }
  return out;
}

Model::Model(ModelSpec spec, EngineOptions opts) : spec_(std::move(spec)), opts_(std::move(opts)) {
  if (spec_.channels != 1 && spec_.channels != 3) fail(ErrorCode::Model, "input channels must be 1 or 3");
  if (spec_.width <= 0 || spec_.height <= 0) fail(ErrorCode::Model, "input width and height must be positive");
  for (int c = 0; c < 3; ++c)
    if (!(spec_.stdev[c] > 0)) fail(ErrorCode::Model, "normalisation std must be positive");
  if (spec_.pair && spec_.uint8_nhwc) fail(ErrorCode::Model, "full-reference models take float32 NCHW patch pairs, not uint8 NHWC");
  if (spec_.resize_shorter < 0 || (spec_.resize_shorter > 0 && (spec_.resize_width > 0 || spec_.resize_height > 0)))
    fail(ErrorCode::Model, "resize takes either width and height or a positive shorter side, not both");
  if (spec_.resize_float && spec_.interp != Interp::PilBilinear && spec_.interp != Interp::PilBicubic)
    fail(ErrorCode::Model, "float resize precision is implemented for interp 'pil-bilinear' and 'pil-bicubic' (torch's antialiased bilinear/bicubic) only");
  if (spec_.center == CenterRounding::HalfEven && spec_.crop != CropPolicy::Center) fail(ErrorCode::Model, "half-even centre rounding needs crop policy 'center'");
  if (spec_.shrink_on_load && shrink_target().area() == 0)
    fail(ErrorCode::Model, "shrinkOnLoad needs a resize (preprocess.resize or crop policy 'resize'): without one the model sees the image at its own size");
  if (spec_.highpass && (spec_.channels != 1 || spec_.uint8_nhwc)) fail(ErrorCode::Model, "high-pass normalisation needs a 1-channel float32 input");
  if (spec_.local_contrast_window > 0 && spec_.uint8_nhwc) fail(ErrorCode::Model, "local contrast normalisation needs a float32 input (uint8 inputs are normalised inside the graph)");
  session_ = std::make_unique<Session>(spec_.model_path, opts_.session);

  if (spec_.crop == CropPolicy::Tokens) check_token_inputs();
  // The image input: the only input, float32, [N, C, H, W] with C/H/W as declared where static.
  const auto& ins = session_->inputs();
  if (spec_.crop != CropPolicy::Tokens) {
    if (ins.size() != 1) fail(ErrorCode::Model, spec_.model_path + " has " + std::to_string(ins.size()) + " inputs (" + names_of(ins) + "); image models take one");
    const TensorInfo& in = ins[0];
    if (!spec_.input_name.empty() && in.name != spec_.input_name)
      fail(ErrorCode::Model, "the manifest declares input '" + spec_.input_name + "' but the model's input is '" + in.name + "'");
    const int want_type = spec_.uint8_nhwc ? ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT8 : ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT;
    if (in.elem_type != want_type)
      fail(ErrorCode::Model, "input '" + in.name + "' is " + elem_type_name(in.elem_type) + " but the manifest declares " + elem_type_name(want_type) +
                                 " (export fp16 models with float32 inputs)");
    bool full = spec_.crop == CropPolicy::Full;
    const int64_t H = full ? -1 : spec_.height, W = full ? -1 : spec_.width;
    std::vector<int64_t> want = spec_.uint8_nhwc ? std::vector<int64_t>{-1, H, W, spec_.channels} : std::vector<int64_t>{-1, tensor_channels(), H, W};
    bool ok = in.shape.size() == 4;
    for (size_t i = 1; ok && i < 4; ++i) ok = want[i] < 0 || in.shape[i] < 0 || in.shape[i] == want[i];
    if (!ok) fail(ErrorCode::Model, "input '" + in.name + "' has shape " + dims_text(in.shape) + " but the manifest declares " + dims_text(want));
    if (in.shape[0] > 0 && size_t(in.shape[0]) < opts_.max_batch) opts_.max_batch = size_t(in.shape[0]);
  }

  // Declared outputs: present, same rank, same static dims.
  for (const TensorInfo& d : spec_.declared_outputs) {
    const TensorInfo* found = nullptr;
    for (const auto& t : session_->outputs())
      if (t.name == d.name) found = &t;
    if (!found) fail(ErrorCode::Model, "the manifest declares output '" + d.name + "' but the model has none (outputs: " + names_of(session_->outputs()) + ")");
    bool same = found->shape.size() == d.shape.size();
    for (size_t i = 0; same && i < d.shape.size(); ++i) same = d.shape[i] < 0 || found->shape[i] < 0 || d.shape[i] == found->shape[i];
    if (!same)
      fail(ErrorCode::Model, "output '" + d.name + "' has shape " + dims_text(found->shape) + " but the manifest declares " + dims_text(d.shape));
  }
  head_ = make_head(spec_.head);
  head_->validate(session_->outputs());
  run_outputs_ = head_->outputs();
  if (spec_.aggregate == Aggregate::Weighted) {
    if (spec_.weight_output.empty()) fail(ErrorCode::Model, "weighted pooling needs the name of the weight output");
    if (!(spec_.weight_epsilon >= 0)) fail(ErrorCode::Model, "the pooling weight epsilon must be non-negative");
    HeadSpec weight_spec;
    weight_spec.type = "scalar";
    weight_spec.outputs = {spec_.weight_output};
    weight_head_ = make_head(weight_spec);
    weight_head_->validate(session_->outputs());
    run_outputs_.push_back(spec_.weight_output);
  }
  if (spec_.aggregate == Aggregate::FeatureMean) {
    // The batcher carries each crop's feature vector; the head runs once per image on their mean.
    if (run_outputs_.size() != 1) fail(ErrorCode::Model, "feature-mean pooling needs a head that reads one output, not " + std::to_string(run_outputs_.size()));
    if (!spec_.extras.empty()) fail(ErrorCode::Model, "feature-mean pooling gives one head value per image: extras are per crop");
    for (const auto& t : session_->outputs()) {
      if (t.name != run_outputs_[0]) continue;
      feature_count_ = 1;
      for (size_t i = 1; i < t.shape.size(); ++i) {
        if (t.shape[i] < 0) fail(ErrorCode::Model, "feature-mean pooling needs output '" + t.name + "' of a fixed size per sample, it has shape " + dims_text(t.shape));
        feature_count_ *= size_t(t.shape[i]);
      }
    }
  }
  if (spec_.sample && !head_->has_spread())
    fail(ErrorCode::Model, "sampling needs a head with a spread (gaussian: mean and scale outputs); head '" + spec_.head.type + "' has none");
  if (!std::isfinite(spec_.score_scale) || !std::isfinite(spec_.score_offset)) fail(ErrorCode::Model, "the score affine scale and offset must be finite");
  for (const auto& e : spec_.extras) {
    if (e.name.empty()) fail(ErrorCode::Model, "an extra output needs a name");
    expect_output(session_->outputs(), e.output, {});
    for (const auto& t : session_->outputs()) {
      if (t.name != e.output) continue;
      int64_t per = 1;
      bool known = true;
      for (size_t i = 1; i < t.shape.size(); ++i) {
        if (t.shape[i] < 0) known = false;
        else per *= t.shape[i];
      }
      if (e.index < 0 || (known && e.index >= per))
        fail(ErrorCode::Model, "extra '" + e.name + "': index " + std::to_string(e.index) + " is outside output '" + e.output + "' (" + std::to_string(per) + " values per sample)");
    }
    size_t slot = size_t(std::find(run_outputs_.begin(), run_outputs_.end(), e.output) - run_outputs_.begin());
    if (slot == run_outputs_.size()) run_outputs_.push_back(e.output);
    extra_slot_.push_back(slot);
  }

  int runners = opts_.runners > 0 ? opts_.runners : (session_->device() == "cuda" ? 2 : 1);
  opts_.runners = runners;
  if (opts_.pad_batches < 0) opts_.pad_batches = session_->device() == "cuda" ? 1 : 0;
  const int h = spec_.height, w = spec_.width;
  Session* s = session_.get();
  batcher_ = std::make_unique<Batcher>(
      sample_bytes(), opts_.max_batch, opts_.max_delay_ms, runners,
      [this, h, w](const uint8_t* in, size_t n, double* scores) {
        if (!opts_.pad_batches || n == opts_.max_batch) return run_batch(in, n, scores, h, w);
        // Rows past n hold stale or uninitialised data: samples are independent, their scores are dropped.
        std::vector<double> all(opts_.max_batch * row_values());
        run_batch(in, opts_.max_batch, all.data(), h, w);
        std::copy(all.begin(), all.begin() + long(n * row_values()), scores);
      },
      [s](size_t bytes) { return s->alloc_host(bytes); }, [s](uint8_t* p) { s->free_host(p); }, row_values());
}

size_t Model::image_bytes() const {
  return size_t(spec_.channels) * spec_.height * spec_.width * (spec_.uint8_nhwc ? 1 : sizeof(float));
}

size_t Model::sample_bytes() const { return image_bytes() * (spec_.pair ? 2 : 1); }

void Model::pack(const cv::Mat& roi, uint8_t* dst) const {
  if (!spec_.uint8_nhwc) {
    float* f = reinterpret_cast<float*>(dst);
    pack_nchw(roi, f, spec_.channels, spec_.rgb, spec_.mean, spec_.stdev);
    if (spec_.local_contrast_window > 0)
      for (int c = 0; c < spec_.channels; ++c)
        local_contrast_normalize(f + size_t(c) * roi.rows * roi.cols, roi.rows, roi.cols, spec_.local_contrast_window, spec_.local_contrast_c);
    return;
  }
  // Raw 8-bit HWC straight into the batch tensor (cvtColor/convertTo write into `out` in place).
  cv::Mat src = roi;
  if (src.depth() != CV_8U) src.convertTo(src, CV_8U, 255.0 / full_scale(src));
  cv::Mat out(roi.rows, roi.cols, CV_8UC(spec_.channels), dst);
  const int cn = src.channels();
  if (spec_.channels == 1) {
    if (cn == 1) src.copyTo(out);
    else cv::cvtColor(src, out, cn == 4 ? cv::COLOR_BGRA2GRAY : cv::COLOR_BGR2GRAY);
  } else if (cn == 1) {
    cv::cvtColor(src, out, cv::COLOR_GRAY2BGR);
  } else if (spec_.rgb) {
    cv::cvtColor(src, out, cn == 4 ? cv::COLOR_BGRA2RGB : cv::COLOR_BGR2RGB);
  } else if (cn == 4) {
    cv::cvtColor(src, out, cv::COLOR_BGRA2BGR);
  } else {
    src.copyTo(out);
  }
  if (out.data != dst) fail(ErrorCode::Internal, "packing did not write into the batch tensor");
}

Model::~Model() = default;

void Model::run_batch(const uint8_t* input, size_t n, double* values, int height, int width) const {
  std::vector<int64_t> shape = spec_.uint8_nhwc ? std::vector<int64_t>{int64_t(n), height, width, spec_.channels}
                                                : std::vector<int64_t>{int64_t(n), tensor_channels(), height, width};
  session_->run(input, spec_.uint8_nhwc ? ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT8 : ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT, shape, run_outputs_,
                [&](const std::vector<OutputView>& outs) { collect_rows(outs, n, values); });
}

void Model::run_tokens(const Tokens& t, double* values) const {
  const int64_t S = t.length;
  const TokenSpec& ts = spec_.tokens;
  std::vector<InputTensor> ins;
  for (const TensorInfo& in : session_->inputs()) {
    if (in.name == spec_.position_input) ins.push_back({t.position.data(), ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64, {1, S}});
    else if (in.name == spec_.scale_input) ins.push_back({t.scale.data(), ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64, {1, S}});
    else if (in.name == spec_.mask_input) ins.push_back({t.mask.data(), ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT, {1, S}});
    else ins.push_back({t.patches.data(), ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT, {1, S, 3, ts.patch, ts.patch}});
  }
  session_->run(ins, run_outputs_, [&](const std::vector<OutputView>& outs) { collect_rows(outs, 1, values); });
}

void Model::check_token_inputs() const {
  const TokenSpec& ts = spec_.tokens;
  if (spec_.channels != 3 || spec_.uint8_nhwc || spec_.pair) fail(ErrorCode::Model, "token models take float32 3-channel patches of one image");
  if (ts.patch <= 0 || ts.grid <= 0) fail(ErrorCode::Model, "token patch size and hash grid must be positive");
  if (spec_.width != ts.patch || spec_.height != ts.patch) fail(ErrorCode::Model, "token models declare input width and height equal to the patch size");
  if (ts.buckets.empty() || !std::is_sorted(ts.buckets.begin(), ts.buckets.end()) || ts.buckets.front() <= 0)
    fail(ErrorCode::Model, "token buckets must be positive and ascending");
  if (ts.scales.empty() && !ts.native) fail(ErrorCode::Model, "a token pyramid needs a scale or the native resolution");
  const auto& ins = session_->inputs();
  struct Want {
    const std::string& name;
    int type;
    size_t rank;
  };
  const Want wants[] = {{spec_.input_name, ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT, 5},
                        {spec_.position_input, ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64, 2},
                        {spec_.scale_input, ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64, 2},
                        {spec_.mask_input, ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT, 2}};
  if (ins.size() != 4) fail(ErrorCode::Model, spec_.model_path + " has " + std::to_string(ins.size()) + " inputs (" + names_of(ins) + "); token models take 4 (patches, positions, scales, mask)");
  for (const Want& w : wants) {
    const TensorInfo* found = nullptr;
    for (const auto& t : ins)
      if (t.name == w.name) found = &t;
    if (!found) fail(ErrorCode::Model, "the manifest declares token input '" + w.name + "' but the model's inputs are " + names_of(ins));
    if (found->elem_type != w.type || found->shape.size() != w.rank)
      fail(ErrorCode::Model, "token input '" + w.name + "' is " + elem_type_name(found->elem_type) + " " + dims_text(found->shape) + ", expected " + elem_type_name(w.type) + " of rank " + std::to_string(w.rank));
  }
  const TensorInfo* p = nullptr;
  for (const auto& t : ins)
    if (t.name == spec_.input_name) p = &t;
  const int64_t want[] = {-1, -1, 3, ts.patch, ts.patch};
  for (size_t i = 2; i < 5; ++i)
    if (p->shape[i] >= 0 && p->shape[i] != want[i]) fail(ErrorCode::Model, "token input '" + p->name + "' has shape " + dims_text(p->shape) + ", expected [?, ?, 3, " + std::to_string(ts.patch) + ", " + std::to_string(ts.patch) + "]");
}

void Model::collect_rows(const std::vector<OutputView>& outs, size_t n, double* values) const {
  for (size_t i = 0; i < outs.size(); ++i)
    if (outs[i].shape.empty() || outs[i].shape[0] != int64_t(n))
      fail(ErrorCode::Model, "output '" + run_outputs_[i] + "' has shape " + dims_text(outs[i].shape) + " for a batch of " + std::to_string(n));
  if (spec_.aggregate == Aggregate::FeatureMean) {  // rows of features: the head runs in wait()
    size_t per = 1;
    for (size_t d = 1; d < outs[0].shape.size(); ++d) per *= size_t(outs[0].shape[d]);
    if (per != feature_count_) fail(ErrorCode::Model, "output '" + run_outputs_[0] + "' has " + std::to_string(per) + " values per sample, expected " + std::to_string(feature_count_));
    for (size_t i = 0; i < n * per; ++i) values[i] = outs[0].data[i];
    return;
  }
  // Rows of (score[, weight], extras...): the batcher hands each image its rows.
  const size_t k = row_values(), nh = head_->outputs().size();
  std::vector<double> q(n), w;
  head_->compute(std::vector<OutputView>(outs.begin(), outs.begin() + long(nh)), n, q.data());
  if (weight_head_) {
    w.resize(n);
    weight_head_->compute({outs[nh]}, n, w.data());
  }
  for (size_t i = 0; i < n; ++i) {
    values[k * i] = q[i] * spec_.score_scale + spec_.score_offset;
    if (weight_head_) values[k * i + 1] = std::max(w[i], 0.0) + spec_.weight_epsilon;
  }
  if (spec_.sample) {  // the spread on the score's scale: (mean + z scale) k + b = mean k + b + z (scale k)
    std::vector<double> spread(n);
    head_->compute_spread(std::vector<OutputView>(outs.begin(), outs.begin() + long(nh)), n, spread.data());
    for (size_t i = 0; i < n; ++i) values[k * i + spread_slot()] = spread[i] * spec_.score_scale;
  }
  for (size_t x = 0; x < spec_.extras.size(); ++x) {
    const OutputView& o = outs[extra_slot_[x]];
    size_t per = 1;
    for (size_t d = 1; d < o.shape.size(); ++d) per *= size_t(o.shape[d]);
    const size_t idx = size_t(spec_.extras[x].index);
    if (idx >= per) fail(ErrorCode::Model, "extra '" + spec_.extras[x].name + "': index " + std::to_string(idx) + " is outside output '" + spec_.extras[x].output + "'");
    for (size_t i = 0; i < n; ++i) values[k * i + 1 + weight_values() + x] = o.data[i * per + idx];
  }
}

cv::Size Model::shrink_target() const {
  if (!spec_.shrink_on_load) return {0, 0};
  if (spec_.resize_width > 0 && spec_.resize_height > 0) return {spec_.resize_width, spec_.resize_height};
  // A decode whose width and height are both at least n keeps the shorter side at least n.
  if (spec_.resize_shorter > 0) return {spec_.resize_shorter, spec_.resize_shorter};
  if (spec_.crop == CropPolicy::Resize) return {spec_.width, spec_.height};
  return {0, 0};
}

void Model::check_pixels(const cv::Mat& m) const {
  if (spec_.max_pixels > 0 && int64_t(m.total()) > spec_.max_pixels)
    fail(ErrorCode::TooLarge, "image of " + std::to_string(m.cols) + "x" + std::to_string(m.rows) + " = " + std::to_string(m.total()) + " pixels is over the " +
                                  std::to_string(spec_.max_pixels) + "-pixel limit of model '" + spec_.name + "' (its memory grows with the image; resize it first)");
}

cv::Mat Model::prepare(const cv::Mat& img) const {
  if (img.empty()) fail(ErrorCode::Input, "empty image");
  cv::Mat m = drop_alpha(img);
  if (spec_.channels == 1 && m.channels() == 3) m = rgb2gray(m, spec_.gray);
  if (spec_.interp == Interp::MatlabBicubic) m = to_float(m, 1.0, CV_32F);  // imresize_matlab returns CV_64F: keep a [0,1] scale
  // to_tensor(): float32 on [0, 1]; pil_resize then keeps float32 between its passes, as torch does.
  if (spec_.resize_float) m = to_float(m, 1.0, CV_32F);
  const cv::Size target = spec_.resize_shorter > 0 ? shorter_side_size(m.size(), spec_.resize_shorter) : cv::Size(spec_.resize_width, spec_.resize_height);
  // Same size: no resize (torchvision returns the image as is, too).
  if (target.width > 0 && target.height > 0 && m.size() != target) m = resize_image(m, target, spec_.interp);
  if (spec_.crop == CropPolicy::Resize && (m.cols != spec_.width || m.rows != spec_.height))
    m = resize_image(m, cv::Size(spec_.width, spec_.height), spec_.interp == Interp::MatlabBicubic ? Interp::MatlabBicubic : spec_.interp);
  const int crop_side = std::max(spec_.width, spec_.height);
  if (spec_.crop == CropPolicy::Uniform && std::min(m.rows, m.cols) <= crop_side) {
    // pyiqa's uniform_crop first enlarges an image whose short side is at most the crop by
    // (crop + 1) / short side (torch bilinear on [0, 1] floats).
    m = torch_bilinear_scale(to_float(m, 1.0, CV_32F), double(crop_side + 1) / std::min(m.rows, m.cols));
  }
  if (spec_.highpass) {
    check_pixels(m);  // before the whole-image filtering, whose memory grows with the image
    m = highpass_normalize(m, spec_.highpass_spec);
  }
  return m;
}

Model::Pending Model::submit(const cv::Mat& img) const {
  if (spec_.pair) fail(ErrorCode::Input, "model '" + spec_.name + "' is full-reference: score (reference, distorted) image pairs");
  return submit_prepared(prepare(img), nullptr);
}

Model::Pending Model::submit_pair(const cv::Mat& ref, const cv::Mat& dist) const {
  if (!spec_.pair) fail(ErrorCode::Input, "model '" + spec_.name + "' is no-reference: it scores one image, not a (reference, distorted) pair");
  if (ref.empty() || dist.empty()) fail(ErrorCode::Input, "empty image");
  if (ref.size() != dist.size())
    fail(ErrorCode::Input, "reference " + std::to_string(ref.cols) + "x" + std::to_string(ref.rows) + " and distorted " + std::to_string(dist.cols) + "x" +
                               std::to_string(dist.rows) + " images differ in size: a full-reference model compares aligned patches");
  const cv::Mat r = prepare(ref);
  return submit_prepared(prepare(dist), &r);
}

Model::Pending Model::submit_prepared(const cv::Mat& m, const cv::Mat* ref) const {
  // A sample: the crop of `m`, after the same crop of `ref` for pairs (reference channels first).
  // The pixel limit applies to the prepared image (after any resize), once per image or pair.
  check_pixels(m);
  auto pack_sample = [&](const cv::Rect& r, uint8_t* dst) {
    if (!ref) return pack(m(r), dst);
    pack((*ref)(r), dst);
    pack(m(r), dst + image_bytes());
  };
  Pending p;
  if (spec_.crop == CropPolicy::Tokens) {
    // Token sequences differ in length per image (bucketed): each runs alone, like Full.
    const Tokens t = make_tokens(m, spec_.tokens, spec_.rgb, spec_.mean, spec_.stdev);
    p.direct_scores.resize(row_values());
    std::lock_guard<std::mutex> lock(direct_mutex_);
    run_tokens(t, p.direct_scores.data());
    return p;
  }
  if (spec_.crop == CropPolicy::Full) {
    // Whole image at its own size: shapes differ per image, so it runs alone (still thread-safe).
    std::vector<float> tensor(size_t(tensor_channels()) * m.rows * m.cols);  // float-sized: fits uint8 too
    if (!ref) {
      pack(m, reinterpret_cast<uint8_t*>(tensor.data()));
    } else {
      pack(*ref, reinterpret_cast<uint8_t*>(tensor.data()));
      pack(m, reinterpret_cast<uint8_t*>(tensor.data() + size_t(spec_.channels) * m.rows * m.cols));
    }
    p.direct_scores.resize(row_values());  // one row: its score (and weight)
    run_batch(reinterpret_cast<const uint8_t*>(tensor.data()), 1, p.direct_scores.data(), m.rows, m.cols);
    return p;
  }
  std::vector<cv::Rect> rects = crop_rects(m.size(), cv::Size(spec_.width, spec_.height), spec_.crop, spec_.crop_count, spec_.crop_seed, spec_.grid, spec_.center);
  p.ticket = batcher_->submit(rects.size(), [&](size_t i, uint8_t* dst) { pack_sample(rects[i], dst); });
  return p;
}

double Model::wait(const Pending& p, std::vector<double>* crop_scores, std::vector<double>* crop_weights, std::vector<double>* extras) const {
  std::vector<double> local, local_w;
  std::vector<double>& s = crop_scores ? *crop_scores : local;
  std::vector<double>& w = crop_weights ? *crop_weights : local_w;
  if (!p.direct_scores.empty()) {
    s = p.direct_scores;
  } else {
    s.assign(p.ticket.n * row_values(), 0.0);
    batcher_->wait(p.ticket, s.data());
  }
  if (spec_.aggregate == Aggregate::FeatureMean) {
    const size_t f = feature_count_, n = s.size() / f;
    if (n == 0) fail(ErrorCode::Internal, "no crops were scored");
    std::vector<double> mean(f, 0.0);
    for (size_t i = 0; i < n; ++i)
      for (size_t j = 0; j < f; ++j) mean[j] += s[i * f + j];
    for (double& v : mean) v /= double(n);
    for (size_t j = 0; j < f; ++j)
      if (!std::isfinite(mean[j]))
        fail(ErrorCode::Model, "model '" + spec_.name + "' produced a non-finite feature (value " + std::to_string(j) + " of output '" + run_outputs_[0] + "', averaged over " + std::to_string(n) + " crops)");
    double score = 0;
    head_on_features(mean.data(), 1, &score);
    if (!std::isfinite(score))
      fail(ErrorCode::Model, "model '" + spec_.name + "' produced a non-finite score (" + std::to_string(score) + ") from its crops' mean features (head '" + spec_.head.type + "')");
    s.assign(1, score);  // one value: there are no per-crop scores
    w.clear();
    if (extras) extras->clear();
    return score;
  }
  const size_t k = row_values(), ne = spec_.extras.size();
  std::vector<std::vector<double>> ex(ne);
  if (k > 1) {  // split the (score[, weight], extras...[, spread]) rows
    const size_t n = s.size() / k;
    w.resize(weight_values() ? n : 0);
    for (auto& e : ex) e.resize(n);
    SplitMix64 noise{spec_.sample_seed};
    for (size_t i = 0; i < n; ++i) {
      if (weight_values()) w[i] = s[k * i + 1];
      for (size_t x = 0; x < ne; ++x) ex[x][i] = s[k * i + 1 + weight_values() + x];
      const double spread = spread_values() ? s[k * i + spread_slot()] : 0;
      s[i] = s[k * i];
      if (spread_values()) s[i] += noise.normal() * spread;  // crop i takes the i-th draw
    }
    s.resize(n);
  }
  if (s.empty()) fail(ErrorCode::Internal, "no crops were scored");
  // Checked per image, not per batch: a NaN from one image must not fail its batch-mates.
  for (size_t i = 0; i < s.size(); ++i)
    if (!std::isfinite(s[i]))
      fail(ErrorCode::Model, "model '" + spec_.name + "' produced a non-finite score (" + std::to_string(s[i]) + ") for crop " + std::to_string(i + 1) + " of " +
                                 std::to_string(s.size()) + " (head '" + spec_.head.type + "' on output '" + head_->outputs()[0] + "'): broken weights or a graph that is not a quality model");
  if (spec_.aggregate == Aggregate::Weighted) {
    double sw = 0;
    for (size_t i = 0; i < w.size(); ++i) {
      if (!std::isfinite(w[i]))
        fail(ErrorCode::Model, "model '" + spec_.name + "' produced a non-finite pooling weight (" + std::to_string(w[i]) + ") on output '" + spec_.weight_output + "' for crop " +
                                   std::to_string(i + 1) + " of " + std::to_string(w.size()));
      sw += w[i];
    }
    if (!(sw > 0))
      fail(ErrorCode::Model, "model '" + spec_.name + "': every pooling weight of the image is 0 (output '" + spec_.weight_output + "' is <= 0 on all " + std::to_string(w.size()) +
                                 " crops and the weight epsilon is 0)");
  }
  if (extras) {
    extras->assign(ne, 0.0);
    for (size_t x = 0; x < ne; ++x) {
      for (size_t i = 0; i < ex[x].size(); ++i)
        if (!std::isfinite(ex[x][i]))
          fail(ErrorCode::Model, "model '" + spec_.name + "' produced a non-finite value (" + std::to_string(ex[x][i]) + ") for extra '" + spec_.extras[x].name + "' on crop " + std::to_string(i + 1));
      (*extras)[x] = pool(ex[x], w);
    }
  }
  return pool(s, w);
}

// The image's value from its crops' values: mean, median or weighted mean (spec.aggregate).
double Model::pool(const std::vector<double>& s, const std::vector<double>& w) const {
  if (spec_.aggregate == Aggregate::Weighted) {
    double sw = 0, sqw = 0;
    for (size_t i = 0; i < w.size(); ++i) {
      sw += w[i];
      sqw += s[i] * w[i];
    }
    return sqw / sw;
  }
  if (spec_.aggregate == Aggregate::Median) {
    std::vector<double> v = s;
    const size_t mid = v.size() / 2;
    std::nth_element(v.begin(), v.begin() + long(mid), v.end());
    if (v.size() % 2) return v[mid];
    const double upper = v[mid];
    return (*std::max_element(v.begin(), v.begin() + long(mid)) + upper) / 2;
  }
  return std::accumulate(s.begin(), s.end(), 0.0) / double(s.size());
}

void Model::head_on_features(const double* rows, size_t n, double* scores) const {
  // The head reads float32 outputs: the mean goes back to float32 (a relative 6e-8 change).
  std::vector<float> f(rows, rows + n * feature_count_);
  head_->compute({OutputView{f.data(), {int64_t(n), int64_t(feature_count_)}}}, n, scores);
  for (size_t i = 0; i < n; ++i) scores[i] = scores[i] * spec_.score_scale + spec_.score_offset;
}

void Model::score_tensor(const void* samples, size_t n, double* scores) const {
  const size_t sample = sample_bytes();
  const uint8_t* src = static_cast<const uint8_t*>(samples);
  Batcher::Ticket t = batcher_->submit(n, [&](size_t i, uint8_t* dst) { std::memcpy(dst, src + i * sample, sample); });
  if (row_values() == 1 && spec_.aggregate != Aggregate::FeatureMean) return batcher_->wait(t, scores);
  std::vector<double> rows(n * row_values());
  batcher_->wait(t, rows.data());
  if (spec_.aggregate == Aggregate::FeatureMean) return head_on_features(rows.data(), n, scores);  // each sample alone
  for (size_t i = 0; i < n; ++i) scores[i] = rows[i * row_values()];
}

ModelInfo Model::info() const {
  ModelInfo i;
  i.name = spec_.name;
  i.model_path = spec_.model_path;
  i.device = session_->device();
  i.requested_device = opts_.session.device;
  i.fallback_reason = session_->fallback_reason();
  i.providers = session_->providers();
  i.inputs = session_->inputs();
  i.outputs = session_->outputs();
  i.max_batch = batcher_->max_batch();
  i.max_delay_ms = opts_.max_delay_ms;
  i.crops = spec_.crop == CropPolicy::Random || spec_.crop == CropPolicy::Uniform ? spec_.crop_count : spec_.crop == CropPolicy::Grid ? 0 : 1;  // 0: per image (grid)
  auto st = batcher_->stats();
  i.batches = st.batches;
  i.rows = st.rows;
  i.closed = batcher_->closed();
  i.pinned_input = session_->pinned_input();
  return i;
}

void Model::close() { batcher_->close(); }
void Model::drain() { batcher_->drain(); }

}  // namespace iqa::ort
