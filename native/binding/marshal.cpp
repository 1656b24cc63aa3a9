#include "marshal.h"

namespace iqa_node {

using iqa::ErrorCode;

Napi::Error make_error(Napi::Env env, ErrorCode code, const std::string& message) {
  Napi::Error err = Napi::Error::New(env, message);
  err.Set("code", Napi::String::New(env, iqa::error_code_name(code)));
  return err;
}

static iqa::PixelOrder parse_order(const std::string& s) {
  if (s == "gray") return iqa::PixelOrder::Gray;
  if (s == "rgb") return iqa::PixelOrder::RGB;
  if (s == "bgr") return iqa::PixelOrder::BGR;
  if (s == "rgba") return iqa::PixelOrder::RGBA;
  if (s == "bgra") return iqa::PixelOrder::BGRA;
  iqa::fail(ErrorCode::Input, "unknown pixel order '" + s + "'");
}

static int int_field(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  if (!v.IsNumber()) iqa::fail(ErrorCode::Input, std::string("raw image field '") + key + "' must be a number");
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d == d) || d != static_cast<double>(static_cast<long long>(d)) || d < -2147483648.0 || d > 2147483647.0)
    iqa::fail(ErrorCode::Input, std::string("raw image field '") + key + "' must be an integer");
  return static_cast<int>(d);
}

iqa::ImageSource to_image_source(const Napi::Value& value) {
  iqa::ImageSource src;
  if (!value.IsObject()) iqa::fail(ErrorCode::Input, "image input must be an object");
  Napi::Object o = value.As<Napi::Object>();
  Napi::Value path = o.Get("path");
  if (path.IsString()) {
    src.kind = iqa::ImageSource::Kind::Path;
    src.path = path.As<Napi::String>().Utf8Value();
    return src;
  }
  Napi::Value data = o.Get("data");
  if (!data.IsTypedArray()) iqa::fail(ErrorCode::Input, "image data must be a Buffer or typed array");
  Napi::TypedArray ta = data.As<Napi::TypedArray>();
  Napi::ArrayBuffer ab = ta.ArrayBuffer();
  src.data = static_cast<const uint8_t*>(ab.Data()) + ta.ByteOffset();
  src.size = ta.ByteLength();
  if (!o.Has("width")) {
    src.kind = iqa::ImageSource::Kind::Encoded;
    return src;
  }
  src.kind = iqa::ImageSource::Kind::Raw;
  src.width = int_field(o, "width");
  src.height = int_field(o, "height");
  src.channels = int_field(o, "channels");
  Napi::Value order = o.Get("order");
  src.order = parse_order(order.IsString() ? order.As<Napi::String>().Utf8Value() : "");
  src.is_float = ta.TypedArrayType() == napi_float32_array;
  if (!src.is_float && ta.TypedArrayType() != napi_uint8_array && ta.TypedArrayType() != napi_uint8_clamped_array)
    iqa::fail(ErrorCode::Input, "raw image data must be Uint8Array, Uint8ClampedArray or Float32Array");
  return src;
}

std::vector<iqa::ImageSource> to_image_sources(const Napi::Array& array) {
  std::vector<iqa::ImageSource> out;
  out.reserve(array.Length());
  for (uint32_t i = 0; i < array.Length(); ++i) out.push_back(to_image_source(array.Get(i)));
  return out;
}

iqa::Options to_options(const Napi::Value& value) {
  iqa::Options opts;
  if (value.IsUndefined() || value.IsNull()) return opts;
  if (!value.IsObject()) iqa::fail(ErrorCode::Input, "options must be an object");
  Napi::Object o = value.As<Napi::Object>();
  Napi::Array keys = o.GetPropertyNames();
  for (uint32_t i = 0; i < keys.Length(); ++i) {
    std::string k = keys.Get(i).As<Napi::String>().Utf8Value();
    Napi::Value v = o.Get(k);
    if (v.IsNumber()) opts.set(k, v.As<Napi::Number>().DoubleValue());
    else if (v.IsBoolean()) opts.set(k, v.As<Napi::Boolean>().Value());
    else if (v.IsString()) opts.set(k, v.As<Napi::String>().Utf8Value());
    else if (!v.IsUndefined()) iqa::fail(ErrorCode::Input, "option '" + k + "' must be a number, boolean or string");
  }
  return opts;
}

