// circa: block-circulant matrix-vector products by frequency-domain accumulation (C-LSTM):
//   y_i = IFFT( sum_j FFT(w_ij) o FFT(x_j) )   -- one FFT per input block, one IFFT per output block row.
//
// Fixed point (see core/fft.hpp for where the 1/k goes):
//   X_j = forward(x_j)            = FFT(x_j)/k in the activation format (16 bits by default)
//   W_ij = FFT(w_ij)              computed offline in double, rounded once to the weight format
//   S_i(b) = sum_j W_ij(b) X_j(b) exact integer sums (int64 on the host; the accumulator-width bound is checked)
//   y_i = inverse(S_i rounded to act.n + guard fractional bits), unscaled, so y_i = W x at act.n + guard bits.
//
// Host layout: bin-major. For every bin b, output rows are grouped 8 at a time ("row chunks", padded with zero
// rows), and inside a chunk the weights run over input block columns j with the 8 rows' (re, im) pairs adjacent:
//   w[((b * chunks + c) * q + j) * 8 + r] = (re, im) of W_{8c+r, j}(b)
// so one chunk's dot products over j stream through memory once and stay in registers.
#pragma once

#include <complex>
#include <string>
#include <initializer_list>
#include <cstdint>
#include <vector>

#include "core/fft.hpp"
#include "core/fixed.hpp"
#include "core/model.hpp"
#include "core/numerics.hpp"

namespace circa {

constexpr int kRowChunk = 8;

// The FFT-domain input of one matvec (FreqInput below) on storage someone else owns (the accelerator's spectrum buffer), [b * q + j] each.
struct FreqView {
  int q = 0, bins = 0;
  std::int32_t *re = nullptr, *im = nullptr, *xa = nullptr, *xb = nullptr;
};

// The FFT-domain input of one matvec: for every bin b and input block column j the complex value X_j(b), stored
// both as int32 (re, im) and, when it fits 16 bits, packed for the pairwise-multiply kernel:
//   xa = (re, -im) and xb = (im, re) as two int16 halves of an int32.
struct FreqInput {
  int q = 0, bins = 0;
  std::vector<std::int32_t> re, im;  // [b][j]
  std::vector<std::int32_t> xa, xb;  // [b][j], packed int16 pairs
  void resize(int q_, int bins_);
  FreqView view() { return {q, bins, re.data(), im.data(), xa.data(), xb.data()}; }
  FreqView view() const { return const_cast<FreqInput*>(this)->view(); }  // read only: the MAC's operand
};

// Weights of a run of row chunks in the packed layout (FixedCirculant::packed()), on storage someone else owns:
// the words of chunk c in bin b start at word (b * bin_stride + c - c0) * q * 8 * 2. A whole matrix is
// {data, narrow, chunks, 0}; one EW-MAC tile's weights streamed on their own are {data, narrow, c1 - c0, c0}.
struct WeightSpan {
  const void* words = nullptr;
  bool narrow = true;  // 16-bit words, else 32-bit
  int bin_stride = 0;  // chunks per bin in this span
  int c0 = 0;          // the first chunk the span holds
};

// The geometry the EW-MAC and the IFFT need, without the weights.
struct CirculantShape {
  int p = 0, q = 0, k = 1, bins = 1, chunks = 0;
  std::size_t acc_size() const { return static_cast<std::size_t>(bins) * chunks * 2 * 8; }
};

// S for row chunks [c0, c1) of the weights in `w` (which must hold them), added into acc (FixedCirculant's acc
// layout). `run`: columns that may be summed in int32 before widening (FixedCirculant::int32_run()); `vector`: the
// int16 pairwise kernel may be used (16-bit weights and activations). Exact; the same sums whatever the path.
void circulant_mac(const CirculantShape& s, const WeightSpan& w, int run, bool vector, const FreqView& x, int c0,
                   int c1, std::int64_t* acc);
// The portable scalar path of the same (the reference for the vector kernel's tests).
void circulant_mac_scalar(const CirculantShape& s, const WeightSpan& w, const FreqView& x, int c0, int c1,
                          std::int64_t* acc);
// Exactness bounds of packed weights: the int32 run length and the accumulator bits (sign included) |S| may need.
struct WeightBounds {
  int int32_run = 1, acc_bits_needed = 0;
};
WeightBounds weight_bounds(const CirculantShape& s, const WeightSpan& w, const Numerics& num);

// One block-circulant matrix, or several side by side (the LSTMP's [W_x | W_r] when both use the same k), in
// FFT-domain fixed point.
class FixedCirculant {
public:
  FixedCirculant() = default;
  // All parts must have the same p and k; their block columns are concatenated in order.
  FixedCirculant(const std::vector<const CirculantMatrix*>& parts, const Numerics& num, SatCounters& sat);
  // Geometry only, all weights zero (the accelerator's side: weights arrive later through load_packed()).
  FixedCirculant(int p, int q, int k, const Numerics& num);

