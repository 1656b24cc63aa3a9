// Node-API glue for video: probing, a frame reader (BGR frames for the image metrics) and a
// reference/distorted comparison, both read in chunks off the main thread.
#pragma once
#include <napi.h>

namespace iqa_node {
void init_video(Napi::Env env, Napi::Object exports);
}
