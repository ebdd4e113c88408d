// Data through modeled storage, checked from outside: for every producer -> consumer edge of the datapath (input,
// spectrum, weights, partial sums, gate sums, gate values, cell state, m, r, LUT, output), poisoning the buffer
// region between the producer's write and the consumer's read changes the output, and poisoning it after the last
// read does not. Weights really stream: corrupting in DDR the weights of a tile not yet fetched changes the output,
// of a tile already consumed does not, a skipped fetch changes it, and on chip, corrupting DDR after the load
// changes nothing. A job whose values do not fit a buffer ends with the BUFFER error and the ERROR interrupt.
// One elaboration: three platforms (weights on chip, weights streamed, a small state buffer), built once.
#include <gtest/gtest.h>

#include <cstring>
#include <memory>

#include "core/rng.hpp"
#include "hwif/circa_regs.h"
#include "platform/vp_run.hpp"

using namespace circa;

namespace {

Model small_model() {
  SynthSpec s;
  s.input_dim = 40;
  s.cell_dim = 64;
  s.proj_dim = 16;
  s.layers = 2;
  s.block = {8, 4};
  s.seed = 4;
  return synth_model(s);
}

constexpr int kFrames = 4;

std::vector<Utterance> utterance() {
  Rng rng(9);
  std::vector<Utterance> u(1);
  u[0].key = "u0";
  u[0].mat = Matrix(kFrames, 40);
  for (float& v : u[0].mat.data) v = static_cast<float>(rng.normal());
  return u;
}

struct Bench {
  Numerics num;
  Model model = small_model();
  VpConfig on_chip, streamed, small_state;
  std::unique_ptr<vp> a, s, c;
  std::unique_ptr<HostRuntime> rt;
  std::vector<Utterance> utts = utterance();
  Bench() {
    streamed.accel.weight_buffer_bytes = 0;
    streamed.accel.emac_tile_chunks = 1;  // a chunk range per tile: W_x's 4 chunks are 4 fetches per frame
    // 2 layers x (c and m: 64 values, r' and r: 16, all 16 bits) = 640 bytes do not fit 256.
    small_state.accel.buffers.state.capacity_bytes = 256;
    a = std::make_unique<vp>("vp_on_chip", on_chip, num);
    s = std::make_unique<vp>("vp_streamed", streamed, num);
    c = std::make_unique<vp>("vp_small_state", small_state, num);
    for (vp* v : {a.get(), s.get(), c.get()}) v->cpu().set_stop_at_end(false);
    rt = std::make_unique<HostRuntime>(model, num, kDdrBase + 0x1000);
  }
  // One utterance through `top` with the hooks `arm` installs; the hooks are removed afterwards.
  VpRunResult run(vp& top, const std::function<void(accel_controller&)>& arm = nullptr) {
    accel_controller& acc = top.accel();
    if (arm) arm(acc);
    VpRunResult r;
    top.cpu().set_program([&](host_cpu&) { vp_program(top, *rt, utts, r); });
    sc_core::sc_start();
    EXPECT_TRUE(top.cpu().finished());
    acc.on_phase(nullptr);
    acc.on_weight_fetch(nullptr);
    acc.skip_weight_fetch(-1);
    for (unit_base* u : {static_cast<unit_base*>(&acc.fft()), static_cast<unit_base*>(&acc.emac()),
                         static_cast<unit_base*>(&acc.ifft()), static_cast<unit_base*>(&acc.act()),
                         static_cast<unit_base*>(&acc.cell())})
      u->on_tile_done(nullptr);
    EXPECT_EQ(r.driver_error, 0) << r.error;
    return r;
  }
  const std::vector<float>& baseline() {
    static const std::vector<float> b = run(*a).outputs.at(0).mat.data;
    return b;
  }
};

Bench& bench() {
  static Bench b;
  return b;
}

// Overwrites every value of the first region named `what` in buffer b (of `nth` such regions) with a pattern no
// computation produces.
void poison(accel_controller& acc, Buf b, const std::string& what, int nth = 0) {
  onchip_buffer& buf = acc.buffer(b);
  for (std::size_t r = 0; r < buf.regions(); ++r) {
    const ValueRegion& v = buf.region(static_cast<int>(r));
    if (v.what != what || nth-- > 0) continue;
    std::memset(buf.host_bytes(static_cast<int>(r)), 0x5A, v.count * v.host_bytes);
    return;
  }
  ADD_FAILURE() << "no region " << what << " in the " << buffer_name(b) << " buffer";
}

using Event = accel_controller::PhaseEvent;

// Poisons `what` in buffer b at the first phase event `when` matches; returns the outputs.
std::vector<float> poisoned_at(Buf b, const std::string& what, const std::function<bool(const Event&)>& when,
                               int nth = 0) {
  Bench& B = bench();
  bool done = false;
  const VpRunResult r = B.run(*B.a, [&](accel_controller& acc) {
    acc.on_phase([&, &acc2 = acc](const Event& e) {
      if (done || !when(e)) return;
      poison(acc2, b, what, nth);
      done = true;
    });
  });
  EXPECT_TRUE(done) << what;
  return r.outputs.at(0).mat.data;
}

auto at(int frame, std::size_t layer, char mv, int chain, bool done) {
  return [=](const Event& e) {
    return e.frame == frame && e.layer == layer && e.what == mv && e.chain == chain && e.done == done;
  };
}

}  // namespace

