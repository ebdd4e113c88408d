// circa dse: design-space exploration over hardware keys and models (E-RNN's sweep over block size and
// parallelism). Every point is one `circa run --report` of this same executable, in its own process: SystemC
// elaborates once per process, and separate processes also run on separate cores or cluster nodes. The sweep is
// written down first (DIR/dse-jobs.json, the manifest); running it here, or emitting it as a job list for GNU
// parallel or a Slurm array, fills DIR/points/; collecting reads the manifest and the points' reports and adds
// the closed-form estimate, resource and energy models of platform/estimate beside each VP figure.
#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <boost/program_options.hpp>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/alignment.hpp"
#include "core/features.hpp"
#include "core/golden.hpp"
#include "core/kaldi_io.hpp"
#include "core/model.hpp"
#include "core/per.hpp"
#include "platform/cli.hpp"
#include "platform/default_paths.hpp"
#include "platform/estimate.hpp"
#include "platform/hw_config.hpp"

extern char** environ;

namespace po = boost::program_options;
namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

namespace circa {

namespace {

constexpr const char* kManifestSchema = "circa-dse-jobs/1";
constexpr const char* kManifestName = "dse-jobs.json";
// Exit code of scripts/dse-plot when matplotlib cannot be imported (it prints the one line itself).
constexpr int kPlotNoMatplotlib = 3;

struct SweepKey {
  std::string key;
  std::vector<std::string> values;
};

struct DseModel {
  std::string name;   // in the CSV: the --models path as given, or synth-k8
  std::string path;   // absolute path of the file the points run
  std::string block;  // the model's block sizes: "8", or "8/4" when its matrices differ
  int input_dim = 0;
  bool has_per = false;
  double per = 0;
  std::string per_source;  // "metadata" or "given" (--per); points measure their own with --per-labels
};

struct DsePoint {
  std::string id;  // p0001, ...
  std::size_t model = 0;
  std::vector<std::string> values;  // one per sweep key
};

struct DeviceSpec {
  bool given = false;
  std::string name;
  long long dsp = 0, bram36 = 0, lut = 0;
  double static_w = 0;
};

// Everything a point needs, and everything collecting needs, written before any point runs.
struct Manifest {
  std::string dir;                 // absolute out dir
  std::string config_given;        // --config as given
  std::string exe;                 // the circa that runs the points
  std::vector<std::string> fixed;  // "section.key=value" given outside --sweep, for every point
  std::vector<SweepKey> sweep;
  std::vector<DseModel> models;
  std::map<int, std::string> features;  // input dim -> ark the points read (absolute)
  std::vector<DsePoint> points;
  int frames = 0;
  int streams = 1;  // utterances interleaved per job in every point's circa run
  DeviceSpec device;
  // Labelled utterances (absolute paths; empty without --per-labels): each point's PER is measured on them by the
  // fixed-point golden model with the point's own configuration.
  std::string per_features, per_labels;

  std::string base_ini() const { return (fs::path(dir) / "base.ini").string(); }
  std::string report_of(const DsePoint& p) const { return (fs::path(dir) / "points" / (p.id + ".json")).string(); }
  std::string log_of(const DsePoint& p) const { return (fs::path(dir) / "points" / (p.id + ".log")).string(); }
  // The point's exit code, written when it ends (2: circa run rejected its input).
  std::string exit_of(const DsePoint& p) const { return (fs::path(dir) / "points" / (p.id + ".exit")).string(); }
  std::vector<std::string> overrides_of(const DsePoint& p) const {
    std::vector<std::string> o = fixed;
    for (std::size_t i = 0; i < sweep.size(); ++i) o.push_back(sweep[i].key + "=" + p.values[i]);
    return o;
  }
  // The point's `circa run` command line, argv[0] included.
  std::vector<std::string> argv_of(const DsePoint& p) const {
    const DseModel& m = models[p.model];
    std::vector<std::string> a = {exe,        "run",       "--config",   base_ini(),
                                  "--model",  m.path,      "--features", features.at(m.input_dim),
                                  "--report", report_of(p)};
    if (streams > 1) a.insert(a.end(), {"--streams", std::to_string(streams)});
    for (const std::string& o : overrides_of(p)) a.push_back("--" + o);
    return a;
  }
};

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == sep) {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  out.push_back(cur);
  return out;
}

std::string join(const std::vector<std::string>& v, const std::string& sep) {
  std::string out;
  for (std::size_t i = 0; i < v.size(); ++i) out += (i ? sep : "") + v[i];
  return out;
}

// Quotes a word for sh only when it needs it, so a job line also survives tools that strip quotes (xargs).
std::string sh_quote(const std::string& w) {
  const bool plain = !w.empty() && std::all_of(w.begin(), w.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || std::string("_@%+=:,./-").find(c) != std::string::npos;
  });
  if (plain) return w;
  std::string out = "'";
  for (char c : w) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string csv_quote(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c == '\n' || c == '\r' ? ' ' : c);
  return out + "\"";
}

std::string fmt(const char* f, double v) {
  char b[64];
  std::snprintf(b, sizeof b, f, v);
  return b;
}

// The model's block sizes in matvec order, each once: "8", or "8/4" for an E-RNN model with several.
std::string block_of(const Model& m) {
  std::vector<int> ks;
  auto add = [&](int k) {
    if (k > 0 && std::find(ks.begin(), ks.end(), k) == ks.end()) ks.push_back(k);
  };
  for (const Layer& L : m.layers) {
    add(L.w_x.k);
    add(L.w_r.k);
    if (L.w_proj.p > 0) add(L.w_proj.k);
  }
  std::vector<std::string> s;
  for (int k : ks) s.push_back(std::to_string(k));
  return join(s, "/");
}