iqa::DecodeOptions to_decode_options(const Napi::Value& value) {
  iqa::DecodeOptions d;
  if (!value.IsObject()) return d;
  Napi::Value limit = value.As<Napi::Object>().Get("limitInputPixels");
  if (limit.IsNumber()) {
    double v = limit.As<Napi::Number>().DoubleValue();
    if (!(v >= 0)) iqa::fail(ErrorCode::Input, "limitInputPixels must be a non-negative number");
    d.max_pixels = static_cast<uint64_t>(v);
  } else if (limit.IsBoolean() && !limit.As<Napi::Boolean>().Value()) {
    d.max_pixels = 0;
  }
  Napi::Value orient = value.As<Napi::Object>().Get("autoOrient");
  if (orient.IsBoolean()) d.auto_orient = orient.As<Napi::Boolean>().Value();
  else if (!orient.IsUndefined()) iqa::fail(ErrorCode::Input, "autoOrient must be a boolean");
  Napi::Value strict = value.As<Napi::Object>().Get("failOnWarning");
  if (strict.IsBoolean()) d.fail_on_warning = strict.As<Napi::Boolean>().Value();
  return d;
}

Napi::Object object_arg(const Napi::Value& v, const char* what) {
  if (!v.IsObject()) iqa::fail(iqa::ErrorCode::Input, std::string(what) + " must be an object");
  return v.As<Napi::Object>();
}
double number_field(const Napi::Object& o, const char* k, double fallback) {
  Napi::Value v = o.Get(k);
  if (v.IsUndefined() || v.IsNull()) return fallback;
  if (!v.IsNumber()) iqa::fail(iqa::ErrorCode::Input, std::string(k) + " must be a number");
  return v.As<Napi::Number>().DoubleValue();
}
bool bool_field(const Napi::Object& o, const char* k, bool fallback) {
  Napi::Value v = o.Get(k);
  if (v.IsUndefined() || v.IsNull()) return fallback;
  if (!v.IsBoolean()) iqa::fail(iqa::ErrorCode::Input, std::string(k) + " must be a boolean");
  return v.As<Napi::Boolean>().Value();
}
std::string string_field(const Napi::Object& o, const char* k, const std::string& fallback) {
  Napi::Value v = o.Get(k);
  if (v.IsUndefined() || v.IsNull()) return fallback;
  if (!v.IsString()) iqa::fail(iqa::ErrorCode::Input, std::string(k) + " must be a string");
  return v.As<Napi::String>().Utf8Value();
}
std::vector<double> number_list(const Napi::Object& o, const char* k) {
  std::vector<double> out;
  Napi::Value v = o.Get(k);
  if (v.IsUndefined() || v.IsNull()) return out;
  if (!v.IsArray()) iqa::fail(iqa::ErrorCode::Input, std::string(k) + " must be an array of numbers");
  Napi::Array a = v.As<Napi::Array>();
  for (uint32_t i = 0; i < a.Length(); ++i) {
    Napi::Value e = a.Get(i);
    if (!e.IsNumber()) iqa::fail(iqa::ErrorCode::Input, std::string(k) + " must be an array of numbers");
    out.push_back(e.As<Napi::Number>().DoubleValue());
  }
  return out;
}
std::vector<std::string> string_list(const Napi::Object& o, const char* k) {
  std::vector<std::string> out;
  Napi::Value v = o.Get(k);
  if (v.IsUndefined() || v.IsNull()) return out;
  if (!v.IsArray()) iqa::fail(iqa::ErrorCode::Input, std::string(k) + " must be an array of strings");
  Napi::Array a = v.As<Napi::Array>();
  for (uint32_t i = 0; i < a.Length(); ++i) {
    Napi::Value e = a.Get(i);
    if (!e.IsString()) iqa::fail(iqa::ErrorCode::Input, std::string(k) + " must be an array of strings");
    out.push_back(e.As<Napi::String>().Utf8Value());
  }
  return out;
}

iqa::ort::SessionOptions session_options_of(const Napi::Object& o) {
  iqa::ort::SessionOptions s;
  s.device = string_field(o, "device", "cpu");
  s.strict_device = bool_field(o, "strictDevice", false);
  s.intra_op_threads = int(number_field(o, "intraOpThreads", 0));
  s.inter_op_threads = int(number_field(o, "interOpThreads", 0));
  s.allow_spinning = bool_field(o, "allowSpinning", true);
  s.graph_optimization = string_field(o, "graphOptimization", "all");
  s.cuda_device_id = int(number_field(o, "cudaDeviceId", 0));
  s.prefer_nhwc = bool_field(o, "preferNhwc", true);
  s.use_tf32 = bool_field(o, "useTf32", false);
  s.cuda_copy_in_default_stream = bool_field(o, "cudaCopyInDefaultStream", true);
  s.library_path = string_field(o, "libraryPath", "");
  return s;
}

}  // namespace iqa_node