  // The weights as the accelerator stores them: every (re, im) word of the host layout, little-endian, 2 bytes per
  // word when the weight format has at most 16 bits, else 4.
  std::size_t packed_bytes() const { return w32_.size() * (narrow_ ? 2 : 4); }
  std::string packed() const;
  // Replaces the weights of row chunks [c0, c1) (all of them by default) from packed bytes covering exactly those
  // chunks' words in the same layout order restricted to the chunks (bin-major, chunk, column, row). Returns false
  // if the size is wrong. The exactness bounds are recomputed by check_bounds().
  bool load_packed(const void* bytes, std::size_t n);
  bool load_packed_chunks(const void* bytes, std::size_t n, int c0, int c1);
  // Recomputes the int32 run length and the accumulator bound; false if `acc_bits` could overflow.
  bool check_bounds(const Numerics& num);

  int p() const { return p_; }
  int q() const { return q_; }
  int k() const { return k_; }
  int bins() const { return bins_; }
  int chunks() const { return chunks_; }
  bool packed16() const { return packed16_; }
  bool narrow() const { return narrow_; }
  CirculantShape shape() const { return {p_, q_, k_, bins_, chunks_}; }
  WeightSpan span() const { return {narrow_ ? static_cast<const void*>(w16_.data()) : w32_.data(), narrow_, chunks_, 0}; }
  std::size_t acc_size() const { return static_cast<std::size_t>(bins_) * chunks_ * 2 * kRowChunk; }
  static std::size_t acc_index(int b, int chunks, int i, int part) {
    return ((static_cast<std::size_t>(b) * chunks + i / kRowChunk) * 2 + part) * kRowChunk + i % kRowChunk;
  }
  // Columns that may be summed in int32 before widening, from the weights' actual magnitudes (>= 1).
  int int32_run() const { return int32_run_; }
  // Upper bound of |S_i(b)| in bits (sign included), checked against the accumulator width at construction.
  int acc_bits_needed() const { return acc_bits_needed_; }

  // S for row chunks [c0, c1), added into acc[((b * chunks + c) * 2 + {0 re, 1 im}) * 8 + r] (acc_size()
  // entries). Exact.
  void mac(const FreqInput& x, int c0, int c1, std::int64_t* acc) const;
  // The same through the portable scalar path (reference for the vector kernel's tests).
  void mac_scalar(const FreqInput& x, int c0, int c1, std::int64_t* acc) const;

