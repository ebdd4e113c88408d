// Block-circulant products against the naive dense expansion W_ij[r][c] = w_ij[(r - c) mod k], written here from
// the definition alone.
#include <gtest/gtest.h>

#include <tuple>

#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "core/circulant.hpp"
#include "core/rng.hpp"

using namespace circa;

namespace {

CirculantMatrix random_matrix(int p, int q, int k, std::uint64_t seed, double scale) {
  Rng rng(seed);
  CirculantMatrix m;
  m.p = p;
  m.q = q;
  m.k = k;
  m.w.resize(static_cast<std::size_t>(p) * q * k);
  for (float& v : m.w) v = static_cast<float>(rng.uniform(-scale, scale));
  return m;
}

// The O(k^2) dense product: y = W x with x zero-padded to q*k.
std::vector<double> naive(const CirculantMatrix& m, const std::vector<double>& x) {
  std::vector<double> y(static_cast<std::size_t>(m.p) * m.k, 0.0);
  for (int i = 0; i < m.p; ++i)
    for (int j = 0; j < m.q; ++j)
      for (int r = 0; r < m.k; ++r)
        for (int c = 0; c < m.k; ++c) {
          const std::size_t xi = static_cast<std::size_t>(j) * m.k + c;
          const double xv = xi < x.size() ? x[xi] : 0.0;
          y[static_cast<std::size_t>(i) * m.k + r] +=
              m.w[(static_cast<std::size_t>(i) * m.q + j) * m.k + ((r - c + m.k) % m.k)] * xv;
        }
  return y;
}

std::vector<double> random_vec(int n, std::uint64_t seed, double scale) {
  Rng rng(seed);
  std::vector<double> v(static_cast<std::size_t>(n));
  for (double& x : v) x = rng.uniform(-scale, scale);
  return v;
}

struct Shape {
  int p, k, n;  // block rows, block size, logical input length (padded up to a multiple of k)
};

class FloatCirculantVsNaive : public ::testing::TestWithParam<Shape> {};

TEST_P(FloatCirculantVsNaive, MatchesDenseExpansion) {
  const Shape s = GetParam();
  const int q = (s.n + s.k - 1) / s.k;
  CirculantMatrix m = random_matrix(s.p, q, s.k, 11 + s.k, 0.5);
  std::vector<double> x = random_vec(s.n, 5 + s.n, 1.0);
  FloatCirculant fc({&m});
  std::vector<double> y(static_cast<std::size_t>(s.p) * s.k);
  fc.matvec({{x.data(), s.n}}, y.data());
  std::vector<double> ref = naive(m, x);
  for (std::size_t i = 0; i < y.size(); ++i) EXPECT_NEAR(y[i], ref[i], 1e-12) << "row " << i;
}

INSTANTIATE_TEST_SUITE_P(Shapes, FloatCirculantVsNaive,
                         ::testing::Values(Shape{3, 1, 7},                   // dense
                                           Shape{4, 2, 6}, Shape{5, 4, 13},  // padded input (13 -> 16)
                                           Shape{16, 8, 153},  // the Google LSTMP input width, padded to 160
                                           Shape{2, 16, 40}, Shape{2, 32, 64}, Shape{1, 64, 100}));

TEST(FloatCirculant, ConcatenatedPartsEqualTheSumOfProducts) {
  // [W_x | W_r] [x; r] = W_x x + W_r r, with x padded on its own (153 -> 160) before r starts.
  CirculantMatrix wx = random_matrix(4, 20, 8, 1, 0.3), wr = random_matrix(4, 8, 8, 2, 0.3);
  std::vector<double> x = random_vec(153, 3, 1.0), r = random_vec(64, 4, 1.0);
  FloatCirculant joint({&wx, &wr});
  std::vector<double> y(32);
  joint.matvec({{x.data(), 153}, {r.data(), 64}}, y.data());
  std::vector<double> a = naive(wx, x), b = naive(wr, r);
  for (int i = 0; i < 32; ++i) EXPECT_NEAR(y[i], a[i] + b[i], 1e-12);
}

// Fixed point: the product of the quantized operands, computed exactly, must be within a stated bound of the
// naive float product (quantization of weights, inputs, FFT rounding and the IFFT's twiddles).
class FixedCirculantVsNaive : public ::testing::TestWithParam<Shape> {};

TEST_P(FixedCirculantVsNaive, CloseToDenseExpansionAndVectorKernelIsExact) {
  const Shape s = GetParam();
  const int q = (s.n + s.k - 1) / s.k;
  Numerics num;  // Q4.12 weights, Q8.8 activations
  CirculantMatrix m = random_matrix(s.p, q, s.k, 21 + s.k, 0.25);
  std::vector<double> x = random_vec(s.n, 9 + s.n, 2.0);
  std::vector<std::int32_t> xq(x.size());
  SatCounters sat;
  for (std::size_t i = 0; i < x.size(); ++i) xq[i] = quantize(x[i], num.act, num.rounding, SatKind::input, sat);
  std::vector<double> xd(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) xd[i] = to_double(xq[i], num.act.n);

  FixedCirculant W({&m}, num, sat);
  std::vector<std::int64_t> y = fixed_matvec(W, {{xq.data(), s.n}}, num, sat);
  std::vector<double> ref = naive(m, xd);
  double max_err = 0, max_ref = 0;
  for (std::size_t i = 0; i < y.size(); ++i) {
    max_err = std::max(max_err, std::abs(to_double(y[i], num.act.n + num.guard_bits) - ref[i]));
    max_ref = std::max(max_ref, std::abs(ref[i]));
  }
  // Error budget: the forward FFT keeps act.n = 8 fractional bits after its 1/k scaling, so each FFT-domain input
  // carries a rounding error of order 2^-9; FFT(x) = k * forward(x), so the product sees it magnified by k, and q
  // blocks add up as independent errors: err ~ c * k * sqrt(q) * 2^-8. Measured c: 0.04 (k=1), 0.09 (k=4), 0.22
  // (k=8, q=20: 0.0315), 0.15 (k=16), 0.20 (k=32), 0.22 (k=64, q=2: 0.0769). The bound takes c = 0.5.
  std::printf("k=%d q=%d: max err %.4f (max abs ref %.2f)\n", s.k, q, max_err, max_ref);
  EXPECT_LT(max_err, 0.5 * s.k * std::sqrt(static_cast<double>(q)) / 256.0) << "max abs ref " << max_ref;
  EXPECT_EQ(sat.total(), 0u);

  // The vector kernel and the scalar reference agree exactly on the integer sums.
  FixedFft fft(s.k, num.tw_frac(), num.rounding);
  FreqInput X;
  fft_inputs({{xq.data(), s.n}}, fft, num.act.bits(), X, sat);
  std::vector<std::int64_t> a(W.acc_size(), 0), b(W.acc_size(), 0);
  W.mac(X, 0, W.chunks(), a.data());
  W.mac_scalar(X, 0, W.chunks(), b.data());
  EXPECT_EQ(a, b);
  // Tiles start anywhere: ranges with an odd first chunk or an odd chunk count take the kernel's single-chunk path.
  for (int c0 = 1; c0 < W.chunks(); ++c0) {
    std::vector<std::int64_t> ra(W.acc_size(), 0), rb(W.acc_size(), 0);
    W.mac(X, c0, W.chunks(), ra.data());
    W.mac_scalar(X, c0, W.chunks(), rb.data());
    EXPECT_EQ(ra, rb) << "chunks [" << c0 << ", " << W.chunks() << ")";
  }
}

INSTANTIATE_TEST_SUITE_P(Shapes, FixedCirculantVsNaive,
                         ::testing::Values(Shape{9, 1, 7}, Shape{4, 2, 6}, Shape{5, 4, 13}, Shape{16, 8, 153},
                                           Shape{3, 16, 40}, Shape{2, 32, 64}, Shape{1, 64, 100}));

TEST(FixedCirculant, IntegerSumsEqualAHandComputedFrequencyProduct) {
  // Independent of the kernel's layout: S_i(b) = sum_j W_ij(b) X_j(b) computed here from w_re/w_im and the
  // FreqInput, for a matrix whose 8-row chunks are partly padding (p = 11) and whose weights are large enough that
  // the int32 run length is short.
  Numerics num;
  CirculantMatrix m = random_matrix(11, 30, 8, 77, 1.9);
  SatCounters sat;
  FixedCirculant W({&m}, num, sat);
  std::vector<std::int32_t> xq(240);
  Rng rng(5);
  for (auto& v : xq) v = static_cast<std::int32_t>(rng.uniform(-32767, 32767));
  FixedFft fft(8, num.tw_frac(), num.rounding);
  FreqInput X;
  fft_inputs({{xq.data(), 240}}, fft, 16, X, sat);
  std::vector<std::int64_t> acc(W.acc_size(), 0);
  W.mac(X, 0, W.chunks(), acc.data());
  EXPECT_LT(W.int32_run(), 30);
  for (int b = 0; b < W.bins(); ++b)
    for (int i = 0; i < 11; ++i) {
      std::int64_t re = 0, im = 0;
      for (int j = 0; j < 30; ++j) {
        const std::int64_t wr = W.w_re(b, i, j), wi = W.w_im(b, i, j);
        const std::int64_t xr = X.re[b * 30 + j], xi = X.im[b * 30 + j];
        re += wr * xr - wi * xi;
        im += wr * xi + wi * xr;
      }
      ASSERT_EQ(acc[FixedCirculant::acc_index(b, W.chunks(), i, 0)], re) << "bin " << b << " row " << i;
      ASSERT_EQ(acc[FixedCirculant::acc_index(b, W.chunks(), i, 1)], im) << "bin " << b << " row " << i;
    }
}

// Weights of more than 16 bits (Koios' Q4.14 with Q8.10 activations, and 24-bit ones) take the int32-pair vector
// kernel: its sums equal the scalar reference's and a hand-computed frequency product, for every chunk start and
// for a partial last chunk.
TEST(FixedCirculant, WideWeightsVectorKernelEqualsTheScalarPath) {
  for (const auto& [wq, aq] : {std::pair{QFormat{4, 14}, QFormat{8, 10}}, std::pair{QFormat{8, 16}, QFormat{8, 10}},
                                std::pair{QFormat{4, 14}, QFormat{8, 8}}}) {
    Numerics num;
    num.weight = wq;
    num.act = aq;
    num.cell = aq;
    for (const auto& [p, q, k] : {std::tuple{11, 30, 8}, std::tuple{64, 42, 16}, std::tuple{39, 64, 1}}) {
      CirculantMatrix m = random_matrix(p, q, k, 91 + static_cast<std::uint64_t>(p), 1.5);
      SatCounters sat;
      FixedCirculant W({&m}, num, sat);
      ASSERT_FALSE(W.narrow());
      std::vector<std::int32_t> xq(static_cast<std::size_t>(q * k));
      Rng rng(7);
      for (auto& v : xq) v = static_cast<std::int32_t>(rng.uniform(-aq.max_raw(), aq.max_raw()));
      FixedFft fft(k, num.tw_frac(), num.rounding);
      FreqInput X;
      fft_inputs({{xq.data(), q * k}}, fft, aq.bits(), X, sat);
      for (int c0 = 0; c0 < W.chunks(); ++c0) {
        std::vector<std::int64_t> a(W.acc_size(), 0), b(W.acc_size(), 0);
        W.mac(X, c0, W.chunks(), a.data());
        W.mac_scalar(X, c0, W.chunks(), b.data());
        ASSERT_EQ(a, b) << wq.str() << " " << aq.str() << " p=" << p << " chunks [" << c0 << ", " << W.chunks() << ")";
      }
      std::vector<std::int64_t> acc(W.acc_size(), 0);
      W.mac(X, 0, W.chunks(), acc.data());
      for (int b = 0; b < W.bins(); ++b)
        for (int i = 0; i < p; ++i) {
          std::int64_t re = 0, im = 0;
          for (int j = 0; j < q; ++j) {
            const std::int64_t wr = W.w_re(b, i, j), wi = W.w_im(b, i, j);
            const std::int64_t xr = X.re[b * q + j], xi = X.im[b * q + j];
            re += wr * xr - wi * xi;
            im += wr * xi + wi * xr;
          }
          ASSERT_EQ(acc[FixedCirculant::acc_index(b, W.chunks(), i, 0)], re) << "bin " << b << " row " << i;
          ASSERT_EQ(acc[FixedCirculant::acc_index(b, W.chunks(), i, 1)], im) << "bin " << b << " row " << i;
        }
    }
  }
}

TEST(FixedCirculant, AccumulatorTooNarrowIsRejected) {
  Numerics num;
  num.acc_bits = 32;
  CirculantMatrix m = random_matrix(4, 64, 8, 3, 1.0);
  SatCounters sat;
  EXPECT_THROW(FixedCirculant({&m}, num, sat), std::exception);
}

TEST(FixedCirculant, MixedBlockSizesAcrossMatricesInOneNetworkShareNothing) {
  // Two matrices with k = 4 and k = 16 over the same input give the same result as their naive expansions.
  Numerics num;
  std::vector<double> x = random_vec(48, 8, 1.0);
  std::vector<std::int32_t> xq(48);
  SatCounters sat;
  for (int i = 0; i < 48; ++i) xq[i] = quantize(x[i], num.act, num.rounding, SatKind::input, sat);
  std::vector<double> xd(48);
  for (int i = 0; i < 48; ++i) xd[i] = to_double(xq[i], num.act.n);
  for (int k : {4, 16}) {
    CirculantMatrix m = random_matrix(32 / k, 48 / k, k, 100 + k, 0.2);
    FixedCirculant W({&m}, num, sat);
    auto y = fixed_matvec(W, {{xq.data(), 48}}, num, sat);
    auto ref = naive(m, xd);
    for (std::size_t i = 0; i < y.size(); ++i)
      EXPECT_NEAR(to_double(y[i], num.act.n + num.guard_bits), ref[i], 0.05) << "k " << k << " row " << i;
  }
}

}  // namespace
