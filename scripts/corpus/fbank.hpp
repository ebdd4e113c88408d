// circa-corpus: log-mel filterbank + log energy with deltas, the TIMIT-recipe front end (Kaldi's compute-fbank-feats
// with --use-energy, then add-deltas), written out so the corpus needs no Kaldi.
//
// Per 25 ms frame (10 ms hop, only whole frames): remove the DC offset, take the log energy of the raw frame,
// pre-emphasise (0.97), Hamming-window, zero-pad to 512 points, power spectrum, triangular filters equally spaced on
// the HTK mel scale (1127 ln(1 + f/700)) between low_hz and high_hz, natural log. Floors: log(max(x, FLT_EPSILON)),
// as Kaldi. Column layout (Kaldi's): [log energy, mel_0 .. mel_{M-1}], then the Δ block, then the ΔΔ block.
#pragma once

#include <complex>
#include <cstddef>
#include <utility>
#include <vector>

#include "core/matrix.hpp"

namespace circa::corpus {

struct FbankOptions {
  int sample_rate = 16000;
  int frame_length = 400;  // 25 ms
  int frame_shift = 160;   // 10 ms
  int fft_size = 512;
  int num_mels = 50;
  double low_hz = 64.0;
  double high_hz = 8000.0;  // Nyquist at 16 kHz
  double preemph = 0.97;
  int delta_window = 2;  // HTK's DELTAWINDOW / ACCWINDOW
};

// Whole frames only (Kaldi's snip-edges): floor((n - frame_length) / frame_shift) + 1, and 0 when n < frame_length.
std::size_t num_frames(std::size_t num_samples, const FbankOptions& o);

double mel_scale(double hz);  // HTK: 1127 ln(1 + hz / 700)
double inverse_mel(double mel);

// In-place radix-2 complex FFT; size a power of two. Forward transform (e^{-2πi kn/N}), no scaling. core/fft.hpp
// stops at k = 64, the largest circulant block; the filterbank needs 512.
void fft_inplace(std::vector<std::complex<double>>& x);
// The same with a table from fft_twiddles(x.size()), for repeated transforms.
std::vector<std::complex<double>> fft_twiddles(std::size_t n);
void fft_inplace(std::vector<std::complex<double>>& x, const std::vector<std::complex<double>>& twiddles);

class Fbank {
public:
  explicit Fbank(const FbankOptions& o);  // throws InputError if a mel filter would cover no FFT bin

  // Static features: num_frames x (1 + num_mels). `wave` is at o.sample_rate, 16-bit scale.
  Matrix compute(const std::vector<float>& wave) const;

  // The weight of FFT bin k (0 .. fft_size/2) in filter m, as used by compute(); exposed for the tests.
  double weight(int m, int k) const { return weights_[static_cast<std::size_t>(m)][static_cast<std::size_t>(k)]; }
  // Centre frequency of filter m in Hz.
  double center_hz(int m) const;
  const FbankOptions& options() const { return o_; }

private:
  FbankOptions o_;
  std::vector<double> window_;
  std::vector<std::vector<double>> weights_;               // [mel][bin]
  std::vector<std::pair<std::size_t, std::size_t>> span_;  // [mel] -> bins [first, last) with non-zero weight
  std::vector<std::complex<double>> twiddles_;
};

// Appends Δ and ΔΔ: HTK's regression d_t = Σ_n n (c_{t+n} - c_{t-n}) / (2 Σ_n n²), n = 1..window, frames beyond
// the edges replicate the first/last frame; ΔΔ is the same regression on Δ. Returns rows x (3 * cols).
Matrix add_deltas(const Matrix& statics, int window);

}  // namespace circa::corpus
