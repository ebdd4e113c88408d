// Decoupled waves: the controller times a wave's tiles itself instead of running every tile through the units'
// processes as a SystemC step of its own (temporal decoupling, as TLM-2.0's loosely-timed initiators run ahead of
// the kernel). A unit's process and a decoupled wave follow the same rules, so the two give the same cycles:
//
//   - a lane's first unit finds tiling.fifo_depth tiles in its command queue at the wave's start, and each tile it
//     takes lets the next one in (issue[j] = take0[j - depth] for j >= depth);
//   - a unit takes its next tile when it has handed on the previous one and the tile is there: take = max(free,
//     arrival); waiting in the middle of a job (the previous tile was not its stage's last) is stall;
//   - a tile (or, in pass mode, each piece) leaves cost(tile) cycles after its start (after the previous piece);
//   - a unit hands an item to the next unit through a queue of tiling.fifo_depth items: item k goes in once the
//     next unit has taken item k - depth, and the wait is stall; the chain's last unit hands results to the
//     sequencer, which never holds them back;
//   - two phases on the same chain run one after the other, phases on different chains side by side, and the wave
//     ends when the sequencer has every result.
//
// The wave is then one wait, or with a waveform one wait per time at which a unit's busy, stall or tile index
// changes, the controller writing the signals its process would have written (the VCD records a signal's last value
// of each time step, so the waveforms are the same file). The units compute and book each tile at its start time
// (materialize), in time order: at the wave's end, or earlier when the host reads the performance counters
// mid-wave or resets the device, so that every counter reads what the units' processes would have shown. A wave
// that fetches streamed weights, whose cells wait for the gates' passes (dataflow.overlap_cells) when one piece can
// ready more than one cell tile (otherwise a cell tile issues at max(its gate sums' arrival, room)), or that records a
// timeline runs through the units' processes (run_wave); `circa run --lockstep` runs every wave that way, and the
// tests compare the two.
#include <algorithm>

#include "sc_models/accel_controller.hpp"

