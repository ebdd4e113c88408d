// core/fft: the float FFT against FFTW; the fixed-point FFT bit for bit against a plain model of its specification,
// against an exact reference (SNR floors), and on cases whose exact output is derived by hand.
#include "core/fft.hpp"

#include <fftw3.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <complex>
#include <cstdint>
#include <limits>
#include <random>
#include <stdexcept>
#include <vector>

namespace circa {
namespace {

constexpr int kSizes[] = {2, 4, 8, 16, 32, 64};
constexpr Rounding kModes[] = {Rounding::half_even, Rounding::half_up};

// The data formats of the 12-, 16- and 18-bit datapaths, and their twiddles' fractional bits (Q2.(bits-2)).
constexpr QFormat kFormats[] = {{4, 8}, {8, 8}, {8, 10}};
int tw_frac_for(QFormat q) {
  return q.bits() - 2;
}

// --- FFTW, the independent reference ---------------------------------------------------------------------------

template <class T>
struct FftwApi;

template <>
struct FftwApi<float> {
  using Plan = fftwf_plan;
  using Complex = fftwf_complex;
  static float* alloc_real(int n) { return fftwf_alloc_real(static_cast<std::size_t>(n)); }
  static Complex* alloc_complex(int n) { return fftwf_alloc_complex(static_cast<std::size_t>(n)); }
  static void free(void* p) { fftwf_free(p); }
  static Plan r2c(int n, float* in, Complex* out) { return fftwf_plan_dft_r2c_1d(n, in, out, FFTW_ESTIMATE); }
  static Plan c2r(int n, Complex* in, float* out) { return fftwf_plan_dft_c2r_1d(n, in, out, FFTW_ESTIMATE); }
  static void execute(Plan p) { fftwf_execute(p); }
  static void destroy(Plan p) { fftwf_destroy_plan(p); }
};

template <>
struct FftwApi<double> {
  using Plan = fftw_plan;
  using Complex = fftw_complex;
  static double* alloc_real(int n) { return fftw_alloc_real(static_cast<std::size_t>(n)); }
  static Complex* alloc_complex(int n) { return fftw_alloc_complex(static_cast<std::size_t>(n)); }
  static void free(void* p) { fftw_free(p); }
  static Plan r2c(int n, double* in, Complex* out) { return fftw_plan_dft_r2c_1d(n, in, out, FFTW_ESTIMATE); }
  static Plan c2r(int n, Complex* in, double* out) { return fftw_plan_dft_c2r_1d(n, in, out, FFTW_ESTIMATE); }
  static void execute(Plan p) { fftw_execute(p); }
  static void destroy(Plan p) { fftw_destroy_plan(p); }
};

template <class T>
class Fftw {
public:
  using Api = FftwApi<T>;
  explicit Fftw(int k) : k_(k), r_(Api::alloc_real(k)), c_(Api::alloc_complex(k / 2 + 1)) {
    fwd_ = Api::r2c(k, r_, c_);
    inv_ = Api::c2r(k, c_, r_);
  }
  ~Fftw() {
    Api::destroy(fwd_);
    Api::destroy(inv_);
    Api::free(r_);
    Api::free(c_);
  }
  Fftw(const Fftw&) = delete;
  Fftw& operator=(const Fftw&) = delete;