TEST(Storage, TheBaselineIsTheGoldenModel) {
  Bench& B = bench();
  FixedGolden golden(B.model, B.num);
  EXPECT_EQ(B.baseline(), golden.run(B.utts[0].mat).data);
}

// Phase-boundary edges: the producer's phase has written the region, the consumer's has not read it yet (change);
// the consumer's phase has read it and nothing reads it again before it is rewritten (no change).
TEST(Storage, PoisoningBetweenWriteAndReadChangesTheOutputAndAfterTheLastReadDoesNot) {
  Bench& B = bench();
  const int last = kFrames - 1;
  struct Edge {
    const char* name;
    Buf buf;
    const char* what;
    std::function<bool(const Event&)> before, after;
  };
  const std::vector<Edge> edges = {
      // DMA -> FFT: the input frame, read by layer 0's gate FFT.
      {"input", Buf::input, "frame", at(1, 0, 'G', 0, false), at(1, 0, 'G', 0, true)},
      // FFT -> EW-MAC: the spectrum.
      {"spectrum", Buf::spectrum, "spectrum", at(1, 0, 'G', 1, false), at(1, 0, 'G', 1, true)},
      // DMA (load) -> EW-MAC: layer 0's gate weights, read every frame; after the last frame's MACs, never again.
      {"weights", Buf::weight, "weights", at(1, 0, 'G', 1, false), at(last, 0, 'G', 1, true)},
      // IFFT -> activation and cell update: the gate sums.
      {"gate sums", Buf::gates, "gate sums", at(1, 0, 'C', 2, false), at(1, 0, 'C', 2, true)},
      // cell update -> projection FFT: m.
      {"m", Buf::state, "m", at(1, 0, 'P', 0, false), at(1, 0, 'P', 0, true)},
      // cell update (frame f) -> activation and cell update (frame f + 1): c; after the last frame, only the state
      // write-back to DDR reads it.
      {"c", Buf::state, "c", at(1, 0, 'G', 0, false), at(last, 0, 'P', 0, false)},
      // IFFT (logits write-back) -> DMA: the output frame; the next phase comes after the DMA has read it.
      {"output", Buf::output, "logits", at(1, 2, 'O', 1, true), at(2, 0, 'G', 0, false)},
  };
  for (const Edge& e : edges) {
    EXPECT_NE(poisoned_at(e.buf, e.what, e.before), B.baseline()) << e.name << ": poisoned before its read";
    EXPECT_EQ(poisoned_at(e.buf, e.what, e.after), B.baseline()) << e.name << ": poisoned after its last read";
  }
  // r: layer 1's r (its projection's write-back) is read by the output matvec's FFT and by layer 1's next frame;
  // it is one of two regions that swap roles every frame, so both are poisoned. After the last frame's reads
  // nothing reads either.
  auto both_r = [&](const std::function<bool(const Event&)>& when) {
    bool done = false;
    const VpRunResult r = B.run(*B.a, [&](accel_controller& acc) {
      acc.on_phase([&, &acc2 = acc](const Event& e) {
        if (done || !when(e)) return;
        for (int n : {2, 3}) poison(acc2, Buf::state, "r", n);  // layer 1's two r regions
        done = true;
      });
    });
    EXPECT_TRUE(done);
    return r.outputs.at(0).mat.data;
  };
  EXPECT_NE(both_r(at(1, 1, 'P', 1, true)), B.baseline()) << "r: poisoned before its read";
  EXPECT_EQ(both_r(at(last, 2, 'O', 0, true)), B.baseline()) << "r: poisoned after its last read";
}

