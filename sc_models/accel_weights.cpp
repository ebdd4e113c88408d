// Weight streaming: when a job's weights do not fit the weight buffer, every frame brings each EW-MAC chunk
// range's weights from DDR into one of two slots of the buffer, just before the range's first tile is issued. The
// slots alternate, and a slot is refilled only once the EW-MAC has read every tile of the range it held (the
// EW-MAC reads a tile's weights when it takes the tile), so a fetch overlaps the MACs of the range before it.
#include "hwif/circa_regs.h"
#include "sc_models/accel_controller.hpp"

namespace circa {

// Before EW-MAC tile i of phase p: with weights streamed, the first tile of each chunk range fetches them for the
// `group` streams' tiles that follow it, and points those tiles at the slot.
void accel_controller::fetch_for(Phase& p, std::size_t i) {
  if (phase_err_ || i % p.group != 0) return;
  const int slot = static_cast<int>(fetches_ % 2);
  const int c0 = p.tiles[i].begin, c1 = p.tiles[i].end;
  // The slot's previous range must have been read: its last tile is the EW-MAC's (issued - 2 ranges) tile.
  emac_->wait_taken(slot_last_[slot]);
  if (int e = fetch_weights(*p.mat, c0, c1, slot)) {
    phase_err_ = e;
    return;
  }
  for (std::size_t j = i; j < i + p.group; ++j) {
    Tile& t = p.tiles[j];
    t.op[kWeights] = slot_[slot];
    t.w_stride = c1 - c0;
    t.w_c0 = c0;
  }
  slot_last_[slot] = emac_issued_ + p.group;  // EW-MAC tiles count from 1
}

int accel_controller::fetch_weights(const Matrix& m, int c0, int c1, int slot) {
  // A range's weights are one row of `bins` pieces, one per bin, `chunks` apart: a 2-D transfer, into the slot
  // bin-major (WeightSpan{slot, narrow, c1 - c0, c0}).
  const CirculantShape& s = m.shape;
  const std::size_t wb = word_bytes(num_.weight);
  const std::size_t per_chunk = static_cast<std::size_t>(s.q) * kRowChunk * 2 * wb;
  const std::size_t row = per_chunk * static_cast<std::size_t>(c1 - c0);
  const std::uint64_t stride = per_chunk * static_cast<std::uint64_t>(s.chunks);
  const std::uint64_t index = fetches_++;
  if (fetch_hook_) fetch_hook_(index, m.ddr, c0, c1);
  if (static_cast<std::int64_t>(index) == skip_fetch_) return 0;  // fault injection: nothing moves
  std::uint8_t* dst = bset_.values<std::uint8_t>(slot_[slot]);
  if (mem_read2d(m.ddr + per_chunk * static_cast<std::uint64_t>(c0), static_cast<std::size_t>(s.bins), row, stride, dst))
    return CIRCA_ERR_BUS;
  const std::size_t bytes = row * static_cast<std::size_t>(s.bins);
  buffer(Buf::weight).access(slot_[slot].region, bytes / wb, true);
  cnt_.ddr_rd += bytes;
  cnt_.weight_stream_bytes += bytes;
  ++cnt_.weight_fetches;
  return 0;
}

}  // namespace circa
