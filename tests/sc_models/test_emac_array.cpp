// emac_array: exact cycles for three parameter sets, bit-exact frequency sums against core's scalar reference.
#include <gtest/gtest.h>

#include <memory>

#include "core/golden.hpp"
#include "core/rng.hpp"
#include "sc_models/emac_array.hpp"
#include "tests/sc_models/bench_util.hpp"
#include "tests/sc_models/unit_buffers.hpp"

using namespace circa;
using namespace circa_test;
using sc_core::sc_time;

namespace {

struct Case {
  int k, q, p;
  EmacParams prm;
};

struct Bench {
  Numerics num;
  ClockParams clk;
  SatCounters sat;
  std::vector<Case> cases;
  std::vector<CirculantMatrix> mats;
  std::vector<std::unique_ptr<FixedMatvec>> mvs;
  std::vector<std::vector<std::int32_t>> inputs;
  std::vector<std::unique_ptr<unit_buffers>> bufs;
  std::vector<Tile> protos;
  std::vector<std::unique_ptr<emac_array>> units;
  std::vector<std::unique_ptr<unit_rig<emac_array>>> rigs;
  // Case 0 again, its operands in buffers of one 8-byte port each.
  std::unique_ptr<unit_buffers> narrow_bufs;
  Tile narrow_proto;
  std::unique_ptr<emac_array> narrow_unit;
  std::unique_ptr<unit_rig<emac_array>> narrow_rig;

  Bench() {
    cases = {
        {8, 20, 16, {64, 4, 2, 3, 2}},   // two full chunks, two banks
        {16, 10, 8, {16, 3, 1, 3, 2}},   // one bank: the adder latency is exposed
        {4, 7, 11, {100, 4, 2, 3, 2}},   // a partial last chunk (11 rows)
    };
    Rng rng(3);
    for (const Case& c : cases) {
      CirculantMatrix m;
      m.p = c.p, m.q = c.q, m.k = c.k;
      m.w.resize(static_cast<std::size_t>(c.p) * c.q * c.k);
      for (float& v : m.w) v = static_cast<float>(rng.uniform(-0.4, 0.4));
      mats.push_back(m);
    }
    for (std::size_t i = 0; i < cases.size(); ++i) {
      mvs.push_back(std::make_unique<FixedMatvec>(std::vector<const CirculantMatrix*>{&mats[i]}, num, sat));
      std::vector<std::int32_t> x(static_cast<std::size_t>(cases[i].q * cases[i].k));
      for (auto& v : x) v = static_cast<std::int32_t>(rng.uniform(-30000, 30000));
      inputs.push_back(x);
      mvs.back()->set_inputs({inputs.back().data(), static_cast<int>(x.size())});
      mvs.back()->fft_blocks(0, cases[i].q, num, sat);
      const std::string n = std::to_string(i);
      // The unit's own copy of the spectrum (the golden model's, into its spectrum buffer) and of the weights.
      bufs.push_back(std::make_unique<unit_buffers>("buf" + n));
      protos.push_back(matvec_tile(*bufs.back(), *mvs.back(), x, num));
      const FreqView v = spectrum_of(*bufs.back(), protos.back());
      const FreqInput& X = mvs.back()->X;
      std::copy(X.re.begin(), X.re.end(), v.re);
      std::copy(X.im.begin(), X.im.end(), v.im);
      std::copy(X.xa.begin(), X.xa.end(), v.xa);
      std::copy(X.xb.begin(), X.xb.end(), v.xb);
      units.push_back(std::make_unique<emac_array>(("emac" + n).c_str(), cases[i].prm, clk));
      units.back()->bind_buffers(bufs.back()->set);
      rigs.push_back(std::make_unique<unit_rig<emac_array>>(("rig" + n).c_str(), *units.back()));
      if (i == 0) {
        narrow_bufs = std::make_unique<unit_buffers>("one_port", 1);
        narrow_proto = matvec_tile(*narrow_bufs, *mvs.back(), x, num);
        const FreqView w = spectrum_of(*narrow_bufs, narrow_proto);
        std::copy(X.re.begin(), X.re.end(), w.re);
        std::copy(X.im.begin(), X.im.end(), w.im);
        std::copy(X.xa.begin(), X.xa.end(), w.xa);
        std::copy(X.xb.begin(), X.xb.end(), w.xb);
        narrow_unit = std::make_unique<emac_array>("emac_one_port", cases[0].prm, clk);
        narrow_unit->bind_buffers(narrow_bufs->set);
        narrow_rig = std::make_unique<unit_rig<emac_array>>("rig_one_port", *narrow_unit);
      }
    }
  }
};

Bench& bench() {
  static Bench b;
  return b;
}

}  // namespace

