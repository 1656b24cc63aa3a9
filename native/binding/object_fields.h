// Reading fields of JS option objects in the binding (type-checked; ERR_INPUT naming the field).
#pragma once
#include <napi.h>

#include <string>
#include <vector>

#include "common/error.h"
#include "ort/session.h"

namespace iqa_node {

using iqa::ErrorCode;

inline Napi::Object obj(const Napi::Value& v, const char* what) {
  if (!v.IsObject()) iqa::fail(ErrorCode::Input, std::string(what) + " must be an object");
  return v.As<Napi::Object>();
}
inline double num(const Napi::Object& o, const char* k, double fallback) {
  Napi::Value v = o.Get(k);
  if (v.IsUndefined() || v.IsNull()) return fallback;
  if (!v.IsNumber()) iqa::fail(ErrorCode::Input, std::string(k) + " must be a number");
  return v.As<Napi::Number>().DoubleValue();
}
inline bool flag(const Napi::Object& o, const char* k, bool fallback) {
  Napi::Value v = o.Get(k);
  if (v.IsUndefined() || v.IsNull()) return fallback;
  if (!v.IsBoolean()) iqa::fail(ErrorCode::Input, std::string(k) + " must be a boolean");
  return v.As<Napi::Boolean>().Value();
}
inline std::string text(const Napi::Object& o, const char* k, const std::string& fallback) {
  Napi::Value v = o.Get(k);
  if (v.IsUndefined() || v.IsNull()) return fallback;
  if (!v.IsString()) iqa::fail(ErrorCode::Input, std::string(k) + " must be a string");
  return v.As<Napi::String>().Utf8Value();
}
inline std::vector<double> numbers(const Napi::Object& o, const char* k) {
  std::vector<double> out;
  Napi::Value v = o.Get(k);
  if (v.IsUndefined() || v.IsNull()) return out;
  if (!v.IsArray()) iqa::fail(ErrorCode::Input, std::string(k) + " must be an array of numbers");
  Napi::Array a = v.As<Napi::Array>();
  for (uint32_t i = 0; i < a.Length(); ++i) {
    Napi::Value e = a.Get(i);
    if (!e.IsNumber()) iqa::fail(ErrorCode::Input, std::string(k) + " must be an array of numbers");
    out.push_back(e.As<Napi::Number>().DoubleValue());
  }
  return out;
}
inline std::vector<std::string> strings(const Napi::Object& o, const char* k) {
  std::vector<std::string> out;
  Napi::Value v = o.Get(k);
  if (v.IsUndefined() || v.IsNull()) return out;
  if (!v.IsArray()) iqa::fail(ErrorCode::Input, std::string(k) + " must be an array of strings");
  Napi::Array a = v.As<Napi::Array>();
  for (uint32_t i = 0; i < a.Length(); ++i) {
    Napi::Value e = a.Get(i);
    if (!e.IsString()) iqa::fail(ErrorCode::Input, std::string(k) + " must be an array of strings");
    out.push_back(e.As<Napi::String>().Utf8Value());
  }
  return out;
}


// ONNX Runtime session options: device, threads, graph optimisation, CUDA settings, library.
inline iqa::ort::SessionOptions session_options_of(const Napi::Object& o) {
  iqa::ort::SessionOptions s;
  s.device = text(o, "device", "cpu");
  s.strict_device = flag(o, "strictDevice", false);
  s.intra_op_threads = int(num(o, "intraOpThreads", 0));
  s.inter_op_threads = int(num(o, "interOpThreads", 0));
  s.graph_optimization = text(o, "graphOptimization", "all");
  s.cuda_device_id = int(num(o, "cudaDeviceId", 0));
  s.prefer_nhwc = flag(o, "preferNhwc", true);
  s.use_tf32 = flag(o, "useTf32", false);
  s.cuda_copy_in_default_stream = flag(o, "cudaCopyInDefaultStream", true);
  s.library_path = text(o, "libraryPath", "");
  return s;
}

}  // namespace iqa_node
