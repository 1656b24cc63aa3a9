// Node-API glue for video: probing, a frame reader (BGR frames for the image metrics), a
// reference/distorted comparison and video-model scoring (video_model.cpp), all read in chunks
// off the main thread.
#pragma once
#include <napi.h>

#include <vector>

#include "video/frame_source.h"

namespace iqa_node {
void init_video(Napi::Env env, Napi::Object exports);
void init_video_model(Napi::Env env, Napi::Object exports);

// {path, raw?: {width, height, fps}} and {start, end, step, maxFrames, timeoutMs, maxPixels, threads}.
iqa::VideoSpec video_spec_of(const Napi::Value& v);
iqa::VideoReadOptions video_read_of(const Napi::Value& v);
Napi::Object video_info_js(Napi::Env env, const iqa::VideoInfo& i);
// Frames per chunk: 1..4096.
size_t video_chunk_arg(const Napi::Value& v);

template <typename T>
Napi::Float64Array f64(Napi::Env env, const std::vector<T>& v) {
  Napi::Float64Array a = Napi::Float64Array::New(env, v.size());
  for (size_t i = 0; i < v.size(); ++i) a[i] = double(v[i]);
  return a;
}
}  // namespace iqa_node
