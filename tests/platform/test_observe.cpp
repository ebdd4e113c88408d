// Seeing inside a run: the report, the VCD (parsed here by a small reader of our own), the trace-event timeline and
// the MMIO log, checked against each other and for determinism.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tests/platform/cli_runner.hpp"

namespace fs = std::filesystem;
using circa_test::fresh_dir;
using circa_test::run_circa;
using circa_test::slurp;
using nlohmann::json;

namespace {

const char* kUnits[] = {"fft_unit", "emac_array", "ifft_unit", "activation_unit", "cell_update", "dma_engine"};

// A minimal VCD reader: declarations (scopes, vars), then value changes with increasing timestamps.
struct Vcd {
  bool ok = true;
  std::string why;
  std::map<std::string, std::string> id_of;  // "scope.var" -> identifier code
  std::map<std::string, int> rising;         // identifier -> 0->1 transitions
  std::vector<std::string> scopes;
  bool timestamps_increase = true;
  std::uint64_t last_time = 0;
};

Vcd parse_vcd(const std::string& text) {
  Vcd v;
  std::istringstream in(text);
  std::string tok;
  std::vector<std::string> stack;
  bool defs_done = false;
  std::map<std::string, char> value;
  bool have_time = false;
  auto fail = [&](const std::string& w) {
    v.ok = false;
    v.why = w;
  };
  while (in >> tok) {
    if (!defs_done) {
      if (tok == "$date" || tok == "$version" || tok == "$timescale" || tok == "$comment") {
        while (in >> tok && tok != "$end") {
        }
        if (tok != "$end") fail("unterminated section");
      } else if (tok == "$scope") {
        std::string kind, name, end;
        in >> kind >> name >> end;
        if (end != "$end") fail("bad $scope");
        stack.push_back(name);
        v.scopes.push_back(name);
      } else if (tok == "$upscope") {
        in >> tok;
        if (stack.empty() || tok != "$end") fail("bad $upscope");
        if (!stack.empty()) stack.pop_back();
      } else if (tok == "$var") {
        std::string type, width, id, name, rest;
        in >> type >> width >> id >> name;
        while (in >> rest && rest != "$end") {
        }
        v.id_of[(stack.empty() ? "" : stack.back()) + "." + name] = id;
      } else if (tok == "$enddefinitions") {
        in >> tok;
        defs_done = true;
        if (!stack.empty()) fail("unbalanced scopes");
      } else {
        fail("unexpected token in header: " + tok);
      }
      continue;
    }
    if (tok == "$comment") {
      while (in >> tok && tok != "$end") {
      }
      continue;
    }
    if (tok == "$dumpvars" || tok == "$end") continue;
    if (tok[0] == '#') {
      const std::uint64_t t = std::stoull(tok.substr(1));
      if (have_time && t <= v.last_time) v.timestamps_increase = false;
      v.last_time = t;
      have_time = true;
    } else if (tok[0] == '0' || tok[0] == '1' || tok[0] == 'x' || tok[0] == 'z') {
      const std::string id = tok.substr(1);
      if (tok[0] == '1' && value[id] == '0') ++v.rising[id];
      value[id] = tok[0];
    } else if (tok[0] == 'b') {
      std::string id;
      in >> id;
    } else {
      fail("unexpected token: " + tok);
    }
  }
  if (!defs_done) fail("no $enddefinitions");
  return v;
}

struct ObservedRun {
  std::string dir;
  json report;
};

ObservedRun observed_run(const std::string& name, const std::string& trace) {
  ObservedRun r;
  r.dir = fresh_dir(name);
  auto c = run_circa({"run", "--out", r.dir + "/out.ark", "--report", r.dir + "/report.json", "--vcd",
                      r.dir + "/wave.vcd", "--trace", trace, "--timeline", r.dir + "/timeline.json", "--mmio-log",
                      r.dir + "/mmio.log"});
  EXPECT_EQ(c.exit_code, 0) << c.err;
  EXPECT_EQ(c.out.find("Info:"), std::string::npos) << "SystemC printed on stdout: " << c.out;
  r.report = json::parse(slurp(r.dir + "/report.json"));
  return r;
}

ObservedRun& units_run() {
  static ObservedRun r = observed_run("observe_units", "units");
  return r;
}

std::uint64_t report_tiles(const json& rep, const std::string& unit) {
  for (const json& u : rep["units"])
    if (u["name"] == unit) return u["tiles"].get<std::uint64_t>();
  ADD_FAILURE() << "no unit " << unit << " in the report";
  return 0;
}

std::string without_date(const std::string& vcd) {
  const auto a = vcd.find("$date"), b = vcd.find("$end", a);
  return vcd.substr(0, a) + vcd.substr(b);
}

}  // namespace

