// Node-API glue for deep models (native/core/ort/model.h): createModel, modelScore, modelInfo, modelClose.
#pragma once
#include <napi.h>

namespace iqa_node {
void InitModel(Napi::Env env, Napi::Object exports);
}
