// circa run: inference over a feature set, on the virtual platform or (--functional) on the golden model.
#include <boost/program_options.hpp>
#include <filesystem>
#include <iostream>

#include <chrono>
#include <future>
#include <cstdio>
#include <ctime>
#include <unistd.h>

#include "core/alignment.hpp"
#include "core/atomic_file.hpp"
#include "core/golden.hpp"
#include "hwif/circa_regs.h"
#include "core/kaldi_io.hpp"
#include "core/npy.hpp"
#include "core/per.hpp"
#include "core/error.hpp"
#include "core/features.hpp"
#include "core/model.hpp"
#include "platform/cli.hpp"
#include "platform/default_paths.hpp"
#include "platform/hw_config.hpp"
#include "platform/report.hpp"
#include "platform/vp_run.hpp"

namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace circa {

namespace {

struct RunOptions {
  std::string model, features, labels, config, out, precision = "fixed", out_format;
  std::string report, vcd, trace = "units", timeline, mmio_log;
  std::string frame_period;
  double frame_period_ns = 0;
  unsigned streams = 1, ring_frames = 16;
  bool functional = false, lockstep = false;
  bool labels_given = false;
  std::vector<std::string> hw_overrides;
  std::optional<BundledInfo> bundled;  // the bundled utterances with their labels: what they stand for
};

// "10ms", "2.5 us", "1s": a simulated duration in ns. A bare number has no unit and is refused.
double parse_duration_ns(const std::string& opt, const std::string& v) {
  std::size_t used = 0;
  double x = 0;
  try {
    x = std::stod(v, &used);
  } catch (const std::exception&) {
    throw UsageError(opt + ": '" + v + "' is not a duration (e.g. 10ms)");
  }
  std::string unit = v.substr(used);
  unit.erase(0, unit.find_first_not_of(' '));
  double scale = 0;
  if (unit == "s") scale = 1e9;
  else if (unit == "ms") scale = 1e6;
  else if (unit == "us") scale = 1e3;
  else if (unit == "ns") scale = 1;
  else throw UsageError(opt + ": '" + v + "' needs a unit: s, ms, us or ns (e.g. 10ms)");
  const double ns = x * scale;
  if (!(ns >= 1.0 && ns <= 10e9)) throw UsageError(opt + ": '" + v + "' is outside 1 ns .. 10 s");
  return ns;
}


RunOptions parse_run_options(const Args& args, bool& help) {
  RunOptions o;
  po::options_description d("circa run [options] [--section.key=value ...]");
  // clang-format off
  d.add_options()
    ("help,h", "this help")
    ("model", po::value(&o.model), "model (.safetensors); default: the bundled model")
    ("features", po::value(&o.features), "features (.scp, .ark, .npy or a folder of .npy); default: bundled utterances")
    ("labels", po::value(&o.labels), "frame alignment (text, 'utt phone ...'); prints frame error and PER")
    ("config", po::value(&o.config), "hardware config (INI); default: platform/configs/default.ini")
    ("out", po::value(&o.out), "write log-posteriors: F.ark (binary Kaldi) or a folder for one .npy per utterance")
    ("out-format", po::value(&o.out_format), "ark | npy (default: from --out's extension)")
    ("functional", po::bool_switch(&o.functional), "run the golden model instead of the virtual platform")
    ("precision", po::value(&o.precision)->default_value(o.precision), "fixed | float (float needs --functional)")
    ("report", po::value(&o.report), "write report.json (and .layers.csv, .units.csv beside it)")
    ("vcd", po::value(&o.vcd), "write a VCD waveform of the units")
    ("trace", po::value(&o.trace)->default_value(o.trace), "VCD detail: units (busy, stall) | tiles (+ tile index)")
    ("timeline", po::value(&o.timeline), "write a Perfetto / Chrome trace-event timeline (JSON)")
    ("mmio-log", po::value(&o.mmio_log), "write every register access of the host (text)")
    ("lockstep", po::bool_switch(&o.lockstep), "run every tile through the units' own SystemC processes, as a "
                                              "timeline does (slower; the same cycles, outputs and waveforms)")
    ("frame-period", po::value(&o.frame_period), "live input: frames arrive every T of simulated time (e.g. 10ms) "
                                                 "through an input ring in DDR; reports latency from arrival")
    ("streams", po::value(&o.streams)->default_value(o.streams), "utterances interleaved through the pipeline (1..16)")
    ("ring-frames", po::value(&o.ring_frames)->default_value(o.ring_frames),
     "input ring size in frames per stream, with --frame-period (1..65535)");
  // clang-format on
  po::variables_map vm;
  help = parse_with_hw_overrides(args, d, o.hw_overrides, vm);
  if (help) return o;
  o.labels_given = vm.count("labels") > 0;
  if (o.precision != "fixed" && o.precision != "float")
    throw UsageError("--precision: '" + o.precision + "' is not fixed or float");
  if (o.precision == "float" && !o.functional)
    throw UsageError("--precision float runs only with --functional (the accelerator is fixed point)");
  if (!o.out_format.empty() && o.out_format != "ark" && o.out_format != "npy")
    throw UsageError("--out-format: '" + o.out_format + "' is not ark or npy");
  if (!o.out_format.empty() && o.out.empty()) throw UsageError("--out-format needs --out");
  if (!o.frame_period.empty()) o.frame_period_ns = parse_duration_ns("--frame-period", o.frame_period);
  if (o.streams < 1 || o.streams > 16) throw UsageError("--streams: " + std::to_string(o.streams) + " is outside 1..16");
  if (o.ring_frames < 1 || o.ring_frames > 65535)
    throw UsageError("--ring-frames: " + std::to_string(o.ring_frames) + " is outside 1..65535");
  if (o.functional && (!o.frame_period.empty() || o.streams != 1))
    throw UsageError("--frame-period and --streams drive the virtual platform; drop --functional");
  if (o.trace != "units" && o.trace != "tiles") throw UsageError("--trace: '" + o.trace + "' is not units or tiles");
  if (o.functional && (!o.report.empty() || !o.vcd.empty() || !o.timeline.empty() || !o.mmio_log.empty()))
    throw UsageError("--report, --vcd, --timeline and --mmio-log observe the virtual platform; drop --functional");
  for (const std::string* f : {&o.report, &o.vcd, &o.timeline, &o.mmio_log}) {
    if (f->empty()) continue;
    fs::path parent = fs::path(*f).parent_path();
    std::error_code ec2;
    if (!parent.empty() && !fs::is_directory(parent, ec2))
      throw InputError(*f + ": output folder " + parent.string() + " does not exist");
  }
  if (!o.out.empty()) {
    if (o.out_format.empty()) o.out_format = fs::path(o.out).extension() == ".ark" ? "ark" : "npy";
    fs::path parent = fs::path(o.out).parent_path();
    std::error_code ec;
    if (!parent.empty() && !fs::is_directory(parent, ec))
      throw InputError(o.out + ": output folder " + parent.string() + " does not exist");
    if (o.out_format == "ark" && fs::is_directory(o.out, ec))
      throw InputError(o.out + ": is a folder; an ark output must be a file");
  }
  bool defaults = o.model.empty() && o.features.empty();
  if (o.model.empty()) o.model = default_model_path();
  if (o.features.empty()) o.features = default_features_path();
  if (o.config.empty()) o.config = default_config_path();
  // The bundled alignment goes with the bundled utterances only.
  if (!o.labels_given && defaults && file_exists(default_labels_path())) o.labels = default_labels_path();
  if (defaults && o.labels == default_labels_path() && file_exists(default_bundled_info_path()))
    o.bundled = read_bundled_info(default_bundled_info_path());
  return o;
}

}  // namespace

namespace {

// Writes outputs atomically: an ark is one temporary file renamed at the end; a folder of .npy is filled through
// temporaries renamed one by one once every utterance has been computed.
void write_outputs(const RunOptions& o, const std::vector<Utterance>& outs) {
  if (o.out.empty()) return;
  if (o.out_format == "ark") {
    write_ark(o.out, outs, ArkFormat::binary);
    return;
  }
  std::error_code ec;
  if (fs::exists(o.out, ec) && !fs::is_directory(o.out, ec))
    throw InputError(o.out + ": exists and is not a folder (npy output writes one file per utterance)");
  fs::create_directories(o.out, ec);
  if (ec) throw InputError(o.out + ": cannot create folder: " + ec.message());
  for (const auto& u : outs) write_npy((fs::path(o.out) / (u.key + ".npy")).string(), u.mat);
}

void print_saturations(const SatCounters& sat) {
  std::printf("  saturations: %llu", static_cast<unsigned long long>(sat.total()));
  if (sat.total()) {
    std::printf(" (");
    bool first = true;
    for (int k = 0; k < static_cast<int>(SatKind::count_); ++k)
      if (sat.n[k]) {
        std::printf("%s%s %llu", first ? "" : ", ", sat_kind_name(static_cast<SatKind>(k)),
                    static_cast<unsigned long long>(sat.n[k]));
        first = false;
      }
    std::printf(")");
  }
  std::printf("\n");
}

void print_scores(const ErrorCounts& err) {
  std::printf("  frame error: %.2f%% (%llu of %llu frames)\n", err.frame_error_pct(),
              static_cast<unsigned long long>(err.frame_errors), static_cast<unsigned long long>(err.frames));
  std::printf("PER: %.2f%%\n", err.per_pct());
}

// Per-layer SQNR of fixed against float on (up to 100 frames of) the first utterance.
std::vector<double> layer_sqnr(const Model& model, const Numerics& num, const Matrix& feats) {
  FixedGolden fx(model, num);
  FloatGolden fl(model);
  const int L = static_cast<int>(model.layers.size());
  std::vector<std::vector<double>> ref(static_cast<std::size_t>(L) + 1), got(static_cast<std::size_t>(L) + 1);
  std::vector<float> lp(static_cast<std::size_t>(model.num_classes));
  for (std::size_t t = 0; t < feats.rows && t < 100; ++t) {
    fx.step(feats.row(t), lp.data());
    fl.step(feats.row(t), lp.data());
    for (int l = 0; l <= L; ++l) {
      auto a = l < L ? fl.layer_output(l) : fl.logits();
      auto b = l < L ? fx.layer_output(l) : fx.logits();
      ref[l].insert(ref[l].end(), a.begin(), a.end());
      got[l].insert(got[l].end(), b.begin(), b.end());
    }
  }
  std::vector<double> out;
  for (int l = 0; l <= L; ++l) out.push_back(sqnr_db(ref[l], got[l]));
  return out;
}

int run_vp(const RunOptions& o, const HwConfig& hw, const Numerics& num, const Model& model,
           const std::vector<Utterance>& utts, const std::vector<Alignment>& ali, int sil) {
  VpConfig cfg = vp_config_of(hw);
  Observe obs;
  obs.vcd = o.vcd;
  obs.trace_level = o.trace;
  obs.timeline = o.timeline;
  obs.mmio_log = o.mmio_log;
  obs.lockstep = o.lockstep;
  HostOptions ho;
  ho.streams = o.streams;
  ho.frame_period_ns = o.frame_period_ns;
  ho.ring_slots = o.ring_frames;
  // A progress line on a terminal, for runs of more than one job.
  const bool tty = ::isatty(2) && utts.size() > o.streams;
  if (tty)
    ho.progress = [](std::size_t done, std::size_t total) {
      const int w = 30, fill = static_cast<int>(w * done / total);
      std::fprintf(stderr, "\r[%.*s%*s] %zu/%zu utterances", fill, "##############################", w - fill, "",
                   done, total);
      std::fflush(stderr);
    };
  auto t0 = std::chrono::steady_clock::now();
  // The report's per-layer SQNR (the golden models, fixed and float, on the first utterance) on the second core
  // while the VP runs: it shares nothing with the simulation, and its result is the same whenever it is computed.
  std::future<std::vector<double>> sqnr =
      std::async(std::launch::async, [&] { return layer_sqnr(model, num, utts.front().mat); });
  VpRunResult r = run_on_vp(model, num, cfg, utts, obs, nullptr, ho);
  if (tty) std::fprintf(stderr, "\r\033[K");
  if (r.driver_error == CIRCA_ERR_BUFFER) {
    // The configuration's on-chip buffers cannot hold this model's job: bad input, named by the key to raise.
    const std::string& d = r.detail;
    const bool slots = d.find("slots") != std::string::npos;
    std::string key = "buffer.weight_slots_kib";
    if (!slots)
      for (const char* b : {"input", "spectrum", "weight", "psum", "gates", "state", "output"})
        if (d.rfind(std::string("the ") + b + " buffer", 0) == 0) key = std::string("buffer.") + b + "_kib";
    throw InputError(hw.source + ": " + o.model + " does not fit: " + d + "; raise " + key);
  }
  if (r.driver_error) throw std::runtime_error("virtual platform: " + r.error);
  RunFacts f;
  f.model = o.model;
  f.features = o.features;
  f.config = hw.source;
  f.arch = arch_name(model.arch);
  f.layers = static_cast<int>(model.layers.size());
  f.classes = model.num_classes;
  f.utterances = utts.size();
  for (const auto& u : utts) f.frames += u.mat.rows;
  f.clock_mhz = hw.clock_mhz;
  f.streams = o.streams;
  f.frame_period_ns = o.frame_period_ns;
  f.ring_frames = o.ring_frames;
  f.dense_params = model_stats(model).dense_params;
  f.vp = &r;
  f.input_saturations = r.input_saturations;
  for (std::size_t i = 0; i < r.outputs.size() && !ali.empty(); ++i) {
    f.errors += score_utterance(r.outputs[i].mat, ali[i].phones, sil);
    f.scored = true;
  }
  f.sqnr_db = sqnr.get();
  f.bundled = o.bundled;
  write_outputs(o, r.outputs);
  f.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  nlohmann::ordered_json rep = build_report(f);
  if (!o.report.empty()) write_report(o.report, rep);
  std::fputs(summary_text(rep).c_str(), stdout);
  if (!o.out.empty()) std::printf("  wrote %s (%s)\n", o.out.c_str(), o.out_format.c_str());
  for (const std::string* p : {&o.report, &o.vcd, &o.timeline, &o.mmio_log})
    if (!p->empty()) std::printf("  wrote %s\n", p->c_str());
  return 0;
}

std::string key_safe(const std::string& key) {
  for (char c : key)
    if (c == '/' || c == '\\' || key == "." || key == "..")
      throw InputError("utterance key '" + key + "' cannot name a file in an npy output folder");
  return key;
}

}  // namespace

int cmd_run(const Args& args) {
  bool help = false;
  RunOptions o = parse_run_options(args, help);
  if (help) return 0;

  // Validate everything before computing anything, so a bad input costs no time and leaves no output.
  HwConfig hw = load_hw_config(o.config, o.hw_overrides);
  Numerics num = numerics_of(hw);
  Model model = load_model(o.model);
  // The accelerator would refuse the job with an error code: bad input, said before anything runs.
  if (!o.functional) check_model_limits(hw, model, o.model, " of " + hw.source);
  auto utts = load_features(o.features, static_cast<std::size_t>(model.input_dim));
  std::vector<Alignment> ali;
  if (!o.labels.empty()) ali = match_alignment(read_alignment(o.labels, model.phone_set), utts, o.labels);
  if (o.out_format == "npy")
    for (const auto& u : utts) key_safe(u.key);
  const int sil = sil_index(model.phone_set);

  if (!o.functional) return run_vp(o, hw, num, model, utts, ali, sil);

  std::unique_ptr<FixedGolden> fixed;
  std::unique_ptr<FloatGolden> flt;
  try {
    if (o.precision == "fixed")
      fixed = std::make_unique<FixedGolden>(model, num);
    else
      flt = std::make_unique<FloatGolden>(model);
  } catch (const std::invalid_argument& e) {
    throw InputError(hw.source + ": " + e.what());
  }

  std::size_t frames = 0;
  for (const auto& u : utts) frames += u.mat.rows;
  const bool tty = ::isatty(2) && utts.size() > 1;
  std::vector<Utterance> outs(utts.size());
  ErrorCounts err;
  auto cpu_now = [] {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
  };
  const double c0 = cpu_now();
  auto t0 = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < utts.size(); ++i) {
    outs[i].key = utts[i].key;
    outs[i].mat = fixed ? fixed->run(utts[i].mat) : flt->run(utts[i].mat);
    if (!ali.empty()) err += score_utterance(outs[i].mat, ali[i].phones, sil);
    if (tty) std::fprintf(stderr, "\r[%zu/%zu] %s", i + 1, utts.size(), utts[i].key.c_str());
  }
  if (tty) std::fprintf(stderr, "\r\033[K");
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double cpu = cpu_now() - c0;
  write_outputs(o, outs);

  std::printf("circa run --functional (%s): %s\n", o.precision.c_str(), o.model.c_str());
  std::printf("  %zu utterance(s), %zu frames from %s\n", utts.size(), frames, o.features.c_str());
  if (fixed)
    std::printf("  numerics: weights %s, activations %s, cell %s, %s, %d-bit accumulators, %s activations\n",
                num.weight.str().c_str(), num.act.str().c_str(), num.cell.str().c_str(), rounding_name(num.rounding),
                num.acc_bits, hw.act_mode.c_str());
  std::printf("  host time: %.4f ms/frame (%.0f frames/s), CPU %.4f ms/frame\n", frames ? 1e3 * wall / frames : 0.0,
              wall > 0 ? frames / wall : 0.0, frames ? 1e3 * cpu / frames : 0.0);
  if (fixed) print_saturations(fixed->saturations());
  if (!ali.empty()) print_scores(err);
  if (!ali.empty() && o.bundled) std::fputs(bundled_note(*o.bundled).c_str(), stdout);
  if (!o.out.empty()) std::printf("  wrote %s (%s)\n", o.out.c_str(), o.out_format.c_str());
  return 0;
}

}  // namespace circa
