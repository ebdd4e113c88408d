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
//
// A wave's schedule is kept, times from the wave's start, and the same wave of the next step runs from it when its
// phases, tile counts, the units' mid-job flags and the layer's first-output state match (docs/architecture.md,
// "Kept schedules"): a step's waves repeat from step to step, so most waves are neither costed nor sorted again.
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
  // With a waveform, the writes a unit's process makes (run, take, give, elapse): kind 0 busy, 1 stall, 2 tile index
  // (the value: the tile's index in dsources_, whose sequence number is written: a kept schedule serves later steps).
  auto signal = [&](const sc_time& at, const sc_time& issued, datapath_unit* u, std::uint8_t kind, std::uint32_t v) {
    if (trace_) dsignals_.push_back({at, issued, u, v, kind});
  };
  // A tile's busy span from `take`: high, then low for its last cycle (elapse()).
  auto busy = [&](const sc_time& take, const sc_time& last_cycle, const sc_time& issued, datapath_unit* u,
                  std::uint32_t src) {
    signal(take, issued, u, 2, src);
    signal(take, issued, u, 0, 1);
    signal(last_cycle, issued, u, 0, 0);
  };
  // Unit u takes item t, there at `arrival`, once free since `free` (take(): waiting mid-job is stall): the take
  // time, the item queued for execution, its cost.
  const std::uint8_t phase = &p == da_ ? 0 : 1;
  auto take_item = [&](datapath_unit* u, const sc_time& free, const sc_time& arrival, const Tile& t,
                       const sc_time& issued, std::vector<sc_time>& takes, TileCost& c, std::size_t index,
                       std::int32_t piece) {
    const sc_time take = std::max(free, arrival);
    if (u->mid_job() && take > free) {
      event(take, issued, u, 1, u->clock().to_cycles(take - free));
      signal(free, issued, u, 1, 1);
      signal(take, issued, u, 1, 0);
    }
    u->set_mid_job(!t.last);
    takes.push_back(take);
    event(take, issued, u, 0, dsources_.size());
    dsources_.push_back({static_cast<std::uint32_t>(index), piece, phase});
    c = u->cost(t);
    return take;
  };
  // A tile's cycles, and with a waveform its busy span (a traced tile takes at least one cycle, as elapse() has it).
  // The tile is the last one taken (dsources_'s last).
  auto span = [&](datapath_unit* u, const sc_time& take, const TileCost& c, const sc_time& issued) {
    const std::uint64_t cycles = trace_ ? std::max<std::uint64_t>(c.total(), 1) : c.total();
    busy(take, take + u->clock().cycles(cycles - 1), issued, u, static_cast<std::uint32_t>(dsources_.size() - 1));
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
  auto hand_on = [&](sc_time at, const Tile& t, const sc_time& issued, std::size_t index, std::int32_t piece) {
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
    const sc_time take = take_item(u1, free1, at, t, issued, dtake1_, c, index, piece);
    free1 = c.timed ? span(u1, take, c, issued) : take;
    collect(free1, issued);
    return at;
  };
  for (std::size_t j = 0; j < p.tiles.size(); ++j) {
    const Tile& t = p.tiles[j];
    sc_time issued = j < depth ? t0 : dtake0_[j - depth];
    if (ready != nullptr) issued = std::max(issued, (*ready)[j]);  // its cells' gate sums are there
    if (p.q == 1) ++emac_issued_;
    TileCost c;
    sc_time at = take_item(u0, free0, issued, t, issued, dtake0_, c, j, -1);
    const auto src0 = static_cast<std::uint32_t>(dsources_.size() - 1);
    if (!c.pieces) {
      if (c.timed) at = span(u0, at, c, issued);
      at = hand_on(at, t, issued, j, -1);
    } else {
      const sc_time take = at;
      for (std::uint64_t i = 0; i < c.passes; ++i) {
        at += c0.cycles(c.piece_cycles(i));
        if (i + 1 == c.passes) busy(take, at - c0.cycles(1), issued, u0, src0);
        at = hand_on(at, u0->piece(t, i), issued, j, static_cast<std::int32_t>(i));
      }
    }
    free0 = at;
  }
  return end;
}

