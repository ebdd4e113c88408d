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
    : datapath_unit(name, clk), p_(p) {}

std::uint64_t emac_array::tile_cmacs(const CirculantShape& s, int c0, int c1) {
  const int r0 = c0 * kRowChunk, r1 = std::min(s.p, c1 * kRowChunk);
  return static_cast<std::uint64_t>(std::max(0, r1 - r0)) * s.q * s.bins;
}

TileCost emac_array::tally(const Tile& t, bool booking) const {
  const CirculantShape& s = t.shape;
  const std::uint64_t cmacs = tile_cmacs(s, t.begin, t.end);
  PortTally ports(bufs_, booking);
  ports.add(t.op[kWeights], 2 * cmacs, false);  // (re, im) per complex MAC
  ports.add(t.op[kSpectrum], static_cast<std::uint64_t>(s.q) * s.bins, false);
  ports.add(t.op[kPsum], static_cast<std::uint64_t>(t.end - t.begin) * kRowChunk * s.bins * 2, true);
  TileCost c;
  c.ops = cmacs;
  c.ports = ports.max();
  if (t.pass_rows <= 0) {
    c.cycles = p_.tile_cycles(cmacs);
    c.issue = p_.issue_cycles(cmacs);
    return c;
  }
  // Passes: each pass streams the q input blocks once and leaves its rows' sums after the pipeline's depth; the
  // rows of one pass go on to the IFFT as a piece while the next pass runs.
  // With pass_groups G > 1 the tile is the whole matrix and a pass takes pass_rows rows of each of the G gates.
  const int r0 = t.begin * kRowChunk, r1 = std::min(s.p, t.end * kRowChunk);
  const int span = t.pass_groups > 1 ? s.p / t.pass_groups : r1 - r0;
  c.pieces = true;
  c.passes = pass_count(span, t.pass_rows);
  c.pass = pass_cycles(s.q, t.pass_ii);
  // A hidden first pass (run on other lanes as the input arrived) leaves only its last block's issue.
  const std::uint64_t first = t.first_pass_hidden ? pass_cycles(1, t.pass_ii) : c.pass;
  c.issue = (c.passes - 1) * c.pass + first;
  c.cycles = c.issue + pass_depth(t);
  return c;
}

void emac_array::compute(const Tile& t) {
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
}

Tile emac_array::piece(const Tile& t, std::uint64_t i) const {
  const int r0 = t.begin * kRowChunk, r1 = std::min(t.shape.p, t.end * kRowChunk);
  const int span = t.pass_groups > 1 ? t.shape.p / t.pass_groups : r1 - r0;
  const std::uint64_t passes = pass_count(span, t.pass_rows);
  Tile p = t;
  p.row0 = (t.pass_groups > 1 ? 0 : r0) + static_cast<int>(i) * t.pass_rows;
  p.row1 = std::min(t.pass_groups > 1 ? span : r1, p.row0 + t.pass_rows);
  p.piece_last = i + 1 == passes;
  p.last = t.last && p.piece_last;
  return p;
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
