// fft_unit / ifft_unit: exact cycles per tile for three parameter sets each, bit-exact outputs against the core
// kernels on random tiles, and back-pressure from a slow consumer.
#include <gtest/gtest.h>

#include <memory>

#include "core/golden.hpp"
#include "core/rng.hpp"
#include "sc_models/fft_unit.hpp"
#include "tests/sc_models/bench_util.hpp"
#include "tests/sc_models/unit_buffers.hpp"

using namespace circa;
using namespace circa_test;
using sc_core::SC_NS;
using sc_core::sc_time;

namespace {

CirculantMatrix random_matrix(int p, int q, int k, std::uint64_t seed) {
  Rng rng(seed);
  CirculantMatrix m;
  m.p = p, m.q = q, m.k = k;
  m.w.resize(static_cast<std::size_t>(p) * q * k);
  for (float& v : m.w) v = static_cast<float>(rng.uniform(-0.3, 0.3));
  return m;
}

std::vector<std::int32_t> random_input(int n, std::uint64_t seed) {
  Rng rng(seed);
  std::vector<std::int32_t> x(static_cast<std::size_t>(n));
  for (auto& v : x) v = static_cast<std::int32_t>(rng.uniform(-2000, 2000));
  return x;
}

struct Case {
  int k, q, p;
  FftParams prm;
};

// Everything is elaborated once, up front: one unit instance per parameter set.
struct Bench {
  Numerics num;
  ClockParams clk;  // 200 MHz: 5 ns per cycle
  SatCounters sat;
  std::vector<Case> cases;
  std::vector<CirculantMatrix> mats;
  std::vector<std::unique_ptr<FixedMatvec>> mvs;
  std::vector<std::vector<std::int32_t>> inputs;
  std::vector<std::unique_ptr<unit_buffers>> bufs;
  std::vector<Tile> protos;
  std::vector<std::unique_ptr<fft_unit>> ffts;
  std::vector<std::unique_ptr<ifft_unit>> iffts;
  std::vector<std::unique_ptr<unit_rig<fft_unit>>> frigs;
  std::vector<std::unique_ptr<unit_rig<ifft_unit>>> irigs;
  // Back-pressure: one more forward unit whose consumer reads slowly through a channel of depth 1.
  std::unique_ptr<fft_unit> bp;
  std::unique_ptr<unit_rig<fft_unit>> bprig;

  Bench() {
    cases = {
        {8, 20, 16, {4, 1, 2, 2}},   // C-LSTM-like: 4 lanes, one block per cycle per lane
        {16, 20, 8, {2, 2, 2, 2}},   // 2 lanes, a block every 2 cycles
        {8, 20, 24, {1, 8, 3, 4}},   // 1 streaming lane, one sample per cycle (ii = k)
    };
    for (std::size_t i = 0; i < cases.size(); ++i) {
      const Case& c = cases[i];
      mats.push_back(random_matrix(c.p, c.q, c.k, 100 + i));
    }
    for (std::size_t i = 0; i < cases.size(); ++i) {
      const Case& c = cases[i];
      mvs.push_back(std::make_unique<FixedMatvec>(std::vector<const CirculantMatrix*>{&mats[i]}, num, sat));
      inputs.push_back(random_input(c.q * c.k - 3, 7 + i));  // last block zero-padded
      mvs.back()->set_inputs({inputs.back().data(), static_cast<int>(inputs.back().size())});
      const std::string n = std::to_string(i);
      bufs.push_back(std::make_unique<unit_buffers>("buf" + n));
      protos.push_back(matvec_tile(*bufs.back(), *mvs.back(), inputs.back(), num));
      ffts.push_back(std::make_unique<fft_unit>(("fft" + n).c_str(), c.prm, clk, num));
      iffts.push_back(std::make_unique<ifft_unit>(("ifft" + n).c_str(), c.prm, clk, num));
      ffts.back()->bind_buffers(bufs.back()->set);
      iffts.back()->bind_buffers(bufs.back()->set);
      frigs.push_back(std::make_unique<unit_rig<fft_unit>>(("frig" + n).c_str(), *ffts.back()));
      irigs.push_back(std::make_unique<unit_rig<ifft_unit>>(("irig" + n).c_str(), *iffts.back()));
    }
    bp = std::make_unique<fft_unit>("fft_bp", cases[0].prm, clk, num);
    bp->bind_buffers(bufs[0]->set);
    bprig = std::make_unique<unit_rig<fft_unit>>("bprig", *bp, 8, 1);
  }
};

Bench& bench() {
  static Bench b;
  return b;
}

Tile tile(std::size_t i, int b, int e, bool last, std::uint32_t seq = 0) {
  Tile t = bench().protos[i];
  t.begin = b;
  t.end = e;
  t.last = last;
  t.seq = seq;
  return t;
}

std::uint64_t cycles_between(const sc_time& a, const sc_time& b) { return bench().clk.to_cycles(b - a); }

}  // namespace

