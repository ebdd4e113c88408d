#include "platform/report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "core/atomic_file.hpp"

namespace circa {

using json = nlohmann::ordered_json;

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  const std::size_t rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(v.size())));
  return v[std::min(v.size() - 1, rank == 0 ? 0 : rank - 1)];
}

json build_report(const RunFacts& f) {
  const VpRunResult& r = *f.vp;
  json j;
  j["schema"] = "circa-report/1";
  j["run"] = {{"model", f.model},   {"features", f.features},     {"config", f.config},
              {"arch", f.arch},     {"layers", f.layers},         {"classes", f.classes},
              {"utterances", f.utterances}, {"frames", f.frames}, {"clock_mhz", f.clock_mhz},
              {"streams", f.streams},
              {"weights_on_chip", r.weights_on_chip}, {"weight_bytes", r.weight_bytes}};
  // Frame latency on the device: the time from one frame's end to the next within a job (the first frame of a job
  // counts from START, so it includes the job's descriptor fetch and weight load).
  // With --streams, a step carries a frame of every stream, so a step's latency is each of its frames' latency.
  // With a frame period, the device idles between frames: `cycles` counts the cycles it worked (elapsed minus
  // the wait for input), so throughput and utilization describe the hardware, not the speaker.
  std::vector<double> lat, arrival;
  std::uint64_t cycles = 0, elapsed = 0, idle = 0, sat = 0;
  for (const UtteranceStats& s : r.stats) {
    std::uint64_t prev = 0;
    for (std::uint64_t c : s.frame_done) {
      lat.push_back(static_cast<double>(c - prev));
      prev = c;
    }
    arrival.insert(arrival.end(), s.arrival_latency.begin(), s.arrival_latency.end());
    cycles += s.cycles - s.counters.ring_wait;
    elapsed += s.cycles;
    idle += s.counters.ring_wait;
    sat += s.counters.saturations;
  }
  // Live input: a frame's latency runs from its arrival, not from the previous frame's end.
  if (f.frame_period_ns > 0) lat = arrival;
  const double cpf = f.frames ? static_cast<double>(cycles) / static_cast<double>(f.frames) : 0.0;
  const double us = cpf / f.clock_mhz;
  j["device"] = {{"cycles", cycles},
                 {"cycles_per_frame", cpf},
                 {"us_per_frame", us},
                 {"frames_per_second", us > 0 ? 1e6 / us : 0.0},
                 {"latency_cycles", {{"p50", percentile(lat, 50)}, {"p99", percentile(lat, 99)},
                                     {"max", lat.empty() ? 0.0 : *std::max_element(lat.begin(), lat.end())}}},
                 {"latency_us", {{"p50", percentile(lat, 50) / f.clock_mhz}, {"p99", percentile(lat, 99) / f.clock_mhz}}},
                 {"dense_equivalent_gops", us > 0 ? 2.0 * static_cast<double>(f.dense_params) / (us * 1e3) : 0.0}};
  if (f.frame_period_ns > 0) {
    auto mx = [](const std::vector<double>& v) { return v.empty() ? 0.0 : *std::max_element(v.begin(), v.end()); };
    j["streaming"] = {
        {"frame_period_us", f.frame_period_ns / 1e3},
        {"ring_frames", f.ring_frames},
        {"elapsed_cycles", elapsed},
        {"idle_cycles", idle},
        {"idle_share", elapsed ? static_cast<double>(idle) / static_cast<double>(elapsed) : 0.0},
        {"latency_from_arrival_cycles", {{"p50", percentile(arrival, 50)}, {"p99", percentile(arrival, 99)},
                                         {"max", mx(arrival)}}},
        {"latency_from_arrival_us", {{"p50", percentile(arrival, 50) / f.clock_mhz},
                                     {"p99", percentile(arrival, 99) / f.clock_mhz},
                                     {"max", mx(arrival) / f.clock_mhz}}}};
  }
  json units = json::array();
  for (const UnitReport& u : r.units) {
    const UnitStats& s = u.stats;
    units.push_back({{"name", u.name},
                     {"tiles", s.tiles},
                     {"busy_cycles", s.busy_cycles},
                     {"utilization", cycles ? static_cast<double>(s.busy_cycles) / static_cast<double>(cycles) : 0.0},
                     {"stall_input_cycles", s.stall_in_cycles},
                     {"stall_output_cycles", s.stall_out_cycles},
                     {"ops", s.ops},
                     {"saturations", s.sat.total()}});
  }
  j["units"] = units;
  json buffers = json::array();
  for (const BufferReport& b : r.buffers)
    buffers.push_back({{"name", b.name},
                       {"capacity_bytes", b.capacity_bytes},
                       {"peak_bytes", b.peak_bytes},
                       {"peak_share", b.capacity_bytes ? static_cast<double>(b.peak_bytes) / static_cast<double>(b.capacity_bytes) : 0.0},
                       {"bytes_read", b.stats.bytes_read},
                       {"bytes_written", b.stats.bytes_written},
                       {"port_cycles", b.stats.cycles}});
  j["buffers"] = buffers;
  const double secs = static_cast<double>(cycles) / (f.clock_mhz * 1e6);
  j["ddr"] = {{"bytes_read", r.ddr_bytes_read},
              {"bytes_written", r.ddr_bytes_written},
              {"read_gb_per_s", secs > 0 ? static_cast<double>(r.ddr_bytes_read) / secs / 1e9 : 0.0},
              {"write_gb_per_s", secs > 0 ? static_cast<double>(r.ddr_bytes_written) / secs / 1e9 : 0.0}};
  j["saturations"] = {{"datapath", sat}, {"input", f.input_saturations.total()}};
  json layers = json::array();
  for (std::size_t l = 0; l < r.layers.size(); ++l) {
    json row = {{"layer", l + 1 == r.layers.size() ? std::string("output") : std::to_string(l)},
                {"cycles", r.layers[l].cycles},
                {"cycles_per_frame", f.frames ? static_cast<double>(r.layers[l].cycles) / f.frames : 0.0},
                {"last_frame_cycles", r.layers[l].last_cycles},
                {"first_output_cycles", r.layers[l].first_output_cycles},
                {"ddr_bytes_read", r.layers[l].ddr_rd}};
    for (const UnitReport& u : r.units) {
      const auto& b = u.stats.busy_by_layer;
      const std::uint64_t busy = l < b.size() ? b[l] : 0;
      row[u.name + "_busy_cycles"] = busy;
      row[u.name + "_utilization"] =
          r.layers[l].cycles ? static_cast<double>(busy) / static_cast<double>(r.layers[l].cycles) : 0.0;
    }
    layers.push_back(row);
  }
  j["layers"] = layers;
  if (!f.sqnr_db.empty()) j["sqnr_db"] = f.sqnr_db;
  if (f.scored)
    j["accuracy"] = {{"frames", f.errors.frames},         {"frame_errors", f.errors.frame_errors},
                     {"frame_error_pct", f.errors.frame_error_pct()}, {"ref_phones", f.errors.ref_phones},
                     {"edits", f.errors.edits},           {"per_pct", f.errors.per_pct()}};
  if (f.scored && f.bundled)
    j["accuracy"]["test_split"] = {{"utterances", f.bundled->split_utterances},
                                   {"phones", f.bundled->split_phones},
                                   {"per_pct", f.bundled->split_per_pct},
                                   {"config", f.bundled->config},
                                   {"bundled_rule", f.bundled->rule}};
  // The whole run (elaboration, model packing, weight load and the SQNR pass included), then the frame steps alone.
  const double fr = f.frames ? static_cast<double>(f.frames) : 1.0;
  j["wall_clock"] = {{"seconds", f.wall_seconds},
                     {"ms_per_frame", f.frames ? 1e3 * f.wall_seconds / fr : 0.0},
                     {"frame_steps_ms_per_frame", f.frames ? 1e3 * r.host_step_wall / fr : 0.0},
                     {"frame_steps_cpu_ms_per_frame", f.frames ? 1e3 * r.host_step_cpu / fr : 0.0},
                     {"waves", r.waves},
                     {"decoupled_waves", r.decoupled_waves},
                     {"replayed_waves", r.replayed_waves}};
  return j;
}