  // Raw weight (re, im) of output block row i, column j, bin b.
  std::int32_t w_re(int b, int i, int j) const;
  std::int32_t w_im(int b, int i, int j) const;
  // Overwrites one weight (a test hook and the VP's corrupt-a-word experiments).
  void set_w(int b, int i, int j, std::int32_t re, std::int32_t im);

private:
  std::size_t index(int b, int i, int j) const {
    return ((static_cast<std::size_t>(b) * chunks_ + i / kRowChunk) * q_ + j) * kRowChunk + i % kRowChunk;
  }
  int p_ = 0, q_ = 0, k_ = 1, bins_ = 1, chunks_ = 0;
  bool narrow_ = false;    // weights stored as int16 (weight format of at most 16 bits)
  bool packed16_ = false;  // and the int16 pairwise kernel applies (activations of at most 16 bits too)
  int int32_run_ = 1, acc_bits_needed_ = 0;
  std::vector<std::int32_t> w32_;  // pairs: [index * 2 + {re, im}]
  std::vector<std::int16_t> w16_;  // the same when every value fits 16 bits
};

// Forward FFTs of the input segments (each zero-padded to its own multiple of k) into `out`: the columns of
// segment s follow those of segment s-1. Values are raw in a `bits`-wide format.
struct InputSegment {
  const std::int32_t* x;
  int n;  // logical length
};
void fft_inputs(const InputSegment* segs, std::size_t nseg, const FixedFft& fft, int bits, FreqInput& out,
                SatCounters& sat);
// The same for input blocks [j0, j1) only (block j counts across segments); out must already be sized.
void fft_input_blocks(const InputSegment* segs, std::size_t nseg, const FixedFft& fft, int bits, const FreqView& out,
                      int j0, int j1, SatCounters& sat);
inline void fft_input_blocks(const InputSegment* segs, std::size_t nseg, const FixedFft& fft, int bits,
                             FreqInput& out, int j0, int j1, SatCounters& sat) {
  fft_input_blocks(segs, nseg, fft, bits, out.view(), j0, j1, sat);
}
inline void fft_inputs(std::initializer_list<InputSegment> segs, const FixedFft& fft, int bits, FreqInput& out,
                       SatCounters& sat) {
  fft_inputs(segs.begin(), segs.size(), fft, bits, out, sat);
}

// IFFT of the sums of rows [row0, row1) (block rows) into y (row-major: block row i -> y[(i - row0) * k .. +k)),
// at act.n + guard fractional bits. `acc` as filled by mac().
void ifft_rows(const CirculantShape& W, const std::int64_t* acc, int row0, int row1, const FixedFft& ifft,
               const Numerics& num, std::int64_t* y, SatCounters& sat);
inline void ifft_rows(const FixedCirculant& W, const std::int64_t* acc, int row0, int row1, const FixedFft& ifft,
                      const Numerics& num, std::int64_t* y, SatCounters& sat) {
  ifft_rows(W.shape(), acc, row0, row1, ifft, num, y, sat);
}

// Convenience for tests and small callers: y = W x for logical input segments, output p*k values at
// act.n + guard fractional bits.
std::vector<std::int64_t> fixed_matvec(const FixedCirculant& W, std::initializer_list<InputSegment> segs,
                                       const Numerics& num, SatCounters& sat);

// Floating point (double) reference path with the same structure: FFT(w) precomputed, frequency accumulation,
// one inverse per output block.
class FloatCirculant {
public:
  FloatCirculant() = default;
  explicit FloatCirculant(const std::vector<const CirculantMatrix*>& parts);
  int p() const { return p_; }
  int k() const { return k_; }
  // y (p*k) = W [x_0 | x_1 | ...], each segment zero-padded to a multiple of k. Uses member scratch: one caller
  // at a time.
  void matvec(std::initializer_list<std::pair<const double*, int>> segs, double* y) const;

private:
  int p_ = 0, q_ = 0, k_ = 1, bins_ = 1;
  // FFT(w) split into real and imaginary parts, [b][j][i]: for one bin and one input block the p output rows are
  // contiguous, so the accumulation runs across rows (vectorizable) while each row still sums over j in order.
  std::vector<double> wre_, wim_;
  RealFft<double> fft_{1};
  mutable std::vector<std::complex<double>> X_, B_;
  mutable std::vector<double> blk_, sre_, sim_;  // sums [b][i]
};

}  // namespace circa