namespace circa {

using sc_core::sc_time;
using sc_core::sc_time_stamp;

bool accel_controller::decouplable(const Phase* a, const Phase* b, bool dependent) const {
  if (lockstep_ || rec_ != nullptr || reset_req_) return false;
  if (dependent && a && b) {
    // b's cell tiles wait for a's pieces. Each of a's results and each of b's takes lets the sequencer issue one
    // tile; the issue times below follow from that only if no result makes two tiles ready at once (whichever of
    // two events at one time comes first, one tile goes in): a piece's cells fit in a cell tile.
    const int cpp = cells_per_piece(*a);
    if (cpp <= 0 || cpp > p_.cell_tile) return false;
  }
  for (const Phase* p : {a, b})
    if (p && p->q == 1 && !on_chip_) return false;  // the sequencer fetches this lane's weights tile by tile
  for (const datapath_unit* u : {static_cast<datapath_unit*>(fft_.get()), static_cast<datapath_unit*>(emac_.get()),
                                 static_cast<datapath_unit*>(ifft_.get()), static_cast<datapath_unit*>(act_.get()),
                                 static_cast<datapath_unit*>(cell_.get())})
    if (u->mid_job()) return false;  // a unit waiting in the middle of a job: its stall began before this wave
  return true;
}

int accel_controller::cells_per_piece(const Phase& p) {
  const bool ordered = p.q == 1 && p.tiles.size() == 1 && p.tiles[0].pass_groups > 1;
  return ordered ? p.tiles[0].pass_rows * p.tiles[0].shape.k : 0;
}

sc_time accel_controller::schedule_lane(const Phase& p, const sc_time& t0, bool first_output,
                                        const std::vector<sc_time>* ready) {
  datapath_unit* u0 = p.q == 0 ? static_cast<datapath_unit*>(fft_.get())
                      : p.q == 1 ? static_cast<datapath_unit*>(emac_.get())
                                 : static_cast<datapath_unit*>(act_.get());
  datapath_unit* u1 = p.q == 0 ? nullptr
                      : p.q == 1 ? static_cast<datapath_unit*>(ifft_.get())
                                 : static_cast<datapath_unit*>(cell_.get());
  const std::size_t depth = static_cast<std::size_t>(p_.fifo_depth);
  const ClockParams& c0 = u0->clock();
  dtake0_.clear();
  dtake1_.clear();
  sc_time free0 = t0, free1 = t0, end = t0;
  auto event = [&](const sc_time& at, const sc_time& issued, datapath_unit* u, std::uint8_t kind, std::uint64_t v) {
    devents_.push_back({at, issued, u, static_cast<std::uint32_t>(v), kind});
  };
  // With a waveform, the writes a unit's process makes (run, take, give, elapse): kind 0 busy, 1 stall, 2 tile index.
  auto signal = [&](const sc_time& at, const sc_time& issued, datapath_unit* u, std::uint8_t kind, std::uint32_t v) {
    if (trace_) dsignals_.push_back({at, issued, u, v, kind});
  };
  // A tile's busy span from `take`: high, then low for its last cycle (elapse()).
  auto busy = [&](const sc_time& take, const sc_time& last_cycle, const sc_time& issued, datapath_unit* u,
                  const Tile& t) {
    signal(take, issued, u, 2, t.seq);
    signal(take, issued, u, 0, 1);
    signal(last_cycle, issued, u, 0, 0);
  };
  // Unit u takes item t, there at `arrival`, once free since `free` (take(): waiting mid-job is stall): the take
  // time, the item queued for execution, its cost.
  auto take_item = [&](datapath_unit* u, const sc_time& free, const sc_time& arrival, const Tile& t,
                       const sc_time& issued, std::vector<sc_time>& takes, TileCost& c) {
    const sc_time take = std::max(free, arrival);
    if (u->mid_job() && take > free) {
      event(take, issued, u, 1, u->clock().to_cycles(take - free));
      signal(free, issued, u, 1, 1);
      signal(take, issued, u, 1, 0);
    }
    u->set_mid_job(!t.last);
    takes.push_back(take);
    event(take, issued, u, 0, dtiles_.size());
    dtiles_.push_back(t);
    c = u->cost(t);
    return take;
  };
  // A tile's cycles, and with a waveform its busy span (a traced tile takes at least one cycle, as elapse() has it).
  auto span = [&](datapath_unit* u, const sc_time& take, const TileCost& c, const sc_time& issued, const Tile& t) {
    const std::uint64_t cycles = trace_ ? std::max<std::uint64_t>(c.total(), 1) : c.total();
    busy(take, take + u->clock().cycles(cycles - 1), issued, u, t);
    return take + u->clock().cycles(cycles);
  };
  auto collect = [&](const sc_time& at, const sc_time& issued) {
    dcollects_.emplace_back(at, issued);
    if (first_output && !first_output_seen_) {
      first_output_seen_ = true;
      first_output_at_ = at;
    }
    end = at;
  };
  // Item `t` leaves the first unit at `at`: through the queue to the second unit, or to the sequencer.
  auto hand_on = [&](sc_time at, const Tile& t, const sc_time& issued) {
    if (u1 == nullptr) {
      collect(at, issued);
      return at;
    }
    const std::size_t k = dtake1_.size();
    if (k >= depth && dtake1_[k - depth] > at) {  // the queue is full until the second unit takes item k - depth
      event(dtake1_[k - depth], issued, u0, 2, c0.to_cycles(dtake1_[k - depth] - at));
      signal(at, issued, u0, 1, 1);
      signal(dtake1_[k - depth], issued, u0, 1, 0);
      at = dtake1_[k - depth];
    }
    TileCost c;
    const sc_time take = take_item(u1, free1, at, t, issued, dtake1_, c);
    free1 = c.timed ? span(u1, take, c, issued, t) : take;
    collect(free1, issued);
    return at;
  };
  for (std::size_t j = 0; j < p.tiles.size(); ++j) {
    const Tile& t = p.tiles[j];
    sc_time issued = j < depth ? t0 : dtake0_[j - depth];
    if (ready != nullptr) issued = std::max(issued, (*ready)[j]);  // its cells' gate sums are there
    if (p.q == 1) ++emac_issued_;
    TileCost c;
    sc_time at = take_item(u0, free0, issued, t, issued, dtake0_, c);
    if (!c.pieces) {
      if (c.timed) at = span(u0, at, c, issued, t);
      at = hand_on(at, t, issued);
    } else {
      const sc_time take = at;
      for (std::uint64_t i = 0; i < c.passes; ++i) {
        at += c0.cycles(c.piece_cycles(i));
        if (i + 1 == c.passes) busy(take, at - c0.cycles(1), issued, u0, t);
        at = hand_on(at, u0->piece(t, i), issued);
      }
    }
    free0 = at;
  }
  return end;
}

void accel_controller::materialize(const sc_time& before) {
  for (; dnext_ < devents_.size() && devents_[dnext_].at < before; ++dnext_) {
    const UnitEvent& e = devents_[dnext_];
    if (e.issued > dcut_) continue;
    if (e.kind == 0)
      e.unit->execute(dtiles_[e.value], e.at);
    else
      e.unit->add_stall(e.kind == 1 ? e.value : 0, e.kind == 2 ? e.value : 0);
  }
}

void accel_controller::run_decoupled(Phase* a, Phase* b, bool dependent) {
  const sc_time t0 = sc_time_stamp();
  devents_.clear();
  dtiles_.clear();
  dcollects_.clear();
  dsignals_.clear();
  dnext_ = 0;
  dcut_ = sc_core::sc_max_time();
  const std::uint64_t emac_before = emac_issued_;
  sc_time end = t0;
  auto first_output = [&](const Phase* p) { return p == a && p->layer_output; };
  if (a && b && a->q == b->q) {
    end = schedule_lane(*b, schedule_lane(*a, t0, first_output(a)), false);
  } else if (dependent && a && b) {
    // a's results in order are its pieces; cell tile j is ready once pieces cover its cells (all of them: the last).
    end = schedule_lane(*a, t0, first_output(a));
    const std::size_t pieces = dcollects_.size();
    const int cpp = cells_per_piece(*a);
    dready_.clear();
    for (const Tile& t : b->tiles) {
      const std::size_t need = std::min<std::size_t>(pieces, static_cast<std::size_t>((t.end + cpp - 1) / cpp));
      dready_.push_back(dcollects_[need - 1].first);
    }
    end = std::max(end, schedule_lane(*b, t0, false, &dready_));
  } else {
    for (Phase* p : {a, b})
      if (p) end = std::max(end, schedule_lane(*p, t0, first_output(p)));
  }
  // Time order; at the same time, the order the rules above produced (a unit's item before the next unit's, and
  // each unit's own writes in the order its process makes them).
  std::stable_sort(devents_.begin(), devents_.end(),
                   [](const UnitEvent& x, const UnitEvent& y) { return x.at < y.at; });
  std::stable_sort(dsignals_.begin(), dsignals_.end(),
                   [](const SignalEvent& x, const SignalEvent& y) { return x.at < y.at; });
  decoupled_ = true;
  // A reset: the tiles issued until now still run to their end; the rest never issue.
  auto cut = [&] {
    dcut_ = sc_time_stamp();
    sc_time last = dcut_;
    for (const auto& [at, issued] : dcollects_)
      if (issued <= dcut_) last = std::max(last, at);
    end = last;
    std::uint64_t kept_emac = 0;
    for (const UnitEvent& e : devents_)
      if (e.kind == 0 && e.unit == emac_.get() && e.issued <= dcut_) ++kept_emac;
    emac_issued_ = emac_before + kept_emac;
    // The units' mid-job flags as their last kept tiles left them.
    for (const UnitEvent& e : devents_)
      if (e.kind == 0 && e.issued <= dcut_) e.unit->set_mid_job(!dtiles_[e.value].last);
  };
  // Wait for the wave's end; with a waveform, from one signal change to the next, writing them at their times (the
  // waveform records each signal's last value of a time step, as it does for the units' processes).
  std::size_t i = 0;
  const std::size_t n = dsignals_.size();
  for (;;) {
    while (i < n && dsignals_[i].issued > dcut_) ++i;
    const sc_time target = i < n ? dsignals_[i].at : end;
    if (target > sc_time_stamp()) {
      wait(target - sc_time_stamp(), reset_ev_);
      if (sc_time_stamp() < target) {  // woken by a reset
        if (dcut_ == sc_core::sc_max_time()) cut();
        continue;
      }
    }
    if (i >= n) break;
    for (; i < n && dsignals_[i].at == target; ++i) {
      const SignalEvent& e = dsignals_[i];
      if (e.issued > dcut_) continue;
      if (e.kind == 0)
        e.unit->busy.write(e.value != 0);
      else if (e.kind == 1)
        e.unit->stall.write(e.value != 0);
      else
        e.unit->tile_index.write(e.value);
    }
  }
  materialize(sc_core::sc_max_time());
  decoupled_ = false;
}

}  // namespace circa
