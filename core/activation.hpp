// circa: sigmoid and tanh as the accelerator computes them: a lookup table (optionally linearly interpolated) or
// piecewise-linear segments (C-LSTM style), bit-exact in fixed point.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "core/fixed.hpp"

namespace circa {

enum class ActFn { sigmoid, tanh };
enum class ActMode { lut, pwl };

struct ActivationSpec {
  ActMode mode = ActMode::lut;
  int lut_entries = 256;     // table covers [-range, +range) in lut_entries equal steps (+1 end entry)
  double range = 8.0;
  bool interpolate = true;
  int pwl_segments = 20;     // equal-width segments over [-range, +range)
  Rounding rounding = Rounding::half_even;
};

// One activation function for one input format and one output format.
// Outside [-range, range) the output is the function's limit (sigmoid 0/1, tanh -1/+1), saturated to `out`.
// range * 2^in.n must be an integer, so that the step (or segment) holding x_raw is found exactly:
//   position = (x_raw + R) * steps / (2R), R = range * 2^in.n, idx = floor(position).
//
// LUT: table() holds lut_entries + 1 values in `out`, entry k = f(-range + k * 2 * range / lut_entries) rounded.
//   Interpolated, y = round(T[idx] + (T[idx+1] - T[idx]) * frac), frac the exact fractional part of position,
//   rounded once (for half_up the same as T[idx] + round(increment)); otherwise y = T[idx].
// PWL: table() holds [slope0, intercept0, slope1, intercept1, ...], one chord per segment: the slope in Q2.16
//   (18 bits, a DSP48 B-port operand) and the intercept at x = 0 in `out`; y = round(slope * x) + intercept,
//   saturated to `out`.
// Every rounding is the spec's (half_up ties go toward +infinity, also for negative values). Saturations of the
// table values (e.g. 1.0 in a Q1.n output) happen once, at construction; eval does not count them.
class Activation {
public:
  static constexpr int kSlopeFrac = 16;  // PWL slope format Q2.16
  static constexpr int kSlopeBits = 18;

  Activation(ActFn fn, const ActivationSpec& spec, QFormat in, QFormat out);

  std::int32_t eval(std::int32_t x_raw) const;        // bit-exact, integer arithmetic only (inline below)
  // The same, counting a PWL output that had to be clamped into the output format as an `act` saturation, like
  // every other write-back (the LUT's outputs lie between in-range entries and never clamp).
  std::int32_t eval(std::int32_t x_raw, SatCounters& sat) const;
  void eval(const std::int32_t* x, std::int32_t* y, int n) const;
  double eval_float(double x) const { return fn_ == ActFn::sigmoid ? 1.0 / (1.0 + std::exp(-x)) : std::tanh(x); }

  // The table contents (LUT entries, or PWL slopes/intercepts), loadable at run time as NVDLA's LUTs are.
  const std::vector<std::int32_t>& table() const { return table_; }
  // Size must match and every value must fit its register (`out`, or Q2.16 for PWL slopes); throws
  // std::invalid_argument otherwise.
  void load_table(const std::vector<std::int32_t>& t);

  // The interpolated LUT with a power-of-two step in 32-bit terms, for the vector cell kernels
  // (core/cell_kernels_avx2.cpp): `ok` when eval() is that case and every intermediate of it fits an int32 with room
  // (position numerator below 2^30, interpolation numerator below 2^31), so an int32 lane computes the same integers.
  struct Lut32 {
    bool ok = false;
    std::int32_t r = 0, pos_mul = 1, pos_shift = 0, lo = 0, hi = 0;
    Rounding rounding = Rounding::half_even;
    const std::int32_t* table = nullptr;  // lut_entries + 1 values
  };
  Lut32 lut32() const;

  ActFn fn() const { return fn_; }
  QFormat in_format() const { return in_; }
  QFormat out_format() const { return out_; }

private:
  // PWL, no interpolation, or a step that is not 2^-s; a PWL clamp is counted in *sat when given.
  std::int32_t eval_general(std::int32_t x_raw, SatCounters* sat = nullptr) const;
  ActFn fn_;
  ActivationSpec spec_;
  QFormat in_, out_;
  std::vector<std::int32_t> table_;
  // Integer geometry: position = (x_raw + r_raw_) * pos_mul_ / pos_den_ (the fraction steps / 2R in lowest
  // terms); pos_shift_ = log2(pos_den_) when that is a power of two (the usual case), else -1.
  std::int64_t r_raw_ = 0;
  std::int64_t pos_mul_ = 1;
  std::int64_t pos_den_ = 1;
  int pos_shift_ = -1;
  int slope_shift_ = 0;  // PWL: fractional bits of slope * x beyond out.n
  std::int32_t lo_raw_ = 0, hi_raw_ = 0;  // outputs below and at/above the range
  bool lut_pow2_ = false;  // interpolated LUT whose step is 2^-pos_shift_ positions: the common case, inlined
};

// The interpolated LUT with a power-of-two step (every shipped config) inline, as each gate of each cell takes one;
// the rest through eval_general. Both compute what the class comment defines.
inline std::int32_t Activation::eval(std::int32_t x_raw, SatCounters& sat) const {
  return lut_pow2_ ? eval(x_raw) : eval_general(x_raw, &sat);
}

inline std::int32_t Activation::eval(std::int32_t x_raw) const {
  if (!lut_pow2_) return eval_general(x_raw);
  const std::int64_t x = x_raw;
  if (x < -r_raw_) return lo_raw_;
  if (x >= r_raw_) return hi_raw_;
  const std::int64_t v = (x + r_raw_) * pos_mul_;
  const std::int64_t idx = v >> pos_shift_;
  const std::int64_t rem = v & (pos_den_ - 1);
  const std::int64_t t0 = table_[static_cast<std::size_t>(idx)];
  if (rem == 0) return static_cast<std::int32_t>(t0);
  const std::int64_t num = t0 * pos_den_ + (table_[static_cast<std::size_t>(idx) + 1] - t0) * rem;
  return static_cast<std::int32_t>(shift_round(num, pos_shift_, spec_.rounding));
}

}  // namespace circa
