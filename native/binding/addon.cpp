// Node-API entry point: argument checks and glue only; all work lives in native/core.
#include <napi.h>

#include <array>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>

#include <opencv2/core/utility.hpp>
#include <opencv2/core/utils/logger.hpp>
#include <opencv2/imgproc.hpp>

#include "brisque/train.h"
#include "common/versions.h"
#include "fr.h"
#include "handles.h"
#include "fr/fr_common.h"
#include "image/convert.h"
#include "image/highpass.h"
#include "image/encode.h"
#include "face.h"
#include "image/image.h"
#include "marshal.h"
#include "model.h"
#include "metric/metric.h"
#include "ort/runtime.h"
#include "video.h"
#include "workers.h"

namespace iqa_node {
namespace {

using iqa::ErrorCode;

std::string string_arg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (info.Length() <= i || !info[i].IsString()) iqa::fail(ErrorCode::Input, std::string(name) + " must be a string");
  return info[i].As<Napi::String>().Utf8Value();
}

Napi::Array array_arg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (info.Length() <= i || !info[i].IsArray()) iqa::fail(ErrorCode::Input, std::string(name) + " must be an array");
  return info[i].As<Napi::Array>();
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
      if (auto* detailed = dynamic_cast<const iqa::FrMapMetric*>(metric.get())) {
        iqa::FrDetail d = detailed->detail(ref, dist, false);
        out.score = d.score;
        if (d.channel_scores.size() > 1) out.values = d.channel_scores;  // per-channel scores (R,G,B)
      } else {
        out.score = metric->score(ref, dist);
      }
    };
    auto* w = new BatchWorker(info.Env(), ref_src->size(), compute, abort_flag_of(info[4]), keep_alive({refs, dists}));
    w->Queue();
    return w->promise();
  });
}

