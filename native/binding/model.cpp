#include "model.h"

#include <memory>

#include "image/image.h"
#include "marshal.h"
#include "metric/metric.h"
#include "ort/model.h"
#include "workers.h"

namespace iqa_node {
namespace {

using iqa::ErrorCode;
using ModelPtr = std::shared_ptr<iqa::ort::Model>;
using ModelHandle = Napi::External<ModelPtr>;

ModelPtr unwrap(const Napi::Value& v) {
  if (!v.IsExternal()) iqa::fail(ErrorCode::Input, "expected a model handle");
  return *v.As<ModelHandle>().Data();
}

iqa::ort::CropPolicy parse_crop(const std::string& s) {
  if (s == "resize") return iqa::ort::CropPolicy::Resize;
  if (s == "center") return iqa::ort::CropPolicy::Center;
  if (s == "random") return iqa::ort::CropPolicy::Random;
  if (s == "uniform") return iqa::ort::CropPolicy::Uniform;
  if (s == "full") return iqa::ort::CropPolicy::Full;
  if (s == "grid") return iqa::ort::CropPolicy::Grid;
  if (s == "tokens") return iqa::ort::CropPolicy::Tokens;
  iqa::fail(ErrorCode::Input, "crop policy must be 'resize', 'center', 'random', 'uniform', 'full', 'grid' or 'tokens', got '" + s + "'");
}

iqa::ort::ModelSpec to_spec(const Napi::Value& v) {
  Napi::Object o = object_arg(v, "model spec");
  iqa::ort::ModelSpec s;
  s.name = string_field(o, "name", "model");
  s.model_path = string_field(o, "modelPath", "");
  s.input_name = string_field(o, "inputName", "");
  s.width = int(number_field(o, "width", 224));
  s.height = int(number_field(o, "height", 224));
  s.channels = int(number_field(o, "channels", 3));
  s.rgb = bool_field(o, "rgb", true);
  std::string dtype = string_field(o, "dtype", "float32"), layout = string_field(o, "layout", "NCHW");
  if (!((dtype == "float32" && layout == "NCHW") || (dtype == "uint8" && layout == "NHWC")))
    iqa::fail(ErrorCode::Model, "supported inputs: float32 NCHW or uint8 NHWC, not " + dtype + " " + layout);
  s.uint8_nhwc = dtype == "uint8";
  auto mean = number_list(o, "mean"), stdev = number_list(o, "std");
  for (int c = 0; c < 3; ++c) {
    if (!mean.empty()) s.mean[c] = float(mean[std::min<size_t>(c, mean.size() - 1)]);
    if (!stdev.empty()) s.stdev[c] = float(stdev[std::min<size_t>(c, stdev.size() - 1)]);
  }
  Napi::Value outs = o.Get("outputs");
  if (outs.IsArray()) {
    Napi::Array a = outs.As<Napi::Array>();
    for (uint32_t i = 0; i < a.Length(); ++i) {
      Napi::Object t = object_arg(a.Get(i), "output");
      iqa::ort::TensorInfo ti;
      ti.name = string_field(t, "name", "");
      for (double d : number_list(t, "shape")) ti.shape.push_back(int64_t(d));
      s.declared_outputs.push_back(ti);
    }
  }
  s.resize_width = int(number_field(o, "resizeWidth", 0));
  s.resize_height = int(number_field(o, "resizeHeight", 0));
  s.resize_shorter = int(number_field(o, "resizeShorter", 0));
  s.interp = iqa::parse_interp(string_field(o, "interp", "area"));
  const std::string precision = string_field(o, "resizePrecision", "byte");
  if (precision != "byte" && precision != "float") iqa::fail(ErrorCode::Model, "unknown resize precision '" + precision + "' (byte, float)");
  s.resize_float = precision == "float";
  const std::string center = string_field(o, "cropCenter", "floor");
  if (center != "floor" && center != "half-even") iqa::fail(ErrorCode::Model, "unknown centre crop rounding '" + center + "' (floor, half-even)");
  s.center = center == "floor" ? iqa::ort::CenterRounding::Floor : iqa::ort::CenterRounding::HalfEven;
  s.crop = parse_crop(string_field(o, "crop", "center"));
  s.crop_count = int(number_field(o, "cropCount", 1));
  s.crop_seed = uint64_t(number_field(o, "cropSeed", 0));
  const std::string grid = string_field(o, "grid", "floor");
  if (grid != "floor" && grid != "range-exclusive") iqa::fail(iqa::ErrorCode::Model, "unknown grid rule '" + grid + "' (floor, range-exclusive)");
  s.grid = grid == "floor" ? iqa::ort::GridRule::Floor : iqa::ort::GridRule::RangeExclusive;
  s.gray = iqa::parse_gray(string_field(o, "gray", "opencv"));
  s.local_contrast_window = int(number_field(o, "localContrastWindow", 0));
  s.local_contrast_c = number_field(o, "localContrastConstant", 1);
  s.max_pixels = int64_t(number_field(o, "maxPixels", 0));
  s.highpass = bool_field(o, "highpass", false);
  s.highpass_spec.ksize = int(number_field(o, "highpassKsize", 16));
  s.highpass_spec.sigma = number_field(o, "highpassSigma", 7.0 / 6.0);
  s.highpass_spec.factor = int(number_field(o, "highpassFactor", 4));
  s.highpass_spec.interp = iqa::parse_interp(string_field(o, "highpassInterp", "tf-bicubic"));
  s.shrink_on_load = bool_field(o, "shrinkOnLoad", false);
  const std::string aggregate = string_field(o, "aggregate", "mean");
  if (aggregate != "mean" && aggregate != "median" && aggregate != "weighted" && aggregate != "feature-mean")
    iqa::fail(iqa::ErrorCode::Model, "unknown score aggregate '" + aggregate + "' (mean, median, weighted, feature-mean)");
  s.aggregate = aggregate == "median"         ? iqa::ort::Aggregate::Median
                : aggregate == "weighted"     ? iqa::ort::Aggregate::Weighted
                : aggregate == "feature-mean" ? iqa::ort::Aggregate::FeatureMean
                                              : iqa::ort::Aggregate::Mean;
  s.weight_output = string_field(o, "weightOutput", "");
  s.weight_epsilon = number_field(o, "weightEpsilon", 0);
  s.pair = bool_field(o, "pair", false);
  s.score_scale = number_field(o, "scoreScale", 1);
  s.score_offset = number_field(o, "scoreOffset", 0);
  s.sample = bool_field(o, "sample", false);
  s.sample_seed = uint64_t(number_field(o, "sampleSeed", 0));
  Napi::Value extras = o.Get("extras");
  if (extras.IsArray()) {
    Napi::Array a = extras.As<Napi::Array>();
    for (uint32_t i = 0; i < a.Length(); ++i) {
      Napi::Object e = object_arg(a.Get(i), "extra output");
      s.extras.push_back({string_field(e, "name", ""), string_field(e, "output", ""), int64_t(number_field(e, "index", 0))});
    }
  }
  Napi::Value tokens = o.Get("tokens");
  if (tokens.IsObject()) {
    Napi::Object t = tokens.As<Napi::Object>();
    for (double d : number_list(t, "scales")) s.tokens.scales.push_back(int(d));
    s.tokens.native = bool_field(t, "native", true);
    s.tokens.native_max = int64_t(number_field(t, "nativeMax", -1));
    s.tokens.patch = int(number_field(t, "patch", 32));
    s.tokens.grid = int(number_field(t, "grid", 10));
    s.tokens.interp = iqa::parse_interp(string_field(t, "interp", "pil-bicubic"));
    for (double d : number_list(t, "buckets")) s.tokens.buckets.push_back(int64_t(d));
    s.position_input = string_field(t, "positionInput", "");
    s.scale_input = string_field(t, "scaleInput", "");
    s.mask_input = string_field(t, "maskInput", "");
  }
  Napi::Object h = object_arg(o.Get("head"), "head");
  s.head.type = string_field(h, "type", "");
  s.head.outputs = string_list(h, "outputs");
  for (double d : number_list(h, "sizes")) s.head.sizes.push_back(int64_t(d));
  s.head.bins = number_list(h, "bins");
  s.head.softmax = bool_field(h, "softmax", false);
  s.head.svr_model = string_field(h, "svrModel", "");
  s.head.scaler_mean = number_list(h, "scalerMean");
  s.head.scaler_scale = number_list(h, "scalerScale");
  return s;
}

}  // namespace

iqa::ort::EngineOptions to_engine_options(const Napi::Value& v) {
  iqa::ort::EngineOptions e;
  if (v.IsUndefined() || v.IsNull()) return e;
  Napi::Object o = object_arg(v, "engine options");
  e.session = session_options_of(o);
  e.max_batch = size_t(number_field(o, "maxBatch", 32));
  e.max_delay_ms = number_field(o, "maxDelayMs", 2);
  e.runners = int(number_field(o, "runners", 0));
  Napi::Value pad = o.Get("padBatches");
  if (pad.IsBoolean()) e.pad_batches = pad.As<Napi::Boolean>().Value() ? 1 : 0;
  return e;
}

namespace {

Napi::Value tensors_to_js(Napi::Env env, const std::vector<iqa::ort::TensorInfo>& ts) {
  Napi::Array a = Napi::Array::New(env, ts.size());
  for (size_t i = 0; i < ts.size(); ++i) {
    Napi::Object t = Napi::Object::New(env);
    t.Set("name", ts[i].name);
    t.Set("type", iqa::ort::elem_type_name(ts[i].elem_type));
    Napi::Array shape = Napi::Array::New(env, ts[i].shape.size());
    for (size_t k = 0; k < ts[i].shape.size(); ++k) shape.Set(uint32_t(k), double(ts[i].shape[k]));
    t.Set("shape", shape);
    a.Set(uint32_t(i), t);
  }
  return a;
}

// What modelScore returns as each image's `values`: nothing, its per-crop scores, or its pooled extras.
enum class ValuesMode { None, Crops, Extras };

// Two phases per call: every image (with its reference, for full-reference models) is decoded,
// cropped and packed into the shared batcher in parallel (OpenCV's pool), then the worker waits
// for the batches. Per-item errors.
class ModelScoreWorker : public BatchWorker {
 public:
  ModelScoreWorker(Napi::Env env, ModelPtr model, std::shared_ptr<std::vector<iqa::ImageSource>> sources,
                   std::shared_ptr<std::vector<iqa::ImageSource>> refs, iqa::DecodeOptions decode, ValuesMode mode, AbortFlag abort,
                   std::vector<Napi::Reference<Napi::Value>> keep)
      : BatchWorker(env, sources->size(), nullptr, abort, std::move(keep)), model_(std::move(model)), sources_(std::move(sources)),
        refs_(std::move(refs)), decode_(decode), mode_(mode), pending_(sources_->size()), submitted_(sources_->size(), 0) {}