// A model's PER from its metadata: a "per" value, or the "training" record's "dev_per" (scripts/train writes it).
bool per_of_metadata(const Model& m, double& per) {
  auto num = [&](const std::string& s) {
    try {
      std::size_t used = 0;
      const double v = std::stod(s, &used);
      if (used != s.size() || !std::isfinite(v)) return false;
      per = v;
      return true;
    } catch (const std::exception&) {
      return false;
    }
  };
  auto it = m.extra_metadata.find("per");
  if (it != m.extra_metadata.end() && num(it->second)) return true;
  it = m.extra_metadata.find("training");
  if (it == m.extra_metadata.end()) return false;
  const json t = json::parse(it->second, nullptr, false);
  if (t.is_object() && t.contains("dev_per") && t["dev_per"].is_number()) {
    per = t["dev_per"].get<double>();
    return std::isfinite(per);
  }
  return false;
}

// Labelled utterances for measuring PER (--per-features, --per-labels), checked against one model.
struct Labelled {
  std::vector<Utterance> utts;
  std::vector<Alignment> ali;
};

Labelled load_labelled(const std::string& features, const std::string& labels, const Model& model) {
  Labelled l;
  l.utts = load_features(features, static_cast<std::size_t>(model.input_dim));
  l.ali = match_alignment(read_alignment(labels, model.phone_set), l.utts, labels);
  return l;
}

// The PER that `circa run --functional --precision fixed --labels` prints with the same numerics: the fixed-point
// golden model, which the VP matches bit for bit.
double measured_per(const Model& model, const Numerics& num, const Labelled& set) {
  const int sil = sil_index(model.phone_set);
  FixedGolden golden(model, num);
  ErrorCounts err;
  for (std::size_t i = 0; i < set.utts.size(); ++i)
    err += score_utterance(golden.run(set.utts[i].mat), set.ali[i].phones, sil);
  return err.per_pct();
}

// The nearest folder of `p` that exists (p itself, or an ancestor).
fs::path nearest_existing(fs::path p) {
  std::error_code ec;
  while (!p.empty() && !fs::exists(p, ec)) {
    if (p == p.parent_path()) break;
    p = p.parent_path();
  }
  return p.empty() ? fs::current_path() : p;
}

// An output folder can be written (or created) by us; otherwise an InputError naming `what`.
void check_writable_dir(const std::string& dir, const std::string& what) {
  std::error_code ec;
  const fs::path p = fs::absolute(dir);
  if (fs::exists(p, ec) && !fs::is_directory(p, ec))
    throw InputError(what + " " + dir + ": exists and is not a folder");
  const fs::path base = nearest_existing(p);
  if (!fs::is_directory(base, ec)) throw InputError(what + " " + dir + ": " + base.string() + " is not a folder");
  // access() says yes to root everywhere, so try: a folder made and removed at once (/proc refuses even root).
  std::string probe = (base / ".circa-dse-XXXXXX").string();
  if (::access(base.c_str(), W_OK | X_OK) != 0 || ::mkdtemp(probe.data()) == nullptr)
    throw InputError(what + " " + dir + ": " + base.string() + " is not writable");
  ::rmdir(probe.c_str());
}

// ---- options ---------------------------------------------------------------------------------------------------

struct DseOptions {
  std::string config, out, device, emit_jobs, collect, per_features, per_labels;
  std::vector<std::string> sweep, models, per;
  std::string synth_blocks, synth_arch = "lstmp";
  int input_dim = 153, cell_dim = 1024, proj_dim = 512, layers = 1, classes = 39;
  int frames = 8;
  int streams = 1;
  unsigned jobs = 0;
  bool no_plots = false;
  bool proj_defaulted = true;
  std::vector<std::string> fixed;
};

po::options_description dse_options(DseOptions& o) {
  po::options_description d(
      "circa dse --config C.ini (--models M[,M..] | --synth-blocks K[,K..]) --sweep section.key=V1,V2[,..] ... "
      "--out DIR [options] [--section.key=value ...]\n"
      "circa dse --collect DIR");
  // clang-format off
  d.add_options()
    ("help,h", "this help")
    ("config", po::value(&o.config), "base hardware config (INI); default: platform/configs/default.ini")
    ("sweep", po::value(&o.sweep)->composing(), "section.key=V1,V2,...: a hardware key and its values (repeatable; "
                                                "the points are the cartesian product, the last key varying fastest)")
    ("models", po::value(&o.models)->composing(), "models (.safetensors), comma-separated or repeated")
    ("synth-blocks", po::value(&o.synth_blocks), "instead of --models: random models of these block sizes (perf only)")
    ("synth-arch", po::value(&o.synth_arch)->default_value(o.synth_arch), "lstmp | gru, with --synth-blocks")
    ("input-dim", po::value(&o.input_dim)->default_value(o.input_dim), "with --synth-blocks")
    ("cell-dim", po::value(&o.cell_dim)->default_value(o.cell_dim), "with --synth-blocks")
    ("proj-dim", po::value(&o.proj_dim)->default_value(o.proj_dim), "with --synth-blocks (GRU: 0)")
    ("synth-layers", po::value(&o.layers)->default_value(o.layers), "with --synth-blocks")
    ("per", po::value(&o.per)->composing(), "MODEL=PER: the model's phone error rate in % (repeatable; default: "
                                            "the model's metadata, if it has one)")
    ("per-features", po::value(&o.per_features), "labelled utterances (.scp/.ark/.npy, as circa run --features) on "
                                                 "which every point's PER is measured, with --per-labels")
    ("per-labels", po::value(&o.per_labels), "their frame alignment (as circa run --labels): every point's PER is "
                                             "then measured by the fixed-point golden model with that point's "
                                             "configuration (bit-identical to the VP), not taken from the model")
    ("frames", po::value(&o.frames)->default_value(o.frames), "frames of synthetic input per point (2..100000)")
    ("streams", po::value(&o.streams)->default_value(o.streams),
     "utterances interleaved per job in every point (1..16, circa run --streams): cycles/frame is then a step's "
     "steady latency over its frames, the throughput of replicated pipelines")
    ("device", po::value(&o.device), "FPGA for the fit: a name in platform/devices/ (xcku060, xc7vx690t) or an .ini")
    ("out", po::value(&o.out), "output folder: dse.csv, plots, points/, the manifest")
    ("jobs,j", po::value(&o.jobs), "points run at the same time (default: the number of cores)")
    ("emit-jobs", po::value(&o.emit_jobs), "write a job list (one shell command per point) instead of running")
    ("collect", po::value(&o.collect), "merge the points' results in DIR into DIR/dse.csv and the plots")
    ("no-plots", po::bool_switch(&o.no_plots), "write the CSV only");
  // clang-format on
  return d;
}

