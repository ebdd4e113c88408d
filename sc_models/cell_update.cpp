#include "sc_models/cell_update.hpp"

#include <stdexcept>

#include "sc_models/activation_unit.hpp"

namespace circa {

std::uint64_t CellUpdateParams::issue_cycles(int cells) const {
  return ceil_div(static_cast<std::uint64_t>(cells), static_cast<std::uint64_t>(lanes));
}

std::uint64_t CellUpdateParams::tile_cycles(int cells) const { return issue_cycles(cells) + latency; }

cell_update::cell_update(sc_core::sc_module_name name, const CellUpdateParams& p, const ClockParams& clk,
                         const Numerics& num)
    : datapath_unit(name, clk),
      p_(p),
      num_(num),
      sig_(ActFn::sigmoid, num.activation, num.act, num.act),
      tanh_cell_(ActFn::tanh, num.activation, num.cell, num.act) {
}

bool cell_update::load_lut(ActFn fn, const std::vector<std::int32_t>& table) {
  if (fn != ActFn::sigmoid) return true;  // tanh(c) has its own table, in the cell format: not loadable
  try {
    sig_.load_table(table);
  } catch (const std::invalid_argument& e) {
    SC_REPORT_WARNING("circa/cell_update", e.what());
    return false;
  }
  return true;
}

TileCost cell_update::tally(const Tile& t, bool booking) const {
  const int cells = t.end - t.begin;
  const std::uint64_t n = static_cast<std::uint64_t>(cells);
  PortTally ports(bufs_, booking);
  if (t.arch == Arch::lstmp) {
    ports.add(t.op[kGate], 3 * n, false);  // i, f, g
    ports.add(t.op[kGy], n, false);        // o's sums
    ports.add(t.op[kRy], n, false);
    ports.add(t.op[kBias], n, false);
    ports.add(t.op[kPeep], n, false);
    ports.add(t.op[kC], n, false);
    ports.add(t.op[kC], n, true);
    ports.add(t.op[kGate], n, true);  // o
    ports.add(t.op[kM], n, true);
    ports.add(t.op[kRNext], n, true);
  } else {
    ports.add(t.op[kGate], 2 * n, false);  // z, n
    ports.add(t.op[kRPrev], n, false);
    ports.add(t.op[kRNext], n, true);
  }
  TileCost c;
  c.ops = n;
  c.cycles = p_.tile_cycles(cells);
  c.issue = p_.issue_cycles(cells);
  c.ports = ports.max();
  return c;
}

void cell_update::compute(const Tile& t) {
  CellOperands o = cell_operands(bufs_, t);
  o.sig = &sig_;
  o.tanh_cell = &tanh_cell_;
  update_cells(o, t.begin, t.end, num_, stats_.sat);
}

}  // namespace circa
