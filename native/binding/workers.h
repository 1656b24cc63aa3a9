// AsyncWorkers: every scoring call decodes and computes on libuv's pool; batches fan out over
// OpenCV's pool inside one worker. Results are per item, so one bad input never fails a batch.
#pragma once
#include <napi.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/error.h"
#include "marshal.h"

namespace iqa_node {

using AbortFlag = std::shared_ptr<std::atomic<bool>>;

struct ItemOutcome {
  bool ok = false;
  double score = 0;
  std::vector<double> values;
  iqa::ErrorCode code = iqa::ErrorCode::Internal;
  std::string message;
};

// Runs `compute(i, outcome)` for each item in parallel, mapping exceptions to per-item errors.
class BatchWorker : public Napi::AsyncWorker {
 public:
  using Compute = std::function<void(size_t, ItemOutcome&)>;
  BatchWorker(Napi::Env env, size_t n, Compute compute, AbortFlag abort, std::vector<Napi::Reference<Napi::Value>> keep);
  Napi::Promise promise() { return deferred_.Promise(); }

 protected:
  void Execute() override;
  void OnOK() override;
  void OnError(const Napi::Error& e) override;
  // Marks the item ERR_ABORTED when the caller's signal fired; true when it did.
  bool mark_if_aborted(ItemOutcome& out) const;

 protected:  // model.cpp's ModelScoreWorker reuses the per-item results
  Napi::Promise::Deferred deferred_;
  std::vector<ItemOutcome> items_;
  Compute compute_;
  AbortFlag abort_;
  std::vector<Napi::Reference<Napi::Value>> keep_;  // JS buffers the sources point into
};

// Runs one closure off the main thread and resolves with what `to_js` builds from its result.
class TaskWorker : public Napi::AsyncWorker {
 public:
  using Run = std::function<void()>;
  using ToJs = std::function<Napi::Value(Napi::Env)>;
  TaskWorker(Napi::Env env, Run run, ToJs to_js, std::vector<Napi::Reference<Napi::Value>> keep);
  Napi::Promise promise() { return deferred_.Promise(); }

 protected:
  void Execute() override;
  void OnOK() override;
  void OnError(const Napi::Error& e) override;

 private:
  Napi::Promise::Deferred deferred_;
  Run run_;
  ToJs to_js_;
  iqa::ErrorCode code_ = iqa::ErrorCode::Internal;
  std::vector<Napi::Reference<Napi::Value>> keep_;
};

// Maps any exception to (code, message).
void classify_exception(std::exception_ptr ep, iqa::ErrorCode& code, std::string& message);

// Runs a synchronous binding body and turns core exceptions into JS errors carrying a code.
template <typename Fn>
Napi::Value guarded(const Napi::CallbackInfo& info, Fn fn) {
  try {
    return fn();
  } catch (const Napi::Error&) {
    throw;
  } catch (...) {
    iqa::ErrorCode code;
    std::string message;
    classify_exception(std::current_exception(), code, message);
    throw make_error(info.Env(), code, message);
  }
}

}  // namespace iqa_node
