// circa: run_on_vp, the one elaboration of the CLI's process.
#include <cstdio>
#include <unistd.h>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "platform/sim_entry.hpp"
#include "platform/vp_run.hpp"

namespace circa {

VpRunResult run_on_vp(const Model& m, const Numerics& num, const VpConfig& cfg, const std::vector<Utterance>& utts,
                      const Observe& obs, const AfterLoadHook& after_load, const HostOptions& ho) {
  VpRunResult res;
  HostRuntime rt(m, num, kDdrBase + 0x1000);
  TraceRecorder rec;
  std::string mmio;
  const std::string vcd_tmp = obs.vcd.empty() ? "" : obs.vcd + ".tmp-" + std::to_string(::getpid());
  run_simulation([&]() -> int {
    vp top("vp", cfg, num);
    accel_controller& acc = top.accel();
    unit_base* units[] = {&acc.fft(), &acc.emac(), &acc.ifft(), &acc.act(), &acc.cell(), &top.dma()};
    sc_core::sc_trace_file* tf = nullptr;
    if (!obs.vcd.empty()) {
      // SystemC appends ".vcd" to the name it is given.
      tf = sc_core::sc_create_vcd_trace_file(vcd_tmp.c_str());
      const bool tiles = obs.trace_level == "tiles";
      for (unit_base* u : units) {
        u->set_trace(true);
        const std::string n = u->basename();
        sc_core::sc_trace(tf, u->busy, n + ".busy");
        sc_core::sc_trace(tf, u->stall, n + ".stall");
        if (tiles) sc_core::sc_trace(tf, u->tile_index, n + ".tile_index");
      }
      acc.set_trace(true);
      sc_core::sc_trace(tf, acc.frame, "accel.frame");
      sc_core::sc_trace(tf, acc.ddr_read, "ddr.read");
      sc_core::sc_trace(tf, acc.ddr_write, "ddr.write");
      top.cpu().set_end_padding(cfg.accel.clock.cycles(2));
    }
    if (obs.lockstep) acc.set_lockstep(true);
    if (!obs.timeline.empty()) {
      for (unit_base* u : units) u->attach(rec);
      acc.attach(rec);
    }
    if (!obs.mmio_log.empty())
      top.cpu().set_access_log([&](const host_cpu::Access& a) {
        mmio += format_access(a);
        ++res.mmio_accesses;
      });
    top.cpu().set_program([&](host_cpu&) { vp_program(top, rt, utts, res, after_load, ho); });
    sc_core::sc_start();
    res.sim_seconds = sc_core::sc_time_stamp().to_seconds();
    if (tf != nullptr) sc_core::sc_close_vcd_trace_file(tf);
    return 0;
  });
  if (!obs.vcd.empty() && std::rename((vcd_tmp + ".vcd").c_str(), obs.vcd.c_str()) != 0)
    throw InputError(obs.vcd + ": cannot write the waveform");
  if (!obs.timeline.empty()) write_file_atomic(obs.timeline, rec.chrome_json(cfg.accel.clock.mhz));
  if (!obs.mmio_log.empty()) write_file_atomic(obs.mmio_log, mmio);
  return res;
}

}  // namespace circa
