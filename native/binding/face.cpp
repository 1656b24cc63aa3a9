#include "face.h"

#include <cmath>
#include <memory>

#include "face/mtcnn.h"
#include "face/pipeline.h"
#include "image/encode.h"
#include "image/image.h"
#include "marshal.h"
#include "metric/metric.h"
#include "handles.h"
#include "model.h"
#include "workers.h"

namespace iqa_node {
namespace {

using iqa::ErrorCode;
using PipelinePtr = std::shared_ptr<iqa::face::FacePipeline>;

// {template: name | {points[10], width, height}, resize?: [w,h], crop?: [x,y,w,h]}
iqa::face::AlignSpec to_align(const Napi::Value& v) {
  if (v.IsUndefined() || v.IsNull()) return iqa::face::arcface112();
  Napi::Object o = object_arg(v, "align");
  iqa::face::AlignSpec s;
  Napi::Value t = o.Get("template");
  if (t.IsString()) {
    s = iqa::face::align_spec_by_name(t.As<Napi::String>().Utf8Value());
  } else {
    Napi::Object to = object_arg(t, "align.template");
    auto pts = number_list(to, "points");
    if (pts.size() != 10) iqa::fail(ErrorCode::Input, "align.template.points must hold 10 numbers");
    for (size_t k = 0; k < 10; ++k) s.points[k] = pts[k];
    s.width = int(number_field(to, "width", 112));
    s.height = int(number_field(to, "height", 112));
    s.resize_width = s.resize_height = 0;
    s.crop = cv::Rect();
  }
  auto resize = number_list(o, "resize");
  if (resize.size() == 2) s.resize_width = int(resize[0]), s.resize_height = int(resize[1]);
  auto crop = number_list(o, "crop");
  if (crop.size() == 4) s.crop = cv::Rect(int(crop[0]), int(crop[1]), int(crop[2]), int(crop[3]));
  if (s.box) {
    if (s.resize_width < 1 || s.resize_height < 1) iqa::fail(ErrorCode::Input, "the 'box' template needs align.resize [width, height]");
    s.width = s.resize_width, s.height = s.resize_height;
  }
  if (s.width < 1 || s.height < 1 || s.width > 4096 || s.height > 4096) iqa::fail(ErrorCode::Input, "align canvas must be 1..4096 pixels");
  return s;
}

iqa::face::FaceModelSpec to_face_model(const Napi::Value& v) {
  Napi::Object o = object_arg(v, "face model");
  iqa::face::FaceModelSpec s;
  s.model_path = string_field(o, "modelPath", "");
  s.align = to_align(o.Get("align"));
  const std::string color = string_field(o, "color", "bgr"), layout = string_field(o, "layout", "NCHW");
  if (color != "rgb" && color != "bgr") iqa::fail(ErrorCode::Model, "face model color must be 'rgb' or 'bgr'");
  if (layout != "NCHW" && layout != "NHWC") iqa::fail(ErrorCode::Model, "face model layout must be 'NCHW' or 'NHWC'");
  s.rgb = color == "rgb";
  s.nhwc = layout == "NHWC";
  auto mean = number_list(o, "mean"), stdev = number_list(o, "std");
  for (int c = 0; c < 3; ++c) {
    if (!mean.empty()) s.mean[c] = float(mean[std::min<size_t>(c, mean.size() - 1)]);
    if (!stdev.empty()) s.stdev[c] = float(stdev[std::min<size_t>(c, stdev.size() - 1)]);
  }
  const std::string readout = string_field(o, "readout", "norm");
  if (readout == "norm") s.readout = iqa::face::Readout::Norm;
  else if (readout == "scalar") s.readout = iqa::face::Readout::Scalar;
  else if (readout == "softmax") s.readout = iqa::face::Readout::Softmax;
  else if (readout == "stochastic") s.readout = iqa::face::Readout::Stochastic;
  else iqa::fail(ErrorCode::Model, "face readout must be 'norm', 'scalar', 'softmax' or 'stochastic', not '" + readout + "'");
  if (s.readout == iqa::face::Readout::Stochastic) {
    s.head.path = string_field(o, "headPath", "");
    s.head.features_input = string_field(o, "headFeatures", "");
    s.head.mask_input = string_field(o, "headMask", "");
    s.head.output = string_field(o, "headOutput", "");
    s.head.passes = int(number_field(o, "passes", 100));
    s.head.dropout = number_field(o, "dropout", 0.5);
    s.head.channel_mask = string_field(o, "maskKind", "channel") == "channel";
    s.head.seed = uint64_t(number_field(o, "maskSeed", 0));
  }
  s.output = string_field(o, "output", "");
  s.index = int(number_field(o, "index", 0));
  if (s.index < 0) iqa::fail(ErrorCode::Model, "face readout index must be >= 0");
  return s;
}

iqa::face::FaceOptions to_face_options(const Napi::Value& v) {
  iqa::face::FaceOptions f;
  if (v.IsUndefined() || v.IsNull()) return f;
  Napi::Object o = object_arg(v, "face options");
  f.detect.score_threshold = float(number_field(o, "scoreThreshold", f.detect.score_threshold));
  f.detect.nms_threshold = float(number_field(o, "nmsThreshold", f.detect.nms_threshold));
  f.detect.top_k = int(number_field(o, "topK", f.detect.top_k));
  f.detect.max_side = int(number_field(o, "maxSide", f.detect.max_side));
  f.max_faces = int(number_field(o, "maxFaces", 0));
  f.min_face_size = float(number_field(o, "minFaceSize", 0));
  Napi::Value crops = o.Get("crops");
  f.crops = crops.IsBoolean() && crops.As<Napi::Boolean>().Value();
  f.landmarks = number_list(o, "landmarks");
  if (!f.landmarks.empty() && f.landmarks.size() != 10) iqa::fail(ErrorCode::Input, "landmarks must be 10 numbers (5 points)");
  for (double v : f.landmarks)
    if (!std::isfinite(v)) iqa::fail(ErrorCode::Input, "landmarks must be finite");
  Napi::Value embeddings = o.Get("embeddings");
  f.embeddings = embeddings.IsBoolean() && embeddings.As<Napi::Boolean>().Value();
  Napi::Value aligned = o.Get("aligned");
  f.aligned = aligned.IsBoolean() && aligned.As<Napi::Boolean>().Value();
  return f;
}

struct ImageOutcome {
  bool ok = false;
  std::vector<iqa::face::FaceOutcome> faces;
  std::vector<std::vector<uint8_t>> crops_png;
  ErrorCode code = ErrorCode::Internal;
  std::string message;
};

PipelinePtr unwrap(const Napi::Value& v) {
  if (!v.IsExternal()) iqa::fail(ErrorCode::Input, "expected a face pipeline handle");
  return *v.As<Napi::External<PipelinePtr>>().Data();
}

Napi::Value faces_to_js(Napi::Env env, const ImageOutcome& r, bool has_model) {
  Napi::Array faces = Napi::Array::New(env, r.faces.size());
  for (size_t i = 0; i < r.faces.size(); ++i) {
    const auto& f = r.faces[i];
    Napi::Object o = Napi::Object::New(env);
    Napi::Array box = Napi::Array::New(env, 4);
    box.Set(0u, f.detection.x), box.Set(1u, f.detection.y), box.Set(2u, f.detection.w), box.Set(3u, f.detection.h);
    o.Set("box", box);
    Napi::Array lm = Napi::Array::New(env, 10);
    for (uint32_t k = 0; k < 10; ++k) lm.Set(k, f.detection.landmarks[k]);
    o.Set("landmarks", lm);
    o.Set("score", f.detection.score);
    o.Set("status", iqa::face::face_status_name(f.status));
    if (f.status == iqa::face::FaceStatus::Ok && has_model) o.Set("raw", f.raw);
    else o.Set("raw", env.Null());
    if (!f.embedding.empty()) {
      Napi::Float32Array e = Napi::Float32Array::New(env, f.embedding.size());
      for (size_t k = 0; k < f.embedding.size(); ++k) e[k] = f.embedding[k];
      o.Set("embedding", e);
    }
    if (i < r.crops_png.size() && !r.crops_png[i].empty())
      o.Set("crop", Napi::Buffer<uint8_t>::Copy(env, r.crops_png[i].data(), r.crops_png[i].size()));
    faces.Set(uint32_t(i), o);
  }
  return faces;
}

// createFace({detectorPath, detectorKind?: 'yunet' | 'mtcnn' (detectorPath: the folder), model?, align?}, engine) -> Promise<handle>
Napi::Value CreateFace(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Napi::Object o = object_arg(info[0], "face spec");
    const std::string detector_path = string_field(o, "detectorPath", "");
    const std::string detector_kind = string_field(o, "detectorKind", "yunet");
    if (detector_kind != "yunet" && detector_kind != "mtcnn") iqa::fail(ErrorCode::Input, "detector kind must be 'yunet' or 'mtcnn'");
    const bool with_model = o.Get("model").IsObject();
    iqa::face::FaceModelSpec model_spec;
    if (with_model) model_spec = to_face_model(o.Get("model"));
    iqa::face::AlignSpec align = to_align(o.Get("align"));
    iqa::ort::EngineOptions engine = to_engine_options(info[1]);
    auto result = std::make_shared<PipelinePtr>();
    auto run = [=]() {
      std::shared_ptr<iqa::face::FaceDetector> det;
      if (detector_kind == "mtcnn")
        det = std::make_shared<iqa::face::MtcnnDetector>(detector_path, engine.session);
      else
        det = std::make_shared<iqa::face::FaceDetector>(detector_path, engine.session);
      std::shared_ptr<iqa::face::FaceModel> model;
      if (with_model) model = std::make_shared<iqa::face::FaceModel>(model_spec, engine.session);
      *result = std::make_shared<iqa::face::FacePipeline>(det, model, align);
    };
    auto to_js = [result](Napi::Env env) -> Napi::Value {
      return Napi::External<PipelinePtr>::New(env, new PipelinePtr(*result), [](Napi::Env, PipelinePtr* p) { delete p; });
    };
    auto* w = new TaskWorker(info.Env(), run, to_js, {});
    w->Queue();
    return w->promise();
  });
}