TEST(FftUnit, ExactCyclesPerTile) {
  Bench& B = bench();
  // Each case: one tile of all 20 input blocks.
  //   case 0: k = 8:  ceil(20 / 4 lanes) * ii 1 = 5,  latency = log2(8) 3 * 2 + 2 = 8  -> 13 cycles
  //   case 1: k = 16: ceil(20 / 2) * ii 2 = 20,       latency = 4 * 2 + 2 = 10        -> 30 cycles
  //   case 2: k = 8:  ceil(20 / 1) * ii 8 = 160,      latency = 3 * 3 + 4 = 13        -> 173 cycles
  const std::uint64_t expect[] = {13, 30, 173};
  std::vector<sc_time> t0(B.cases.size());
  for (std::size_t i = 0; i < B.cases.size(); ++i) {
    B.frigs[i]->src.push(tile(i, 0, 20, true));
    B.frigs[i]->src.start();
  }
  const sc_time start = run_for(sc_time(2, sc_core::SC_US));
  for (std::size_t i = 0; i < B.cases.size(); ++i) {
    ASSERT_EQ(B.frigs[i]->sink.when.size(), 1u);
    EXPECT_EQ(cycles_between(start, B.frigs[i]->sink.when[0]), expect[i]) << "case " << i;
    EXPECT_EQ(B.ffts[i]->stats().busy_cycles, expect[i]);
    EXPECT_EQ(B.ffts[i]->stats().ops, 20u);
  }
}

TEST(FftUnit, OutputsAreBitExactAgainstTheCoreKernel) {
  Bench& B = bench();
  for (std::size_t i = 0; i < B.cases.size(); ++i) {
    // Reference: the whole input through core's fft_inputs on a separate buffer.
    FreqInput ref;
    SatCounters s;
    FixedFft f(B.cases[i].k, B.num.tw_frac(), B.num.rounding);
    fft_inputs({{B.inputs[i].data(), static_cast<int>(B.inputs[i].size())}}, f, B.num.act.bits(), ref, s);
    // The unit's spectrum, read back from its buffer.
    const FreqView v = spectrum_of(*B.bufs[i], B.protos[i]);
    const std::size_t n = ref.re.size();
    EXPECT_EQ(std::vector<std::int32_t>(v.re, v.re + n), ref.re) << "case " << i;
    EXPECT_EQ(std::vector<std::int32_t>(v.im, v.im + n), ref.im) << "case " << i;
    EXPECT_EQ(std::vector<std::int32_t>(v.xa, v.xa + n), ref.xa) << "case " << i;
    EXPECT_EQ(std::vector<std::int32_t>(v.xb, v.xb + n), ref.xb) << "case " << i;
  }
}

