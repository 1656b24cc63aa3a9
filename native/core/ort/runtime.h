// ONNX Runtime, loaded at run time with dlopen so that one build of the addon works with the
// CPU library onnxruntime-node ships or any other ORT build (e.g. one with the CUDA provider)
// named by IQA_ORT_LIBRARY. Compiled against the versioned C API headers only.
#pragma once
#include <string>
#include <vector>

struct OrtApi;

namespace iqa::ort {

struct RuntimeInfo {
  std::string library_path;
  std::string version;
  uint32_t api_version = 0;
  std::vector<std::string> providers;
};

class Runtime {
 public:
  // Loads (once per path; the first successful load wins for the process) and returns the runtime.
  static Runtime& load(const std::string& library_path);
  // The runtime loaded so far, or nullptr.
  static Runtime* current();

  const OrtApi* api() const { return api_; }
  RuntimeInfo info() const;

 private:
  Runtime(void* handle, const OrtApi* api, std::string path, uint32_t api_version);
  void* handle_;
  const OrtApi* api_;
  std::string path_;
  uint32_t api_version_;
};

}  // namespace iqa::ort
