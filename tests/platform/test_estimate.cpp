// The closed-form estimate against the virtual platform: every preset in platform/configs/, with the model it is
// meant for (synthesized here, random weights of the right shape), a few frames on the VP (`circa run --report`)
// and `circa estimate --json` on the same config and model. The two share no timing code (docs/perf.md).
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tests/platform/cli_runner.hpp"

using circa_test::fresh_dir;
using circa_test::run_circa;
using nlohmann::json;
using circa_test::slurp;

namespace {

std::string preset(const std::string& name) {
  return std::string(CIRCA_SOURCE_DIR) + "/platform/configs/" + name + ".ini";
}

constexpr int kFrames = 4;

struct Case {
  const char* preset;
  std::vector<std::string> synth;  // circa model synth arguments (the preset header's intended model)
  std::vector<std::string> overrides;
};

// The models of the presets' headers. One folder holds them for the whole test binary.
const std::string& work_dir() {
  static const std::string dir = [] {
    const std::string d = fresh_dir("estimate");
    const std::vector<std::vector<std::string>> models = {
        {"--arch", "lstmp", "--input-dim", "153", "--cell-dim", "1024", "--proj-dim", "512", "--block", "8", "-o",
         d + "/lstmp8.safetensors"},
        {"--arch", "lstmp", "--input-dim", "153", "--cell-dim", "1024", "--proj-dim", "512", "--block", "16", "-o",
         d + "/lstmp16.safetensors"},
        {"--arch", "gru", "--input-dim", "153", "--cell-dim", "1024", "--proj-dim", "0", "--block", "8", "-o",
         d + "/gru8.safetensors"},
    };
    for (auto args : models) {
      args.insert(args.begin(), {"model", "synth"});
      const auto r = run_circa(args);
      EXPECT_EQ(r.exit_code, 0) << r.err;
    }
    const auto f = run_circa({"features", "synth", "--utts", "1", "--frames", std::to_string(kFrames), "--dim", "153",
                              "--seed", "5", "-o", d + "/feats.ark"});
    EXPECT_EQ(f.exit_code, 0) << f.err;
    return d;
  }();
  return dir;
}

struct Pair {
  json vp, est;
};

Pair run_both(const std::string& preset_name, const std::string& model, const std::vector<std::string>& overrides,
              const std::string& tag) {
  const std::string& d = work_dir();
  const std::string m = d + "/" + model + ".safetensors";
  const std::string rep = d + "/" + tag + ".json";
  std::vector<std::string> run = {"run",        "--config",       preset(preset_name), "--model", m,
                                  "--features", d + "/feats.ark", "--report",          rep};
  std::vector<std::string> est = {"estimate", "--config", preset(preset_name), "--model", m, "--json"};
  for (const auto& o : overrides) {
    run.push_back("--" + o);
    est.push_back("--" + o);
  }
  Pair p;
  const auto r = run_circa(run);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const auto e = run_circa(est);
  EXPECT_EQ(e.exit_code, 0) << e.err;
  if (r.exit_code == 0) p.vp = json::parse(slurp(rep));
  if (e.exit_code == 0) p.est = json::parse(e.out);
  return p;
}

// Per-frame busy cycles of a unit on the VP (every frame does the same work, so they divide exactly).
double vp_busy(const json& vp, const std::string& unit) {
  for (const json& u : vp["units"])
    if (u["name"] == unit) return u["busy_cycles"].get<double>() / kFrames;
  ADD_FAILURE() << "no unit " << unit;
  return -1;
}

void expect_agree(const Pair& p, double tol, const std::string& what) {
  ASSERT_FALSE(p.vp.is_null());
  ASSERT_FALSE(p.est.is_null());
  ASSERT_EQ(p.vp["run"]["frames"], kFrames);
  EXPECT_EQ(p.vp["run"]["weights_on_chip"], p.est["weights_on_chip"]) << what;
  EXPECT_EQ(p.vp["run"]["weight_bytes"], p.est["weight_bytes"]) << what;
  // Steady-state frames: a job's first frame also carries the descriptor fetch and the weight load, so the median
  // of the four frame latencies is a steady frame.
  const double vp_frame = p.vp["device"]["latency_cycles"]["p50"].get<double>();
  const double est_frame = p.est["cycles_per_frame"].get<double>();
  EXPECT_LE(std::fabs(vp_frame - est_frame), tol * vp_frame)
      << what << ": VP " << vp_frame << " cycles/frame, estimate " << est_frame;
  // The first frame: job load plus one frame (the load's DMA follows DDR pages the estimate takes as row hits).
  const double vp_first = p.vp["device"]["latency_cycles"]["max"].get<double>();
  const double est_first = est_frame + p.est["job_load_cycles"].get<double>();
  EXPECT_LE(std::fabs(vp_first - est_first), 0.02 * vp_first)
      << what << ": VP first frame " << vp_first << ", estimate " << est_first;
}

// With the weights on chip, the compute units' busy cycles follow from the tile formulas alone: the estimate's and
// the VP's must be identical.
void expect_same_busy(const Pair& p, const std::string& what) {
  const json& b = p.est["busy_cycles_per_frame"];
  EXPECT_EQ(vp_busy(p.vp, "fft_unit"), b["fft"].get<double>()) << what;
  EXPECT_EQ(vp_busy(p.vp, "emac_array"), b["emac"].get<double>()) << what;
  EXPECT_EQ(vp_busy(p.vp, "ifft_unit"), b["ifft"].get<double>()) << what;
  EXPECT_EQ(vp_busy(p.vp, "activation_unit"), b["activation"].get<double>()) << what;
  EXPECT_EQ(vp_busy(p.vp, "cell_update"), b["cell"].get<double>()) << what;
}

}  // namespace

