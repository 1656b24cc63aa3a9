#include "ort/session.h"

#include <cstring>
#include <filesystem>
#include <mutex>

#include "common/error.h"
#include "ort/ort_cxx.h"
#include "ort/runtime.h"

namespace iqa::ort {

namespace {

// One OrtEnv per process (ORT allows only one), created on first use and never destroyed:
// sessions may still be released by other threads during process exit.
Ort::Env& global_env() {
  static std::once_flag once;
  static Ort::Env* env = nullptr;
  std::call_once(once, [] { env = new Ort::Env(ORT_LOGGING_LEVEL_ERROR, "iqa-node"); });
  return *env;
}

void ensure_runtime(const std::string& library_path) {
  Runtime* rt = Runtime::current();
  if (!rt) {
    if (library_path.empty()) fail(ErrorCode::Device, "ONNX Runtime is not loaded (install onnxruntime-node or set IQA_ORT_LIBRARY)");
    rt = &Runtime::load(library_path);
  }
  Ort::InitApi(rt->api());
}

GraphOptimizationLevel parse_level(const std::string& s) {
  if (s == "disable" || s == "none") return ORT_DISABLE_ALL;
  if (s == "basic") return ORT_ENABLE_BASIC;
  if (s == "extended") return ORT_ENABLE_EXTENDED;
  if (s == "all") return ORT_ENABLE_ALL;
  fail(ErrorCode::Input, "graphOptimization must be 'disable', 'basic', 'extended' or 'all', got '" + s + "'");
}

Ort::SessionOptions base_options(const SessionOptions& o, bool cuda) {
  Ort::SessionOptions so;
  // On CUDA the CPU pool only runs shape arithmetic; its spinning threads would take cores from
  // the threads that decode and pack images. One thread unless asked otherwise.
  if (o.intra_op_threads > 0) so.SetIntraOpNumThreads(o.intra_op_threads);
  else if (cuda) so.SetIntraOpNumThreads(1);
  if (o.inter_op_threads > 0) {
    so.SetInterOpNumThreads(o.inter_op_threads);
    so.SetExecutionMode(ORT_PARALLEL);
  }
  so.SetGraphOptimizationLevel(parse_level(o.graph_optimization));
  if (!o.allow_spinning) so.AddConfigEntry("session.intra_op.allow_spinning", "0");
  return so;
}

void append_cuda(Ort::SessionOptions& so, const SessionOptions& o) {
  const OrtApi& api = Ort::GetApi();
  OrtCUDAProviderOptionsV2* cuda = nullptr;
  Ort::ThrowOnError(api.CreateCUDAProviderOptions(&cuda));
  std::unique_ptr<OrtCUDAProviderOptionsV2, void (*)(OrtCUDAProviderOptionsV2*)> guard(cuda, api.ReleaseCUDAProviderOptions);
  std::string dev = std::to_string(o.cuda_device_id);
  const char* keys[] = {"device_id", "prefer_nhwc", "use_tf32", "do_copy_in_default_stream"};
  const char* values[] = {dev.c_str(), o.prefer_nhwc ? "1" : "0", o.use_tf32 ? "1" : "0", o.cuda_copy_in_default_stream ? "1" : "0"};
  Ort::ThrowOnError(api.UpdateCUDAProviderOptions(cuda, keys, values, 4));
  Ort::ThrowOnError(api.SessionOptionsAppendExecutionProvider_CUDA_V2(so, cuda));
}

[[noreturn]] void rethrow_model_error(const std::string& path, const Ort::Exception& e) {
  fail(ErrorCode::Model, "cannot load model " + path + ": " + e.what());
}

std::vector<TensorInfo> describe(const Ort::Session& s, bool inputs) {
  Ort::AllocatorWithDefaultOptions alloc;
  size_t n = inputs ? s.GetInputCount() : s.GetOutputCount();
  std::vector<TensorInfo> out;
  for (size_t i = 0; i < n; ++i) {
    TensorInfo t;
    t.name = (inputs ? s.GetInputNameAllocated(i, alloc) : s.GetOutputNameAllocated(i, alloc)).get();
    Ort::TypeInfo ti = inputs ? s.GetInputTypeInfo(i) : s.GetOutputTypeInfo(i);
    if (ti.GetONNXType() == ONNX_TYPE_TENSOR) {
      auto tt = ti.GetTensorTypeAndShapeInfo();
      t.elem_type = tt.GetElementType();
      t.shape = tt.GetShape();
    }
    out.push_back(std::move(t));
  }
  return out;
}

}  // namespace

const char* elem_type_name(int t) {
  switch (t) {
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT: return "float32";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16: return "float16";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_DOUBLE: return "float64";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT8: return "uint8";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64: return "int64";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32: return "int32";
    case 0: return "non-tensor";
    default: return "other";
  }
}

struct Session::Impl {
  std::unique_ptr<Ort::Session> session;
  bool cuda = false;
  bool pinned = false;
  int device_id = 0;
  std::unique_ptr<Ort::MemoryInfo> pinned_info;
  std::unique_ptr<Ort::Allocator> pinned_alloc;
  std::vector<std::string> all_outputs;
};

Session::Session(const std::string& model_path, const SessionOptions& o) : impl_(new Impl) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(model_path, ec)) fail(ErrorCode::Model, "model file not found: " + model_path);
  if (o.device != "cpu" && o.device != "cuda" && o.device != "auto")
    fail(ErrorCode::Input, "device must be 'cpu', 'cuda' or 'auto', got '" + o.device + "'");
  ensure_runtime(o.library_path);
  Ort::Env& env = global_env();
  impl_->device_id = o.cuda_device_id;

  bool want_cuda = o.device != "cpu";
  if (want_cuda) {
    try {
      Ort::SessionOptions so = base_options(o, true);
      append_cuda(so, o);
      impl_->session = std::make_unique<Ort::Session>(env, model_path.c_str(), so);
      impl_->cuda = true;
    } catch (const Ort::Exception& e) {
      std::string why = e.what();
      // A model that cannot load is a model error whatever the device.
      if (e.GetOrtErrorCode() == ORT_INVALID_PROTOBUF || e.GetOrtErrorCode() == ORT_NO_SUCHFILE || e.GetOrtErrorCode() == ORT_INVALID_GRAPH)
        rethrow_model_error(model_path, e);
      if (o.device == "cuda" && o.strict_device) fail(ErrorCode::Device, "CUDA execution provider unavailable: " + why);
      fallback_ = "CUDA unavailable, running on CPU: " + why;
    }
  }
  if (!impl_->session) {
    try {
      Ort::SessionOptions so = base_options(o, false);
      impl_->session = std::make_unique<Ort::Session>(env, model_path.c_str(), so);
    } catch (const Ort::Exception& e) {
      rethrow_model_error(model_path, e);
    }
  }
  device_ = impl_->cuda ? "cuda" : "cpu";
  providers_ = impl_->cuda ? std::vector<std::string>{"CUDAExecutionProvider", "CPUExecutionProvider"} : std::vector<std::string>{"CPUExecutionProvider"};
  inputs_ = describe(*impl_->session, true);
  outputs_ = describe(*impl_->session, false);
  for (const auto& t : outputs_) impl_->all_outputs.push_back(t.name);
  if (impl_->cuda) {
    // Page-locked staging buffers make host->device copies DMA transfers (about 30% faster at batch 128).
    try {
      impl_->pinned_info = std::make_unique<Ort::MemoryInfo>("CudaPinned", OrtDeviceAllocator, 0, OrtMemTypeCPUOutput);
      impl_->pinned_alloc = std::make_unique<Ort::Allocator>(*impl_->session, *impl_->pinned_info);
      impl_->pinned = true;
    } catch (const Ort::Exception&) {
      impl_->pinned = false;
    }
  }
}

