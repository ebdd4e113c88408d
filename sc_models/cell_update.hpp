// circa: the cell-update unit, the element-wise stage after the activations: LSTMP c = f o c' + i o g, the output
// gate with its peephole on the new c, m = o o tanh(c) (its own LUT port); GRU h = (1 - z) o n + z o h'. `lanes`
// cells per cycle. It reads the gate values (gate-sum buffer), the o gate's sums, bias and peephole, and c' or h'
// (state buffer), and writes c, m and r (or h) into the state buffer.
//   cycles = ceil(cells / lanes) + latency   (the ports' cycles instead of the first term when they need more)
#pragma once

#include <systemc>
#include <vector>

#include "core/activation.hpp"
#include "sc_models/unit.hpp"

namespace circa {

struct CellUpdateParams {
  int lanes = 16;
  int latency = 6;  // two multiplies, add, write-back, LUT, multiply
  std::uint64_t issue_cycles(int cells) const;
  std::uint64_t tile_cycles(int cells) const;
};

class cell_update : public datapath_unit {
public:
  cell_update(sc_core::sc_module_name name, const CellUpdateParams& p, const ClockParams& clk, const Numerics& num);
  const CellUpdateParams& params() const { return p_; }
  // The o gate's sigmoid follows the activation unit's table (LUT_SEL selects both); tanh(c) is fixed.
  bool load_lut(ActFn fn, const std::vector<std::int32_t>& table);
  Activation& sigmoid_lut() { return sig_; }


private:
  void compute(const Tile& t) override;
  TileCost tally(const Tile& t, bool booking) const override;
  CellUpdateParams p_;
  const Numerics& num_;
  Activation sig_, tanh_cell_;
};

}  // namespace circa
