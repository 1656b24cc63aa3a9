// JS value <-> core type conversion (argument checks happen here, on the main thread).
#pragma once
#include <napi.h>

#include <string>
#include <vector>

#include "common/error.h"
#include "common/options.h"
#include "image/image.h"
#include "ort/session.h"

namespace iqa_node {

// Throws a JS Error with `code` set (lib/errors.ts turns it into an IqaError).
Napi::Error make_error(Napi::Env env, iqa::ErrorCode code, const std::string& message);

// Reads {path} | {data} | {data,width,height,channels,order,float} as normalised by lib/input.ts.
// Pointers into JS buffers stay valid while the caller holds a reference to `value`.
iqa::ImageSource to_image_source(const Napi::Value& value);
std::vector<iqa::ImageSource> to_image_sources(const Napi::Array& array);
iqa::Options to_options(const Napi::Value& value);
iqa::DecodeOptions to_decode_options(const Napi::Value& value);

// Fields of an options object: undefined/null gives the fallback (lists: empty), a wrong type is ERR_INPUT.
Napi::Object object_arg(const Napi::Value& v, const char* what);
double number_field(const Napi::Object& o, const char* k, double fallback);
bool bool_field(const Napi::Object& o, const char* k, bool fallback);
std::string string_field(const Napi::Object& o, const char* k, const std::string& fallback);
std::vector<double> number_list(const Napi::Object& o, const char* k);
std::vector<std::string> string_list(const Napi::Object& o, const char* k);
// ONNX Runtime session options: device, threads, graph optimisation, CUDA settings, library.
iqa::ort::SessionOptions session_options_of(const Napi::Object& o);

}  // namespace iqa_node