// ---- the manifest ------------------------------------------------------------------------------------------------

json manifest_json(const Manifest& m) {
  json j;
  j["schema"] = kManifestSchema;
  j["config"] = m.config_given;
  j["exe"] = m.exe;
  j["frames"] = m.frames;
  j["streams"] = m.streams;
  j["fixed"] = m.fixed;
  j["per_features"] = m.per_features;
  j["per_labels"] = m.per_labels;
  json sw = json::array();
  for (const SweepKey& s : m.sweep) sw.push_back({{"key", s.key}, {"values", s.values}});
  j["sweep"] = sw;
  json models = json::array();
  for (const DseModel& d : m.models) {
    json e = {{"name", d.name}, {"path", d.path}, {"block", d.block}, {"input_dim", d.input_dim}};
    e["per"] = d.has_per ? json(d.per) : json(nullptr);
    e["per_source"] = d.per_source;
    models.push_back(e);
  }
  j["models"] = models;
  json feats = json::object();
  for (const auto& [dim, path] : m.features) feats[std::to_string(dim)] = path;
  j["features"] = feats;
  if (m.device.given)
    j["device"] = {{"name", m.device.name},
                   {"dsp", m.device.dsp},
                   {"bram36", m.device.bram36},
                   {"lut", m.device.lut},
                   {"static_w", m.device.static_w}};
  else
    j["device"] = nullptr;
  json pts = json::array();
  for (const DsePoint& p : m.points) pts.push_back({{"id", p.id}, {"model", p.model}, {"values", p.values}});
  j["points"] = pts;
  return j;
}

Manifest read_manifest(const std::string& dir) {
  const std::string path = (fs::path(dir) / kManifestName).string();
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw InputError("--collect " + dir + ": not a folder");
  if (!fs::exists(path, ec))
    throw InputError(path + ": not found (--collect takes the --out folder of circa dse --emit-jobs or of a run)");
  const json j = json::parse(read_file(path), nullptr, false);
  Manifest m;
  try {
    if (!j.is_object() || j.value("schema", "") != kManifestSchema)
      throw InputError(path + ": not a circa dse manifest (schema " + kManifestSchema + ")");
    m.dir = fs::absolute(dir).lexically_normal().string();
    m.config_given = j.at("config").get<std::string>();
    m.exe = j.at("exe").get<std::string>();
    m.frames = j.at("frames").get<int>();
    m.streams = j.value("streams", 1);
    m.fixed = j.at("fixed").get<std::vector<std::string>>();
    m.per_features = j.value("per_features", "");
    m.per_labels = j.value("per_labels", "");
    for (const json& s : j.at("sweep"))
      m.sweep.push_back({s.at("key").get<std::string>(), s.at("values").get<std::vector<std::string>>()});
    for (const json& e : j.at("models")) {
      DseModel d;
      d.name = e.at("name").get<std::string>();
      d.path = e.at("path").get<std::string>();
      d.block = e.at("block").get<std::string>();
      d.input_dim = e.at("input_dim").get<int>();
      d.has_per = !e.at("per").is_null();
      if (d.has_per) d.per = e.at("per").get<double>();
      d.per_source = e.value("per_source", d.has_per ? "metadata" : "");
      m.models.push_back(d);
    }
    for (const auto& [dim, p] : j.at("features").items()) m.features[std::stoi(dim)] = p.get<std::string>();
    const json& dv = j.at("device");
    if (!dv.is_null()) {
      m.device.given = true;
      m.device.name = dv.at("name").get<std::string>();
      m.device.dsp = dv.at("dsp").get<long long>();
      m.device.bram36 = dv.at("bram36").get<long long>();
      m.device.lut = dv.at("lut").get<long long>();
      m.device.static_w = dv.at("static_w").get<double>();
    }
    for (const json& p : j.at("points")) {
      DsePoint pt{p.at("id").get<std::string>(), p.at("model").get<std::size_t>(),
                  p.at("values").get<std::vector<std::string>>()};
      if (pt.model >= m.models.size() || pt.values.size() != m.sweep.size())
        throw InputError(path + ": point " + pt.id + " does not match the sweep");
      m.points.push_back(pt);
    }
  } catch (const json::exception& e) {
    throw InputError(path + ": malformed manifest: " + e.what());
  }
  return m;
}

// ---- validation: everything is checked before anything is written ------------------------------------------------

std::vector<SweepKey> parse_sweeps(const std::vector<std::string>& specs, const std::string& config,
                                   const std::vector<std::string>& fixed) {
  const po::options_description keys = hw_options_help();
  std::vector<SweepKey> out;
  std::set<std::string> fixed_keys;
  for (const std::string& f : fixed) fixed_keys.insert(f.substr(0, f.find('=')));
  for (const std::string& spec : specs) {
    const auto eq = spec.find('=');
    if (eq == std::string::npos || eq == 0)
      throw UsageError("--sweep " + spec + ": expected section.key=V1,V2,... (e.g. emac.lanes=64,128)");
    SweepKey s{spec.substr(0, eq), split(spec.substr(eq + 1), ',')};
    if (s.key.find('.') == std::string::npos || !keys.find_nothrow(s.key, false))
      throw UsageError("--sweep " + spec + ": unknown hardware key '" + s.key + "' (circa run --help lists them)");
    for (const SweepKey& o : out)
      if (o.key == s.key) throw UsageError("--sweep " + spec + ": " + s.key + " is swept twice");
    if (fixed_keys.count(s.key))
      throw UsageError("--sweep " + spec + ": " + s.key + " is also given as --" + s.key + "=...");
    std::set<std::string> seen;
    for (const std::string& v : s.values) {
      if (v.empty()) throw UsageError("--sweep " + spec + ": an empty value in the list");
      if (!seen.insert(v).second) throw UsageError("--sweep " + spec + ": value " + v + " is listed twice");
      try {
        load_hw_config(config, {s.key + "=" + v});
      } catch (const InputError& e) {
        throw InputError("--sweep " + spec + ": " + e.what());
      }
    }
    out.push_back(s);
  }
  return out;
}

