// Activation (LUT / PWL sigmoid and tanh): accuracy against the libm functions over every input code, exact values
// at hand-derived points, the symmetries the table construction guarantees, run-time table loading, spec checks.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <stdexcept>
#include <vector>

#include "core/activation.hpp"

namespace circa {
namespace {

constexpr QFormat kQ8_8{8, 8};
constexpr QFormat kQ8_10{8, 10};
constexpr QFormat kQ4_8{4, 8};

struct Variant {
  const char* name;
  ActMode mode;
  int steps;  // LUT entries or PWL segments
  bool interpolate;
};

const Variant kVariants[] = {
    {"LUT 256 interp", ActMode::lut, 256, true},   {"LUT 256 nearest-left", ActMode::lut, 256, false},
    {"LUT 1024 interp", ActMode::lut, 1024, true}, {"PWL 20", ActMode::pwl, 20, false},
    {"PWL 32", ActMode::pwl, 32, false},
};

ActivationSpec make_spec(const Variant& v, double range = 8.0, Rounding r = Rounding::half_even) {
  ActivationSpec s;
  s.mode = v.mode;
  s.lut_entries = v.mode == ActMode::lut ? v.steps : 256;
  s.pwl_segments = v.mode == ActMode::pwl ? v.steps : 20;
  s.interpolate = v.interpolate;
  s.range = range;
  s.rounding = r;
  return s;
}

double ref(ActFn fn, double x) {
  return fn == ActFn::sigmoid ? 1.0 / (1.0 + std::exp(-x)) : std::tanh(x);
}

// Every representable input code in [-range-1, range+1], clipped to the input format.
std::vector<std::int32_t> sweep_codes(QFormat in, double range) {
  const auto lim = static_cast<std::int64_t>(std::ldexp(range + 1.0, in.n));
  const std::int64_t lo = std::max<std::int64_t>(-lim, -in.max_raw());
  const std::int64_t hi = std::min<std::int64_t>(lim, in.max_raw());
  std::vector<std::int32_t> codes;
  for (std::int64_t c = lo; c <= hi; ++c) codes.push_back(static_cast<std::int32_t>(c));
  return codes;
}

double max_abs_error(const Activation& a, double range) {
  double worst = 0;
  for (std::int32_t c : sweep_codes(a.in_format(), range)) {
    const double y = to_double(a.eval(c), a.out_format().n);
    worst = std::max(worst, std::abs(y - ref(a.fn(), to_double(c, a.in_format().n))));
  }
  return worst;
}

struct AccuracyCase {
  ActFn fn;
  QFormat fmt;  // input and output
  int variant;  // index into kVariants
  Rounding rounding;
  double bound;  // a little above the measured value in the comment
};

// Range 8 throughout. An interpolated LUT is off by up to about one output LSB (the entry's half LSB plus the
// output's half LSB) plus the curvature error over a 1/16 step (max|f''| / 8 / 256: 3.8e-4 for tanh). A
// non-interpolated LUT is off by up to max|f'| * step (1/16 * 1/4 for sigmoid, 1/16 for tanh). A chord is off by up to
// max|f''| * width^2 / 8 (0.77 * 0.5^2 / 8 = 0.024 for tanh with 32 segments).
const AccuracyCase kAccuracy[] = {
    {ActFn::sigmoid, kQ8_8, 0, Rounding::half_even, 0.0037},    // measured 0.003576
    {ActFn::sigmoid, kQ8_8, 1, Rounding::half_even, 0.0160},    // measured 0.015766
    {ActFn::sigmoid, kQ8_8, 2, Rounding::half_even, 0.0037},    // measured 0.003576
    {ActFn::sigmoid, kQ8_8, 3, Rounding::half_even, 0.0105},    // measured 0.010320
    {ActFn::sigmoid, kQ8_8, 4, Rounding::half_even, 0.0046},    // measured 0.004515
    {ActFn::tanh, kQ8_8, 0, Rounding::half_even, 0.0037},       // measured 0.003550
    {ActFn::tanh, kQ8_8, 1, Rounding::half_even, 0.0590},       // measured 0.058691
    {ActFn::tanh, kQ8_8, 2, Rounding::half_even, 0.0039},       // measured 0.003787
    {ActFn::tanh, kQ8_8, 3, Rounding::half_even, 0.0505},       // measured 0.050227
    {ActFn::tanh, kQ8_8, 4, Rounding::half_even, 0.0236},       // measured 0.023438
    {ActFn::sigmoid, kQ8_8, 0, Rounding::half_up, 0.0037},      // measured 0.003588
    {ActFn::tanh, kQ8_8, 0, Rounding::half_up, 0.0037},         // measured 0.003595
    {ActFn::sigmoid, kQ8_10, 0, Rounding::half_even, 0.00098},  // measured 0.000945
    {ActFn::sigmoid, kQ8_10, 2, Rounding::half_even, 0.00097},  // measured 0.000939
    {ActFn::sigmoid, kQ8_10, 4, Rounding::half_even, 0.0039},   // measured 0.003862
    {ActFn::tanh, kQ8_10, 0, Rounding::half_even, 0.0012},      // measured 0.001160
    {ActFn::tanh, kQ8_10, 2, Rounding::half_even, 0.00097},     // measured 0.000944
    {ActFn::tanh, kQ8_10, 4, Rounding::half_even, 0.0234},      // measured 0.023242
    {ActFn::sigmoid, kQ4_8, 0, Rounding::half_even, 0.0037},    // measured 0.003576
    {ActFn::sigmoid, kQ4_8, 4, Rounding::half_even, 0.0046},    // measured 0.004515
    {ActFn::tanh, kQ4_8, 0, Rounding::half_even, 0.0037},       // measured 0.003550
    {ActFn::tanh, kQ4_8, 4, Rounding::half_even, 0.0236},       // measured 0.023438
};

TEST(Activation, MaxAbsErrorOverEveryInputCode) {
  std::printf("\n%-8s %-6s %-21s %-9s %12s %10s\n", "fn", "format", "variant", "rounding", "max|err|", "bound");
  for (const auto& c : kAccuracy) {
    const Variant& v = kVariants[c.variant];
    const Activation a(c.fn, make_spec(v, 8.0, c.rounding), c.fmt, c.fmt);
    const double err = max_abs_error(a, 8.0);
    std::printf("%-8s %-6s %-21s %-9s %12.6f %10.5f\n", c.fn == ActFn::sigmoid ? "sigmoid" : "tanh",
                c.fmt.str().c_str(), v.name, rounding_name(c.rounding), err, c.bound);
    EXPECT_LE(err, c.bound) << (c.fn == ActFn::sigmoid ? "sigmoid " : "tanh ") << c.fmt.str() << " " << v.name;
  }
}

// The value both limits and f(0) map to, scaled: sigmoid(x) + sigmoid(-x) = 1, tanh(x) + tanh(-x) = 0.
std::int32_t symmetry_sum(ActFn fn, QFormat out) {
  return fn == ActFn::sigmoid ? (std::int32_t{1} << out.n) : 0;
}

TEST(Activation, ExactValuesAtHandDerivedPoints) {
  for (const Variant& v : kVariants) {
    SCOPED_TRACE(v.name);
    const Activation sig(ActFn::sigmoid, make_spec(v), kQ8_8, kQ8_8);
    const Activation th(ActFn::tanh, make_spec(v), kQ8_8, kQ8_8);
    // x = 0 is a step / segment boundary (even counts): the LUT entry is f(0) itself, and the chord of
    // [0, width) has intercept f(0) = 0.5 exactly (0.5 * w / w); 0.5 in Q8.8 is raw 128.
    EXPECT_EQ(sig.eval(0), 128);
    EXPECT_EQ(th.eval(0), 0);
    // At and above the range (8.0 = raw 2048), the limit 1.0 = raw 256; below -8.0 the limits 0 and -1.0.
    for (std::int32_t x : {2048, 2049, 4000, 32767}) {
      EXPECT_EQ(sig.eval(x), 256) << x;
      EXPECT_EQ(th.eval(x), 256) << x;
    }
    for (std::int32_t x : {-2049, -4000, -32767}) {
      EXPECT_EQ(sig.eval(x), 0) << x;
      EXPECT_EQ(th.eval(x), -256) << x;
    }
    // x = -8.0 is inside the range: the first entry / chord, f(-8) = 0.000335 (sigmoid) rounds to 0 and
    // tanh(-8) = -0.99999977 to -256.
    EXPECT_EQ(sig.eval(-2048), 0);
    EXPECT_EQ(th.eval(-2048), -256);
  }
  // 1.0 does not fit Q1.15: the upper limit saturates to 32767, the lower tanh limit to -32767 (symmetric).
  const Variant& lut = kVariants[0];
  const Activation sig_q1(ActFn::sigmoid, make_spec(lut), kQ8_8, QFormat{1, 15});
  const Activation th_q1(ActFn::tanh, make_spec(lut), kQ8_8, QFormat{1, 15});
  EXPECT_EQ(sig_q1.eval(32767), 32767);
  EXPECT_EQ(sig_q1.eval(-32767), 0);
  EXPECT_EQ(th_q1.eval(32767), 32767);
  EXPECT_EQ(th_q1.eval(-32767), -32767);
  EXPECT_EQ(sig_q1.eval(0), 16384);
  // LUT 256 over [-8, 8) in Q8.8: 16 input codes per step. x = 8 (0.03125) is half way through step 128:
  // T[128] = 128, T[129] = round(256 * sigmoid(1/16)) = round(131.9988) = 132, so y = 128 + 4 * 8/16 = 130.
  const Activation sig_lut(ActFn::sigmoid, make_spec(lut), kQ8_8, kQ8_8);
  EXPECT_EQ(sig_lut.table()[128], 128);
  EXPECT_EQ(sig_lut.table()[129], 132);
  EXPECT_EQ(sig_lut.eval(8), 130);
}

// Exact with half_even, because the table construction evaluates f symmetrically (sigmoid(-x) = 1 - sigmoid(x)
// exactly in double, tanh odd) and half_even rounding and symmetric saturation are themselves odd-symmetric:
// - every table: T[E-k] + T[k] == S (LUT), slope[S-1-i] == slope[i] and icpt[S-1-i] + icpt[i] == S (PWL), with
//   S = 2^n for sigmoid and 0 for tanh;
// - eval(x) + eval(-x) == S for -R < x < R with interpolation (the mirrored step's weight is 1 - frac) and for PWL
//   off segment boundaries (at a boundary -x falls into the other neighbour's chord);
// - a non-interpolated LUT samples each step's left edge, so only at step boundaries.
// half_up rounds ties toward +infinity, which is not symmetric, so none of this is claimed for it.
TEST(Activation, SymmetryOfTheConstruction) {
  for (const QFormat fmt : {kQ8_8, kQ8_10}) {
    for (const ActFn fn : {ActFn::sigmoid, ActFn::tanh}) {
      for (const Variant& v : kVariants) {
        SCOPED_TRACE(std::string(fn == ActFn::sigmoid ? "sigmoid " : "tanh ") + fmt.str() + " " + v.name);
        const Activation a(fn, make_spec(v), fmt, fmt);
        const std::int32_t sum = symmetry_sum(fn, fmt);
        const auto& t = a.table();
        if (v.mode == ActMode::lut) {
          ASSERT_EQ(t.size(), static_cast<std::size_t>(v.steps) + 1);
          for (int k = 0; k <= v.steps; ++k) ASSERT_EQ(t[k] + t[v.steps - k], sum) << k;
        } else {
          ASSERT_EQ(t.size(), 2 * static_cast<std::size_t>(v.steps));
          for (int i = 0; i < v.steps; ++i) {
            const int j = v.steps - 1 - i;
            ASSERT_EQ(t[2 * i], t[2 * j]) << i;
            ASSERT_EQ(t[2 * i + 1] + t[2 * j + 1], sum) << i;
          }
        }
        const std::int64_t r = static_cast<std::int64_t>(std::ldexp(8.0, fmt.n));
        for (std::int64_t x = -r + 1; x < r; ++x) {
          const bool boundary = ((x + r) * v.steps) % (2 * r) == 0;
          if (v.mode == ActMode::pwl && boundary) continue;
          if (v.mode == ActMode::lut && !v.interpolate && !boundary) continue;
          const auto xi = static_cast<std::int32_t>(x);
          ASSERT_EQ(a.eval(xi) + a.eval(-xi), sum) << x;
        }
      }
    }
  }
}

// A LUT is monotone: the entries are (rounded values of an increasing function), and interpolation between them
// with a rounded weight stays between neighbours. Chords of neighbouring segments need not meet exactly.
TEST(Activation, LutIsMonotone) {
  for (const ActFn fn : {ActFn::sigmoid, ActFn::tanh}) {
    for (const Rounding rnd : {Rounding::half_even, Rounding::half_up}) {
      for (const Variant& v : kVariants) {
        if (v.mode != ActMode::lut) continue;
        SCOPED_TRACE(v.name);
        const Activation a(fn, make_spec(v, 8.0, rnd), kQ8_8, kQ8_8);
        for (std::int32_t x = -32767; x < 32767; ++x) ASSERT_LE(a.eval(x), a.eval(x + 1)) << x;
      }
    }
  }
}

// An independent floating-point restatement of the integer datapath. Every quantity is an integer below 2^53 or
// an exactly rounded quotient of such, so a tie is exactly .5 in double and anything else is at least 1/den away
// from one: nearbyint (ties to even in the default rounding mode) and floor(v + 0.5) reproduce the spec's rounding.
double round_ref(double v, Rounding r) {
  return r == Rounding::half_even ? std::nearbyint(v) : std::floor(v + 0.5);
}

std::int32_t eval_ref(const Activation& a, const ActivationSpec& s, std::int32_t x) {
  const QFormat in = a.in_format(), out = a.out_format();
  const double r = std::ldexp(s.range, in.n);
  const int steps = s.mode == ActMode::lut ? s.lut_entries : s.pwl_segments;
  const double num = (x + r) * steps;
  const double idx = std::floor(num / (2 * r));
  const double rem = num - idx * 2 * r;
  const auto i = static_cast<std::size_t>(idx);
  const auto& t = a.table();
  double y;
  if (s.mode == ActMode::lut) {
    y = t[i];
    if (s.interpolate) y = round_ref((t[i] * 2 * r + (t[i + 1] - t[i]) * rem) / (2 * r), s.rounding);
  } else {
    y = round_ref(std::ldexp(static_cast<double>(t[2 * i]) * x, -(Activation::kSlopeFrac + in.n - out.n)), s.rounding) +
        t[2 * i + 1];
    y = std::clamp(y, -static_cast<double>(out.max_raw()), static_cast<double>(out.max_raw()));
  }
  return static_cast<std::int32_t>(y);
}

// Range 6 makes 2R = 3072 (Q8.8), so steps / 2R does not reduce to a power-of-two denominator and the general
// division path runs; range 8 takes the shift path. Entry counts not dividing 2R (100, 24) give non-integer steps.
TEST(Activation, IntegerPathMatchesFloatingRestatement) {
  const Variant variants[] = {
      {"LUT 256 interp", ActMode::lut, 256, true},
      {"LUT 100 interp", ActMode::lut, 100, true},
      {"LUT 100 nearest-left", ActMode::lut, 100, false},
      {"PWL 20", ActMode::pwl, 20, false},
      {"PWL 24", ActMode::pwl, 24, false},
  };
  for (const double range : {8.0, 6.0}) {
    for (const Rounding rnd : {Rounding::half_even, Rounding::half_up}) {
      for (const ActFn fn : {ActFn::sigmoid, ActFn::tanh}) {
        for (const Variant& v : variants) {
          for (const QFormat fmt : {kQ8_8, kQ4_8, kQ8_10}) {
            SCOPED_TRACE(std::string(v.name) + " " + fmt.str() + " range " + std::to_string(range) + " " +
                         rounding_name(rnd));
            const ActivationSpec s = make_spec(v, range, rnd);
            const Activation a(fn, s, fmt, fmt);
            const auto r = static_cast<std::int32_t>(std::ldexp(range, fmt.n));
            const std::int32_t lo = std::max(-r, -fmt.max_raw()), hi = std::min(r - 1, fmt.max_raw());
            std::vector<std::int32_t> xs, ys(static_cast<std::size_t>(hi - lo + 1));
            for (std::int32_t x = lo; x <= hi; ++x) xs.push_back(x);
            a.eval(xs.data(), ys.data(), static_cast<int>(xs.size()));
            for (std::size_t k = 0; k < xs.size(); ++k) {
              ASSERT_EQ(ys[k], eval_ref(a, s, xs[k])) << xs[k];
              ASSERT_EQ(ys[k], a.eval(xs[k])) << xs[k];
            }
          }
        }
      }
    }
  }
}

std::vector<std::int32_t> eval_all(const Activation& a) {
  std::vector<std::int32_t> y;
  for (std::int32_t x = -a.in_format().max_raw(); x <= a.in_format().max_raw(); ++x) y.push_back(a.eval(x));
  return y;
}

// Q8.8, range 8: LUT 256 steps are 16 input codes wide; PWL 20 segments are 204.8 codes wide.
TEST(Activation, LoadTableChangesOnlyTheLoadedStep) {
  const std::int32_t max_raw = kQ8_8.max_raw();
  {
    Activation a(ActFn::sigmoid, make_spec(kVariants[1]), kQ8_8, kQ8_8);
    const std::vector<std::int32_t> before = eval_all(a);
    const std::vector<std::int32_t> orig = a.table();
    std::vector<std::int32_t> t = orig;
    const int k = 140;
    t[k] += 7;
    a.load_table(t);
    EXPECT_EQ(a.table(), t);
    const std::vector<std::int32_t> after = eval_all(a);
    for (std::int32_t x = -max_raw; x <= max_raw; ++x) {
      const bool in_step = x >= -2048 + 16 * k && x < -2048 + 16 * (k + 1);
      EXPECT_EQ(after[x + max_raw] - before[x + max_raw], in_step ? 7 : 0) << x;
    }
    a.load_table(orig);
    EXPECT_EQ(eval_all(a), before);
  }
  {
    // Interpolated, entry k is the right end of step k-1 and the left end of step k; a change of 100 moves every
    // output whose position is strictly inside (k-1, k+1) by at least 100 * 1/16 - 1 (rounding), and no other.
    Activation a(ActFn::tanh, make_spec(kVariants[0]), kQ8_8, kQ8_8);
    const std::vector<std::int32_t> before = eval_all(a);
    std::vector<std::int32_t> t = a.table();
    const int k = 150;
    t[k] += 100;
    a.load_table(t);
    const std::vector<std::int32_t> after = eval_all(a);
    for (std::int32_t x = -max_raw; x <= max_raw; ++x) {
      const bool affected = x > -2048 + 16 * (k - 1) && x < -2048 + 16 * (k + 1);
      const std::int32_t d = after[x + max_raw] - before[x + max_raw];
      if (affected) {
        EXPECT_GE(d, 5) << x;
      } else {
        EXPECT_EQ(d, 0) << x;
      }
    }
  }
  {
    // PWL: segment i covers codes [ceil(-2048 + 204.8 i), ceil(-2048 + 204.8 (i+1))); its intercept moves its
    // outputs by exactly the change (no saturation near 0.9 in Q8.8).
    Activation a(ActFn::sigmoid, make_spec(kVariants[3]), kQ8_8, kQ8_8);
    const std::vector<std::int32_t> before = eval_all(a);
    std::vector<std::int32_t> t = a.table();
    const int i = 13;
    t[2 * i + 1] += 5;
    a.load_table(t);
    const std::vector<std::int32_t> after = eval_all(a);
    for (std::int32_t x = -max_raw; x <= max_raw; ++x) {
      const bool in_seg = x >= -2048 && x < 2048 && (x + 2048) * 20 / 4096 == i;
      EXPECT_EQ(after[x + max_raw] - before[x + max_raw], in_seg ? 5 : 0) << x;
    }
  }
}

TEST(Activation, LoadTableRejectsWrongSizeAndValues) {
  Activation lut(ActFn::sigmoid, make_spec(kVariants[0]), kQ8_8, kQ8_8);
  std::vector<std::int32_t> t = lut.table();
  EXPECT_EQ(t.size(), 257u);
  for (std::size_t n : {0u, 256u, 258u}) {
    EXPECT_THROW(lut.load_table(std::vector<std::int32_t>(n, 0)), std::invalid_argument) << n;
  }
  t[3] = 32768;  // one past Q8.8's symmetric maximum
  EXPECT_THROW(lut.load_table(t), std::invalid_argument);
  t[3] = -32768;
  EXPECT_THROW(lut.load_table(t), std::invalid_argument);

  Activation pwl(ActFn::tanh, make_spec(kVariants[3]), kQ8_8, kQ8_8);
  std::vector<std::int32_t> p = pwl.table();
  EXPECT_EQ(p.size(), 40u);
  EXPECT_THROW(pwl.load_table(std::vector<std::int32_t>(39, 0)), std::invalid_argument);
  p[0] = (1 << 17);  // slope beyond Q2.16's symmetric 18-bit range
  EXPECT_THROW(pwl.load_table(p), std::invalid_argument);
  p[0] = (1 << 17) - 1;  // the largest slope, 2 - 2^-16
  p[1] = -32767;
  EXPECT_NO_THROW(pwl.load_table(p));
  // Segment 0 (x in [-2048, -1844]) now computes round(131071 * x / 2^16) - 32767 <= -3688 - 32767: every output
  // saturates to Q8.8's symmetric minimum.
  for (std::int32_t x = -2048; x <= -1844; ++x) EXPECT_EQ(pwl.eval(x), -32767) << x;
  EXPECT_GT(pwl.eval(-1843), -32767);
}

TEST(Activation, InvalidSpecsThrow) {
  auto build = [](ActivationSpec s, QFormat in = kQ8_8, QFormat out = kQ8_8) {
    Activation a(ActFn::sigmoid, s, in, out);
  };
  ActivationSpec lut;
  ActivationSpec pwl;
  pwl.mode = ActMode::pwl;
  EXPECT_NO_THROW(build(lut));
  EXPECT_NO_THROW(build(pwl));

  for (int e : {16, 65536}) {
    ActivationSpec s = lut;
    s.lut_entries = e;
    EXPECT_NO_THROW(build(s)) << e;
  }
  for (int e : {0, 15, 65537, -256}) {
    ActivationSpec s = lut;
    s.lut_entries = e;
    EXPECT_THROW(build(s), std::invalid_argument) << e;
  }
  for (int g : {4, 256}) {
    ActivationSpec s = pwl;
    s.pwl_segments = g;
    EXPECT_NO_THROW(build(s)) << g;
  }
  for (int g : {0, 3, 257}) {
    ActivationSpec s = pwl;
    s.pwl_segments = g;
    EXPECT_THROW(build(s), std::invalid_argument) << g;
  }
  // range * 2^8 must be a positive integer: 8.5 and 2^-8 are, 8.001 and 2^-9 are not.
  for (double r : {8.5, 1.0 / 256, 100.0}) {
    ActivationSpec s = lut;
    s.range = r;
    EXPECT_NO_THROW(build(s)) << r;
  }
  for (double r : {0.0, -8.0, 8.001, 1.0 / 512, std::nan(""), HUGE_VAL}) {
    for (ActivationSpec s : {lut, pwl}) {
      s.range = r;
      EXPECT_THROW(build(s), std::invalid_argument) << r;
    }
  }
  // 8..18 bits, sign bit included.
  EXPECT_NO_THROW(build(lut, QFormat{4, 4}, QFormat{9, 9}));
  for (QFormat bad : {QFormat{4, 3}, QFormat{9, 10}, QFormat{0, 12}, QFormat{12, -1}}) {
    EXPECT_THROW(build(lut, bad, kQ8_8), std::invalid_argument) << bad.str();
    EXPECT_THROW(build(lut, kQ8_8, bad), std::invalid_argument) << bad.str();
  }
}

// A PWL output that leaves the output format is clamped and counted as an `act` saturation, as every other
// write-back is. Sigmoid over [-8, 8) in 20 segments, Q8.8 in, Q1.7 out (largest code 127 = 0.9921875). The last
// segment, [7.2, 8), has slope 34 (Q2.16: 0.00051 * 2^16) and intercept 127 (0.9956 in Q1.7), evaluated as
// rs(34 * x, 16 + 8 - 7) + 127: at x = 2045 (7.988) rs(69530, 17) = 1, so 128 clamps to 127; at x = 1920 (7.5)
// rs(65280, 17) = 0, so 127 as it is.
TEST(ActivationSaturation, PwlClampIsCounted) {
  ActivationSpec spec;
  spec.mode = ActMode::pwl;
  spec.pwl_segments = 20;
  spec.range = 8.0;
  const Activation sig(ActFn::sigmoid, spec, QFormat{8, 8}, QFormat{1, 7});
  ASSERT_EQ(sig.table()[38], 34);
  ASSERT_EQ(sig.table()[39], 127);
  SatCounters sat;
  EXPECT_EQ(sig.eval(2045, sat), 127);
  EXPECT_EQ(sat[SatKind::act], 1u);
  EXPECT_EQ(sig.eval(1920, sat), 127);
  EXPECT_EQ(sat[SatKind::act], 1u);
  EXPECT_EQ(sat.total(), 1u);
  // The counting overload returns what the plain one does.
  for (std::int32_t x = -2048; x < 2048; x += 7) EXPECT_EQ(sig.eval(x, sat), sig.eval(x)) << x;
}

}  // namespace
}  // namespace circa