  std::vector<std::complex<T>> forward(const std::vector<T>& x) {
    std::copy(x.begin(), x.end(), r_);
    Api::execute(fwd_);
    std::vector<std::complex<T>> X(static_cast<std::size_t>(k_ / 2 + 1));
    for (std::size_t b = 0; b < X.size(); ++b) X[b] = {c_[b][0], c_[b][1]};
    return X;
  }
  // FFTW's c2r is unscaled; divided by k here to match RealFft::inverse.
  std::vector<T> inverse(const std::vector<std::complex<T>>& X) {
    for (std::size_t b = 0; b < X.size(); ++b) {
      c_[b][0] = X[b].real();
      c_[b][1] = X[b].imag();
    }
    Api::execute(inv_);  // may overwrite c_, which is refilled on every call
    std::vector<T> x(r_, r_ + k_);
    for (auto& v : x) v /= static_cast<T>(k_);
    return x;
  }

private:
  int k_;
  T* r_;
  typename Api::Complex* c_;
  typename Api::Plan fwd_, inv_;
};

// Frees FFTW's internal planner state so the sanitizer build's leak check sees none.
class FftwCleanup : public ::testing::Environment {
public:
  void TearDown() override {
    fftwf_cleanup();
    fftw_cleanup();
  }
};
const auto* const kFftwCleanup = ::testing::AddGlobalTestEnvironment(new FftwCleanup);

// Relative error of a block: max |got - ref| / max |ref|, over all its elements (bins or samples).
template <class A, class B>
double rel_error(const std::vector<A>& got, const std::vector<B>& ref) {
  double num = 0, den = 0;
  for (std::size_t i = 0; i < ref.size(); ++i) {
    num = std::max(num, static_cast<double>(std::abs(got[i] - static_cast<A>(ref[i]))));
    den = std::max(den, static_cast<double>(std::abs(ref[i])));
  }
  return num / den;
}

// --- floating point ---------------------------------------------------------------------------------------------

template <class T>
void check_float_against_fftw(double tol) {
  std::mt19937_64 rng(1234);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  for (int k : kSizes) {
    SCOPED_TRACE("k=" + std::to_string(k));
    RealFft<T> fft(k);
    Fftw<T> ref(k);
    double worst_fwd = 0, worst_inv = 0;
    for (int trial = 0; trial < 200; ++trial) {
      std::vector<T> x(static_cast<std::size_t>(k));
      for (auto& v : x) v = static_cast<T>(u(rng));
      std::vector<std::complex<T>> X(static_cast<std::size_t>(k / 2 + 1));
      fft.forward(x.data(), X.data());
      worst_fwd = std::max(worst_fwd, rel_error(X, ref.forward(x)));

      // A random half spectrum; FFTW's c2r reads a Hermitian spectrum, whose bins 0 and k/2 are real.
      std::vector<std::complex<T>> Z(X.size());
      for (auto& z : Z) z = {static_cast<T>(u(rng)), static_cast<T>(u(rng))};
      Z.front().imag(0);
      Z.back().imag(0);
      std::vector<T> y(static_cast<std::size_t>(k));
      fft.inverse(Z.data(), y.data());
      worst_inv = std::max(worst_inv, rel_error(y, ref.inverse(Z)));
    }
    EXPECT_LE(worst_fwd, tol);
    EXPECT_LE(worst_inv, tol);
  }
}

TEST(RealFft, FloatMatchesFftw) {
  check_float_against_fftw<float>(1e-5);
}
TEST(RealFft, DoubleMatchesFftw) {
  check_float_against_fftw<double>(1e-12);
}

template <class T>
void check_round_trip(double tol) {
  std::mt19937_64 rng(99);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  for (int k : {1, 2, 4, 8, 16, 32, 64}) {
    SCOPED_TRACE("k=" + std::to_string(k));
    RealFft<T> fft(k);
    double worst = 0;
    for (int trial = 0; trial < 200; ++trial) {
      std::vector<T> x(static_cast<std::size_t>(k)), y(x.size());
      for (auto& v : x) v = static_cast<T>(u(rng));
      std::vector<std::complex<T>> X(static_cast<std::size_t>(k / 2 + 1));
      fft.forward(x.data(), X.data());
      fft.inverse(X.data(), y.data());
      worst = std::max(worst, rel_error(y, x));
    }
    EXPECT_LE(worst, tol);
  }
}

TEST(RealFft, FloatRoundTrip) {
  check_round_trip<float>(2e-6);
}
TEST(RealFft, DoubleRoundTrip) {
  check_round_trip<double>(4e-15);
}

TEST(RealFft, BlockSizeOneIsIdentity) {
  RealFft<double> fft(1);
  const double x = -0.8125;
  std::complex<double> X;
  fft.forward(&x, &X);
  EXPECT_EQ(X, std::complex<double>(x, 0));
  const std::complex<double> Z(2.5, 7.0);  // the imaginary part has no real signal and is ignored
  double y = 0;
  fft.inverse(&Z, &y);
  EXPECT_EQ(y, 2.5);
}

TEST(RealFft, InverseIgnoresImagOfDcAndNyquist) {
  for (int k : kSizes) {
    RealFft<double> fft(k);
    std::vector<std::complex<double>> Z(static_cast<std::size_t>(k / 2 + 1));
    for (std::size_t b = 0; b < Z.size(); ++b) Z[b] = {0.25 * static_cast<double>(b) - 1, 0.5 - 0.125 * b};
    std::vector<double> y1(static_cast<std::size_t>(k)), y2(y1.size());
    fft.inverse(Z.data(), y1.data());
    Z.front().imag(3.0);
    Z.back().imag(-5.0);
    fft.inverse(Z.data(), y2.data());
    EXPECT_EQ(y1, y2) << "k=" << k;
  }
}

TEST(Fft, RejectsInvalidBlockSizes) {
  for (int k : {1, 2, 4, 8, 16, 32, 64}) EXPECT_TRUE(valid_block_size(k)) << k;
  for (int k : {-8, -1, 0, 3, 6, 12, 48, 128}) {
    EXPECT_FALSE(valid_block_size(k)) << k;
    EXPECT_THROW(RealFft<float>{k}, std::invalid_argument) << k;
    EXPECT_THROW(RealFft<double>{k}, std::invalid_argument) << k;
    EXPECT_THROW((FixedFft{k, 14, Rounding::half_even}), std::invalid_argument) << k;
  }
  EXPECT_THROW((FixedFft{8, 0, Rounding::half_even}), std::invalid_argument);
  EXPECT_THROW((FixedFft{8, 17, Rounding::half_even}), std::invalid_argument);
  EXPECT_NO_THROW((FixedFft{8, 16, Rounding::half_up}));
}

// --- fixed point: a plain model of the specification --------------------------------------------------------------

// v / 2^s (s >= 1) rounded as fixed.hpp documents, written from the definition (floor, then compare the remainder
// with one half) rather than calling circa::shift_round, so the model does not share the kernels' rounding code.
std::int64_t reference_round(std::int64_t v, int s, Rounding r) {
  const std::int64_t d = std::int64_t{1} << s;
  const std::int64_t q = v >= 0 ? v / d : -((-v + d - 1) / d);  // floor
  const std::int64_t rem2 = 2 * (v - q * d);                       // 2 * remainder, in [0, 2d)
  if (rem2 != d) return rem2 > d ? q + 1 : q;
  return r == Rounding::half_up || q % 2 != 0 ? q + 1 : q;
}

// Every butterfly uses the general twiddle formula, with no shortcut for the exact twiddles and no templates, so
// FixedFft's fast kernels must match it bit for bit.
class SpecFft {
public:
  SpecFft(int k, int tw_frac, Rounding r) : k_(k), tw_(tw_frac), r_(r) {
    const double pi = std::acos(-1.0);
    for (int j = 0; j < k / 2; ++j) {
      const double a = 2 * pi * j / k;
      wr_.push_back(static_cast<std::int64_t>(std::nearbyint(std::cos(a) * std::ldexp(1.0, tw_frac))));
      wi_.push_back(static_cast<std::int64_t>(std::nearbyint(-std::sin(a) * std::ldexp(1.0, tw_frac))));
    }
  }

