// The circa CLI as a user meets it: exit codes (0 ok, 2 bad input/usage, 1 internal), one-line errors naming the
// file and position, nothing partial written, the embedded default found from anywhere.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/platform/cli_runner.hpp"

namespace fs = std::filesystem;
using circa_test::fresh_dir;
using circa_test::run_circa;
using circa_test::slurp;

namespace {

int lines(const std::string& s) { return static_cast<int>(std::count(s.begin(), s.end(), '\n')); }

// stderr without the note AddressSanitizer prints (once per process, three lines) the first time an exception is
// thrown after SystemC has switched coroutine stacks, which ASan's stack bounds do not follow: it is the sanitizer
// runtime's output, not circa's, and only the sanitizer build has it.
std::string without_sanitizer_notes(const std::string& err) {
  std::istringstream in(err);
  std::string out, line;
  int skip = 0;
  while (std::getline(in, line)) {
    if (line.rfind("==", 0) == 0 && line.find("ASan is ignoring requested __asan_handle_no_return") != std::string::npos)
      skip = 3;
    if (skip > 0) {
      --skip;
      continue;
    }
    out += line + '\n';
  }
  return out;
}

// A bad-input failure: exit 2, exactly one line on stderr, which names `needle`.
void expect_input_error(const circa_test::CliResult& r, const std::string& needle) {
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_EQ(lines(without_sanitizer_notes(r.err)), 1) << r.err;
  EXPECT_NE(r.err.find(needle), std::string::npos) << "stderr: " << r.err;
}

const std::string kDefaultModel = std::string(CIRCA_SOURCE_DIR) + "/models/default.safetensors";

}  // namespace

TEST(Cli, NoArgumentsPrintsUsageAndExits2) {
  auto r = run_circa({});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.out.find("usage: circa"), std::string::npos);
}

TEST(Cli, UnknownCommandIsAUsageError) { expect_input_error(run_circa({"frobnicate"}), "frobnicate"); }

