// circa: FixedFft::inverse_rows four block rows at a time with AVX2, one row per int64 lane. It computes the integers
// of the scalar kernel (core/fft.cpp: the same input rounding and saturation, stages, twiddle order and roundings),
// counters included; tests/core/test_vector_kernels.cpp holds the two equal for every k, both roundings and sums up to the
// saturation bound. Four consecutive rows of one row chunk sit side by side in the accumulator layout
// (FixedCirculant::acc_index), so each bin of four rows is one load.
#include "core/fft.hpp"

#include <cstddef>

#include "core/circulant.hpp"

#if defined(__x86_64__) || defined(__i386__)
#include "core/simd_avx2.hpp"
#define CIRCA_FFT_X86 1
#endif

namespace circa::detail {

#ifdef CIRCA_FFT_X86
namespace {

using namespace avx2;

template <int K>
struct Reversed {
  int index[K] = {};
  constexpr Reversed() {
    int bits = 0;
    while ((1 << bits) < K) ++bits;
    for (int i = 0; i < K; ++i) {
      int r = 0;
      for (int b = 0; b < bits; ++b)
        if (i & (1 << b)) r |= 1 << (bits - 1 - b);
      index[i] = r;
    }
  }
};

// The inverse stages of core/fft.cpp on lanes: unscaled butterflies; the conjugate twiddle's products rounded once
// per part, t = shift_round(conj(w) b, tw), then a +- t; the w_0 and w_{h/2}-in-stage (+i) butterflies exact.
template <int K, int H, Rounding R>
CIRCA_AVX2 inline void stages(const std::int64_t* swr, const std::int64_t* swi, int tw, __m256i* re, __m256i* im) {
  for (int p = 0; p < K; p += 2 * H) {
    const int q = p + H;
    const __m256i ar = re[p], ai = im[p], br = re[q], bi = im[q];
    re[p] = _mm256_add_epi64(ar, br);
    im[p] = _mm256_add_epi64(ai, bi);
    re[q] = _mm256_sub_epi64(ar, br);
    im[q] = _mm256_sub_epi64(ai, bi);
  }
  if constexpr (H >= 2) {
    for (int p = H / 2; p < K; p += 2 * H) {
      const int q = p + H;
      const __m256i ar = re[p], ai = im[p], br = re[q], bi = im[q];
      re[p] = _mm256_sub_epi64(ar, bi);
      im[p] = _mm256_add_epi64(ai, br);
      re[q] = _mm256_add_epi64(ar, bi);
      im[q] = _mm256_sub_epi64(ai, br);
    }
    for (int j = 1; j < H; ++j) {
      if (2 * j == H) continue;
      const __m256i wr = _mm256_set1_epi64x(swr[H - 1 + j]), wi = _mm256_set1_epi64x(swi[H - 1 + j]);
      for (int p = j; p < K; p += 2 * H) {
        const int q = p + H;
        const __m256i tr = shift_round4(_mm256_add_epi64(mul_by_i32(re[q], wr), mul_by_i32(im[q], wi)), tw, R);
        const __m256i ti = shift_round4(_mm256_sub_epi64(mul_by_i32(im[q], wr), mul_by_i32(re[q], wi)), tw, R);
        const __m256i ar = re[p], ai = im[p];
        re[p] = _mm256_add_epi64(ar, tr);
        im[p] = _mm256_add_epi64(ai, ti);
        re[q] = _mm256_sub_epi64(ar, tr);
        im[q] = _mm256_sub_epi64(ai, ti);
      }
    }
  }
  if constexpr (2 * H < K) stages<K, 2 * H, R>(swr, swi, tw, re, im);
}

template <int K, Rounding R>
CIRCA_AVX2 int rows4(const std::int64_t* swr, const std::int64_t* swi, int tw, const std::int64_t* acc, int chunks,
                     int row0, int row1, int shift, int sum_bits, std::int64_t* y, SatCounters& sat) {
  static constexpr Reversed<K> rev;
  constexpr int kHalf = K / 2;
  const __m256i hi = _mm256_set1_epi64x((std::int64_t{1} << (sum_bits - 1)) - 1);
  const __m256i lo = _mm256_sub_epi64(_mm256_setzero_si256(), hi);
  const __m256i zero = _mm256_setzero_si256();
  std::uint64_t saturated = 0;
  int i = row0;
  for (; i + 4 <= row1; i += 4) {
    __m256i zre[kHalf + 1], zim[kHalf + 1];
    for (int b = 0; b <= kHalf; ++b) {
      const std::int64_t* at = acc + FixedCirculant::acc_index(b, chunks, i, 0);
      zre[b] = saturate4(shift_round4(load4_i64(at), shift, R), hi, lo, saturated);
      zim[b] = saturate4(shift_round4(load4_i64(at + kRowChunk), shift, R), hi, lo, saturated);
    }
    __m256i re[K], im[K];
    for (int t = 0; t < K; ++t) {  // the Hermitian completion, in bit-reversed order
      const int b = rev.index[t];
      if (b == 0 || b == kHalf) {
        re[t] = zre[b];
        im[t] = zero;
      } else if (b < kHalf) {
        re[t] = zre[b];
        im[t] = zim[b];
      } else {
        re[t] = zre[K - b];
        im[t] = _mm256_sub_epi64(zero, zim[K - b]);
      }
    }
    stages<K, 1, R>(swr, swi, tw, re, im);
    alignas(32) std::int64_t out[K][4];
    for (int t = 0; t < K; ++t) _mm256_store_si256(reinterpret_cast<__m256i*>(out[t]), re[t]);
    std::int64_t* yr = y + static_cast<std::size_t>(i - row0) * K;
    for (int r = 0; r < 4; ++r)
      for (int t = 0; t < K; ++t) yr[static_cast<std::size_t>(r) * K + t] = out[t][r];
  }
  sat.add(SatKind::accum, saturated);
  return i;
}

template <int K>
int rows4_of(Rounding r, const std::int64_t* swr, const std::int64_t* swi, int tw, const std::int64_t* acc, int chunks,
             int row0, int row1, int shift, int sum_bits, std::int64_t* y, SatCounters& sat) {
  return r == Rounding::half_up
             ? rows4<K, Rounding::half_up>(swr, swi, tw, acc, chunks, row0, row1, shift, sum_bits, y, sat)
             : rows4<K, Rounding::half_even>(swr, swi, tw, acc, chunks, row0, row1, shift, sum_bits, y, sat);
}

}  // namespace
#endif

int inverse_rows_avx2(int k, Rounding r, const std::int64_t* swr, const std::int64_t* swi, int tw,
                      const std::int64_t* acc, int chunks, int row0, int row1, int shift, int sum_bits, std::int64_t* y,
                      SatCounters& sat) {
#ifdef CIRCA_FFT_X86
  // Four rows of one lane group must share a row chunk: start on a multiple of four.
  if (row0 % 4 != 0) return row0;
  switch (k) {
    case 2: return rows4_of<2>(r, swr, swi, tw, acc, chunks, row0, row1, shift, sum_bits, y, sat);
    case 4: return rows4_of<4>(r, swr, swi, tw, acc, chunks, row0, row1, shift, sum_bits, y, sat);
    case 8: return rows4_of<8>(r, swr, swi, tw, acc, chunks, row0, row1, shift, sum_bits, y, sat);
    case 16: return rows4_of<16>(r, swr, swi, tw, acc, chunks, row0, row1, shift, sum_bits, y, sat);
    case 32: return rows4_of<32>(r, swr, swi, tw, acc, chunks, row0, row1, shift, sum_bits, y, sat);
    default: return row0;  // k = 64 (128 registers' worth of lanes) and k = 1 stay scalar
  }
#else
  (void)k, (void)r, (void)swr, (void)swi, (void)tw, (void)acc, (void)chunks, (void)row1, (void)shift, (void)sum_bits;
  (void)y, (void)sat;
  return row0;
#endif
}

}  // namespace circa::detail