TEST(EstimateVsVp, ClstmKu060Fft8) {
  const Pair p = run_both("clstm-ku060-fft8", "lstmp8", {}, "fft8");
  expect_agree(p, 0.02, "clstm-ku060-fft8");
  expect_same_busy(p, "clstm-ku060-fft8");
  // Hand derivation of the estimate (preset: FFT 4 lanes, 2 cycles/stage + 2 I/O; EW-MAC 80 lanes, 2 banks, 3 + 2
  // drain; 16-lane activation (+4) and cell update (+6); tiles of 32 blocks, 2 chunks = 16 rows, 128 cells):
  //   gates [W_x|W_r]: p = 4*1024/8 = 512 rows, q = 20 + 64 = 84 blocks, 5 bins.
  //     FFT tiles 32, 32, 20 blocks: (8 + 3*2 + 2) + 16 + (5 + 8) = 45.
  //     32 MAC tiles of 16*84*5 = 6720 cMACs: 84 + 5 = 89 each; IFFT 4 + 8 = 12 each: 32*89 + 12 = 2860.
  //   projection: p = 64, q = 128: FFT 4 * 16 = 64; 4 MAC tiles of 10240 cMACs: 128 + 5 = 133: 4*133 + 12 = 544.
  //   output (dense, k = 1): p = 39, q = 512: FFT 16 tiles of 32: 16 * (8 + 2) = 160;
  //     MAC tiles of 16, 16, 7 rows: 108 + 108 + 50 (+ the last IFFT, ceil(7/4) + 2 = 4) = 270.
  //   cells: 8 tiles, activation ceil(3*128/16) + 4 = 28, cell update 128/16 + 6 = 14: 8*28 + 14 = 238.
  //   DMA: 306 input bytes (5 BL8 bursts: 16 + 20 DDR clocks = 30 ns -> 6 cycles), 78 output bytes
  //     (16 + 8 clocks = 20 ns -> 4 cycles).
  //   45 + 2860 + 64 + 544 + 160 + 270 + 238 + 6 + 4 = 4191.
  EXPECT_EQ(p.est["cycles_per_frame"], 4191);
  EXPECT_EQ(p.est["bottleneck"], "emac");
}