TEST(Observe, ReportHasTheSummaryFigures) {
  const json& r = units_run().report;
  EXPECT_EQ(r["schema"], "circa-report/1");
  EXPECT_GT(r["device"]["cycles_per_frame"].get<double>(), 0.0);
  EXPECT_TRUE(r["device"]["latency_cycles"].contains("p99"));
  EXPECT_GT(r["device"]["dense_equivalent_gops"].get<double>(), 0.0);
  EXPECT_EQ(r["units"].size(), 6u);
  EXPECT_EQ(r["layers"].size(), 3u);  // 2 layers + output
  EXPECT_EQ(r["sqnr_db"].size(), 3u);
  EXPECT_TRUE(r.contains("wall_clock"));
  // The CSVs beside it, with stable headers.
  const std::string layers = slurp(units_run().dir + "/report.layers.csv");
  EXPECT_EQ(layers.rfind("layer,cycles,cycles_per_frame,last_frame_cycles,first_output_cycles,ddr_bytes_read,fft_unit_busy_cycles", 0), 0u) << layers;
  const std::string units = slurp(units_run().dir + "/report.units.csv");
  EXPECT_EQ(units.rfind("name,tiles,busy_cycles,utilization,stall_input_cycles,stall_output_cycles,ops", 0), 0u);
  const std::string buffers = slurp(units_run().dir + "/report.buffers.csv");
  EXPECT_EQ(buffers.rfind("name,capacity_bytes,peak_bytes,peak_share,bytes_read,bytes_written,port_cycles", 0), 0u)
      << buffers;
  // Every buffer was used, within its capacity.
  ASSERT_EQ(r["buffers"].size(), 7u);
  for (const auto& b : r["buffers"]) {
    EXPECT_GT(b["peak_bytes"].get<double>(), 0.0) << b["name"];
    EXPECT_LE(b["peak_bytes"].get<double>(), b["capacity_bytes"].get<double>()) << b["name"];
    EXPECT_GT(b["bytes_read"].get<double>(), 0.0) << b["name"];
  }
}

TEST(Observe, VcdIsWellFormedAndCountsEveryTile) {
  const ObservedRun& run = units_run();
  Vcd v = parse_vcd(slurp(run.dir + "/wave.vcd"));
  ASSERT_TRUE(v.ok) << v.why;
  EXPECT_TRUE(v.timestamps_increase);
  for (const char* u : kUnits) {
    EXPECT_EQ(std::count(v.scopes.begin(), v.scopes.end(), u), 1) << u;
    const std::string busy = v.id_of[std::string(u) + ".busy"];
    ASSERT_FALSE(busy.empty()) << u;
    EXPECT_EQ(static_cast<std::uint64_t>(v.rising[busy]), report_tiles(run.report, u)) << u;
  }
  EXPECT_FALSE(v.id_of["accel.frame"].empty());
  EXPECT_FALSE(v.id_of["ddr.read"].empty());
  EXPECT_GT(v.rising[v.id_of["ddr.read"]], 0);
}

TEST(Observe, VcdConvertsWithGtkwave) {
  if (std::system("command -v vcd2fst >/dev/null 2>&1") != 0) GTEST_SKIP() << "vcd2fst not installed (setup --dev)";
  const ObservedRun& run = units_run();
  const std::string cmd = "vcd2fst " + run.dir + "/wave.vcd " + run.dir + "/wave.fst >/dev/null 2>&1";
  EXPECT_EQ(std::system(cmd.c_str()), 0);
  EXPECT_GT(fs::file_size(run.dir + "/wave.fst"), 100u);
}

