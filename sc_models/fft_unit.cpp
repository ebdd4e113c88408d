#include "sc_models/fft_unit.hpp"

#include <algorithm>

namespace circa {

std::uint64_t FftParams::latency(int k) const {
  int stages = 0;
  while ((1 << stages) < k) ++stages;
  return static_cast<std::uint64_t>(stages) * stage_latency + io_latency;
}

std::uint64_t FftParams::issue_cycles(int blocks) const {
  return ceil_div(static_cast<std::uint64_t>(blocks), static_cast<std::uint64_t>(lanes)) * ii;
}

std::uint64_t FftParams::tile_cycles(int blocks, int k) const { return issue_cycles(blocks) + latency(k); }

template <FftDirection D>
fft_unit_t<D>::fft_unit_t(sc_core::sc_module_name name, const FftParams& p, const ClockParams& clk,
                          const Numerics& num)
    : datapath_unit(name, clk), p_(p), num_(num) {}

template <FftDirection D>
const FixedFft& fft_unit_t<D>::transform(int k) {
  for (const auto& f : ffts_)
    if (f->k() == k) return *f;
  ffts_.push_back(std::make_unique<FixedFft>(k, num_.tw_frac(), num_.rounding));
  return *ffts_.back();
}

namespace {
// The spectrum region's four arrays (re, im and the vector kernel's two packed pairs), q * bins values each.
FreqView spectrum_view(const buffer_set& bufs, const Tile& t) {
  std::int32_t* base = bufs.values<std::int32_t>(t.op[kSpectrum]);
  const std::size_t n = static_cast<std::size_t>(t.shape.q) * t.shape.bins;
  return {t.shape.q, t.shape.bins, base, base + n, base + 2 * n, base + 3 * n};
}
}  // namespace

template <FftDirection D>
TileCost fft_unit_t<D>::tally(const Tile& t, bool booking) const {
  const int k = t.shape.k;
  PortTally ports(bufs_, booking);
  int n = t.end - t.begin;
  if constexpr (D == FftDirection::forward) {
    // Values read per segment: the part of [begin * k, end * k) that lies in it.
    int at = 0;
    for (int s = 0; s < 2; ++s) {
      if (t.seg_n[s] <= 0) continue;
      const int nb = (t.seg_n[s] + k - 1) / k;
      const int b0 = std::max(t.begin, at), b1 = std::min(t.end, at + nb);
      if (b1 > b0) {
        const int v0 = (b0 - at) * k, v1 = std::min(t.seg_n[s], (b1 - at) * k);
        ports.add(t.op[kSeg0 + s], static_cast<std::uint64_t>(v1 - v0), false);
      }
      at += nb;
    }
    ports.add(t.op[kSpectrum], static_cast<std::uint64_t>(n) * t.shape.bins, true);
  } else {
    const bool piece = t.row0 >= 0;
    const int groups = piece ? t.pass_groups : 1, stride = t.shape.p / std::max(1, t.pass_groups);
    n = 0;
    for (int g = 0; g < groups; ++g) {
      const int r0 = piece ? t.row0 + g * stride : t.begin * kRowChunk;
      const int r1 = piece ? t.row1 + g * stride : std::min(t.shape.p, t.end * kRowChunk);
      n += r1 - r0;
      if (t.post != TilePost::none) ports.add(t.op[kDest], static_cast<std::uint64_t>(r1 - r0) * k, true);
    }
    const std::uint64_t sum_rows =
        piece ? static_cast<std::uint64_t>(n) : static_cast<std::uint64_t>(t.end - t.begin) * kRowChunk;
    ports.add(t.op[kPsum], sum_rows * t.shape.bins * 2, false);
    ports.add(t.op[kSums], static_cast<std::uint64_t>(n) * k, true);
  }
  TileCost c;
  c.ops = static_cast<std::uint64_t>(n);
  if (D == FftDirection::forward && t.spectrum_replayed) {
    c.timed = false;  // recomputed in every pass of the EW-MAC, whose time includes it
    return c;
  }
  c.cycles = p_.tile_cycles(n, k);
  c.issue = p_.issue_cycles(n);
  c.ports = ports.max();
  return c;
}

template <FftDirection D>
void fft_unit_t<D>::compute(const Tile& t) {
  const FixedFft& f = transform(t.shape.k);
  if constexpr (D == FftDirection::forward) {
    // Input blocks [begin, end) of the segments, read from their buffers; their spectra into the spectrum buffer.
    InputSegment segs[2];
    std::size_t nseg = 0;
    for (int s = 0; s < 2; ++s)
      if (t.seg_n[s] > 0) segs[nseg++] = {bufs_.values<std::int32_t>(t.op[kSeg0 + s]), t.seg_n[s]};
    fft_input_blocks(segs, nseg, f, num_.act.bits(), spectrum_view(bufs_, t), t.begin, t.end, stats_.sat);
  } else {
    // The EW-MAC's tiles as they are: row chunks [begin, end), block rows [8 begin, min(8 end, p)); in pass
    // mode, one pass's rows [row0, row1) of each gate.
    const int k = t.shape.k;
    const bool piece = t.row0 >= 0;
    const int groups = piece ? t.pass_groups : 1, stride = t.shape.p / std::max(1, t.pass_groups);
    const std::int64_t* acc = bufs_.values<std::int64_t>(t.op[kPsum]);
    std::int64_t* y = bufs_.values<std::int64_t>(t.op[kSums]);
    for (int g = 0; g < groups; ++g) {
      const int r0 = piece ? t.row0 + g * stride : t.begin * kRowChunk;
      const int r1 = piece ? t.row1 + g * stride : std::min(t.shape.p, t.end * kRowChunk);
      ifft_rows(t.shape, acc, r0, r1, f, num_, y + static_cast<std::size_t>(r0) * k, stats_.sat);
      if (t.post != TilePost::none) {
        // The write-back stage: projection r into the state buffer, logits (with their bias) into the output
        // buffer.
        std::int32_t* dst = bufs_.values<std::int32_t>(t.op[kDest]);
        const std::int32_t* bias =
            t.post == TilePost::logits_writeback ? bufs_.values<std::int32_t>(t.op[kBias]) : nullptr;
        write_back_sums(y, bias, r0 * k, r1 * k, num_, dst, stats_.sat);
      }
    }
  }
}

template class fft_unit_t<FftDirection::forward>;
template class fft_unit_t<FftDirection::inverse>;

}  // namespace circa