// preprocess(input, decodeOptions, ops) -> raw pixels after the conversion path; used by tests
// against independent references and by users who want the decoded pixels.
// ops: {gray?: 'matlab'|'opencv'|'pil', resize?: {width,height,interp}, crop?: {x,y,width,height},
//       float?: number (convert to float64 with this full-scale value, before resizing),
//       shrinkOnLoad?: boolean (JPEG decoded at 1/2..1/8 scale to at least resize's size; no crop)}
// Order: decode, gray, crop, float, resize.
Napi::Value Preprocess(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Napi::Object wrapper = Napi::Object::New(info.Env());
    wrapper.Set("input", info[0]);
    iqa::ImageSource src = to_image_source(info[0]);
    iqa::DecodeOptions decode = to_decode_options(info[1]);
    if (!info[2].IsObject()) iqa::fail(ErrorCode::Input, "ops must be an object");
    Napi::Object ops = info[2].As<Napi::Object>();
    std::string gray = ops.Get("gray").IsString() ? ops.Get("gray").As<Napi::String>().Utf8Value() : "";
    if (!gray.empty() && gray != "matlab" && gray != "opencv" && gray != "pil" && gray != "tf") iqa::fail(ErrorCode::Input, "gray must be 'matlab', 'opencv', 'pil' or 'tf'");
    bool do_resize = ops.Get("resize").IsObject(), do_crop = ops.Get("crop").IsObject();
    cv::Size size;
    double scale = 0;
    iqa::Interp interp = iqa::Interp::Bilinear;
    if (do_resize) {
      Napi::Object r = ops.Get("resize").As<Napi::Object>();
      interp = iqa::parse_interp(r.Get("interp").IsString() ? r.Get("interp").As<Napi::String>().Utf8Value() : "bilinear");
      if (r.Get("scale").IsNumber()) {
        if (interp != iqa::Interp::MatlabBicubic) iqa::fail(ErrorCode::Input, "resize.scale is only supported with matlab-bicubic");
        scale = r.Get("scale").As<Napi::Number>().DoubleValue();
      } else {
        size = cv::Size(r.Get("width").ToNumber().Int32Value(), r.Get("height").ToNumber().Int32Value());
      }
    }
    cv::Rect roi;
    if (do_crop) {
      Napi::Object c = ops.Get("crop").As<Napi::Object>();
      roi = cv::Rect(c.Get("x").ToNumber().Int32Value(), c.Get("y").ToNumber().Int32Value(), c.Get("width").ToNumber().Int32Value(),
                     c.Get("height").ToNumber().Int32Value());
    }
    if (bool_field(ops, "shrinkOnLoad", false)) {
      if (!do_resize || size.area() <= 0 || do_crop) iqa::fail(ErrorCode::Input, "shrinkOnLoad needs resize {width, height} and no crop");
      decode.shrink_to = size;
    }
    double to_float = ops.Get("float").IsNumber() ? ops.Get("float").As<Napi::Number>().DoubleValue() : 0;
    // highpass: {ksize, sigma, factor, interp} after the resize (image/highpass.h).
    bool do_highpass = ops.Get("highpass").IsObject();
    iqa::HighpassSpec hp;
    if (do_highpass) {
      Napi::Object h = ops.Get("highpass").As<Napi::Object>();
      hp.ksize = int(number_field(h, "ksize", hp.ksize));
      hp.sigma = number_field(h, "sigma", hp.sigma);
      hp.factor = int(number_field(h, "factor", hp.factor));
      hp.interp = iqa::parse_interp(string_field(h, "interp", "tf-bicubic"));
    }
    // tensor: {channels: 1|3, rgb: bool, mean: [3], std: [3]} -> NCHW float32 (last step).
    bool do_tensor = ops.Get("tensor").IsObject();
    int tensor_channels = 3;
    bool tensor_rgb = true;
    float mean[3] = {0, 0, 0}, stdev[3] = {1, 1, 1};
    if (do_tensor) {
      Napi::Object t = ops.Get("tensor").As<Napi::Object>();
      if (t.Get("channels").IsNumber()) tensor_channels = t.Get("channels").As<Napi::Number>().Int32Value();
      if (t.Get("rgb").IsBoolean()) tensor_rgb = t.Get("rgb").As<Napi::Boolean>().Value();
      for (const char* key : {"mean", "std"}) {
        Napi::Value v = t.Get(key);
        if (v.IsUndefined()) continue;
        if (!v.IsArray() || v.As<Napi::Array>().Length() != 3) iqa::fail(ErrorCode::Input, std::string("tensor.") + key + " must be an array of 3 numbers");
        for (uint32_t c = 0; c < 3; ++c) (key[0] == 'm' ? mean : stdev)[c] = v.As<Napi::Array>().Get(c).ToNumber().FloatValue();
      }
      for (float sd : stdev)
        if (!(sd > 0)) iqa::fail(ErrorCode::Input, "tensor.std values must be positive");
    }
    auto result = std::make_shared<cv::Mat>();
    auto tensor_shape = std::make_shared<std::array<int, 3>>();
    auto run = [=]() {
      cv::Mat img = iqa::load_image(src, decode);
      if (!gray.empty()) img = iqa::rgb2gray(img, iqa::parse_gray(gray));
      if (do_crop) img = iqa::crop(img, roi);
      if (to_float > 0) img = iqa::to_float(img, to_float);
      if (do_resize) img = scale > 0 ? iqa::imresize_matlab(img, scale) : iqa::resize_image(img, size, interp);
      if (do_highpass) img = iqa::highpass_normalize(img, hp);
      if (do_tensor) {
        cv::Mat packed(1, tensor_channels * img.rows * img.cols, CV_32F);
        iqa::pack_nchw(img, packed.ptr<float>(), tensor_channels, tensor_rgb, mean, stdev);
        *tensor_shape = {tensor_channels, img.rows, img.cols};
        *result = packed;
        return;
      }
      *result = img.isContinuous() ? img : img.clone();
    };
    auto to_js = [result, tensor_shape, do_tensor](Napi::Env env) -> Napi::Value {
      const cv::Mat& m = *result;
      if (do_tensor) {
        Napi::Object o = Napi::Object::New(env);
        Napi::Float32Array data = Napi::Float32Array::New(env, m.total());
        std::memcpy(data.Data(), m.data, m.total() * sizeof(float));
        o.Set("data", data);
        Napi::Array dims = Napi::Array::New(env, 4);
        dims.Set(0u, 1);
        for (uint32_t i = 0; i < 3; ++i) dims.Set(i + 1, (*tensor_shape)[i]);
        o.Set("dims", dims);
        return o;
      }
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

// encode(input, decodeOptions, {format, quality}) -> Promise<Buffer>
Napi::Value Encode(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Napi::Object wrapper = Napi::Object::New(info.Env());
    wrapper.Set("input", info[0]);
    iqa::ImageSource src = to_image_source(info[0]);
    iqa::DecodeOptions decode = to_decode_options(info[1]);
    iqa::Options opts = to_options(info[2]);
    std::string format = opts.text("format", "png");
    int quality = int(opts.number("quality", 90));
    auto bytes = std::make_shared<std::vector<uint8_t>>();
    auto run = [=]() { *bytes = iqa::encode_image(iqa::load_image(src, decode), format, quality); };
    auto to_js = [bytes](Napi::Env env) -> Napi::Value { return Napi::Buffer<uint8_t>::Copy(env, bytes->data(), bytes->size()); };
    auto* w = new TaskWorker(info.Env(), run, to_js, keep_alive({wrapper}));
    w->Queue();
    return w->promise();
  });
}

