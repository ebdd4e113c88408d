#include "core/fft.hpp"

#include "core/circulant.hpp"  // FixedCirculant::acc_index, the layout inverse_rows reads
#include "core/host_simd.hpp"

#include <array>
#include <cmath>
#include <cstddef>
#include <stdexcept>
#include <string>

namespace circa {

namespace {

constexpr int kMaxK = 64;
constexpr double kTwoPi = 6.283185307179586476925286766559;

int log2_of(int k) {
  int l = 0;
  while ((1 << l) < k) ++l;
  return l;
}

void check_block_size(int k, const char* who) {
  if (!valid_block_size(k))
    throw std::invalid_argument(std::string(who) + ": block size " + std::to_string(k) +
                                " is not one of 1, 2, 4, 8, 16, 32, 64");
}

std::vector<int> make_bitrev(int k) {
  const int bits = log2_of(k);
  std::vector<int> br(static_cast<std::size_t>(k));
  for (int i = 0; i < k; ++i) {
    int r = 0;
    for (int b = 0; b < bits; ++b)
      if (i & (1 << b)) r |= 1 << (bits - 1 - b);
    br[i] = r;
  }
  return br;
}

// Radix-2 DIT on a bit-reversed complex array held as separate re/im arrays. sign = -1 is the forward DFT, +1 the
// unscaled inverse (conjugate twiddles).
template <class T>
void float_stages(int k, const std::complex<T>* tw, T sign, T* re, T* im) {
  for (int h = 1; h < k; h <<= 1) {
    const int step = k / (2 * h);
    for (int j = 0; j < h; ++j) {
      const T wr = tw[j * step].real();
      const T wi = sign < 0 ? tw[j * step].imag() : -tw[j * step].imag();
      for (int p = j; p < k; p += 2 * h) {
        const int q = p + h;
        // Written out by hand: std::complex's operator* guards against inf/NaN through a library call.
        const T tr = wr * re[q] - wi * im[q];
        const T ti = wr * im[q] + wi * re[q];
        re[q] = re[p] - tr;
        im[q] = im[p] - ti;
        re[p] += tr;
        im[p] += ti;
      }
    }
  }
}

}  // namespace

bool valid_block_size(int k) { return k >= 1 && k <= kMaxK && (k & (k - 1)) == 0; }

// ---------------------------------------------------------------------------------------------------------------
// Floating point

template <class T>
RealFft<T>::RealFft(int k) : k_(k) {
  check_block_size(k, "RealFft");
  bitrev_ = make_bitrev(k);
  tw_.resize(static_cast<std::size_t>(k / 2));
  for (int j = 0; j < k / 2; ++j) {
    // In double for both T, so RealFft<float> loses accuracy only once, in this cast. cos(pi/2) evaluates to 6e-17,
    // not 0, so the quarter turn is set exactly.
    const double a = kTwoPi * j / k;
    tw_[j] = 4 * j == k ? std::complex<T>(0, -1)
                        : std::complex<T>(static_cast<T>(std::cos(a)), static_cast<T>(-std::sin(a)));
  }
}

template <class T>
void RealFft<T>::forward(const T* x, std::complex<T>* X) const {
  std::array<T, kMaxK> re, im;
  for (int i = 0; i < k_; ++i) {
    re[i] = x[bitrev_[i]];
    im[i] = T(0);
  }
  float_stages<T>(k_, tw_.data(), T(-1), re.data(), im.data());
  for (int b = 0; b <= k_ / 2; ++b) X[b] = std::complex<T>(re[b], im[b]);
}

template <class T>
void RealFft<T>::inverse(const std::complex<T>* X, T* x) const {
  std::array<T, kMaxK> zr, zi;
  const int half = k_ / 2;
  for (int b = 0; b < k_; ++b) {
    // Hermitian completion; the imaginary parts of bins 0 and k/2 cannot be represented by a real signal.
    const bool mirrored = b > half;
    const std::complex<T> z = X[mirrored ? k_ - b : b];
    zr[b] = z.real();
    zi[b] = (b == 0 || b == half) ? T(0) : (mirrored ? -z.imag() : z.imag());
  }
  std::array<T, kMaxK> re, im;
  for (int i = 0; i < k_; ++i) {
    const int src = bitrev_[i];
    re[i] = zr[src];
    im[i] = zi[src];
  }
  float_stages<T>(k_, tw_.data(), T(1), re.data(), im.data());
  const T scale = T(1) / static_cast<T>(k_);  // a power of two: exact
  for (int t = 0; t < k_; ++t) x[t] = re[t] * scale;
}

template class RealFft<float>;
template class RealFft<double>;

// ---------------------------------------------------------------------------------------------------------------
// Fixed point
//
// Both kernels are templates on k and the rounding mode, so for the small k of the hardware the compiler can unroll
// the stages and drop the mode test. Within a stage the butterflies are grouped by twiddle, and the two twiddles that
// are exact powers of two take shortcuts that give the same bits as the general formula:
// - w_0 = 2^tw: shift_round((a + b) 2^tw, tw + 1) == shift_round(a + b, 1), because the low tw bits are zero and
//   the floor and the tie test are unchanged; in the inverse, shift_round(2^tw b, tw) == b, so t = b.
// - w_{k/4} = -i 2^tw (stage-local index h/2): the product is a swap of b's parts with one negation, exact, so the
//   forward rounds (a.re + b.im, a.im - b.re) by one bit, and the inverse's conjugate twiddle +i gives t = (-b.im,
//   b.re) with no rounding at all.

template <int K>
struct BitReversal {
  static constexpr std::array<int, K> make() {
    std::array<int, K> r{};
    for (std::size_t i = 0; i < r.size(); ++i) {
      int v = static_cast<int>(i);
      for (int m = 1; m < K; m <<= 1, v >>= 1) r[i] = (r[i] << 1) | (v & 1);
    }
    return r;
  }
  static constexpr std::array<int, K> index = make();
};

struct FixedFftKernels {
  // One stage of half-size H, then the next: every loop bound is a constant, so the small transforms unroll into
  // straight-line code that keeps the data in registers.
  template <int K, int H, Rounding R>
  static void forward_stages(const std::int64_t* swr, const std::int64_t* swi, int tw, std::int64_t* re,
                             std::int64_t* im) {
    for (int p = 0; p < K; p += 2 * H) {
      const int q = p + H;
      const std::int64_t ar = re[p], ai = im[p], bR = re[q], bI = im[q];
      re[p] = shift_round(ar + bR, 1, R);
      im[p] = shift_round(ai + bI, 1, R);
      re[q] = shift_round(ar - bR, 1, R);
      im[q] = shift_round(ai - bI, 1, R);
    }
    if constexpr (H >= 2) {
      for (int p = H / 2; p < K; p += 2 * H) {
        const int q = p + H;
        const std::int64_t ar = re[p], ai = im[p], bR = re[q], bI = im[q];
        re[p] = shift_round(ar + bI, 1, R);
        im[p] = shift_round(ai - bR, 1, R);
        re[q] = shift_round(ar - bI, 1, R);
        im[q] = shift_round(ai + bR, 1, R);
      }
      const int s = tw + 1;
      const std::int64_t one = std::int64_t{1} << tw;
      for (int j = 1; j < H; ++j) {
        if (2 * j == H) continue;
        const std::int64_t wr = swr[H - 1 + j], wi = swi[H - 1 + j];
        for (int p = j; p < K; p += 2 * H) {
          const int q = p + H;
          // Exact in int64: the data are int32 and |w| <= 2^16, so every term stays below 2^49.
          const std::int64_t pr = wr * re[q] - wi * im[q];
          const std::int64_t pi = wr * im[q] + wi * re[q];
          const std::int64_t ar = re[p] * one, ai = im[p] * one;
          re[p] = shift_round(ar + pr, s, R);
          im[p] = shift_round(ai + pi, s, R);
          re[q] = shift_round(ar - pr, s, R);
          im[q] = shift_round(ai - pi, s, R);
        }
      }
    }
    if constexpr (2 * H < K) forward_stages<K, 2 * H, R>(swr, swi, tw, re, im);
  }

