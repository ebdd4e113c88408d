#include "core/circulant.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "core/error.hpp"
#include "core/host_simd.hpp"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define CIRCA_HAVE_X86 1
#endif

namespace circa {

void FreqInput::resize(int q_, int bins_) {
  q = q_;
  bins = bins_;
  const std::size_t n = static_cast<std::size_t>(q_) * bins_;
  re.assign(n, 0);
  im.assign(n, 0);
  xa.assign(n, 0);
  xb.assign(n, 0);
}

namespace {

inline std::int32_t pack16(std::int32_t lo, std::int32_t hi) {
  return static_cast<std::int32_t>(static_cast<std::uint32_t>(static_cast<std::uint16_t>(lo)) |
                                   (static_cast<std::uint32_t>(static_cast<std::uint16_t>(hi)) << 16));
}

int bits_for(std::int64_t magnitude) {  // bits of a signed type holding +-magnitude
  int b = 1;
  while (b < 63 && (std::int64_t{1} << (b - 1)) - 1 < magnitude) ++b;
  return b;
}

}  // namespace

FixedCirculant::FixedCirculant(const std::vector<const CirculantMatrix*>& parts, const Numerics& num,
                               SatCounters& sat) {
  if (parts.empty()) throw std::invalid_argument("FixedCirculant: no matrices");
  p_ = parts[0]->p;
  k_ = parts[0]->k;
  q_ = 0;
  for (const auto* m : parts) {
    if (m->p != p_ || m->k != k_) throw std::invalid_argument("FixedCirculant: parts differ in p or k");
    q_ += m->q;
  }
  bins_ = num_bins(k_);
  chunks_ = (p_ + kRowChunk - 1) / kRowChunk;
  w32_.assign(static_cast<std::size_t>(bins_) * chunks_ * q_ * kRowChunk * 2, 0);

  RealFft<double> fft(k_);
  std::vector<std::complex<double>> X(static_cast<std::size_t>(bins_));
  std::vector<double> col(static_cast<std::size_t>(k_));
  int j0 = 0;
  for (const auto* m : parts) {
    for (int i = 0; i < p_; ++i)
      for (int j = 0; j < m->q; ++j) {
        const float* w = m->w.data() + (static_cast<std::size_t>(i) * m->q + j) * k_;
        for (int t = 0; t < k_; ++t) col[t] = w[t];
        fft.forward(col.data(), X.data());
        for (int b = 0; b < bins_; ++b) {
          // Bins 0 and k/2 of a real block are real; drop the rounding residue of the double FFT.
          const bool real_bin = (b == 0 || 2 * b == k_);
          std::size_t at = index(b, i, j0 + j) * 2;
          w32_[at] = quantize(X[b].real(), num.weight, num.rounding, SatKind::weight, sat);
          w32_[at + 1] = real_bin ? 0 : quantize(X[b].imag(), num.weight, num.rounding, SatKind::weight, sat);
        }
      }
    j0 += m->q;
  }

  narrow_ = num.weight.bits() <= 16;
  packed16_ = narrow_ && num.act.bits() <= 16;
  if (narrow_) {
    w16_.resize(w32_.size());
    for (std::size_t n = 0; n < w32_.size(); ++n) w16_[n] = static_cast<std::int16_t>(w32_[n]);
  }
  if (!check_bounds(num))
    throw InputError("accumulator of " + std::to_string(num.acc_bits) + " bits could overflow: a " +
                     std::to_string(p_ * k_) + "-row matrix needs " + std::to_string(acc_bits_needed_) + " bits");
}

FixedCirculant::FixedCirculant(int p, int q, int k, const Numerics& num) {
  p_ = p;
  q_ = q;
  k_ = k;
  bins_ = num_bins(k_);
  chunks_ = (p_ + kRowChunk - 1) / kRowChunk;
  w32_.assign(static_cast<std::size_t>(bins_) * chunks_ * q_ * kRowChunk * 2, 0);
  narrow_ = num.weight.bits() <= 16;
  packed16_ = narrow_ && num.act.bits() <= 16;
  if (narrow_) w16_.assign(w32_.size(), 0);
  check_bounds(num);
}

bool FixedCirculant::check_bounds(const Numerics& num) {
  const WeightBounds b = weight_bounds(shape(), span(), num);
  acc_bits_needed_ = b.acc_bits_needed;
  int32_run_ = b.int32_run;
  return acc_bits_needed_ <= num.acc_bits;
}

namespace {
template <class T>
const T* chunk_words(const WeightSpan& w, int q, int b, int c) {
  return static_cast<const T*>(w.words) +
         (static_cast<std::size_t>(b) * w.bin_stride + (c - w.c0)) * static_cast<std::size_t>(q) * kRowChunk * 2;
}

template <class T>
WeightBounds bounds_of(const CirculantShape& s, const WeightSpan& w, const Numerics& num) {
  // Exactness bounds. |S| <= sum_j (|re| + |im|) * Xmax per row and bin.
  const std::int64_t xmax = num.act.max_raw();
  std::int64_t worst = 0, pair_max = 1;
  for (int b = 0; b < s.bins; ++b)
    for (int i = 0; i < s.p; ++i) {
      const T* wc = chunk_words<T>(w, s.q, b, w.c0 + i / kRowChunk);
      std::int64_t row = 0;
      for (int j = 0; j < s.q; ++j) {
        const std::size_t at = (static_cast<std::size_t>(j) * kRowChunk + i % kRowChunk) * 2;
        const std::int64_t pr = std::llabs(static_cast<std::int64_t>(wc[at])) + std::llabs(static_cast<std::int64_t>(wc[at + 1]));
        pair_max = std::max(pair_max, pr);
        row += pr;
      }
      worst = std::max(worst, row * xmax);
    }
  WeightBounds r;
  r.acc_bits_needed = bits_for(worst);
  r.int32_run = static_cast<int>(
      std::clamp<std::int64_t>(((std::int64_t{1} << 31) - 1) / (pair_max * xmax), 1, std::max(s.q, 1)));
  return r;
}
}  // namespace

WeightBounds weight_bounds(const CirculantShape& s, const WeightSpan& w, const Numerics& num) {
  return w.narrow ? bounds_of<std::int16_t>(s, w, num) : bounds_of<std::int32_t>(s, w, num);
}

std::string FixedCirculant::packed() const {
  std::string out(packed_bytes(), '\0');
  if (narrow_)
    std::memcpy(&out[0], w16_.data(), out.size());
  else
    std::memcpy(&out[0], w32_.data(), out.size());
  return out;
}

bool FixedCirculant::load_packed(const void* bytes, std::size_t n) { return load_packed_chunks(bytes, n, 0, chunks_); }

bool FixedCirculant::load_packed_chunks(const void* bytes, std::size_t n, int c0, int c1) {
  const std::size_t words_per_chunk = static_cast<std::size_t>(q_) * kRowChunk * 2;
  const std::size_t wb = narrow_ ? 2 : 4;
  if (c0 < 0 || c1 > chunks_ || c0 > c1 || n != static_cast<std::size_t>(bins_) * (c1 - c0) * words_per_chunk * wb)
    return false;
  const auto* src = static_cast<const std::uint8_t*>(bytes);
  for (int b = 0; b < bins_; ++b) {
    const std::size_t dst = (static_cast<std::size_t>(b) * chunks_ + c0) * words_per_chunk;
    const std::size_t cnt = static_cast<std::size_t>(c1 - c0) * words_per_chunk;
    if (narrow_) {
      std::memcpy(&w16_[dst], src, cnt * 2);
      for (std::size_t i = 0; i < cnt; ++i) w32_[dst + i] = w16_[dst + i];
    } else {
      std::memcpy(&w32_[dst], src, cnt * 4);
    }
    src += cnt * wb;
  }
  return true;
}

std::int32_t FixedCirculant::w_re(int b, int i, int j) const { return w32_[index(b, i, j) * 2]; }
std::int32_t FixedCirculant::w_im(int b, int i, int j) const { return w32_[index(b, i, j) * 2 + 1]; }

void FixedCirculant::set_w(int b, int i, int j, std::int32_t re, std::int32_t im) {
  std::size_t at = index(b, i, j) * 2;
  w32_[at] = re;
  w32_[at + 1] = im;
  if (narrow_) {
    w16_[at] = static_cast<std::int16_t>(re);
    w16_[at + 1] = static_cast<std::int16_t>(im);
  }
}

namespace {
template <class T>
void mac_scalar_t(const CirculantShape& s, const WeightSpan& ws, const FreqView& x, int c0, int c1,
                  std::int64_t* acc) {
  for (int b = 0; b < s.bins; ++b)
    for (int c = c0; c < c1; ++c) {
      std::int64_t sre[kRowChunk] = {}, sim[kRowChunk] = {};
      const T* w = chunk_words<T>(ws, s.q, b, c);
      for (int j = 0; j < s.q; ++j) {
        const std::int64_t xr = x.re[static_cast<std::size_t>(b) * s.q + j];
        const std::int64_t xi = x.im[static_cast<std::size_t>(b) * s.q + j];
        const T* wj = w + static_cast<std::size_t>(j) * kRowChunk * 2;
        for (int r = 0; r < kRowChunk; ++r) {
          const std::int64_t wr = wj[2 * r], wi = wj[2 * r + 1];
          sre[r] += wr * xr - wi * xi;
          sim[r] += wr * xi + wi * xr;
        }
      }
      std::int64_t* are = acc + FixedCirculant::acc_index(b, s.chunks, c * kRowChunk, 0);
      std::int64_t* aim = acc + FixedCirculant::acc_index(b, s.chunks, c * kRowChunk, 1);
      for (int r = 0; r < kRowChunk; ++r) {
        are[r] += sre[r];
        aim[r] += sim[r];
      }
    }
}
}  // namespace

void circulant_mac_scalar(const CirculantShape& s, const WeightSpan& w, const FreqView& x, int c0, int c1,
                          std::int64_t* acc) {
  if (w.narrow)
    mac_scalar_t<std::int16_t>(s, w, x, c0, c1, acc);
  else
    mac_scalar_t<std::int32_t>(s, w, x, c0, c1, acc);
}

void FixedCirculant::mac_scalar(const FreqInput& x, int c0, int c1, std::int64_t* acc) const {
  circulant_mac_scalar(shape(), span(), x.view(), c0, c1, acc);
}

#ifdef CIRCA_HAVE_X86
namespace {

// Eight output rows at a time: one 256-bit load holds their (re, im) int16 pairs for one input column, and
// _mm256_madd_epi16 against a broadcast (re, -im) or (im, re) gives eight exact complex-product halves in int32
// (symmetric saturation keeps every pair sum below 2^31). Runs of `run` columns are summed in int32, a bound the
// weights' magnitudes prove, then widened into int64. Two row chunks go through the column loop together, so each
// broadcast input serves sixteen rows (an EW-MAC tile is two chunks); an odd last chunk runs alone. The integer
// sums are the same whatever the grouping.
namespace {
struct Acc64 {
  __m256i re_lo, re_hi, im_lo, im_hi;
};

__attribute__((target("avx2"))) inline void widen_into(Acc64& a, __m256i sre, __m256i sim) {
  a.re_lo = _mm256_add_epi64(a.re_lo, _mm256_cvtepi32_epi64(_mm256_castsi256_si128(sre)));
  a.re_hi = _mm256_add_epi64(a.re_hi, _mm256_cvtepi32_epi64(_mm256_extracti128_si256(sre, 1)));
  a.im_lo = _mm256_add_epi64(a.im_lo, _mm256_cvtepi32_epi64(_mm256_castsi256_si128(sim)));
  a.im_hi = _mm256_add_epi64(a.im_hi, _mm256_cvtepi32_epi64(_mm256_extracti128_si256(sim, 1)));
}

__attribute__((target("avx2"))) inline void store_add(const Acc64& a, std::int64_t* are, std::int64_t* aim) {
  __m256i* d = reinterpret_cast<__m256i*>(are);
  _mm256_storeu_si256(d, _mm256_add_epi64(_mm256_loadu_si256(d), a.re_lo));
  _mm256_storeu_si256(d + 1, _mm256_add_epi64(_mm256_loadu_si256(d + 1), a.re_hi));
  d = reinterpret_cast<__m256i*>(aim);
  _mm256_storeu_si256(d, _mm256_add_epi64(_mm256_loadu_si256(d), a.im_lo));
  _mm256_storeu_si256(d + 1, _mm256_add_epi64(_mm256_loadu_si256(d + 1), a.im_hi));
}
}  // namespace

__attribute__((target("avx2"))) void mac_avx2(const std::int16_t* w16, int bin_stride, int span_c0,
                                              const std::int32_t* xa, const std::int32_t* xb, int bins, int chunks,
                                              int q, int run, int c0, int c1, std::int64_t* acc) {
  const std::size_t chunk_words = static_cast<std::size_t>(q) * kRowChunk * 2;
  for (int b = 0; b < bins; ++b) {
    const std::int32_t* xab = xa + static_cast<std::size_t>(b) * q;
    const std::int32_t* xbb = xb + static_cast<std::size_t>(b) * q;
    auto out = [&](int c, int part) {
      return acc + ((static_cast<std::size_t>(b) * chunks + c) * 2 + part) * kRowChunk;
    };
    int c = c0;
    for (; c + 1 < c1; c += 2) {
      const std::int16_t* w0 = w16 + (static_cast<std::size_t>(b) * bin_stride + (c - span_c0)) * chunk_words;
      const std::int16_t* w1 = w0 + chunk_words;
      const __m256i z = _mm256_setzero_si256();
      Acc64 a0{z, z, z, z}, a1{z, z, z, z};
      for (int j0 = 0; j0 < q; j0 += run) {
        const int j1 = std::min(q, j0 + run);
        __m256i sre0 = z, sim0 = z, sre1 = z, sim1 = z;
        for (int j = j0; j < j1; ++j) {
          const __m256i xr = _mm256_set1_epi32(xab[j]), xi = _mm256_set1_epi32(xbb[j]);
          const __m256i v0 =
              _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w0 + static_cast<std::size_t>(j) * 16));
          const __m256i v1 =
              _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w1 + static_cast<std::size_t>(j) * 16));
          sre0 = _mm256_add_epi32(sre0, _mm256_madd_epi16(v0, xr));
          sim0 = _mm256_add_epi32(sim0, _mm256_madd_epi16(v0, xi));
          sre1 = _mm256_add_epi32(sre1, _mm256_madd_epi16(v1, xr));
          sim1 = _mm256_add_epi32(sim1, _mm256_madd_epi16(v1, xi));
        }
        widen_into(a0, sre0, sim0);
        widen_into(a1, sre1, sim1);
      }
      store_add(a0, out(c, 0), out(c, 1));
      store_add(a1, out(c + 1, 0), out(c + 1, 1));
    }
    if (c < c1) {
      const std::int16_t* w = w16 + (static_cast<std::size_t>(b) * bin_stride + (c - span_c0)) * chunk_words;
      const __m256i z = _mm256_setzero_si256();
      Acc64 a{z, z, z, z};
      for (int j0 = 0; j0 < q; j0 += run) {
        const int j1 = std::min(q, j0 + run);
        __m256i sre = z, sim = z;
        for (int j = j0; j < j1; ++j) {
          const __m256i wv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + static_cast<std::size_t>(j) * 16));
          sre = _mm256_add_epi32(sre, _mm256_madd_epi16(wv, _mm256_set1_epi32(xab[j])));
          sim = _mm256_add_epi32(sim, _mm256_madd_epi16(wv, _mm256_set1_epi32(xbb[j])));
        }
        widen_into(a, sre, sim);
      }
      store_add(a, out(c, 0), out(c, 1));
    }
  }
}

