// circa: the LSTMP cell kernels (core/cell_kernels.hpp) eight cells at a time with AVX2. They compute the integers
// of the scalar kernels (core/cell_kernels.cpp), counters included, by the same definitions (core/fixed.hpp,
// core/activation.hpp); tests/core/test_vector_kernels.cpp holds the two equal over random and extreme operands, both
// roundings and several formats. GRU, PWL or non-power-of-two activations, and hosts without AVX2 keep the scalar
// kernels.
//
// Lanes: the wide sums are int64, four to a register (two registers per eight cells); a write-back leaves four int32,
// and two of those make the eight int32 lanes the activation LUT works on (Activation::lut32 says when its
// intermediates fit).
#include "core/cell_kernels.hpp"

#include <algorithm>
#include <cstdint>

#include "core/host_simd.hpp"

#if defined(__x86_64__) || defined(__i386__)
#include "core/simd_avx2.hpp"
#define CIRCA_CELLS_X86 1
#endif

namespace circa {

#ifdef CIRCA_CELLS_X86
namespace {

// A write-back or shift the lanes can take: s fractional bits dropped, 0..32 (write_back4 below).
bool shift_fits(int s) { return s >= 0 && s <= 32; }

}  // namespace
#endif

bool activate_cells_vectorized(const CellOperands& o, const Numerics& n) {
#ifdef CIRCA_CELLS_X86
  return o.arch == Arch::lstmp && o.sig && o.tanh_act && shift_fits(n.guard_bits) && host_has_avx2() &&
         o.sig->lut32().ok && o.tanh_act->lut32().ok;
#else
  (void)o;
  (void)n;
  return false;
#endif
}

bool update_cells_vectorized(const CellOperands& o, const Numerics& n) {
#ifdef CIRCA_CELLS_X86
  const int f2 = std::max(n.act.n + n.cell.n, 2 * n.act.n);
  return o.arch == Arch::lstmp && o.sig && o.tanh_cell && shift_fits(n.guard_bits) && shift_fits(f2 - n.cell.n) &&
         shift_fits(n.act.n) && host_has_avx2() && o.sig->lut32().ok && o.tanh_cell->lut32().ok;
#else
  (void)o;
  (void)n;
  return false;
#endif
}

#ifdef CIRCA_CELLS_X86
using namespace avx2;

namespace {

// write_back (core/fixed.hpp) of four int64 lanes with s = from_frac - q.n in [0, 32] fractional bits to drop, into
// a format of `bits` bits. It saturates before the shift: with w the rounded numerator, floor(w / 2^s) > hi exactly
// when w > (hi + 1) 2^s - 1, and < -hi exactly when w < -hi 2^s; clamped to those bounds, the low 32 bits of the
// logical shift are the arithmetic shift's (s <= 32).
struct WriteBack {
  int s = 0;
  bool half_up = false;
  __m256i half, w_hi, w_lo;
};

CIRCA_AVX2 inline WriteBack write_back_of(int s, int bits, Rounding r) {
  const std::int64_t hi = (std::int64_t{1} << (bits - 1)) - 1;
  WriteBack c;
  c.s = s;
  c.half_up = r == Rounding::half_up;
  c.half = _mm256_set1_epi64x(s > 0 ? (std::int64_t{1} << (s - 1)) - 1 : 0);
  c.w_hi = _mm256_set1_epi64x((hi + 1) * (std::int64_t{1} << s) - 1);
  c.w_lo = _mm256_set1_epi64x(-hi * (std::int64_t{1} << s));
  return c;
}

CIRCA_AVX2 inline __m128i write_back4(__m256i v, const WriteBack& c, std::uint64_t& saturated) {
  __m256i w = v;
  if (c.s > 0) {
    const __m256i one = _mm256_set1_epi64x(1);
    const __m256i t = c.half_up ? one : _mm256_and_si256(_mm256_srl_epi64(v, count_of(c.s)), one);
    w = _mm256_add_epi64(_mm256_add_epi64(v, c.half), t);
  }
  w = saturate4(w, c.w_hi, c.w_lo, saturated);
  w = _mm256_srl_epi64(w, count_of(c.s));
  return _mm256_castsi256_si128(_mm256_permutevar8x32_epi32(w, _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7)));
}

// Activation::eval for an interpolated power-of-two LUT on eight int32 lanes (Activation::lut32): inputs below -R
// give lo, at or above R give hi; inside, the table entry at the position's integer part, interpolated towards the
// next by the fractional part and rounded once. With no fractional bits (pos_shift 0) the entry itself; with some,
// rem == 0 gives the entry exactly, so no lane needs a branch.
struct Lut {
  int s = 0;
  bool half_up = false;
  const int* table = nullptr;
  __m256i r, neg_r, r_m1, pos_mul, rem_mask, lo, hi, half, one;
};

CIRCA_AVX2 inline Lut lut_of(const Activation::Lut32& g) {
  Lut L;
  L.s = g.pos_shift;
  L.half_up = g.rounding == Rounding::half_up;
  L.table = reinterpret_cast<const int*>(g.table);
  L.r = _mm256_set1_epi32(g.r);
  L.neg_r = _mm256_set1_epi32(-g.r);
  L.r_m1 = _mm256_set1_epi32(g.r - 1);
  L.pos_mul = _mm256_set1_epi32(g.pos_mul);
  L.rem_mask = _mm256_set1_epi32((std::int32_t{1} << g.pos_shift) - 1);
  L.lo = _mm256_set1_epi32(g.lo);
  L.hi = _mm256_set1_epi32(g.hi);
  L.half = _mm256_set1_epi32(g.pos_shift > 0 ? (std::int32_t{1} << (g.pos_shift - 1)) - 1 : 0);
  L.one = _mm256_set1_epi32(1);
  return L;
}

CIRCA_AVX2 inline __m256i lut8(__m256i x, const Lut& L) {
  const __m256i below = _mm256_cmpgt_epi32(L.neg_r, x);
  const __m256i above = _mm256_cmpgt_epi32(x, L.r_m1);
  const __m256i xc = _mm256_min_epi32(_mm256_max_epi32(x, L.neg_r), L.r_m1);
  const __m256i v = _mm256_mullo_epi32(_mm256_add_epi32(xc, L.r), L.pos_mul);  // in [0, 2R * pos_mul)
  const __m128i sh = count_of(L.s);
  const __m256i idx = _mm256_srl_epi32(v, sh);
  __m256i y = _mm256_i32gather_epi32(L.table, idx, 4);
  if (L.s > 0) {
    const __m256i t1 = _mm256_i32gather_epi32(L.table + 1, idx, 4);
    const __m256i rem = _mm256_and_si256(v, L.rem_mask);
    const __m256i num = _mm256_add_epi32(_mm256_sll_epi32(y, sh), _mm256_mullo_epi32(_mm256_sub_epi32(t1, y), rem));
    const __m256i t = L.half_up ? L.one : _mm256_and_si256(_mm256_sra_epi32(num, sh), L.one);
    y = _mm256_sra_epi32(_mm256_add_epi32(_mm256_add_epi32(num, L.half), t), sh);
  }
  y = _mm256_blendv_epi8(y, L.lo, below);
  return _mm256_blendv_epi8(y, L.hi, above);
}

}  // namespace