  template <int K, Rounding R>
  static void forward(const FixedFft& f, const std::int32_t* x, std::int32_t* out_re, std::int32_t* out_im, int bits,
                      SatCounters& sat) {
    std::array<std::int64_t, K> re, im;
    for (int i = 0; i < K; ++i) {
      re[i] = x[BitReversal<K>::index[i]];
      im[i] = 0;
    }
    forward_stages<K, 1, R>(f.stage_twr_.data(), f.stage_twi_.data(), f.tw_frac_, re.data(), im.data());
    // Saturation happens once, after the last stage: the intermediate stages are wide, like the datapath's guard
    // bits.
    for (int b = 0; b <= K / 2; ++b) {
      out_re[b] = saturate(re[b], bits, SatKind::fft, sat);
      out_im[b] = saturate(im[b], bits, SatKind::fft, sat);
    }
  }

  template <int K, int H, Rounding R>
  static void inverse_stages(const std::int64_t* swr, const std::int64_t* swi, int tw, std::int64_t* re,
                             std::int64_t* im) {
    for (int p = 0; p < K; p += 2 * H) {
      const int q = p + H;
      const std::int64_t ar = re[p], ai = im[p], bR = re[q], bI = im[q];
      re[p] = ar + bR;
      im[p] = ai + bI;
      re[q] = ar - bR;
      im[q] = ai - bI;
    }
    if constexpr (H >= 2) {
      for (int p = H / 2; p < K; p += 2 * H) {
        const int q = p + H;
        const std::int64_t ar = re[p], ai = im[p], bR = re[q], bI = im[q];
        re[p] = ar - bI;
        im[p] = ai + bR;
        re[q] = ar + bI;
        im[q] = ai - bR;
      }
      for (int j = 1; j < H; ++j) {
        if (2 * j == H) continue;
        // The conjugate twiddle (wr, -wi).
        const std::int64_t wr = swr[H - 1 + j], wi = swi[H - 1 + j];
        for (int p = j; p < K; p += 2 * H) {
          const int q = p + H;
          const std::int64_t tr = shift_round(wr * re[q] + wi * im[q], tw, R);
          const std::int64_t ti = shift_round(wr * im[q] - wi * re[q], tw, R);
          const std::int64_t ar = re[p], ai = im[p];
          re[p] = ar + tr;
          im[p] = ai + ti;
          re[q] = ar - tr;
          im[q] = ai - ti;
        }
      }
    }
    if constexpr (2 * H < K) inverse_stages<K, 2 * H, R>(swr, swi, tw, re, im);
  }