// faceScore(handle, inputs[], decode, options, abortFlag?) -> Promise<{results: (faces[] | null)[], errors}>
Napi::Value FaceScore(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    PipelinePtr pipeline = unwrap(info[0]);
    if (info.Length() < 2 || !info[1].IsArray()) iqa::fail(ErrorCode::Input, "inputs must be an array");
    auto sources = std::make_shared<std::vector<iqa::ImageSource>>(to_image_sources(info[1].As<Napi::Array>()));
    iqa::DecodeOptions decode = to_decode_options(info[2]);
    iqa::face::FaceOptions opts = to_face_options(info[3]);
    AbortFlag abort = info[4].IsExternal() ? *info[4].As<Napi::External<std::shared_ptr<std::atomic<bool>>>>().Data() : nullptr;
    auto results = std::make_shared<std::vector<ImageOutcome>>(sources->size());
    auto run = [=]() {
      iqa::parallel_items(sources->size(), [&](size_t i) {
        ImageOutcome& r = (*results)[i];
        if (abort && abort->load()) {
          r.code = ErrorCode::Aborted;
          r.message = "aborted";
          return;
        }
        try {
          cv::Mat img = iqa::load_image((*sources)[i], decode);
          r.faces = pipeline->run(img, opts);
          if (opts.crops)
            for (const auto& f : r.faces) r.crops_png.push_back(f.crop.empty() ? std::vector<uint8_t>{} : iqa::encode_image(f.crop, "png", 100));
          r.ok = true;
        } catch (...) {
          classify_exception(std::current_exception(), r.code, r.message);
        }
      });
    };
    const bool has_model = pipeline->has_model();
    auto to_js = [results, has_model](Napi::Env env) -> Napi::Value {
      Napi::Array out = Napi::Array::New(env, results->size());
      Napi::Array errors = Napi::Array::New(env, results->size());
      for (size_t i = 0; i < results->size(); ++i) {
        const ImageOutcome& r = (*results)[i];
        if (r.ok) {
          out.Set(uint32_t(i), faces_to_js(env, r, has_model));
          errors.Set(uint32_t(i), env.Null());
        } else {
          out.Set(uint32_t(i), env.Null());
          Napi::Object e = Napi::Object::New(env);
          e.Set("code", iqa::error_code_name(r.code));
          e.Set("message", r.message);
          errors.Set(uint32_t(i), e);
        }
      }
      Napi::Object o = Napi::Object::New(env);
      o.Set("results", out);
      o.Set("errors", errors);
      return o;
    };
    std::vector<Napi::Reference<Napi::Value>> keep;
    keep.push_back(Napi::Persistent(info[1]));
    auto* w = new TaskWorker(info.Env(), run, to_js, std::move(keep));
    w->Queue();
    return w->promise();
  });
}