std::string summary_text(const json& r) {
  std::ostringstream o;
  char b[512];
  const json& d = r["device"];
  std::snprintf(b, sizeof b, "circa run (virtual platform): %s\n  %zu utterance(s), %zu frames from %s\n",
                r["run"]["model"].get<std::string>().c_str(), r["run"]["utterances"].get<std::size_t>(),
                r["run"]["frames"].get<std::size_t>(), r["run"]["features"].get<std::string>().c_str());
  o << b;
  std::snprintf(b, sizeof b, "  device: %llu cycles in all\n", d["cycles"].get<unsigned long long>());
  o << b;
  std::snprintf(b, sizeof b,
                "  device: %.0f cycles/frame = %.2f us/frame at %.0f MHz, %.0f frames/s, %.1f GOPS dense-equivalent; "
                "weights %s (%.1f KiB)\n",
                d["cycles_per_frame"].get<double>(), d["us_per_frame"].get<double>(),
                r["run"]["clock_mhz"].get<double>(), d["frames_per_second"].get<double>(),
                d["dense_equivalent_gops"].get<double>(),
                r["run"]["weights_on_chip"].get<bool>() ? "on chip" : "streamed from DDR",
                r["run"]["weight_bytes"].get<double>() / 1024.0);
  o << b;
  std::snprintf(b, sizeof b, "  frame latency: p50 %.0f cycles (%.2f us), p99 %.0f cycles (%.2f us)\n",
                d["latency_cycles"]["p50"].get<double>(), d["latency_us"]["p50"].get<double>(),
                d["latency_cycles"]["p99"].get<double>(), d["latency_us"]["p99"].get<double>());
  o << b;
  if (r["run"]["streams"].get<unsigned>() > 1) {
    std::snprintf(b, sizeof b, "  streams: %u utterances interleaved per job\n", r["run"]["streams"].get<unsigned>());
    o << b;
  }
  if (r.contains("streaming")) {
    const json& s = r["streaming"];
    std::snprintf(b, sizeof b,
                  "  live input: a frame every %.3f ms, ring of %u frames; latency from arrival p50 %.2f us, p99 %.2f "
                  "us, max %.2f us; device idle %.2f%% of the time\n",
                  s["frame_period_us"].get<double>() / 1e3, s["ring_frames"].get<unsigned>(),
                  s["latency_from_arrival_us"]["p50"].get<double>(), s["latency_from_arrival_us"]["p99"].get<double>(),
                  s["latency_from_arrival_us"]["max"].get<double>(), 100.0 * s["idle_share"].get<double>());
    o << b;
  }
  o << "  unit              tiles    util  stall in  stall out\n";
  for (const json& u : r["units"]) {
    std::snprintf(b, sizeof b, "  %-16s %6llu  %5.1f%%  %8llu  %9llu\n", u["name"].get<std::string>().c_str(),
                  u["tiles"].get<unsigned long long>(), 100.0 * u["utilization"].get<double>(),
                  u["stall_input_cycles"].get<unsigned long long>(),
                  u["stall_output_cycles"].get<unsigned long long>());
    o << b;
  }
  if (r.contains("buffers")) {
    o << "  on-chip buffers, peak use:";
    bool first = true;
    for (const json& x : r["buffers"]) {
      std::snprintf(b, sizeof b, "%s %s %.1f of %.0f KiB", first ? "" : ",", x["name"].get<std::string>().c_str(),
                    x["peak_bytes"].get<double>() / 1024.0, x["capacity_bytes"].get<double>() / 1024.0);
      o << b;
      first = false;
    }
    o << "\n";
  }
  std::snprintf(b, sizeof b, "  DDR: %.1f KiB read (%.2f GB/s), %.1f KiB written (%.2f GB/s)\n",
                r["ddr"]["bytes_read"].get<double>() / 1024.0, r["ddr"]["read_gb_per_s"].get<double>(),
                r["ddr"]["bytes_written"].get<double>() / 1024.0, r["ddr"]["write_gb_per_s"].get<double>());
  o << b;
  std::snprintf(b, sizeof b, "  saturations: %llu in the datapath, %llu in input quantization\n",
                r["saturations"]["datapath"].get<unsigned long long>(),
                r["saturations"]["input"].get<unsigned long long>());
  o << b;
  if (r.contains("sqnr_db")) {
    o << "  SQNR fixed vs float:";
    const auto& s = r["sqnr_db"];
    for (std::size_t i = 0; i < s.size(); ++i) {
      std::snprintf(b, sizeof b, " %s %.1f dB", i + 1 == s.size() ? "logits" : ("layer " + std::to_string(i)).c_str(),
                    s[i].get<double>());
      o << b << (i + 1 < s.size() ? "," : "\n");
    }
  }
  if (r.contains("accuracy")) {
    const json& a = r["accuracy"];
    std::snprintf(b, sizeof b, "  frame error: %.2f%% (%llu of %llu frames)\nPER: %.2f%%\n",
                  a["frame_error_pct"].get<double>(), a["frame_errors"].get<unsigned long long>(),
                  a["frames"].get<unsigned long long>(), a["per_pct"].get<double>());
    o << b;
    if (a.contains("test_split")) {
      const json& t = a["test_split"];
      BundledInfo bi;
      bi.utterances = static_cast<int>(r["run"]["utterances"].get<std::size_t>());
      bi.rule = t["bundled_rule"].get<std::string>();
      bi.split_utterances = t["utterances"].get<int>();
      bi.split_phones = t["phones"].get<int>();
      bi.split_per_pct = t["per_pct"].get<double>();
      bi.config = t["config"].get<std::string>();
      o << bundled_note(bi);
    }
  }
  std::snprintf(b, sizeof b, "  host: %.3f s wall, %.3f ms/frame; frame steps alone %.4f ms/frame (CPU %.4f)\n",
                r["wall_clock"]["seconds"].get<double>(), r["wall_clock"]["ms_per_frame"].get<double>(),
                r["wall_clock"]["frame_steps_ms_per_frame"].get<double>(),
                r["wall_clock"]["frame_steps_cpu_ms_per_frame"].get<double>());
  o << b;
  return o.str();
}