std::vector<int> parse_blocks(const std::string& s) {
  std::vector<int> out;
  for (const std::string& t : split(s, ',')) {
    std::size_t used = 0;
    int v = 0;
    try {
      v = std::stoi(t, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (t.empty() || used != t.size()) throw UsageError("--synth-blocks: '" + s + "' is not a list of block sizes");
    if (std::find(out.begin(), out.end(), v) != out.end())
      throw UsageError("--synth-blocks: block size " + t + " is listed twice");
    out.push_back(v);
  }
  return out;
}

struct Plan {
  Manifest m;
  std::vector<Model> synth;  // with --synth-blocks: the models to write into DIR/models, one per m.models entry
};

Plan plan_sweep(const DseOptions& o) {
  Plan plan;
  Manifest& m = plan.m;
  if (o.out.empty()) throw UsageError("--out DIR is required (the folder for dse.csv, the plots and the points)");
  if (o.models.empty() == o.synth_blocks.empty())
    throw UsageError("give either --models M[,M..] or --synth-blocks K[,K..]");
  if (o.frames < 2 || o.frames > 100000)
    throw UsageError("--frames: " + std::to_string(o.frames) +
                     " is outside 2..100000 (the first frame carries the job load)");
  const std::string config = o.config.empty() ? default_config_path() : o.config;
  load_hw_config(config, o.fixed);  // the file and the fixed overrides, before the sweep's keys
  m.sweep = parse_sweeps(o.sweep, config, o.fixed);
  m.fixed = o.fixed;
  m.frames = o.frames;
  if (o.streams < 1 || o.streams > 16) throw UsageError("--streams: " + std::to_string(o.streams) + " is outside 1..16");
  m.streams = o.streams;
  m.config_given = config;
  m.dir = fs::absolute(o.out).lexically_normal().string();

  std::vector<Model> models;
  if (!o.synth_blocks.empty()) {
    SynthSpec spec;
    if (o.synth_arch == "lstmp")
      spec.arch = Arch::lstmp;
    else if (o.synth_arch == "gru")
      spec.arch = Arch::gru;
    else
      throw UsageError("--synth-arch: '" + o.synth_arch + "' is not lstmp or gru");
    spec.input_dim = o.input_dim;
    spec.cell_dim = o.cell_dim;
    spec.proj_dim = spec.arch == Arch::gru && o.proj_defaulted ? 0 : o.proj_dim;
    spec.layers = o.layers;
    spec.num_classes = o.classes;
    for (int k : parse_blocks(o.synth_blocks)) {
      spec.block = {k};
      Model model;
      try {
        model = synth_model(spec);
      } catch (const InputError& e) {
        throw InputError("--synth-blocks " + std::to_string(k) + ": " + e.what());
      }
      DseModel d;
      d.name = "synth-k" + std::to_string(k);
      d.path = (fs::path(m.dir) / "models" / (d.name + ".safetensors")).string();
      models.push_back(model);
      plan.synth.push_back(model);
      m.models.push_back(d);
    }
  } else {
    std::set<std::string> seen;
    for (const std::string& list : o.models)
      for (const std::string& name : split(list, ',')) {
        if (name.empty()) throw UsageError("--models: an empty name in '" + list + "'");
        if (!seen.insert(name).second) throw UsageError("--models: " + name + " is listed twice");
        models.push_back(load_model(name));
        DseModel d;
        d.name = name;
        d.path = fs::absolute(name).lexically_normal().string();
        m.models.push_back(d);
      }
  }
  for (std::size_t i = 0; i < models.size(); ++i) {
    m.models[i].block = block_of(models[i]);
    m.models[i].input_dim = models[i].input_dim;
    m.models[i].has_per = per_of_metadata(models[i], m.models[i].per);
    if (m.models[i].has_per) m.models[i].per_source = "metadata";
  }
  if (o.per_features.empty() != o.per_labels.empty())
    throw UsageError("--per-features and --per-labels go together (labelled utterances to measure PER on)");
  if (!o.per_labels.empty()) {
    if (!o.per.empty()) throw UsageError("--per and --per-labels exclude each other: with labels, PER is measured");
    // Read now, so that a bad file or a model it does not fit stops the sweep before anything runs.
    for (std::size_t i = 0; i < models.size(); ++i) {
      try {
        load_labelled(o.per_features, o.per_labels, models[i]);
      } catch (const InputError& e) {
        throw InputError(m.models[i].name + " with --per-features/--per-labels: " + e.what());
      }
    }
    m.per_features = fs::absolute(o.per_features).lexically_normal().string();
    m.per_labels = fs::absolute(o.per_labels).lexically_normal().string();
  }
  for (const std::string& spec : o.per) {
    const auto eq = spec.rfind('=');
    if (eq == std::string::npos || eq == 0)
      throw UsageError("--per " + spec + ": expected MODEL=PER (e.g. b8.safetensors=18.3)");
    const std::string name = spec.substr(0, eq), val = spec.substr(eq + 1);
    double v = 0;
    std::size_t used = 0;
    try {
      v = std::stod(val, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (val.empty() || used != val.size() || !(v >= 0 && v <= 1000))
      throw UsageError("--per " + spec + ": '" + val + "' is not a PER in percent");
    bool found = false;
    for (DseModel& d : m.models)
      if (d.name == name || fs::path(d.name).filename() == name) {
        d.has_per = true;
        d.per = v;
        d.per_source = "given";
        found = true;
      }
    if (!found) throw UsageError("--per " + spec + ": " + name + " is not among the models");
  }

  // Points: models outermost, then the sweep keys in the order given, the last fastest.
  std::size_t n = m.models.size();
  for (const SweepKey& s : m.sweep) n *= s.values.size();
  if (n > 100000) throw UsageError("the sweep has " + std::to_string(n) + " points; at most 100000");
  const int width = std::max<int>(4, static_cast<int>(std::to_string(n).size()));
  std::vector<std::size_t> idx(m.sweep.size(), 0);
  for (std::size_t mi = 0; mi < m.models.size(); ++mi) {
    std::fill(idx.begin(), idx.end(), 0);
    while (true) {
      DsePoint p;
      char id[32];
      std::snprintf(id, sizeof id, "p%0*zu", width, m.points.size() + 1);
      p.id = id;
      p.model = mi;
      for (std::size_t s = 0; s < m.sweep.size(); ++s) p.values.push_back(m.sweep[s].values[idx[s]]);
      m.points.push_back(p);
      std::size_t s = m.sweep.size();
      while (s > 0 && ++idx[s - 1] == m.sweep[s - 1].values.size()) idx[--s] = 0;
      if (s == 0) break;
    }
  }
  // Every point's config as a whole (keys may constrain each other) and the model against its limits.
  for (const DsePoint& p : m.points) {
    const std::vector<std::string> ov = m.overrides_of(p);
    HwConfig hw;
    try {
      hw = load_hw_config(config, ov);
    } catch (const InputError& e) {
      throw InputError("point " + join(ov, " ") + ": " + e.what());
    }
    check_model_limits(hw, models[p.model], m.models[p.model].name, " of " + config + " with " + join(ov, " "));
  }

  if (!o.device.empty()) {
    const Device dev = load_device(device_file(o.device));
    m.device = {true, dev.name, dev.dsp, dev.bram36, dev.lut, dev.static_w};
  }
  for (const DseModel& d : m.models) {
    m.features[d.input_dim] = (fs::path(m.dir) / "features" / ("in" + std::to_string(d.input_dim) + ".ark")).string();
  }
  check_writable_dir(o.out, "--out");
  if (!o.emit_jobs.empty()) {
    std::error_code ec;
    if (fs::is_directory(o.emit_jobs, ec)) throw InputError("--emit-jobs " + o.emit_jobs + ": is a folder");
    const fs::path parent = fs::absolute(o.emit_jobs).parent_path();
    // The job list may go into the out dir, which is created below.
    if (parent.lexically_normal() != fs::path(m.dir).lexically_normal()) {
      if (!fs::is_directory(parent, ec))
        throw InputError("--emit-jobs " + o.emit_jobs + ": folder " + parent.string() + " does not exist");
      check_writable_dir(parent.string(), "--emit-jobs folder");
    }
  }
  m.exe = fs::read_symlink("/proc/self/exe").string();
  return plan;
}

// Writes the out dir: the base config, synthetic models and features, and the manifest. Results of an earlier
// sweep in DIR/points are removed, so that collecting never mixes two sweeps.
void write_sweep(const Plan& plan, const std::string& config_path) {
  const Manifest& m = plan.m;
  const fs::path dir(m.dir);
  std::error_code ec;
  for (const char* sub : {"points", "features", "models"}) {
    if (std::string(sub) == "models" && plan.synth.empty()) continue;
    fs::create_directories(dir / sub, ec);
    if (ec) throw InputError(m.dir + ": cannot create " + sub + "/: " + ec.message());
  }
  for (const auto& e : fs::directory_iterator(dir / "points", ec)) {
    const std::string n = e.path().filename().string();
    if (n.size() > 1 && n[0] == 'p' && std::isdigit(static_cast<unsigned char>(n[1]))) fs::remove(e.path(), ec);
  }
  fs::remove(dir / "dse.csv", ec);
  write_file_atomic(m.base_ini(), read_file(config_path));
  for (std::size_t i = 0; i < plan.synth.size(); ++i) save_model(plan.synth[i], m.models[i].path);
  for (const auto& [dim, path] : m.features) {
    const std::string scp = path.substr(0, path.size() - 4) + ".scp";
    write_ark(path, synth_features(m.streams, m.frames, dim, 1), ArkFormat::binary, scp);
  }
  write_file_atomic((dir / kManifestName).string(), manifest_json(m).dump(1) + "\n");
}

// ---- running the points ------------------------------------------------------------------------------------------

pid_t spawn_point(const Manifest& m, const DsePoint& p) {
  std::vector<std::string> args = m.argv_of(p);
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const std::string log = m.log_of(p);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) throw std::runtime_error("cannot start " + m.exe + ": " + std::strerror(rc));
  return pid;
}

std::string mmss(double s) {
  char b[32];
  const long t = std::lround(s);
  std::snprintf(b, sizeof b, "%ld:%02ld", t / 60, t % 60);
  return b;
}

// Steady-state µs/frame from a point's report, for the progress line (0 if it cannot be read).
double report_us(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return 0;
  const json r = json::parse(read_file(path), nullptr, false);
  if (!r.is_object() || !r.contains("device")) return 0;
  const json& d = r["device"];
  // A step carries a frame of every stream.
  const double streams = r["run"].value("streams", 1u);
  return d["latency_cycles"]["p50"].get<double>() / r["run"]["clock_mhz"].get<double>() / streams;
}

void run_points(const Manifest& m, unsigned jobs) {
  const bool tty = ::isatty(2);
  const std::size_t total = m.points.size();
  std::map<pid_t, std::size_t> running;
  std::size_t next = 0, done = 0, failed = 0;
  const auto t0 = std::chrono::steady_clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };
  auto progress = [&] {
    if (!tty) return;
    const int w = 30, fill = static_cast<int>(w * done / total);
    std::string eta =
        done ? ", ~" + mmss(elapsed() / static_cast<double>(done) * static_cast<double>(total - done)) + " left" : "";
    std::fprintf(stderr, "\r\033[K[%.*s%*s] %zu/%zu points, %zu running, %zu failed, %s%s", fill,
                 "##############################", w - fill, "", done, total, running.size(), failed,
                 mmss(elapsed()).c_str(), eta.c_str());
    std::fflush(stderr);
  };
  if (!tty)
    std::fprintf(stderr, "circa dse: %zu points, %u at a time, logs in %s/points/\n", total, jobs, m.dir.c_str());
  while (done < total) {
    while (running.size() < jobs && next < total) {
      running[spawn_point(m, m.points[next])] = next;
      ++next;
    }
    progress();
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, 0);
    if (pid < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error(std::string("waitpid: ") + std::strerror(errno));
    }
    auto it = running.find(pid);
    if (it == running.end()) continue;
    const DsePoint& p = m.points[it->second];
    running.erase(it);
    ++done;
    const bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (!ok) ++failed;
    // A point killed by a signal counts as an internal failure (1), like any exit other than 0 and 2.
    write_file_atomic(m.exit_of(p), std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : 1) + "\n");
    if (!tty) {
      const double us = ok ? report_us(m.report_of(p)) : 0;
      std::fprintf(stderr, "circa dse: [%zu/%zu] %s %s %s%s\n", done, total, p.id.c_str(), ok ? "ok" : "FAILED",
                   join(m.overrides_of(p), " ").c_str(), ok ? (", " + fmt("%.3f", us) + " us/frame").c_str() : "");
    }
  }
  progress();
  if (tty) std::fprintf(stderr, "\r\033[K");
  std::fprintf(stderr, "circa dse: ran %zu points in %s (%zu failed)\n", total, mmss(elapsed()).c_str(), failed);
}