namespace detail {

// activate_cells for LSTMP, cells [u0, u1) with u1 - u0 a multiple of 8.
CIRCA_AVX2 void activate_cells_avx2(const CellOperands& o, int u0, int u1, const Numerics& n, SatCounters& sat) {
  const int C = o.cell;
  const int guard = n.guard_bits;
  const int pe = n.weight.n + n.cell.n - (n.act.n + guard);  // peephole product -> the sums' fractional bits
  const Rounding rnd = n.rounding;
  const WriteBack wb = write_back_of(guard, n.act.bits(), rnd);
  const Lut sg = lut_of(o.sig->lut32()), th = lut_of(o.tanh_act->lut32());
  const __m128i gsh = count_of(guard);
  std::uint64_t saturated = 0;
  for (int u = u0; u < u1; u += 8) {
    const __m256i c_lo = load4_i32(o.c + u), c_hi = load4_i32(o.c + u + 4);
    for (int g = 0; g < 3; ++g) {
      __m128i x[2];
      for (int h = 0; h < 2; ++h) {
        const int idx = g * C + u + 4 * h;
        __m256i v = _mm256_add_epi64(load4_i64(o.gy + idx), _mm256_sll_epi64(load4_i32(o.bias + idx), gsh));
        if (o.ry) v = _mm256_add_epi64(v, load4_i64(o.ry + idx));
        if (g < 2) {
          const __m256i prod = _mm256_mul_epi32(load4_i32(o.peep + idx), h ? c_hi : c_lo);
          v = _mm256_add_epi64(v, shift_round4(prod, pe, rnd));
        }
        x[h] = write_back4(v, wb, saturated);
      }
      store8(o.gate + g * C + u, lut8(join(x[0], x[1]), g < 2 ? sg : th));
    }
  }
  sat.add(SatKind::accum, saturated);
}

// update_cells for LSTMP, cells [u0, u1) with u1 - u0 a multiple of 8.
CIRCA_AVX2 void update_cells_avx2(const CellOperands& o, int u0, int u1, const Numerics& n, SatCounters& sat) {
  const int C = o.cell;
  const Rounding rnd = n.rounding;
  const QFormat act = n.act, cellq = n.cell;
  const int guard = n.guard_bits;
  const int pe = n.weight.n + cellq.n - (act.n + guard);
  const int f2 = std::max(act.n + cellq.n, 2 * act.n);
  const __m128i fc_shift = count_of(f2 - act.n - cellq.n), ig_shift = count_of(f2 - 2 * act.n);
  const __m128i gsh = count_of(guard);
  const WriteBack wb_cell = write_back_of(f2 - cellq.n, cellq.bits(), rnd);
  const WriteBack wb_sum = write_back_of(guard, act.bits(), rnd);
  const WriteBack wb_act = write_back_of(act.n, act.bits(), rnd);
  const Lut sg = lut_of(o.sig->lut32()), tc = lut_of(o.tanh_cell->lut32());
  std::uint64_t sat_cell = 0, sat_sum = 0, sat_act = 0;
  for (int u = u0; u < u1; u += 8) {
    __m128i cn[2], x[2];
    for (int h = 0; h < 2; ++h) {
      const int b = u + 4 * h;
      const __m256i fc = _mm256_sll_epi64(_mm256_mul_epi32(load4_i32(o.gate + C + b), load4_i32(o.c + b)), fc_shift);
      const __m256i igp =
          _mm256_sll_epi64(_mm256_mul_epi32(load4_i32(o.gate + b), load4_i32(o.gate + 2 * C + b)), ig_shift);
      cn[h] = write_back4(_mm256_add_epi64(fc, igp), wb_cell, sat_cell);
    }
    const __m256i c_new = join(cn[0], cn[1]);
    store8(o.c + u, c_new);
    for (int h = 0; h < 2; ++h) {
      const int b = u + 4 * h, idx = 3 * C + b;
      __m256i v = _mm256_add_epi64(load4_i64(o.gy + idx), _mm256_sll_epi64(load4_i32(o.bias + idx), gsh));
      if (o.ry) v = _mm256_add_epi64(v, load4_i64(o.ry + idx));
      const __m256i prod = _mm256_mul_epi32(load4_i32(o.peep + 2 * C + b), _mm256_cvtepi32_epi64(cn[h]));
      v = _mm256_add_epi64(v, shift_round4(prod, pe, rnd));
      x[h] = write_back4(v, wb_sum, sat_sum);
    }
    const __m256i og = lut8(join(x[0], x[1]), sg);
    store8(o.gate + 3 * C + u, og);
    const __m256i t = lut8(c_new, tc);
    __m128i m[2];
    for (int h = 0; h < 2; ++h) {
      const __m128i og_h = h ? _mm256_extracti128_si256(og, 1) : _mm256_castsi256_si128(og);
      const __m128i t_h = h ? _mm256_extracti128_si256(t, 1) : _mm256_castsi256_si128(t);
      m[h] = write_back4(_mm256_mul_epi32(_mm256_cvtepi32_epi64(og_h), _mm256_cvtepi32_epi64(t_h)), wb_act, sat_act);
    }
    const __m256i mu = join(m[0], m[1]);
    store8(o.m + u, mu);
    if (o.r_next) store8(o.r_next + u, mu);
  }
  sat.add(SatKind::cell, sat_cell);
  sat.add(SatKind::accum, sat_sum);
  sat.add(SatKind::act, sat_act);
}

}  // namespace detail
#endif

