// circa: the cell-update unit, the element-wise stage after the activations: LSTMP c = f o c' + i o g, the output
// gate with its peephole on the new c, m = o o tanh(c) (its own LUT port); GRU h = (1 - z) o n + z o h'. `lanes`
// cells per cycle.
//   cycles = ceil(cells / lanes) + latency
#pragma once

#include <systemc>

#include "sc_models/unit.hpp"

namespace circa {

struct CellUpdateParams {
  int lanes = 16;
  int latency = 6;  // two multiplies, add, write-back, LUT, multiply
  std::uint64_t tile_cycles(int cells) const;
};

class cell_update : public unit_base {
public:
  sc_core::sc_fifo_in<Tile> in;
  sc_core::sc_fifo_out<Tile> out;

  SC_HAS_PROCESS(cell_update);
  cell_update(sc_core::sc_module_name name, const CellUpdateParams& p, const ClockParams& clk, const Numerics& num);
  const CellUpdateParams& params() const { return p_; }

private:
  void run();
  CellUpdateParams p_;
  const Numerics& num_;
};

}  // namespace circa
