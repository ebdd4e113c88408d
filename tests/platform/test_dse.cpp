// circa dse through the CLI: a direct sweep and the same sweep as a job list (emit, run every line with xargs,
// collect) give the same dse.csv; missing and failed points are named; bad input is one line, exit code 2, and
// nothing written. Tiny synthetic models and 3 frames keep every point to a fraction of a second.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "core/model.hpp"
#include "tests/platform/cli_runner.hpp"

namespace fs = std::filesystem;
using circa_test::fresh_dir;
using circa_test::run_circa;
using circa_test::slurp;

namespace {

const std::string kConfig = std::string(CIRCA_SOURCE_DIR) + "/platform/configs/default.ini";

// 2 models x 2 x 2 = 8 points.
std::vector<std::string> tiny_sweep(const std::string& out) {
  return {"dse",
          "--config",
          kConfig,
          "--synth-blocks",
          "4,8",
          "--input-dim",
          "40",
          "--cell-dim",
          "64",
          "--proj-dim",
          "32",
          "--frames",
          "3",
          "--sweep",
          "fft.lanes=1,2",
          "--sweep",
          "emac.lanes=16,32",
          "--device",
          "xcku060",
          "--no-plots",
          "--out",
          out};
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

bool starts(const std::string& s, const std::string& prefix) {
  return s.rfind(prefix, 0) == 0;
}

std::vector<std::string> with(std::vector<std::string> a, const std::vector<std::string>& more) {
  a.insert(a.end(), more.begin(), more.end());
  return a;
}

TEST(Dse, JobListRoundTripEqualsDirectRun) {
  const std::string root = fresh_dir("dse_roundtrip");
  const std::string direct = root + "/direct", jobs_dir = root + "/jobs";

  auto d = run_circa(with(tiny_sweep(direct), {"--jobs", "2"}));
  ASSERT_EQ(d.exit_code, 0) << d.out << d.err;
  const std::string csv = slurp(direct + "/dse.csv");
  const auto rows = lines(csv);
  ASSERT_EQ(rows.size(), 9u) << csv;
  EXPECT_EQ(rows[0],
            "point,model,block,fft.lanes,emac.lanes,status,vp_cycles_per_frame,vp_first_frame_cycles,"
            "est_cycles_per_frame,est_vs_vp_pct,us_per_frame,frames_per_s,dense_gops,dsp,bram36,lut,fits,pareto,"
            "energy_uj_per_frame,power_w,bottleneck,per,per_source,error");
  EXPECT_TRUE(starts(rows[1], "p0001,synth-k4,4,1,16,ok,")) << rows[1];
  EXPECT_TRUE(starts(rows[8], "p0008,synth-k8,8,2,32,ok,")) << rows[8];
  EXPECT_NE(d.out.find("best design that fits xcku060:"), std::string::npos) << d.out;
  EXPECT_NE(d.out.find("DSP-bound floor"), std::string::npos) << d.out;

  const std::string jobs = jobs_dir + "/jobs.txt";
  auto e = run_circa(with(tiny_sweep(jobs_dir), {"--emit-jobs", jobs}));
  ASSERT_EQ(e.exit_code, 0) << e.out << e.err;
  ASSERT_EQ(lines(slurp(jobs)).size(), 8u);
  EXPECT_FALSE(fs::exists(jobs_dir + "/dse.csv"));
  EXPECT_NE(e.out.find("sbatch --array=1-8"), std::string::npos) << e.out;

  // Nothing has run yet: every point is reported missing, none dropped.
  auto c0 = run_circa({"dse", "--collect", jobs_dir, "--no-plots"});
  EXPECT_EQ(c0.exit_code, 1) << c0.out << c0.err;
  EXPECT_NE(c0.out.find("8 points: 0 ok, 0 failed, 8 missing"), std::string::npos) << c0.out;
  EXPECT_NE(c0.out.find("p0005 missing (synth-k8 fft.lanes=1 emac.lanes=16)"), std::string::npos) << c0.out;

  const std::string cmd = "xargs -d '\\n' -P 2 -I{} sh -c {} < " + jobs;
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  auto c = run_circa({"dse", "--collect", jobs_dir, "--no-plots"});
  ASSERT_EQ(c.exit_code, 0) << c.out << c.err;
  EXPECT_EQ(slurp(jobs_dir + "/dse.csv"), csv);
  EXPECT_NE(c.out.find("8 points: 8 ok, 0 failed, 0 missing"), std::string::npos) << c.out;

  // A point whose run left no report is failed, with the last line its log gave.
  fs::remove(jobs_dir + "/points/p0003.json");
  std::ofstream(jobs_dir + "/points/p0003.log") << "circa: something went wrong\n";
  auto c2 = run_circa({"dse", "--collect", jobs_dir, "--no-plots"});
  EXPECT_EQ(c2.exit_code, 1);
  EXPECT_NE(c2.out.find("p0003 failed (synth-k4 fft.lanes=2 emac.lanes=16): circa: something went wrong"),
            std::string::npos)
      << c2.out;
  EXPECT_NE(slurp(jobs_dir + "/dse.csv").find("p0003,synth-k4,4,2,16,failed,"), std::string::npos);
}

// --streams runs every point with that many utterances interleaved: the cycles per frame are a step's over its
// frames, and two streams one stage apart must beat one (the EW-MAC of one overlaps the other's FFT and cells).
TEST(Dse, StreamsGiveCyclesPerFrameOfInterleavedUtterances) {
  const std::string root = fresh_dir("dse_streams");
  auto cpf = [&](const std::string& dir, const std::vector<std::string>& extra) {
    std::vector<std::string> a = {"dse", "--config", kConfig, "--synth-blocks", "8", "--input-dim", "40",
                                  "--cell-dim", "64", "--proj-dim", "32", "--frames", "6", "--sweep", "emac.lanes=16",
                                  "--no-plots", "--out", root + "/" + dir};
    a.insert(a.end(), extra.begin(), extra.end());
    auto r = run_circa(a);
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    const auto rows = lines(slurp(root + "/" + dir + "/dse.csv"));
    EXPECT_EQ(rows.size(), 2u);
    if (rows.size() != 2) return 0.0;
    std::vector<std::string> cols;
    std::istringstream in(rows[1]);
    for (std::string c; std::getline(in, c, ',');) cols.push_back(c);
    return std::stod(cols.at(5));  // point,model,block,emac.lanes,status,vp_cycles_per_frame
  };
  const double one = cpf("one", {}), two = cpf("two", {"--streams", "2"});
  EXPECT_GT(one, 0.0);
  EXPECT_LT(two, one);
  EXPECT_NE(slurp(root + "/two/dse-jobs.json").find("\"streams\": 2"), std::string::npos);
  EXPECT_EQ(run_circa({"dse", "--config", kConfig, "--synth-blocks", "8", "--streams", "17", "--out", root + "/bad"})
                .exit_code,
            2);
}

TEST(Dse, PerFromOptionAndPlots) {
  const std::string dir = fresh_dir("dse_per");
  for (const char* k : {"4", "8"}) {
    auto s = run_circa({"model", "synth", "--input-dim", "40", "--cell-dim", "64", "--proj-dim", "32", "--block", k,
                        "-o", dir + "/b" + k + ".safetensors"});
    ASSERT_EQ(s.exit_code, 0) << s.err;
  }
  // b8 carries its PER in its metadata, as scripts/train writes it; b4's comes from --per.
  circa::Model b8 = circa::load_model(dir + "/b8.safetensors");
  b8.extra_metadata["training"] = R"({"method": "admm", "dev_per": 23.0, "train_utts": 10})";
  circa::save_model(b8, dir + "/b8.safetensors");
  // Model names as given (relative to the working folder) go into the CSV.
  auto r =
      run_circa({"dse", "--config", kConfig, "--models", "b4.safetensors,b8.safetensors", "--per",
                 "b4.safetensors=21.5", "--frames", "2", "--sweep", "emac.lanes=32", "--out", "out", "--jobs", "2"},
                dir);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const auto rows = lines(slurp(dir + "/out/dse.csv"));
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_TRUE(starts(rows[1], "p0001,b4.safetensors,4,32,ok,")) << rows[1];
  EXPECT_EQ(rows[1].substr(rows[1].size() - 13), ",21.50,given,") << rows[1];
  EXPECT_EQ(rows[2].substr(rows[2].size() - 16), ",23.00,metadata,") << rows[2];
  EXPECT_NE(r.out.find("(no --device: fit not checked)"), std::string::npos) << r.out;
  // Plots, or the one line saying why there are none.
  const bool plotted = fs::exists(dir + "/out/dse-latency-dsp.png") && fs::exists(dir + "/out/dse-per-latency.png");
  EXPECT_TRUE(plotted || r.out.find("no plots: matplotlib is not installed") != std::string::npos) << r.out;
}

// With labelled utterances, every point's PER is measured with that point's configuration: a sweep over the
// activation format gives different PERs, none of them the model's metadata PER (16.57, its training record's dev
// PER), each equal to what `circa run --functional --precision fixed` prints with that format. Q8.8 (the default),
// Q6.6 and Q5.5 give 21.84, 22.78 and 25.32 % on the bundled utterances.
TEST(Dse, PerIsMeasuredPerPointWithLabels) {
  const std::string dir = fresh_dir("dse_per_measured");
  const std::string src = CIRCA_SOURCE_DIR;
  const std::string model = src + "/models/default.safetensors", feats = src + "/data/test.scp",
                    labels = src + "/data/test.ali";
  const std::vector<std::string> formats = {"Q8.8", "Q6.6", "Q5.5"};
  auto r = run_circa({"dse", "--config", kConfig, "--models", model, "--per-features", feats, "--per-labels", labels,
                      "--frames", "2", "--sweep", "numerics.activation=Q8.8,Q6.6,Q5.5", "--sweep", "emac.lanes=32,64",
                      "--no-plots", "--out", dir + "/out", "--jobs", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const auto rows = lines(slurp(dir + "/out/dse.csv"));
  ASSERT_EQ(rows.size(), 7u);
  std::vector<std::string> head;
  {
    std::istringstream in(rows[0]);
    for (std::string c; std::getline(in, c, ',');) head.push_back(c);
  }
  const auto col = [&](const std::string& name) {
    return static_cast<std::size_t>(std::find(head.begin(), head.end(), name) - head.begin());
  };
  std::map<std::string, std::string> per_of_format;
  for (std::size_t i = 1; i < rows.size(); ++i) {
    std::vector<std::string> c;
    std::istringstream in(rows[i]);
    for (std::string v; std::getline(in, v, ',');) c.push_back(v);
    ASSERT_GT(c.size(), col("per_source")) << rows[i];
    EXPECT_EQ(c[col("per_source")], "measured") << rows[i];
    const std::string fmt = c[col("numerics.activation")], per = c[col("per")];
    // The timing key does not change the PER.
    if (per_of_format.count(fmt)) {
      EXPECT_EQ(per_of_format[fmt], per) << rows[i];
    }
    per_of_format[fmt] = per;
  }
  ASSERT_EQ(per_of_format.size(), 3u);
  std::set<std::string> distinct;
  for (const std::string& f : formats) {
    const std::string per = per_of_format[f];
    distinct.insert(per);
    EXPECT_NE(per, "16.57") << f;
    auto g = run_circa({"run", "--functional", "--precision", "fixed", "--config", kConfig, "--model", model,
                        "--features", feats, "--labels", labels, "--numerics.activation=" + f});
    ASSERT_EQ(g.exit_code, 0) << g.err;
    EXPECT_NE(g.out.find("PER: " + per + "%"), std::string::npos) << f << ": dse says " << per << "\n" << g.out;
  }
  EXPECT_EQ(distinct.size(), 3u);

  // Without labels the same sweep takes the model's metadata PER, and says so.
  auto m = run_circa({"dse", "--config", kConfig, "--models", model, "--frames", "2", "--sweep",
                      "numerics.activation=Q8.8,Q6.6", "--no-plots", "--out", dir + "/meta", "--jobs", "2"});
  ASSERT_EQ(m.exit_code, 0) << m.out << m.err;
  for (const std::string& row : lines(slurp(dir + "/meta/dse.csv")))
    if (!starts(row, "point,")) {
      EXPECT_NE(row.find(",16.57,metadata,"), std::string::npos) << row;
    }
}

// A point whose circa run rejects its input (exit 2) makes the sweep exit 2 and names the point; any other failure
// exits 1. The points here run from an emitted job list after the features they read were broken, as on a node where
// the shared folder holds something else than when the sweep was planned.
TEST(Dse, ExitCodeTwoForAPointsBadInputOneForOtherFailures) {
  const std::string root = fresh_dir("dse_exit");
  const std::string out = root + "/out", jobs = root + "/jobs.txt";
  auto e = run_circa(with(tiny_sweep(out), {"--emit-jobs", jobs}));
  ASSERT_EQ(e.exit_code, 0) << e.out << e.err;
  std::ofstream(out + "/features/in40.ark") << "utt1 [ 1 2 x ]\n";
  const std::string cmd = "xargs -d '\\n' -P 2 -I{} sh -c {} < " + jobs + " 2>/dev/null";
  EXPECT_NE(std::system(cmd.c_str()), 0) << cmd;  // the job lines keep their circa run's exit code
  EXPECT_EQ(slurp(out + "/points/p0001.exit"), "2\n");
  auto c = run_circa({"dse", "--collect", out, "--no-plots"});
  EXPECT_EQ(c.exit_code, 2) << c.out << c.err;
  EXPECT_NE(c.err.find("circa dse: point p0001 (synth-k4 fft.lanes=1 emac.lanes=16): bad input: circa: " + out +
                       "/features/in40.ark: line 1: utterance 'utt1': 'x' is not a number"),
            std::string::npos)
      << c.err;
  EXPECT_EQ(lines(c.err).size(), 8u) << c.err;  // one line per point
  EXPECT_TRUE(fs::exists(out + "/dse.csv"));

  // The same points failing any other way (here, an exit code of 1 recorded beside their log) give exit 1.
  for (int i = 1; i <= 8; ++i) std::ofstream(out + "/points/p000" + std::to_string(i) + ".exit") << "1\n";
  auto c1 = run_circa({"dse", "--collect", out, "--no-plots"});
  EXPECT_EQ(c1.exit_code, 1) << c1.out << c1.err;
  EXPECT_NE(c1.out.find("8 points: 0 ok, 8 failed, 0 missing"), std::string::npos) << c1.out;
}

std::string src_data(const std::string& name) { return std::string(CIRCA_SOURCE_DIR) + "/data/" + name; }
std::string src_model() { return std::string(CIRCA_SOURCE_DIR) + "/models/default.safetensors"; }

struct BadCase {
  std::vector<std::string> args;  // replace or extend the tiny sweep
  std::string message;
};

TEST(Dse, BadInputIsOneLineExit2AndWritesNothing) {
  const std::string root = fresh_dir("dse_bad");
  const std::string file = root + "/a-file";
  std::ofstream(file) << "x";
  auto base = [&](const std::string& out) {
    return std::vector<std::string>{"dse", "--config",   kConfig, "--synth-blocks", "4",  "--input-dim",
                                    "40",  "--cell-dim", "64",    "--proj-dim",     "32", "--out",
                                    out};
  };
  const std::string out = root + "/out";
  const std::vector<BadCase> cases = {
      {with(base(out), {"--sweep", "emac.lane=16,32"}), "--sweep emac.lane=16,32: unknown hardware key 'emac.lane'"},
      {with(base(out), {"--sweep", "emac.lanes=16,,32"}), "--sweep emac.lanes=16,,32: an empty value in the list"},
      {with(base(out), {"--sweep", "emac.lanes=16,abc"}),
       "--sweep emac.lanes=16,abc: option --emac.lanes: 'abc' is not an integer"},
      {with(base(out), {"--sweep", "emac.lanes=16,16"}), "value 16 is listed twice"},
      {with(base(out), {"--sweep", "emac.lanes"}), "--sweep emac.lanes: expected section.key=V1,V2"},
      {with(base(out), {"--sweep", "fft.lanes=0,2"}), "--sweep fft.lanes=0,2: option --fft.lanes"},
      {{"dse", "--config", kConfig, "--models", root + "/missing.safetensors", "--out", out},
       root + "/missing.safetensors"},
      {{"dse", "--config", kConfig, "--synth-blocks", "4", "--out", file + "/sub"}, "is not a folder"},
      {{"dse", "--config", kConfig, "--synth-blocks", "4", "--out", file}, "exists and is not a folder"},
      {with(base(out), {"--synth-blocks", "3"}), "--synth-blocks"},
      {with(base(out), {"--per", "nothere.safetensors=20"}), "nothere.safetensors is not among the models"},
      {with(base(out), {"--device", "nosuchfpga"}), "nosuchfpga"},
      {with(base(out), {"--frames", "1"}), "--frames: 1 is outside 2..100000"},
      {{"dse", "--config", root + "/nope.ini", "--synth-blocks", "4", "--out", out}, "nope.ini"},
      {{"dse", "--collect", root}, "dse-jobs.json: not found"},
      {{"dse", "--config", kConfig, "--synth-blocks", "4", "--out", "/proc/circa-dse-out"},
       "--out /proc/circa-dse-out: /proc is not writable"},
      {with(base(out), {"--emit-jobs", "/proc/jobs.txt"}), "/proc is not writable"},
      // Labelled utterances for measured PER: both files or none, not with --per, and they must fit the model.
      {with(base(out), {"--per-features", src_data("test.scp")}),
       "--per-features and --per-labels go together"},
      {with(base(out), {"--per-features", src_data("test.scp"), "--per-labels", src_data("test.ali"), "--per",
                        "synth-k4=20"}),
       "--per and --per-labels exclude each other"},
      {with(base(out), {"--per-features", src_data("test.scp"), "--per-labels", src_data("test.ali")}),
       "synth-k4 with --per-features/--per-labels: "},
      {{"dse", "--config", kConfig, "--models", src_model(), "--per-features", src_data("test.scp"), "--per-labels",
        root + "/missing.ali", "--out", out},
       "missing.ali"},
  };
  for (const BadCase& c : cases) {
    auto r = run_circa(c.args);
    std::string cmd;
    for (const auto& a : c.args) cmd += a + " ";
    EXPECT_EQ(r.exit_code, 2) << cmd << "\n" << r.out << r.err;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << cmd << "\n" << r.err;
    EXPECT_EQ(lines(r.err).size(), 1u) << r.err;
    EXPECT_FALSE(fs::exists(out)) << cmd;
  }
  // A folder we may not write into (meaningless for root, which may write anywhere).
  if (::geteuid() != 0) {
    const std::string ro = root + "/ro";
    fs::create_directories(ro);
    ::chmod(ro.c_str(), 0555);
    auto r = run_circa(with(base(ro + "/out"), {}));
    EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
    EXPECT_NE(r.err.find("is not writable"), std::string::npos) << r.err;
    ::chmod(ro.c_str(), 0755);
  }
}

}  // namespace
