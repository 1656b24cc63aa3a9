// Node-API entry point: argument checks and glue only; all work lives in native/core.
#include <napi.h>

#include <opencv2/core/utility.hpp>
#include <opencv2/imgproc.hpp>

#include "common/versions.h"
#include "image/convert.h"
#include "image/image.h"
#include "marshal.h"
#include "model.h"
#include "metric/metric.h"
#include "ort/runtime.h"
#include "workers.h"

namespace iqa_node {
namespace {

using iqa::ErrorCode;

template <typename T>
using Handle = Napi::External<std::shared_ptr<T>>;

// Runs `fn` and turns core exceptions into JS errors carrying a code.
template <typename Fn>
Napi::Value guarded(const Napi::CallbackInfo& info, Fn fn) {
  try {
    return fn();
  } catch (const Napi::Error&) {
    throw;
  } catch (...) {
    ErrorCode code;
    std::string message;
    classify_exception(std::current_exception(), code, message);
    throw make_error(info.Env(), code, message);
  }
}

template <typename T>
Napi::Value wrap_handle(Napi::Env env, std::shared_ptr<T> ptr) {
  return Handle<T>::New(env, new std::shared_ptr<T>(std::move(ptr)), [](Napi::Env, std::shared_ptr<T>* p) { delete p; });
}

template <typename T>
std::shared_ptr<T> unwrap_handle(const Napi::Value& v, const char* what) {
  if (!v.IsExternal()) iqa::fail(ErrorCode::Input, std::string("expected a ") + what + " handle");
  return *v.As<Handle<T>>().Data();
}

AbortFlag abort_flag_of(const Napi::Value& v) {
  if (v.IsExternal()) return *v.As<Handle<std::atomic<bool>>>().Data();
  return nullptr;
}

std::string string_arg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (info.Length() <= i || !info[i].IsString()) iqa::fail(ErrorCode::Input, std::string(name) + " must be a string");
  return info[i].As<Napi::String>().Utf8Value();
}

Napi::Array array_arg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (info.Length() <= i || !info[i].IsArray()) iqa::fail(ErrorCode::Input, std::string(name) + " must be an array");
  return info[i].As<Napi::Array>();
}

std::vector<Napi::Reference<Napi::Value>> keep_alive(std::initializer_list<Napi::Value> values) {
  std::vector<Napi::Reference<Napi::Value>> refs;
  for (const auto& v : values) refs.push_back(Napi::Persistent(v));
  return refs;
}

Napi::Value Versions(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    iqa::LibraryVersions v = iqa::library_versions();
    Napi::Object o = Napi::Object::New(env);
    o.Set("opencv", v.opencv);
    o.Set("libsvm", v.libsvm);
    o.Set("threads", v.threads);
    o.Set("cpus", v.cpus);
    o.Set("napi", NAPI_VERSION);
    return o;
  });
}

Napi::Value OrtInfoToJs(Napi::Env env, const iqa::ort::RuntimeInfo& ri) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("libraryPath", ri.library_path);
  o.Set("version", ri.version);
  o.Set("apiVersion", ri.api_version);
  Napi::Array providers = Napi::Array::New(env, ri.providers.size());
  for (size_t i = 0; i < ri.providers.size(); ++i) providers.Set(uint32_t(i), ri.providers[i]);
  o.Set("providers", providers);
  return o;
}

Napi::Value LoadOrt(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    return OrtInfoToJs(info.Env(), iqa::ort::Runtime::load(string_arg(info, 0, "library path")).info());
  });
}

Napi::Value OrtInfo(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    iqa::ort::Runtime* rt = iqa::ort::Runtime::current();
    return rt ? OrtInfoToJs(info.Env(), rt->info()) : info.Env().Null();
  });
}

Napi::Value ListMetrics(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto cards = iqa::list_metrics();
  Napi::Array out = Napi::Array::New(env, cards.size());
  for (size_t i = 0; i < cards.size(); ++i) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("name", cards[i].name);
    o.Set("fullReference", cards[i].full_reference);
    o.Set("higherIsBetter", cards[i].higher_is_better);
    o.Set("description", cards[i].description);
    out.Set(uint32_t(i), o);
  }
  return out;
}

