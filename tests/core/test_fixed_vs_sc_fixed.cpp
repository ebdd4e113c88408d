// core/fixed.hpp against SystemC's sc_fixed, bit for bit: quantization of doubles, exact products and sums, and the
// write-back of wide values, for Q8.8, Q4.8, Q8.10 and Q1.7 with half_even (SC_RND_CONV) and half_up (SC_RND),
// symmetric saturation (SC_SAT_SYM). The saturation counters must count exactly the cases sc_fixed flags as
// overflow.
#define SC_INCLUDE_FX
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <systemc>

#include "core/fixed.hpp"

namespace circa {
namespace {

using sc_dt::sc_fixed;

constexpr int kCases = 100000;

// One format and rounding: sc_fixed's parameters are compile-time.
template <int W, int I, sc_dt::sc_q_mode QM>
struct Cfg {
  static constexpr int kW = W;
  static constexpr int kI = I;
  static constexpr int kN = W - I;
  static constexpr QFormat kFmt{I, W - I};
  static constexpr Rounding kRnd = QM == sc_dt::SC_RND_CONV ? Rounding::half_even : Rounding::half_up;
  using Narrow = sc_fixed<W, I, QM, sc_dt::SC_SAT_SYM>;
  // Products are exact in 2W bits; this wrap/truncate type never alters them.
  using Product = sc_fixed<2 * W, 2 * I, sc_dt::SC_TRN, sc_dt::SC_WRAP>;
  // A 48-bit accumulator with a product's 2n fractional bits.
  using Accum = sc_fixed<48, 48 - 2 * (W - I), sc_dt::SC_TRN, sc_dt::SC_WRAP>;
};

// Raw integer of a fixed-point number with `frac` fractional bits; to_double is exact below 2^53.
template <class T>
std::int64_t raw_of(const T& v, int frac) {
  return static_cast<std::int64_t>(std::ldexp(v.to_double(), frac));
}

// A wide sc_fixed holding raw / 2^F exactly (|raw| < 2^47 fits both 48 bits and a double's mantissa).
template <int F>
sc_fixed<48, 48 - F, sc_dt::SC_TRN, sc_dt::SC_WRAP> wide_of(std::int64_t raw) {
  return sc_fixed<48, 48 - F, sc_dt::SC_TRN, sc_dt::SC_WRAP>(std::ldexp(static_cast<double>(raw), -F));
}

template <class C>
class FixedVsScFixed : public ::testing::Test {
protected:
  std::mt19937_64 rng{0x5eed0000u + C::kW * 64 + C::kI * 2 + (C::kRnd == Rounding::half_up)};
  const std::int32_t max_raw = C::kFmt.max_raw();

  std::int64_t uniform(std::int64_t lo, std::int64_t hi) {
    return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng);
  }
  std::int32_t random_raw() { return static_cast<std::int32_t>(uniform(-max_raw, max_raw)); }

