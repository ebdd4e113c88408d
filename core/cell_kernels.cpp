#include "core/cell_kernels.hpp"

#include <algorithm>

namespace circa {

void activate_cells(const CellOperands& o, int u0, int u1, const Numerics& n, SatCounters& sat) {
  activate_cells_scalar(o, detail::activate_cells_vector(o, u0, u1, n, sat), u1, n, sat);
}

void update_cells(const CellOperands& o, int u0, int u1, const Numerics& n, SatCounters& sat) {
  update_cells_scalar(o, detail::update_cells_vector(o, u0, u1, n, sat), u1, n, sat);
}

void activate_cells_scalar(const CellOperands& o, int u0, int u1, const Numerics& n, SatCounters& sat) {
  const int F = n.act.n + n.guard_bits;  // fractional bits of the wide gate sums
  const Rounding rnd = n.rounding;
  const int C = o.cell;
  // Formats and pointers in locals: the gate stores are int32 and could alias the Numerics' int fields, which
  // would otherwise be reloaded after every store.
  const int guard = n.guard_bits;
  const QFormat act = n.act;
  const std::int64_t* gy = o.gy;
  const std::int64_t* ry = o.ry;
  std::int32_t* gt = o.gate;
  if (o.arch == Arch::lstmp) {
    const int pe = n.weight.n + n.cell.n - F;  // peephole product -> F
    const std::int32_t *bs = o.bias, *pp = o.peep, *cs = o.c;
    const Activation &sg = *o.sig, &th = *o.tanh_act;
    for (int u = u0; u < u1; ++u) {
      const std::int64_t cu = cs[u];
      auto pre = [&](int g, int peep_row) {
        const int idx = g * C + u;
        std::int64_t v = gy[idx] + (ry ? ry[idx] : 0) + shl(bs[idx], guard);
        if (peep_row >= 0) v += shift_round(static_cast<std::int64_t>(pp[peep_row * C + u]) * cu, pe, rnd);
        return write_back(v, F, act, rnd, SatKind::accum, sat);
      };
      const std::int32_t ig = sg.eval(pre(0, 0), sat);
      const std::int32_t fg = sg.eval(pre(1, 1), sat);
      const std::int32_t gg = th.eval(pre(2, -1), sat);
      gt[u] = ig;
      gt[C + u] = fg;
      gt[2 * C + u] = gg;
    }
    return;
  }
  const int rn = 2 * act.n - F;
  const std::int32_t *bx = o.bias_x, *br = o.bias_r;
  const Activation &sg = *o.sig, &th = *o.tanh_act;
  for (int u = u0; u < u1; ++u) {
    auto both = [&](int g) {
      const int idx = g * C + u;
      return gy[idx] + ry[idx] + shl(static_cast<std::int64_t>(bx[idx]) + br[idx], guard);
    };
    const std::int32_t rg = sg.eval(write_back(both(0), F, act, rnd, SatKind::accum, sat), sat);
    const std::int32_t zg = sg.eval(write_back(both(1), F, act, rnd, SatKind::accum, sat), sat);
    const int idx = 2 * C + u;
    const std::int32_t hn = write_back(ry[idx] + shl(br[idx], guard), F, act, rnd, SatKind::accum, sat);
    const std::int64_t npre = gy[idx] + shl(bx[idx], guard) + shift_round(static_cast<std::int64_t>(rg) * hn, rn, rnd);
    gt[u] = rg;
    gt[C + u] = zg;
    gt[2 * C + u] = th.eval(write_back(npre, F, act, rnd, SatKind::accum, sat), sat);
  }
}

void update_cells_scalar(const CellOperands& o, int u0, int u1, const Numerics& n, SatCounters& sat) {
  const int C = o.cell;
  const Rounding rnd = n.rounding;
  const QFormat act = n.act, cellq = n.cell;
  if (o.arch == Arch::gru) {
    const std::int64_t one = std::int64_t{1} << act.n;
    const std::int32_t *gt = o.gate, *hp = o.r_prev;
    std::int32_t* hn = o.r_next;
    for (int u = u0; u < u1; ++u) {
      const std::int64_t zg = gt[C + u], ng = gt[2 * C + u];
      const std::int64_t h = (one - zg) * ng + zg * hp[u];
      hn[u] = write_back(h, 2 * act.n, act, rnd, SatKind::act, sat);
    }
    return;
  }
  const int F = act.n + n.guard_bits;
  const int pe = n.weight.n + cellq.n - F;
  const int F2 = std::max(act.n + cellq.n, 2 * act.n);
  const int guard = n.guard_bits, fc_shift = F2 - act.n - cellq.n, ig_shift = F2 - 2 * act.n;
  const std::int64_t* gy = o.gy;
  const std::int64_t* ry = o.ry;
  const std::int32_t *bs = o.bias, *pp = o.peep;
  std::int32_t *gt = o.gate, *cs = o.c, *ms = o.m;
  std::int32_t* rn = o.r_next;
  const Activation &sg = *o.sig, &tcell = *o.tanh_cell;
  for (int u = u0; u < u1; ++u) {
    const std::int64_t ig = gt[u], fg = gt[C + u], gg = gt[2 * C + u];
    const std::int64_t fc = shl(fg * cs[u], fc_shift);
    const std::int64_t igp = shl(ig * gg, ig_shift);
    const std::int32_t cn = write_back(fc + igp, F2, cellq, rnd, SatKind::cell, sat);
    cs[u] = cn;
    const int idx = 3 * C + u;
    std::int64_t v = gy[idx] + (ry ? ry[idx] : 0) + shl(bs[idx], guard);
    v += shift_round(static_cast<std::int64_t>(pp[2 * C + u]) * cn, pe, rnd);
    const std::int32_t og = sg.eval(write_back(v, F, act, rnd, SatKind::accum, sat), sat);
    gt[idx] = og;
    const std::int32_t tc = tcell.eval(cn, sat);
    const std::int32_t mu = write_back(static_cast<std::int64_t>(og) * tc, 2 * act.n, act, rnd, SatKind::act, sat);
    ms[u] = mu;
    if (rn) rn[u] = mu;
  }
}

void write_back_sums(const std::int64_t* y, const std::int32_t* bias, int d0, int d1, const Numerics& n,
                     std::int32_t* out, SatCounters& sat) {
  const int F = n.act.n + n.guard_bits;
  const QFormat act = n.act;
  const Rounding rnd = n.rounding;
  const int guard = n.guard_bits;
  for (int d = d0; d < d1; ++d)
    out[d] = write_back(y[d] + (bias ? shl(bias[d], guard) : 0), F, act, rnd, SatKind::accum, sat);
}

}  // namespace circa
