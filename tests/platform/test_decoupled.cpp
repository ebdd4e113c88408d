// Decoupled waves (sc_models/accel_decoupled.cpp) against the units' own SystemC processes (`--lockstep`): the
// controller's schedule of a wave and the processes' waits are two implementations of the same timing rules, so on
// every configuration below both must give the same outputs, the same report (every cycle, stall and counter: only
// the host's wall clock may differ) and the same register accesses with their simulated times. The configurations
// are chosen to reach every rule: one and two unit chains, queue depths 1 to 4, buffer ports that slow tiles down,
// second units slower than the first (back-pressure),
// pass mode with its pieces (the Koios presets), a replayed spectrum, two stream groups side by side, streamed
// weights (their EW-MAC waves stay in lockstep, the others decouple), live input with a ring, and GRU cells.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "tests/platform/cli_runner.hpp"

using circa_test::fresh_dir;
using circa_test::run_circa;
using circa_test::slurp;
using nlohmann::json;

namespace {

struct Models {
  std::string dir, lstmp, wide, k16, gru, one, four;
};

const Models& models() {
  static const Models m = [] {
    Models x;
    x.dir = fresh_dir("decoupled_models");
    x.lstmp = x.dir + "/lstmp.safetensors";
    x.wide = x.dir + "/wide.safetensors";
    x.k16 = x.dir + "/k16.safetensors";
    x.gru = x.dir + "/gru.safetensors";
    x.one = x.dir + "/one.ark";
    x.four = x.dir + "/four.ark";
    const std::vector<std::vector<std::string>> cmds = {
        {"model", "synth", "--arch", "lstmp", "--input-dim", "153", "--cell-dim", "256", "--proj-dim", "128",
         "--layers", "2", "--block", "8", "--classes", "39", "--seed", "2", "-o", x.lstmp},
        {"model", "synth", "--arch", "lstmp", "--input-dim", "153", "--cell-dim", "1024", "--proj-dim", "512",
         "--layers", "1", "--block", "8", "--classes", "39", "--seed", "1", "-o", x.wide},
        {"model", "synth", "--arch", "lstmp", "--input-dim", "153", "--cell-dim", "1024", "--proj-dim", "512",
         "--layers", "1", "--block", "16", "--classes", "39", "--seed", "1", "-o", x.k16},
        {"model", "synth", "--arch", "gru", "--input-dim", "153", "--cell-dim", "256", "--proj-dim", "0",
         "--layers", "2", "--block", "8", "--classes", "39", "--seed", "3", "-o", x.gru},
        {"features", "synth", "--utts", "1", "--frames", "12", "--dim", "153", "--seed", "7", "-o", x.one},
        {"features", "synth", "--utts", "4", "--frames", "6", "--dim", "153", "--seed", "8", "-o", x.four},
    };
    for (const auto& c : cmds) {
      auto r = run_circa(c);
      EXPECT_EQ(r.exit_code, 0) << r.err;
    }
    return x;
  }();
  return m;
}

struct RunResult {
  std::string ark, mmio, out;
  json report;
};

RunResult run(const std::string& dir, const std::string& name, std::vector<std::string> args) {
  const std::string base = dir + "/" + name;
  std::vector<std::string> a = {"run", "--out", base + ".ark", "--report", base + ".json", "--mmio-log", base + ".mmio"};
  a.insert(a.end(), args.begin(), args.end());
  auto r = run_circa(a);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  RunResult x;
  x.ark = slurp(base + ".ark");
  x.mmio = slurp(base + ".mmio");
  x.report = json::parse(slurp(base + ".json"));
  // What is printed, but for the host's time and the files' names.
  std::istringstream in(r.out);
  for (std::string line; std::getline(in, line);)
    if (line.find("host:") == std::string::npos && line.find("wrote") == std::string::npos) x.out += line + "\n";
  return x;
}

struct Case {
  const char* name;
  std::vector<std::string> args;  // {model} and {one}/{four} are filled in
  bool all_decoupled;             // every wave decouples (no streamed weights, no cells waiting for passes)
};

std::vector<std::string> fill(const std::vector<std::string>& args) {
  const Models& m = models();
  std::vector<std::string> out;
  for (const std::string& a : args)
    out.push_back(a == "{lstmp}" ? m.lstmp : a == "{wide}" ? m.wide : a == "{k16}" ? m.k16 : a == "{gru}" ? m.gru
                  : a == "{one}" ? m.one : a == "{four}" ? m.four : a);
  return out;
}

std::string config(const char* name) { return std::string(CIRCA_SOURCE_DIR) + "/platform/configs/" + name; }

class Decoupled : public ::testing::TestWithParam<Case> {};

TEST_P(Decoupled, GivesWhatTheUnitsProcessesGive) {
  const Case& c = GetParam();
  const std::string d = fresh_dir(std::string("decoupled_") + c.name);
  std::vector<std::string> args = fill(c.args);
  for (std::string& a : args)
    if (a.rfind("@", 0) == 0) a = config(a.c_str() + 1);
  RunResult fast = run(d, "fast", args);
  args.push_back("--lockstep");
  RunResult ref = run(d, "lockstep", args);
  ASSERT_FALSE(ref.ark.empty());
  EXPECT_EQ(fast.ark, ref.ark);
  EXPECT_EQ(fast.mmio, ref.mmio);
  EXPECT_EQ(fast.out, ref.out);
  // Both ran as they say: the reference never decoupled; the other did, every wave or some.
  const json& wf = fast.report["wall_clock"];
  const json& wr = ref.report["wall_clock"];
  EXPECT_EQ(wr["decoupled_waves"].get<std::uint64_t>(), 0u);
  EXPECT_EQ(wf["waves"], wr["waves"]);
  ASSERT_GT(wf["decoupled_waves"].get<std::uint64_t>(), 0u);
  // Every configuration runs several steps: their decoupled waves after the first step's follow the schedules kept
  // from the step before (so the comparison with the processes covers those too).
  EXPECT_EQ(wr["replayed_waves"].get<std::uint64_t>(), 0u);
  EXPECT_GT(wf["replayed_waves"].get<std::uint64_t>(), 0u);
  if (c.all_decoupled)
    EXPECT_EQ(wf["decoupled_waves"], wf["waves"]);
  else
    EXPECT_LT(wf["decoupled_waves"].get<std::uint64_t>(), wf["waves"].get<std::uint64_t>());
  fast.report.erase("wall_clock");
  ref.report.erase("wall_clock");
  EXPECT_EQ(fast.report.dump(1), ref.report.dump(1));

  // With a waveform, the controller writes the units' signals at their times: the same VCD, but for its $date.
  auto vcd = [&](const std::string& name, bool lockstep) {
    std::vector<std::string> v = args;
    if (!lockstep) v.pop_back();
    for (const char* a : {"--vcd", "", "--trace", "tiles"}) v.push_back(a);
    v[v.size() - 3] = d + "/" + name + ".vcd";
    auto r = run_circa([&] {
      std::vector<std::string> a = {"run"};
      a.insert(a.end(), v.begin(), v.end());
      return a;
    }());
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::string text = slurp(d + "/" + name + ".vcd");
    const std::size_t b = text.find("$date"), e = text.find("$end", b);
    if (b != std::string::npos && e != std::string::npos) text.erase(b, e - b);
    return text;
  };
  const std::string wf_fast = vcd("fast", false), wf_ref = vcd("lockstep", true);
  ASSERT_GT(wf_ref.size(), 1000u);
  EXPECT_TRUE(wf_fast == wf_ref) << "the waveforms differ";
}

INSTANTIATE_TEST_SUITE_P(
    Configs, Decoupled,
    ::testing::Values(
        Case{"default", {"--model", "{wide}", "--features", "{one}"}, true},
        Case{"two_layers", {"--model", "{lstmp}", "--features", "{four}"}, true},
        Case{"gru", {"--model", "{gru}", "--features", "{four}", "--config", "@ernn-ku060-gru.ini"}, true},
        Case{"fft8", {"--model", "{lstmp}", "--features", "{four}", "--config", "@clstm-ku060-fft8.ini"}, true},
        Case{"fft16_three_streams",
             {"--model", "{lstmp}", "--features", "{four}", "--config", "@clstm-ku060-fft16.ini", "--streams", "3"},
             true},
        Case{"two_streams", {"--model", "{lstmp}", "--features", "{four}", "--streams", "2"}, true},
        Case{"depth1_ports",
             {"--model", "{lstmp}", "--features", "{four}", "--tiling.fifo_depth=1", "--buffer.psum_ports=1",
              "--buffer.gates_ports=2"},
             true},
        Case{"depth4_small_tiles",
             {"--model", "{wide}", "--features", "{one}", "--tiling.fifo_depth=4", "--tiling.fft_blocks=4",
              "--tiling.emac_chunks=1", "--tiling.cells=32", "--buffer.spectrum_ports=1"},
             true},
        // The second unit of each chain slower than the first: both queues fill and hold the first unit back.
        Case{"backpressure",
             {"--model", "{lstmp}", "--features", "{four}", "--fft.lanes=1", "--emac.lanes=512", "--cell.lanes=2",
              "--tiling.cells=16", "--tiling.fifo_depth=1"},
             true},
        Case{"streamed_weights",
             {"--model", "{lstmp}", "--features", "{four}", "--streams", "3", "--buffer.weight_kib=16"}, false},
        Case{"live_ring",
             {"--model", "{lstmp}", "--features", "{four}", "--frame-period", "1ms", "--ring-frames", "4",
              "--streams", "2"},
             true},
        // The cells take each pass's gate sums as they leave the IFFT: one piece readies one cell tile.
        Case{"koios_small", {"--model", "{k16}", "--features", "{four}", "--config", "@koios-clstm-small.ini"}, true},
        Case{"koios_medium", {"--model", "{k16}", "--features", "{one}", "--config", "@koios-clstm-medium.ini"}, true},
        // Cell tiles smaller than a piece's cells: one piece readies two tiles, and that wave keeps the processes.
        Case{"koios_small_cells8",
             {"--model", "{k16}", "--features", "{four}", "--config", "@koios-clstm-small.ini", "--tiling.cells=8"},
             false},
        Case{"koios_large_two_streams",
             {"--model", "{k16}", "--features", "{four}", "--config", "@koios-clstm-large.ini", "--streams", "2"},
             true},
        Case{"koios_pool_streamed",
             {"--model", "{k16}", "--features", "{four}", "--config", "@koios-clstm-small.ini",
              "--dataflow.rows_per_pass=0", "--dataflow.spectrum_per_pass=0", "--dataflow.overlap_cells=0",
              "--dataflow.projection_first_pass=0", "--buffer.weight_kib=64", "--tiling.emac_chunks=2"},
             false}),
    [](const ::testing::TestParamInfo<Case>& i) { return std::string(i.param.name); });

}  // namespace