TEST(EstimateVsVp, ClstmKu060Fft16) {
  const Pair p = run_both("clstm-ku060-fft16", "lstmp16", {}, "fft16");
  expect_agree(p, 0.02, "clstm-ku060-fft16");
  expect_same_busy(p, "clstm-ku060-fft16");
}

TEST(EstimateVsVp, Ernn7v3Lstm) {
  const Pair p = run_both("ernn-7v3-lstm", "lstmp8", {}, "ernn7v3");
  expect_agree(p, 0.02, "ernn-7v3-lstm");
  expect_same_busy(p, "ernn-7v3-lstm");
}

TEST(EstimateVsVp, ErnnKu060Gru) {
  const Pair p = run_both("ernn-ku060-gru", "gru8", {}, "ernngru");
  expect_agree(p, 0.02, "ernn-ku060-gru");
  expect_same_busy(p, "ernn-ku060-gru");
}

TEST(EstimateVsVp, KoiosClstmSmall) {
  const Pair p = run_both("koios-clstm-small", "lstmp16", {}, "koios");
  expect_agree(p, 0.02, "koios-clstm-small");
  expect_same_busy(p, "koios-clstm-small");
  // 18-bit weights are stored in 32-bit words: twice the 16-bit preset's 530 KiB.
  EXPECT_EQ(p.est["weight_bytes"], 2 * 530 * 1024);
}

TEST(EstimateVsVp, KoiosClstmMediumAndLarge) {
  for (const char* name : {"koios-clstm-medium", "koios-clstm-large"}) {
    const Pair p = run_both(name, "lstmp16", {}, name);
    expect_agree(p, 0.02, name);
    expect_same_busy(p, name);
  }
}

// The Koios small preset with the lanes a pool of complex MACs (no passes), 144 lanes and tiles of 2 chunks.
const std::vector<std::string> kKoiosPool = {"dataflow.rows_per_pass=0",        "dataflow.spectrum_per_pass=0",
                                             "dataflow.overlap_cells=0",        "dataflow.projection_first_pass=0",
                                             "emac.lanes=144",                  "tiling.emac_chunks=2",
                                             "tiling.cells=128"};
std::vector<std::string> with(std::vector<std::string> v, const std::string& more) {
  v.push_back(more);
  return v;
}

// The EW-MAC's block initiation interval (emac.block_ii): a MAC tile takes ceil(cmacs / lanes) * block_ii + 5
// cycles (mult_latency 3 + add_latency 2), so going from 1 to 2 adds each tile's issue term once:
//   busy(2) - busy(1) = sum over tiles of ceil(cmacs / lanes) = busy(1) - 5 * tiles,
// with ceil(ceil(p / 8) / 2) tiles per matvec (tiling.emac_chunks = 2). The VP's busy cycles are the estimate's.
TEST(EstimateVsVp, EmacBlockInitiationInterval) {
  const Pair one = run_both("koios-clstm-small", "lstmp16", with(kKoiosPool, "emac.block_ii=1"), "koios-ii1");
  const Pair two = run_both("koios-clstm-small", "lstmp16", with(kKoiosPool, "emac.block_ii=2"), "koios-ii2");
  expect_agree(two, 0.02, "koios-clstm-small, emac.block_ii=2");
  expect_same_busy(two, "koios-clstm-small, emac.block_ii=2");
  double tiles = 0;
  for (const json& m : one.est["matvecs"]) tiles += std::ceil(std::ceil(m["p"].get<double>() / 8) / 2);
  const double b1 = vp_busy(one.vp, "emac_array"), b2 = vp_busy(two.vp, "emac_array");
  EXPECT_EQ(b2 - b1, b1 - 5 * tiles);
  EXPECT_EQ(tiles, 21);  // gates 256 rows: 16 tiles; projection 32: 2; output 39 classes: 3
}

