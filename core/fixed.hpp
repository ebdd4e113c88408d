// circa: fixed-point arithmetic, the numbers the accelerator computes with (docs/architecture.md, "Fixed point").
//
// Conventions
// - Signed two's complement Qm.n, m counting the sign bit (Q8.8 == ap_fixed<16,8>), 8..18 bits, raw values held
//   in int32.
// - Saturation is symmetric: a b-bit value lies in [-(2^(b-1)-1), 2^(b-1)-1] (sc_fixed's SC_SAT_SYM). The most
//   negative code is never produced, so negating a value (complex conjugates in the FFT datapath) cannot overflow
//   and a pair of 16-bit products always fits an int32 (the host kernel relies on it).
// - Rounding is half-to-even (SC_RND_CONV) or half-up, i.e. ties toward +infinity (SC_RND).
// - Products and sums are exact in a wide accumulator (default 48 bits, like a DSP48); they are rounded and
//   saturated only when written back to a narrow format, and every saturation is counted by kind.
#pragma once

#include <array>
#include <cmath>
#include <cstdint>
#include <string>

namespace circa {

enum class Rounding { half_even, half_up };

struct QFormat {
  int m = 8;  // integer bits, sign included
  int n = 8;  // fractional bits
  int bits() const { return m + n; }
  std::int32_t max_raw() const { return (std::int32_t{1} << (bits() - 1)) - 1; }
  double lsb() const { return std::ldexp(1.0, -n); }
  std::string str() const { return "Q" + std::to_string(m) + "." + std::to_string(n); }
  bool operator==(const QFormat& o) const { return m == o.m && n == o.n; }
};

// Where a saturation happened, for the per-kind counters callers read.
enum class SatKind : int {
  input,    // features quantized to the activation format
  weight,   // FFT-domain weights, peepholes, dense output weights quantized offline
  bias,     // biases quantized offline
  fft,      // forward FFT outputs
  accum,    // wide sums written back (gate preactivations, projection, logits)
  act,      // activation outputs and element-wise products
  cell,     // cell state write-back
  count_
};
const char* sat_kind_name(SatKind k);

struct SatCounters {
  std::array<std::uint64_t, static_cast<int>(SatKind::count_)> n{};
  void add(SatKind k, std::uint64_t c = 1) { n[static_cast<int>(k)] += c; }
  std::uint64_t operator[](SatKind k) const { return n[static_cast<int>(k)]; }
  std::uint64_t total() const {
    std::uint64_t t = 0;
    for (auto v : n) t += v;
    return t;
  }
  SatCounters& operator+=(const SatCounters& o) {
    for (std::size_t i = 0; i < n.size(); ++i) n[i] += o.n[i];
    return *this;
  }
};

// v / 2^s rounded (s > 0), or v * 2^-s exactly (s <= 0). v must leave headroom for the left shift.
// Branch-free: with v = q 2^s + rem, adding 2^(s-1) - 1 + t and flooring gives q + 1 exactly when rem > half, or
// rem == half and t == 1; t = 1 rounds ties up (half-up), t = q & 1 rounds them to even.
inline std::int64_t shift_round(std::int64_t v, int s, Rounding r) {
  if (s <= 0) return v * (std::int64_t{1} << -s);
  const std::int64_t t = r == Rounding::half_up ? 1 : ((v >> s) & 1);
  return (v + ((std::int64_t{1} << (s - 1)) - 1) + t) >> s;
}

// v * 2^s for s >= 0 without the undefined behaviour of shifting a negative value left (C++17).
inline std::int64_t shl(std::int64_t v, int s) { return v * (std::int64_t{1} << s); }

// Clamps to the symmetric b-bit range, counting a saturation; any b up to 63 (the IFFT's inputs are 40 bits wide).
inline std::int64_t saturate_wide(std::int64_t v, int bits, SatKind kind, SatCounters& sat) {
  const std::int64_t hi = (std::int64_t{1} << (bits - 1)) - 1;
  if (v > hi) {
    sat.add(kind);
    return hi;
  }
  if (v < -hi) {
    sat.add(kind);
    return -hi;
  }
  return v;
}

// The same into a format of at most 32 bits (every Q format: 8..18 bits). A wider b would truncate the result: use
// saturate_wide.
inline std::int32_t saturate(std::int64_t v, int bits, SatKind kind, SatCounters& sat) {
  return static_cast<std::int32_t>(saturate_wide(v, bits, kind, sat));
}

// Write-back: a wide value with `from_frac` fractional bits into format q (round, then saturate).
inline std::int32_t write_back(std::int64_t v, int from_frac, QFormat q, Rounding r, SatKind kind, SatCounters& sat) {
  return saturate(shift_round(v, from_frac - q.n, r), q.bits(), kind, sat);
}

// A real number into format q (round, then saturate). NaN is a caller bug; features are validated finite.
std::int32_t quantize(double x, QFormat q, Rounding r, SatKind kind, SatCounters& sat);

inline double to_double(std::int64_t raw, int frac) { return std::ldexp(static_cast<double>(raw), -frac); }

Rounding parse_rounding(const std::string& s);  // "half_even" | "half_up"; throws InputError otherwise
const char* rounding_name(Rounding r);

}  // namespace circa
