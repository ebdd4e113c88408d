// circa soak: streams many frames through the virtual platform in one process and one elaboration, as utterances
// run one after another through the shipped host program (vp_program: driver, host runtime, controller, units,
// DMA, DDR), and samples the process's resident memory (VmRSS) after every utterance. Whatever a job allocates must
// be given back, so RSS must stay flat once the first jobs have touched every buffer and DDR page they use.
//
//   soak_vp [--frames N] [--frames-per-utt F] [--frame-period-us P] [--model M] [--config INI] [--max-growth-mib B]
//           [--samples S]
//
// Frames arrive as live input, one every P us of simulated time (10,000: 10 ms, speech's frame rate; 0: batch),
// through the input ring the driver feeds.
// Prints S evenly spaced samples, then the growth from the warm-up mark (20 % of the frames) to the end. With
// --max-growth-mib the exit code is 1 when the growth exceeds B. Every 25th utterance's outputs are checked
// bit-exact against the golden model, so the soak measures a platform that computes. Exit code 2: bad arguments.
#include <malloc.h>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <systemc>
#include <vector>

#include "core/golden.hpp"
#include "core/rng.hpp"
#include "platform/default_paths.hpp"
#include "platform/hw_config.hpp"
#include "platform/vp_run.hpp"

#ifdef __SANITIZE_ADDRESS__
// ASan's quarantine holds freed blocks back (256 MiB by default), which would read as growth; the soak asks about
// circa's memory, not the sanitizer's.
extern "C" const char* __asan_default_options() {
  return "quarantine_size_mb=0";
}
#endif

using namespace circa;

namespace {

struct Options {
  long frames = 10000;
  long per_utt = 20;
  int samples = 20;
  double max_growth_mib = -1;  // < 0: report only
  double period_us = 10000;
  std::string model, config;
};

[[noreturn]] void usage(const std::string& why) {
  std::fprintf(stderr,
               "soak_vp: %s\nusage: soak_vp [--frames N] [--frames-per-utt F] [--model M] [--config INI] "
               "[--frame-period-us P] [--max-growth-mib B] [--samples S]\n",
               why.c_str());
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) usage("option " + a + " needs a value");
    const char* v = argv[++i];
    char* end = nullptr;
    if (a == "--frames") {
      o.frames = std::strtol(v, &end, 10);
    } else if (a == "--frames-per-utt") {
      o.per_utt = std::strtol(v, &end, 10);
    } else if (a == "--samples") {
      o.samples = static_cast<int>(std::strtol(v, &end, 10));
    } else if (a == "--frame-period-us") {
      o.period_us = std::strtod(v, &end);
    } else if (a == "--max-growth-mib") {
      o.max_growth_mib = std::strtod(v, &end);
    } else if (a == "--model") {
      o.model = v;
      continue;
    } else if (a == "--config") {
      o.config = v;
      continue;
    } else {
      usage("unknown option " + a);
    }
    if (end == v || *end != '\0') usage("option " + a + ": '" + v + "' is not a number");
  }
  if (o.frames < 1 || o.per_utt < 1 || o.per_utt > o.frames) usage("need 1 <= --frames-per-utt <= --frames");
  if (o.samples < 2) usage("--samples must be at least 2");
  if (!(o.period_us >= 0 && o.period_us <= 1e7)) usage("--frame-period-us must be in 0 .. 10000000");
  if (o.model.empty()) o.model = default_model_path();
  if (o.config.empty()) o.config = default_config_path();
  return o;
}

// VmRSS of this process in KiB, or -1.
long rss_kib() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
  return -1;
}

// Bytes the program holds through malloc right now. Unlike RSS it is blind to what the allocator keeps back, so the
// two together tell memory that circa holds on to from a heap that is still settling.
long heap_kib() {
  return static_cast<long>(mallinfo2().uordblks / 1024);
}

double mib(long kib) {
  return static_cast<double>(kib) / 1024.0;
}

struct Sample {
  long utt, frames, rss_kib, heap_kib;
  double wall;
};

}  // namespace

int soak(const Options& o);

int sc_main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  try {
    return soak(o);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "soak_vp: %s\n", e.what());
    return 2;
  }
}