namespace {
std::string csv_cell(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_float()) {
    char b[64];
    std::snprintf(b, sizeof b, "%.6g", v.get<double>());
    return b;
  }
  return v.dump();
}

std::string to_csv(const json& rows) {
  if (rows.empty()) return "";
  std::ostringstream o;
  std::vector<std::string> cols;
  for (auto it = rows[0].begin(); it != rows[0].end(); ++it) cols.push_back(it.key());
  for (std::size_t c = 0; c < cols.size(); ++c) o << cols[c] << (c + 1 < cols.size() ? "," : "\n");
  for (const json& r : rows)
    for (std::size_t c = 0; c < cols.size(); ++c) o << csv_cell(r[cols[c]]) << (c + 1 < cols.size() ? "," : "\n");
  return o.str();
}
}  // namespace

void write_report(const std::string& path, const json& r) {
  std::string base = path;
  if (base.size() > 5 && base.substr(base.size() - 5) == ".json") base = base.substr(0, base.size() - 5);
  write_file_atomic(path, r.dump(2) + "\n");
  write_file_atomic(base + ".layers.csv", to_csv(r["layers"]));
  write_file_atomic(base + ".units.csv", to_csv(r["units"]));
  write_file_atomic(base + ".buffers.csv", to_csv(r["buffers"]));
}

std::string bundled_note(const BundledInfo& b) {
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "  on the whole test split (%d utterances, %d phones) this model scores PER %.2f%% with %s;\n"
                "  the %d bundled utterances are %s (docs/accuracy.md)\n",
                b.split_utterances, b.split_phones, b.split_per_pct, b.config.c_str(), b.utterances, b.rule.c_str());
  return buf;
}

}  // namespace circa
