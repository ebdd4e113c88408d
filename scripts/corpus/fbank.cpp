#include "scripts/corpus/fbank.hpp"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <string>

#include "core/error.hpp"

namespace circa::corpus {

namespace {
constexpr double kPi = 3.14159265358979323846;
}

std::size_t num_frames(std::size_t num_samples, const FbankOptions& o) {
  const auto len = static_cast<std::size_t>(o.frame_length), hop = static_cast<std::size_t>(o.frame_shift);
  return num_samples < len ? 0 : (num_samples - len) / hop + 1;
}

double mel_scale(double hz) {
  return 1127.0 * std::log(1.0 + hz / 700.0);
}
double inverse_mel(double mel) {
  return 700.0 * (std::exp(mel / 1127.0) - 1.0);
}

std::vector<std::complex<double>> fft_twiddles(std::size_t n) {
  // From cos/sin of each exact angle, not by repeated multiplication, so rounding does not accumulate.
  std::vector<std::complex<double>> w(n / 2);
  for (std::size_t k = 0; k < n / 2; ++k) {
    const double a = -2.0 * kPi * static_cast<double>(k) / static_cast<double>(n);
    w[k] = {std::cos(a), std::sin(a)};
  }
  return w;
}

void fft_inplace(std::vector<std::complex<double>>& x, const std::vector<std::complex<double>>& twiddles) {
  const std::size_t n = x.size();
  for (std::size_t i = 1, j = 0; i < n; ++i) {
    std::size_t bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) std::swap(x[i], x[j]);
  }
  for (std::size_t len = 2; len <= n; len <<= 1) {
    const std::size_t half = len / 2, stride = n / len;
    for (std::size_t i = 0; i < n; i += len) {
      for (std::size_t k = 0; k < half; ++k) {
        // Written out: std::complex's operator* checks for NaN/inf (Annex G) and is several times slower.
        const double wr = twiddles[k * stride].real(), wi = twiddles[k * stride].imag();
        std::complex<double>& a = x[i + k];
        std::complex<double>& b = x[i + k + half];
        const double vr = b.real() * wr - b.imag() * wi, vi = b.real() * wi + b.imag() * wr;
        const double ur = a.real(), ui = a.imag();
        a = {ur + vr, ui + vi};
        b = {ur - vr, ui - vi};
      }
    }
  }
}

void fft_inplace(std::vector<std::complex<double>>& x) {
  fft_inplace(x, fft_twiddles(x.size()));
}

Fbank::Fbank(const FbankOptions& o) : o_(o) {
  if (o.fft_size < o.frame_length || (o.fft_size & (o.fft_size - 1)) != 0)
    throw InputError("fbank: the FFT size must be a power of two >= the frame length");
  if (o.num_mels < 1 || !(o.low_hz >= 0.0) || !(o.high_hz > o.low_hz) || o.high_hz > o.sample_rate / 2.0)
    throw InputError("fbank: need 0 <= low < high <= Nyquist and at least one mel filter");
  window_.resize(static_cast<std::size_t>(o.frame_length));
  for (int i = 0; i < o.frame_length; ++i)
    window_[static_cast<std::size_t>(i)] = 0.54 - 0.46 * std::cos(2.0 * kPi * i / (o.frame_length - 1));

  twiddles_ = fft_twiddles(static_cast<std::size_t>(o.fft_size));
  const int bins = o.fft_size / 2 + 1;
  const double lo = mel_scale(o.low_hz), hi = mel_scale(o.high_hz);
  const double step = (hi - lo) / (o.num_mels + 1);
  weights_.assign(static_cast<std::size_t>(o.num_mels), std::vector<double>(static_cast<std::size_t>(bins), 0.0));
  for (int m = 0; m < o.num_mels; ++m) {
    // Triangles in the mel domain (HTK, Kaldi): rising from the left edge to the centre, falling to the right.
    const double left = lo + m * step, center = left + step, right = center + step;
    double sum = 0.0;
    for (int k = 0; k < bins; ++k) {
      const double mel = mel_scale(static_cast<double>(k) * o.sample_rate / o.fft_size);
      double w = 0.0;
      if (mel > left && mel < center)
        w = (mel - left) / (center - left);
      else if (mel >= center && mel < right)
        w = (right - mel) / (right - center);
      weights_[static_cast<std::size_t>(m)][static_cast<std::size_t>(k)] = w;
      sum += w;
    }
    // The bins a triangle covers, so compute() skips the zeros (about 4 % of the bins are non-zero).
    const auto& row = weights_[static_cast<std::size_t>(m)];
    std::size_t first = row.size(), last = 0;
    for (std::size_t k = 0; k < row.size(); ++k)
      if (row[k] > 0.0) {
        first = std::min(first, k);
        last = k + 1;
      }
    span_.push_back({std::min(first, last), last});
    if (sum <= 0.0)
      throw InputError("fbank: mel filter " + std::to_string(m) + " of " + std::to_string(o.num_mels) +
                       " covers no FFT bin; use fewer mels or a larger FFT");
  }
}