  // Write-back of a wide raw value with F fractional bits: value, and the counter against sc_fixed's overflow flag.
  template <int F>
  void expect_write_back(std::int64_t v) {
    SatCounters sat;
    const std::int32_t got = write_back(v, F, C::kFmt, C::kRnd, SatKind::accum, sat);
    const typename C::Narrow want = wide_of<F>(v);
    ASSERT_EQ(got, raw_of(want, C::kN)) << "v=" << v << " from_frac=" << F;
    ASSERT_EQ(sat[SatKind::accum], want.overflow_flag() ? 1u : 0u) << "v=" << v << " from_frac=" << F;
  }
};

using Configs =
    ::testing::Types<Cfg<16, 8, sc_dt::SC_RND_CONV>, Cfg<16, 8, sc_dt::SC_RND>, Cfg<12, 4, sc_dt::SC_RND_CONV>,
                     Cfg<12, 4, sc_dt::SC_RND>, Cfg<18, 8, sc_dt::SC_RND_CONV>, Cfg<18, 8, sc_dt::SC_RND>,
                     Cfg<8, 1, sc_dt::SC_RND_CONV>, Cfg<8, 1, sc_dt::SC_RND>>;

class CfgNames {
public:
  template <class C>
  static std::string GetName(int) {
    return C::kFmt.str() + "_" + rounding_name(C::kRnd);
  }
};
TYPED_TEST_SUITE(FixedVsScFixed, Configs, CfgNames);

TYPED_TEST(FixedVsScFixed, QuantizeDouble) {
  using C = TypeParam;
  const double lsb = std::ldexp(1.0, -C::kN);
  const double top = std::ldexp(1.0, C::kI - 1);  // |values| < top fit the format
  std::uint64_t saturated = 0, ties = 0;
  for (int i = 0; i < kCases; ++i) {
    double x = 0;
    switch (i % 5) {
      case 0:  // anywhere up to 1.5x the range: about a third saturate
        x = std::uniform_real_distribution<double>(-1.5 * top, 1.5 * top)(this->rng);
        break;
      case 1:  // exact ties k + 0.5 LSB, some of them just past either end
        x = (static_cast<double>(this->uniform(-this->max_raw - 3, this->max_raw + 2)) + 0.5) * lsb;
        break;
      case 2: {  // one double-ulp either side of a tie
        const double t = (static_cast<double>(this->random_raw()) + 0.5) * lsb;
        x = std::nextafter(t, (i & 8) ? HUGE_VAL : -HUGE_VAL);
        break;
      }
      case 3:  // representable values, including both symmetric ends and the most negative two's complement code
        x = static_cast<double>(this->uniform(-this->max_raw - 1, this->max_raw)) * lsb;
        break;
      default:  // far outside, up to 2^40
        x = std::ldexp(std::uniform_real_distribution<double>(-1.0, 1.0)(this->rng), 40);
        break;
    }
    SatCounters sat;
    const std::int32_t got = quantize(x, C::kFmt, C::kRnd, SatKind::input, sat);
    const typename C::Narrow want(x);
    ASSERT_EQ(got, raw_of(want, C::kN)) << "x=" << x;
    ASSERT_EQ(sat[SatKind::input], want.overflow_flag() ? 1u : 0u) << "x=" << x;
    ASSERT_EQ(sat.total(), sat[SatKind::input]);
    saturated += sat.total();
    ties += (i % 5 == 1);
  }
  // The mix must really exercise saturation and ties (about 1/3 of case 0 and all of case 4 saturate).
  EXPECT_GT(saturated, static_cast<std::uint64_t>(kCases / 5));
  EXPECT_EQ(ties, static_cast<std::uint64_t>(kCases / 5));
}

TYPED_TEST(FixedVsScFixed, ExactProductAndSum) {
  using C = TypeParam;
  for (int i = 0; i < kCases; ++i) {
    // Include the extreme codes often: max * max and -max * max are where a too-narrow product would show.
    const std::int32_t a = (i % 7 == 0) ? this->max_raw : this->random_raw();
    const std::int32_t b = (i % 11 == 0) ? -this->max_raw : this->random_raw();
    const typename C::Narrow xa(to_double(a, C::kN)), xb(to_double(b, C::kN));
    ASSERT_EQ(raw_of(xa, C::kN), a);
    const typename C::Product p = xa * xb;
    ASSERT_EQ(std::int64_t{a} * b, raw_of(p, 2 * C::kN)) << a << " * " << b;
    const sc_fixed<C::kW + 1, C::kI + 1, sc_dt::SC_TRN, sc_dt::SC_WRAP> s = xa + xb;
    ASSERT_EQ(std::int64_t{a} + b, raw_of(s, C::kN)) << a << " + " << b;

    // The sum written back to the narrow format: no rounding, saturation only.
    SatCounters sat;
    const typename C::Narrow sn = xa + xb;
    ASSERT_EQ(write_back(std::int64_t{a} + b, C::kN, C::kFmt, C::kRnd, SatKind::act, sat), raw_of(sn, C::kN));
    ASSERT_EQ(sat[SatKind::act], sn.overflow_flag() ? 1u : 0u) << a << " + " << b;
  }
}

TYPED_TEST(FixedVsScFixed, WriteBackProducts) {
  using C = TypeParam;
  std::uint64_t saturated = 0;
  for (int i = 0; i < kCases; ++i) {
    const std::int32_t a = this->random_raw(), b = this->random_raw();
    const typename C::Narrow xa(to_double(a, C::kN)), xb(to_double(b, C::kN));
    SatCounters sat;
    const std::int64_t p = std::int64_t{a} * b;
    const std::int32_t got = write_back(p, 2 * C::kN, C::kFmt, C::kRnd, SatKind::act, sat);
    const typename C::Narrow want = typename C::Product(xa * xb);
    ASSERT_EQ(got, raw_of(want, C::kN)) << a << " * " << b;
    ASSERT_EQ(sat[SatKind::act], want.overflow_flag() ? 1u : 0u) << a << " * " << b;
    // Directly from the sc_fxval product as well (no intermediate type).
    const typename C::Narrow direct = xa * xb;
    ASSERT_EQ(got, raw_of(direct, C::kN));
    saturated += sat.total();
  }
  // A Q1.n product stays inside (-1, 1); with more integer bits large products must have saturated.
  if (C::kI > 1) {
    EXPECT_GT(saturated, 0u);
  } else {
    EXPECT_EQ(saturated, 0u);
  }
}

// Sums of up to 64 products accumulated in 48 bits, like a DSP48 cascade, then written back once.
TYPED_TEST(FixedVsScFixed, WriteBackSumsOfProducts) {
  using C = TypeParam;
  std::uint64_t saturated = 0;
  for (int i = 0; i < kCases / 8; ++i) {
    const int terms = static_cast<int>(this->uniform(1, 64));
    // Small operands some of the time, so that sums also land inside the narrow range.
    const std::int32_t mag = (i % 2) ? this->max_raw : this->max_raw / 16;
    std::int64_t acc = 0;
    typename C::Accum sc_acc = 0;
    for (int t = 0; t < terms; ++t) {
      const auto a = static_cast<std::int32_t>(this->uniform(-mag, mag));
      const auto b = static_cast<std::int32_t>(this->uniform(-mag, mag));
      acc += std::int64_t{a} * b;
      sc_acc += typename C::Narrow(to_double(a, C::kN)) * typename C::Narrow(to_double(b, C::kN));
    }
    ASSERT_EQ(acc, raw_of(sc_acc, 2 * C::kN));
    SatCounters sat;
    const std::int32_t got = write_back(acc, 2 * C::kN, C::kFmt, C::kRnd, SatKind::accum, sat);
    const typename C::Narrow want = sc_acc;
    ASSERT_EQ(got, raw_of(want, C::kN)) << "acc=" << acc;
    ASSERT_EQ(sat[SatKind::accum], want.overflow_flag() ? 1u : 0u) << "acc=" << acc;
    saturated += sat.total();
  }
  EXPECT_GT(saturated, 0u);
}

// Arbitrary wide values: uniform over 47 bits (mostly saturating), near the narrow range, and exact ties, with the
// product's 2n fractional bits, sc_fixed<48, 24>'s 24, and fewer than n (an exact left shift).
TYPED_TEST(FixedVsScFixed, WriteBackWideValues) {
  using C = TypeParam;
  constexpr int kF2n = 2 * C::kN;
  constexpr int kF24 = 24;
  constexpr int kFLow = C::kN - 3;
  for (int i = 0; i < kCases; ++i) {
    const int kind = i % 4;
    std::int64_t v2n, v24, vlow;
    if (kind == 0) {
      v2n = this->uniform(-(std::int64_t{1} << 46), std::int64_t{1} << 46);
      v24 = this->uniform(-(std::int64_t{1} << 46), std::int64_t{1} << 46);
      vlow = this->uniform(-(std::int64_t{1} << 46), std::int64_t{1} << 46);
    } else {
      // A narrow code k a little beyond either end, plus a fraction; kind 1 makes the fraction exactly half.
      const std::int64_t k = this->uniform(-this->max_raw - 2, this->max_raw + 1);
      auto at = [&](int frac) {
        const int s = frac - C::kN;
        if (s <= 0) return k >> -s;  // any value of the coarser grid near code k
        const std::int64_t one = std::int64_t{1} << s;
        const std::int64_t f = kind == 1 ? one / 2 : this->uniform(0, one - 1);
        return k * one + f;
      };
      v2n = at(kF2n);
      v24 = at(kF24);
      vlow = at(kFLow);
    }
    this->template expect_write_back<kF2n>(v2n);
    this->template expect_write_back<kF24>(v24);
    this->template expect_write_back<kFLow>(vlow);
    if (::testing::Test::HasFatalFailure()) return;
  }
}

// The edges, by hand: the symmetric ends, the most negative two's complement code (not produced: it saturates to
// -max and counts), and ties at both ends.
TYPED_TEST(FixedVsScFixed, Edges) {
  using C = TypeParam;
  const std::int64_t m = this->max_raw;
  for (std::int64_t k : {m, -m, -m - 1, m + 1, std::int64_t{0}, std::int64_t{1}, std::int64_t{-1}}) {
    for (std::int64_t half : {0, 1, -1}) {  // k, k + 1/2 LSB, k - 1/2 LSB at 2n fractional bits
      const std::int64_t v = k * (std::int64_t{1} << C::kN) + half * (std::int64_t{1} << (C::kN - 1));
      this->template expect_write_back<2 * C::kN>(v);
      if (::testing::Test::HasFatalFailure()) return;
    }
  }
}

}  // namespace
}  // namespace circa
