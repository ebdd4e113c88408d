// cell_update: exact cycles for three parameter sets and bit-exact state against core's FixedLayer::cell_update,
// for an LSTMP and a GRU.
#include <gtest/gtest.h>

#include <memory>

#include "core/golden.hpp"
#include "core/rng.hpp"
#include "sc_models/cell_update.hpp"
#include "tests/sc_models/bench_util.hpp"
#include "tests/sc_models/unit_buffers.hpp"

using namespace circa;
using namespace circa_test;
using sc_core::sc_time;

namespace {

struct Prepared {
  Model model;
  std::unique_ptr<FixedGolden> g;
  std::vector<std::int32_t> x;
  Prepared(Arch arch, std::uint64_t seed, const Numerics& num) {
    SynthSpec s;
    s.arch = arch;
    s.input_dim = 24;
    s.cell_dim = 64;
    s.proj_dim = arch == Arch::gru ? 0 : 16;
    s.block = {8};
    s.seed = seed;
    model = synth_model(s);
    g = std::make_unique<FixedGolden>(model, num);
    Rng rng(seed);
    x.resize(24);
    for (auto& v : x) v = static_cast<std::int32_t>(rng.uniform(-500, 500));
    FixedLayer& L = g->layer(0);
    for (auto& v : L.c) v = static_cast<std::int32_t>(rng.uniform(-300, 300));
    for (auto& v : L.r_prev) v = static_cast<std::int32_t>(rng.uniform(-200, 200));
    SatCounters sc;
    L.begin_frame(x.data());
    L.G.run(num, sc);
    if (!L.R.empty()) L.R.run(num, sc);
    L.activate(0, L.cell, num, sc);
  }
};

struct Bench {
  Numerics num;
  ClockParams clk;
  std::vector<CellUpdateParams> prm = {{16, 6}, {5, 3}, {1, 1}};
  std::vector<Arch> arch = {Arch::lstmp, Arch::gru, Arch::lstmp};
  std::vector<std::unique_ptr<Prepared>> ref;
  std::vector<std::unique_ptr<unit_buffers>> bufs;
  std::vector<Tile> protos;
  std::vector<std::unique_ptr<cell_update>> units;
  std::vector<std::unique_ptr<unit_rig<cell_update>>> rigs;
  Bench() {
    for (std::size_t i = 0; i < prm.size(); ++i) {
      ref.push_back(std::make_unique<Prepared>(arch[i], 20 + i, num));
      // The unit's own copy of the layer's operands, in its buffers.
      bufs.push_back(std::make_unique<unit_buffers>("buf" + std::to_string(i)));
      protos.push_back(cell_tile(*bufs.back(), ref.back()->g->layer(0)));
      units.push_back(std::make_unique<cell_update>(("cell" + std::to_string(i)).c_str(), prm[i], clk, num));
      units.back()->bind_buffers(bufs.back()->set);
      rigs.push_back(std::make_unique<unit_rig<cell_update>>(("rig" + std::to_string(i)).c_str(), *units.back()));
    }
  }
};

Bench& bench() {
  static Bench b;
  return b;
}

}  // namespace

TEST(CellUpdate, ExactCyclesAndBitExactState) {
  Bench& B = bench();
  const int n[] = {64, 12, 9};
  for (std::size_t i = 0; i < B.prm.size(); ++i) {
    Tile t = B.protos[i];
    t.begin = 0;
    t.end = n[i];
    t.last = true;
    B.rigs[i]->src.push(t);
    B.rigs[i]->src.start();
  }
  const sc_time start = run_for(sc_time(1, sc_core::SC_US));
  //   case 0: ceil(64 / 16) = 4 + latency 6 = 10 cycles
  //   case 1: ceil(12 / 5) = 3 + 3 = 6 cycles (GRU)
  //   case 2: 9 / 1 = 9 + 1 = 10 cycles
  const std::uint64_t expect[] = {10, 6, 10};
  for (std::size_t i = 0; i < B.prm.size(); ++i) {
    ASSERT_EQ(B.rigs[i]->sink.when.size(), 1u);
    EXPECT_EQ(B.clk.to_cycles(B.rigs[i]->sink.when[0] - start), expect[i]) << "case " << i;
    FixedLayer& R = B.ref[i]->g->layer(0);
    unit_buffers& D = *B.bufs[i];
    const Tile& t = B.protos[i];
    SatCounters s;
    R.cell_update(0, n[i], B.num, s);
    EXPECT_EQ(D.get<std::int32_t>(t.op[kC]), R.c) << "case " << i;
    if (!t.op[kM].none()) {
      EXPECT_EQ(D.get<std::int32_t>(t.op[kM]), R.m) << "case " << i;
    }
    if (!t.op[kRNext].none()) {
      EXPECT_EQ(D.get<std::int32_t>(t.op[kRNext]), R.r_next) << "case " << i;
    }
    EXPECT_EQ(D.get<std::int32_t>(t.op[kGate]), R.gate) << "case " << i;
  }
}
