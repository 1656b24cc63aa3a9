#include "workers.h"

#include <new>

#include <opencv2/core.hpp>

#include "common/thread_priority.h"
#include "marshal.h"
#include "metric/metric.h"

namespace iqa_node {

using iqa::ErrorCode;

void classify_exception(std::exception_ptr ep, ErrorCode& code, std::string& message) {
  try {
    std::rethrow_exception(ep);
  } catch (const iqa::Error& e) {
    code = e.code();
    message = e.what();
  } catch (const cv::Exception& e) {
    code = e.code == cv::Error::StsNoMem ? ErrorCode::TooLarge : ErrorCode::Internal;
    message = "OpenCV: " + e.err;
  } catch (const std::bad_alloc&) {
    code = ErrorCode::TooLarge;
    message = "out of memory";
  } catch (const std::exception& e) {
    code = ErrorCode::Internal;
    message = e.what();
  } catch (...) {
    code = ErrorCode::Internal;
    message = "unknown native error";
  }
}

BatchWorker::BatchWorker(Napi::Env env, size_t n, Compute compute, AbortFlag abort, std::vector<Napi::Reference<Napi::Value>> keep)
    : Napi::AsyncWorker(env, "iqa:batch"), deferred_(Napi::Promise::Deferred::New(env)), items_(n),
      compute_(std::move(compute)), abort_(std::move(abort)), keep_(std::move(keep)) {}

bool BatchWorker::mark_if_aborted(ItemOutcome& out) const {
  if (!abort_ || !abort_->load()) return false;
  out.code = ErrorCode::Aborted;
  out.message = "aborted";
  return true;
}

void BatchWorker::Execute() {
  iqa::parallel_items(items_.size(), [this](size_t i) {
    ItemOutcome& out = items_[i];
    if (mark_if_aborted(out)) return;
    try {
      compute_(i, out);
      out.ok = true;
    } catch (...) {
      classify_exception(std::current_exception(), out.code, out.message);
    }
  });
}

void BatchWorker::OnOK() {
  Napi::Env env = Env();
  Napi::HandleScope scope(env);
  size_t n = items_.size();
  Napi::Float64Array scores = Napi::Float64Array::New(env, n);
  Napi::Array values = Napi::Array::New(env, n);
  Napi::Array errors = Napi::Array::New(env, n);
  for (size_t i = 0; i < n; ++i) {
    const ItemOutcome& it = items_[i];
    if (it.ok) {
      scores[i] = it.score;
      errors.Set(uint32_t(i), env.Null());
      if (!it.values.empty()) {
        Napi::Float64Array v = Napi::Float64Array::New(env, it.values.size());
        for (size_t k = 0; k < it.values.size(); ++k) v[k] = it.values[k];
        values.Set(uint32_t(i), v);
      } else {
        values.Set(uint32_t(i), env.Null());
      }
    } else {
      scores[i] = std::numeric_limits<double>::quiet_NaN();
      Napi::Object e = Napi::Object::New(env);
      e.Set("code", iqa::error_code_name(it.code));
      e.Set("message", it.message);
      errors.Set(uint32_t(i), e);
      values.Set(uint32_t(i), env.Null());
    }
  }
  Napi::Object result = Napi::Object::New(env);
  result.Set("scores", scores);
  result.Set("values", values);
  result.Set("errors", errors);
  keep_.clear();
  deferred_.Resolve(result);
}

void BatchWorker::OnError(const Napi::Error& e) {
  keep_.clear();
  deferred_.Reject(e.Value());
}

TaskWorker::TaskWorker(Napi::Env env, Run run, ToJs to_js, std::vector<Napi::Reference<Napi::Value>> keep)
    : Napi::AsyncWorker(env, "iqa:task"), deferred_(Napi::Promise::Deferred::New(env)), run_(std::move(run)),
      to_js_(std::move(to_js)), keep_(std::move(keep)) {}

void TaskWorker::Execute() {
  iqa::lower_current_thread_priority();
  try {
    run_();
  } catch (...) {
    std::string message;
    classify_exception(std::current_exception(), code_, message);
    SetError(message);
  }
}

void TaskWorker::OnOK() {
  Napi::HandleScope scope(Env());
  keep_.clear();
  try {
    deferred_.Resolve(to_js_(Env()));
  } catch (const Napi::Error& e) {
    deferred_.Reject(e.Value());
  }
}

void TaskWorker::OnError(const Napi::Error& e) {
  keep_.clear();
  Napi::Error err = make_error(Env(), code_, e.Message());
  deferred_.Reject(err.Value());
}

}  // namespace iqa_node