TEST(Observe, TimelineIsTraceEventJsonWithASlicePerTile) {
  const ObservedRun& run = units_run();
  json t = json::parse(slurp(run.dir + "/timeline.json"));
  ASSERT_TRUE(t.contains("traceEvents"));
  std::map<int, std::string> thread;
  std::map<std::string, std::uint64_t> slices;
  for (const json& e : t["traceEvents"]) {
    ASSERT_TRUE(e.contains("ph") && e.contains("pid") && e.contains("tid")) << e.dump();
    if (e["ph"] == "M" && e["name"] == "thread_name") thread[e["tid"].get<int>()] = e["args"]["name"];
    if (e["ph"] == "X") {
      ASSERT_TRUE(e.contains("ts") && e.contains("dur")) << e.dump();
      EXPECT_GE(e["dur"].get<double>(), 0.0);
      ++slices[thread[e["tid"].get<int>()]];
    }
  }
  for (const char* u : kUnits) EXPECT_EQ(slices[u], report_tiles(run.report, u)) << u;
}

TEST(Observe, MmioLogHoldsTheHandshakeTheDescriptorAndStart) {
  const std::string log = slurp(units_run().dir + "/mmio.log");
  for (const char* reg : {"  ID  ", "  VERSION  ", "  CAPS_K  ", "  DESC_LO  ", "  DESC_HI  ", "  CTRL  "})
    EXPECT_NE(log.find(reg), std::string::npos) << reg;
  // START|IRQ_EN written to CTRL, after the descriptor address.
  const auto desc = log.find("W  0x0040000050  DESC_LO");
  const auto start = log.find("W  0x0040000040  CTRL              0x00000005");
  ASSERT_NE(desc, std::string::npos) << log.substr(0, 2000);
  ASSERT_NE(start, std::string::npos) << log.substr(0, 2000);
  EXPECT_LT(desc, start);
  EXPECT_EQ(log.find(" R  0x0040000000  ID                0x43495243  4  OK"), log.find(" R  0x0040000000  ID"));
}

TEST(Observe, RerunsAreIdenticalApartFromDateAndWallClock) {
  const ObservedRun& a = units_run();
  ObservedRun b = observed_run("observe_again", "units");
  EXPECT_EQ(slurp(a.dir + "/out.ark"), slurp(b.dir + "/out.ark"));
  EXPECT_EQ(slurp(a.dir + "/report.layers.csv"), slurp(b.dir + "/report.layers.csv"));
  EXPECT_EQ(slurp(a.dir + "/report.units.csv"), slurp(b.dir + "/report.units.csv"));
  EXPECT_EQ(slurp(a.dir + "/report.buffers.csv"), slurp(b.dir + "/report.buffers.csv"));
  EXPECT_EQ(without_date(slurp(a.dir + "/wave.vcd")), without_date(slurp(b.dir + "/wave.vcd")));
  EXPECT_EQ(slurp(a.dir + "/timeline.json"), slurp(b.dir + "/timeline.json"));
  EXPECT_EQ(slurp(a.dir + "/mmio.log"), slurp(b.dir + "/mmio.log"));
  json ra = a.report, rb = b.report;
  ra.erase("wall_clock");
  rb.erase("wall_clock");
  EXPECT_EQ(ra, rb);
}

TEST(Observe, TilesTraceAddsTileIndexAndKeepsTheEdges) {
  ObservedRun t = observed_run("observe_tiles", "tiles");
  Vcd v = parse_vcd(slurp(t.dir + "/wave.vcd"));
  ASSERT_TRUE(v.ok) << v.why;
  for (const char* u : kUnits) {
    EXPECT_FALSE(v.id_of[std::string(u) + ".tile_index"].empty()) << u;
    EXPECT_EQ(static_cast<std::uint64_t>(v.rising[v.id_of[std::string(u) + ".busy"]]), report_tiles(t.report, u));
  }
}

TEST(Observe, BadObserveOptionsAreUsageErrors) {
  std::string d = fresh_dir("observe_bad");
  auto r = run_circa({"run", "--trace", "everything"});
  EXPECT_EQ(r.exit_code, 2);
  r = run_circa({"run", "--functional", "--vcd", d + "/w.vcd"});
  EXPECT_EQ(r.exit_code, 2);
  // The report describes the VP's run; --functional used to accept it and write nothing.
  r = run_circa({"run", "--functional", "--report", d + "/r.json"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--report, --vcd, --timeline and --mmio-log observe the virtual platform"), std::string::npos)
      << r.err;
  r = run_circa({"run", "--vcd", d + "/missing/w.vcd"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(fs::is_empty(d));
}
