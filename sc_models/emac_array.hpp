// circa: the element-wise complex multiply-accumulate array (frequency-domain accumulation, C-LSTM).
//
// For a tile of R output block rows (row chunks [begin, end) of 8 rows, the last chunk possibly partial) over q
// input blocks and B = k/2+1 bins, the array performs R*q*B complex MACs on `lanes` complex MAC lanes. With two or
// more partial-sum banks the adder's latency is hidden (C-LSTM alternates two banks); with one bank every
// accumulation into a bin waits for the previous sum.
//   cycles = ceil(R*q*B / lanes) * (banks >= 2 ? 1 : add_latency) * block_ii + mult_latency + add_latency
// block_ii is the lanes' initiation interval: a lane takes a new input block every block_ii cycles.
// DSPs = lanes * dsp_per_cmac (3 with the Gauss trick, 4 direct). Operands come from the spectrum and weight
// buffers and the sums go to the partial-sum buffer; when their ports need more cycles than the issue part
// ceil(R*q*B / lanes) * (...), the tile takes the ports' cycles instead (TileCost::total).
//
// Pass mode (dataflow.rows_per_pass, Tile::pass_rows = P rows per pass): the lanes are wired to P block rows, each
// bin of each row its own lane, and one pass streams the q input blocks through them (the Koios gate cores):
//   cycles = ceil(R / P) * q * (banks >= 2 ? 1 : add_latency) * max(block_ii, pass_ii) + mult + add + pass_depth
// and each pass's rows leave for the IFFT as a piece of the tile, one pass after another. With pass_groups G > 1
// (a gate matvec in one tile) a pass takes P rows of each of the G gates, p / G rows apart, and the count is
// ceil((p / G) / P). A hidden first pass (Tile::first_pass_hidden) costs one block's issue instead of q.
#pragma once

#include <systemc>

#include "sc_models/unit.hpp"

namespace circa {

struct EmacParams {
  int lanes = 64;
  int dsp_per_cmac = 4;
  int banks = 2;
  int mult_latency = 3;
  int add_latency = 2;
  int block_ii = 1;  // cycles between input blocks entering a lane (Koios' gate cores take one every 2)
  std::uint64_t issue_cycles(std::uint64_t cmacs) const;
  std::uint64_t tile_cycles(std::uint64_t cmacs) const;
  int dsps() const { return lanes * dsp_per_cmac; }
};

class emac_array : public datapath_unit {
public:
  emac_array(sc_core::sc_module_name name, const EmacParams& p, const ClockParams& clk);
  const EmacParams& params() const { return p_; }
  // Tiles whose operands the array has read (it reads a tile's weights when it takes the tile), and the event
  // notified each time: a weight slot may be refilled once every tile reading it has been taken.
  std::uint64_t taken() const { return taken_; }
  // Waits until taken() reaches n (a weight fetch waiting for its slot). Only then does the array notify.
  void wait_taken(std::uint64_t n) {
    while (taken_ < n) {
      notify_taken_ = true;
      sc_core::wait(taken_ev_);
    }
  }
  // Complex MACs of a tile (real block rows only: padding rows of the last chunk are not computed in hardware).
  static std::uint64_t tile_cmacs(const CirculantShape& s, int c0, int c1);
  // Pass mode (Tile::pass_rows > 0): passes for `rows` block rows; cycles of one pass over q input blocks (each
  // block every max(block_ii, pass_ii) cycles, times add_latency with one bank); the pipeline's depth.
  static std::uint64_t pass_count(int rows, int pass_rows);
  std::uint64_t pass_cycles(int q, int pass_ii) const;
  std::uint64_t pass_depth(const Tile& t) const;

  Tile piece(const Tile& t, std::uint64_t i) const override;

private:
  void compute(const Tile& t) override;
  TileCost tally(const Tile& t, bool booking) const override;
  EmacParams p_;
  std::uint64_t taken_ = 0;
  bool notify_taken_ = false;
  sc_core::sc_event taken_ev_;
};

}  // namespace circa
