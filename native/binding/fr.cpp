#include "fr.h"

#include <cstring>
#include <memory>

#include "fr/fr_common.h"
#include "fr/ssimjs.h"
#include "image/image.h"
#include "marshal.h"
#include "workers.h"

namespace iqa_node {
namespace {

using iqa::ErrorCode;

double number_field(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  if (!v.IsNumber()) iqa::fail(ErrorCode::Input, std::string(key) + " must be a number");
  return v.As<Napi::Number>().DoubleValue();
}

int int_arg(const Napi::Value& v, const char* name) {
  if (!v.IsNumber()) iqa::fail(ErrorCode::Input, std::string(name) + " must be a number");
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 0 && d <= 2147483647.0) || d != double(int64_t(d))) iqa::fail(ErrorCode::Input, std::string(name) + " must be a non-negative integer");
  return int(d);
}

Napi::Float64Array mat_to_f64(Napi::Env env, const cv::Mat& m) {
  cv::Mat c = m.isContinuous() ? m : m.clone();
  Napi::Float64Array out = Napi::Float64Array::New(env, c.total());
  if (c.total()) std::memcpy(out.Data(), c.ptr<double>(0), c.total() * sizeof(double));
  return out;
}

// Arguments of ssimJs / ssimJsAsync, read on the main thread. The pixel pointers borrow the JS
// buffers: the caller keeps them referenced until the work is done.
struct SsimJsCall {
  const uint8_t* data[2] = {nullptr, nullptr};
  bool is_gray[2] = {false, false};  // Float64Array of grey values (else RGBA bytes)
  int width = 0, height = 0, factor = 1;
  bool gray_original = false;
  iqa::SsimJsParams params;

  iqa::SsimJsResult run() const {
    cv::Mat g[2];
    for (int i = 0; i < 2; ++i)
      g[i] = is_gray[i] ? iqa::ssimjs_downsample(cv::Mat(height, width, CV_64F, const_cast<uint8_t*>(data[i])).clone(), factor)
                        : iqa::ssimjs_gray(data[i], width, height, gray_original, factor);
    return iqa::ssimjs_compare(g[0], g[1], params);
  }
};

SsimJsCall parse_ssimjs(const Napi::CallbackInfo& info) {
  SsimJsCall call;
  call.width = int_arg(info[2], "width");
  call.height = int_arg(info[3], "height");
  if (!info[4].IsObject()) iqa::fail(ErrorCode::Input, "params must be an object");
  Napi::Object p = info[4].As<Napi::Object>();
  iqa::SsimJsParams& params = call.params;
  std::string mode = p.Get("mode").IsString() ? p.Get("mode").As<Napi::String>().Utf8Value() : "";
  if (mode == "fast") params.mode = iqa::SsimJsMode::Fast;
  else if (mode == "original") params.mode = iqa::SsimJsMode::Original;
  else if (mode == "bezkrovny") params.mode = iqa::SsimJsMode::Bezkrovny;
  else if (mode == "weber") params.mode = iqa::SsimJsMode::Weber;
  else iqa::fail(ErrorCode::Input, "unknown ssim mode '" + mode + "'");
  params.window = int_arg(p.Get("windowSize"), "windowSize");
  params.c1 = number_field(p, "c1");
  params.c2 = number_field(p, "c2");
  params.downsample = p.Get("downsample").ToBoolean().Value();
  params.max_size = number_field(p, "maxSize");
  call.gray_original = p.Get("grayOriginal").ToBoolean().Value();
  const size_t n = size_t(call.width) * size_t(call.height);
  call.factor = iqa::ssimjs_factor(call.width, call.height, params);
  for (int i = 0; i < 2; ++i) {
    const char* name = i == 0 ? "image1" : "image2";
    const Napi::Value v = info[i];
    if (!v.IsTypedArray()) iqa::fail(ErrorCode::Input, std::string(name) + " must be a typed array");
    Napi::TypedArray ta = v.As<Napi::TypedArray>();
    call.data[i] = static_cast<const uint8_t*>(ta.ArrayBuffer().Data()) + ta.ByteOffset();
    if (ta.TypedArrayType() == napi_float64_array) {
      if (ta.ElementLength() != n) iqa::fail(ErrorCode::Input, std::string(name) + " grey data must hold width*height values");
      call.is_gray[i] = true;
    } else if (ta.TypedArrayType() == napi_uint8_array || ta.TypedArrayType() == napi_uint8_clamped_array) {
      if (ta.ElementLength() < 4 * n) iqa::fail(ErrorCode::Input, std::string(name) + " holds fewer than width*height RGBA pixels");
    } else {
      iqa::fail(ErrorCode::Input, std::string(name) + " must be RGBA bytes or Float64Array grey values");
    }
  }
  return call;
}

Napi::Object ssimjs_result(Napi::Env env, const iqa::SsimJsResult& r) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("data", mat_to_f64(env, r.map));
  o.Set("width", r.map.cols);
  o.Set("height", r.map.rows);
  o.Set("mssim", r.mssim);
  return o;
}

// ssimJs(data1, data2, width, height, params) -> {data: Float64Array, width, height, mssim}
// dataN: RGBA bytes (Uint8Array/Uint8ClampedArray, >= 4*w*h) converted with ssim.js's rgb2gray,
// or a Float64Array of w*h grey values already converted by the caller. Synchronous, as ssim.js.
Napi::Value SsimJs(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value { return ssimjs_result(info.Env(), parse_ssimjs(info).run()); });
}

