// fft -> emac -> ifft -> activation on one block-circulant gate tile: the outputs equal core's product followed by
// the activation, the total cycles equal the pipeline formula, and corrupting one weight word in the EW-MAC's
// weights changes the output (the data really flows through the units).
#include <gtest/gtest.h>

#include <memory>

#include "core/golden.hpp"
#include "core/rng.hpp"
#include "sc_models/activation_unit.hpp"
#include "sc_models/emac_array.hpp"
#include "sc_models/fft_unit.hpp"
#include "tests/sc_models/bench_util.hpp"
#include "tests/sc_models/unit_buffers.hpp"

using namespace circa;
using namespace circa_test;
using sc_core::sc_fifo;
using sc_core::sc_time;

namespace {

Model gate_model() {
  SynthSpec s;
  s.input_dim = 40;  // 5 blocks of 8
  s.cell_dim = 16;   // 4 gates x 16 = 64 rows = 8 block rows = one row chunk: the whole gate tile
  s.proj_dim = 8;    // r' is one more block
  s.block = {8};
  s.seed = 31;
  return synth_model(s);
}

// Stands in for the controller: turns one unit's finished tile into the next unit's tile.
struct sequencer : sc_core::sc_module {
  sc_core::sc_fifo_out<Tile> to_fft, to_emac, to_act;
  sc_core::sc_fifo_in<Tile> from_fft, from_ifft;
  Tile mv, cells;  // the gate matvec's tile and the cells' tile, operands in the bench's buffers
  sc_core::sc_event go;
  bool pending = false;
  SC_HAS_PROCESS(sequencer);
  explicit sequencer(sc_core::sc_module_name n) : sc_module(n) { SC_THREAD(run); }
  void run() {
    for (;;) {
      while (!pending) wait(go);
      pending = false;
      Tile t = mv;
      t.last = true;
      t.begin = 0, t.end = t.shape.q;
      to_fft->write(t);
      from_fft->read();
      t.begin = 0, t.end = t.shape.chunks;
      to_emac->write(t);  // emac -> ifft directly
      from_ifft->read();
      Tile c = cells;
      c.last = true;
      c.begin = 0, c.end = c.cell;
      to_act->write(c);
    }
  }
};

struct Bench {
  Numerics num;
  ClockParams clk;
  Model model = gate_model();
  FixedGolden dut{model, num}, ref{model, num};  // dut: only the source of the weights and parameters
  unit_buffers bufs{"buf"};
  std::vector<std::int32_t> x;
  FftParams fp{4, 1, 2, 2};
  EmacParams ep{64, 4, 2, 3, 2};
  ActivationParams ap{16, 4};
  fft_unit fft{"fft", fp, clk, num};
  emac_array emac{"emac", ep, clk};
  ifft_unit ifft{"ifft", fp, clk, num};
  activation_unit act{"act", ap, clk, num};
  sequencer seq{"seq"};
  sc_fifo<Tile> q_fft_in{"q_fft_in", 2}, q_fft_out{"q_fft_out", 2}, q_emac_in{"q_emac_in", 2},
      q_emac_ifft{"q_emac_ifft", 2}, q_ifft_out{"q_ifft_out", 2}, q_act_in{"q_act_in", 2}, q_act_out{"q_act_out", 2};
  tile_sink sink{"sink"};

  Bench() {
    Rng rng(5);
    x.resize(40);
    for (auto& v : x) v = static_cast<std::int32_t>(rng.uniform(-600, 600));
    // The units' operands: x and r' (zero) as the gate matvec's segments, its weights, and the layer's parameters.
    FixedLayer& L = dut.layer(0);
    seq.mv = matvec_tile(bufs, L.G, x, num);
    seq.mv.op[kSeg1] = bufs.put(Buf::state, L.r_prev, 16);
    seq.mv.seg_n[1] = L.rec;
    seq.cells = cell_tile(bufs, L);
    seq.cells.op[kGy] = seq.mv.op[kSums];
    for (unit_base* u : {static_cast<unit_base*>(&fft), static_cast<unit_base*>(&emac),
                         static_cast<unit_base*>(&ifft), static_cast<unit_base*>(&act)})
      u->bind_buffers(bufs.set);
    seq.to_fft(q_fft_in);
    fft.in(q_fft_in);
    fft.out(q_fft_out);
    seq.from_fft(q_fft_out);
    seq.to_emac(q_emac_in);
    emac.in(q_emac_in);
    emac.out(q_emac_ifft);
    ifft.in(q_emac_ifft);
    ifft.out(q_ifft_out);
    seq.from_ifft(q_ifft_out);
    seq.to_act(q_act_in);
    act.in(q_act_in);
    act.out(q_act_out);
    sink.in(q_act_out);
  }