Napi::Value CreateNr(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    std::string name = string_arg(info, 0, "metric name");
    return wrap_handle(info.Env(), iqa::create_nr_metric(name, to_options(info[1])));
  });
}

Napi::Value CreateFr(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    std::string name = string_arg(info, 0, "metric name");
    return wrap_handle(info.Env(), iqa::create_fr_metric(name, to_options(info[1])));
  });
}

// scoreNr(handle, inputs[], decodeOptions, mode: 'score'|'features', abortFlag?)
Napi::Value ScoreNr(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    auto metric = unwrap_handle<iqa::NrMetric>(info[0], "metric");
    Napi::Array inputs = array_arg(info, 1, "inputs");
    auto sources = std::make_shared<std::vector<iqa::ImageSource>>(to_image_sources(inputs));
    iqa::DecodeOptions decode = to_decode_options(info[2]);
    bool features = info[3].IsString() && info[3].As<Napi::String>().Utf8Value() == "features";
    auto compute = [metric, sources, decode, features](size_t i, ItemOutcome& out) {
      cv::Mat img = iqa::load_image((*sources)[i], decode);
      if (features) out.values = metric->features(img);
      else out.score = metric->score(img);
    };
    auto* w = new BatchWorker(info.Env(), sources->size(), compute, abort_flag_of(info[4]), keep_alive({inputs}));
    w->Queue();
    return w->promise();
  });
}

// scoreFr(handle, refs[], dists[], decodeOptions, abortFlag?)
Napi::Value ScoreFr(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    auto metric = unwrap_handle<iqa::FrMetric>(info[0], "metric");
    Napi::Array refs = array_arg(info, 1, "references");
    Napi::Array dists = array_arg(info, 2, "distorted images");
    if (refs.Length() != dists.Length()) iqa::fail(ErrorCode::Input, "references and distorted images differ in count");
    auto ref_src = std::make_shared<std::vector<iqa::ImageSource>>(to_image_sources(refs));
    auto dist_src = std::make_shared<std::vector<iqa::ImageSource>>(to_image_sources(dists));
    iqa::DecodeOptions decode = to_decode_options(info[3]);
    auto compute = [metric, ref_src, dist_src, decode](size_t i, ItemOutcome& out) {
      cv::Mat ref = iqa::load_image((*ref_src)[i], decode);
      cv::Mat dist = iqa::load_image((*dist_src)[i], decode);
      out.score = metric->score(ref, dist);
    };
    auto* w = new BatchWorker(info.Env(), ref_src->size(), compute, abort_flag_of(info[4]), keep_alive({refs, dists}));
    w->Queue();
    return w->promise();
  });
}

