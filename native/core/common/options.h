// A small, Node-free option bag: metric options arrive from any front end (Node, a C++ tool)
// as name -> number | bool | string, and each metric reads what it knows.
#pragma once
#include <map>
#include <string>
#include <variant>

#include "common/error.h"

namespace iqa {

using OptionValue = std::variant<double, bool, std::string>;

class Options {
 public:
  void set(const std::string& key, OptionValue v) { values_[key] = std::move(v); }
  bool has(const std::string& key) const { return values_.count(key) != 0; }

  double number(const std::string& key, double fallback) const {
    auto it = values_.find(key);
    if (it == values_.end()) return fallback;
    if (auto* d = std::get_if<double>(&it->second)) return *d;
    fail(ErrorCode::Input, "option '" + key + "' must be a number");
  }
  bool flag(const std::string& key, bool fallback) const {
    auto it = values_.find(key);
    if (it == values_.end()) return fallback;
    if (auto* b = std::get_if<bool>(&it->second)) return *b;
    fail(ErrorCode::Input, "option '" + key + "' must be a boolean");
  }
  std::string text(const std::string& key, const std::string& fallback) const {
    auto it = values_.find(key);
    if (it == values_.end()) return fallback;
    if (auto* s = std::get_if<std::string>(&it->second)) return *s;
    fail(ErrorCode::Input, "option '" + key + "' must be a string");
  }
  const std::map<std::string, OptionValue>& all() const { return values_; }

 private:
  std::map<std::string, OptionValue> values_;
};

}  // namespace iqa