  // One pass of the gate tile through the chain; returns its cycles.
  std::uint64_t pass() {
    const std::size_t n = sink.when.size();
    seq.pending = true;
    seq.go.notify(sc_core::SC_ZERO_TIME);
    const sc_time start = run_for(sc_time(1, sc_core::SC_US));
    EXPECT_EQ(sink.when.size(), n + 1);
    return clk.to_cycles(sink.when.back() - start);
  }

  // Core: the same frame's gates computed directly.
  std::vector<std::int32_t> reference() {
    FixedLayer& L = ref.layer(0);
    SatCounters s;
    L.begin_frame(x.data());
    L.G.run(num, s);
    L.activate(0, L.cell, num, s);
    return std::vector<std::int32_t>(L.gate.begin(), L.gate.begin() + 3 * L.cell);
  }
};

Bench& bench() {
  static Bench b;
  return b;
}

}  // namespace

TEST(Chain, GateTileMatchesCoreAndThePipelineFormula) {
  Bench& B = bench();
  const std::uint64_t cycles = B.pass();
  // G has 6 input blocks (5 of x, 1 of r'), 8 block rows, k = 8 (5 bins).
  //   fft:  ceil(6 / 4 lanes) * ii 1 = 2, + log2(8) 3 * 2 + 2 = 8              -> 10
  //   emac: 8 rows * 6 blocks * 5 bins = 240 cMACs, ceil(240 / 64) = 4, + 3 + 2 -> 9
  //   ifft: ceil(8 rows / 4) * 1 = 2, + 8                                     -> 10
  //   act:  16 cells * 3 = 48 values, ceil(48 / 16) = 3, + 4                  -> 7
  //   total = 10 + 9 + 10 + 7 = 36 cycles (the sequencer's hand-offs take no time)
  EXPECT_EQ(cycles, 36u);
  const auto g = B.bufs.get<std::int32_t>(B.seq.cells.op[kGate]);
  EXPECT_EQ(std::vector<std::int32_t>(g.begin(), g.begin() + 3 * 16), B.reference());
}

TEST(Chain, CorruptingOneWeightWordChangesTheOutput) {
  Bench& B = bench();
  const std::vector<std::int32_t> good = B.reference();
  // Bin 1, block row 2, input block 3, in the EW-MAC's weight buffer (packed layout, 16-bit words):
  //   word ((b * chunks + i / 8) * q + j) * 8 + i % 8, times 2 for (re, im); chunks = 1, q = 6.
  std::int16_t* w = B.bufs.set.values<std::int16_t>(B.seq.mv.op[kWeights]);
  w[(((1 * 1 + 0) * 6 + 3) * 8 + 2) * 2] += 4000;
  B.pass();
  const auto g = B.bufs.get<std::int32_t>(B.seq.cells.op[kGate]);
  const std::vector<std::int32_t> bad(g.begin(), g.begin() + 3 * 16);
  EXPECT_NE(bad, good);
  // Block row 2 holds gate rows 16..23, i.e. gate f (gate 1) of cells 0..7: only those may change.
  for (int u = 0; u < 16; ++u)
    for (int gate = 0; gate < 3; ++gate) {
      const int row = (gate * 16 + u) / 8;
      if (row != 2) {
        EXPECT_EQ(bad[gate * 16 + u], good[gate * 16 + u]) << "gate " << gate << " cell " << u;
      }
    }
}
