// circa: real FFT / IFFT for block sizes k in {1, 2, 4, 8, 16, 32, 64}, in floating point and bit-accurate fixed
// point. A real block of k samples has k/2+1 complex bins (k = 1: one bin, the identity transform).
//
// Fixed-point scaling (where the 1/k goes):
// - forward(): radix-2 decimation in time; every one of the log2(k) stages divides by 2 (one rounding per stage
//   output), so the result is FFT(x)/k in the input's own format. With |x| <= M, every stage's outputs stay within
//   M in magnitude, so the forward transform cannot overflow.
// - inverse(): unscaled (no 1/k): y[t] = sum_b Z_b e^{+2 pi i b t / k} over the Hermitian-completed spectrum. Its
//   inputs are frequency-domain accumulator sums, held in int64 with headroom, so it needs no scaling either.
// - So IFFT(W o FFT(x)) = inverse(W o forward(x)) exactly in real arithmetic: the 1/k is in the forward transform.
// Twiddles are rounded once, at construction, to Q2.(tw_frac) (tw_frac = 14 for 16-bit datapaths):
// w_j = nearbyint(cos(2 pi j / k) 2^tw_frac) + i nearbyint(-sin(2 pi j / k) 2^tw_frac), evaluated in double under
// the default round-to-nearest-even mode. So w_0 = 2^tw_frac and w_{k/4} = -i 2^tw_frac exactly, and no twiddle sits
// on a tie: at these angles cos and sin are 0, +-1 or irrational (Niven's theorem). The butterflies on w_0 and
// w_{k/4} skip the multiply (the inverse's t = b, and t = i b for the conjugate +i, with no rounding); that gives the
// same bits as the general formula, since their products are exact.
// Constructors throw std::invalid_argument for a k that valid_block_size() rejects, and FixedFft also for tw_frac
// outside [1, 16]: 16 is the most that keeps the inverse's twiddle products below 2^63 for inputs below 2^40.
#pragma once

#include <complex>
#include <cstdint>
#include <vector>

#include "core/fixed.hpp"

namespace circa {

bool valid_block_size(int k);  // k in {1,2,4,8,16,32,64}
inline int num_bins(int k) { return k / 2 + 1; }

// Floating point, T = float or double. inverse() includes the 1/k, so inverse(forward(x)) == x.
template <class T>
class RealFft {
public:
  explicit RealFft(int k);
  int k() const { return k_; }
  void forward(const T* x, std::complex<T>* X) const;  // x[k] -> X[k/2+1]
  void inverse(const std::complex<T>* X, T* x) const;  // X[k/2+1] -> x[k]; imag of bins 0 and k/2 ignored
private:
  int k_;
  std::vector<int> bitrev_;
  std::vector<std::complex<T>> tw_;  // e^{-2 pi i j / k}, j < k/2
};

// Bit-accurate fixed point.
class FixedFft {
public:
  FixedFft(int k, int tw_frac, Rounding r);
  int k() const { return k_; }
  int tw_frac() const { return tw_frac_; }

  // x[k] raw values of a `bits`-wide format -> re/im[k/2+1] = FFT(x)/k, same format, saturated symmetric to `bits`
  // (counted as SatKind::fft; it can only trigger from rounding at the extreme codes).
  // In practice in-range inputs never clip: every block of +-max_raw codes for k = 8 and 16 stays in range (tested),
  // so only codes outside the symmetric range (e.g. -2^(bits-1) from a raw buffer) are clipped and counted.
  // Per stage: out = shift_round(a 2^tw_frac +- w b, tw_frac + 1) per part, exact in int64 up to that one rounding.
  void forward(const std::int32_t* x, std::int32_t* re, std::int32_t* im, int bits, SatCounters& sat) const;

  // re/im[k/2+1] wide values (imag of bins 0 and k/2 ignored) -> y[k] = unscaled inverse, same fractional bits.
  // Exact apart from one rounding per twiddle product: t = shift_round(conj(w) b, tw_frac) per part, then a +- t.
  // For k <= 4 there is no such product, so it is exact. Inputs must stay below 2^40 in magnitude (checked by the
  // callers' bounds) so no intermediate can overflow int64.
  void inverse(const std::int64_t* re, const std::int64_t* im, std::int64_t* y) const;
  // inverse() of block rows [row0, row1) of frequency sums held in the EW-MAC's accumulator layout (bin, row chunk
  // of 8, part, row; FixedCirculant::acc_index): each sum is first shift_round(sum, shift) and saturated to
  // sum_bits (counted as accum), then row i's outputs go to y[(i - row0) k ..]. The same as that loop around
  // inverse(), in one call.
  // On an AVX2 host, runs of four rows from a row0 that is a multiple of four go through core/fft_avx2.cpp (k 2..32),
  // which computes the same integers and counts as the scalar kernel; inverse_rows_scalar is that kernel alone.
  void inverse_rows(const std::int64_t* acc, int chunks, int row0, int row1, int shift, int sum_bits, std::int64_t* y,
                    SatCounters& sat) const;
  void inverse_rows_scalar(const std::int64_t* acc, int chunks, int row0, int row1, int shift, int sum_bits,
                           std::int64_t* y, SatCounters& sat) const;

private:
  int k_, tw_frac_;
  Rounding rnd_;
  std::vector<int> bitrev_;
  std::vector<std::int64_t> twr_, twi_;  // round(cos/sin * 2^tw_frac), e^{-2 pi i j / k}, j < k/2
  // The twiddles in the order the stages use them: the stage of half-size h (h = 1, 2, ..., k/2) reads w_{j k/(2h)}
  // for j < h at index h - 1 + j, so each stage walks a contiguous run (k - 1 entries in all).
  std::vector<std::int64_t> stage_twr_, stage_twi_;
  // The kernels for this k and rounding mode (k and the mode are template arguments), chosen once at construction.
  using ForwardKernel = void (*)(const FixedFft&, const std::int32_t*, std::int32_t*, std::int32_t*, int, SatCounters&);
  using InverseKernel = void (*)(const FixedFft&, const std::int64_t*, const std::int64_t*, std::int64_t*);
  using InverseRowsKernel = void (*)(const FixedFft&, const std::int64_t*, int, int, int, int, int, std::int64_t*,
                                     SatCounters&);
  ForwardKernel fwd_ = nullptr;
  InverseKernel inv_ = nullptr;
  InverseRowsKernel inv_rows_ = nullptr;
  friend struct FixedFftKernels;
};

}  // namespace circa
