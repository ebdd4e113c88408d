// circa: the activation unit: sigmoid and tanh by LUT or piecewise-linear segments (core/activation.hpp), `lanes`
// lookups per cycle. For a tile of cells [begin, end) it reads the gate sums (gate-sum buffer), the biases and
// peepholes (weight buffer) and c' (state buffer), forms the pre-activations (wide sums + bias + peepholes on c',
// written back) and applies the functions from its own tables: LSTMP i, f, g; GRU r, z, n. The gate values go back
// into the gate-sum buffer.
//   cycles = ceil(3 * cells / lanes) + latency   (the ports' cycles instead of the first term when they need more)
// The tables can be replaced at run time (as NVDLA's LUTs are programmed by the driver): load_lut().
#pragma once

#include <systemc>
#include <vector>

#include "core/activation.hpp"
#include "core/cell_kernels.hpp"
#include "sc_models/unit.hpp"

namespace circa {

struct ActivationParams {
  int lanes = 16;
  int latency = 4;  // pre-activation add + write-back + LUT read + interpolation
  std::uint64_t issue_cycles(int cells) const;
  std::uint64_t tile_cycles(int cells) const;
};

// A cell tile's operands, resolved in the buffers (the activation functions are the unit's own).
CellOperands cell_operands(const buffer_set& bufs, const Tile& t);

class activation_unit : public datapath_unit {
public:
  activation_unit(sc_core::sc_module_name name, const ActivationParams& p, const ClockParams& clk,
                  const Numerics& num);
  const ActivationParams& params() const { return p_; }
  // Replaces the table of one function; false (and a warning) if it is not a valid table.
  bool load_lut(ActFn fn, const std::vector<std::int32_t>& table);
  // The unit's LUT memory (tests poison it).
  Activation& lut(ActFn fn) { return fn == ActFn::sigmoid ? sig_ : tanh_; }


private:
  void compute(const Tile& t) override;
  TileCost tally(const Tile& t, bool booking) const override;
  ActivationParams p_;
  const Numerics& num_;
  Activation sig_, tanh_;
};

}  // namespace circa