TEST(EmacArray, ExactCyclesAndBitExactSums) {
  Bench& B = bench();
  for (std::size_t i = 0; i < B.cases.size(); ++i) {
    Tile t = B.protos[i];
    t.begin = 0;
    t.end = B.mvs[i]->chunks();
    t.last = true;
    B.rigs[i]->src.push(t);
    B.rigs[i]->src.start();
  }
  const sc_time start = run_for(sc_time(2, sc_core::SC_US));
  //   case 0: 16 rows * 20 blocks * 5 bins = 1600 cMACs; ceil(1600 / 64) = 25, + mult 3 + add 2      = 30 cycles
  //   case 1: 8 rows * 10 blocks * 9 bins = 720;  ceil(720 / 16) = 45, one bank: * add 2 = 90, + 5   = 95 cycles
  //   case 2: 11 rows * 7 blocks * 3 bins = 231 (padding rows 11..15 not computed); ceil(231/100) = 3, + 5 = 8
  const std::uint64_t cycles[] = {30, 95, 8}, cmacs[] = {1600, 720, 231};
  for (std::size_t i = 0; i < B.cases.size(); ++i) {
    ASSERT_EQ(B.rigs[i]->sink.when.size(), 1u);
    EXPECT_EQ(B.clk.to_cycles(B.rigs[i]->sink.when[0] - start), cycles[i]) << "case " << i;
    EXPECT_EQ(B.units[i]->stats().ops, cmacs[i]);
    // Reference: the portable scalar kernel on the same frequency-domain input.
    std::vector<std::int64_t> ref(B.mvs[i]->W.acc_size(), 0);
    B.mvs[i]->W.mac_scalar(B.mvs[i]->X, 0, B.mvs[i]->chunks(), ref.data());
    EXPECT_EQ(B.bufs[i]->get<std::int64_t>(B.protos[i].op[kPsum]), ref) << "case " << i;
  }
  EXPECT_EQ(B.units[0]->params().dsps(), 256);  // 64 lanes x 4 DSPs
}

TEST(EmacArray, TilesAccumulateOnlyTheirOwnChunks) {
  Bench& B = bench();
  FixedMatvec& mv = *B.mvs[0];
  std::int64_t* acc = B.bufs[0]->set.values<std::int64_t>(B.protos[0].op[kPsum]);
  const std::vector<std::int64_t> full = B.bufs[0]->get<std::int64_t>(B.protos[0].op[kPsum]);
  std::fill(acc, acc + full.size(), 0);
  Tile t = B.protos[0];
  t.begin = 1;  // only the second chunk
  t.end = 2;
  t.last = true;
  B.rigs[0]->src.push(t);
  B.rigs[0]->src.start();
  const sc_time start = run_for(sc_time(1, sc_core::SC_US));
  // 8 rows * 20 * 5 = 800 cMACs: ceil(800 / 64) = 13 + 5 = 18 cycles
  EXPECT_EQ(B.clk.to_cycles(B.rigs[0]->sink.when.back() - start), 18u);
  for (int b = 0; b < mv.W.bins(); ++b)
    for (int r = 0; r < 16; ++r)
      for (int part = 0; part < 2; ++part) {
        const std::size_t at = FixedCirculant::acc_index(b, mv.chunks(), r, part);
        EXPECT_EQ(acc[at], r < 8 ? 0 : full[at]) << "bin " << b << " row " << r;
      }
}

TEST(EmacArray, AOnePortWeightBufferSlowsTheTileByTheDerivedCycles) {
  Bench& B = bench();
  Tile t = B.narrow_proto;
  t.begin = 0;
  t.end = B.mvs[0]->chunks();
  t.last = true;
  B.narrow_rig->src.push(t);
  B.narrow_rig->src.start();
  const sc_time start = run_for(sc_time(10, sc_core::SC_US));
  // Case 0 (16 rows, 20 blocks, 5 bins: 1600 cMACs on 64 lanes) takes 30 cycles with ports to spare: 25 issue
  // cycles + 5 of latency. With one 8-byte port per buffer, the tile's accesses take, per buffer:
  //   weights:  2 words (re, im) per cMAC, 16 bits each: 1600 * 2 * 2 B = 6400 B = 800 words  -> 800 cycles
  //   spectrum: 20 blocks * 5 bins, 32 bits each (the bench's region):  400 B =  50 words     ->  50 cycles
  //   psum:     2 chunks * 8 rows * 5 bins * 2 (re, im), 48 bits each:  960 B = 120 words     -> 120 cycles
  // The slowest, 800 cycles, replaces the 25 issue cycles: 800 + 5 = 805 cycles, 775 more than with free ports.
  ASSERT_EQ(B.narrow_rig->sink.when.size(), 1u);
  EXPECT_EQ(B.clk.to_cycles(B.narrow_rig->sink.when[0] - start), 805u);
  EXPECT_EQ(B.narrow_unit->stats().port_cycles, 775u);
  EXPECT_EQ(B.narrow_unit->stats().busy_cycles, 805u);
  // The same sums as the scalar reference.
  std::vector<std::int64_t> ref(B.mvs[0]->W.acc_size(), 0);
  B.mvs[0]->W.mac_scalar(B.mvs[0]->X, 0, B.mvs[0]->chunks(), ref.data());
  EXPECT_EQ(B.narrow_bufs->get<std::int64_t>(B.narrow_proto.op[kPsum]), ref);
}