int soak(const Options& o) {
  const HwConfig hw = load_hw_config(o.config, {});
  const Numerics num = numerics_of(hw);
  const Model model = load_model(o.model);
  const VpConfig cfg = vp_config_of(hw);
  const HostRuntime rt(model, num, kDdrBase + 0x1000);
  FixedGolden golden(model, num);
  const long utts = (o.frames + o.per_utt - 1) / o.per_utt;

  vp top("vp", cfg, num);
  top.cpu().set_stop_at_end(false);  // the run ends when the host program does; no "stopped by user" line
  // Written in full before the first sample: a reserved but untouched vector would add its pages to RSS one by one
  // as the samples fill it, which reads as a leak of a few dozen bytes per utterance.
  std::vector<Sample> samples(static_cast<std::size_t>(utts) + 1);
  long checked = 0, failures = 0;
  std::string failure;
  const auto t0 = std::chrono::steady_clock::now();
  samples[0] = {0, 0, rss_kib(), heap_kib(), 0.0};
  top.cpu().set_program([&](host_cpu&) {
    Rng rng(1);
    std::vector<Utterance> one(1);
    long frames = 0;
    for (long u = 0; u < utts; ++u) {
      const long n = std::min(o.per_utt, o.frames - frames);
      Utterance& utt = one[0];
      utt.key = "soak" + std::to_string(u);
      utt.mat = Matrix(static_cast<std::size_t>(n), static_cast<std::size_t>(model.input_dim));
      for (float& v : utt.mat.data) v = static_cast<float>(rng.normal());
      VpRunResult res;
      HostOptions ho;
      ho.frame_period_ns = o.period_us * 1e3;
      vp_program(top, rt, one, res, nullptr, ho);
      if (res.driver_error != 0) {
        ++failures;
        if (failure.empty()) failure = utt.key + ": " + res.error;
      } else if (u % 25 == 0) {
        ++checked;
        if (res.outputs.at(0).mat.data != golden.run(utt.mat).data) {
          ++failures;
          if (failure.empty()) failure = utt.key + ": outputs differ from the golden model";
        }
      }
      frames += n;
      const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      samples[static_cast<std::size_t>(u) + 1] = {u + 1, frames, rss_kib(), heap_kib(), wall};
    }
  });
  sc_core::sc_start();

  const Sample& last = samples.back();
  char pbuf[64];
  std::snprintf(pbuf, sizeof pbuf, "live input, a frame every %g ms", o.period_us / 1e3);
  const std::string period = o.period_us > 0 ? pbuf : "batch input";
  std::printf("soak: %ld frames as %ld utterances of up to %ld frames through the virtual platform (%s, %s), %s\n",
              last.frames, last.utt, o.per_utt, o.model.c_str(), o.config.c_str(),
              period.c_str());
  std::printf("  %8s %8s %10s %10s %8s\n", "utt", "frames", "RSS MiB", "heap MiB", "wall s");
  const std::size_t n = samples.size();
  for (int s = 0; s < o.samples; ++s) {
    const Sample& x = samples[(n - 1) * static_cast<std::size_t>(s) / static_cast<std::size_t>(o.samples - 1)];
    std::printf("  %8ld %8ld %10.2f %10.2f %8.2f\n", x.utt, x.frames, mib(x.rss_kib), mib(x.heap_kib), x.wall);
  }
  // Warm-up: the first 20 % of the frames, during which the DDR pages, buffers and caches are first touched.
  std::size_t warm = 0;
  while (warm + 1 < n && samples[warm].frames * 5 < last.frames) ++warm;
  long max_after = 0;
  for (std::size_t i = warm; i < n; ++i) max_after = std::max(max_after, samples[i].rss_kib);
  const double growth = mib(last.rss_kib - samples[warm].rss_kib);
  const double peak_growth = mib(max_after - samples[warm].rss_kib);
  std::printf(
      "RSS: start %.2f MiB, after warm-up (frame %ld) %.2f MiB, end %.2f MiB; growth after warm-up %+.2f MiB "
      "(peak %+.2f MiB)",
      mib(samples[0].rss_kib), samples[warm].frames, mib(samples[warm].rss_kib), mib(last.rss_kib), growth,
      peak_growth);
  if (o.max_growth_mib >= 0) std::printf(", bound %.2f MiB", o.max_growth_mib);
  std::printf("\n  %.3f ms/frame wall, %ld utterances checked bit-exact against the golden model\n",
              last.frames ? 1e3 * last.wall / static_cast<double>(last.frames) : 0.0, checked);
  if (failures) {
    std::fprintf(stderr, "soak: %ld utterance(s) failed; first: %s\n", failures, failure.c_str());
    return 1;
  }
  if (samples[0].rss_kib < 0) {
    std::fprintf(stderr, "soak: cannot read VmRSS from /proc/self/status\n");
    return 1;
  }
  if (o.max_growth_mib >= 0 && peak_growth > o.max_growth_mib) {
    std::fprintf(stderr, "soak: RSS grew by %.2f MiB after warm-up, more than the %.2f MiB bound\n", peak_growth,
                 o.max_growth_mib);
    return 1;
  }
  return 0;
}

int main(int argc, char** argv) {
  ::setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 1);
  return sc_core::sc_elab_and_sim(argc, argv);
}
