#include "sc_models/emac_array.hpp"

#include <algorithm>

namespace circa {

std::uint64_t EmacParams::issue_cycles(std::uint64_t cmacs) const {
  const std::uint64_t per = banks >= 2 ? 1 : static_cast<std::uint64_t>(add_latency);
  return ceil_div(cmacs, static_cast<std::uint64_t>(lanes)) * per * static_cast<std::uint64_t>(block_ii);
}

std::uint64_t EmacParams::tile_cycles(std::uint64_t cmacs) const {
  return issue_cycles(cmacs) + mult_latency + add_latency;
}

emac_array::emac_array(sc_core::sc_module_name name, const EmacParams& p, const ClockParams& clk)
    : unit_base(name, clk), in("in"), out("out"), p_(p) {
  SC_THREAD(run);
}

std::uint64_t emac_array::tile_cmacs(const CirculantShape& s, int c0, int c1) {
  const int r0 = c0 * kRowChunk, r1 = std::min(s.p, c1 * kRowChunk);
  return static_cast<std::uint64_t>(std::max(0, r1 - r0)) * s.q * s.bins;
}

void emac_array::run() {
  for (;;) {
    Tile t = take(in);
    const CirculantShape& s = t.shape;
    // Operands: the spectrum (spectrum buffer), the tile's weights (weight buffer); results: the sums of its row
    // chunks, overwritten (partial-sum buffer).
    std::int32_t* xs = bufs_.values<std::int32_t>(t.op[kSpectrum]);
    const std::size_t n = static_cast<std::size_t>(s.q) * s.bins;
    const FreqView x{s.q, s.bins, xs, xs + n, xs + 2 * n, xs + 3 * n};
    const WeightSpan w{bufs_.values<std::uint8_t>(t.op[kWeights]), t.narrow, t.w_stride, t.w_c0};
    std::int64_t* acc = bufs_.values<std::int64_t>(t.op[kPsum]);
    for (int b = 0; b < s.bins; ++b)
      std::fill_n(acc + FixedCirculant::acc_index(b, s.chunks, t.begin * kRowChunk, 0),
                  2 * kRowChunk * (t.end - t.begin), 0);
    circulant_mac(s, w, t.run, t.vector, x, t.begin, t.end, acc);
    ++taken_;
    if (notify_taken_) {
      notify_taken_ = false;
      taken_ev_.notify(sc_core::SC_ZERO_TIME);
    }
    const std::uint64_t cmacs = tile_cmacs(s, t.begin, t.end);
    PortTally ports(bufs_);
    ports.add(t.op[kWeights], 2 * cmacs, false);  // (re, im) per complex MAC
    ports.add(t.op[kSpectrum], n, false);
    ports.add(t.op[kPsum], static_cast<std::uint64_t>(t.end - t.begin) * kRowChunk * s.bins * 2, true);
    stats_.ops += cmacs;
    if (t.pass_rows <= 0) {
      charge(t, p_.tile_cycles(cmacs), p_.issue_cycles(cmacs), ports.max());
      give(out, t);
      continue;
    }
    // Passes: each pass streams the q input blocks once and leaves its rows' sums after the pipeline's depth; the
    // rows of one pass go on to the IFFT as a piece while the next pass runs.
    // With pass_groups G > 1 the tile is the whole matrix and a pass takes pass_rows rows of each of the G gates.
    const int r0 = t.begin * kRowChunk, r1 = std::min(s.p, t.end * kRowChunk);
    const int span = t.pass_groups > 1 ? s.p / t.pass_groups : r1 - r0;
    const std::uint64_t passes = pass_count(span, t.pass_rows);
    const std::uint64_t pass = pass_cycles(s.q, t.pass_ii);
    // A hidden first pass (run on other lanes as the input arrived) leaves only its last block's issue.
    const std::uint64_t first = t.first_pass_hidden ? pass_cycles(1, t.pass_ii) : pass;
    const std::uint64_t issue = (passes - 1) * pass + first;
    const std::uint64_t cycles = book(t, issue + pass_depth(t), issue, ports.max());
    if (trace_) {
      tile_index.write(t.seq);
      busy.write(true);
    }
    std::uint64_t left = cycles;
    for (std::uint64_t i = 0; i < passes; ++i) {
      const std::uint64_t dt = i == 0 ? cycles - (passes - 1) * pass : pass;  // the first piece carries the depth
      left -= dt;
      if (trace_ && left == 0) {
        if (dt > 1) wait(clk_.cycles(dt - 1));
        busy.write(false);
        wait(clk_.cycles(1));
      } else {
        wait(clk_.cycles(dt));
      }
      Tile piece = t;
      piece.row0 = (t.pass_groups > 1 ? 0 : r0) + static_cast<int>(i) * t.pass_rows;
      piece.row1 = std::min(t.pass_groups > 1 ? span : r1, piece.row0 + t.pass_rows);
      piece.piece_last = i + 1 == passes;
      piece.last = t.last && piece.piece_last;
      give(out, piece);
    }
  }
}

std::uint64_t emac_array::pass_count(int rows, int pass_rows) {
  return ceil_div(static_cast<std::uint64_t>(rows), static_cast<std::uint64_t>(pass_rows));
}

std::uint64_t emac_array::pass_cycles(int q, int pass_ii) const {
  const std::uint64_t per = p_.banks >= 2 ? 1 : static_cast<std::uint64_t>(p_.add_latency);
  return static_cast<std::uint64_t>(q) * per * static_cast<std::uint64_t>(std::max(p_.block_ii, pass_ii));
}

std::uint64_t emac_array::pass_depth(const Tile& t) const {
  return static_cast<std::uint64_t>(p_.mult_latency + p_.add_latency + t.pass_depth);
}

}  // namespace circa
