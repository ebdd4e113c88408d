// The golden models against plain dense references written here with Eigen from ARCHITECTURE.md's equations, on
// expanded (dense) weights, and the fixed-point model against the float one (SQNR per layer).
#include <gtest/gtest.h>

#include <Eigen/Dense>
#include <cmath>
#include <cstdio>

#include "core/golden.hpp"
#include "core/model.hpp"
#include "core/rng.hpp"
#include "tests/dense_reference.hpp"

using namespace circa;
using circa_test::dense_reference;

namespace {

Matrix random_feats(int frames, int dim, std::uint64_t seed) {
  Rng rng(seed);
  Matrix f(static_cast<std::size_t>(frames), static_cast<std::size_t>(dim));
  for (float& v : f.data) v = static_cast<float>(rng.normal());
  return f;
}

double max_abs_diff(const Matrix& a, const Matrix& b) {
  double d = 0;
  for (std::size_t i = 0; i < a.data.size(); ++i) d = std::max(d, std::abs(double(a.data[i]) - b.data[i]));
  return d;
}

void add_cmvn(Model& m, std::uint64_t seed) {
  Rng rng(seed);
  m.cmvn_mean.resize(static_cast<std::size_t>(m.input_dim));
  m.cmvn_inv_std.resize(static_cast<std::size_t>(m.input_dim));
  for (int d = 0; d < m.input_dim; ++d) {
    m.cmvn_mean[d] = static_cast<float>(rng.uniform(-1, 1));
    m.cmvn_inv_std[d] = static_cast<float>(rng.uniform(0.5, 2));
  }
}

}  // namespace

TEST(FloatGolden, LstmpMatchesDenseReference) {
  SynthSpec spec;
  spec.input_dim = 45;  // padded to 48 for k = 8 and k = 4
  spec.cell_dim = 32;
  spec.proj_dim = 16;
  spec.layers = 2;
  spec.block = {8, 4};
  spec.seed = 3;
  Model m = synth_model(spec);
  add_cmvn(m, 9);
  Matrix feats = random_feats(25, 45, 4);
  FloatGolden g(m);
  Matrix a = g.run(feats), ref = dense_reference(m, feats);
  EXPECT_LE(max_abs_diff(a, ref), 1e-5);
}

TEST(FloatGolden, LstmpWithoutProjectionAndDenseBlocks) {
  SynthSpec spec;
  spec.input_dim = 20;
  spec.cell_dim = 16;
  spec.proj_dim = 0;
  spec.layers = 1;
  spec.block = {1};
  Model m = synth_model(spec);
  Matrix feats = random_feats(10, 20, 5);
  FloatGolden g(m);
  EXPECT_LE(max_abs_diff(g.run(feats), dense_reference(m, feats)), 1e-5);
}

TEST(FloatGolden, GruMatchesDenseReference) {
  SynthSpec spec;
  spec.arch = Arch::gru;
  spec.input_dim = 30;
  spec.cell_dim = 32;
  spec.proj_dim = 0;
  spec.layers = 2;
  spec.block = {16, 8};
  Model m = synth_model(spec);
  Matrix feats = random_feats(20, 30, 6);
  FloatGolden g(m);
  EXPECT_LE(max_abs_diff(g.run(feats), dense_reference(m, feats)), 1e-5);
}

TEST(FixedGolden, SixteenBitLstmpTracksFloatPerLayer) {
  SynthSpec spec;
  spec.input_dim = 153;
  spec.cell_dim = 128;
  spec.proj_dim = 64;
  spec.layers = 2;
  spec.block = {8};
  Model m = synth_model(spec);
  Matrix feats = random_feats(50, 153, 7);
  Numerics num;
  FixedGolden fx(m, num);
  FloatGolden fl(m);
  float lp[64], lq[64];
  std::vector<std::vector<double>> ref(3), got(3);
  for (std::size_t t = 0; t < feats.rows; ++t) {
    fl.step(feats.row(t), lp);
    fx.step(feats.row(t), lq);
    for (int l = 0; l < 2; ++l) {
      auto a = fl.layer_output(l), b = fx.layer_output(l);
      ref[l].insert(ref[l].end(), a.begin(), a.end());
      got[l].insert(got[l].end(), b.begin(), b.end());
    }
    auto a = fl.logits(), b = fx.logits();
    ref[2].insert(ref[2].end(), a.begin(), a.end());
    got[2].insert(got[2].end(), b.begin(), b.end());
  }
  const double s0 = sqnr_db(ref[0], got[0]), s1 = sqnr_db(ref[1], got[1]), s2 = sqnr_db(ref[2], got[2]);
  std::printf("SQNR fixed Q8.8/Q4.12 vs float: layer 0 %.1f dB, layer 1 %.1f dB, logits %.1f dB\n", s0, s1, s2);
  RecordProperty("sqnr_layer0_db", std::to_string(s0));
  EXPECT_GT(s0, 25.0);
  EXPECT_GT(s1, 20.0);
  EXPECT_GT(s2, 20.0);
}

TEST(FixedGolden, DeterministicAndStateCarried) {
  SynthSpec spec;
  spec.input_dim = 40;
  spec.cell_dim = 32;
  spec.proj_dim = 16;
  Model m = synth_model(spec);
  Matrix feats = random_feats(12, 40, 8);
  Numerics num;
  FixedGolden a(m, num), b(m, num);
  Matrix ya = a.run(feats), yb = b.run(feats);
  EXPECT_EQ(ya.data, yb.data);
  // Streaming frame by frame after reset gives the same as run(); a second run() resets the state.
  Matrix again = a.run(feats);
  EXPECT_EQ(again.data, ya.data);
  // Frame 1 differs from feeding frame 1 alone to a fresh model (the state matters).
  Matrix one(1, 40);
  for (int d = 0; d < 40; ++d) one.at(0, d) = feats.at(1, d);
  Matrix solo = b.run(one);
  bool differs = false;
  for (int c = 0; c < m.num_classes; ++c) differs |= solo.at(0, c) != ya.at(1, c);
  EXPECT_TRUE(differs);
}

TEST(FixedGolden, GruTwelveAndEighteenBits) {
  SynthSpec spec;
  spec.arch = Arch::gru;
  spec.input_dim = 24;
  spec.cell_dim = 32;
  spec.proj_dim = 0;
  spec.block = {8};
  Model m = synth_model(spec);
  Matrix feats = random_feats(20, 24, 9);
  FloatGolden fl(m);
  Matrix ref = fl.run(feats);
  for (int bits : {12, 16, 18}) {
    Numerics num;
    num.act = bits == 12 ? QFormat{6, 6} : bits == 16 ? QFormat{8, 8} : QFormat{8, 10};
    num.weight = bits == 12 ? QFormat{3, 9} : bits == 16 ? QFormat{4, 12} : QFormat{4, 14};
    num.cell = num.act;
    FixedGolden fx(m, num);
    Matrix y = fx.run(feats);
    const double d = max_abs_diff(y, ref);
    std::printf("GRU %d-bit: max |log p - float| = %.4f\n", bits, d);
    // Wider formats must track float more closely.
    EXPECT_LT(d, bits == 12 ? 0.5 : bits == 16 ? 0.1 : 0.05);
  }
}
