// circa: inference on the virtual platform. The host CPU's program is the C driver plus the host runtime: open the
// device, load the packed model into DDR, then per utterance pack the frames, run the job, read the logits back.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/matrix.hpp"
#include "core/model.hpp"
#include "core/numerics.hpp"
#include "platform/vp.hpp"
#include "sw_driver/runtime.hpp"

extern "C" {
#include "sw_driver/circa_drv.h"
}

namespace circa {

// One job: an utterance, or one utterance per stream with --streams.
struct UtteranceStats {
  std::uint64_t cycles = 0, frames = 0;  // frames of every stream of the job
  std::uint32_t streams = 1;
  AccelCounters counters;
  std::vector<std::uint64_t> frame_done;  // cycles from START to each frame step's end
  // With a frame period: per frame (every stream's), cycles from its arrival to its output in DDR.
  std::vector<double> arrival_latency;
};

// How the host feeds the device.
struct HostOptions {
  std::uint32_t streams = 1;      // utterances interleaved per job
  double frame_period_ns = 0;     // > 0: frames arrive at this simulated rate through an input ring
  std::uint32_t ring_slots = 16;  // ring frames per stream
  std::function<void(std::size_t done, std::size_t total)> progress;  // after every job
};

// What a unit did over the whole run, for reports.
struct UnitReport {
  std::string name;
  UnitStats stats;
};

// Views of a run (issue "Seeing inside"): empty paths mean off.
struct Observe {
  std::string vcd;                 // waveform file
  std::string trace_level = "units";  // units | tiles
  std::string timeline;            // Chrome / Perfetto trace-event JSON
  std::string mmio_log;            // every register access
  bool lockstep = false;           // every tile a SystemC step of its own (as with a waveform), no waveform
};

// One on-chip buffer at the end of a run.
struct BufferReport {
  std::string name;
  std::uint64_t capacity_bytes = 0, peak_bytes = 0;  // hardware bytes
  OnchipBufferStats stats;
};

struct VpRunResult {
  int driver_error = 0;  // 0, or the circa_drv / device code that stopped the run
  std::string error;     // its string
  std::string detail;    // the device's own words on it, when it has any (a layout that does not fit)
  std::vector<Utterance> outputs;
  std::vector<UtteranceStats> stats;
  SatCounters input_saturations;
  bool weights_on_chip = true;
  std::uint64_t weight_bytes = 0;
  double sim_seconds = 0;
  double host_step_wall = 0, host_step_cpu = 0;  // host seconds spent in frame steps (accel_controller)
  std::uint64_t waves = 0, decoupled_waves = 0;  // how the frame steps ran (accel_controller::waves)
  std::uint64_t replayed_waves = 0;              // decoupled waves on the previous step's schedule
  std::vector<UnitReport> units;  // fft, emac, ifft, activation, cell update, dma
  std::vector<BufferReport> buffers;  // input, spectrum, weight, psum, gates, state, output
  std::vector<accel_controller::LayerTotals> layers;
  std::uint64_t ddr_bytes_read = 0, ddr_bytes_written = 0;
  std::uint64_t mmio_accesses = 0;
};

// A hook for tests: called after the model is in DDR and before the first job (e.g. to corrupt a weight word).
using AfterLoadHook = std::function<void(vp&, std::uint64_t model_base)>;

// The host program of a run: open the device, load the model, run every utterance. Call inside an elaboration,
// as `top`'s CPU program.
void vp_program(vp& top, const HostRuntime& rt, const std::vector<Utterance>& utts, VpRunResult& res,
                const AfterLoadHook& after_load = nullptr, const HostOptions& ho = {});

// Elaborates the platform and runs it; one call per process (SystemC elaborates once).
VpRunResult run_on_vp(const Model& m, const Numerics& num, const VpConfig& cfg, const std::vector<Utterance>& utts,
                      const Observe& obs = {}, const AfterLoadHook& after_load = nullptr,
                      const HostOptions& ho = {});

// One line of the MMIO log.
std::string format_access(const host_cpu::Access& a);

// The C HAL over the host CPU (register accesses relative to the register block).
circa_hal make_vp_hal(host_cpu& cpu);

}  // namespace circa