  template <int K, Rounding R>
  static void inverse(const FixedFft& f, const std::int64_t* zre, const std::int64_t* zim, std::int64_t* y) {
    std::array<std::int64_t, K> re, im;
    constexpr unsigned kHalf = K / 2;
    for (int i = 0; i < K; ++i) {
      // Unsigned, so that the compiler sees no negative bin once this is inlined (GCC 12's -Warray-bounds, K = 2).
      const unsigned b = static_cast<unsigned>(BitReversal<K>::index[i]);
      if (b == 0 || b == kHalf) {
        re[i] = zre[b];
        im[i] = 0;
      } else if (b < kHalf) {
        re[i] = zre[b];
        im[i] = zim[b];
      } else {
        re[i] = zre[K - b];
        im[i] = -zim[K - b];
      }
    }
    inverse_stages<K, 1, R>(f.stage_twr_.data(), f.stage_twi_.data(), f.tw_frac_, re.data(), im.data());
    for (int t = 0; t < K; ++t) y[t] = re[t];
  }

  template <int K, Rounding R>
  static void inverse_rows(const FixedFft& f, const std::int64_t* acc, int chunks, int row0, int row1, int shift,
                           int sum_bits, std::int64_t* y, SatCounters& sat) {
    constexpr int kBins = K / 2 + 1;
    std::int64_t re[kBins], im[kBins];
    for (int i = row0; i < row1; ++i) {
      for (int b = 0; b < kBins; ++b) {
        const std::int64_t sr = shift_round(acc[FixedCirculant::acc_index(b, chunks, i, 0)], shift, R);
        const std::int64_t si = shift_round(acc[FixedCirculant::acc_index(b, chunks, i, 1)], shift, R);
        re[b] = saturate_wide(sr, sum_bits, SatKind::accum, sat);
        im[b] = saturate_wide(si, sum_bits, SatKind::accum, sat);
      }
      inverse<K, R>(f, re, im, y + static_cast<std::size_t>(i - row0) * K);
    }
  }

