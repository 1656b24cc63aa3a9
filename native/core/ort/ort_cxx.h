// The ORT C++ wrapper without static initialisation: the API table comes from the library that
// Runtime loaded with dlopen (see runtime.h). Include this, never onnxruntime_cxx_api.h directly.
#pragma once
#define ORT_API_MANUAL_INIT
#include <onnxruntime_cxx_api.h>
#undef ORT_API_MANUAL_INIT
