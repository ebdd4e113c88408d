// circa: what every datapath unit shares: a tile type, statistics, and the VCD-visible signals.
//
// A unit is an SC_THREAD that takes a tile from its input channel, reads the tile's operands from the on-chip
// buffers the tile names (sc_models/buffer_set.hpp), computes on them with a `core` kernel, writes its results into
// its output buffer, computes the tile's cycles from its timing parameters and the buffers' port cycles, waits
// once, and passes the tile on. Time spent blocked on the output channel (back-pressure) or on the input channel in
// the middle of a job (starvation) is stall. For most waves the controller drives the units without their processes
// and times the tiles itself by the same rules (sc_models/accel_decoupled.cpp): a unit's cost() and execute() are
// what both use.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <systemc>
#include <vector>

#include "core/circulant.hpp"
#include "core/fixed.hpp"
#include "core/model.hpp"
#include "sc_models/buffer_set.hpp"
#include "sc_models/clock.hpp"
#include "traces/trace_recorder.hpp"

namespace circa {

// What follows a tile's kernel on its way out of the IFFT (write-backs of wide sums into act).
enum class TilePost : std::uint8_t { none, proj_writeback, logits_writeback };

// The operands a tile names, by role. Matvec tiles: seg0/seg1 (input segments, FFT), spectrum (FFT out, EW-MAC
// in), weights (the EW-MAC's weight region: the whole matrix on chip, or the slot its tile was streamed into), psum
// (EW-MAC out, IFFT in), sums (IFFT out), dest and bias (the write-back's target and the logits' bias). Cell tiles:
// gy, ry (gate sums), bias, peep, bias_x, bias_r, gate, c, m, r_prev, r_next.
enum Operand : std::uint8_t {
  kSeg0, kSeg1, kSpectrum, kWeights, kPsum, kSums, kDest, kBias,
  kGy, kRy, kPeep, kBiasX, kBiasR, kGate, kC, kM, kRPrev, kRNext,
  kOperands
};

// A unit of work. Ranges are in the unit's own terms: input blocks (FFT), row chunks of 8 block rows (EW-MAC and
// IFFT), cells (activation, cell update). It carries values' addresses in on-chip buffers, never pointers.
struct Tile {
  std::uint32_t seq = 0;  // running tile number of its stage, for traces
  int frame = 0;
  int layer = 0;
  int begin = 0, end = 0;
  bool last = false;  // the last tile of its stage in this frame
  TilePost post = TilePost::none;
  // Matvec tiles.
  CirculantShape shape;
  int seg_n[2] = {0, 0};  // logical lengths of the input segments (seg1 absent: 0)
  int run = 1;            // int32 run length the weights' bounds allow (FixedCirculant::int32_run)
  bool vector = false;    // 16-bit weights and activations: the pairwise kernel applies
  bool narrow = true;     // 16-bit weight words
  int w_stride = 0, w_c0 = 0;  // the weight region's span (WeightSpan::bin_stride, c0)
  // Passes (dataflow.rows_per_pass): block rows per pass (0: the lanes are a pool of complex MACs), cycles per input
  // block within a pass, and pipeline depth added by a DFT replayed inside the passes.
  int pass_rows = 0, pass_ii = 1, pass_depth = 0;
  // pass_groups > 1: a pass takes pass_rows rows of each of pass_groups gates, p / pass_groups rows apart (the tile
  // is the whole matrix); a piece's rows are [row0, row1) in each group. first_pass_hidden: the first pass ran on
  // lanes of its own as the input arrived; only its last block is left (dataflow.projection_first_pass).
  int pass_groups = 1;
  bool first_pass_hidden = false;
  // dataflow.spectrum_per_pass: the input's DFT is recomputed in every pass, inside the EW-MAC's pipeline. The FFT
  // unit still computes the spectrum once per frame (the values are the same every time) but charges no time.
  bool spectrum_replayed = false;
  // A piece of an EW-MAC tile in pass mode: block rows [row0, row1) leave after their pass; piece_last marks the
  // tile's last piece (the scheduler collects a tile once). row0 < 0: the whole tile.
  int row0 = -1, row1 = -1;
  bool piece_last = true;
  // Cell tiles.
  Arch arch = Arch::lstmp;
  int cell = 0;
  BufRef op[kOperands];
};

inline std::ostream& operator<<(std::ostream& os, const Tile& t) {
  return os << "tile " << t.seq << " [" << t.begin << ", " << t.end << ")";
}

struct UnitStats {
  std::uint64_t tiles = 0;
  std::uint64_t busy_cycles = 0;
  std::uint64_t stall_in_cycles = 0;   // waiting for input in the middle of a job
  std::uint64_t stall_out_cycles = 0;  // waiting for room downstream
  std::uint64_t port_cycles = 0;       // cycles added because a buffer's ports were slower than the unit
  std::uint64_t ops = 0;               // unit-specific operations (blocks, complex MACs, values)
  SatCounters sat;
  std::vector<std::uint64_t> busy_by_layer;  // busy cycles per tile.layer (the output layer is the last index)
  std::vector<std::uint64_t> tiles_by_layer;
};

// The time a tile takes, from its unit's timing parameters and its buffer accesses: its own cycles (issue and
// pipeline latency), the part of them during which operands stream through the buffers' ports (issue), and the
// ports' cycles; when the ports need more than the issue, the tile takes cycles - issue + ports. A tile of the
// EW-MAC in pass mode (pieces) leaves as `passes` pieces, `pass` cycles apart, the first after the pipeline's depth.
struct TileCost {
  std::uint64_t cycles = 0, issue = 0, ports = 0;
  bool pieces = false;
  std::uint64_t passes = 1, pass = 0;
  std::uint64_t ops = 0;  // the unit's operations (UnitStats::ops)
  bool timed = true;      // false: the tile takes no time of its own (a spectrum replayed inside the EW-MAC)
  std::uint64_t total() const { return ports > issue ? cycles + ports - issue : cycles; }
  // Cycles from the tile's start to its first piece, or from one piece to the next.
  std::uint64_t piece_cycles(std::uint64_t i) const { return i == 0 ? total() - (passes - 1) * pass : pass; }
};

// Port cycles of one tile's buffer accesses: per buffer, the sum of its accesses; the tile waits for the slowest.
// Booking counts the accesses in the buffers' statistics; without, it only computes their cycles.
class PortTally {
public:
  PortTally(const buffer_set& bufs, bool booking) : bufs_(bufs), booking_(booking) {}
  void add(const BufRef& r, std::uint64_t count, bool write) {
    if (r.none() || count == 0) return;
    onchip_buffer& b = bufs_[r.buf];
    per_[static_cast<std::size_t>(r.buf)] += booking_ ? b.access(r.region, count, write) : b.value_cycles(r.region, count);
  }
  std::uint64_t max() const {
    std::uint64_t m = 0;
    for (std::uint64_t c : per_) m = c > m ? c : m;
    return m;
  }

private:
  const buffer_set& bufs_;
  bool booking_;
  std::uint64_t per_[kBuffers] = {};
};

class unit_base : public sc_core::sc_module {
public:
  // Written by the unit's process, or by the controller for a wave it times itself (never both in one delta cycle).
  sc_core::sc_signal<bool, sc_core::SC_MANY_WRITERS> busy;
  sc_core::sc_signal<bool, sc_core::SC_MANY_WRITERS> stall;
  sc_core::sc_signal<std::uint32_t, sc_core::SC_MANY_WRITERS> tile_index;

