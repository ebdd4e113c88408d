#include "sc_models/unit.hpp"

namespace circa {

using sc_core::sc_time;
using sc_core::sc_time_stamp;

unit_base::unit_base(sc_core::sc_module_name name, const ClockParams& clk)
    : sc_module(name), busy("busy"), stall("stall"), tile_index("tile_index"), clk_(clk) {}

Tile unit_base::take(sc_core::sc_fifo_in<Tile>& in) {
  Tile t;
  if (in->nb_read(t)) {
    mid_job_ = !t.last;
    return t;
  }
  const sc_time t0 = sc_time_stamp();
  if (mid_job_ && trace_) stall.write(true);
  t = in->read();
  if (mid_job_) {
    stats_.stall_in_cycles += clk_.to_cycles(sc_time_stamp() - t0);
    if (trace_) stall.write(false);
  }
  mid_job_ = !t.last;
  return t;
}

void unit_base::give(sc_core::sc_fifo_out<Tile>& out, const Tile& t) {
  if (out->nb_write(t)) return;
  const sc_time t0 = sc_time_stamp();
  if (trace_) stall.write(true);
  out->write(t);
  stats_.stall_out_cycles += clk_.to_cycles(sc_time_stamp() - t0);
  if (trace_) stall.write(false);
}

void unit_base::record(const sc_time& start, const sc_time& end, std::uint32_t seq, int frame, int layer) {
  if (rec_ != nullptr)
    rec_->slice(track_, start.value(), end.value(), seq, frame, layer);
}

void unit_base::elapse(const Tile& t, std::uint64_t cycles) {
  if (!trace_) {
    wait(clk_.cycles(cycles));
    return;
  }
  tile_index.write(t.seq);
  busy.write(true);
  if (cycles > 1) wait(clk_.cycles(cycles - 1));
  busy.write(false);
  wait(clk_.cycles(1));
}

std::uint64_t unit_base::book(const Tile& t, const TileCost& c, const sc_time& start) {
  if (done_hook_) done_hook_(t);
  stats_.ops += c.ops;
  const std::uint64_t cycles = c.total();
  stats_.port_cycles += cycles - c.cycles;
  ++stats_.tiles;
  stats_.busy_cycles += cycles;
  if (t.layer >= 0) {
    const auto l = static_cast<std::size_t>(t.layer);
    if (stats_.busy_by_layer.size() <= l) {
      stats_.busy_by_layer.resize(l + 1, 0);
      stats_.tiles_by_layer.resize(l + 1, 0);
    }
    stats_.busy_by_layer[l] += cycles;
    ++stats_.tiles_by_layer[l];
  }
  if (rec_ != nullptr) record(start, start + clk_.cycles(cycles), t.seq, t.frame, t.layer);
  return cycles;
}

UnitStats unit_base::booking_since(const UnitStats& b) const {
  UnitStats d;
  d.tiles = stats_.tiles - b.tiles;
  d.busy_cycles = stats_.busy_cycles - b.busy_cycles;
  d.stall_in_cycles = stats_.stall_in_cycles - b.stall_in_cycles;
  d.stall_out_cycles = stats_.stall_out_cycles - b.stall_out_cycles;
  d.port_cycles = stats_.port_cycles - b.port_cycles;
  d.ops = stats_.ops - b.ops;
  d.busy_by_layer = stats_.busy_by_layer;
  d.tiles_by_layer = stats_.tiles_by_layer;
  for (std::size_t l = 0; l < b.busy_by_layer.size(); ++l) {
    d.busy_by_layer[l] -= b.busy_by_layer[l];
    d.tiles_by_layer[l] -= b.tiles_by_layer[l];
  }
  return d;
}

void unit_base::add_booking(const UnitStats& d) {
  stats_.tiles += d.tiles;
  stats_.busy_cycles += d.busy_cycles;
  stats_.stall_in_cycles += d.stall_in_cycles;
  stats_.stall_out_cycles += d.stall_out_cycles;
  stats_.port_cycles += d.port_cycles;
  stats_.ops += d.ops;
  if (stats_.busy_by_layer.size() < d.busy_by_layer.size()) {
    stats_.busy_by_layer.resize(d.busy_by_layer.size(), 0);
    stats_.tiles_by_layer.resize(d.tiles_by_layer.size(), 0);
  }
  for (std::size_t l = 0; l < d.busy_by_layer.size(); ++l) {
    stats_.busy_by_layer[l] += d.busy_by_layer[l];
    stats_.tiles_by_layer[l] += d.tiles_by_layer[l];
  }
}

datapath_unit::datapath_unit(sc_core::sc_module_name name, const ClockParams& clk)
    : unit_base(name, clk), in("in"), out("out") {
  SC_THREAD(run);
}

void datapath_unit::run() {
  for (;;) {
    Tile t = take(in);
    const TileCost c = execute(t, sc_time_stamp());
    if (!c.pieces) {
      if (c.timed) elapse(t, c.total());
      give(out, t);
      continue;
    }
    // Pieces: each leaves after its cycles; busy stays high from the first to the last (low in the last cycle
    // when tracing, as for any tile).
    if (trace_) {
      tile_index.write(t.seq);
      busy.write(true);
    }
    std::uint64_t left = c.total();
    for (std::uint64_t i = 0; i < c.passes; ++i) {
      const std::uint64_t dt = c.piece_cycles(i);
      left -= dt;
      if (trace_ && left == 0) {
        if (dt > 1) wait(clk_.cycles(dt - 1));
        busy.write(false);
        wait(clk_.cycles(1));
      } else {
        wait(clk_.cycles(dt));
      }
      give(out, piece(t, i));
    }
  }
}

const char* buffer_name(Buf b) {
  switch (b) {
    case Buf::input: return "input";
    case Buf::spectrum: return "spectrum";
    case Buf::weight: return "weight";
    case Buf::psum: return "psum";
    case Buf::gates: return "gates";
    case Buf::state: return "state";
    case Buf::output: return "output";
  }
  return "?";
}

}  // namespace circa
