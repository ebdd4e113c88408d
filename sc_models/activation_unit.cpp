#include "sc_models/activation_unit.hpp"

#include <stdexcept>

#include "core/golden.hpp"

namespace circa {

std::uint64_t ActivationParams::tile_cycles(int cells) const {
  return ceil_div(3 * static_cast<std::uint64_t>(cells), static_cast<std::uint64_t>(lanes)) + latency;
}

activation_unit::activation_unit(sc_core::sc_module_name name, const ActivationParams& p, const ClockParams& clk,
                                 const Numerics& num)
    : unit_base(name, clk), in("in"), out("out"), p_(p), num_(num) {
  SC_THREAD(run);
}

bool activation_unit::load_lut(ActFn fn, const std::vector<std::int32_t>& table) {
  try {
    for (FixedLayer* l : layers_) {
      if (fn == ActFn::sigmoid) {
        l->sig->load_table(table);
      } else {
        l->tanh_act->load_table(table);
      }
    }
  } catch (const std::invalid_argument& e) {
    SC_REPORT_WARNING("circa/activation_unit", e.what());
    return false;
  }
  return true;
}

void activation_unit::run() {
  for (;;) {
    Tile t = take(in);
    t.lay->activate(t.begin, t.end, num_, stats_.sat);
    const int cells = t.end - t.begin;
    stats_.ops += 3 * static_cast<std::uint64_t>(cells);
    charge(t, p_.tile_cycles(cells));
    give(out, t);
  }
}

}  // namespace circa
