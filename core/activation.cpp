#include "core/activation.hpp"

#include <cmath>
#include <numeric>
#include <stdexcept>
#include <utility>

namespace circa {

namespace {

// Positions are (x_raw + R) * steps / (2R) with |x_raw| < 2^31 and steps <= 2^16; R <= 2^32 keeps every product
// (position numerators, interpolation and slope products) well inside int64.
constexpr double kMaxRRaw = 4294967296.0;

// num / den rounded to an integer (den > 0) with the same tie rule as shift_round: half_up sends ties toward
// +infinity (-2.5 -> -2), half_even to the even neighbour (-2.5 -> -2, -3.5 -> -4).
std::int64_t div_round(std::int64_t num, std::int64_t den, Rounding r) {
  std::int64_t q = num / den;
  std::int64_t rem = num - q * den;
  if (rem < 0) {  // C++ division truncates toward zero; make q the floor so rem is in [0, den)
    --q;
    rem += den;
  }
  if (2 * rem > den) return q + 1;
  if (2 * rem < den) return q;
  return (r == Rounding::half_up || (q & 1)) ? q + 1 : q;
}

// The function evaluated so that the tables are exactly symmetric: sigmoid(-x) is 1 - sigmoid(x), exact in double
// because sigmoid(x) is in [0.5, 1] for x >= 0 (Sterbenz), and tanh is made odd regardless of the libm. With
// half_even rounding, quantizing both sides then gives T[E-k] == 2^n - T[k] (sigmoid) and T[E-k] == -T[k] (tanh).
double fn_value(ActFn fn, double x) {
  if (fn == ActFn::sigmoid) {
    if (x >= 0) return 1.0 / (1.0 + std::exp(-x));
    return 1.0 - 1.0 / (1.0 + std::exp(x));
  }
  return x >= 0 ? std::tanh(x) : -std::tanh(-x);
}

void check_format(const QFormat& q, const char* what) {
  if (q.m < 1 || q.n < 0 || q.bits() < 8 || q.bits() > 18)
    throw std::invalid_argument(std::string("activation: ") + what + " format " + q.str() +
                                " is not 8..18 bits with a sign bit");
}

std::int32_t clamp_sym(std::int64_t v, std::int32_t hi) {
  if (v > hi) return hi;
  if (v < -hi) return -hi;
  return static_cast<std::int32_t>(v);
}

}  // namespace

Activation::Activation(ActFn fn, const ActivationSpec& spec, QFormat in, QFormat out)
    : fn_(fn), spec_(spec), in_(in), out_(out) {
  check_format(in, "input");
  check_format(out, "output");
  if (!(spec.range > 0) || !std::isfinite(spec.range)) throw std::invalid_argument("activation: range must be > 0");
  const double r_scaled = std::ldexp(spec.range, in.n);
  if (r_scaled != std::floor(r_scaled) || r_scaled > kMaxRRaw)
    throw std::invalid_argument("activation: range * 2^" + std::to_string(in.n) +
                                " must be an integer no larger than 2^32");
  r_raw_ = static_cast<std::int64_t>(r_scaled);

  int steps = 0;
  if (spec.mode == ActMode::lut) {
    if (spec.lut_entries < 16 || spec.lut_entries > 65536)
      throw std::invalid_argument("activation: lut_entries must be 16..65536");
    steps = spec.lut_entries;
  } else {
    if (spec.pwl_segments < 4 || spec.pwl_segments > 256)
      throw std::invalid_argument("activation: pwl_segments must be 4..256");
    steps = spec.pwl_segments;
  }
  const std::int64_t g = std::gcd(std::int64_t{steps}, 2 * r_raw_);
  pos_mul_ = steps / g;
  pos_den_ = 2 * r_raw_ / g;
  pos_shift_ = -1;
  for (int s = 0; s < 63; ++s) {
    if ((std::int64_t{1} << s) == pos_den_) {
      pos_shift_ = s;
      break;
    }
  }
  lut_pow2_ = spec.mode == ActMode::lut && spec.interpolate && pos_shift_ >= 0;

  // Local counters: the table is built once, and a saturated entry (1.0 in Q1.n) is a property of the formats.
  SatCounters sat;
  const Rounding rnd = spec.rounding;
  lo_raw_ = quantize(fn == ActFn::sigmoid ? 0.0 : -1.0, out, rnd, SatKind::act, sat);
  hi_raw_ = quantize(1.0, out, rnd, SatKind::act, sat);

  const double range = spec.range;
  if (spec.mode == ActMode::lut) {
    table_.resize(static_cast<std::size_t>(steps) + 1);
    for (int k = 0; k <= steps; ++k) {
      // (2k - E) * range / E is exact-sign-symmetric in k <-> E - k and exactly 0 at k = E/2.
      const double x = static_cast<double>(2 * k - steps) * range / steps;
      table_[k] = quantize(fn_value(fn, x), out, rnd, SatKind::act, sat);
    }
  } else {
    slope_shift_ = kSlopeFrac + in.n - out.n;
    const QFormat slope_fmt{kSlopeBits - kSlopeFrac, kSlopeFrac};
    auto chord = [&](int i) {
      const double xa = static_cast<double>(2 * i - steps) * range / steps;
      const double xb = static_cast<double>(2 * i + 2 - steps) * range / steps;
      const double fa = fn_value(fn, xa), fb = fn_value(fn, xb);
      // Intercept at x = 0 of the line through (xa, fa) and (xb, fb).
      return std::make_pair((fb - fa) / (xb - xa), (fa * xb - fb * xa) / (xb - xa));
    };
    table_.resize(2 * static_cast<std::size_t>(steps));
    for (int i = 0; i < steps; ++i) {
      std::pair<double, double> sb;
      if (2 * i + 1 < steps) {
        // Left half: mirror the right-half chord so that slopes are equal and intercepts sum to 1 (sigmoid, exact
        // as the right-half intercepts lie in [0.5, 1]) or 0 (tanh); the integers inherit it with half_even.
        sb = chord(steps - 1 - i);
        sb.second = fn == ActFn::sigmoid ? 1.0 - sb.second : -sb.second;
      } else {
        sb = chord(i);
      }
      table_[2 * i] = quantize(sb.first, slope_fmt, rnd, SatKind::act, sat);
      table_[2 * i + 1] = quantize(sb.second, out, rnd, SatKind::act, sat);
    }
  }
}

std::int32_t Activation::eval_general(std::int32_t x_raw, SatCounters* sat) const {
  const std::int64_t x = x_raw;
  if (x < -r_raw_) return lo_raw_;
  if (x >= r_raw_) return hi_raw_;
  const std::int64_t v = (x + r_raw_) * pos_mul_;  // position * pos_den_, in [0, steps * pos_den_)
  std::int64_t idx, rem;
  if (pos_shift_ >= 0) {
    idx = v >> pos_shift_;
    rem = v & (pos_den_ - 1);
  } else {
    idx = v / pos_den_;
    rem = v % pos_den_;
  }
  if (spec_.mode == ActMode::lut) {
    const std::int64_t t0 = table_[idx];
    if (!spec_.interpolate || rem == 0) return static_cast<std::int32_t>(t0);
    // One rounding of the exactly interpolated value, not T[idx] + round(increment): half_even is not invariant
    // under adding an odd T[idx], and rounding the increment alone would break the odd symmetry at ties.
    const std::int64_t num = t0 * pos_den_ + (table_[idx + 1] - t0) * rem;
    const std::int64_t y =
        pos_shift_ >= 0 ? shift_round(num, pos_shift_, spec_.rounding) : div_round(num, pos_den_, spec_.rounding);
    // Lies between two in-range entries, so no saturation is possible.
    return static_cast<std::int32_t>(y);
  }
  const std::int64_t slope = table_[2 * idx];
  const std::int64_t icpt = table_[2 * idx + 1];
  const std::int64_t y = shift_round(slope * x, slope_shift_, spec_.rounding) + icpt;
  const std::int32_t clamped = clamp_sym(y, out_.max_raw());
  if (sat && clamped != y) sat->add(SatKind::act);
  return clamped;
}

Activation::Lut32 Activation::lut32() const {
  Lut32 g;
  // Position numerators reach 2R * pos_mul; interpolation numerators |t0| * pos_den + |t1 - t0| * rem plus the
  // rounding constant stay below 4 * (max_raw + 1) * pos_den (every table value fits `out`, load_table checks it).
  const std::int64_t lim30 = std::int64_t{1} << 30;
  g.ok = lut_pow2_ && r_raw_ < lim30 && 2 * r_raw_ * pos_mul_ < lim30 &&
         4 * (static_cast<std::int64_t>(out_.max_raw()) + 1) * pos_den_ < 2 * lim30;
  if (!g.ok) return g;
  g.r = static_cast<std::int32_t>(r_raw_);
  g.pos_mul = static_cast<std::int32_t>(pos_mul_);
  g.pos_shift = pos_shift_;
  g.lo = lo_raw_;
  g.hi = hi_raw_;
  g.rounding = spec_.rounding;
  g.table = table_.data();
  return g;
}

void Activation::eval(const std::int32_t* x, std::int32_t* y, int n) const {
  for (int i = 0; i < n; ++i) y[i] = eval(x[i]);
}

void Activation::load_table(const std::vector<std::int32_t>& t) {
  if (t.size() != table_.size())
    throw std::invalid_argument("activation: table has " + std::to_string(t.size()) + " values, expected " +
                                std::to_string(table_.size()));
  const std::int32_t out_max = out_.max_raw();
  const std::int32_t slope_max = (std::int32_t{1} << (kSlopeBits - 1)) - 1;
  for (std::size_t i = 0; i < t.size(); ++i) {
    const bool is_slope = spec_.mode == ActMode::pwl && i % 2 == 0;
    const std::int32_t lim = is_slope ? slope_max : out_max;
    if (t[i] > lim || t[i] < -lim)
      throw std::invalid_argument("activation: table value " + std::to_string(t[i]) + " at " + std::to_string(i) +
                                  " does not fit its " + (is_slope ? "Q2.16 slope" : out_.str()) + " register");
  }
  table_ = t;
}

}  // namespace circa
