#include "sc_models/cell_update.hpp"

#include "core/golden.hpp"

namespace circa {

std::uint64_t CellUpdateParams::tile_cycles(int cells) const {
  return ceil_div(static_cast<std::uint64_t>(cells), static_cast<std::uint64_t>(lanes)) + latency;
}

cell_update::cell_update(sc_core::sc_module_name name, const CellUpdateParams& p, const ClockParams& clk,
                         const Numerics& num)
    : unit_base(name, clk), in("in"), out("out"), p_(p), num_(num) {
  SC_THREAD(run);
}

void cell_update::run() {
  for (;;) {
    Tile t = take(in);
    t.lay->cell_update(t.begin, t.end, num_, stats_.sat);
    const int cells = t.end - t.begin;
    stats_.ops += static_cast<std::uint64_t>(cells);
    charge(t, p_.tile_cycles(cells));
    give(out, t);
  }
}

}  // namespace circa