// Layer 0 (one RTL time step) of a steady frame, and its first output, on the Koios presets (docs/perf.md,
// "Koios"). LSTMP 153-1024-512 at k = 16: the gates are 256 block rows (64 per gate) over q = 10 + 32 = 42 blocks,
// the projection 32 rows over 64 blocks. Passes of q blocks every block_ii = 2 cycles: 84 for the gates, 128 for
// the projection; each tile's depth 3 + 2 (multiplier, adder) + 12 (the replayed DFT: 4 stages x 2 + 4) = 17; the
// IFFT takes a pass's R rows in ceil(R / 4) + 12; the FFT phase costs nothing (replayed in the passes). The cells
// follow the passes (a cell tile is one pass's cells: activation ceil(3 * cells / lanes) + 32, cell update
// ceil(cells / lanes) + 6, each well inside a pass's 84 cycles), and the projection's first pass runs as m arrives:
// after the last cells, its first piece takes one block (2) + 17, then its other passes 128 each.
//   small (1 row of each gate per pass, 16 lanes, tiles of 16 cells):
//     gates 64 x 84 + 17 = 5,393; IFFT of the last pass's 4 rows 13; its cells 35 + 7 -> 5,448; projection's
//     first piece 19 and IFFT 13 -> first output 5,480; 31 x 128 more and the last row's IFFT 13   step 9,448
//   medium (2 rows, 32 lanes, tiles of 32): 32 x 84 + 17 = 2,705; IFFT of 8 rows 14; 35 + 7 -> 2,761; 19 + 13 ->
//     first output 2,793; 15 x 128 + 13                                                        step 4,713
//   large (3 rows, 48 lanes, tiles of 48): ceil(64 / 3) = 22 passes, 22 x 84 + 17 = 1,865; the last pass has one
//     row of each gate, 13; the last tile's 16 cells 33 + 7 -> 1,918; 19 + 13 -> first output 1,950;
//     ceil(32 / 3) = 11 passes: 10 x 128 more, and the IFFT of the last 2 rows 13                  step 3,230
TEST(Koios, StepAndFirstOutputCyclesAreTheDerivedOnes) {
  const struct {
    const char* preset;
    double step, first;
  } cases[] = {{"koios-clstm-small", 9448, 5480}, {"koios-clstm-medium", 4713, 2793}, {"koios-clstm-large", 3230, 1950}};
  for (const auto& c : cases) {
    const Pair p = run_both(c.preset, "lstmp16", {}, std::string(c.preset) + "-step");
    ASSERT_FALSE(p.vp.is_null());
    const json& l0 = p.vp["layers"][0];
    EXPECT_EQ(l0["last_frame_cycles"].get<double>(), c.step) << c.preset;
    EXPECT_EQ(l0["first_output_cycles"].get<double>(), c.first) << c.preset;
    EXPECT_EQ(l0["cycles"].get<double>(), kFrames * c.step) << c.preset << ": every frame the same";
    if (std::string(c.preset) == "koios-clstm-small") {
      // Against the RTL simulated (9,479 cycles per step; 5,509 from the first input write to the first output):
      // within 2 % (10 % is required, 2 % the goal).
      EXPECT_LE(std::fabs(l0["last_frame_cycles"].get<double>() - 9479.0), 0.02 * 9479.0);
      EXPECT_LE(std::fabs(l0["first_output_cycles"].get<double>() - 5509.0), 0.02 * 5509.0);
    }
  }
}

// Each dataflow option moves the units' busy cycles by exactly its formula, on the Koios small preset (per frame;
// the dense output layer keeps the lane pool and does not move):
//   rows_per_pass 1 -> 2: gates 64 -> 32 passes of 84, projection 32 -> 16 passes of 128: EW-MAC -2,688 - 2,048
//   gates_per_pass 4 -> 1: the gates' 64 passes become 256: EW-MAC +192 x 84 = +16,128
//   spectrum_per_pass 1 -> 0: the FFT phase is charged again, one tile per matvec (tiling.fft_blocks 64): gates
//     ceil(42 / 4) + 12 = 23, projection 64 / 4 + 12 = 28: FFT +51; each of the 2 pass-mode tiles loses the DFT's
//     depth: EW-MAC -24 (the pass rate stays block_ii = 2 > fft.ii = 1)
//   projection_first_pass 1 -> 0: the projection's first pass costs its 64 blocks again, not 1: EW-MAC +126, and
//     layer 0's step +126
//   overlap_cells 1 -> 0: the 64 cell tiles run after the gates, 64 x 35 + 7 = 2,247 instead of the last tile's
//     35 + 7 = 42: layer 0's step +2,205, busy cycles unchanged
const Pair& koios_small() {
  static const Pair p = run_both("koios-clstm-small", "lstmp16", {}, "df-base");
  return p;
}

