// Typed errors of the core library. Each maps 1:1 to an IqaError code in lib/errors.ts.
#pragma once
#include <stdexcept>
#include <string>

namespace iqa {

enum class ErrorCode { Input, Decode, TooLarge, Model, Device, Aborted, Internal };

inline const char* error_code_name(ErrorCode c) {
  switch (c) {
    case ErrorCode::Input: return "ERR_INPUT";
    case ErrorCode::Decode: return "ERR_DECODE";
    case ErrorCode::TooLarge: return "ERR_TOO_LARGE";
    case ErrorCode::Model: return "ERR_MODEL";
    case ErrorCode::Device: return "ERR_DEVICE";
    case ErrorCode::Aborted: return "ERR_ABORTED";
    case ErrorCode::Internal: return "ERR_INTERNAL";
  }
  return "ERR_INTERNAL";
}

class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
  ErrorCode code() const noexcept { return code_; }

 private:
  ErrorCode code_;
};

[[noreturn]] inline void fail(ErrorCode code, const std::string& message) { throw Error(code, message); }

}  // namespace iqa