double Fbank::center_hz(int m) const {
  const double lo = mel_scale(o_.low_hz), hi = mel_scale(o_.high_hz);
  return inverse_mel(lo + (m + 1) * (hi - lo) / (o_.num_mels + 1));
}

Matrix Fbank::compute(const std::vector<float>& wave) const {
  const std::size_t frames = num_frames(wave.size(), o_);
  const auto len = static_cast<std::size_t>(o_.frame_length);
  const auto bins = static_cast<std::size_t>(o_.fft_size / 2 + 1);
  Matrix out(frames, static_cast<std::size_t>(o_.num_mels) + 1);
  std::vector<double> x(len);
  std::vector<std::complex<double>> spec(static_cast<std::size_t>(o_.fft_size));
  std::vector<double> power(bins);
  for (std::size_t f = 0; f < frames; ++f) {
    const float* s = wave.data() + f * static_cast<std::size_t>(o_.frame_shift);
    double mean = 0.0;
    for (std::size_t i = 0; i < len; ++i) mean += s[i];
    mean /= static_cast<double>(len);
    double energy = 0.0;
    for (std::size_t i = 0; i < len; ++i) {
      x[i] = s[i] - mean;
      energy += x[i] * x[i];
    }
    // Kaldi's per-frame pre-emphasis: the first sample is emphasised against itself.
    for (std::size_t i = len - 1; i > 0; --i) x[i] -= o_.preemph * x[i - 1];
    x[0] -= o_.preemph * x[0];
    for (std::size_t i = 0; i < spec.size(); ++i) spec[i] = i < len ? x[i] * window_[i] : 0.0;
    fft_inplace(spec, twiddles_);
    for (std::size_t k = 0; k < bins; ++k) power[k] = std::norm(spec[k]);
    float* row = out.row(f);
    row[0] = static_cast<float>(std::log(std::max(energy, static_cast<double>(FLT_EPSILON))));
    for (std::size_t m = 0; m < weights_.size(); ++m) {
      double e = 0.0;
      const auto& w = weights_[m];
      for (std::size_t k = span_[m].first; k < span_[m].second; ++k) e += w[k] * power[k];
      row[m + 1] = static_cast<float>(std::log(std::max(e, static_cast<double>(FLT_EPSILON))));
    }
  }
  return out;
}

namespace {

// One HTK regression pass over `in`, columns [c0, c0 + n), into `out` columns [d0, d0 + n).
void regress(const Matrix& in, std::size_t c0, Matrix& out, std::size_t d0, std::size_t n, int window) {
  const auto rows = static_cast<long>(in.rows);
  double denom = 0.0;
  for (int k = 1; k <= window; ++k) denom += 2.0 * k * k;
  for (long t = 0; t < rows; ++t) {
    for (std::size_t c = 0; c < n; ++c) {
      double acc = 0.0;
      for (int k = 1; k <= window; ++k) {
        const long a = std::min(t + k, rows - 1), b = std::max(t - k, 0L);
        acc += k * (static_cast<double>(in.at(static_cast<std::size_t>(a), c0 + c)) -
                    static_cast<double>(in.at(static_cast<std::size_t>(b), c0 + c)));
      }
      out.at(static_cast<std::size_t>(t), d0 + c) = static_cast<float>(acc / denom);
    }
  }
}

}  // namespace

Matrix add_deltas(const Matrix& statics, int window) {
  const std::size_t d = statics.cols;
  Matrix out(statics.rows, 3 * d);
  for (std::size_t t = 0; t < statics.rows; ++t)
    for (std::size_t c = 0; c < d; ++c) out.at(t, c) = statics.at(t, c);
  regress(out, 0, out, d, d, window);
  regress(out, d, out, 2 * d, d, window);
  return out;
}

}  // namespace circa::corpus