// Weights of 17 to 32 bits (stored as int32 pairs): _mm256_mul_epi32 multiplies the low 32 bits of each 64-bit lane,
// so one 256-bit load holds four rows' (re, im) for one column, re in the low half of each lane; shifting the lane
// right by 32 brings im down. Products of two int32 are exact in int64, and the sums stay exact in int64 because the
// accumulator bound (at most 63 bits, checked at load) holds. Eight rows: two loads, eight multiplies per column.
__attribute__((target("avx2"))) void mac_avx2_wide(const std::int32_t* w32, int bin_stride, int span_c0,
                                                   const std::int32_t* xre, const std::int32_t* xim, int bins,
                                                   int chunks, int q, int c0, int c1, std::int64_t* acc) {
  const std::size_t chunk_words = static_cast<std::size_t>(q) * kRowChunk * 2;
  for (int b = 0; b < bins; ++b) {
    const std::int32_t* xr_b = xre + static_cast<std::size_t>(b) * q;
    const std::int32_t* xi_b = xim + static_cast<std::size_t>(b) * q;
    for (int c = c0; c < c1; ++c) {
      const std::int32_t* w = w32 + (static_cast<std::size_t>(b) * bin_stride + (c - span_c0)) * chunk_words;
      __m256i re0 = _mm256_setzero_si256(), re1 = re0, im0 = re0, im1 = re0;
      for (int j = 0; j < q; ++j) {
        const __m256i xr = _mm256_set1_epi32(xr_b[j]), xi = _mm256_set1_epi32(xi_b[j]);
        const __m256i v0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + static_cast<std::size_t>(j) * 16));
        const __m256i v1 =
            _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + static_cast<std::size_t>(j) * 16 + 8));
        const __m256i h0 = _mm256_srli_epi64(v0, 32), h1 = _mm256_srli_epi64(v1, 32);
        re0 = _mm256_add_epi64(re0, _mm256_sub_epi64(_mm256_mul_epi32(v0, xr), _mm256_mul_epi32(h0, xi)));
        im0 = _mm256_add_epi64(im0, _mm256_add_epi64(_mm256_mul_epi32(v0, xi), _mm256_mul_epi32(h0, xr)));
        re1 = _mm256_add_epi64(re1, _mm256_sub_epi64(_mm256_mul_epi32(v1, xr), _mm256_mul_epi32(h1, xi)));
        im1 = _mm256_add_epi64(im1, _mm256_add_epi64(_mm256_mul_epi32(v1, xi), _mm256_mul_epi32(h1, xr)));
      }
      __m256i* are = reinterpret_cast<__m256i*>(acc + ((static_cast<std::size_t>(b) * chunks + c) * 2) * kRowChunk);
      __m256i* aim = are + 2;
      _mm256_storeu_si256(are, _mm256_add_epi64(_mm256_loadu_si256(are), re0));
      _mm256_storeu_si256(are + 1, _mm256_add_epi64(_mm256_loadu_si256(are + 1), re1));
      _mm256_storeu_si256(aim, _mm256_add_epi64(_mm256_loadu_si256(aim), im0));
      _mm256_storeu_si256(aim + 1, _mm256_add_epi64(_mm256_loadu_si256(aim + 1), im1));
    }
  }
}

}  // namespace
#endif