// Edges inside a unit chain (EW-MAC -> IFFT, activation -> cell update): poisoned when the producer unit has
// computed a tile and before the consumer takes it, and once the consumer has.
TEST(Storage, PoisoningInsideAUnitChainChangesTheOutputOnlyBeforeTheConsumerRead) {
  Bench& B = bench();
  // Poisons, when `unit` has computed its first tile of frame 1 in layer 0, that tile's values in the region its
  // tile names as `role`: for the partial sums, the tile's row chunks in every bin (the rest of the region may hold
  // the next tile's sums already: the EW-MAC runs ahead of the IFFT); for the gate values, the whole region.
  auto run = [&](unit_base& (*unit)(accel_controller&), Operand role) {
    bool done = false;
    const VpRunResult r = B.run(*B.a, [&](accel_controller& acc) {
      unit(acc).on_tile_done([&, &acc2 = acc](const Tile& t) {
        if (done || t.frame != 1 || t.layer != 0) return;
        const BufRef& ref = t.op[role];
        onchip_buffer& buf = acc2.buffer(ref.buf);
        if (role == kPsum) {
          std::int64_t* acc64 = buf.values<std::int64_t>(ref.region);
          for (int b = 0; b < t.shape.bins; ++b)
            for (int c = t.begin; c < t.end; ++c)
              for (int i = 0; i < 2 * kRowChunk; ++i)
                acc64[FixedCirculant::acc_index(b, t.shape.chunks, c * kRowChunk, 0) + i] = 0x5A5A5A5A5A;
        } else {
          std::memset(buf.host_bytes(ref.region), 0x5A, buf.region(ref.region).count * buf.region(ref.region).host_bytes);
        }
        done = true;
      });
    });
    EXPECT_TRUE(done);
    return r.outputs.at(0).mat.data;
  };
  auto emac = [](accel_controller& a) -> unit_base& { return a.emac(); };
  auto ifft = [](accel_controller& a) -> unit_base& { return a.ifft(); };
  auto act = [](accel_controller& a) -> unit_base& { return a.act(); };
  auto cell = [](accel_controller& a) -> unit_base& { return a.cell(); };
  // The EW-MAC's first tile of frame 1 is in the partial-sum buffer; the IFFT has not read it.
  EXPECT_NE(run(emac, kPsum), B.baseline()) << "psum before the IFFT";
  // The IFFT has read it; the EW-MAC overwrites those chunks before the next read.
  EXPECT_EQ(run(ifft, kPsum), B.baseline()) << "psum after the IFFT";
  // Gate values i, f, g: written by the activation unit, read by the cell update.
  EXPECT_NE(run(act, kGate), B.baseline()) << "gates before the cell update";
  EXPECT_EQ(run(cell, kGate), B.baseline()) << "gates after the cell update";
}

// The activation unit reads its own LUT memory, loaded at job start.
TEST(Storage, PoisoningTheActivationLutChangesTheOutputOnlyBeforeItsLastUse) {
  Bench& B = bench();
  auto run = [&](const std::function<bool(const Event&)>& when) {
    bool done = false;
    const VpRunResult r = B.run(*B.a, [&](accel_controller& acc) {
      acc.on_phase([&, &acc2 = acc](const Event& e) {
        if (done || !when(e)) return;
        Activation& lut = acc2.act().lut(ActFn::sigmoid);
        std::vector<std::int32_t> t = lut.table();
        for (auto& v : t) v = v / 4;
        lut.load_table(t);
        done = true;
      });
    });
    EXPECT_TRUE(done);
    return r.outputs.at(0).mat.data;
  };
  EXPECT_NE(run(at(1, 0, 'C', 2, false)), B.baseline());
  EXPECT_EQ(run(at(kFrames - 1, 1, 'C', 2, true)), B.baseline());
  // The next job loads the tables again: the baseline comes back.
  EXPECT_EQ(B.run(*B.a).outputs.at(0).mat.data, B.baseline());
}