TEST(IfftUnit, ExactCyclesAndBitExactRows) {
  Bench& B = bench();
  // Frequency sums first (the golden model's, copied into the unit's partial-sum buffer), then the IFFT unit turns
  // row chunks into outputs in its gate-sum buffer.
  for (std::size_t i = 0; i < B.cases.size(); ++i) {
    SatCounters s;
    B.mvs[i]->fft_blocks(0, B.mvs[i]->in_blocks(), B.num, s);
    B.mvs[i]->mac_chunks(0, B.mvs[i]->chunks());
    std::copy(B.mvs[i]->acc.begin(), B.mvs[i]->acc.end(), B.bufs[i]->set.values<std::int64_t>(B.protos[i].op[kPsum]));
    // Two tiles: chunk 0 (8 rows), then the rest (p - 8 rows).
    B.irigs[i]->src.push(tile(i, 0, 1, false, 0));
    B.irigs[i]->src.push(tile(i, 1, B.mvs[i]->chunks(), true, 1));
    B.irigs[i]->src.start();
  }
  const sc_time start = run_for(sc_time(3, sc_core::SC_US));
  //   case 0: k = 8,  p = 16: tile 0: ceil(8 / 4) * 1 + 8 = 10; tile 1: 8 rows, 10 -> done at 20
  //   case 1: k = 16, p = 8:  one chunk holds all 8 rows: ceil(8 / 2) * 2 + 10 = 18; tile 1 is empty: 0 * 2 + 10 = 10
  //                            -> done at 28
  //   case 2: k = 8,  p = 24: tile 0: 8 * 8 + 13 = 77; tile 1: 16 rows: 16 * 8 + 13 = 141 -> done at 218
  const std::uint64_t first[] = {10, 18, 77}, second[] = {20, 28, 218};
  for (std::size_t i = 0; i < B.cases.size(); ++i) {
    ASSERT_EQ(B.irigs[i]->sink.when.size(), 2u);
    EXPECT_EQ(cycles_between(start, B.irigs[i]->sink.when[0]), first[i]) << "case " << i;
    EXPECT_EQ(cycles_between(start, B.irigs[i]->sink.when[1]), second[i]) << "case " << i;
    // Reference rows from core's ifft_rows on the same sums.
    std::vector<std::int64_t> y(B.mvs[i]->y.size());
    SatCounters s;
    FixedFft f(B.cases[i].k, B.num.tw_frac(), B.num.rounding);
    circa::ifft_rows(B.mvs[i]->W, B.mvs[i]->acc.data(), 0, B.mvs[i]->rows(), f, B.num, y.data(), s);
    EXPECT_EQ(B.bufs[i]->get<std::int64_t>(B.protos[i].op[kSums]), y) << "case " << i;
  }
}

TEST(FftUnit, SlowConsumerGrowsStallByTheExpectedAmount) {
  Bench& B = bench();
  const std::uint64_t stall_before = B.bp->stats().stall_out_cycles;
  EXPECT_EQ(stall_before, 0u);
  // Four tiles of 20 blocks, 13 cycles each (case 0's parameters). The consumer reads through a channel of depth 1
  // and then spends 50 cycles on each tile before its next read.
  //   t = 13: tile 0 out, read at once (consumer busy until 63)
  //   t = 26: tile 1 into the empty channel
  //   t = 39: tile 2 done, channel full until the consumer reads tile 1 at 63: stall 24; tile 3 starts at 63
  //   t = 76: tile 3 done, channel holds tile 2 until the read at 113: stall 37
  //   total stall = 24 + 37 = 61 cycles
  B.bprig->sink.read_gap = B.clk.cycles(50);
  for (int n = 0; n < 4; ++n) B.bprig->src.push(tile(0, 0, 20, n == 3, static_cast<std::uint32_t>(n)));
  B.bprig->src.start();
  const sc_time start = run_for(sc_time(2, sc_core::SC_US));
  ASSERT_EQ(B.bprig->sink.when.size(), 4u);
  EXPECT_EQ(B.bp->stats().stall_out_cycles, 61u);
  EXPECT_EQ(cycles_between(start, B.bprig->sink.when[3]), 163u);  // reads at 13, 63, 113, 163
  EXPECT_EQ(B.bp->stats().busy_cycles, 4u * 13u);
}
