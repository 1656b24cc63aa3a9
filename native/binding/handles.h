// Native objects handed to JavaScript as opaque handles (a shared_ptr in an External), the
// abort flag's handle, and references that keep JS buffers alive while a worker runs.
#pragma once
#include <napi.h>

#include <atomic>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "common/error.h"

namespace iqa_node {

template <typename T>
using Handle = Napi::External<std::shared_ptr<T>>;

template <typename T>
Napi::Value wrap_handle(Napi::Env env, std::shared_ptr<T> ptr) {
  return Handle<T>::New(env, new std::shared_ptr<T>(std::move(ptr)), [](Napi::Env, std::shared_ptr<T>* p) { delete p; });
}

template <typename T>
std::shared_ptr<T> unwrap_handle(const Napi::Value& v, const char* what) {
  if (!v.IsExternal()) iqa::fail(iqa::ErrorCode::Input, std::string("expected a ") + what + " handle");
  std::shared_ptr<T> p = *v.As<Handle<T>>().Data();
  if (!p) iqa::fail(iqa::ErrorCode::Input, std::string("the ") + what + " is closed");
  return p;
}

// Drops the handle's reference now instead of at garbage collection; a worker still running on
// it keeps its own reference, so the object goes when that worker ends. Closing twice is a no-op.
template <typename T>
void close_handle(const Napi::Value& v, const char* what) {
  if (!v.IsExternal()) iqa::fail(iqa::ErrorCode::Input, std::string("expected a ") + what + " handle");
  v.As<Handle<T>>().Data()->reset();
}

inline std::shared_ptr<std::atomic<bool>> abort_flag_of(const Napi::Value& v) {
  if (v.IsExternal()) return *v.As<Handle<std::atomic<bool>>>().Data();
  return nullptr;
}

inline std::vector<Napi::Reference<Napi::Value>> keep_alive(std::initializer_list<Napi::Value> values) {
  std::vector<Napi::Reference<Napi::Value>> refs;
  for (const auto& v : values) refs.push_back(Napi::Persistent(v));
  return refs;
}

}  // namespace iqa_node