// On chip, the EW-MAC reads only the weight buffer: DDR corrupted after the load changes nothing.
TEST(Storage, OnChipWeightsDoNotReadDdrAfterTheLoad) {
  Bench& B = bench();
  const MemRegion& wx = B.rt->model_regions()[0];  // layer 0's W_x
  bool done = false;
  const VpRunResult r = B.run(*B.a, [&](accel_controller& acc) {
    acc.on_phase([&](const Event& e) {
      if (done || e.frame != 0 || e.chain != 0) return;
      const std::string junk(wx.bytes.size(), '\x5A');
      ASSERT_TRUE(B.a->ddr().poke(wx.addr - kDdrBase, reinterpret_cast<const std::uint8_t*>(junk.data()), junk.size()));
      done = true;
    });
  });
  ASSERT_TRUE(done);
  EXPECT_TRUE(r.weights_on_chip);
  EXPECT_EQ(r.outputs.at(0).mat.data, B.baseline());
}

// Streamed, each chunk range's weights arrive by DMA just before the EW-MAC uses them, into one of two slots.
TEST(Storage, StreamedWeightsComeFromDdrTileByTile) {
  Bench& B = bench();
  const MemRegion& wx = B.rt->model_regions()[0];
  // Fetches of layer 0's W_x in the last frame, in order.
  struct Fetch {
    std::uint64_t index;
    int c0, c1;
  };
  std::vector<Fetch> all;
  const VpRunResult clean = B.run(*B.s, [&](accel_controller& acc) {
    acc.on_weight_fetch([&](std::uint64_t i, std::uint64_t ddr, int c0, int c1) {
      if (ddr == wx.addr) all.push_back({i, c0, c1});
    });
  });
  ASSERT_FALSE(clean.weights_on_chip);
  ASSERT_EQ(clean.outputs.at(0).mat.data, B.baseline());
  ASSERT_EQ(all.size() % kFrames, 0u);
  const std::size_t per_frame = all.size() / kFrames;
  ASSERT_GE(per_frame, 4u) << "the test needs at least four chunk ranges of W_x";
  const std::vector<Fetch> last(all.end() - static_cast<std::ptrdiff_t>(per_frame), all.end());
  // Layer 0's G = [W_x | W_r]: p = 4 * 64 / 8 = 32 block rows = 4 chunks, q = 40 / 8 + 16 / 8 = 7 columns; the
  // weights of chunk c in bin 0 start at byte c * q * 8 rows * 2 (re, im) * 2 bytes.
  const std::size_t q = (40 + 7) / 8 + 16 / 8, per_chunk = q * 8 * 2 * 2;
  auto corrupt_at = [&](std::uint64_t when, int chunk) {
    return [&, when, chunk](accel_controller& acc) {
      acc.on_weight_fetch([&, when, chunk](std::uint64_t i, std::uint64_t, int, int) {
        if (i != when) return;
        const std::string junk(per_chunk, '\x5A');
        EXPECT_TRUE(B.s->ddr().poke(wx.addr - kDdrBase + static_cast<std::uint64_t>(chunk) * per_chunk,
                                    reinterpret_cast<const std::uint8_t*>(junk.data()), junk.size()));
      });
    };
  };
  // At the last frame's third fetch of W_x: corrupting the fourth range (not yet fetched) changes the output ...
  EXPECT_NE(B.run(*B.s, corrupt_at(last[2].index, last[3].c0)).outputs.at(0).mat.data, B.baseline());
  // ... corrupting the first (fetched and read: its slot is being refilled) does not.
  EXPECT_EQ(B.run(*B.s, corrupt_at(last[2].index, last[0].c0)).outputs.at(0).mat.data, B.baseline());
  // A fetch that moves nothing leaves the previous range's weights in the slot: the output changes.
  EXPECT_NE(B.run(*B.s, [&](accel_controller& acc) { acc.skip_weight_fetch(static_cast<std::int64_t>(last[2].index)); })
                .outputs.at(0)
                .mat.data,
            B.baseline());
  // And without any of that, the streamed run is the on-chip one.
  EXPECT_EQ(B.run(*B.s).outputs.at(0).mat.data, B.baseline());
}

// A job whose state does not fit the state buffer is refused when it is laid out: BUFFER, the ERROR interrupt, and
// the device takes the next job.
TEST(Storage, AJobThatDoesNotFitABufferIsTheBufferError) {
  Bench& B = bench();
  VpRunResult r;
  B.c->cpu().set_program([&](host_cpu&) { vp_program(*B.c, *B.rt, B.utts, r); });
  sc_core::sc_start();
  EXPECT_EQ(r.driver_error, CIRCA_ERR_BUFFER) << r.error;
  EXPECT_EQ(r.error, "the job's values do not fit an on-chip buffer");
  EXPECT_EQ(B.c->accel().last_error(), CIRCA_ERR_BUFFER);
}