// ---- collecting -----------------------------------------------------------------------------------------------

struct Row {
  const DsePoint* point = nullptr;
  std::string status = "ok";  // ok | failed | missing
  std::string error;
  int exit_code = -1;  // the point's circa run, when known (points/<id>.exit)
  double vp_cpf = 0, vp_first = 0, us = 0, fps = 0, gops = 0, clock_mhz = 0;
  std::uint64_t est_cpf = 0;
  DspFloor floor;
  bool has_per = false;
  double per = 0;
  std::string per_source;
  ResourceEstimate res;
  EnergyEstimate energy;
  std::string bottleneck;
  bool fits = true, pareto = false;
};

// The last non-empty line of a point's log, for the failure's reason.
std::string last_line(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return "";
  std::string text;
  try {
    text = read_file(path);
  } catch (const InputError&) {
    return "";
  }
  std::string last;
  for (const std::string& l : split(text, '\n'))
    if (l.find_first_not_of(" \t\r") != std::string::npos) last = l;
  const auto cr = last.rfind('\r');
  if (cr != std::string::npos) last = last.substr(cr + 1);
  return last;
}

std::vector<Row> collect_rows(const Manifest& m) {
  std::vector<Row> rows;
  std::map<std::size_t, Model> models;
  std::map<std::size_t, Labelled> labelled;
  // Measured PERs by model and the point's numerics and activation keys: a sweep of timing keys measures once.
  std::map<std::string, double> per_cache;
  for (const DsePoint& p : m.points) {
    Row r;
    r.point = &p;
    const std::vector<std::string> ov = m.overrides_of(p);
    HwConfig hw;
    try {
      hw = load_hw_config(m.base_ini(), ov);
    } catch (const InputError& e) {
      throw InputError("point " + p.id + ": " + e.what());
    }
    if (!models.count(p.model)) models[p.model] = load_model(m.models[p.model].path);
    const Model& model = models[p.model];
    const PerfEstimate est = estimate_perf(hw, model);
    r.est_cpf = est.cycles_per_frame;
    r.bottleneck = est.bottleneck;
    r.res = estimate_resources(hw, model);
    // On the device's DSPs when one is given, else on the design's own.
    r.floor = dsp_floor(hw, est, m.device.given ? m.device.dsp : r.res.dsp);
    const DseModel& md = m.models[p.model];
    if (!m.per_labels.empty()) {
      std::string key = std::to_string(p.model);
      for (const std::string& o : ov)
        if (o.rfind("numerics.", 0) == 0 || o.rfind("activation.", 0) == 0) key += " " + o;
      if (!per_cache.count(key)) {
        if (!labelled.count(p.model)) labelled[p.model] = load_labelled(m.per_features, m.per_labels, model);
        try {
          per_cache[key] = measured_per(model, numerics_of(hw), labelled[p.model]);
        } catch (const std::invalid_argument& e) {  // numerics the model cannot run with
          throw InputError("point " + p.id + ": " + e.what());
        }
      }
      r.has_per = true;
      r.per = per_cache[key];
      r.per_source = "measured";
    } else if (md.has_per) {
      r.has_per = true;
      r.per = md.per;
      r.per_source = md.per_source;
    }
    r.clock_mhz = hw.clock_mhz;
    if (m.device.given)
      r.fits = r.res.dsp <= m.device.dsp && r.res.bram36 <= m.device.bram36 && r.res.lut <= m.device.lut;
    const std::string rep = m.report_of(p);
    std::error_code ec;
    if (fs::exists(m.exit_of(p), ec)) {
      try {
        r.exit_code = std::stoi(read_file(m.exit_of(p)));
      } catch (const std::exception&) {
        r.exit_code = 1;
      }
    }
    json j;
    if (fs::exists(rep, ec)) j = json::parse(read_file(rep), nullptr, false);
    if (!fs::exists(rep, ec)) {
      const std::string why = last_line(m.log_of(p));
      r.status = fs::exists(m.log_of(p), ec) ? "failed" : "missing";
      r.error = r.status == "missing" ? "no result (not run yet?)" : why.empty() ? "no report, empty log" : why;
    } else if (!j.is_object() || !j.contains("device") || !j["device"].contains("latency_cycles")) {
      r.status = "failed";
      r.error = "unreadable report " + rep;
    } else {
      // A step carries a frame of every stream: the steady step over the streams is the cycles per frame.
      r.vp_cpf = j["device"]["latency_cycles"]["p50"].get<double>() / m.streams;
      r.vp_first = j["device"]["latency_cycles"]["max"].get<double>();
      r.us = r.vp_cpf / hw.clock_mhz;
      r.fps = r.us > 0 ? 1e6 / r.us : 0;
      r.gops = r.us > 0 ? 2.0 * static_cast<double>(est.dense_params) / (r.us * 1e3) : 0;
    }
    // Energy from the estimate's actions per frame, with the static part over the VP's frame time.
    PerfEstimate at_vp = est;
    if (r.status == "ok") at_vp.us_per_frame = r.us;
    r.energy = estimate_energy(hw, at_vp, m.device.given ? m.device.static_w : 0.0);
    rows.push_back(r);
  }
  // Pareto front of (DSP, µs/frame) among the designs that ran and fit: nothing else is at most as large in both
  // and smaller in one.
  for (Row& a : rows) {
    if (a.status != "ok" || !a.fits) continue;
    a.pareto = std::none_of(rows.begin(), rows.end(), [&](const Row& b) {
      return b.status == "ok" && b.fits && b.res.dsp <= a.res.dsp && b.us <= a.us &&
             (b.res.dsp < a.res.dsp || b.us < a.us);
    });
  }
  return rows;
}