void expect_moved(const Pair& p, const char* unit, double by, const std::string& what) {
  EXPECT_EQ(vp_busy(p.vp, unit) - vp_busy(koios_small().vp, unit), by) << what << ": " << unit;
  expect_same_busy(p, what);
  expect_agree(p, 0.02, what);
}

TEST(Dataflow, RowsPerPass) {
  const Pair p = run_both("koios-clstm-small", "lstmp16", {"dataflow.rows_per_pass=2"}, "df-rows2");
  expect_moved(p, "emac_array", -2688 - 2048, "rows_per_pass=2");
  expect_moved(p, "fft_unit", 0, "rows_per_pass=2");
}

TEST(Dataflow, GatesPerPass) {
  const Pair p = run_both("koios-clstm-small", "lstmp16", {"dataflow.gates_per_pass=1"}, "df-seq");
  expect_moved(p, "emac_array", 16128, "gates_per_pass=1");
}

double step(const Pair& p) { return p.vp["layers"][0]["last_frame_cycles"].get<double>(); }

TEST(Dataflow, ProjectionFirstPass) {
  const Pair p = run_both("koios-clstm-small", "lstmp16", {"dataflow.projection_first_pass=0"}, "df-pfp");
  expect_moved(p, "emac_array", 126, "projection_first_pass=0");
  EXPECT_EQ(step(p) - step(koios_small()), 126);
}

TEST(Dataflow, OverlapCells) {
  const Pair p = run_both("koios-clstm-small", "lstmp16", {"dataflow.overlap_cells=0"}, "df-overlap");
  expect_moved(p, "activation_unit", 0, "overlap_cells=0");
  expect_moved(p, "emac_array", 0, "overlap_cells=0");
  EXPECT_EQ(step(p) - step(koios_small()), 2205);
}

TEST(Dataflow, SpectrumPerPass) {
  const Pair p = run_both("koios-clstm-small", "lstmp16", {"dataflow.spectrum_per_pass=0"}, "df-once");
  expect_moved(p, "fft_unit", 51, "spectrum_per_pass=0");
  expect_moved(p, "emac_array", -24, "spectrum_per_pass=0");
}

// Weights streamed from DDR every frame (no weight buffer): the estimate takes each tile's fetch as one DMA that
// opens one DDR row; the VP's bank model sees the rows the addresses really open. docs/perf.md gives the measured
// gaps (within 1.6 % on the presets); here they are bounded at 2 %.
TEST(EstimateVsVp, StreamedWeights) {
  for (const char* name : {"clstm-ku060-fft8", "koios-clstm-small"}) {
    const std::string model = std::string(name) == "clstm-ku060-fft8" ? "lstmp8" : "lstmp16";
    std::vector<std::string> o = {"buffer.weight_kib=0"};
    if (model == "lstmp16") o.insert(o.end(), kKoiosPool.begin(), kKoiosPool.end());
    const Pair p = run_both(name, model, o, std::string(name) + "-stream");
    ASSERT_FALSE(p.est.is_null());
    EXPECT_FALSE(p.est["weights_on_chip"].get<bool>());
    expect_agree(p, 0.02, std::string(name) + " streamed");
    // The fetches are most of the frame: the estimate must see them (weight_stream on its critical path).
    EXPECT_GT(p.est["critical_path"]["weight_stream"].get<double>(), 0.5 * p.est["cycles_per_frame"].get<double>());
  }
}

