// Host speed of the golden model at the Google LSTMP size (153 -> 1024 cells -> 512 projection, 1 layer, block 8)
// against a dense Eigen float LSTMP of the same size, measured in one run, interleaved to share the machine's noise.
//
//   bench_golden [--frames N] [--rounds R]
#include <Eigen/Dense>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "core/golden.hpp"
#include "core/model.hpp"
#include "core/rng.hpp"
#include "tests/dense_reference.hpp"

using namespace circa;
using Clock = std::chrono::steady_clock;

namespace {

// The tests' dense expansion, in float for speed.
Eigen::MatrixXf expand(const CirculantMatrix& m, int cols) { return circa_test::expand(m, cols).cast<float>(); }

struct DenseLstmp {
  Eigen::MatrixXf wx, wr, wp, wo;
  Eigen::VectorXf b, pi, pf, po, bo, c, r, g, m;
  explicit DenseLstmp(const Model& md) {
    const Layer& L = md.layers[0];
    const int C = md.cell_dim;
    wx = expand(L.w_x, md.input_dim);
    wr = expand(L.w_r, md.proj_dim);
    wp = expand(L.w_proj, C);
    wo = Eigen::Map<const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(
        md.out_w.data(), md.num_classes, md.proj_dim);
    b = Eigen::Map<const Eigen::VectorXf>(L.bias.data(), 4 * C);
    pi = Eigen::Map<const Eigen::VectorXf>(L.peep.data(), C);
    pf = Eigen::Map<const Eigen::VectorXf>(L.peep.data() + C, C);
    po = Eigen::Map<const Eigen::VectorXf>(L.peep.data() + 2 * C, C);
    bo = Eigen::Map<const Eigen::VectorXf>(md.out_b.data(), md.num_classes);
    c = Eigen::VectorXf::Zero(C);
    r = Eigen::VectorXf::Zero(md.proj_dim);
    g.resize(4 * C);
    m.resize(C);
  }
  void step(const float* x, float* logp) {
    const int C = static_cast<int>(c.size());
    g.noalias() = wx * Eigen::Map<const Eigen::VectorXf>(x, wx.cols());
    g.noalias() += wr * r;
    g += b;
    auto sig = [](const Eigen::VectorXf& v) { return (1.0f + (-v.array()).exp()).inverse().matrix().eval(); };
    Eigen::VectorXf i = sig(g.segment(0, C) + pi.cwiseProduct(c));
    Eigen::VectorXf f = sig(g.segment(C, C) + pf.cwiseProduct(c));
    Eigen::VectorXf gg = g.segment(2 * C, C).array().tanh().matrix();
    c = f.cwiseProduct(c) + i.cwiseProduct(gg);
    Eigen::VectorXf o = sig(g.segment(3 * C, C) + po.cwiseProduct(c));
    m = o.cwiseProduct(c.array().tanh().matrix());
    r.noalias() = wp * m;
    Eigen::VectorXf z = wo * r + bo;
    const float mx = z.maxCoeff();
    const float lse = mx + std::log((z.array() - mx).exp().sum());
    for (int k = 0; k < z.size(); ++k) logp[k] = z(k) - lse;
  }
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  int frames = 300, rounds = 5;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--frames")) frames = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--rounds")) rounds = std::atoi(argv[i + 1]);
  }
  if (frames < 1 || rounds < 1) {
    std::fprintf(stderr, "usage: bench_golden [--frames N] [--rounds R]\n");
    return 2;
  }
  SynthSpec spec;
  spec.input_dim = 153;
  spec.cell_dim = 1024;
  spec.proj_dim = 512;
  spec.layers = 1;
  spec.block = {8};
  Model model = synth_model(spec);
  Rng rng(1);
  std::vector<float> feats(static_cast<std::size_t>(frames) * 153);
  for (float& v : feats) v = static_cast<float>(rng.normal());
  std::vector<float> out(39);

  Numerics num;
  FixedGolden fixed(model, num);
  DenseLstmp dense(model);
  std::printf("Google LSTMP 153 -> 1024 -> 512, 1 layer, block 8; %d frames x %d rounds (median per round)\n",
              frames, rounds);
  std::vector<double> tf, td;
  for (int r = 0; r < rounds; ++r) {
    fixed.reset();
    auto t0 = Clock::now();
    for (int t = 0; t < frames; ++t) fixed.step(&feats[static_cast<std::size_t>(t) * 153], out.data());
    auto t1 = Clock::now();
    for (int t = 0; t < frames; ++t) dense.step(&feats[static_cast<std::size_t>(t) * 153], out.data());
    auto t2 = Clock::now();
    tf.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count() / frames);
    td.push_back(std::chrono::duration<double, std::milli>(t2 - t1).count() / frames);
  }
  const double f = median(tf), d = median(td);
  std::printf("fixed-point golden (circulant, bit-exact):  %.4f ms/frame\n", f);
  std::printf("dense Eigen float LSTMP (expanded weights):  %.4f ms/frame\n", d);
  std::printf("ratio dense/fixed: %.2fx; fixed against the 0.06 ms/frame host floor: %.2fx\n", d / f, f / 0.06);
  return 0;
}