void circulant_mac(const CirculantShape& s, const WeightSpan& w, int run, bool vector, const FreqView& x, int c0,
                   int c1, std::int64_t* acc) {
#ifdef CIRCA_HAVE_X86
  if (vector && w.narrow && host_has_avx2()) {
    mac_avx2(static_cast<const std::int16_t*>(w.words), w.bin_stride, w.c0, x.xa, x.xb, s.bins, s.chunks, s.q, run,
             c0, c1, acc);
    return;
  }
  if (!w.narrow && host_has_avx2()) {
    mac_avx2_wide(static_cast<const std::int32_t*>(w.words), w.bin_stride, w.c0, x.re, x.im, s.bins, s.chunks, s.q,
                  c0, c1, acc);
    return;
  }
#else
  (void)run;
  (void)vector;
#endif
  circulant_mac_scalar(s, w, x, c0, c1, acc);
}

void FixedCirculant::mac(const FreqInput& x, int c0, int c1, std::int64_t* acc) const {
  circulant_mac(shape(), span(), int32_run_, packed16_, x.view(), c0, c1, acc);
}

void fft_inputs(const InputSegment* segs, std::size_t nseg, const FixedFft& fft, int bits, FreqInput& out,
                SatCounters& sat) {
  const int k = fft.k();
  int q = 0;
  for (std::size_t i = 0; i < nseg; ++i) q += (segs[i].n + k - 1) / k;
  if (out.q != q || out.bins != num_bins(k)) out.resize(q, num_bins(k));
  fft_input_blocks(segs, nseg, fft, bits, out, 0, q, sat);
}