Session::~Session() = default;

bool Session::pinned_input() const { return impl_->pinned; }

uint8_t* Session::alloc_host(size_t bytes) const {
  bytes = std::max<size_t>(bytes, 1);
  if (impl_->pinned) {
    try {
      return static_cast<uint8_t*>(impl_->pinned_alloc->Alloc(bytes));
    } catch (const Ort::Exception& e) {
      fail(ErrorCode::Device, std::string("cannot allocate pinned memory: ") + e.what());
    }
  }
  void* p = nullptr;
  if (posix_memalign(&p, 64, bytes) != 0) throw std::bad_alloc();
  return static_cast<uint8_t*>(p);
}

void Session::free_host(uint8_t* p) const {
  if (!p) return;
  if (impl_->pinned) impl_->pinned_alloc->Free(p);
  else std::free(p);
}

void Session::run(const void* input, int elem_type, const std::vector<int64_t>& shape, const std::vector<std::string>& output_names,
                  const std::function<void(const std::vector<OutputView>&)>& consume) const {
  run({InputTensor{input, elem_type, shape}}, output_names, consume);
}

void Session::run(const std::vector<InputTensor>& inputs, const std::vector<std::string>& output_names,
                  const std::function<void(const std::vector<OutputView>&)>& consume) const {
  const std::vector<std::string>& names = output_names.empty() ? impl_->all_outputs : output_names;
  if (inputs.size() != inputs_.size())
    fail(ErrorCode::Model, "the model takes " + std::to_string(inputs_.size()) + " input(s), " + std::to_string(inputs.size()) + " given");
  std::vector<Ort::Value> outs;
  try {
    Ort::MemoryInfo cpu = Ort::MemoryInfo::CreateCpu(OrtDeviceAllocator, OrtMemTypeDefault);
    std::vector<Ort::Value> ins;
    std::vector<const char*> in_names;
    for (size_t k = 0; k < inputs.size(); ++k) {
      const InputTensor& t = inputs[k];
      size_t count = 1;
      for (int64_t d : t.shape) count *= size_t(d);
      // Only the first input lives in the (pinned) batch buffers alloc_host hands out.
      const Ort::MemoryInfo& in_info = impl_->pinned && k == 0 ? *impl_->pinned_info : cpu;
      size_t elem = t.elem_type == ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT8 ? 1 : t.elem_type == ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64 ? sizeof(int64_t) : sizeof(float);
      ins.push_back(Ort::Value::CreateTensor(in_info, const_cast<void*>(t.data), count * elem, t.shape.data(), t.shape.size(),
                                             ONNXTensorElementDataType(t.elem_type)));
      in_names.push_back(inputs_[k].name.c_str());
    }
    if (impl_->cuda) {
      // IO binding: ORT copies the (pinned) input to the device once and writes outputs to host memory.
      Ort::IoBinding binding(*impl_->session);
      for (size_t k = 0; k < ins.size(); ++k) binding.BindInput(in_names[k], ins[k]);
      for (const auto& n : names) binding.BindOutput(n.c_str(), cpu);
      impl_->session->Run(Ort::RunOptions{nullptr}, binding);
      binding.SynchronizeOutputs();
      outs = binding.GetOutputValues();
    } else {
      std::vector<const char*> out_names;
      for (const auto& n : names) out_names.push_back(n.c_str());
      outs = impl_->session->Run(Ort::RunOptions{nullptr}, in_names.data(), ins.data(), ins.size(), out_names.data(), out_names.size());
    }
  } catch (const Ort::Exception& e) {
    fail(e.GetOrtErrorCode() == ORT_INVALID_ARGUMENT ? ErrorCode::Model : impl_->cuda ? ErrorCode::Device : ErrorCode::Internal,
         std::string("ONNX Runtime run failed: ") + e.what());
  }
  std::vector<OutputView> views;
  for (size_t i = 0; i < outs.size(); ++i) {
    auto info = outs[i].GetTensorTypeAndShapeInfo();
    if (info.GetElementType() != ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT)
      fail(ErrorCode::Model, "output '" + names[i] + "' is " + elem_type_name(info.GetElementType()) + ", expected float32");
    views.push_back({outs[i].GetTensorData<float>(), info.GetShape()});
  }
  consume(views);
}

}  // namespace iqa::ort