std::string rows_csv(const Manifest& m, const std::vector<Row>& rows) {
  std::ostringstream o;
  std::vector<std::string> head = {"point", "model", "block"};
  for (const SweepKey& s : m.sweep) head.push_back(s.key);
  for (const char* c : {"status", "vp_cycles_per_frame", "vp_first_frame_cycles", "est_cycles_per_frame",
                        "est_vs_vp_pct", "us_per_frame", "frames_per_s", "dense_gops", "dsp", "bram36", "lut", "fits",
                        "pareto", "energy_uj_per_frame", "power_w", "bottleneck", "per", "per_source", "error"})
    head.push_back(c);
  o << join(head, ",") << "\n";
  for (const Row& r : rows) {
    const DseModel& md = m.models[r.point->model];
    std::vector<std::string> c = {r.point->id, csv_quote(md.name), md.block};
    for (const std::string& v : r.point->values) c.push_back(csv_quote(v));
    const bool ok = r.status == "ok";
    c.push_back(r.status);
    c.push_back(ok ? fmt("%.0f", r.vp_cpf) : "");
    c.push_back(ok ? fmt("%.0f", r.vp_first) : "");
    c.push_back(std::to_string(r.est_cpf));
    c.push_back(ok ? fmt("%.2f", 100.0 * (static_cast<double>(r.est_cpf) - r.vp_cpf) / r.vp_cpf) : "");
    c.push_back(ok ? fmt("%.4f", r.us) : "");
    c.push_back(ok ? fmt("%.1f", r.fps) : "");
    c.push_back(ok ? fmt("%.2f", r.gops) : "");
    c.push_back(std::to_string(r.res.dsp));
    c.push_back(std::to_string(r.res.bram36));
    c.push_back(std::to_string(r.res.lut));
    c.push_back(m.device.given ? (r.fits ? "1" : "0") : "");
    c.push_back(r.pareto ? "1" : "0");
    c.push_back(ok ? fmt("%.4f", r.energy.total_uj) : "");
    c.push_back(ok ? fmt("%.3f", r.energy.avg_power_w) : "");
    c.push_back(r.bottleneck);
    c.push_back(r.has_per ? fmt("%.2f", r.per) : "");
    c.push_back(r.per_source);
    c.push_back(csv_quote(r.error));
    o << join(c, ",") << "\n";
  }
  return o.str();
}