 protected:
  void Execute() override {
    iqa::parallel_items(items_.size(), [this](size_t i) {
      ItemOutcome& out = items_[i];
      if (mark_if_aborted(out)) return;
      try {
        cv::Mat img = iqa::load_image((*sources_)[i], decode_);
        pending_[i] = refs_ ? model_->submit_pair(iqa::load_image((*refs_)[i], decode_), img) : model_->submit(img);
        submitted_[i] = 1;
      } catch (...) {
        classify_exception(std::current_exception(), out.code, out.message);
      }
    });
    for (size_t i = 0; i < items_.size(); ++i) {
      if (!submitted_[i]) continue;
      ItemOutcome& out = items_[i];
      try {
        std::vector<double> crops, extras;
        out.score = model_->wait(pending_[i], &crops, nullptr, &extras);
        if (mode_ == ValuesMode::Crops) out.values = std::move(crops);
        if (mode_ == ValuesMode::Extras) out.values = std::move(extras);
        out.ok = true;
      } catch (...) {
        classify_exception(std::current_exception(), out.code, out.message);
      }
    }
    pending_.clear();
  }

 private:
  ModelPtr model_;
  std::shared_ptr<std::vector<iqa::ImageSource>> sources_;
  std::shared_ptr<std::vector<iqa::ImageSource>> refs_;  // null: no-reference
  iqa::DecodeOptions decode_;
  ValuesMode mode_;
  std::vector<iqa::ort::Model::Pending> pending_;
  std::vector<char> submitted_;
};

// createModel(spec, engine) -> Promise<handle>: the session loads off the main thread.
Napi::Value CreateModel(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    auto spec = to_spec(info[0]);
    auto engine = to_engine_options(info[1]);
    auto result = std::make_shared<ModelPtr>();
    auto run = [spec, engine, result]() { *result = std::make_shared<iqa::ort::Model>(spec, engine); };
    auto to_js = [result](Napi::Env env) -> Napi::Value {
      return ModelHandle::New(env, new ModelPtr(*result), [](Napi::Env, ModelPtr* p) { delete p; });
    };
    auto* w = new TaskWorker(info.Env(), run, to_js, {});
    w->Queue();
    return w->promise();
  });
}

