// The scheduler: one frame step as phases of tiles on the three unit chains, for one or two groups of streams.
//
// The active streams form two groups (the first half and the rest; a single stream is group A alone), each
// through the same sequence of phases (FFT, EW-MAC/IFFT, activation/cell update, per matvec and layer), group B
// one phase behind group A: while A's gate MACs run, B's input FFT runs; while A's cells update, B's MACs run.
// Phases that need the same unit run one after the other. This is how C-LSTM keeps its replicated pipelines busy:
// the recurrence serialises one utterance's stages, independent utterances fill the gaps.
#include <algorithm>
#include <chrono>

#include "hwif/circa_regs.h"
#include "hwif/words.hpp"
#include "sc_models/accel_controller.hpp"

namespace circa {

using sc_core::sc_time;
using sc_core::sc_time_stamp;

// The operands of one matvec of stream c in layer l, as its tiles name them. Roles are fixed at the start of a
// step: r[cur] is this frame's r', r[1 - cur] receives r; the previous layer has produced its r by the time this
// layer's phases run, into its r[1 - cur].
Tile accel_controller::matvec_tile(const Ctx& c, std::size_t l, Mv which, int f) const {
  Tile t;
  t.frame = f;
  t.layer = static_cast<int>(l);
  t.op[kSpectrum] = c.spectrum;
  t.op[kPsum] = c.psum;
  const Matrix* m = nullptr;
  auto input_of = [&](std::size_t layer, int& n) {
    if (layer == 0) {
      n = static_cast<int>(job_.input_dim);
      return c.x;
    }
    const StreamLayer& P = c.layers[layer - 1];
    n = static_cast<int>(buffer(Buf::state).region(P.r[0].region).count);
    return P.r[1 - P.cur];
  };
  if (which == Mv::O) {
    m = &out_mat_;
    const std::size_t last = c.layers.size();
    t.op[kSeg0] = input_of(last, t.seg_n[0]);
    t.op[kSums] = c.oy;
    t.op[kDest] = c.logits;
    t.op[kBias] = out_bias_;
    t.post = TilePost::logits_writeback;
  } else {
    const StreamLayer& L = c.layers[l];
    const LayerMats& M = mats_[l];
    const int rec = static_cast<int>(buffer(Buf::state).region(L.r[0].region).count);
    if (which == Mv::G) {
      m = &M.G;
      t.op[kSeg0] = input_of(l, t.seg_n[0]);
      if (M.joint) {
        t.op[kSeg1] = L.r[L.cur];
        t.seg_n[1] = rec;
      }
      t.op[kSums] = L.gy;
    } else if (which == Mv::R) {
      m = &M.R;
      t.op[kSeg0] = L.r[L.cur];
      t.seg_n[0] = rec;
      t.op[kSums] = L.ry;
    } else {
      m = &M.P;
      t.op[kSeg0] = L.m;
      t.seg_n[0] = static_cast<int>(job_.layers[l].cell);
      t.op[kSums] = L.py;
      t.op[kDest] = L.r[1 - L.cur];
      t.post = TilePost::proj_writeback;
    }
  }
  t.shape = m->shape;
  t.op[kWeights] = m->w;  // on chip; streamed tiles get their slot when fetched
  t.run = m->bounds.int32_run;
  t.narrow = word_bytes(num_.weight) == 2;
  t.vector = t.narrow && num_.act.bits() <= 16;
  t.w_stride = m->shape.chunks;
  t.w_c0 = 0;
  if (p_.rows_per_pass > 0 && m->shape.k > 1) {
    // Passes: rows_per_pass block rows of each of gates_per_pass gates (a projection is one "gate").
    const int gates = job_.arch == Arch::lstmp ? 4 : 3;
    const bool gate_mv = which == Mv::G || which == Mv::R;
    const int g = gate_mv ? std::min(p_.gates_per_pass, gates) : 1;
    if (g == gates && g > 1 && p_.emac_tile_chunks >= m->shape.chunks && m->shape.p % gates == 0) {
      // Every gate in each pass, the matrix in one tile: a pass's rows are the same rows of each gate.
      t.pass_rows = p_.rows_per_pass;
      t.pass_groups = g;
    } else {
      t.pass_rows = p_.rows_per_pass * g;
    }
    t.first_pass_hidden = which == Mv::P && p_.projection_first_pass;
    if (p_.spectrum_per_pass) {
      t.spectrum_replayed = true;
      t.pass_ii = p_.fft.ii;
      t.pass_depth = static_cast<int>(p_.fft.latency(m->shape.k));
    }
  }
  return t;
}

// The FFT phase and the EW-MAC phase of one matvec for a group. FFT tiles go stream after stream, so one stream's
// EW-MAC tiles can follow another's FFT tiles; EW-MAC tiles go chunk range by chunk range, every stream's tile of a
// range in a row (the streams share the matrix), so streamed weights are fetched once per range for all of them.
void accel_controller::matvec_phases(const std::vector<Ctx*>& g, std::size_t l, Mv which, int f,
                                     std::vector<Phase>& ph) {
  next_phase(ph);
  next_phase(ph);  // (may move the vector: references after both)
  Phase& a = ph[used_phases_ - 2];
  Phase& b = ph[used_phases_ - 1];
  a.q = 0;
  b.q = 1;
  a.layer = b.layer = which == Mv::O ? job_.layers.size() : l;
  const int li = static_cast<int>(a.layer);
  std::vector<Tile>& proto = proto_;
  proto.clear();
  for (Ctx* c : g) proto.push_back(matvec_tile(*c, l, which, f));
  const CirculantShape& s = proto.front().shape;
  for (const Tile& p : proto)
    for (int j = 0; j < s.q; j += p_.fft_tile_blocks) {
      Tile t = p;
      t.seq = seq_++;
      t.layer = li;
      t.begin = j;
      t.end = std::min(s.q, j + p_.fft_tile_blocks);
      t.last = t.end == s.q;
      a.tiles.push_back(t);
    }
  for (int c = 0; c < s.chunks; c += p_.emac_tile_chunks) {
    const int e = std::min(s.chunks, c + p_.emac_tile_chunks);
    for (const Tile& p : proto) {
      Tile t = p;
      t.seq = seq_++;
      t.layer = li;
      t.begin = c;
      t.end = e;
      t.last = e == s.chunks;
      t.first_pass_hidden = t.first_pass_hidden && c == 0;  // the matrix's first pass is its first tile's
      b.tiles.push_back(t);
    }
  }
  a.what = b.what = "GRPO"[static_cast<int>(which)];
  a.frame = b.frame = f;
  b.mat = which == Mv::O ? &out_mat_ : which == Mv::G ? &mats_[l].G : which == Mv::R ? &mats_[l].R : &mats_[l].P;
  b.group = g.size();
}

// Phases keep their tile vectors from step to step, so a frame allocates nothing once the first has run.
accel_controller::Phase& accel_controller::next_phase(std::vector<Phase>& ph) {
  if (used_phases_ == ph.size()) ph.emplace_back();
  Phase& p = ph[used_phases_++];
  p.tiles.clear();
  p.before = nullptr;
  p.after = nullptr;
  p.mat = nullptr;
  p.group = 1;
  p.layer_output = false;
  p.overlap_next = false;
  return p;
}

std::size_t accel_controller::build_phases(const JobDesc& d, const std::vector<Ctx*>& g, int f,
                                          std::vector<Phase>& ph) {
  used_phases_ = 0;
  if (g.empty()) return 0;
  const std::size_t nl = d.layers.size();
  for (std::size_t l = 0; l < nl; ++l) {
    const LayerMats& M = mats_[l];
    matvec_phases(g, l, Mv::G, f, ph);
    // The cells may follow the gates pass by pass when one stream runs and the gates are one matvec.
    if (p_.overlap_cells && g.size() == 1 && M.R.empty()) ph[used_phases_ - 1].overlap_next = true;
    if (!M.R.empty()) matvec_phases(g, l, Mv::R, f, ph);
    Phase& cells = next_phase(ph);
    cells.q = 2;
    cells.layer = l;
    cells.what = 'C';
    cells.frame = f;
    const int C = static_cast<int>(d.layers[l].cell);
    for (Ctx* c : g) {
      const StreamLayer& L = c->layers[l];
      Tile p;
      p.frame = f;
      p.layer = static_cast<int>(l);
      p.arch = d.arch;
      p.cell = C;
      p.op[kGy] = L.gy;
      p.op[kRy] = L.ry;
      p.op[kBias] = M.bias;
      p.op[kPeep] = M.peep;
      p.op[kBiasX] = M.bias_x;
      p.op[kBiasR] = M.bias_r;
      p.op[kGate] = L.gate;
      p.op[kC] = L.c;
      p.op[kM] = L.m;
      p.op[kRPrev] = L.r[L.cur];
      if (M.P.empty()) p.op[kRNext] = L.r[1 - L.cur];
      for (int u = 0; u < C; u += p_.cell_tile) {
        Tile t = p;
        t.seq = seq_++;
        t.begin = u;
        t.end = std::min(C, u + p_.cell_tile);
        t.last = t.end == C;
        cells.tiles.push_back(t);
      }
    }
    if (!M.P.empty()) matvec_phases(g, l, Mv::P, f, ph);
    ph[used_phases_ - 1].layer_output = true;
    // The layer's r is complete: it becomes r' (and the next layer's input).
    ph[used_phases_ - 1].after = [&g, l] {
      for (Ctx* c : g) c->layers[l].cur ^= 1;
    };
  }
  matvec_phases(g, 0, Mv::O, f, ph);
  ph[used_phases_ - 1].layer_output = true;
  const std::size_t aw = word_bytes(num_.act);
  const std::uint64_t fout = static_cast<std::uint64_t>(d.classes) * aw;
  ph[used_phases_ - 1].after = [this, &g, fout, aw] {
    // The logits leave the output buffer for DDR.
    for (Ctx* c : g) {
      const std::size_t n = buffer(Buf::output).region(c->logits.region).count;
      buffer(Buf::output).access(c->logits.region, n, false);
      io_ = pack_words(bset_.values<std::int32_t>(c->logits), n, aw);
      const std::uint64_t at = c->output + static_cast<std::uint64_t>(step_frame_) * fout;
      if (!phase_err_ && mem_write(at, io_.data(), io_.size()))
        phase_err_ = CIRCA_ERR_BUS;
      cnt_.ddr_wr += io_.size();
    }
  };
  return used_phases_;
}

void accel_controller::keep_phases(std::size_t na, std::size_t nb) {
  kept_na_ = na;
  kept_nb_ = nb;
  kept_cur_.clear();
  r_swap_.assign(buffer(Buf::state).regions(), -1);
  for (Ctx* c : active_)
    for (const StreamLayer& L : c->layers) {
      kept_cur_.push_back(L.cur);
      r_swap_[static_cast<std::size_t>(L.r[0].region)] = L.r[1].region;
      r_swap_[static_cast<std::size_t>(L.r[1].region)] = L.r[0].region;
    }
  phases_kept_ = true;
}

bool accel_controller::renew_phases(int f) {
  if (!phases_kept_) return false;
  // A completed step swaps every layer's r roles once; anything else (a step cut short) builds afresh.
  std::size_t i = 0;
  for (Ctx* c : active_)
    for (const StreamLayer& L : c->layers)
      if (L.cur == kept_cur_[i++]) return false;
  i = 0;
  for (Ctx* c : active_)
    for (const StreamLayer& L : c->layers) kept_cur_[i++] = L.cur;
  // In the order build_phases numbers the tiles: group A's phases, then B's, each tile by tile.
  for (auto [ph, n] : {std::pair{&pa_, kept_na_}, std::pair{&pb_, kept_nb_}})
    for (std::size_t k = 0; k < n; ++k) {
      Phase& p = (*ph)[k];
      p.frame = f;
      for (Tile& t : p.tiles) {
        t.frame = f;
        t.seq = seq_++;
        for (BufRef& r : t.op)
          if (r.buf == Buf::state && r.region >= 0 && r_swap_[static_cast<std::size_t>(r.region)] >= 0)
            r.region = r_swap_[static_cast<std::size_t>(r.region)];
        if (p.mat != nullptr) t.op[kWeights] = p.mat->w;  // streamed weights: their slot is set when fetched
      }
    }
  return true;
}

const sc_core::sc_event_or_list& accel_controller::wave_event(unsigned fetch_chains) {
  sc_core::sc_event_or_list& l = wave_ev_[fetch_chains & 7u];
  if (l.size() == 0) {  // built once per set of chains (a `|` expression would allocate a list on every wait)
    for (int q = 0; q < 3; ++q)
      if (fetch_chains & (1u << q)) {
        l |= queue_in(q).data_read_event();
        l |= queue_out(q).fifo().data_written_event();
      }
    l |= wake_ev_;
    l |= refill_ev_;
  }
  return l;
}

command_queue& accel_controller::queue_in(int q) { return q == 0 ? q_fft_in_ : q == 1 ? q_emac_in_ : q_act_in_; }
result_sink& accel_controller::queue_out(int q) { return q == 0 ? q_fft_out_ : q == 1 ? q_ifft_out_ : q_cell_out_; }

// Phases a and b (either may be null) at once. On different units their tiles stream side by side; on the same
// unit, a's and then b's. A lane's command queue holds at most tiling.fifo_depth tiles not taken; it is refilled
// as its first unit takes a tile, and results are counted as its last unit finishes them, both in the units'
// processes. The sequencer issues what they cannot (a first fill, a tile whose weights it must fetch first) and
// wakes when a lane may have finished or a fetch may start.
void accel_controller::run_wave(Phase* a, Phase* b, bool dependent) {
  auto hook = [this](const Phase& p, bool done) {
    if (phase_hook_) phase_hook_(PhaseEvent{p.frame, p.layer, p.what, p.q, done});
  };
  for (Phase* p : {a, b})
    if (p) {
      hook(*p, false);
      if (p->before) p->before();
    }
  ++waves_;
  const std::size_t slot = wave_slot_++;
  if (decouplable(a, b, dependent)) {
    ++decoupled_waves_;
    run_decoupled(a, b, dependent, slot);
    for (Phase* p : {a, b})
      if (p) {
        hook(*p, true);
        if (p->after) p->after();
      }
    return;
  }
  struct Lane {
    Phase* p;
    command_queue* in;
    bool fetch;               // EW-MAC phase with streamed weights: the sequencer fetches, then issues
    bool sequenced;           // issued and collected by the sequencer alone (a lane of a wave that fetches)
    std::size_t issued, collected;
    std::size_t taken;        // tiles the chain's first unit has taken from the command queue
    const Lane* dep;          // the lane whose pieces this one's tiles wait for (a dependent cells phase)
    Lane* after;              // the lane that depends on this one
    std::size_t pieces;       // pieces collected
    int cells_per_piece;      // cells a piece completes in every gate (0: only the last piece completes any)
  };
  // A dependent lane's next tile needs its cells' gate sums: every piece collected, or enough pass-ordered pieces.
  auto ready = [](const Lane& x) {
    if (x.dep == nullptr) return true;
    const Lane& s = *x.dep;
    if (s.collected == s.p->tiles.size()) return true;
    return s.cells_per_piece > 0 &&
           s.pieces * static_cast<std::size_t>(s.cells_per_piece) >= static_cast<std::size_t>(x.p->tiles[x.issued].end);
  };
  const std::size_t depth = static_cast<std::size_t>(p_.fifo_depth);
  // Room in the command queue: counted from the unit's reads; for a sequenced lane, as sc_fifo counts it (a read
  // frees its slot at the update), which orders the sequencer's issues and fetches within a time step as before.
  auto can_issue = [&](const Lane& x) {
    const bool room = x.sequenced ? x.issued == x.collected || x.in->num_free() > command_queue::kSpare
                                  : x.issued - x.taken < depth;
    return x.issued < x.p->tiles.size() && !reset_req_ && room && ready(x);
  };
  auto issue = [&](Lane& x) {
    if (x.p->q == 1) ++emac_issued_;
    x.in->write(x.p->tiles[x.issued++]);
  };
  // From a unit's process: the next tile into the queue if it may go (a lane that fetches waits for the sequencer).
  auto refill = [&](Lane& x) {
    if (x.sequenced || !can_issue(x)) return;
    if (x.in->nb_write(x.p->tiles[x.issued])) {
      if (x.p->q == 1) ++emac_issued_;
      ++x.issued;
    } else {
      refill_ev_.notify(sc_core::SC_ZERO_TIME);  // no free slot until the update: the sequencer issues it
    }
  };
  auto collect = [&](Lane& x, const Tile& t) {
    if (x.p->layer_output && x.p == a && !first_output_seen_) {
      first_output_seen_ = true;
      first_output_at_ = sc_time_stamp();
    }
    ++x.pieces;
    if (t.piece_last) ++x.collected;
  };
  Lane lanes[2];
  auto attach = [&](Lane& x) {
    x.in->after_read = [&, lane = &x] {
      ++lane->taken;
      if (lane->sequenced)
        wake_ev_.notify(sc_core::SC_ZERO_TIME);  // the sequencer issues the next tile (after its fetch)
      else
        refill(*lane);
    };
    if (x.sequenced) return;  // results through the queue, collected by the sequencer
    queue_out(x.p->q).on_write = [&, lane = &x](const Tile& t) {
      collect(*lane, t);
      if (lane->after) refill(*lane->after);  // a piece may complete the cells of the dependent lane's next tile
      if (lane->collected == lane->issued && (lane->issued == lane->p->tiles.size() || reset_req_))
        wake_ev_.notify(sc_core::SC_ZERO_TIME);
    };
  };
  auto detach = [&](Lane& x) {
    x.in->after_read = nullptr;
    queue_out(x.p->q).on_write = nullptr;
  };
  auto lane_of = [&](Phase* p) {
    const bool ordered = p->q == 1 && p->tiles.size() == 1 && p->tiles[0].pass_groups > 1;
    return Lane{p, &queue_in(p->q), p->q == 1 && !on_chip_, false, 0, 0, 0, nullptr, nullptr, 0,
                ordered ? p->tiles[0].pass_rows * p->tiles[0].shape.k : 0};
  };
  auto run_lanes = [&](std::size_t n) {
    // A wave with a lane that fetches weights is run by the sequencer alone, as a sequencer that waits for a
    // fetch holds every lane of its wave (their results queue up and hold their chains back).
    bool fetches = false;
    for (std::size_t k = 0; k < n; ++k) fetches = fetches || lanes[k].fetch;
    unsigned fetch_chains = 0;
    for (std::size_t k = 0; k < n; ++k) {
      lanes[k].sequenced = fetches;
      if (fetches) fetch_chains |= 1u << lanes[k].p->q;
      attach(lanes[k]);
    }
    for (;;) {
      // One tile per lane per round, so that a lane whose fetch waits for DMA does not hold the other back.
      bool busy = false, moved = false;
      for (std::size_t k = 0; k < n; ++k) {
        Lane& x = lanes[k];
        bool issued = false;
        if (can_issue(x)) {
          if (x.fetch) fetch_for(*x.p, x.issued);
          issue(x);
          moved = issued = true;
        }
        // A sequenced lane's results come from the queue: alone, only when it could not issue (issuing comes
        // first, so results wait while the sequencer fetches); beside another lane, in the same round.
        sc_core::sc_fifo<Tile>& results = queue_out(x.p->q).fifo();
        if (x.sequenced && (n > 1 || !issued) && x.collected < x.issued && results.num_available() > 0) {
          collect(x, results.read());
          moved = true;
        }
        busy = busy || x.collected < x.issued || (x.issued < x.p->tiles.size() && !reset_req_);
      }
      if (!busy) break;
      if (!moved) wait(wave_event(fetch_chains));
    }
    for (std::size_t k = 0; k < n; ++k) detach(lanes[k]);
  };
  if (a && b && a->q == b->q) {
    for (Phase* p : {a, b}) {
      lanes[0] = lane_of(p);
      run_lanes(1);
    }
  } else {
    std::size_t n = 0;
    for (Phase* p : {a, b})
      if (p) lanes[n++] = lane_of(p);
    if (dependent && n == 2) {
      lanes[1].dep = &lanes[0];
      lanes[0].after = &lanes[1];
    }
    run_lanes(n);
  }
  for (Phase* p : {a, b})
    if (p) {
      hook(*p, true);
      if (p->after) p->after();
    }
}

int accel_controller::run_step(const JobDesc& d, std::uint32_t t) {
  const std::size_t aw = word_bytes(num_.act);
  const std::uint64_t fin = static_cast<std::uint64_t>(d.input_dim) * aw;
  const std::uint32_t slot = d.ring ? t % d.ring_slots : t;
  active_.clear();
  for (Ctx& c : ctx_) {
    if (t >= c.frames) continue;  // this stream's utterance has ended
    // The frame into the input buffer.
    io_.assign(fin, '\0');
    if (mem_read(c.input + slot * fin, io_.data(), io_.size())) return CIRCA_ERR_BUS;
    cnt_.ddr_rd += io_.size();
    unpack_words(reinterpret_cast<const std::uint8_t*>(io_.data()), d.input_dim, aw, bset_.values<std::int32_t>(c.x));
    buffer(Buf::input).access(c.x.region, d.input_dim, true);
    active_.push_back(&c);
  }
  const int f = static_cast<int>(t);
  const std::size_t nl = d.layers.size();
  if (layer_totals_.size() < nl + 1) layer_totals_.resize(nl + 1);
  const std::size_t half = (active_.size() + 1) / 2;
  ga_.assign(active_.begin(), active_.begin() + static_cast<std::ptrdiff_t>(half));
  gb_.assign(active_.begin() + static_cast<std::ptrdiff_t>(half), active_.end());
  step_frame_ = f;
  // Other streams, other phases: the kept phases and the decoupled waves' kept schedules no longer apply.
  if (ga_ != cache_ga_ || gb_ != cache_gb_) {
    wave_cache_.clear();
    phases_kept_ = false;
    cache_ga_ = ga_;
    cache_gb_ = gb_;
  }
  // --lockstep, the reference the tests compare with, builds every step's phases afresh.
  if (lockstep_ || !renew_phases(f)) {
    const std::size_t built_a = build_phases(d, ga_, f, pa_);  // A's tiles numbered first
    keep_phases(built_a, build_phases(d, gb_, f, pb_));
  }
  const std::size_t na = kept_na_, nb = kept_nb_;
  wave_slot_ = 0;
  phase_err_ = 0;
  sc_time mark = sc_time_stamp();
  std::uint64_t rd_mark = cnt_.ddr_rd;
  // Cycles go to the layer group A is in; the last wave (B's output layer alone) to the output layer.
  const std::size_t waves = na + (nb == 0 ? 0 : 1);
  first_output_seen_ = false;
  for (std::size_t w = 0; w < waves; ++w) {
    Phase* a = w < na ? &pa_[w] : nullptr;
    Phase* b = w >= 1 && w - 1 < nb ? &pb_[w - 1] : nullptr;
    if (a && a->overlap_next && nb == 0 && w + 1 < na) {
      run_wave(a, &pa_[w + 1], true);  // the gates and their cells side by side
      a = &pa_[++w];
    } else {
      run_wave(a, b);
    }
    if (phase_err_) return phase_err_;
    if (reset_req_) return 0;
    const std::size_t l = a ? a->layer : nl;
    const bool layer_ends = !a || w + 1 == na || pa_[w + 1].layer != l;
    if (layer_ends && (a || w == na)) {
      LayerTotals& lt = layer_totals_[l];
      lt.last_cycles = p_.clock.to_cycles(sc_time_stamp() - mark);
      lt.cycles += lt.last_cycles;
      lt.first_output_cycles = first_output_seen_ ? p_.clock.to_cycles(first_output_at_ - mark) : lt.last_cycles;
      first_output_seen_ = false;
      layer_totals_[l].ddr_rd += cnt_.ddr_rd - rd_mark;
      mark = sc_time_stamp();
      rd_mark = cnt_.ddr_rd;
    }
  }
  frame.write(frame.read() + 1);
  if (rec_ != nullptr) rec_->frame_end(sc_time_stamp().value());
  return 0;
}

}  // namespace circa
