// circa: run_on_vp, the one elaboration of the CLI's process.
#include "platform/sim_entry.hpp"
#include "platform/vp_run.hpp"

namespace circa {

VpRunResult run_on_vp(const Model& m, const Numerics& num, const VpConfig& cfg, const std::vector<Utterance>& utts,
                      const AfterLoadHook& after_load) {
  VpRunResult res;
  HostRuntime rt(m, num, kDdrBase + 0x1000);
  run_simulation([&]() -> int {
    vp top("vp", cfg, num);
    top.cpu().set_program([&](host_cpu&) { vp_program(top, rt, utts, res, after_load); });
    sc_core::sc_start();
    res.sim_seconds = sc_core::sc_time_stamp().to_seconds();
    return 0;
  });
  return res;
}

}  // namespace circa
