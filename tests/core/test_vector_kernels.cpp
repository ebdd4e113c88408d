// The golden model's AVX2 kernels against their scalar references, integer for integer and count for count:
// - the LSTMP cell kernels (core/cell_kernels_avx2.cpp against core/cell_kernels.cpp): gate outputs, cell states, m and
//   r over random operands that reach the saturation bounds, rounding ties and the LUT's ends, in several formats,
//   both roundings, guard bits 0 to 10 and LUT sizes; cell ranges that are not multiples of eight (the scalar path
//   takes the rest);
// - the IFFT of block rows (core/fft_avx2.cpp against FixedFft::inverse_rows_scalar) for every k, both roundings,
//   twiddles of 14 and 16 bits, sums that saturate, row ranges that start off the four-row grid.
// The scalar kernels are the reference that tests/core/test_golden.cpp, test_fft.cpp and the independent integer
// model check.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "core/activation.hpp"
#include "core/cell_kernels.hpp"
#include "core/circulant.hpp"
#include "core/fft.hpp"
#include "core/host_simd.hpp"

namespace circa {
namespace {

struct Case {
  std::string name;
  Numerics num;
};

std::vector<Case> cases() {
  std::vector<Case> v;
  Numerics d;  // Q4.12 weights, Q8.8 act and cell, guard 6, LUT 256 over [-8, 8), half_even
  v.push_back({"default", d});
  Numerics up = d;
  up.rounding = Rounding::half_up;
  up.activation.rounding = Rounding::half_up;
  v.push_back({"half_up", up});
  Numerics g0 = d;
  g0.guard_bits = 0;
  v.push_back({"guard0", g0});
  Numerics g10 = up;
  g10.guard_bits = 10;
  v.push_back({"guard10_half_up", g10});
  Numerics fine = d;
  fine.act = {6, 10};
  fine.cell = {8, 10};
  fine.weight = {2, 14};
  fine.activation.lut_entries = 1024;
  fine.activation.range = 4.0;
  v.push_back({"q6.10_lut1024_range4", fine});
  Numerics coarse = d;
  coarse.act = {5, 3};
  coarse.cell = {6, 4};
  coarse.weight = {4, 4};
  coarse.activation.lut_entries = 64;
  v.push_back({"q5.3_lut64", coarse});
  Numerics wide = up;
  wide.act = {2, 16};  // 18 bits, the widest format
  wide.cell = {4, 14};
  wide.weight = {2, 16};
  wide.activation.lut_entries = 4096;
  wide.activation.range = 2.0;
  v.push_back({"q2.16_lut4096", wide});
  Numerics steps16 = d;  // 2R = 4096 codes over 4096 entries: no fractional position bits
  steps16.activation.lut_entries = 4096;
  v.push_back({"one_entry_per_code", steps16});
  return v;
}

struct Operands {
  int C;
  std::vector<std::int64_t> gy, ry;
  std::vector<std::int32_t> bias, peep, gate, c, m, r;
};

std::int32_t uniform(std::mt19937_64& g, std::int64_t lo, std::int64_t hi) {
  return static_cast<std::int32_t>(std::uniform_int_distribution<std::int64_t>(lo, hi)(g));
}

// Sums whose write-back lands mostly within the LUT's range, sometimes beyond the format (saturation), with random
// low bits (ties at 2^-guard odds) and now and then exactly on a tie or a bound.
Operands make_operands(const Numerics& n, int C, std::uint64_t seed) {
  std::mt19937_64 g(seed);
  Operands o;
  o.C = C;
  const std::int64_t act_max = n.act.max_raw(), cell_max = n.cell.max_raw(), w_max = n.weight.max_raw();
  const std::int64_t r_raw = static_cast<std::int64_t>(std::ldexp(n.activation.range, n.act.n));
  auto sum = [&]() -> std::int64_t {
    const int kind = uniform(g, 0, 9);
    std::int64_t x;
    if (kind < 6) x = uniform(g, -r_raw - 4, r_raw + 4);
    else if (kind < 8) x = uniform(g, -act_max - 64, act_max + 64);
    else x = uniform(g, 0, 1) ? act_max : -act_max;
    std::int64_t low = 0;
    if (n.guard_bits > 0) {
      const std::int64_t half = std::int64_t{1} << (n.guard_bits - 1);
      low = uniform(g, 0, 3) == 0 ? half : uniform(g, 0, 2 * half - 1);
    }
    return x * (std::int64_t{1} << n.guard_bits) + low;
  };
  o.gy.resize(4 * C);
  o.ry.resize(4 * C);
  o.bias.resize(4 * C);
  for (int i = 0; i < 4 * C; ++i) {
    o.bias[i] = uniform(g, -act_max / 64, act_max / 64);
    o.ry[i] = sum() / 2;
    o.gy[i] = sum() - o.ry[i];
  }
  o.peep.resize(3 * C);
  for (auto& p : o.peep) p = uniform(g, -w_max, w_max);
  o.c.resize(C);
  for (auto& c : o.c) c = uniform(g, 0, 7) == 0 ? (uniform(g, 0, 1) ? cell_max : -cell_max) : uniform(g, -cell_max, cell_max);
  o.gate.assign(4 * C, 0);
  o.m.assign(C, 0);
  o.r.assign(C, 0);
  return o;
}

struct Acts {
  Activation sig, tanh_act, tanh_cell;
  explicit Acts(const Numerics& n)
      : sig(ActFn::sigmoid, n.activation, n.act, n.act),
        tanh_act(ActFn::tanh, n.activation, n.act, n.act),
        tanh_cell(ActFn::tanh, n.activation, n.cell, n.act) {}
};

CellOperands view(Operands& o, const Acts& a, bool with_ry, bool with_r) {
  CellOperands c;
  c.arch = Arch::lstmp;
  c.cell = o.C;
  c.gy = o.gy.data();
  c.ry = with_ry ? o.ry.data() : nullptr;
  c.bias = o.bias.data();
  c.peep = o.peep.data();
  c.gate = o.gate.data();
  c.c = o.c.data();
  c.m = o.m.data();
  c.r_next = with_r ? o.r.data() : nullptr;
  c.sig = &a.sig;
  c.tanh_act = &a.tanh_act;
  c.tanh_cell = &a.tanh_cell;
  return c;
}

TEST(CellKernels, VectorPathEqualsScalarPath) {
  if (!host_has_avx2()) GTEST_SKIP() << "no AVX2 on this host (or CIRCA_NO_AVX2 set): only the scalar path runs";
  const int C = 72;
  int vector_cases = 0;
  for (const Case& k : cases()) {
    const Acts acts(k.num);
    for (std::uint64_t seed = 1; seed <= 6; ++seed) {
      const bool with_ry = seed % 2 == 0, with_r = seed % 3 != 0;
      const int u0 = seed <= 3 ? 0 : 3, u1 = seed <= 3 ? C : C - 2;  // 72 cells, or 67 from cell 3
      Operands ref = make_operands(k.num, C, seed * 977 + k.name.size());
      Operands vec = ref;
      CellOperands rv = view(ref, acts, with_ry, with_r), vv = view(vec, acts, with_ry, with_r);
      ASSERT_TRUE(activate_cells_vectorized(vv, k.num)) << k.name;
      ASSERT_TRUE(update_cells_vectorized(vv, k.num)) << k.name;
      ++vector_cases;
      SatCounters rs, vs;
      activate_cells_scalar(rv, u0, u1, k.num, rs);
      activate_cells(vv, u0, u1, k.num, vs);
      ASSERT_EQ(ref.gate, vec.gate) << k.name << " seed " << seed << ": activate";
      update_cells_scalar(rv, u0, u1, k.num, rs);
      update_cells(vv, u0, u1, k.num, vs);
      const std::string where = k.name + " seed " + std::to_string(seed);
      EXPECT_EQ(ref.gate, vec.gate) << where << ": output gate";
      EXPECT_EQ(ref.c, vec.c) << where << ": cell state";
      EXPECT_EQ(ref.m, vec.m) << where << ": m";
      EXPECT_EQ(ref.r, vec.r) << where << ": r";
      for (int s = 0; s < static_cast<int>(SatKind::count_); ++s)
        EXPECT_EQ(rs.n[s], vs.n[s]) << where << ": " << sat_kind_name(static_cast<SatKind>(s)) << " saturations";
    }
  }
  EXPECT_EQ(vector_cases, 48);
}

// The operands above do reach what the vector path must get right, so the comparison is not vacuous: saturations of
// every kind the kernels count, and LUT inputs beyond both ends.
TEST(CellKernels, OperandsReachSaturationsAndTheLutEnds) {
  const Numerics n;
  const Acts acts(n);
  Operands o = make_operands(n, 72, 5);
  CellOperands v = view(o, acts, true, true);
  SatCounters s;
  activate_cells_scalar(v, 0, 72, n, s);
  update_cells_scalar(v, 0, 72, n, s);
  EXPECT_GT(s[SatKind::accum], 0u);
  EXPECT_GT(s[SatKind::cell], 0u);
  int at_lo = 0, at_hi = 0;
  for (int i = 0; i < 72; ++i) {
    at_lo += o.gate[i] == 0;                      // sigmoid below -8
    at_hi += o.gate[i] == (1 << n.act.n);         // sigmoid at or above 8
  }
  EXPECT_GT(at_lo, 0);
  EXPECT_GT(at_hi, 0);
}

TEST(CellKernels, CasesTheVectorPathLeavesToTheScalarOne) {
  Numerics n;
  n.activation.interpolate = false;
  const Acts nearest(n);
  Operands o = make_operands(n, 16, 1);
  EXPECT_FALSE(activate_cells_vectorized(view(o, nearest, true, true), n));
  Numerics p;
  p.activation.mode = ActMode::pwl;
  const Acts pwl(p);
  EXPECT_FALSE(update_cells_vectorized(view(o, pwl, true, true), p));
  const Numerics d;
  const Acts acts(d);
  CellOperands gru = view(o, acts, true, true);
  gru.arch = Arch::gru;
  EXPECT_FALSE(activate_cells_vectorized(gru, d));
}

TEST(InverseRows, VectorPathEqualsScalarPath) {
  if (!host_has_avx2()) GTEST_SKIP() << "no AVX2 on this host (or CIRCA_NO_AVX2 set): only the scalar path runs";
  const int chunks = 3, rows = chunks * kRowChunk;
  struct Range {
    int row0, row1;
  };
  const Range ranges[] = {{0, rows}, {4, 21}, {3, rows}, {8, 12}, {16, 19}};
  std::mt19937_64 g(11);
  int compared = 0;
  for (int k : {2, 4, 8, 16, 32, 64}) {
    for (Rounding r : {Rounding::half_even, Rounding::half_up}) {
      for (int tw : {14, 16}) {
        const FixedFft f(k, tw, r);
        for (int shift : {6, 0, -2}) {
          for (int sum_bits : {40, 22}) {
            // Sums mostly within the bound after the shift, a quarter of them beyond it (saturated and counted),
            // and ties of the shift's rounding at 1 in 2^shift.
            std::vector<std::int64_t> acc(static_cast<std::size_t>(k / 2 + 1) * chunks * 2 * kRowChunk);
            const int width = sum_bits - 1 + std::max(shift, 0);
            for (auto& a : acc) {
              const std::int64_t lim = std::int64_t{1} << (uniform(g, 0, 3) == 0 ? width + 1 : width - 1);
              a = std::uniform_int_distribution<std::int64_t>(-lim, lim)(g);
              if (shift < 0) a /= std::int64_t{1} << -shift;
            }
            for (const Range& rg : ranges) {
              const std::size_t n = static_cast<std::size_t>(rg.row1 - rg.row0) * k;
              std::vector<std::int64_t> ys(n, -1), yv(n, -2);
              SatCounters ss, sv;
              f.inverse_rows_scalar(acc.data(), chunks, rg.row0, rg.row1, shift, sum_bits, ys.data(), ss);
              f.inverse_rows(acc.data(), chunks, rg.row0, rg.row1, shift, sum_bits, yv.data(), sv);
              ASSERT_EQ(ys, yv) << "k " << k << " tw " << tw << " shift " << shift << " sum_bits " << sum_bits
                                << " rows " << rg.row0 << ".." << rg.row1;
              ASSERT_EQ(ss[SatKind::accum], sv[SatKind::accum]) << "k " << k << " saturation count";
              if (sum_bits == 22 && rg.row1 - rg.row0 == rows) {
                EXPECT_GT(ss[SatKind::accum], 0u);  // the bound is reached
              }
              ++compared;
            }
          }
        }
      }
    }
  }
  EXPECT_EQ(compared, 6 * 2 * 2 * 3 * 2 * 5);
}

}  // namespace
}  // namespace circa