TEST(Cli, VersionNamesSystemC) {
  auto r = run_circa({"version"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("SystemC 2.3"), std::string::npos) << r.out;
  EXPECT_EQ(r.err, "");  // no banner
}

TEST(CliModel, InfoOnTheDefaultModel) {
  auto r = run_circa({"model", "info", kDefaultModel});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("arch:        lstmp, 2 layers"), std::string::npos) << r.out;
  // scripts/make-default's recipe: 153 -> 256 cells -> 128 projection, block 8 everywhere.
  EXPECT_NE(r.out.find("input 153, cell 256, projection 128, classes 39"), std::string::npos) << r.out;
  // Layer 0: w_x is 4*256 = 1024 rows over 153 inputs, ceil(153/8) = 20 block columns of k = 8.
  EXPECT_NE(r.out.find("w_x 1024x153 as 128x20 blocks, k=8"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("weights at:  12 bits"), std::string::npos) << r.out;
  EXPECT_EQ(r.err, "");
}

TEST(CliModel, InfoRejectsMissingAndGarbageFiles) {
  std::string d = fresh_dir("info_bad");
  expect_input_error(run_circa({"model", "info", d + "/absent.safetensors"}), d + "/absent.safetensors");
  std::ofstream(d + "/garbage.safetensors") << "this is not a model";
  expect_input_error(run_circa({"model", "info", d + "/garbage.safetensors"}), d + "/garbage.safetensors");
  expect_input_error(run_circa({"model", "info"}), "model");
  expect_input_error(run_circa({"model", "explain"}), "explain");
}

TEST(CliModel, SynthIsDeterministicAndSeedSensitive) {
  std::string d = fresh_dir("synth");
  std::vector<std::string> base = {"model", "synth", "--input-dim", "40", "--cell-dim", "32", "--proj-dim", "16",
                                   "--layers", "2", "--block", "8,4", "--classes", "39"};
  auto a = base, b = base, c = base;
  a.insert(a.end(), {"--seed", "7", "-o", d + "/a.safetensors"});
  b.insert(b.end(), {"--seed", "7", "-o", d + "/b.safetensors"});
  c.insert(c.end(), {"--seed", "8", "-o", d + "/c.safetensors"});
  ASSERT_EQ(run_circa(a).exit_code, 0);
  ASSERT_EQ(run_circa(b).exit_code, 0);
  ASSERT_EQ(run_circa(c).exit_code, 0);
  EXPECT_EQ(slurp(d + "/a.safetensors"), slurp(d + "/b.safetensors"));
  EXPECT_NE(slurp(d + "/a.safetensors"), slurp(d + "/c.safetensors"));
  auto info = run_circa({"model", "info", d + "/a.safetensors"});
  ASSERT_EQ(info.exit_code, 0) << info.err;
  // Per-layer blocks: layer 0 k = 8, layer 1 k = 4 (layer 1's input is the 16-wide projection: 4 blocks of 4).
  EXPECT_NE(info.out.find("w_x 128x40 as 16x5 blocks, k=8"), std::string::npos) << info.out;
  EXPECT_NE(info.out.find("w_x 128x16 as 32x4 blocks, k=4"), std::string::npos) << info.out;
}

TEST(CliModel, SynthGru) {
  std::string d = fresh_dir("synth_gru");
  auto r = run_circa({"model", "synth", "--arch", "gru", "--input-dim", "20", "--cell-dim", "16", "--block", "4",
                      "-o", d + "/g.safetensors"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto info = run_circa({"model", "info", d + "/g.safetensors"});
  EXPECT_NE(info.out.find("arch:        gru, 1 layer"), std::string::npos) << info.out;
  EXPECT_NE(info.out.find("hidden 16, projection 0 (none)"), std::string::npos) << info.out;
}

TEST(CliModel, SynthRejectsBadValuesAndWritesNothing) {
  std::string d = fresh_dir("synth_bad");
  std::string out = d + "/m.safetensors";
  expect_input_error(run_circa({"model", "synth", "--block", "3", "-o", out}), "3");
  expect_input_error(run_circa({"model", "synth", "--block", "8,x", "-o", out}), "--block");
  expect_input_error(run_circa({"model", "synth", "--arch", "rnn", "-o", out}), "rnn");
  expect_input_error(run_circa({"model", "synth", "--cell-dim", "12", "--block", "8", "-o", out}), "12");
  expect_input_error(run_circa({"model", "synth", "--cell-dim", "abc", "-o", out}), "cell-dim");
  expect_input_error(run_circa({"model", "synth", "--bogus", "-o", out}), "bogus");
  expect_input_error(run_circa({"model", "synth"}), "output");
  expect_input_error(run_circa({"model", "synth", "-o", d + "/no/such/dir/m.safetensors"}), "no/such/dir");
  EXPECT_TRUE(fs::is_empty(d));  // no partial or temporary file left behind
}

TEST(CliFeatures, InfoOnTheBundledUtterances) {
  auto r = run_circa({"features", "info", std::string(CIRCA_SOURCE_DIR) + "/data/test.scp"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("dims:        153"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("utterances:  "), std::string::npos) << r.out;
}

TEST(CliFeatures, InfoRejectsBadFiles) {
  std::string d = fresh_dir("feat_bad");
  expect_input_error(run_circa({"features", "info", d + "/none.ark"}), d + "/none.ark");
  std::ofstream(d + "/junk.ark", std::ios::binary) << "utt1 \0BFM \4";
  expect_input_error(run_circa({"features", "info", d + "/junk.ark"}), d + "/junk.ark");
}

TEST(CliFeatures, SynthWritesArkAndScpDeterministically) {
  std::string d = fresh_dir("feat_synth");
  auto r1 = run_circa({"features", "synth", "--utts", "3", "--frames", "5", "--dim", "7", "--seed", "2", "-o",
                       d + "/a.ark"});
  ASSERT_EQ(r1.exit_code, 0) << r1.err;
  auto r2 = run_circa({"features", "synth", "--utts", "3", "--frames", "5", "--dim", "7", "--seed", "2", "-o",
                       d + "/b.ark"});
  ASSERT_EQ(r2.exit_code, 0) << r2.err;
  EXPECT_EQ(slurp(d + "/a.ark"), slurp(d + "/b.ark"));
  ASSERT_TRUE(fs::exists(d + "/a.scp"));
  auto info = run_circa({"features", "info", d + "/a.scp"});
  EXPECT_NE(info.out.find("utterances:  3"), std::string::npos) << info.out;
  EXPECT_NE(info.out.find("frames:      15"), std::string::npos) << info.out;
  EXPECT_NE(info.out.find("dims:        7"), std::string::npos) << info.out;
}

// --- circa run: every option validated before any work -------------------------------------------------------

TEST(CliRun, RejectsBadOptionValues) {
  std::string d = fresh_dir("run_bad");
  expect_input_error(run_circa({"run", "--precision", "double"}), "double");
  expect_input_error(run_circa({"run", "--precision", "float"}), "--functional");
  expect_input_error(run_circa({"run", "--model", d + "/none.safetensors"}), d + "/none.safetensors");
  expect_input_error(run_circa({"run", "--features", d + "/none.scp"}), d + "/none.scp");
  expect_input_error(run_circa({"run", "--config", d + "/none.ini"}), d + "/none.ini");
  expect_input_error(run_circa({"run", "--out", d + "/missing/out.ark"}), "missing");
  expect_input_error(run_circa({"run", "--out", d + "/o", "--out-format", "csv"}), "csv");
  expect_input_error(run_circa({"run", "--quux"}), "quux");
  expect_input_error(run_circa({"run", "--numerics.rounding=sideways"}), "sideways");
  expect_input_error(run_circa({"run", "--numerics.weight", "Q20.20"}), "Q20.20");
  expect_input_error(run_circa({"run", "--nosuch.key=1"}), "nosuch.key");
  EXPECT_TRUE(fs::is_empty(d));
}

TEST(CliRun, ConfigErrorsNameTheLine) {
  std::string d = fresh_dir("run_ini");
  std::ofstream(d + "/a.ini") << "[numerics]\nrounding = half_up\nbits_of_magic = 3\n";
  expect_input_error(run_circa({"run", "--config", d + "/a.ini"}), d + "/a.ini: line 3");
  std::ofstream(d + "/b.ini") << "[numerics\n";
  expect_input_error(run_circa({"run", "--config", d + "/b.ini"}), d + "/b.ini: line 1");
  std::ofstream(d + "/c.ini") << "[numerics]\nrounding = half_up\nrounding = half_even\n";
  expect_input_error(run_circa({"run", "--config", d + "/c.ini"}), d + "/c.ini: line 3");
  std::ofstream(d + "/e.ini") << "[activation]\nlut_entries = many\n";
  expect_input_error(run_circa({"run", "--config", d + "/e.ini"}), d + "/e.ini: line 2");
  std::ofstream(d + "/f.ini") << "[numerics]\nweight = Q1.30\n";
  expect_input_error(run_circa({"run", "--config", d + "/f.ini"}), d + "/f.ini: line 2");
  // A check across keys that fails on a default names the file and says the value is the default (it used to
  // name an option that was never given).
  std::ofstream(d + "/g.ini") << "[ddr]\nbus_bytes = 8\nburst_length = 6\n";
  expect_input_error(run_circa({"run", "--config", d + "/g.ini"}),
                     d + "/g.ini: ddr.page_bytes: must be a multiple of bus_bytes * burst_length = 48, got '8192' "
                         "(the default)");
  std::ofstream(d + "/h.ini") << "[ddr]\nburst_length = 9\n";
  expect_input_error(run_circa({"run", "--config", d + "/h.ini"}), d + "/h.ini: line 2: ddr.burst_length: must be even");
}

TEST(CliRun, FeatureDimensionMustMatchTheModel) {
  std::string d = fresh_dir("run_dim");
  ASSERT_EQ(run_circa({"features", "synth", "--utts", "2", "--frames", "4", "--dim", "10", "-o", d + "/f.ark"})
                .exit_code,
            0);
  expect_input_error(run_circa({"run", "--features", d + "/f.scp"}), "153");
}

TEST(CliRun, FindsTheEmbeddedDefaultFromAnotherFolder) {
  std::string d = fresh_dir("elsewhere");
  auto r = run_circa({"features", "info", std::string(CIRCA_SOURCE_DIR) + "/data/test.scp"}, d);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  // run with no model/features must locate models/default.safetensors from the executable's location.
  auto run = run_circa({"run", "--help"}, d);
  EXPECT_EQ(run.exit_code, 0) << run.err;
  auto bad = run_circa({"run", "--precision", "x"}, d);
  EXPECT_EQ(bad.exit_code, 2);
}

// --- circa run --functional ---------------------------------------------------------------------------------

#include "core/alignment.hpp"
#include "core/kaldi_io.hpp"
#include "core/model.hpp"
#include "core/npy.hpp"
#include "core/per.hpp"
#include "tests/dense_reference.hpp"

namespace {

double max_abs_diff(const circa::Matrix& a, const circa::Matrix& b) {
  EXPECT_EQ(a.rows, b.rows);
  EXPECT_EQ(a.cols, b.cols);
  double d = 0;
  for (std::size_t i = 0; i < a.data.size() && i < b.data.size(); ++i)
    d = std::max(d, std::abs(double(a.data[i]) - b.data[i]));
  return d;
}

// Synthesises a model and features with the CLI, runs --functional --precision float, and compares every
// utterance with the dense Eigen reference.
void float_run_matches_dense(const std::string& name, const std::vector<std::string>& synth_args, int dim) {
  std::string d = fresh_dir(name);
  std::vector<std::string> s = {"model", "synth"};
  s.insert(s.end(), synth_args.begin(), synth_args.end());
  s.insert(s.end(), {"-o", d + "/m.safetensors"});
  ASSERT_EQ(run_circa(s).exit_code, 0);
  ASSERT_EQ(run_circa({"features", "synth", "--utts", "3", "--frames", "17", "--dim", std::to_string(dim), "--seed",
                       "4", "-o", d + "/f.ark"})
                .exit_code,
            0);
  auto r = run_circa({"run", "--functional", "--precision", "float", "--model", d + "/m.safetensors", "--features",
                      d + "/f.scp", "--out", d + "/o.ark"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  circa::Model m = circa::load_model(d + "/m.safetensors");
  auto feats = circa::load_scp(d + "/f.scp");
  auto outs = circa::read_ark(d + "/o.ark");
  ASSERT_EQ(outs.size(), 3u);
  for (std::size_t u = 0; u < 3; ++u) {
    EXPECT_EQ(outs[u].key, feats[u].key);
    const double diff = max_abs_diff(outs[u].mat, circa_test::dense_reference(m, feats[u].mat));
    EXPECT_LE(diff, 1e-5) << name << " utterance " << u;
  }
}

}  // namespace

TEST(CliRunFunctional, FloatLstmpMatchesDenseReference) {
  float_run_matches_dense("func_lstmp",
                          {"--input-dim", "45", "--cell-dim", "32", "--proj-dim", "16", "--layers", "2", "--block",
                           "8,4", "--seed", "5"},
                          45);
}

TEST(CliRunFunctional, FloatGruMatchesDenseReference) {
  float_run_matches_dense("func_gru",
                          {"--arch", "gru", "--input-dim", "30", "--cell-dim", "32", "--layers", "2", "--block",
                           "16,8", "--seed", "6"},
                          30);
}

TEST(CliRunFunctional, FixedIsDeterministicAndNpyMatchesArk) {
  std::string d = fresh_dir("func_fixed");
  ASSERT_EQ(run_circa({"run", "--functional", "--out", d + "/a.ark"}).exit_code, 0);
  ASSERT_EQ(run_circa({"run", "--functional", "--out", d + "/b.ark"}).exit_code, 0);
  EXPECT_EQ(slurp(d + "/a.ark"), slurp(d + "/b.ark"));
  auto r = run_circa({"run", "--functional", "--out", d + "/npy"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto ark = circa::read_ark(d + "/a.ark");
  for (const auto& u : ark) {
    circa::Matrix m = circa::read_npy(d + "/npy/" + u.key + ".npy");
    EXPECT_EQ(m.data, u.mat.data) << u.key;
  }
  // A config override changes the numbers (the numerics really come from the config).
  ASSERT_EQ(run_circa({"run", "--functional", "--out", d + "/c.ark", "--activation.mode=pwl"}).exit_code, 0);
  EXPECT_NE(slurp(d + "/a.ark"), slurp(d + "/c.ark"));
}

TEST(CliRunFunctional, LabelsGivePerAndFrameError) {
  std::string d = fresh_dir("func_labels");
  // Labels: every frame of every bundled utterance labelled with a fixed pattern of phones.
  auto feats = circa::load_scp(std::string(CIRCA_SOURCE_DIR) + "/data/test.scp");
  const auto& phones = circa::timit39_phones();
  {
    std::ofstream ali(d + "/a.ali");
    for (const auto& u : feats) {
      ali << u.key;
      for (std::size_t t = 0; t < u.mat.rows; ++t) ali << " " << phones[(t / 7) % 5];
      ali << "\n";
    }
  }
  auto r = run_circa({"run", "--functional", "--labels", d + "/a.ali", "--out", d + "/o.ark"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // Recompute from the written posteriors: the printed figures must agree.
  auto outs = circa::read_ark(d + "/o.ark");
  auto ali = circa::read_alignment(d + "/a.ali", phones);
  circa::ErrorCounts e;
  for (std::size_t u = 0; u < outs.size(); ++u) e += circa::score_utterance(outs[u].mat, ali[u].phones, 0);
  char per[64];
  std::snprintf(per, sizeof per, "PER: %.2f%%", e.per_pct());
  EXPECT_NE(r.out.find(per), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("frame error: "), std::string::npos) << r.out;
  // An alignment one frame short names the utterance.
  {
    std::ofstream bad(d + "/short.ali");
    for (const auto& u : feats) {
      bad << u.key;
      for (std::size_t t = 0; t + (u.key == feats[1].key ? 1 : 0) < u.mat.rows; ++t) bad << " sil";
      bad << "\n";
    }
  }
  expect_input_error(run_circa({"run", "--functional", "--labels", d + "/short.ali"}), feats[1].key);
}

// --- circa run on the virtual platform ----------------------------------------------------------------------------

namespace {

std::string cycles_line(const std::string& out) {
  const auto at = out.find("cycles in all");
  if (at == std::string::npos) return "";
  const auto start = out.rfind('\n', at);
  return out.substr(start + 1, at - start - 1);
}

// `circa run --out` and `circa run --functional --precision fixed --out` with the same config: identical bytes.
void expect_vp_bit_exact(const std::string& d, const std::string& model, const std::string& feats,
                         const std::vector<std::string>& extra = {}) {
  std::vector<std::string> vp = {"run", "--model", model, "--features", feats, "--out", d + "/vp.ark"};
  std::vector<std::string> fn = {"run", "--functional", "--precision", "fixed", "--model", model,
                                 "--features", feats, "--out", d + "/fn.ark"};
  vp.insert(vp.end(), extra.begin(), extra.end());
  fn.insert(fn.end(), extra.begin(), extra.end());
  auto a = run_circa(vp);
  ASSERT_EQ(a.exit_code, 0) << a.err;
  auto b = run_circa(fn);
  ASSERT_EQ(b.exit_code, 0) << b.err;
  const std::string x = slurp(d + "/vp.ark"), y = slurp(d + "/fn.ark");
  EXPECT_FALSE(x.empty());
  EXPECT_EQ(x, y) << model;
}

}  // namespace

TEST(CliRunVp, BundledModelIsBitExact) {
  std::string d = fresh_dir("vp_bundled");
  expect_vp_bit_exact(d, kDefaultModel, std::string(CIRCA_SOURCE_DIR) + "/data/test.scp");
}

TEST(CliRunVp, GruIsBitExact) {
  std::string d = fresh_dir("vp_gru");
  ASSERT_EQ(run_circa({"model", "synth", "--arch", "gru", "--input-dim", "30", "--cell-dim", "64", "--layers", "2",
                       "--block", "16,8", "-o", d + "/g.safetensors"})
                .exit_code,
            0);
  ASSERT_EQ(run_circa({"features", "synth", "--utts", "2", "--frames", "15", "--dim", "30", "-o", d + "/f.ark"})
                .exit_code,
            0);
  expect_vp_bit_exact(d, d + "/g.safetensors", d + "/f.scp");
}

TEST(CliRunVp, TwoLayerLstmpWithMixedBlockSizesIsBitExact) {
  std::string d = fresh_dir("vp_mixed");
  // Layer 0: W_x k = 8, W_r k = 4 (separate accumulations), W_proj k = 8; layer 1: k = 4 throughout.
  circa::SynthSpec s;
  s.input_dim = 45;
  s.cell_dim = 64;
  s.proj_dim = 32;
  s.layers = 2;
  s.block = {8, 4};
  circa::Model m = circa::synth_model(s);
  s.block = {4, 4};
  m.layers[0].w_r = circa::synth_model(s).layers[0].w_r;
  circa::save_model(m, d + "/m.safetensors");
  ASSERT_EQ(run_circa({"features", "synth", "--utts", "2", "--frames", "20", "--dim", "45", "-o", d + "/f.ark"})
                .exit_code,
            0);
  expect_vp_bit_exact(d, d + "/m.safetensors", d + "/f.scp");
}

TEST(CliRunVp, ModelTooLargeForTheBufferStreamsItsWeightsBitExactly) {
  std::string d = fresh_dir("vp_stream");
  // The bundled model packs to 70 KiB; a 16 KiB weight buffer forces streaming.
  expect_vp_bit_exact(d, kDefaultModel, std::string(CIRCA_SOURCE_DIR) + "/data/test.scp",
                      {"--buffer.weight_kib=16"});
  auto r = run_circa({"run", "--buffer.weight_kib=16"});
  EXPECT_NE(r.out.find("weights streamed from DDR"), std::string::npos) << r.out;
  auto on = run_circa({"run"});
  EXPECT_NE(on.out.find("weights on chip"), std::string::npos) << on.out;
}

// A configuration whose on-chip buffers cannot hold the model's job: the device ends the job with BUFFER, and the
// CLI turns that into bad input: one line naming the buffer and the key to raise, exit code 2, no output written.
TEST(CliRunVp, BuffersTooSmallForTheModelAreBadInput) {
  const std::string d = fresh_dir("vp_small_buffer");
  auto st = run_circa({"run", "--buffer.state_kib=1", "--out", d + "/o.ark"});
  expect_input_error(st, "buffer.state_kib");
  EXPECT_NE(st.err.find("the state buffer (1024 bytes) cannot hold"), std::string::npos) << st.err;
  EXPECT_FALSE(std::filesystem::exists(d + "/o.ark"));
  auto slots = run_circa({"run", "--buffer.weight_kib=0", "--buffer.weight_slots_kib=1", "--out", d + "/o.ark"});
  expect_input_error(slots, "buffer.weight_slots_kib");
  EXPECT_FALSE(std::filesystem::exists(d + "/o.ark"));
}

TEST(CliRunVp, DeviceCyclesDoNotDependOnTheQuantum) {
  std::vector<std::string> lines;
  std::vector<std::string> outs;
  std::string d = fresh_dir("vp_quantum");
  for (const char* q : {"10", "1000", "100000"}) {
    auto r = run_circa({"run", std::string("--platform.quantum_ns=") + q, "--out", d + "/q" + q + ".ark"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    lines.push_back(cycles_line(r.out));
    outs.push_back(slurp(d + "/q" + q + ".ark"));
  }
  ASSERT_FALSE(lines[0].empty());
  EXPECT_EQ(lines[0], lines[1]);
  EXPECT_EQ(lines[0], lines[2]);
  EXPECT_EQ(outs[0], outs[1]);
  EXPECT_EQ(outs[0], outs[2]);
}

TEST(CliRunVp, NoArgumentsRunsTheBundledDefaultQuickly) {
  const auto t0 = std::chrono::steady_clock::now();
  auto r = run_circa({"run"});
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_LT(s, 60.0);
  EXPECT_NE(r.out.find("cycles/frame"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("frames/s"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("saturations:"), std::string::npos) << r.out;
}

// The bundled run prints what its 8-or-so utterances stand for: the same model on the whole test split
// (data/bundled.json, written by scripts/make-default). A malformed file is bad input, not a crash.
TEST(CliRunVp, TheBundledRunPrintsTheTestSplitFigureBesideItsOwn) {
  auto r = run_circa({"run"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto per = r.out.find("\nPER: ");
  const auto note = r.out.find("  on the whole test split (336 utterances, 11629 phones) this model scores PER ");
  ASSERT_NE(per, std::string::npos) << r.out;
  ASSERT_NE(note, std::string::npos) << r.out;
  EXPECT_LT(per, note);
  EXPECT_NE(r.out.find(" bundled utterances are "), std::string::npos) << r.out;
  // Not with other features: the note is about the bundled ones.
  r = run_circa({"run", "--features", std::string(CIRCA_SOURCE_DIR) + "/data/test.scp", "--labels",
                 std::string(CIRCA_SOURCE_DIR) + "/data/test.ali"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.find("whole test split"), std::string::npos) << r.out;

  const fs::path home = fresh_dir("bundled_home");
  for (const char* f : {"models/default.safetensors", "data/test.ark", "data/test.scp", "data/test.ali",
                        "platform/configs/default.ini"}) {
    fs::create_directories((home / f).parent_path());
    fs::copy_file(fs::path(CIRCA_SOURCE_DIR) / f, home / f);
  }
  const std::string env = "CIRCA_HOME=" + home.string();
  for (const char* bad : {"{\"utterances\": 8", "{\"utterances\": 8, \"rule\": 3}",
                          "{\"utterances\": 8, \"rule\": \"r\", \"per_pct\": 20, \"test_split\": {}}"}) {
    std::ofstream(home / "data" / "bundled.json") << bad;
    expect_input_error(run_circa({"run"}, "", {env}), "bundled.json");
  }
}

TEST(CliMisc, RegistersAndFeatureSynthRejectBadArguments) {
  auto r = run_circa({"registers"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("| `STATUS` |"), std::string::npos) << r.out.substr(0, 500);
  expect_input_error(run_circa({"registers", "--html"}), "registers");
  std::string d = fresh_dir("fsynth_bad");
  expect_input_error(run_circa({"features", "synth", "--utts", "0", "-o", d + "/a.ark"}), "--utts");
  expect_input_error(run_circa({"features", "synth", "--dim", "0", "-o", d + "/a.ark"}), "--dim");
  expect_input_error(run_circa({"features", "synth", "-o", d + "/a.txt"}), ".ark");
  expect_input_error(run_circa({"features", "synth", "--frames", "x", "-o", d + "/a.ark"}), "frames");
  EXPECT_TRUE(fs::is_empty(d));
}