void accel_controller::materialize(const sc_time& before) {
  const std::vector<UnitEvent>& ev = *dev_;
  // The whole wave at once (no counter read in its middle, no reset): its bookkeeping is the same sums every time
  // it runs, so it is measured the first time and added in one step after that; only the tiles are computed.
  const bool whole = dnext_ == 0 && before == sc_core::sc_max_time() && dcut_ == sc_core::sc_max_time();
  WaveSchedule& ws = *dws_;
  if (whole && ws.booked) {
    for (const UnitEvent& e : ev)
      if (e.kind == 0) e.unit->compute_only(dtile(e.value));
    for (std::size_t i = 0; i < 5; ++i) unit_at(static_cast<int>(i))->add_booking(ws.unit_booking[i]);
    for (std::size_t b = 0; b < kBuffers; ++b) bufs_[b]->add_stats(ws.buffer_booking[b]);
    dnext_ = ev.size();
    return;
  }
  std::array<UnitStats, 5> units_before;
  std::array<OnchipBufferStats, kBuffers> buffers_before;
  if (whole) {
    for (std::size_t i = 0; i < 5; ++i) units_before[i] = unit_at(static_cast<int>(i))->stats();
    for (std::size_t b = 0; b < kBuffers; ++b) buffers_before[b] = bufs_[b]->stats();
  }
  for (; dnext_ < ev.size() && ev[dnext_].at + doff_ < before; ++dnext_) {
    const UnitEvent& e = ev[dnext_];
    if (e.issued + doff_ > dcut_) continue;
    if (e.kind == 0)
      e.unit->execute(dtile(e.value), e.at + doff_);
    else
      e.unit->add_stall(e.kind == 1 ? e.value : 0, e.kind == 2 ? e.value : 0);
  }
  if (whole) {
    for (std::size_t i = 0; i < 5; ++i)
      ws.unit_booking[i] = unit_at(static_cast<int>(i))->booking_since(units_before[i]);
    for (std::size_t b = 0; b < kBuffers; ++b) ws.buffer_booking[b] = stats_since(bufs_[b]->stats(), buffers_before[b]);
    ws.booked = true;
  }
}

const Tile& accel_controller::dtile(std::uint32_t i) {
  const DTileSource& s = (*dsrc_)[i];
  const Phase& p = s.phase == 0 ? *da_ : *db_;
  const Tile& t = p.tiles[s.index];
  if (s.piece < 0) return t;
  dpiece_ = unit_at(p.q == 0 ? 0 : p.q == 1 ? 1 : 3)->piece(t, static_cast<std::uint64_t>(s.piece));
  return dpiece_;
}

datapath_unit* accel_controller::unit_at(int i) const {
  switch (i) {
    case 0: return fft_.get();
    case 1: return emac_.get();
    case 2: return ifft_.get();
    case 3: return act_.get();
    default: return cell_.get();
  }
}

std::uint8_t accel_controller::mid_bits() const {
  std::uint8_t m = 0;
  for (int i = 0; i < 5; ++i)
    if (unit_at(i)->mid_job()) m = static_cast<std::uint8_t>(m | (1u << i));
  return m;
}

void accel_controller::set_mid_bits(std::uint8_t m) {
  for (int i = 0; i < 5; ++i) unit_at(i)->set_mid_job(((m >> i) & 1u) != 0);
}

