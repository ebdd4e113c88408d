#include "core/fixed.hpp"

#include <cstring>

#include "core/error.hpp"

namespace circa {

const char* sat_kind_name(SatKind k) {
  switch (k) {
    case SatKind::input:
      return "input";
    case SatKind::weight:
      return "weight";
    case SatKind::bias:
      return "bias";
    case SatKind::fft:
      return "fft";
    case SatKind::accum:
      return "accum";
    case SatKind::act:
      return "act";
    case SatKind::cell:
      return "cell";
    case SatKind::count_:
      break;
  }
  return "?";
}

namespace {
// 2^e for a normal exponent, built from its bits: x * pow2(e) is the same correctly rounded x 2^e that ldexp gives,
// without a library call per value (model packing quantizes every weight).
inline double pow2(int e) {
  if (e < -1022 || e > 1023) return std::ldexp(1.0, e);
  const std::uint64_t bits = static_cast<std::uint64_t>(1023 + e) << 52;
  double d;
  std::memcpy(&d, &bits, sizeof d);
  return d;
}
}  // namespace

std::int32_t quantize(double x, QFormat q, Rounding r, SatKind kind, SatCounters& sat) {
  // Scaling by 2^n is exact in binary floating point; values too large for int64 saturate anyway.
  const double y = x * pow2(q.n);
  const double lim = pow2(q.bits());
  if (y >= lim) return saturate(std::int64_t{1} << q.bits(), q.bits(), kind, sat);
  if (y <= -lim) return saturate(-(std::int64_t{1} << q.bits()), q.bits(), kind, sat);
  const double fl = std::floor(y);
  const double frac = y - fl;  // exact: |y| < 2^19
  auto v = static_cast<std::int64_t>(fl);
  if (frac > 0.5 || (frac == 0.5 && (r == Rounding::half_up || (v & 1)))) ++v;
  return saturate(v, q.bits(), kind, sat);
}

Rounding parse_rounding(const std::string& s) {
  if (s == "half_even") return Rounding::half_even;
  if (s == "half_up") return Rounding::half_up;
  throw InputError("rounding '" + s + "' is not half_even or half_up");
}

const char* rounding_name(Rounding r) {
  return r == Rounding::half_even ? "half_even" : "half_up";
}

}  // namespace circa