std::string python() {
  std::error_code ec;
  // Debian's interpreter carries Debian's matplotlib (python3-matplotlib), whatever python3 is first on PATH.
  return fs::exists("/usr/bin/python3", ec) ? "/usr/bin/python3" : "python3";
}

// Runs scripts/dse-plot; false (having said why in one line) when no plot was made.
bool plot(const Manifest& m, double floor_us) {
  const std::string script = (fs::path(circa_home()) / "scripts" / "dse-plot").string();
  std::error_code ec;
  if (!fs::exists(script, ec)) {
    std::printf("  no plots: %s is missing\n", script.c_str());
    return false;
  }
  std::vector<std::string> args = {python(), script, (fs::path(m.dir) / "dse.csv").string(), m.dir};
  if (m.device.given) {
    args.insert(args.end(), {"--device", m.device.name, "--device-dsp", std::to_string(m.device.dsp)});
    if (floor_us > 0) args.insert(args.end(), {"--floor-us", fmt("%.6g", floor_us)});
  }
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::fflush(stdout);
  pid_t pid = 0;
  if (posix_spawnp(&pid, argv[0], nullptr, nullptr, argv.data(), environ) != 0) {
    std::printf("  no plots: cannot run %s\n", args[0].c_str());
    return false;
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return true;
  if (!(WIFEXITED(status) && WEXITSTATUS(status) == kPlotNoMatplotlib))
    std::printf("  no plots: %s failed\n", script.c_str());
  return false;
}

std::string point_label(const Manifest& m, const DsePoint& p) {
  std::vector<std::string> parts = {m.models[p.model].name};
  for (std::size_t i = 0; i < m.sweep.size(); ++i) parts.push_back(m.sweep[i].key + "=" + p.values[i]);
  return join(parts, " ");
}

// Writes dse.csv (and the plots), prints the best design; the exit code says whether every point has a result.
int collect(const Manifest& m, bool no_plots) {
  const std::vector<Row> rows = collect_rows(m);
  const std::string csv = (fs::path(m.dir) / "dse.csv").string();
  write_file_atomic(csv, rows_csv(m, rows));
  std::size_t ok = 0, failed = 0, missing = 0, fit = 0, front = 0;
  const Row* best = nullptr;
  for (const Row& r : rows) {
    if (r.status == "ok") ++ok;
    if (r.status == "failed") ++failed;
    if (r.status == "missing") ++missing;
    if (r.status != "ok" || !r.fits) continue;
    ++fit;
    front += r.pareto;
    if (!best || r.us < best->us || (r.us == best->us && r.res.dsp < best->res.dsp)) best = &r;
  }
  std::printf("circa dse: %zu points: %zu ok, %zu failed, %zu missing; wrote %s\n", rows.size(), ok, failed, missing,
              csv.c_str());
  for (const Row& r : rows)
    if (r.status != "ok")
      std::printf("  %s %s (%s): %s\n", r.point->id.c_str(), r.status.c_str(), point_label(m, *r.point).c_str(),
                  r.error.c_str());
  double floor_us = 0;
  if (best) {
    const DsePoint& p = *best->point;
    const std::string where = m.device.given ? "that fits " + m.device.name : "(no --device: fit not checked)";
    std::printf("  best design %s: %s %s\n", where.c_str(), p.id.c_str(), point_label(m, p).c_str());
    std::printf("    %.0f cycles/frame = %.3f us/frame (estimate %llu cycles%s), %.0f frames/s, %.1f GOPS dense-eq.\n",
                best->vp_cpf, best->us, static_cast<unsigned long long>(best->est_cpf),
                m.streams > 1 ? (", one stream; the VP interleaves " + std::to_string(m.streams)).c_str() : "",
                best->fps, best->gops);
    std::printf("    %s DSP, %s BRAM36, %s LUT", grouped(best->res.dsp).c_str(), grouped(best->res.bram36).c_str(),
                grouped(best->res.lut).c_str());
    if (m.device.given)
      std::printf(" (%.1f %%, %.1f %%, %.1f %% of %s)", 100.0 * best->res.dsp / m.device.dsp,
                  100.0 * best->res.bram36 / m.device.bram36, 100.0 * best->res.lut / m.device.lut,
                  m.device.name.c_str());
    std::printf("; %.3f uJ/frame\n", best->energy.total_uj);
    std::fputs(dsp_floor_text(best->floor, best->us, "    ").c_str(), stdout);
    floor_us = best->floor.own_us;
    std::printf("  Pareto front (us/frame against DSP, designs that %s): %zu of %zu\n", m.device.given ? "fit" : "ran",
                front, fit);
  } else {
    std::printf("  no design %s\n", m.device.given ? ("ran and fits " + m.device.name).c_str() : "ran");
  }
  if (!no_plots && ok > 0 && plot(m, floor_us)) {
    std::printf("  wrote %s/dse-latency-dsp.png", m.dir.c_str());
    bool per = false;
    for (const Row& r : rows) per = per || r.has_per;
    if (per) std::printf(", %s/dse-per-latency.png", m.dir.c_str());
    std::printf("\n");
  }
  // Exit 2 when a point's input was rejected (its circa run exited 2), naming the points; 1 for any other failure.
  bool bad_input = false;
  for (const Row& r : rows)
    if (r.status == "failed" && r.exit_code == 2) {
      std::fprintf(stderr, "circa dse: point %s (%s): bad input: %s\n", r.point->id.c_str(),
                   point_label(m, *r.point).c_str(), r.error.c_str());
      bad_input = true;
    }
  if (bad_input) return 2;
  return failed + missing > 0 ? 1 : 0;
}

void emit_jobs(const Manifest& m, const std::string& file) {
  std::string text;
  for (const DsePoint& p : m.points) {
    std::vector<std::string> words;
    for (const std::string& a : m.argv_of(p)) words.push_back(sh_quote(a));
    // The exit code goes beside the log (collecting tells bad input, 2, from other failures) and stays the line's.
    text += join(words, " ") + " > " + sh_quote(m.log_of(p)) + " 2>&1; s=$?; echo $s > " + sh_quote(m.exit_of(p)) +
            "; exit $s\n";
  }
  write_file_atomic(file, text);
  const std::string jf = fs::absolute(file).lexically_normal().string();
  const std::size_t n = m.points.size();
  std::printf("circa dse: wrote %s: %zu jobs, one command per line; each writes %s/points/<id>.json\n", jf.c_str(), n,
              m.dir.c_str());
  std::printf("  run them:  parallel < %s\n", sh_quote(jf).c_str());
  std::printf("         or  xargs -d '\\n' -P 4 -I{} sh -c {} < %s\n", sh_quote(jf).c_str());
  std::printf("  on Slurm:  sbatch --array=1-%zu --wrap 'sed -n \"${SLURM_ARRAY_TASK_ID}p\" %s | sh'\n", n, jf.c_str());
  std::printf("  then:      %s dse --collect %s\n", sh_quote(m.exe).c_str(), sh_quote(m.dir).c_str());
}

}  // namespace