void accel_controller::run_decoupled(Phase* a, Phase* b, bool dependent, std::size_t slot) {
  const sc_time t0 = sc_time_stamp();
  dnext_ = 0;
  dcut_ = sc_core::sc_max_time();
  da_ = a;
  db_ = b;
  const std::uint64_t emac_before = emac_issued_;
  const std::size_t na = a ? a->tiles.size() : 0, nb = b ? b->tiles.size() : 0;
  const std::uint8_t mid_in = mid_bits();
  const bool first_seen_in = first_output_seen_;
  if (wave_cache_.size() <= slot) wave_cache_.resize(slot + 1);
  WaveSchedule& ws = wave_cache_[slot];
  const bool replay = ws.valid && ws.a == a && ws.b == b && ws.dependent == dependent && ws.na == na && ws.nb == nb &&
                      ws.mid_in == mid_in && ws.first_seen_in == first_seen_in && ws.traced == trace_;
  if (replay) {
    ++replayed_waves_;
    emac_issued_ += ws.emac_tiles;
    set_mid_bits(ws.mid_out);
    if (ws.sets_first) {
      first_output_seen_ = true;
      first_output_at_ = t0 + ws.first_at;
    }
  } else {
    devents_.clear();
    dcollects_.clear();
    dsignals_.clear();
    dsources_.clear();
    const sc_time last = schedule_wave(a, b, dependent, t0);
    // Time order; at the same time, the order the rules above produced (a unit's item before the next unit's, and
    // each unit's own writes in the order its process makes them).
    std::stable_sort(devents_.begin(), devents_.end(),
                     [](const UnitEvent& x, const UnitEvent& y) { return x.at < y.at; });
    std::stable_sort(dsignals_.begin(), dsignals_.end(),
                     [](const SignalEvent& x, const SignalEvent& y) { return x.at < y.at; });
    // Kept from the wave's start, for the same wave of the next step (and run from there now).
    for (UnitEvent& e : devents_) {
      e.at -= t0;
      e.issued -= t0;
    }
    for (auto& [at, issued] : dcollects_) {
      at -= t0;
      issued -= t0;
    }
    for (SignalEvent& e : dsignals_) {
      e.at -= t0;
      e.issued -= t0;
    }
    ws.a = a;
    ws.b = b;
    ws.dependent = dependent;
    ws.na = na;
    ws.nb = nb;
    ws.mid_in = mid_in;
    ws.first_seen_in = first_seen_in;
    ws.events.swap(devents_);
    ws.tiles.swap(dsources_);
    ws.collects.swap(dcollects_);
    ws.signals.swap(dsignals_);
    ws.traced = trace_;
    ws.end = last - t0;
    ws.emac_tiles = emac_issued_ - emac_before;
    ws.mid_out = mid_bits();
    ws.sets_first = !first_seen_in && first_output_seen_;
    ws.first_at = ws.sets_first ? first_output_at_ - t0 : sc_core::SC_ZERO_TIME;
    ws.valid = true;
    ws.booked = false;
  }
  dws_ = &ws;
  dev_ = &ws.events;
  dsrc_ = &ws.tiles;
  dcol_ = &ws.collects;
  dsig_ = &ws.signals;
  doff_ = t0;
  decoupled_ = true;
  run_scheduled(t0 + ws.end, emac_before);
  decoupled_ = false;
}

sc_time accel_controller::schedule_wave(Phase* a, Phase* b, bool dependent, const sc_time& t0) {
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
  return end;
}

void accel_controller::run_scheduled(sc_time end, std::uint64_t emac_before) {
  // A reset: the tiles issued until now still run to their end; the rest never issue.
  auto cut = [&] {
    dcut_ = sc_time_stamp();
    sc_time last = dcut_;
    for (const auto& [at, issued] : *dcol_)
      if (issued + doff_ <= dcut_) last = std::max(last, at + doff_);
    end = last;
    std::uint64_t kept_emac = 0;
    for (const UnitEvent& e : *dev_)
      if (e.kind == 0 && e.unit == emac_.get() && e.issued + doff_ <= dcut_) ++kept_emac;
    emac_issued_ = emac_before + kept_emac;
    // The units' mid-job flags as their last kept tiles left them.
    for (const UnitEvent& e : *dev_)
      if (e.kind == 0 && e.issued + doff_ <= dcut_) e.unit->set_mid_job(!dtile(e.value).last);
  };
  // Wait for the wave's end; with a waveform, from one signal change to the next, writing them at their times (the
  // waveform records each signal's last value of a time step, as it does for the units' processes).
  std::size_t i = 0;
  const std::vector<SignalEvent>& sig = *dsig_;
  const std::size_t n = sig.size();
  for (;;) {
    while (i < n && sig[i].issued + doff_ > dcut_) ++i;
    const sc_time target = i < n ? sig[i].at + doff_ : end;
    if (target > sc_time_stamp()) {
      wait(target - sc_time_stamp(), reset_ev_);
      if (sc_time_stamp() < target) {  // woken by a reset
        if (dcut_ == sc_core::sc_max_time()) cut();
        continue;
      }
    }
    if (i >= n) break;
    for (; i < n && sig[i].at + doff_ == target; ++i) {
      const SignalEvent& e = sig[i];
      if (e.issued + doff_ > dcut_) continue;
      if (e.kind == 0)
        e.unit->busy.write(e.value != 0);
      else if (e.kind == 1)
        e.unit->stall.write(e.value != 0);
      else
        e.unit->tile_index.write(dtile(e.value).seq);
    }
  }
  materialize(sc_core::sc_max_time());
}

}  // namespace circa