namespace detail {

namespace {

using CellKernel = void (*)(const CellOperands&, int, int, const Numerics&, SatCounters&);

// The vector kernel on the first multiple of eight cells of [u0, u1) when `vectorized`; the first cell left over.
int run_vector(bool vectorized, CellKernel kernel, const CellOperands& o, int u0, int u1, const Numerics& n,
               SatCounters& sat) {
  if (!vectorized || kernel == nullptr) return u0;
  const int u8 = u0 + (u1 - u0) / 8 * 8;
  if (u8 > u0) kernel(o, u0, u8, n, sat);
  return u8;
}

#ifdef CIRCA_CELLS_X86
constexpr CellKernel kActivate = &activate_cells_avx2, kUpdate = &update_cells_avx2;
#else
constexpr CellKernel kActivate = nullptr, kUpdate = nullptr;
#endif

}  // namespace

int activate_cells_vector(const CellOperands& o, int u0, int u1, const Numerics& n, SatCounters& sat) {
  return run_vector(activate_cells_vectorized(o, n), kActivate, o, u0, u1, n, sat);
}

int update_cells_vector(const CellOperands& o, int u0, int u1, const Numerics& n, SatCounters& sat) {
  return run_vector(update_cells_vectorized(o, n), kUpdate, o, u0, u1, n, sat);
}

}  // namespace detail

}  // namespace circa
