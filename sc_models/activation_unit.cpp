#include "sc_models/activation_unit.hpp"

#include <stdexcept>

namespace circa {

std::uint64_t ActivationParams::issue_cycles(int cells) const {
  return ceil_div(3 * static_cast<std::uint64_t>(cells), static_cast<std::uint64_t>(lanes));
}

std::uint64_t ActivationParams::tile_cycles(int cells) const { return issue_cycles(cells) + latency; }

activation_unit::activation_unit(sc_core::sc_module_name name, const ActivationParams& p, const ClockParams& clk,
                                 const Numerics& num)
    : datapath_unit(name, clk),
      p_(p),
      num_(num),
      sig_(ActFn::sigmoid, num.activation, num.act, num.act),
      tanh_(ActFn::tanh, num.activation, num.act, num.act) {
}

bool activation_unit::load_lut(ActFn fn, const std::vector<std::int32_t>& table) {
  try {
    (fn == ActFn::sigmoid ? sig_ : tanh_).load_table(table);
  } catch (const std::invalid_argument& e) {
    SC_REPORT_WARNING("circa/activation_unit", e.what());
    return false;
  }
  return true;
}

CellOperands cell_operands(const buffer_set& bufs, const Tile& t) {
  CellOperands o;
  o.arch = t.arch;
  o.cell = t.cell;
  o.gy = bufs.values<std::int64_t>(t.op[kGy]);
  o.ry = bufs.values<std::int64_t>(t.op[kRy]);
  o.bias = bufs.values<std::int32_t>(t.op[kBias]);
  o.peep = bufs.values<std::int32_t>(t.op[kPeep]);
  o.bias_x = bufs.values<std::int32_t>(t.op[kBiasX]);
  o.bias_r = bufs.values<std::int32_t>(t.op[kBiasR]);
  o.gate = bufs.values<std::int32_t>(t.op[kGate]);
  o.c = bufs.values<std::int32_t>(t.op[kC]);
  o.m = bufs.values<std::int32_t>(t.op[kM]);
  o.r_prev = bufs.values<std::int32_t>(t.op[kRPrev]);
  o.r_next = bufs.values<std::int32_t>(t.op[kRNext]);
  return o;
}

TileCost activation_unit::tally(const Tile& t, bool booking) const {
  const int cells = t.end - t.begin;
  const std::uint64_t v = 3 * static_cast<std::uint64_t>(cells);  // three gates per cell
  PortTally ports(bufs_, booking);
  ports.add(t.op[kGy], v, false);
  ports.add(t.op[kRy], v, false);
  ports.add(t.op[kBias], v, false);
  ports.add(t.op[kBiasX], v, false);
  ports.add(t.op[kBiasR], v, false);
  ports.add(t.op[kPeep], 2 * static_cast<std::uint64_t>(cells), false);
  if (t.arch == Arch::lstmp) ports.add(t.op[kC], static_cast<std::uint64_t>(cells), false);
  ports.add(t.op[kGate], v, true);
  TileCost c;
  c.ops = v;
  c.cycles = p_.tile_cycles(cells);
  c.issue = p_.issue_cycles(cells);
  c.ports = ports.max();
  return c;
}

void activation_unit::compute(const Tile& t) {
  CellOperands o = cell_operands(bufs_, t);
  o.sig = &sig_;
  o.tanh_act = &tanh_;
  activate_cells(o, t.begin, t.end, num_, stats_.sat);
}

}  // namespace circa
