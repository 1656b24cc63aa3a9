// Node-API glue for face quality (native/core/face): createFace, faceScore.
#pragma once
#include <napi.h>

namespace iqa_node {
void InitFace(Napi::Env env, Napi::Object exports);
}
