// circa: AVX2 helpers shared by the vector kernels (core/cell_kernels_avx2.cpp, core/fft_avx2.cpp), each the lane-wise
// image of a scalar definition in core/fixed.hpp. Include only from x86 translation units; every function carries
// the avx2 target, so callers must too, and must run only when host_has_avx2() (core/host_simd.hpp).
#pragma once

#include <immintrin.h>

#include <cstdint>

#include "core/fixed.hpp"

#define CIRCA_AVX2 __attribute__((target("avx2")))

namespace circa::avx2 {

CIRCA_AVX2 inline __m128i count_of(int s) { return _mm_cvtsi32_si128(s); }

// Four int32 sign-extended into int64 lanes (their low halves are the int32 values, as _mm256_mul_epi32 reads).
CIRCA_AVX2 inline __m256i load4_i32(const std::int32_t* p) {
  return _mm256_cvtepi32_epi64(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}
CIRCA_AVX2 inline __m256i load4_i64(const std::int64_t* p) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
}
CIRCA_AVX2 inline void store8(std::int32_t* p, __m256i v) { _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), v); }
CIRCA_AVX2 inline __m256i join(__m128i lo, __m128i hi) {
  return _mm256_inserti128_si256(_mm256_castsi128_si256(lo), hi, 1);
}

// Arithmetic right shift of int64 lanes by s in [1, 63] (AVX2 shifts int64 only logically): with m the sign bit's
// image after the logical shift, (u ^ m) - m extends the sign.
CIRCA_AVX2 inline __m256i sra64(__m256i v, int s) {
  const __m256i m = _mm256_set1_epi64x(static_cast<std::int64_t>(std::uint64_t{1} << (63 - s)));
  return _mm256_sub_epi64(_mm256_xor_si256(_mm256_srl_epi64(v, count_of(s)), m), m);
}

// shift_round on four int64 lanes: v / 2^s rounded for s > 0, v * 2^-s for s <= 0.
CIRCA_AVX2 inline __m256i shift_round4(__m256i v, int s, Rounding r) {
  if (s <= 0) return _mm256_sll_epi64(v, count_of(-s));
  const __m256i one = _mm256_set1_epi64x(1);
  const __m256i t = r == Rounding::half_up ? one : _mm256_and_si256(_mm256_srl_epi64(v, count_of(s)), one);
  const __m256i half = _mm256_set1_epi64x((std::int64_t{1} << (s - 1)) - 1);
  return sra64(_mm256_add_epi64(_mm256_add_epi64(v, half), t), s);
}

// saturate_wide on four int64 lanes: clamps to [lo, hi] (lo = -hi for a symmetric format; write_back's pre-shift
// bounds are not symmetric), adding the lanes that clamped to `saturated`.
CIRCA_AVX2 inline __m256i saturate4(__m256i v, __m256i hi, __m256i lo, std::uint64_t& saturated) {
  const __m256i over = _mm256_cmpgt_epi64(v, hi), under = _mm256_cmpgt_epi64(lo, v);
  saturated += static_cast<unsigned>(
      __builtin_popcount(static_cast<unsigned>(_mm256_movemask_pd(_mm256_castsi256_pd(_mm256_or_si256(over, under))))));
  return _mm256_blendv_epi8(_mm256_blendv_epi8(v, hi, over), lo, under);
}

// x * w for int64 lanes x below 2^62 and w (in each lane's low 32 bits) an int32: x = xh 2^32 + xl with xl the
// sign-extended low 32 bits, so xh = (x + 2^31) >> 32 fits an int32 and x w = (xh w) 2^32 + xl w, two exact
// 32 x 32 -> 64 products.
CIRCA_AVX2 inline __m256i mul_by_i32(__m256i x, __m256i w) {
  const __m256i xh = _mm256_srli_epi64(_mm256_add_epi64(x, _mm256_set1_epi64x(std::int64_t{1} << 31)), 32);
  return _mm256_add_epi64(_mm256_slli_epi64(_mm256_mul_epi32(xh, w), 32), _mm256_mul_epi32(x, w));
}

}  // namespace circa::avx2