void fft_input_blocks(const InputSegment* segs, std::size_t nseg, const FixedFft& fft, int bits, const FreqView& out,
                      int j0, int j1, SatCounters& sat) {
  const int k = fft.k(), bins = num_bins(k), q = out.q;
  std::int32_t blk[64], re[33], im[33];
  int j = 0;  // first block of the current segment
  for (std::size_t si = 0; si < nseg && j < j1; ++si) {
    const InputSegment& s = segs[si];
    const int nb = (s.n + k - 1) / k;
    for (int jb = std::max(0, j0 - j); jb < nb && j + jb < j1; ++jb) {
      const int base = jb * k;
      const int n = std::min(k, s.n - base);
      for (int t = 0; t < n; ++t) blk[t] = s.x[base + t];
      for (int t = n; t < k; ++t) blk[t] = 0;
      fft.forward(blk, re, im, bits, sat);
      for (int b = 0; b < bins; ++b) {
        const std::size_t at = static_cast<std::size_t>(b) * q + j + jb;
        const std::int32_t vi = (b == 0 || 2 * b == k) ? 0 : im[b];
        out.re[at] = re[b];
        out.im[at] = vi;
        out.xa[at] = pack16(re[b], -vi);
        out.xb[at] = pack16(vi, re[b]);
      }
    }
    j += nb;
  }
}

