// Node-API glue for deep models (native/core/ort/model.h): createModel, modelScore, modelInfo, modelClose.
#pragma once
#include <napi.h>

#include "ort/model.h"

namespace iqa_node {
void InitModel(Napi::Env env, Napi::Object exports);
// {device, intraOpThreads, libraryPath, maxBatch, ...} as lib/deep/model.ts sends them.
iqa::ort::EngineOptions to_engine_options(const Napi::Value& v);
}