// trainBrisque(inputs[], names[], mos[], {out, range, folds?, variant?, seed?}) -> result object.
// Runs on a worker thread; the grid search fans out over OpenCV's pool.
Napi::Value TrainBrisque(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Napi::Array inputs = array_arg(info, 0, "inputs");
    Napi::Array names_js = array_arg(info, 1, "names");
    Napi::Array mos_js = array_arg(info, 2, "labels");
    if (!info[3].IsObject()) iqa::fail(ErrorCode::Input, "options must be an object");
    iqa::Options o = to_options(info[3]);
    auto sources = std::make_shared<std::vector<iqa::ImageSource>>(to_image_sources(inputs));
    auto names = std::make_shared<std::vector<std::string>>();
    auto mos = std::make_shared<std::vector<double>>();
    if (names_js.Length() != inputs.Length() || mos_js.Length() != inputs.Length()) iqa::fail(ErrorCode::Input, "inputs, names and labels differ in count");
    for (uint32_t i = 0; i < inputs.Length(); ++i) {
      Napi::Value nv = names_js.Get(i), mv = mos_js.Get(i);
      if (!nv.IsString() || !mv.IsNumber()) iqa::fail(ErrorCode::Input, "names must be strings and labels numbers");
      names->push_back(nv.As<Napi::String>().Utf8Value());
      mos->push_back(mv.As<Napi::Number>().DoubleValue());
    }
    iqa::brisque::TrainOptions topts;
    double folds = o.number("folds", 5);
    if (!(folds >= 2 && folds <= 100 && folds == double(int(folds)))) iqa::fail(ErrorCode::Input, "folds must be an integer from 2 to 100");
    topts.folds = int(folds);
    std::string variant = o.text("variant", "opencv");
    if (variant == "original") topts.variant = iqa::brisque::Variant::Original;
    else if (variant != "opencv") iqa::fail(ErrorCode::Input, "unknown BRISQUE variant '" + variant + "' (opencv, original)");
    topts.seed = unsigned(o.number("seed", 1));
    std::string out = o.text("out", ""), range = o.text("range", "");
    if (out.empty() || range.empty()) iqa::fail(ErrorCode::Input, "out and range paths are required");
    iqa::DecodeOptions decode = to_decode_options(info[4]);
    auto result = std::make_shared<iqa::brisque::TrainResult>();
    auto run = [=]() { *result = iqa::brisque::train(*sources, *names, *mos, decode, topts, out, range); };
    auto to_js = [result](Napi::Env env) -> Napi::Value {
      const auto& r = *result;
      Napi::Object o = Napi::Object::New(env);
      o.Set("images", r.images);
      o.Set("c", r.c);
      o.Set("gamma", r.gamma);
      o.Set("epsilon", r.epsilon);
      o.Set("cvSrocc", r.cv_srocc);
      o.Set("cvSroccSd", r.cv_srocc_sd);
      o.Set("cvPlcc", r.cv_plcc);
      o.Set("cvPlccSd", r.cv_plcc_sd);
      o.Set("gridPoints", r.grid_points);
      o.Set("folds", r.folds);
      o.Set("supportVectors", r.support_vectors);
      o.Set("featureSeconds", r.feature_seconds);
      o.Set("searchSeconds", r.search_seconds);
      o.Set("totalSeconds", r.total_seconds);
      Napi::Array failed = Napi::Array::New(env, r.failed.size());
      for (size_t i = 0; i < r.failed.size(); ++i) {
        Napi::Object f = Napi::Object::New(env);
        f.Set("image", r.failed[i].first);
        f.Set("message", r.failed[i].second);
        failed.Set(uint32_t(i), f);
      }
      o.Set("failed", failed);
      return o;
    };
    auto* w = new TaskWorker(info.Env(), run, to_js, keep_alive({inputs}));
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

// OpenCV's imdecode prints every decoder failure to std::cerr ("imdecode_(''): can't read
// data ..."); a server fed hostile uploads would flood its logs, and the error already reaches the
// caller as an IqaError. Silence std::cerr unless IQA_DEBUG is set.
void silence_native_stderr() {
  static std::ofstream null_stream;
  const char* debug = std::getenv("IQA_DEBUG");
  if (debug && *debug) return;
  std::cerr.rdbuf(null_stream.rdbuf());
  cv::utils::logging::setLogLevel(cv::utils::logging::LOG_LEVEL_SILENT);
}

}  // namespace

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  silence_native_stderr();
  exports.Set("versions", Napi::Function::New(env, Versions));
  exports.Set("loadOrt", Napi::Function::New(env, LoadOrt));
  exports.Set("ortInfo", Napi::Function::New(env, OrtInfo));
  exports.Set("listMetrics", Napi::Function::New(env, ListMetrics));
  exports.Set("createNr", Napi::Function::New(env, CreateNr));
  exports.Set("createFr", Napi::Function::New(env, CreateFr));
  exports.Set("scoreNr", Napi::Function::New(env, ScoreNr));
  exports.Set("scoreFr", Napi::Function::New(env, ScoreFr));
  exports.Set("preprocess", Napi::Function::New(env, Preprocess));
  exports.Set("encode", Napi::Function::New(env, Encode));
  exports.Set("trainBrisque", Napi::Function::New(env, TrainBrisque));
  exports.Set("createAbortFlag", Napi::Function::New(env, CreateAbortFlag));
  exports.Set("triggerAbort", Napi::Function::New(env, TriggerAbort));
  exports.Set("setThreads", Napi::Function::New(env, SetThreads));
  init_fr(env, exports);
  init_video(env, exports);
  init_video_model(env, exports);
  InitModel(env, exports);
  InitFace(env, exports);
  return exports;
}

}  // namespace iqa_node

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) { return iqa_node::Init(env, exports); }

NODE_API_MODULE(iqa_node, InitAddon)
