// iqa-node's documented generator (crop positions, dropout masks): splitmix64 (Steele, Lea,
// Flood 2014), the same sequence the golden scripts reproduce in Python.
#pragma once
#include <cmath>
#include <cstdint>

namespace iqa {

struct SplitMix64 {
  uint64_t state;
  uint64_t next() {
    uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  // Uniform in [0, 1): the top 53 bits.
  double uniform() { return double(next() >> 11) * 0x1.0p-53; }
  // Standard normal: Box-Muller on two uniforms u, v (in this order), the cosine branch only:
  // sqrt(-2 ln(1 - u)) cos(2 pi v).
  double normal() {
    const double u = uniform(), v = uniform();
    return std::sqrt(-2.0 * std::log(1.0 - u)) * std::cos(6.283185307179586 * v);
  }
};

}  // namespace iqa