int cmd_dse(const Args& args) {
  DseOptions o;
  po::options_description d = dse_options(o);
  po::variables_map vm;
  if (parse_with_hw_overrides(args, d, o.fixed, vm)) return 0;
  o.proj_defaulted = vm["proj-dim"].defaulted();

  if (!o.collect.empty()) {
    for (const char* opt : {"config", "sweep", "models", "synth-blocks", "per", "device", "out", "emit-jobs", "jobs"})
      if (vm.count(opt)) throw UsageError(std::string("--collect takes only a folder (and --no-plots), not --") + opt);
    if (!o.fixed.empty()) throw UsageError("--collect takes only a folder, not --" + o.fixed.front());
    return collect(read_manifest(o.collect), o.no_plots);
  }
  if (vm.count("jobs") && o.jobs < 1) throw UsageError("--jobs must be at least 1");
  if (!vm.count("jobs")) {
    const long n = ::sysconf(_SC_NPROCESSORS_ONLN);
    o.jobs = n > 0 ? static_cast<unsigned>(n) : 1;
  }
  const Plan plan = plan_sweep(o);
  write_sweep(plan, plan.m.config_given);
  if (!o.emit_jobs.empty()) {
    emit_jobs(plan.m, o.emit_jobs);
    return 0;
  }
  run_points(plan.m, o.jobs);
  return collect(plan.m, o.no_plots);
}

}  // namespace circa
