// Node-API glue for the full-reference extras: quality maps (async) and the synchronous
// drop-ins behind iqa-node/ssim.js and iqa-node/image-ssim.
#pragma once
#include <napi.h>

namespace iqa_node {
void init_fr(Napi::Env env, Napi::Object exports);
}