// modelScore(handle, inputs[], decode, values, abortFlag?, refs[]?) -> Promise<{scores, values, errors}>;
// values: false (none), true (per-crop scores) or 'extras' (the manifest's extras, pooled);
// refs: the reference image of each input (full-reference models).
Napi::Value ModelScore(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    ModelPtr model = unwrap(info[0]);
    if (info.Length() < 2 || !info[1].IsArray()) iqa::fail(ErrorCode::Input, "inputs must be an array");
    Napi::Array inputs = info[1].As<Napi::Array>();
    auto sources = std::make_shared<std::vector<iqa::ImageSource>>(to_image_sources(inputs));
    iqa::DecodeOptions decode = to_decode_options(info[2]);
    decode.shrink_to = model->shrink_target();
    ValuesMode mode = info[3].IsBoolean() && info[3].As<Napi::Boolean>().Value() ? ValuesMode::Crops : ValuesMode::None;
    if (info[3].IsString()) {
      if (info[3].As<Napi::String>().Utf8Value() != "extras") iqa::fail(ErrorCode::Input, "modelScore values must be true, false or 'extras'");
      mode = ValuesMode::Extras;
    }
    AbortFlag abort = info[4].IsExternal() ? *info[4].As<Napi::External<std::shared_ptr<std::atomic<bool>>>>().Data() : nullptr;
    std::vector<Napi::Reference<Napi::Value>> keep;
    keep.push_back(Napi::Persistent(info[1]));
    std::shared_ptr<std::vector<iqa::ImageSource>> refs;
    if (info.Length() > 5 && info[5].IsArray()) {
      Napi::Array r = info[5].As<Napi::Array>();
      if (r.Length() != inputs.Length()) iqa::fail(ErrorCode::Input, "references and distorted images differ in number");
      refs = std::make_shared<std::vector<iqa::ImageSource>>(to_image_sources(r));
      keep.push_back(Napi::Persistent(info[5]));
    }
    auto* w = new ModelScoreWorker(info.Env(), model, sources, refs, decode, mode, abort, std::move(keep));
    w->Queue();
    return w->promise();
  });
}