  template <int K>
  static void select(FixedFft& f) {
    if (f.rnd_ == Rounding::half_even) {
      f.fwd_ = &forward<K, Rounding::half_even>;
      f.inv_ = &inverse<K, Rounding::half_even>;
      f.inv_rows_ = &inverse_rows<K, Rounding::half_even>;
    } else {
      f.fwd_ = &forward<K, Rounding::half_up>;
      f.inv_ = &inverse<K, Rounding::half_up>;
      f.inv_rows_ = &inverse_rows<K, Rounding::half_up>;
    }
  }
};

FixedFft::FixedFft(int k, int tw_frac, Rounding r) : k_(k), tw_frac_(tw_frac), rnd_(r) {
  check_block_size(k, "FixedFft");
  if (tw_frac < 1 || tw_frac > 16)
    throw std::invalid_argument("FixedFft: twiddle fractional bits " + std::to_string(tw_frac) +
                                " are outside [1, 16]");
  bitrev_ = make_bitrev(k);  // the input order; the kernels hold the same permutation as BitReversal<k>
  twr_.resize(static_cast<std::size_t>(k / 2));
  twi_.resize(static_cast<std::size_t>(k / 2));
  const double scale = std::ldexp(1.0, tw_frac);
  for (int j = 0; j < k / 2; ++j) {
    const double a = kTwoPi * j / k;
    twr_[j] = static_cast<std::int64_t>(std::nearbyint(std::cos(a) * scale));
    twi_[j] = static_cast<std::int64_t>(std::nearbyint(-std::sin(a) * scale));
  }
  stage_twr_.assign(static_cast<std::size_t>(k > 1 ? k - 1 : 0), 0);
  stage_twi_.assign(stage_twr_.size(), 0);
  for (int h = 1; h < k; h <<= 1)
    for (int j = 0; j < h; ++j) {
      const int src = j * (k / (2 * h));
      stage_twr_[h - 1 + j] = twr_[src];
      stage_twi_[h - 1 + j] = twi_[src];
    }
  switch (k) {
    case 2: FixedFftKernels::select<2>(*this); break;
    case 4: FixedFftKernels::select<4>(*this); break;
    case 8: FixedFftKernels::select<8>(*this); break;
    case 16: FixedFftKernels::select<16>(*this); break;
    case 32: FixedFftKernels::select<32>(*this); break;
    case 64: FixedFftKernels::select<64>(*this); break;
    default: break;  // k = 1 is handled inline
  }
}

void FixedFft::forward(const std::int32_t* x, std::int32_t* re, std::int32_t* im, int bits, SatCounters& sat) const {
  if (k_ == 1) {
    re[0] = saturate(x[0], bits, SatKind::fft, sat);
    im[0] = 0;
    return;
  }
  fwd_(*this, x, re, im, bits, sat);
}

void FixedFft::inverse(const std::int64_t* re, const std::int64_t* im, std::int64_t* y) const {
  if (k_ == 1) {
    y[0] = re[0];
    return;
  }
  inv_(*this, re, im, y);
}

namespace detail {
// core/fft_avx2.cpp: rows [row0, r) four at a time, r the first row it left (row0 when the case is not its own).
int inverse_rows_avx2(int k, Rounding r, const std::int64_t* swr, const std::int64_t* swi, int tw,
                      const std::int64_t* acc, int chunks, int row0, int row1, int shift, int sum_bits, std::int64_t* y,
                      SatCounters& sat);
}  // namespace detail

void FixedFft::inverse_rows(const std::int64_t* acc, int chunks, int row0, int row1, int shift, int sum_bits,
                            std::int64_t* y, SatCounters& sat) const {
  if (k_ > 1 && host_has_avx2()) {
    const int done = detail::inverse_rows_avx2(k_, rnd_, stage_twr_.data(), stage_twi_.data(), tw_frac_, acc, chunks,
                                               row0, row1, shift, sum_bits, y, sat);
    if (done < row1)
      inv_rows_(*this, acc, chunks, done, row1, shift, sum_bits, y + static_cast<std::size_t>(done - row0) * k_, sat);
    return;
  }
  inverse_rows_scalar(acc, chunks, row0, row1, shift, sum_bits, y, sat);
}

void FixedFft::inverse_rows_scalar(const std::int64_t* acc, int chunks, int row0, int row1, int shift, int sum_bits,
                                   std::int64_t* y, SatCounters& sat) const {
  if (k_ > 1) {
    inv_rows_(*this, acc, chunks, row0, row1, shift, sum_bits, y, sat);
    return;
  }
  for (int i = row0; i < row1; ++i)  // k = 1: one bin, the identity
    y[i - row0] = saturate_wide(shift_round(acc[FixedCirculant::acc_index(0, chunks, i, 0)], shift, rnd_), sum_bits,
                                SatKind::accum, sat);
}

}  // namespace circa