  // Unsaturated bins 0..k/2.
  void forward(const std::int32_t* x, std::vector<std::int64_t>& re, std::vector<std::int64_t>& im) const {
    std::vector<std::int64_t> ar(static_cast<std::size_t>(k_)), ai(ar.size(), 0);
    for (int i = 0; i < k_; ++i) ar[static_cast<std::size_t>(i)] = x[bitrev(i)];
    const std::int64_t one = std::int64_t{1} << tw_;
    for (int len = 2; len <= k_; len *= 2)
      for (int g = 0; g < k_; g += len)
        for (int j = 0; j < len / 2; ++j) {
          const auto p = static_cast<std::size_t>(g + j), q = p + static_cast<std::size_t>(len / 2);
          const std::int64_t wr = wr_[static_cast<std::size_t>(j * (k_ / len))];
          const std::int64_t wi = wi_[static_cast<std::size_t>(j * (k_ / len))];
          const std::int64_t pr = wr * ar[q] - wi * ai[q], pi = wr * ai[q] + wi * ar[q];
          const std::int64_t a_r = ar[p] * one, a_i = ai[p] * one;
          ar[p] = reference_round(a_r + pr, tw_ + 1, r_);
          ai[p] = reference_round(a_i + pi, tw_ + 1, r_);
          ar[q] = reference_round(a_r - pr, tw_ + 1, r_);
          ai[q] = reference_round(a_i - pi, tw_ + 1, r_);
        }
    re.assign(ar.begin(), ar.begin() + k_ / 2 + 1);
    im.assign(ai.begin(), ai.begin() + k_ / 2 + 1);
  }