void ifft_rows(const CirculantShape& W, const std::int64_t* acc, int row0, int row1, const FixedFft& ifft,
               const Numerics& num, std::int64_t* y, SatCounters& sat) {
  // Each sum from act.n + weight.n to act.n + guard fractional bits, saturated to ifft_bits in 64 bits (the IFFT's
  // inputs are up to 40 bits wide; a 32-bit saturate truncated every value beyond 2^31, found by tests/intmodel's
  // wide-ifft-inputs case), then the inverse: FixedFft::inverse_rows, one call for the rows.
  if (W.k != ifft.k()) throw std::invalid_argument("ifft_rows: the transform's k differs from the matrix's");
  ifft.inverse_rows(acc, W.chunks, row0, row1, num.weight.n - num.guard_bits, num.ifft_bits, y, sat);
}

std::vector<std::int64_t> fixed_matvec(const FixedCirculant& W, std::initializer_list<InputSegment> segs,
                                       const Numerics& num, SatCounters& sat) {
  FixedFft fft(W.k(), num.tw_frac(), num.rounding);
  FreqInput X;
  fft_inputs(segs, fft, num.act.bits(), X, sat);
  if (X.q != W.q()) throw std::invalid_argument("fixed_matvec: input blocks do not match the matrix");
  std::vector<std::int64_t> acc(W.acc_size(), 0);
  W.mac(X, 0, W.chunks(), acc.data());
  std::vector<std::int64_t> y(static_cast<std::size_t>(W.p()) * W.k());
  ifft_rows(W, acc.data(), 0, W.p(), fft, num, y.data(), sat);
  return y;
}

