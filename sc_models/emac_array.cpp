#include "sc_models/emac_array.hpp"

#include <algorithm>

#include "core/golden.hpp"

namespace circa {

std::uint64_t EmacParams::tile_cycles(std::uint64_t cmacs) const {
  const std::uint64_t per = banks >= 2 ? 1 : static_cast<std::uint64_t>(add_latency);
  return ceil_div(cmacs, static_cast<std::uint64_t>(lanes)) * per + mult_latency + add_latency;
}

emac_array::emac_array(sc_core::sc_module_name name, const EmacParams& p, const ClockParams& clk)
    : unit_base(name, clk), in("in"), out("out"), p_(p) {
  SC_THREAD(run);
}

std::uint64_t emac_array::tile_cmacs(const FixedMatvec& mv, int c0, int c1) {
  const int r0 = c0 * kRowChunk, r1 = std::min(mv.rows(), c1 * kRowChunk);
  return static_cast<std::uint64_t>(std::max(0, r1 - r0)) * mv.in_blocks() * mv.W.bins();
}

void emac_array::run() {
  for (;;) {
    Tile t = take(in);
    t.mv->mac_chunks(t.begin, t.end);
    const std::uint64_t cmacs = tile_cmacs(*t.mv, t.begin, t.end);
    stats_.ops += cmacs;
    charge(t, p_.tile_cycles(cmacs));
    give(out, t);
  }
}

}  // namespace circa