// preprocess(input, decodeOptions, ops) -> raw pixels after the conversion path; used by tests
// against independent references and by users who want the decoded pixels.
// ops: {gray?: 'matlab'|'opencv', resize?: {width,height,interp}, crop?: {x,y,width,height},
//       float?: number (convert to float64 with this full-scale value)}
Napi::Value Preprocess(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Napi::Object wrapper = Napi::Object::New(info.Env());
    wrapper.Set("input", info[0]);
    iqa::ImageSource src = to_image_source(info[0]);
    iqa::DecodeOptions decode = to_decode_options(info[1]);
    if (!info[2].IsObject()) iqa::fail(ErrorCode::Input, "ops must be an object");
    Napi::Object ops = info[2].As<Napi::Object>();
    std::string gray = ops.Get("gray").IsString() ? ops.Get("gray").As<Napi::String>().Utf8Value() : "";
    if (!gray.empty() && gray != "matlab" && gray != "opencv") iqa::fail(ErrorCode::Input, "gray must be 'matlab' or 'opencv'");
    bool do_resize = ops.Get("resize").IsObject(), do_crop = ops.Get("crop").IsObject();
    cv::Size size;
    iqa::Interp interp = iqa::Interp::Bilinear;
    if (do_resize) {
      Napi::Object r = ops.Get("resize").As<Napi::Object>();
      size = cv::Size(r.Get("width").ToNumber().Int32Value(), r.Get("height").ToNumber().Int32Value());
      interp = iqa::parse_interp(r.Get("interp").IsString() ? r.Get("interp").As<Napi::String>().Utf8Value() : "bilinear");
    }
    cv::Rect roi;
    if (do_crop) {
      Napi::Object c = ops.Get("crop").As<Napi::Object>();
      roi = cv::Rect(c.Get("x").ToNumber().Int32Value(), c.Get("y").ToNumber().Int32Value(), c.Get("width").ToNumber().Int32Value(),
                     c.Get("height").ToNumber().Int32Value());
    }
    double to_float = ops.Get("float").IsNumber() ? ops.Get("float").As<Napi::Number>().DoubleValue() : 0;
    auto result = std::make_shared<cv::Mat>();
    auto run = [=]() {
      cv::Mat img = iqa::load_image(src, decode);
      if (gray == "matlab") img = iqa::rgb2gray_matlab(img);
      if (gray == "opencv") img = iqa::rgb2gray_opencv(img);
      if (do_crop) img = iqa::crop(img, roi);
      if (do_resize) img = iqa::resize_image(img, size, interp);
      if (to_float > 0) img = iqa::to_float(img, to_float);
      *result = img.isContinuous() ? img : img.clone();
    };
    auto to_js = [result](Napi::Env env) -> Napi::Value {
      const cv::Mat& m = *result;
      size_t bytes = m.total() * m.elemSize();
      Napi::Object o = Napi::Object::New(env);
      Napi::ArrayBuffer ab = Napi::ArrayBuffer::New(env, bytes);
      std::memcpy(ab.Data(), m.data, bytes);
      size_t count = m.total() * m.channels();
      switch (m.depth()) {
        case CV_8U: o.Set("data", Napi::Uint8Array::New(env, count, ab, 0)); break;
        case CV_16U: o.Set("data", Napi::Uint16Array::New(env, count, ab, 0)); break;
        case CV_32F: o.Set("data", Napi::Float32Array::New(env, count, ab, 0)); break;
        default: o.Set("data", Napi::Float64Array::New(env, count, ab, 0)); break;
      }
      o.Set("width", m.cols);
      o.Set("height", m.rows);
      o.Set("channels", m.channels());
      o.Set("order", m.channels() == 1 ? "gray" : m.channels() == 3 ? "bgr" : "bgra");
      return o;
    };
    auto* w = new TaskWorker(info.Env(), run, to_js, keep_alive({wrapper}));
    w->Queue();
    return w->promise();
  });
}

Napi::Value CreateAbortFlag(const Napi::CallbackInfo& info) {
  return wrap_handle(info.Env(), std::make_shared<std::atomic<bool>>(false));
}

Napi::Value TriggerAbort(const Napi::CallbackInfo& info) {
  AbortFlag f = abort_flag_of(info[0]);
  if (f) f->store(true);
  return info.Env().Undefined();
}

Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    if (!info[0].IsNumber()) iqa::fail(ErrorCode::Input, "threads must be a number");
    cv::setNumThreads(info[0].As<Napi::Number>().Int32Value());
    return Napi::Number::New(info.Env(), cv::getNumThreads());
  });
}

}  // namespace

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("versions", Napi::Function::New(env, Versions));
  exports.Set("loadOrt", Napi::Function::New(env, LoadOrt));
  exports.Set("ortInfo", Napi::Function::New(env, OrtInfo));
  exports.Set("listMetrics", Napi::Function::New(env, ListMetrics));
  exports.Set("createNr", Napi::Function::New(env, CreateNr));
  exports.Set("createFr", Napi::Function::New(env, CreateFr));
  exports.Set("scoreNr", Napi::Function::New(env, ScoreNr));
  exports.Set("scoreFr", Napi::Function::New(env, ScoreFr));
  exports.Set("preprocess", Napi::Function::New(env, Preprocess));
  exports.Set("createAbortFlag", Napi::Function::New(env, CreateAbortFlag));
  exports.Set("triggerAbort", Napi::Function::New(env, TriggerAbort));
  exports.Set("setThreads", Napi::Function::New(env, SetThreads));
  InitModel(env, exports);
  return exports;
}

}  // namespace iqa_node

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) { return iqa_node::Init(env, exports); }

NODE_API_MODULE(iqa_node, InitAddon)
