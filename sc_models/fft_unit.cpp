#include "sc_models/fft_unit.hpp"

#include <algorithm>

#include "core/golden.hpp"

namespace circa {

std::uint64_t FftParams::latency(int k) const {
  int stages = 0;
  while ((1 << stages) < k) ++stages;
  return static_cast<std::uint64_t>(stages) * stage_latency + io_latency;
}

std::uint64_t FftParams::tile_cycles(int blocks, int k) const {
  return ceil_div(static_cast<std::uint64_t>(blocks), static_cast<std::uint64_t>(lanes)) * ii + latency(k);
}

template <FftDirection D>
fft_unit_t<D>::fft_unit_t(sc_core::sc_module_name name, const FftParams& p, const ClockParams& clk,
                          const Numerics& num)
    : unit_base(name, clk), in("in"), out("out"), p_(p), num_(num) {
  SC_THREAD(run);
}

template <FftDirection D>
void fft_unit_t<D>::run() {
  for (;;) {
    Tile t = take(in);
    FixedMatvec& mv = *t.mv;
    int n = t.end - t.begin;
    if constexpr (D == FftDirection::forward) {
      mv.fft_blocks(t.begin, t.end, num_, stats_.sat);
    } else {
      // The inverse takes the EW-MAC's tiles as they are: row chunks of 8 block rows.
      const int r0 = t.begin * kRowChunk, r1 = std::min(mv.rows(), t.end * kRowChunk);
      n = r1 - r0;
      mv.ifft_rows(r0, r1, num_, stats_.sat);
      if (t.post == TilePost::proj_writeback) t.lay->proj_writeback(r0, r1, num_, stats_.sat);
      if (t.post == TilePost::logits_writeback) t.out->writeback(r0 * mv.W.k(), r1 * mv.W.k(), num_, stats_.sat);
    }
    stats_.ops += static_cast<std::uint64_t>(n);
    charge(t, p_.tile_cycles(n, mv.W.k()));
    give(out, t);
  }
}

template class fft_unit_t<FftDirection::forward>;
template class fft_unit_t<FftDirection::inverse>;

}  // namespace circa
