// circa: the activation unit: sigmoid and tanh by LUT or piecewise-linear segments (core/activation.hpp), `lanes`
// lookups per cycle. For a tile of cells [begin, end) it forms the gate pre-activations (wide sums + bias +
// peepholes on c', written back) and applies the functions: LSTMP i, f, g; GRU r, z, n.
//   cycles = ceil(3 * cells / lanes) + latency
// The LUT contents can be replaced at run time (as NVDLA's LUTs are programmed by the driver).
#pragma once

#include <systemc>
#include <vector>

#include "core/activation.hpp"
#include "sc_models/unit.hpp"

namespace circa {

struct ActivationParams {
  int lanes = 16;
  int latency = 4;  // pre-activation add + write-back + LUT read + interpolation
  std::uint64_t tile_cycles(int cells) const;
};

class activation_unit : public unit_base {
public:
  sc_core::sc_fifo_in<Tile> in;
  sc_core::sc_fifo_out<Tile> out;

  SC_HAS_PROCESS(activation_unit);
  activation_unit(sc_core::sc_module_name name, const ActivationParams& p, const ClockParams& clk,
                  const Numerics& num);
  const ActivationParams& params() const { return p_; }
  // Loads the table of one function into every layer registered with serve(); false if the size is wrong.
  bool load_lut(ActFn fn, const std::vector<std::int32_t>& table);
  void serve(FixedLayer& layer) { layers_.push_back(&layer); }

private:
  void run();
  ActivationParams p_;
  const Numerics& num_;
  std::vector<FixedLayer*> layers_;
};

}  // namespace circa
