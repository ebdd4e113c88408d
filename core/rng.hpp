// circa: a small deterministic random generator. std::uniform_real_distribution and friends are
// implementation-defined, so anything that must be byte-identical across platforms (synthetic models and features,
// test vectors) draws from here.
#pragma once

#include <cmath>
#include <cstdint>

namespace circa {

// SplitMix64 (Steele, Lea, Flood 2014): a full-period 64-bit generator with good statistical quality.
class Rng {
public:
  explicit Rng(std::uint64_t seed) : s_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (s_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  // Uniform in [0, 1) with 53 random bits (exact conversion, no rounding).
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  // Standard normal by Box-Muller; deterministic given the same libm.
  double normal() {
    double u1 = uniform(), u2 = uniform();
    if (u1 < 0x1.0p-60) u1 = 0x1.0p-60;
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }

private:
  std::uint64_t s_;
};

}  // namespace circa