// Records whose sizes are whole DDR bursts (160 inputs and 32 classes: 320 and 64 bytes) keep every transfer
// burst-aligned, and then the estimate is exact, not just within 2 %. The 153-input presets above differ by the one
// extra burst an unaligned record touches (docs/perf.md).
TEST(EstimateVsVp, AlignedRecordsAreExact) {
  const std::string& d = work_dir();
  auto r = run_circa({"model", "synth", "--arch", "lstmp", "--input-dim", "160", "--cell-dim", "256", "--proj-dim",
                      "128", "--block", "8", "--classes", "32", "-o", d + "/aligned.safetensors"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = run_circa({"features", "synth", "--utts", "1", "--frames", std::to_string(kFrames), "--dim", "160", "--seed", "7",
                 "-o", d + "/aligned.ark"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = run_circa({"run", "--config", preset("clstm-ku060-fft8"), "--model", d + "/aligned.safetensors", "--features",
                 d + "/aligned.ark", "--report", d + "/aligned.json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto e =
      run_circa({"estimate", "--config", preset("clstm-ku060-fft8"), "--model", d + "/aligned.safetensors", "--json"});
  ASSERT_EQ(e.exit_code, 0) << e.err;
  const json vp = json::parse(slurp(d + "/aligned.json")), est = json::parse(e.out);
  // gates: p = 128, q = 20 + 16 = 36: FFT (8 + 8) + (1 + 8) = 25; 8 MAC tiles of 16*36*5 = 2880 cMACs: 36 + 5 = 41,
  //   + the last IFFT (4 + 8): 8*41 + 12 = 340.
  // projection: p = 16, q = 32: FFT 16; 1 MAC tile of 2560 cMACs: 32 + 5 = 37, + 12 = 49.
  // output: p = 32, q = 128: FFT 4 * (8 + 2) = 40; 2 MAC tiles of 16*128 = 2048 cMACs: 26 + 5 = 31, + IFFT
  //   4 + 2 = 6: 31 + 31 + 6 = 68.
  // cells: 2 tiles: 2*28 + 14 = 70. DMA: 320 bytes (16 + 20 clocks = 30 ns: 6) + 64 bytes (16 + 4 = 20 clocks:
  //   16.7 ns -> 4). 25 + 340 + 16 + 49 + 40 + 68 + 70 + 6 + 4 = 618.
  EXPECT_EQ(est["cycles_per_frame"], 618);
  EXPECT_EQ(vp["device"]["latency_cycles"]["p50"].get<double>(), 618.0);

  // One-deep channels between the units: the EW-MAC still computes tile t+1 while the IFFT does tile t, so
  // nothing changes. (The controller used to wait for the IFFT's result before refilling the EW-MAC's channel,
  // which cost every MAC tile its IFFT time: 722 cycles here.)
  r = run_circa({"run", "--config", preset("clstm-ku060-fft8"), "--model", d + "/aligned.safetensors", "--features",
                 d + "/aligned.ark", "--report", d + "/aligned1.json", "--tiling.fifo_depth=1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(json::parse(slurp(d + "/aligned1.json"))["device"]["latency_cycles"]["p50"].get<double>(), 618.0);
}

TEST(EstimateCli, BadInputIsOneLineAndExitCode2) {
  const std::string& d = work_dir();
  const std::string m = d + "/lstmp8.safetensors";
  auto one_line = [](const std::string& s) { return !s.empty() && s.find('\n') == s.size() - 1; };
  auto r = run_circa({"estimate", "--config", d + "/missing.ini", "--model", m});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(one_line(r.err)) << r.err;
  EXPECT_NE(r.err.find("missing.ini"), std::string::npos) << r.err;

  r = run_circa({"estimate", "--config", preset("clstm-ku060-fft8"), "--model", d + "/feats.ark"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(one_line(r.err)) << r.err;
  EXPECT_NE(r.err.find("feats.ark"), std::string::npos) << r.err;

  r = run_circa({"estimate", "--config", preset("clstm-ku060-fft8"), "--model", m, "--device", "nosuchfpga"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("nosuchfpga.ini"), std::string::npos) << r.err;

  {
    std::ofstream bad(d + "/bad-device.ini");
    bad << "name = x\ndsp = lots\n";
  }
  r = run_circa({"estimate", "--model", m, "--device", d + "/bad-device.ini"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(one_line(r.err)) << r.err;
  EXPECT_NE(r.err.find("bad-device.ini: line 2"), std::string::npos) << r.err;
  // Device files are read as strictly as configs: whole resource counts, plain watts, no sections, no duplicates.
  const std::vector<std::pair<std::string, std::string>> bad_devices = {
      {"name = x\ndsp = 0x10\nbram36 = 1\nlut = 1\n", "line 2: dsp: '0x10' is not a whole number in 1..1000000000"},
      {"name = x\ndsp = 2760.5\nbram36 = 1\nlut = 1\n", "line 2: dsp: '2760.5' is not a whole number"},
      {"name = x\ndsp = 1\nbram36 = 1\nlut = 1\nstatic_w = inf\n", "line 5: static_w: 'inf' is not a power in watts"},
      {"name = x\ndsp = 1\nbram36 = 1\nlut = 1\nstatic_w = 1e3\n", "line 5: static_w: '1e3' is not a power"},
      {"[fpga]\nname = x\n", "line 2: unknown key 'fpga.name' (device files have no sections)"},
      {"name = x\nname = y\n", "line 2: duplicate key 'name' (first on line 1)"},
      {"name = x\ndsp 5\n", "line 2: expected 'key = value' or '[section]', got 'dsp 5'"},
      {"name = x\ndsp = 1\nbram36 = 1\n", "missing key 'lut'"},
  };
  for (std::size_t i = 0; i < bad_devices.size(); ++i) {
    const std::string f = d + "/bad-device-" + std::to_string(i) + ".ini";
    std::ofstream(f) << bad_devices[i].first;
    r = run_circa({"estimate", "--model", m, "--device", f});
    EXPECT_EQ(r.exit_code, 2) << bad_devices[i].first;
    EXPECT_TRUE(one_line(r.err)) << r.err;
    EXPECT_NE(r.err.find(bad_devices[i].second), std::string::npos) << bad_devices[i].first << "\n" << r.err;
  }

  {
    std::ofstream bad(d + "/bad-preset.ini");
    bad << "[emac]\nlanes = 0\n";
  }
  r = run_circa({"estimate", "--config", d + "/bad-preset.ini", "--model", m});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("bad-preset.ini: line 2"), std::string::npos) << r.err;

  // A model the configuration's limits refuse.
  r = run_circa({"estimate", "--config", preset("clstm-ku060-fft8"), "--model", m, "--limits.max_dim=512"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("limits.max_dim"), std::string::npos) << r.err;
}

TEST(EstimateCli, DeviceFitAndMisfit) {
  const std::string m = work_dir() + "/lstmp8.safetensors";
  auto r =
      run_circa({"estimate", "--config", preset("clstm-ku060-fft8"), "--model", m, "--device", "xcku060", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json j = json::parse(r.out);
  EXPECT_TRUE(j["device"]["fits"].get<bool>());
  EXPECT_EQ(j["device"]["dsp"], 2760);
  // 1024 lanes x 4 DSPs alone is 4096 DSPs: more than the KU060's 2760.
  r = run_circa(
      {"estimate", "--config", preset("clstm-ku060-fft8"), "--model", m, "--device", "xcku060", "--emac.lanes=1024"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("DOES NOT FIT"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("DSP: needs"), std::string::npos) << r.out;
}

// The DSP-bound floor, for the design's own multiplies per complex MAC and for 4. The Google LSTMP at block 8 has
// 256,000 circulant cMACs per frame (4 x 1024/8 rows x (20 + 64) input blocks x 5 bins + 64 x 128 x 5 for the
// projection = 215,040 + 40,960), on the KU060's 2,760 DSPs at 200 MHz: 256,000 x 3 / 552,000 = 1.391 us with
// Gauss's 3 multiplies, 256,000 x 4 / 552,000 = 1.855 us with 4.
TEST(EstimateCli, DspFloorForTheDesignsMultipliesAndForFour) {
  const std::string m = work_dir() + "/lstmp8.safetensors";
  auto r = run_circa({"estimate", "--config", preset("clstm-ku060-fft8"), "--model", m, "--device", "xcku060",
                      "--emac.dsp_per_cmac=3", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json f = json::parse(r.out)["dsp_floor"];
  EXPECT_EQ(f["complex_macs"], 256000);
  EXPECT_EQ(f["dsps"], 2760);
  EXPECT_EQ(f["dsps_from"], "device");
  EXPECT_EQ(f["design_multiplies_per_cmac"], 3);
  EXPECT_NEAR(f["us_per_frame_design_multiplies"].get<double>(), 256000.0 * 3 / 552000, 1e-12);
  EXPECT_NEAR(f["us_per_frame_4_multiplies"].get<double>(), 256000.0 * 4 / 552000, 1e-12);
  r = run_circa({"estimate", "--config", preset("clstm-ku060-fft8"), "--model", m, "--device", "xcku060",
                 "--emac.dsp_per_cmac=3"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("DSP-bound floor, 3 multiplies per cMAC (the design's own): 256,000 cMACs x 3 / (2,760 DSP x "
                       "200 MHz) = 1.391 us/frame"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("DSP-bound floor, 4 multiplies per cMAC (the direct product): 256,000 cMACs x 4 / (2,760 DSP "
                       "x 200 MHz) = 1.855 us/frame"),
            std::string::npos)
      << r.out;
  // A design at 4 multiplies per cMAC has one floor; without a device it is taken over the design's own DSPs.
  r = run_circa({"estimate", "--config", preset("clstm-ku060-fft8"), "--model", m, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json g = json::parse(r.out);
  EXPECT_EQ(g["dsp_floor"]["dsps_from"], "design");
  EXPECT_EQ(g["dsp_floor"]["dsps"], g["resources"]["dsp"]);
  EXPECT_EQ(g["dsp_floor"]["us_per_frame_design_multiplies"], g["dsp_floor"]["us_per_frame_4_multiplies"]);
}

// The dataflow keys: out-of-range values and pass options without passes are one-line errors naming the key (and
// the file and line when they come from an INI), exit code 2.
TEST(Dataflow, BadValuesAreOneLineErrors) {
  const std::string& d = work_dir();
  const std::string m = d + "/lstmp8.safetensors";
  auto expect_bad = [&](const std::vector<std::string>& extra, const std::vector<std::string>& needles) {
    std::vector<std::string> args = {"estimate", "--model", m};
    args.insert(args.end(), extra.begin(), extra.end());
    const auto r = run_circa(args);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    for (const std::string& n : needles) EXPECT_NE(r.err.find(n), std::string::npos) << r.err;
  };
  expect_bad({"--dataflow.rows_per_pass=65"}, {"dataflow.rows_per_pass", "0..64"});
  expect_bad({"--dataflow.gates_per_pass=0"}, {"dataflow.gates_per_pass", "1..4"});
  expect_bad({"--dataflow.spectrum_per_pass=2"}, {"dataflow.spectrum_per_pass", "0..1"});
  for (const char* k : {"spectrum_per_pass", "overlap_cells", "projection_first_pass"})
    expect_bad({std::string("--dataflow.") + k + "=1"}, {std::string("dataflow.") + k, "set dataflow.rows_per_pass"});
  {
    std::ofstream ini(d + "/no-passes.ini");
    ini << "[clock]\nmhz = 200\n\n[dataflow]\noverlap_cells = 1\n";
  }
  expect_bad({"--config", d + "/no-passes.ini"}, {"no-passes.ini: line 5", "dataflow.overlap_cells"});
}
