// One ONNX Runtime inference session: created from an ONNX file with the requested execution
// provider (CPU or CUDA with fallback), introspected (input/output names, types, shapes) and run
// on float32 host buffers. Run() is thread-safe (ORT sessions are); each call uses its own
// IO binding on CUDA.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace iqa::ort {

struct SessionOptions {
  std::string device = "cpu";   // "cpu" | "cuda" | "auto" (CUDA when it loads, else CPU)
  bool strict_device = false;   // device "cuda" that cannot be used: ERR_DEVICE instead of CPU fallback
  int intra_op_threads = 0;     // 0: ORT's default (physical cores)
  int inter_op_threads = 0;
  // ORT's intra-op threads spin after a run, waiting for the next one. A small model run between
  // the stages of a pipeline (a face detector before the embedding network) turns this off, so
  // that its idle threads do not take cores from the next stage's.
  bool allow_spinning = true;
  std::string graph_optimization = "all";  // "disable" | "basic" | "extended" | "all"
  int cuda_device_id = 0;
  bool prefer_nhwc = true;      // CUDA EP: NHWC convolutions (faster on tensor cores)
  bool use_tf32 = false;  // faithful fp32 by default; TF32 is opt-in (see lib/model.ts)
  bool cuda_copy_in_default_stream = true;  // CUDA EP do_copy_in_default_stream (0: copies on their own stream)
  std::string library_path;     // ORT library if not loaded yet ("" = must already be loaded)
};

// The same options with spinning off (see allow_spinning).
inline SessionOptions without_spinning(SessionOptions o) {
  o.allow_spinning = false;
  return o;
}

struct TensorInfo {
  std::string name;
  int elem_type = 0;            // ONNXTensorElementDataType
  std::vector<int64_t> shape;   // -1 where symbolic/dynamic
};

// One input tensor of a run: host memory (float32, uint8 or int64 `elem_type`), read during the run.
struct InputTensor {
  const void* data = nullptr;
  int elem_type = 1;  // ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT
  std::vector<int64_t> shape;
};

// One output tensor of a run: a float view valid while the run result lives.
struct OutputView {
  const float* data = nullptr;
  std::vector<int64_t> shape;
};

class Session {
 public:
  Session(const std::string& model_path, const SessionOptions& opts);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  const std::vector<TensorInfo>& inputs() const { return inputs_; }
  const std::vector<TensorInfo>& outputs() const { return outputs_; }
  const std::string& device() const { return device_; }            // what runs: "cpu" | "cuda"
  const std::string& fallback_reason() const { return fallback_; }  // why CUDA was not used ("" if it was or was not asked)
  std::vector<std::string> providers() const { return providers_; }
  bool pinned_input() const;  // input batches live in CUDA pinned memory

  // Host memory for input batches: page-locked (CUDA pinned) when the session runs on CUDA.
  uint8_t* alloc_host(size_t bytes) const;
  void free_host(uint8_t* p) const;

  // Runs the model on one input tensor (the first input; float32 or uint8 `elem_type`) and hands
  // the float outputs named `output_names` (all, if empty) to `consume` while they are alive.
  void run(const void* input, int elem_type, const std::vector<int64_t>& shape, const std::vector<std::string>& output_names,
           const std::function<void(const std::vector<OutputView>&)>& consume) const;
  // The same with one tensor per model input, in the order of inputs() (recurrent models take
  // their state as a second input).
  void run(const std::vector<InputTensor>& inputs, const std::vector<std::string>& output_names,
           const std::function<void(const std::vector<OutputView>&)>& consume) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::vector<TensorInfo> inputs_, outputs_;
  std::string device_, fallback_;
  std::vector<std::string> providers_;
};

// "float32", "float16", ... for messages.
const char* elem_type_name(int elem_type);

}  // namespace iqa::ort
