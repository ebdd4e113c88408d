// circa: the FFT and IFFT units. `lanes` parallel real-FFT pipelines of log2(k) radix-2 butterfly stages.
//
// Timing per tile of n blocks of size k (one wait per tile):
//   cycles = ceil(n / lanes) * ii + latency(k),   latency(k) = log2(k) * stage_latency + io_latency
// ii is the initiation interval of one lane (cycles between successive blocks). The forward unit reads input blocks
// [begin, end) of the tile's segments from their buffers and writes their spectra into the spectrum buffer
// (core's fft_input_blocks). The inverse unit takes the EW-MAC's tiles unchanged (row chunks [begin, end), i.e.
// block rows [8 begin, min(8 end, p))), reads their sums from the partial-sum buffer, writes the rows into the
// gate-sum buffer (core's ifft_rows), and then the tile's write-back (projection r into the state buffer, or logits
// into the output buffer) in its output stage. When a buffer's ports need more than the ceil(n / lanes) * ii issue
// cycles, the tile takes the ports' cycles instead (TileCost::total).
#pragma once

#include <memory>
#include <systemc>
#include <vector>

#include "core/cell_kernels.hpp"
#include "core/fft.hpp"
#include "sc_models/unit.hpp"

namespace circa {

struct Numerics;

struct FftParams {
  int lanes = 4;          // parallel pipelines
  int ii = 1;             // cycles between blocks entering one pipeline
  int stage_latency = 2;  // one radix-2 stage: complex multiply + add, registered
  int io_latency = 2;     // input and output registers
  std::uint64_t latency(int k) const;
  std::uint64_t issue_cycles(int blocks) const;
  std::uint64_t tile_cycles(int blocks, int k) const;
};

enum class FftDirection { forward, inverse };

template <FftDirection D>
class fft_unit_t : public datapath_unit {
public:
  fft_unit_t(sc_core::sc_module_name name, const FftParams& p, const ClockParams& clk, const Numerics& num);
  const FftParams& params() const { return p_; }

private:
  void compute(const Tile& t) override;
  TileCost tally(const Tile& t, bool booking) const override;
  const FixedFft& transform(int k);  // one transform per block size, built when first needed
  FftParams p_;
  const Numerics& num_;
  std::vector<std::unique_ptr<FixedFft>> ffts_;
};

using fft_unit = fft_unit_t<FftDirection::forward>;
using ifft_unit = fft_unit_t<FftDirection::inverse>;

}  // namespace circa