  const UnitStats& stats() const { return stats_; }
  const ClockParams& clock() const { return clk_; }
  // A kept wave's bookkeeping in one step (sc_models/accel_decoupled.cpp): what its tiles' booking and stalls added
  // to the statistics since `before` (all but the saturations, which computing counts), and adding it again.
  UnitStats booking_since(const UnitStats& before) const;
  void add_booking(const UnitStats& d);
  // The buffers the unit's tiles name.
  void bind_buffers(const buffer_set& b) { bufs_ = b; }
  // Called when the unit has computed a tile (its results are in its output buffer), before the tile's time
  // passes. Tests poison buffers there.
  void on_tile_done(std::function<void(const Tile&)> f) { done_hook_ = std::move(f); }
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
  // Lets `cycles` of work on tile t pass: one wait, busy high meanwhile (low in its last cycle when tracing).
  void elapse(const Tile& t, std::uint64_t cycles);
  // A tile's bookkeeping (hook, port cycles, statistics, timeline), as started at `start`: returns its cycles.
  std::uint64_t book(const Tile& t, const TileCost& c, const sc_core::sc_time& start);

  // A span of work that is not a tile (the DMA's burst groups), for the timeline.
  void record(const sc_core::sc_time& start, const sc_core::sc_time& end, std::uint32_t seq, int frame, int layer);

  ClockParams clk_;
  UnitStats stats_;
  buffer_set bufs_;
  std::function<void(const Tile&)> done_hook_;
  bool trace_ = false;
  bool mid_job_ = false;  // the last tile taken was not the last of its job: waiting for input is stall
  TraceRecorder* rec_ = nullptr;
  int track_ = -1;
};

// A unit of the datapath: tiles in, tiles out, one SC_THREAD (run) that takes a tile, computes and books it
// (execute), lets its time pass and hands it on (piece by piece in pass mode). The controller may also drive a unit
// without its thread, for a wave it times itself (sc_models/accel_decoupled.cpp): cost() to schedule a tile,
// execute() to compute and book it at its start time, and the stall counters below, exactly as run() would.
class datapath_unit : public unit_base {
public:
  sc_core::sc_fifo_in<Tile> in;
  sc_core::sc_fifo_out<Tile> out;

  // The tile's time, with no side effect.
  TileCost cost(const Tile& t) const { return tally(t, false); }
  // Reads the tile's operands, computes, writes its results, and books it as started at `start`.
  TileCost execute(const Tile& t, const sc_core::sc_time& start) {
    compute(t);
    const TileCost c = tally(t, true);
    book(t, c, start);
    return c;
  }
  // execute() without the booking, for a kept wave whose bookkeeping is added in one step (add_booking).
  void compute_only(const Tile& t) {
    compute(t);
    if (done_hook_) done_hook_(t);
  }
  // Piece i of a tile in pass mode, as it leaves the unit.
  virtual Tile piece(const Tile& t, std::uint64_t /*i*/) const { return t; }

  // For a wave the controller times: whether waiting for the next tile counts as stall; stall cycles to book.
  bool mid_job() const { return mid_job_; }
  void set_mid_job(bool m) { mid_job_ = m; }
  void add_stall(std::uint64_t in_cycles, std::uint64_t out_cycles) {
    stats_.stall_in_cycles += in_cycles;
    stats_.stall_out_cycles += out_cycles;
  }

protected:
  SC_HAS_PROCESS(datapath_unit);
  datapath_unit(sc_core::sc_module_name name, const ClockParams& clk);
  // The tile's kernel: operands from their buffers, results into the output buffer.
  virtual void compute(const Tile& t) = 0;
  // The tile's cost; booking: its buffer accesses also go into the buffers' statistics.
  virtual TileCost tally(const Tile& t, bool booking) const = 0;

private:
  void run();
};

}  // namespace circa
