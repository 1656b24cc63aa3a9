#include "ort/runtime.h"

#include <dlfcn.h>

#include <memory>
#include <mutex>

#include <onnxruntime_c_api.h>

#include "common/error.h"

namespace iqa::ort {

namespace {
std::mutex g_mutex;
std::unique_ptr<Runtime> g_runtime;
}  // namespace

Runtime::Runtime(void* handle, const OrtApi* api, std::string path, uint32_t api_version)
    : handle_(handle), api_(api), path_(std::move(path)), api_version_(api_version) {}

Runtime* Runtime::current() {
  std::lock_guard<std::mutex> lock(g_mutex);
  return g_runtime.get();
}

Runtime& Runtime::load(const std::string& library_path) {
  std::lock_guard<std::mutex> lock(g_mutex);
  if (g_runtime) return *g_runtime;
  if (library_path.empty()) fail(ErrorCode::Device, "no ONNX Runtime library path given (install onnxruntime-node or set IQA_ORT_LIBRARY)");
  void* handle = dlopen(library_path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) fail(ErrorCode::Device, std::string("cannot load ONNX Runtime from ") + library_path + ": " + dlerror());
  using GetApiBase = const OrtApiBase* (*)();
  auto get_base = reinterpret_cast<GetApiBase>(dlsym(handle, "OrtGetApiBase"));
  if (!get_base) {
    dlclose(handle);
    fail(ErrorCode::Device, library_path + " is not an ONNX Runtime library (no OrtGetApiBase)");
  }
  const OrtApiBase* base = get_base();
  // Ask for the API version of our headers; a newer runtime serves older API versions.
  const OrtApi* api = base->GetApi(ORT_API_VERSION);
  if (!api) {
    std::string v = base->GetVersionString();
    dlclose(handle);
    fail(ErrorCode::Device, "ONNX Runtime " + v + " at " + library_path + " does not provide C API version " + std::to_string(ORT_API_VERSION));
  }
  g_runtime.reset(new Runtime(handle, api, library_path, ORT_API_VERSION));
  return *g_runtime;
}

RuntimeInfo Runtime::info() const {
  RuntimeInfo out;
  out.library_path = path_;
  out.api_version = api_version_;
  using GetApiBase = const OrtApiBase* (*)();
  auto get_base = reinterpret_cast<GetApiBase>(dlsym(handle_, "OrtGetApiBase"));
  out.version = get_base()->GetVersionString();
  char** names = nullptr;
  int count = 0;
  if (OrtStatus* st = api_->GetAvailableProviders(&names, &count)) {
    std::string msg = api_->GetErrorMessage(st);
    api_->ReleaseStatus(st);
    fail(ErrorCode::Device, "GetAvailableProviders failed: " + msg);
  }
  for (int i = 0; i < count; ++i) out.providers.emplace_back(names[i]);
  if (OrtStatus* st = api_->ReleaseAvailableProviders(names, count)) api_->ReleaseStatus(st);
  return out;
}

}  // namespace iqa::ort