FloatCirculant::FloatCirculant(const std::vector<const CirculantMatrix*>& parts) : fft_(parts.at(0)->k) {
  p_ = parts[0]->p;
  k_ = parts[0]->k;
  q_ = 0;
  for (const auto* m : parts) {
    if (m->p != p_ || m->k != k_) throw std::invalid_argument("FloatCirculant: parts differ in p or k");
    q_ += m->q;
  }
  bins_ = num_bins(k_);
  wre_.assign(static_cast<std::size_t>(bins_) * p_ * q_, 0.0);
  wim_.assign(wre_.size(), 0.0);
  std::vector<double> col(static_cast<std::size_t>(k_));
  std::vector<std::complex<double>> X(static_cast<std::size_t>(bins_));
  int j0 = 0;
  for (const auto* m : parts) {
    for (int i = 0; i < p_; ++i)
      for (int j = 0; j < m->q; ++j) {
        const float* w = m->w.data() + (static_cast<std::size_t>(i) * m->q + j) * k_;
        for (int t = 0; t < k_; ++t) col[t] = w[t];
        fft_.forward(col.data(), X.data());
        for (int b = 0; b < bins_; ++b) {
          const std::size_t at = (static_cast<std::size_t>(b) * q_ + j0 + j) * p_ + i;
          wre_[at] = X[b].real();
          wim_[at] = X[b].imag();
        }
      }
    j0 += m->q;
  }
}