// faceAlign(input, decode, landmarks[10], align) -> Promise<{data (BGR), width, height, matrix[6]}>
Napi::Value FaceAlign(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    auto src = std::make_shared<iqa::ImageSource>(to_image_source(info[0]));
    iqa::DecodeOptions decode = to_decode_options(info[1]);
    if (!info[2].IsArray() || info[2].As<Napi::Array>().Length() != 10) iqa::fail(ErrorCode::Input, "landmarks must be 10 numbers (5 points)");
    iqa::face::Points5 pts{};
    Napi::Array a = info[2].As<Napi::Array>();
    for (uint32_t k = 0; k < 10; ++k) {
      if (!a.Get(k).IsNumber()) iqa::fail(ErrorCode::Input, "landmarks must be 10 numbers (5 points)");
      pts[k] = a.Get(k).As<Napi::Number>().DoubleValue();
      if (!std::isfinite(pts[k])) iqa::fail(ErrorCode::Input, "landmarks must be finite");
    }
    iqa::face::AlignSpec spec = to_align(info[3]);
    auto crop = std::make_shared<cv::Mat>();
    auto matrix = std::make_shared<cv::Mat>();
    auto run = [=]() { *crop = iqa::face::align_face(iqa::face::to_bgr8(iqa::load_image(*src, decode)), pts, spec, matrix.get()); };
    auto to_js = [crop, matrix](Napi::Env env) -> Napi::Value {
      Napi::Object o = Napi::Object::New(env);
      cv::Mat c = crop->isContinuous() ? *crop : crop->clone();
      o.Set("data", Napi::Buffer<uint8_t>::Copy(env, c.data, c.total() * c.elemSize()));
      o.Set("width", c.cols);
      o.Set("height", c.rows);
      Napi::Array m = Napi::Array::New(env, 6);
      for (int k = 0; k < 6; ++k) m.Set(uint32_t(k), matrix->at<double>(k / 3, k % 3));
      o.Set("matrix", m);
      return o;
    };
    auto* w = new TaskWorker(info.Env(), run, to_js, keep_alive({info[0]}));
    w->Queue();
    return w->promise();
  });
}

}  // namespace

void InitFace(Napi::Env env, Napi::Object exports) {
  exports.Set("createFace", Napi::Function::New(env, CreateFace));
  exports.Set("faceScore", Napi::Function::New(env, FaceScore));
  exports.Set("faceAlign", Napi::Function::New(env, FaceAlign));
}

}  // namespace iqa_node