Napi::Value ModelInfo(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    iqa::ort::ModelInfo mi = unwrap(info[0])->info();
    Napi::Object o = Napi::Object::New(env);
    o.Set("name", mi.name);
    o.Set("modelPath", mi.model_path);
    o.Set("device", mi.device);
    o.Set("requestedDevice", mi.requested_device);
    o.Set("fallbackReason", mi.fallback_reason.empty() ? env.Null() : Napi::String::New(env, mi.fallback_reason));
    Napi::Array p = Napi::Array::New(env, mi.providers.size());
    for (size_t i = 0; i < mi.providers.size(); ++i) p.Set(uint32_t(i), mi.providers[i]);
    o.Set("providers", p);
    o.Set("inputs", tensors_to_js(env, mi.inputs));
    o.Set("outputs", tensors_to_js(env, mi.outputs));
    o.Set("maxBatch", double(mi.max_batch));
    o.Set("maxDelayMs", mi.max_delay_ms);
    o.Set("crops", mi.crops);
    o.Set("batches", double(mi.batches));
    o.Set("rows", double(mi.rows));
    o.Set("closed", mi.closed);
    o.Set("pinnedInput", mi.pinned_input);
    return o;
  });
}

// modelClose(handle) -> Promise<void>: refuses new work, resolves once in-flight batches finished.
Napi::Value ModelClose(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    ModelPtr model = unwrap(info[0]);
    model->close();
    auto* w = new TaskWorker(info.Env(), [model]() { model->drain(); }, [](Napi::Env env) -> Napi::Value { return env.Undefined(); }, {});
    w->Queue();
    return w->promise();
  });
}

}  // namespace

void InitModel(Napi::Env env, Napi::Object exports) {
  exports.Set("createModel", Napi::Function::New(env, CreateModel));
  exports.Set("modelScore", Napi::Function::New(env, ModelScore));
  exports.Set("modelInfo", Napi::Function::New(env, ModelInfo));
  exports.Set("modelClose", Napi::Function::New(env, ModelClose));
}

}  // namespace iqa_node
