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

void unit_base::charge(const Tile& t, std::uint64_t cycles, std::uint64_t issue, std::uint64_t ports) {
  cycles = book(t, cycles, issue, ports);
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

std::uint64_t unit_base::book(const Tile& t, std::uint64_t cycles, std::uint64_t issue, std::uint64_t ports) {
  if (done_hook_) done_hook_(t);
  if (ports > issue) {
    stats_.port_cycles += ports - issue;
    cycles += ports - issue;
  }
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
  if (rec_ != nullptr) {
    const sc_time now = sc_time_stamp();
    record(now, now + clk_.cycles(cycles), t.seq, t.frame, t.layer);
  }
  return cycles;
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
