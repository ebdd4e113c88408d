// activation_unit: exact cycles for three parameter sets, bit-exact gate activations against core's
// FixedLayer::activate, and run-time LUT loading.
#include <gtest/gtest.h>

#include <memory>

#include "core/golden.hpp"
#include "core/rng.hpp"
#include "sc_models/activation_unit.hpp"
#include "tests/sc_models/bench_util.hpp"
#include "tests/sc_models/unit_buffers.hpp"

using namespace circa;
using namespace circa_test;
using sc_core::sc_time;

namespace {

Model small_lstmp(std::uint64_t seed) {
  SynthSpec s;
  s.input_dim = 40;
  s.cell_dim = 64;
  s.proj_dim = 32;
  s.block = {8};
  s.seed = seed;
  return synth_model(s);
}

// A layer whose gate sums for one frame are ready (FFT, MAC, IFFT done in core).
struct Prepared {
  Model model;
  std::unique_ptr<FixedGolden> g;
  std::vector<std::int32_t> x;
  Prepared(std::uint64_t seed, const Numerics& num) : model(small_lstmp(seed)) {
    g = std::make_unique<FixedGolden>(model, num);
    Rng rng(seed);
    x.resize(40);
    for (auto& v : x) v = static_cast<std::int32_t>(rng.uniform(-700, 700));
    FixedLayer& L = g->layer(0);
    for (std::size_t i = 0; i < L.c.size(); ++i) L.c[i] = static_cast<std::int32_t>(rng.uniform(-300, 300));
    SatCounters s;
    L.begin_frame(x.data());
    L.G.run(num, s);
  }
};

struct Bench {
  Numerics num;
  ClockParams clk;
  std::vector<ActivationParams> prm = {{16, 4}, {8, 2}, {1, 5}};
  std::vector<std::unique_ptr<Prepared>> ref;
  std::vector<std::unique_ptr<unit_buffers>> bufs;
  std::vector<Tile> protos;
  std::vector<std::unique_ptr<activation_unit>> units;
  std::vector<std::unique_ptr<unit_rig<activation_unit>>> rigs;
  Bench() {
    for (std::size_t i = 0; i < prm.size(); ++i) {
      ref.push_back(std::make_unique<Prepared>(10 + i, num));
      // The unit's own copy of the layer's operands, in its buffers.
      bufs.push_back(std::make_unique<unit_buffers>("buf" + std::to_string(i)));
      protos.push_back(cell_tile(*bufs.back(), ref.back()->g->layer(0)));
      units.push_back(std::make_unique<activation_unit>(("act" + std::to_string(i)).c_str(), prm[i], clk, num));
      units.back()->bind_buffers(bufs.back()->set);
      rigs.push_back(std::make_unique<unit_rig<activation_unit>>(("rig" + std::to_string(i)).c_str(), *units.back()));
    }
  }
};

Bench& bench() {
  static Bench b;
  return b;
}

Tile cells(std::size_t i, int a, int b, bool last) {
  Tile t = bench().protos[i];
  t.begin = a;
  t.end = b;
  t.last = last;
  return t;
}

}  // namespace

TEST(ActivationUnit, ExactCyclesAndBitExactGates) {
  Bench& B = bench();
  const int tile_cells[] = {64, 30, 7};
  for (std::size_t i = 0; i < B.prm.size(); ++i) {
    B.rigs[i]->src.push(cells(i, 0, tile_cells[i], true));
    B.rigs[i]->src.start();
  }
  const sc_time start = run_for(sc_time(2, sc_core::SC_US));
  //   case 0: 64 cells * 3 gates (i, f, g) = 192 values; ceil(192 / 16) = 12 + latency 4 = 16 cycles
  //   case 1: 30 * 3 = 90;  ceil(90 / 8) = 12 + 2 = 14 cycles
  //   case 2: 7 * 3 = 21;   21 / 1 = 21 + 5 = 26 cycles
  const std::uint64_t expect[] = {16, 14, 26};
  for (std::size_t i = 0; i < B.prm.size(); ++i) {
    ASSERT_EQ(B.rigs[i]->sink.when.size(), 1u);
    EXPECT_EQ(B.clk.to_cycles(B.rigs[i]->sink.when[0] - start), expect[i]) << "case " << i;
    FixedLayer& R = B.ref[i]->g->layer(0);
    SatCounters s;
    R.activate(0, tile_cells[i], B.num, s);
    EXPECT_EQ(B.bufs[i]->get<std::int32_t>(B.protos[i].op[kGate]), R.gate) << "case " << i;
  }
}

TEST(ActivationUnit, LutLoadedAtRunTimeIsUsed) {
  Bench& B = bench();
  const std::vector<std::int32_t> before = B.bufs[0]->get<std::int32_t>(B.protos[0].op[kGate]);  // first test's
  std::vector<std::int32_t> table = B.units[0]->lut(ActFn::sigmoid).table();
  for (auto& v : table) v = v / 2;  // a visibly different sigmoid
  ASSERT_TRUE(B.units[0]->load_lut(ActFn::sigmoid, table));
  B.rigs[0]->src.push(cells(0, 0, 64, true));
  B.rigs[0]->src.start();
  run_for(sc_time(1, sc_core::SC_US));
  // Reference: a core Activation with the same table.
  Activation sig(ActFn::sigmoid, B.num.activation, B.num.act, B.num.act);
  sig.load_table(table);
  FixedLayer& R = B.ref[0]->g->layer(0);
  SatCounters s;
  R.sig->load_table(table);
  R.activate(0, 64, B.num, s);
  const std::vector<std::int32_t> after = B.bufs[0]->get<std::int32_t>(B.protos[0].op[kGate]);
  EXPECT_EQ(after, R.gate);
  EXPECT_NE(after, before);
  EXPECT_EQ(B.units[0]->lut(ActFn::sigmoid).table(), sig.table());
}