void FloatCirculant::matvec(std::initializer_list<std::pair<const double*, int>> segs, double* y) const {
  X_.resize(static_cast<std::size_t>(bins_) * q_);
  blk_.resize(static_cast<std::size_t>(k_));
  B_.resize(static_cast<std::size_t>(bins_));
  auto& X = X_;
  auto& blk = blk_;
  auto& B = B_;
  int j = 0;
  for (const auto& [x, n] : segs)
    for (int base = 0; base < n; base += k_, ++j) {
      for (int t = 0; t < k_; ++t) blk[t] = base + t < n ? x[base + t] : 0.0;
      fft_.forward(blk.data(), B.data());
      for (int b = 0; b < bins_; ++b) X[static_cast<std::size_t>(b) * q_ + j] = B[b];
    }
  if (j != q_) throw std::invalid_argument("FloatCirculant: input blocks do not match the matrix");
  // S_i(b) = sum_j W_ij(b) X_j(b), j ascending from 0, with the complex product written out as std::complex
  // computes it for finite values: the same sums bit for bit, without the NaN fallback that keeps the compiler from
  // vectorizing across rows.
  sre_.assign(static_cast<std::size_t>(bins_) * p_, 0.0);
  sim_.assign(sre_.size(), 0.0);
  for (int b = 0; b < bins_; ++b) {
    double* sr = &sre_[static_cast<std::size_t>(b) * p_];
    double* si = &sim_[static_cast<std::size_t>(b) * p_];
    for (int jj = 0; jj < q_; ++jj) {
      const double xr = X[static_cast<std::size_t>(b) * q_ + jj].real();
      const double xi = X[static_cast<std::size_t>(b) * q_ + jj].imag();
      const double* wr = &wre_[(static_cast<std::size_t>(b) * q_ + jj) * p_];
      const double* wi = &wim_[(static_cast<std::size_t>(b) * q_ + jj) * p_];
      for (int i = 0; i < p_; ++i) {
        sr[i] += wr[i] * xr - wi[i] * xi;
        si[i] += wr[i] * xi + wi[i] * xr;
      }
    }
  }
  for (int i = 0; i < p_; ++i) {
    for (int b = 0; b < bins_; ++b)
      B[b] = {sre_[static_cast<std::size_t>(b) * p_ + i], sim_[static_cast<std::size_t>(b) * p_ + i]};
    fft_.inverse(B.data(), y + static_cast<std::size_t>(i) * k_);
  }
}

}  // namespace circa
