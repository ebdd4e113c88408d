// circa: the FFT and IFFT units. `lanes` parallel real-FFT pipelines of log2(k) radix-2 butterfly stages.
//
// Timing per tile of n blocks of size k (one wait per tile):
//   cycles = ceil(n / lanes) * ii + latency(k),   latency(k) = log2(k) * stage_latency + io_latency
// ii is the initiation interval of one lane (cycles between successive blocks). The forward unit runs
// FixedMatvec::fft_blocks on input blocks [begin, end). The inverse unit takes the EW-MAC's tiles unchanged (row
// chunks [begin, end), i.e. block rows [8 begin, min(8 end, p))), runs FixedMatvec::ifft_rows on them, and then the
// tile's write-back (projection r, or logits) in its output stage.
#pragma once

#include <systemc>

#include "sc_models/unit.hpp"

namespace circa {

struct Numerics;

struct FftParams {
  int lanes = 4;          // parallel pipelines
  int ii = 1;             // cycles between blocks entering one pipeline
  int stage_latency = 2;  // one radix-2 stage: complex multiply + add, registered
  int io_latency = 2;     // input and output registers
  std::uint64_t latency(int k) const;
  std::uint64_t tile_cycles(int blocks, int k) const;
};

enum class FftDirection { forward, inverse };

template <FftDirection D>
class fft_unit_t : public unit_base {
public:
  sc_core::sc_fifo_in<Tile> in;
  sc_core::sc_fifo_out<Tile> out;

  SC_HAS_PROCESS(fft_unit_t);
  fft_unit_t(sc_core::sc_module_name name, const FftParams& p, const ClockParams& clk, const Numerics& num);
  const FftParams& params() const { return p_; }

private:
  void run();
  FftParams p_;
  const Numerics& num_;
};

using fft_unit = fft_unit_t<FftDirection::forward>;
using ifft_unit = fft_unit_t<FftDirection::inverse>;

}  // namespace circa