// ssimJsAsync(same arguments) -> Promise of the same result, computed on libuv's pool.
Napi::Value SsimJsAsync(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    SsimJsCall call = parse_ssimjs(info);
    std::vector<Napi::Reference<Napi::Value>> refs;
    refs.push_back(Napi::Persistent(info[0]));
    refs.push_back(Napi::Persistent(info[1]));
    auto result = std::make_shared<iqa::SsimJsResult>();
    auto* w = new TaskWorker(
        info.Env(), [call, result]() { *result = call.run(); }, [result](Napi::Env env) -> Napi::Value { return ssimjs_result(env, *result); },
        std::move(refs));
    w->Queue();
    return w->promise();
  });
}

iqa::ImageSsimInput image_ssim_input(const Napi::Value& v, const Napi::Value& channels, const char* name) {
  iqa::ImageSsimInput in;
  if (!v.IsTypedArray()) iqa::fail(ErrorCode::Input, std::string(name) + " data must be a typed array");
  Napi::TypedArray ta = v.As<Napi::TypedArray>();
  const uint8_t* base = static_cast<const uint8_t*>(ta.ArrayBuffer().Data()) + ta.ByteOffset();
  if (ta.TypedArrayType() == napi_float64_array) in.f64 = reinterpret_cast<const double*>(base);
  else if (ta.TypedArrayType() == napi_uint8_array || ta.TypedArrayType() == napi_uint8_clamped_array) in.u8 = base;
  else iqa::fail(ErrorCode::Input, std::string(name) + " data must be Uint8Array, Uint8ClampedArray or Float64Array");
  in.length = ta.ElementLength();
  in.channels = channels.IsNumber() ? channels.As<Napi::Number>().Int32Value() : 0;
  return in;
}

// imageSsim(data1, channels1, data2, channels2, width, height, windowSize, c1, c2, luminance)
Napi::Value ImageSsim(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    iqa::ImageSsimInput a = image_ssim_input(info[0], info[1], "image1"), b = image_ssim_input(info[2], info[3], "image2");
    const int width = int_arg(info[4], "width"), height = int_arg(info[5], "height"), window = int_arg(info[6], "windowSize");
    if (!info[7].IsNumber() || !info[8].IsNumber()) iqa::fail(ErrorCode::Input, "c1 and c2 must be numbers");
    iqa::ImageSsimResult r = iqa::image_ssim_compare(a, b, width, height, window, info[7].As<Napi::Number>().DoubleValue(),
                                                     info[8].As<Napi::Number>().DoubleValue(), info[9].ToBoolean().Value());
    Napi::Object o = Napi::Object::New(info.Env());
    o.Set("ssim", r.ssim);
    o.Set("mcs", r.mcs);
    return o;
  });
}

// frDetail(handle, ref, dist, decodeOptions, wantMaps) -> Promise<{score, channels, maps}>
Napi::Value FrDetailJs(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    if (!info[0].IsExternal()) iqa::fail(ErrorCode::Input, "expected a metric handle");
    std::shared_ptr<iqa::FrMetric> metric = *info[0].As<Napi::External<std::shared_ptr<iqa::FrMetric>>>().Data();
    auto map_metric = std::dynamic_pointer_cast<iqa::FrMapMetric>(metric);
    if (!map_metric) iqa::fail(ErrorCode::Input, "this metric has no quality map");
    Napi::Object keep = Napi::Object::New(info.Env());
    keep.Set("ref", info[1]);
    keep.Set("dist", info[2]);
    iqa::ImageSource ref_src = to_image_source(info[1]), dist_src = to_image_source(info[2]);
    iqa::DecodeOptions decode = to_decode_options(info[3]);
    const bool want_maps = info[4].ToBoolean().Value();
    auto result = std::make_shared<iqa::FrDetail>();
    auto run = [=]() {
      cv::Mat ref = iqa::load_image(ref_src, decode), dist = iqa::load_image(dist_src, decode);
      *result = map_metric->detail(ref, dist, want_maps);
    };
    auto to_js = [result](Napi::Env env) -> Napi::Value {
      Napi::Object o = Napi::Object::New(env);
      o.Set("score", result->score);
      Napi::Float64Array ch = Napi::Float64Array::New(env, result->channel_scores.size());
      for (size_t i = 0; i < result->channel_scores.size(); ++i) ch[i] = result->channel_scores[i];
      o.Set("channels", ch);
      Napi::Array maps = Napi::Array::New(env, result->maps.size());
      for (size_t i = 0; i < result->maps.size(); ++i) {
        Napi::Object m = Napi::Object::New(env);
        m.Set("data", mat_to_f64(env, result->maps[i]));
        m.Set("width", result->maps[i].cols);
        m.Set("height", result->maps[i].rows);
        maps.Set(uint32_t(i), m);
      }
      o.Set("maps", maps);
      return o;
    };
    std::vector<Napi::Reference<Napi::Value>> refs;
    refs.push_back(Napi::Persistent(Napi::Value(keep)));
    auto* w = new TaskWorker(info.Env(), run, to_js, std::move(refs));
    w->Queue();
    return w->promise();
  });
}

}  // namespace

void init_fr(Napi::Env env, Napi::Object exports) {
  exports.Set("ssimJs", Napi::Function::New(env, SsimJs));
  exports.Set("ssimJsAsync", Napi::Function::New(env, SsimJsAsync));
  exports.Set("imageSsim", Napi::Function::New(env, ImageSsim));
  exports.Set("frDetail", Napi::Function::New(env, FrDetailJs));
}

}  // namespace iqa_node