  void inverse(const std::int64_t* re, const std::int64_t* im, std::vector<std::int64_t>& y) const {
    std::vector<std::int64_t> zr(static_cast<std::size_t>(k_)), zi(zr.size());
    for (int b = 0; b <= k_ / 2; ++b) {
      zr[static_cast<std::size_t>(b)] = re[b];
      zi[static_cast<std::size_t>(b)] = (b == 0 || b == k_ / 2) ? 0 : im[b];
    }
    for (int b = 1; b < k_ / 2; ++b) {
      zr[static_cast<std::size_t>(k_ - b)] = re[b];
      zi[static_cast<std::size_t>(k_ - b)] = -im[b];
    }
    std::vector<std::int64_t> ar(zr.size()), ai(zr.size());
    for (int i = 0; i < k_; ++i) {
      ar[static_cast<std::size_t>(i)] = zr[static_cast<std::size_t>(bitrev(i))];
      ai[static_cast<std::size_t>(i)] = zi[static_cast<std::size_t>(bitrev(i))];
    }
    for (int len = 2; len <= k_; len *= 2)
      for (int g = 0; g < k_; g += len)
        for (int j = 0; j < len / 2; ++j) {
          const auto p = static_cast<std::size_t>(g + j), q = p + static_cast<std::size_t>(len / 2);
          const std::int64_t wr = wr_[static_cast<std::size_t>(j * (k_ / len))];
          const std::int64_t wi = -wi_[static_cast<std::size_t>(j * (k_ / len))];  // conjugate
          const std::int64_t tr = reference_round(wr * ar[q] - wi * ai[q], tw_, r_);
          const std::int64_t ti = reference_round(wr * ai[q] + wi * ar[q], tw_, r_);
          const std::int64_t a_r = ar[p], a_i = ai[p];
          ar[p] = a_r + tr;
          ai[p] = a_i + ti;
          ar[q] = a_r - tr;
          ai[q] = a_i - ti;
        }
    y = ar;
  }

private:
  int bitrev(int i) const {
    int r = 0;
    for (int m = 1; m < k_; m <<= 1, i >>= 1) r = (r << 1) | (i & 1);
    return r;
  }
  int k_, tw_;
  Rounding r_;
  std::vector<std::int64_t> wr_, wi_;
};

struct FixedOut {
  std::vector<std::int32_t> re, im;
  SatCounters sat;
};

FixedOut run_forward(const FixedFft& fft, const std::vector<std::int32_t>& x, int bits) {
  FixedOut o;
  o.re.assign(static_cast<std::size_t>(num_bins(fft.k())), 0x5a5a5a5a);
  o.im = o.re;
  fft.forward(x.data(), o.re.data(), o.im.data(), bits, o.sat);
  return o;
}

std::int32_t uniform_raw(std::mt19937_64& rng, std::int64_t lo, std::int64_t hi) {
  return static_cast<std::int32_t>(std::uniform_int_distribution<std::int64_t>(lo, hi)(rng));
}

TEST(FixedFft, ForwardMatchesSpecModelBitForBit) {
  std::mt19937_64 rng(7);
  std::uint64_t re_saturations = 0, im_saturations = 0;
  for (int k : {1, 2, 4, 8, 16, 32, 64})
    for (QFormat q : kFormats)
      for (Rounding r : kModes) {
        SCOPED_TRACE("k=" + std::to_string(k) + " " + q.str() + " " + rounding_name(r));
        const FixedFft fft(k, tw_frac_for(q), r);
        const SpecFft spec(k, tw_frac_for(q), r);
        const std::int64_t M = q.max_raw();
        auto check = [&](const std::vector<std::int32_t>& x) {
          std::vector<std::int64_t> wre, wim;
          spec.forward(x.data(), wre, wim);
          SatCounters expect_re, expect_im;
          const FixedOut got = run_forward(fft, x, q.bits());
          for (std::size_t b = 0; b < wre.size(); ++b) {
            ASSERT_EQ(got.re[b], saturate(wre[b], q.bits(), SatKind::fft, expect_re)) << "bin " << b;
            ASSERT_EQ(got.im[b], saturate(wim[b], q.bits(), SatKind::fft, expect_im)) << "bin " << b;
          }
          ASSERT_EQ(got.sat[SatKind::fft], expect_re[SatKind::fft] + expect_im[SatKind::fft]);
          ASSERT_EQ(got.sat.total(), got.sat[SatKind::fft]);
          re_saturations += expect_re.total();
          im_saturations += expect_im.total();
        };
        std::vector<std::int32_t> x(static_cast<std::size_t>(k));
        for (int trial = 0; trial < 400; ++trial) {
          // In range, extreme codes only, and out of range (2M, which only a caller bug would pass) to make the
          // final saturation and its count do something.
          const std::int64_t span = trial % 3 == 2 ? 2 * M : M;
          for (auto& v : x)
            v = trial % 3 == 1 ? static_cast<std::int32_t>(rng() & 1 ? M : -M) : uniform_raw(rng, -span, span);
          check(x);
        }
        // The out-of-range blocks that drive the real or the imaginary part of bin b hardest: 2M sgn(cos) and
        // -2M sgn(sin) of the bin's phase, which reach 2M mean|cos| (about 1.27 M) and clip.
        const double pi = std::acos(-1.0);
        const auto S = static_cast<std::int32_t>(2 * M);
        for (int b = 0; b <= k / 2; ++b) {
          for (int t = 0; t < k; ++t) x[static_cast<std::size_t>(t)] = std::cos(2 * pi * b * t / k) >= 0 ? S : -S;
          check(x);
          for (int t = 0; t < k; ++t) x[static_cast<std::size_t>(t)] = std::sin(2 * pi * b * t / k) > 0 ? -S : S;
          check(x);
        }
      }
  // Both parts' clipping and counting were exercised (1424 and 312 saturations with these seeds).
  EXPECT_GT(re_saturations, 1000u);
  EXPECT_GT(im_saturations, 200u);
}

// Spectra like the frequency-domain accumulation's: sums over `blocks` products of two `q` values, so they carry
// 2 q.n fractional bits and stay far below the 2^40 the inverse accepts.
void accumulated_spectrum(std::mt19937_64& rng, int k, QFormat q, int blocks, std::vector<std::int64_t>& re,
                          std::vector<std::int64_t>& im) {
  const std::int64_t half = std::int64_t{1} << (q.bits() - 2);
  re.assign(static_cast<std::size_t>(num_bins(k)), 0);
  im.assign(re.size(), 0);
  for (int j = 0; j < blocks; ++j)
    for (std::size_t b = 0; b < re.size(); ++b) {
      const std::int64_t wr = uniform_raw(rng, -half, half), wi = uniform_raw(rng, -half, half);
      const std::int64_t xr = uniform_raw(rng, -half, half), xi = uniform_raw(rng, -half, half);
      re[b] += wr * xr - wi * xi;
      im[b] += wr * xi + wi * xr;
    }
}

TEST(FixedFft, InverseMatchesSpecModelBitForBit) {
  std::mt19937_64 rng(8);
  for (int k : {1, 2, 4, 8, 16, 32, 64})
    for (QFormat q : kFormats)
      for (Rounding r : kModes) {
        SCOPED_TRACE("k=" + std::to_string(k) + " " + q.str() + " " + rounding_name(r));
        const FixedFft fft(k, tw_frac_for(q), r);
        const SpecFft spec(k, tw_frac_for(q), r);
        for (int trial = 0; trial < 300; ++trial) {
          std::vector<std::int64_t> re, im, want, got(static_cast<std::size_t>(k));
          if (trial % 2 == 0) {
            accumulated_spectrum(rng, k, q, 16, re, im);
          } else {
            // The full input range, magnitudes up to 2^40 - 1.
            re.resize(static_cast<std::size_t>(num_bins(k)));
            im.resize(re.size());
            const std::int64_t lim = (std::int64_t{1} << 40) - 1;
            for (std::size_t b = 0; b < re.size(); ++b) {
              re[b] = std::uniform_int_distribution<std::int64_t>(-lim, lim)(rng);
              im[b] = std::uniform_int_distribution<std::int64_t>(-lim, lim)(rng);
            }
          }
          spec.inverse(re.data(), im.data(), want);
          fft.inverse(re.data(), im.data(), got.data());
          ASSERT_EQ(got, want);
        }
      }
}

// --- fixed point: accuracy against exact references ------------------------------------------------------------------

// SNR of the fixed forward transform against FFTW (double) of the same (dequantized) input divided by k, over all
// bins, inputs uniform in half the format's range.
double forward_snr_db(int k, QFormat q, Rounding r) {
  std::mt19937_64 rng(static_cast<std::uint64_t>(1000 * k + q.bits()));
  const FixedFft fft(k, tw_frac_for(q), r);
  Fftw<double> ref(k);
  const std::int64_t half = std::int64_t{1} << (q.bits() - 2);
  double sig = 0, err = 0;
  for (int block = 0; block < 20000 / k; ++block) {
    std::vector<std::int32_t> x(static_cast<std::size_t>(k));
    std::vector<double> xd(x.size());
    for (std::size_t t = 0; t < x.size(); ++t) {
      x[t] = uniform_raw(rng, -half, half);
      xd[t] = to_double(x[t], q.n);
    }
    const FixedOut got = run_forward(fft, x, q.bits());
    const auto X = ref.forward(xd);
    for (std::size_t b = 0; b < X.size(); ++b) {
      const std::complex<double> want = X[b] / static_cast<double>(k);
      const std::complex<double> have(to_double(got.re[b], q.n), to_double(got.im[b], q.n));
      sig += std::norm(want);
      err += std::norm(have - want);
    }
  }
  return 10 * std::log10(sig / err);
}

// The exact unscaled inverse of a Hermitian spectrum, in long double (64-bit mantissa: exact enough for the
// < 2^47 magnitudes here).
class ExactInverse {
public:
  explicit ExactInverse(int k) : k_(k) {
    const long double pi = std::acos(-1.0L);
    for (int j = 0; j < k; ++j) {
      cos_.push_back(std::cos(2 * pi * j / k));
      sin_.push_back(std::sin(2 * pi * j / k));
    }
  }
  std::vector<long double> operator()(const std::vector<std::int64_t>& re, const std::vector<std::int64_t>& im) const {
    std::vector<long double> y(static_cast<std::size_t>(k_));
    for (int t = 0; t < k_; ++t) {
      long double s = re[0];
      if (k_ > 1) s += (t % 2 ? -1.0L : 1.0L) * static_cast<long double>(re[static_cast<std::size_t>(k_ / 2)]);
      for (int b = 1; b < k_ / 2; ++b) {
        const auto j = static_cast<std::size_t>((b * t) % k_);
        s += 2 * (re[static_cast<std::size_t>(b)] * cos_[j] - im[static_cast<std::size_t>(b)] * sin_[j]);
      }
      y[static_cast<std::size_t>(t)] = s;
    }
    return y;
  }

private:
  int k_;
  std::vector<long double> cos_, sin_;
};

double inverse_snr_db(int k, QFormat q, Rounding r) {
  std::mt19937_64 rng(static_cast<std::uint64_t>(2000 * k + q.bits()));
  const FixedFft fft(k, tw_frac_for(q), r);
  const ExactInverse exact_inverse(k);
  long double sig = 0, err = 0;
  for (int block = 0; block < 20000 / k; ++block) {
    std::vector<std::int64_t> re, im, y(static_cast<std::size_t>(k));
    accumulated_spectrum(rng, k, q, 8, re, im);
    fft.inverse(re.data(), im.data(), y.data());
    const auto want = exact_inverse(re, im);
    for (int t = 0; t < k; ++t) {
      const long double e =
          static_cast<long double>(y[static_cast<std::size_t>(t)]) - want[static_cast<std::size_t>(t)];
      sig += want[static_cast<std::size_t>(t)] * want[static_cast<std::size_t>(t)];
      err += e * e;
    }
  }
  return static_cast<double>(10 * std::log10(sig / err));
}

// Floors in dB, 3 dB below the values measured with these seeds (in the comment beside each row). The forward
// loses about 3.5 dB per doubling of k: the signal per bin shrinks with the 1/k and every stage adds its rounding;
// half_up is slightly worse, its ties all round the same way. The inverse's error is the twiddles' quantization, so
// it depends on how close cos(pi/4) etc. land to a code, not on k; with so few ties the modes measure alike. For
// k <= 4 the inverse's twiddles are 1 and i, so it is exact (InverseIsExactUpToK4); 382 dB is the long double
// reference's own rounding.
struct SnrFloor {
  int k;
  int bits;
  double fwd_even, fwd_up, inv_even, inv_up;
};

const QFormat& format_of(int bits) {
  for (const QFormat& q : kFormats)
    if (q.bits() == bits) return q;
  throw std::logic_error("no format of " + std::to_string(bits) + " bits");
}

// clang-format off
const SnrFloor kSnrFloors[] = {
  //  k  bits fwd even fwd up inv even inv up   measured (dB): fwd even / fwd up / inv even / inv up
  {  2, 12,  58.3,  58.3, 300.0, 300.0},  // measured 61.4 / 61.4 / inf / inf (exact)
  {  2, 16,  82.5,  82.5, 300.0, 300.0},  // measured 85.6 / 85.6 / inf / inf (exact)
  {  2, 18,  94.4,  94.4, 300.0, 300.0},  // measured 97.5 / 97.5 / inf / inf (exact)
  {  4, 12,  54.2,  52.1, 300.0, 300.0},  // measured 57.2 / 55.1 / 382 / 382 (exact)
  {  4, 16,  78.3,  76.1, 300.0, 300.0},  // measured 81.3 / 79.2 / 382 / 382 (exact)
  {  4, 18,  90.2,  88.1, 300.0, 300.0},  // measured 93.3 / 91.2 / 382 / 382 (exact)
  {  8, 12,  49.9,  47.7,  81.8,  81.8},  // measured 52.9 / 50.8 / 84.9 / 84.9
  {  8, 16,  73.9,  71.8,  96.1,  96.1},  // measured 76.9 / 74.9 / 99.2 / 99.2
  {  8, 18,  86.0,  83.9, 121.7, 121.7},  // measured 89.0 / 86.9 / 124.8 / 124.8
  { 16, 12,  46.2,  44.3,  81.2,  81.2},  // measured 49.2 / 47.4 / 84.3 / 84.3
  { 16, 16,  70.2,  68.4,  96.6,  96.6},  // measured 73.2 / 71.4 / 99.6 / 99.6
  { 16, 18,  82.2,  80.4, 115.6, 115.6},  // measured 85.3 / 83.5 / 118.6 / 118.6
  { 32, 12,  42.7,  41.2,  71.8,  71.8},  // measured 45.7 / 44.2 / 74.9 / 74.9
  { 32, 16,  66.7,  65.2,  95.2,  95.2},  // measured 69.7 / 68.3 / 98.3 / 98.3
  { 32, 18,  78.7,  77.4, 108.6, 108.6},  // measured 81.8 / 80.4 / 111.6 / 111.6
  { 64, 12,  39.5,  38.5,  69.4,  69.4},  // measured 42.6 / 41.5 / 72.5 / 72.5
  { 64, 16,  63.6,  62.4,  92.1,  92.1},  // measured 66.6 / 65.5 / 95.2 / 95.2
  { 64, 18,  75.6,  74.6, 104.7, 104.7},  // measured 78.6 / 77.6 / 107.7 / 107.7
};
// clang-format on

TEST(FixedFft, ForwardSnrFloors) {
  for (const SnrFloor& f : kSnrFloors) {
    const QFormat q = format_of(f.bits);
    EXPECT_GE(forward_snr_db(f.k, q, Rounding::half_even), f.fwd_even) << "k=" << f.k << " " << q.str() << " half_even";
    EXPECT_GE(forward_snr_db(f.k, q, Rounding::half_up), f.fwd_up) << "k=" << f.k << " " << q.str() << " half_up";
  }
}

TEST(FixedFft, InverseSnrFloors) {
  for (const SnrFloor& f : kSnrFloors) {
    const QFormat q = format_of(f.bits);
    EXPECT_GE(inverse_snr_db(f.k, q, Rounding::half_even), f.inv_even) << "k=" << f.k << " " << q.str() << " half_even";
    EXPECT_GE(inverse_snr_db(f.k, q, Rounding::half_up), f.inv_up) << "k=" << f.k << " " << q.str() << " half_up";
  }
}

// --- fixed point: exact cases
// -----------------------------------------------------------------------------------------

// Every stage output is a rounded average of two values, so the extreme codes of a constant block stay exact:
// bin 0 = +-max_raw, every other bin 0, and no saturation (expected count 0). The alternating block +-max_raw
// (-1)^t lands on bin k/2 the same way.
TEST(FixedFft, ExtremeCodesStayInRange) {
  for (int k : {1, 2, 4, 8, 16, 32, 64})
    for (QFormat q : kFormats)
      for (Rounding r : kModes) {
        SCOPED_TRACE("k=" + std::to_string(k) + " " + q.str() + " " + rounding_name(r));
        const FixedFft fft(k, tw_frac_for(q), r);
        const std::int32_t M = q.max_raw();
        for (std::int32_t c : {M, -M}) {
          const FixedOut o = run_forward(fft, std::vector<std::int32_t>(static_cast<std::size_t>(k), c), q.bits());
          std::vector<std::int32_t> want_re(static_cast<std::size_t>(num_bins(k)), 0);
          want_re[0] = c;
          EXPECT_EQ(o.re, want_re);
          EXPECT_EQ(o.im, std::vector<std::int32_t>(want_re.size(), 0));
          EXPECT_EQ(o.sat.total(), 0u);
          if (k == 1) continue;
          std::vector<std::int32_t> alt(static_cast<std::size_t>(k));
          for (int t = 0; t < k; ++t) alt[static_cast<std::size_t>(t)] = t % 2 ? -c : c;
          const FixedOut a = run_forward(fft, alt, q.bits());
          std::vector<std::int32_t> want_alt(want_re.size(), 0);
          want_alt.back() = c;
          EXPECT_EQ(a.re, want_alt);
          EXPECT_EQ(a.im, std::vector<std::int32_t>(want_re.size(), 0));
          EXPECT_EQ(a.sat.total(), 0u);
        }
      }
}

// Every block of +-max_raw codes (all 2^k sign patterns for k = 8 and 16): no output exceeds the range, so no
// saturation is counted (expected count 0), in either rounding mode.
TEST(FixedFft, AllSignPatternsOfExtremeCodesNeverSaturate) {
  for (int k : {8, 16})
    for (QFormat q : kFormats)
      for (Rounding r : kModes) {
        SCOPED_TRACE("k=" + std::to_string(k) + " " + q.str() + " " + rounding_name(r));
        const FixedFft fft(k, tw_frac_for(q), r);
        const std::int32_t M = q.max_raw();
        SatCounters sat;
        std::vector<std::int32_t> x(static_cast<std::size_t>(k)), re(static_cast<std::size_t>(num_bins(k))),
            im(re.size());
        std::int32_t peak = 0;
        for (std::uint32_t pattern = 0; pattern < (1u << k); ++pattern) {
          for (int t = 0; t < k; ++t) x[static_cast<std::size_t>(t)] = (pattern >> t) & 1 ? -M : M;
          fft.forward(x.data(), re.data(), im.data(), 32, sat);  // 32 bits: nothing clips, so the peak is honest
          for (std::size_t b = 0; b < re.size(); ++b) peak = std::max({peak, std::abs(re[b]), std::abs(im[b])});
        }
        EXPECT_EQ(peak, M);  // reached by bin 0 of the constant patterns, never exceeded
        EXPECT_EQ(sat.total(), 0u);
      }
}

// The most negative two's complement code -(max_raw + 1) is outside the symmetric range; a constant block of it
// gives bin 0 = -(max_raw + 1) exactly, which the final write-back clips to -max_raw: exactly one saturation. Its
// alternating block clips bin k/2 the same way.
TEST(FixedFft, OutOfRangeCodeSaturatesOnceAndIsCounted) {
  for (int k : {1, 2, 4, 8, 16, 32, 64})
    for (QFormat q : kFormats) {
      SCOPED_TRACE("k=" + std::to_string(k) + " " + q.str());
      const FixedFft fft(k, tw_frac_for(q), Rounding::half_even);
      const std::int32_t M = q.max_raw();
      const FixedOut o = run_forward(fft, std::vector<std::int32_t>(static_cast<std::size_t>(k), -M - 1), q.bits());
      EXPECT_EQ(o.re[0], -M);
      EXPECT_EQ(o.sat[SatKind::fft], 1u);
      EXPECT_EQ(o.sat.total(), 1u);
      if (k == 1) continue;
      std::vector<std::int32_t> alt(static_cast<std::size_t>(k));
      for (int t = 0; t < k; ++t) alt[static_cast<std::size_t>(t)] = t % 2 ? M + 1 : -M - 1;
      const FixedOut a = run_forward(fft, alt, q.bits());
      EXPECT_EQ(a.re.back(), -M);
      EXPECT_EQ(a.re[0], 0);
      EXPECT_EQ(a.sat[SatKind::fft], 1u);
    }
}

// A constant c: the first stage averages c with c (exact), and every later stage averages with zeros that the
// twiddles leave zero, so bin 0 = c and every other bin is 0 exactly, whatever c.
TEST(FixedFft, ConstantBlockIsExact) {
  std::mt19937_64 rng(3);
  for (int k : kSizes)
    for (Rounding r : kModes) {
      const FixedFft fft(k, 14, r);
      for (int trial = 0; trial < 50; ++trial) {
        const std::int32_t c = uniform_raw(rng, -32767, 32767);
        const FixedOut o = run_forward(fft, std::vector<std::int32_t>(static_cast<std::size_t>(k), c), 16);
        std::vector<std::int32_t> want(static_cast<std::size_t>(num_bins(k)), 0);
        want[0] = c;
        ASSERT_EQ(o.re, want) << "k=" << k << " c=" << c;
        ASSERT_EQ(o.im, std::vector<std::int32_t>(want.size(), 0)) << "k=" << k << " c=" << c;
      }
    }
}

// An impulse v at t = 0: the DFT is v in every bin, so forward() gives v/k in every bin. When k divides v each
// stage's halving is exact: an impulse of k c gives c (real) in every bin.
TEST(FixedFft, ImpulseIsExact) {
  for (int k : kSizes)
    for (Rounding r : kModes)
      for (std::int32_t c : {1, -1, 7, -300, 32767 / 64}) {
        const FixedFft fft(k, 14, r);
        std::vector<std::int32_t> x(static_cast<std::size_t>(k), 0);
        x[0] = k * c;
        const FixedOut o = run_forward(fft, x, 16);
        EXPECT_EQ(o.re, std::vector<std::int32_t>(static_cast<std::size_t>(num_bins(k)), c)) << "k=" << k << " c=" << c;
        EXPECT_EQ(o.im, std::vector<std::int32_t>(static_cast<std::size_t>(num_bins(k)), 0)) << "k=" << k << " c=" << c;
      }
}

TEST(FixedFft, BlockSizeOneIsIdentity) {
  const FixedFft fft(1, 14, Rounding::half_even);
  for (std::int32_t v : {0, 1, -1, 12345, -32767}) {
    const FixedOut o = run_forward(fft, {v}, 16);
    EXPECT_EQ(o.re[0], v);
    EXPECT_EQ(o.im[0], 0);
    EXPECT_EQ(o.sat.total(), 0u);
  }
  const std::int64_t re = -(std::int64_t{1} << 39) + 5, im = 77;
  std::int64_t y = 0;
  fft.inverse(&re, &im, &y);
  EXPECT_EQ(y, re);
}

// Only bin 0 (v) or only bin k/2 (v): the twiddles multiply nothing but zeros, so the inverse is exact: v at every
// sample, or v (-1)^t. The imaginary parts of bins 0 and k/2 are ignored.
TEST(FixedFft, InverseOfDcAndNyquistIsExact) {
  for (int k : kSizes)
    for (Rounding r : kModes)
      for (std::int64_t v :
           {std::int64_t{1}, std::int64_t{-3}, (std::int64_t{1} << 40) - 1, -(std::int64_t{1} << 40) + 1}) {
        SCOPED_TRACE("k=" + std::to_string(k) + " v=" + std::to_string(v));
        const FixedFft fft(k, 14, r);
        std::vector<std::int64_t> re(static_cast<std::size_t>(num_bins(k)), 0), im(re.size(), 0),
            y(static_cast<std::size_t>(k));
        re[0] = v;
        im[0] = 12345;  // ignored
        fft.inverse(re.data(), im.data(), y.data());
        EXPECT_EQ(y, std::vector<std::int64_t>(static_cast<std::size_t>(k), v));
        re[0] = 0;
        re.back() = v;
        im.back() = -999;  // ignored
        fft.inverse(re.data(), im.data(), y.data());
        for (int t = 0; t < k; ++t) EXPECT_EQ(y[static_cast<std::size_t>(t)], t % 2 ? -v : v) << "t=" << t;
      }
}

// For k = 2 and 4 the inverse needs only the twiddles 1 and +i, so it equals the exact integer inverse.
TEST(FixedFft, InverseIsExactUpToK4) {
  std::mt19937_64 rng(11);
  const std::int64_t lim = (std::int64_t{1} << 40) - 1;
  for (Rounding r : kModes) {
    const FixedFft f2(2, 14, r), f4(4, 14, r);
    for (int trial = 0; trial < 1000; ++trial) {
      std::int64_t re[3], im[3], y[4];
      for (int b = 0; b < 3; ++b) {
        re[b] = std::uniform_int_distribution<std::int64_t>(-lim, lim)(rng);
        im[b] = std::uniform_int_distribution<std::int64_t>(-lim, lim)(rng);
      }
      f2.inverse(re, im, y);
      ASSERT_EQ(y[0], re[0] + re[1]);
      ASSERT_EQ(y[1], re[0] - re[1]);
      // y[t] = Z0 + (-1)^t Z2 + 2 Re(Z1 i^t)
      f4.inverse(re, im, y);
      ASSERT_EQ(y[0], re[0] + re[2] + 2 * re[1]);
      ASSERT_EQ(y[1], re[0] - re[2] - 2 * im[1]);
      ASSERT_EQ(y[2], re[0] + re[2] - 2 * re[1]);
      ASSERT_EQ(y[3], re[0] - re[2] + 2 * im[1]);
    }
  }
}

// Where the two rounding modes part. An impulse of 5 at k = 8 has the exact bins 5/8, but each stage rounds:
//   half_even: 5/2 = 2.5 -> 2, 2/2 = 1, 1/2 = 0.5 -> 0      half_up: 2.5 -> 3, 3/2 = 1.5 -> 2, 2/2 = 1
// so every bin is 0 under half_even and 1 under half_up (and round(5/8) = 1: per-stage rounding is not a single
// rounding of the exact value). At k = 2 an impulse of -3 gives -1.5: -2 (half_even, to even) and -1 (half_up,
// ties toward +infinity).
TEST(FixedFft, RoundingModesDifferOnTies) {
  auto bins_of = [](int k, std::int32_t v, Rounding r) {
    std::vector<std::int32_t> x(static_cast<std::size_t>(k), 0);
    x[0] = v;
    return run_forward(FixedFft(k, 14, r), x, 16).re;
  };
  EXPECT_EQ(bins_of(8, 5, Rounding::half_even), std::vector<std::int32_t>(5, 0));
  EXPECT_EQ(bins_of(8, 5, Rounding::half_up), std::vector<std::int32_t>(5, 1));
  EXPECT_EQ(bins_of(2, -3, Rounding::half_even), std::vector<std::int32_t>(2, -2));
  EXPECT_EQ(bins_of(2, -3, Rounding::half_up), std::vector<std::int32_t>(2, -1));
}

// The inverse at k = 8, tw_frac = 14, of bin 1 = 4096 alone (exactly y[t] = 8192 cos(pi t / 4)). Following the
// stages, y[1] = -y[5] = round(2 * 11585 * 4096 / 2^14) = round(5792.5) and y[3] = -y[7] = round(-5792.5): a tie
// each, so y[1] is 5792 (half_even) or 5793 (half_up), while y[3] is -5792 in both modes (-5792 is even, and is the
// tie rounded toward +infinity). y[0] = -y[4] = 8192 and y[2] = y[6] = 0 take no rounding.
TEST(FixedFft, InverseRoundingModesDifferOnTies) {
  const std::int64_t re[5] = {0, 4096, 0, 0, 0}, im[5] = {};
  using Samples = std::vector<std::int64_t>;
  std::int64_t y[8];
  FixedFft(8, 14, Rounding::half_even).inverse(re, im, y);
  EXPECT_EQ(Samples(y, y + 8), (Samples{8192, 5792, 0, -5792, -8192, -5792, 0, 5792}));
  FixedFft(8, 14, Rounding::half_up).inverse(re, im, y);
  EXPECT_EQ(Samples(y, y + 8), (Samples{8192, 5793, 0, -5792, -8192, -5793, 0, 5792}));
}

}  // namespace
}  // namespace circa
