// circa: what every datapath unit shares: a tile type, statistics, and the VCD-visible signals.
//
// A unit is an SC_THREAD that takes a tile from its input channel, runs the `core` stage kernel on the tile's range,
// computes the tile's cycles from its timing parameters, waits once, and passes the tile on. Time spent blocked on
// the output channel (back-pressure) or on the input channel in the middle of a job (starvation) is stall.
#pragma once

#include <cstdint>
#include <string>
#include <systemc>
#include <vector>

#include "core/fixed.hpp"
#include "sc_models/clock.hpp"
#include "traces/trace_recorder.hpp"

namespace circa {

struct FixedMatvec;
struct FixedLayer;
struct FixedOutput;
struct Numerics;

// What follows a tile's kernel on its way out of a unit (write-backs into narrow formats).
enum class TilePost : std::uint8_t { none, proj_writeback, logits_writeback };

// A unit of work. Ranges are in the unit's own terms: input blocks (FFT), row chunks of 8 block rows (EW-MAC),
// block rows (IFFT), cells (activation, cell update).
struct Tile {
  std::uint32_t seq = 0;  // running tile number of its stage, for traces
  int frame = 0;
  int layer = 0;
  int begin = 0, end = 0;
  bool last = false;  // the last tile of its stage in this frame
  TilePost post = TilePost::none;
  FixedMatvec* mv = nullptr;
  FixedLayer* lay = nullptr;
  FixedOutput* out = nullptr;
};

inline std::ostream& operator<<(std::ostream& os, const Tile& t) {
  return os << "tile " << t.seq << " [" << t.begin << ", " << t.end << ")";
}

struct UnitStats {
  std::uint64_t tiles = 0;
  std::uint64_t busy_cycles = 0;
  std::uint64_t stall_in_cycles = 0;   // waiting for input in the middle of a job
  std::uint64_t stall_out_cycles = 0;  // waiting for room downstream
  std::uint64_t ops = 0;               // unit-specific operations (blocks, complex MACs, values)
  SatCounters sat;
  std::vector<std::uint64_t> busy_by_layer;  // busy cycles per tile.layer (the output layer is the last index)
  std::vector<std::uint64_t> tiles_by_layer;
};

class unit_base : public sc_core::sc_module {
public:
  sc_core::sc_signal<bool> busy;
  sc_core::sc_signal<bool> stall;
  sc_core::sc_signal<std::uint32_t> tile_index;

  const UnitStats& stats() const { return stats_; }
  const ClockParams& clock() const { return clk_; }
  // With tracing on, busy drops for the last cycle of every tile so each tile shows as one rising edge in a VCD.
  void set_trace(bool on) { trace_ = on; }
  // Reports every tile as a timeline slice on its own track.
  void attach(TraceRecorder& rec) { rec_ = &rec, track_ = rec.add_track(basename()); }

protected:
  unit_base(sc_core::sc_module_name name, const ClockParams& clk);

  // Blocking read that books the wait as stall when the previous tile was not the last of its job.
  Tile take(sc_core::sc_fifo_in<Tile>& in);
  // Blocking write that books the wait as stall (back-pressure).
  void give(sc_core::sc_fifo_out<Tile>& out, const Tile& t);
  // Charges `cycles` of work for tile t: one wait, busy high meanwhile.
  void charge(const Tile& t, std::uint64_t cycles);

  // A span of work that is not a charge() (the DMA's burst groups), for the timeline.
  void record(const sc_core::sc_time& start, const sc_core::sc_time& end, std::uint32_t seq, int frame, int layer);

  ClockParams clk_;
  UnitStats stats_;
  bool trace_ = false;
  bool mid_job_ = false;
  TraceRecorder* rec_ = nullptr;
  int track_ = -1;
};

}  // namespace circa
