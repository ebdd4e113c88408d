#include "core/golden.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace circa {

void log_softmax(const double* z, int n, float* out) {
  double mx = -std::numeric_limits<double>::infinity();
  for (int i = 0; i < n; ++i) mx = std::max(mx, z[i]);
  double s = 0.0;
  for (int i = 0; i < n; ++i) s += std::exp(z[i] - mx);
  const double lse = mx + std::log(s);
  for (int i = 0; i < n; ++i) out[i] = static_cast<float>(z[i] - lse);
}

double sqnr_db(const std::vector<double>& ref, const std::vector<double>& test) {
  double sig = 0.0, err = 0.0;
  for (std::size_t i = 0; i < ref.size() && i < test.size(); ++i) {
    sig += ref[i] * ref[i];
    err += (ref[i] - test[i]) * (ref[i] - test[i]);
  }
  if (err == 0.0) return std::numeric_limits<double>::infinity();
  return 10.0 * std::log10(sig / err);
}

namespace {

CirculantMatrix dense_as_circulant(const std::vector<float>& w, int rows, int cols) {
  CirculantMatrix m;
  m.p = rows;
  m.q = cols;
  m.k = 1;
  m.w = w;
  return m;
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------------
// Fixed point

FixedMatvec::FixedMatvec(const std::vector<const CirculantMatrix*>& parts, const Numerics& num, SatCounters& sat)
    : W(parts, num, sat), fft(std::make_unique<FixedFft>(W.k(), num.tw_frac(), num.rounding)) {
  X.resize(W.q(), W.bins());
  acc.assign(W.acc_size(), 0);
  y.assign(static_cast<std::size_t>(W.p()) * W.k(), 0);
}

FixedMatvec::FixedMatvec(int p, int q, int k, const Numerics& num)
    : W(p, q, k, num), fft(std::make_unique<FixedFft>(k, num.tw_frac(), num.rounding)) {
  X.resize(W.q(), W.bins());
  acc.assign(W.acc_size(), 0);
  y.assign(static_cast<std::size_t>(W.p()) * W.k(), 0);
}

void FixedMatvec::fft_blocks(int j0, int j1, const Numerics& num, SatCounters& sat) {
  fft_input_blocks(seg, static_cast<std::size_t>(nseg), *fft, num.act.bits(), X, j0, j1, sat);
}

void FixedMatvec::mac_chunks(int c0, int c1) {
  for (int b = 0; b < W.bins(); ++b)
    for (int c = c0; c < c1; ++c)
      std::fill_n(acc.begin() + static_cast<std::ptrdiff_t>(FixedCirculant::acc_index(b, W.chunks(), c * kRowChunk, 0)),
                  2 * kRowChunk, 0);
  W.mac(X, c0, c1, acc.data());
}

void FixedMatvec::ifft_rows(int i0, int i1, const Numerics& num, SatCounters& sat) {
  circa::ifft_rows(W, acc.data(), i0, i1, *fft, num, y.data() + static_cast<std::size_t>(i0) * W.k(), sat);
}

void FixedMatvec::run(const Numerics& num, SatCounters& sat) {
  fft_blocks(0, in_blocks(), num, sat);
  mac_chunks(0, chunks());
  ifft_rows(0, rows(), num, sat);
}

namespace {
std::vector<std::int32_t> quantize_all(const std::vector<float>& v, QFormat f, Rounding r, SatKind kind,
                                       SatCounters& sat) {
  std::vector<std::int32_t> out(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) out[i] = quantize(v[i], f, r, kind, sat);
  return out;
}
}  // namespace

FixedLayer::FixedLayer(const Model& m, const Layer& L, const Numerics& num, SatCounters& sat) {
  arch = m.arch;
  in_dim = L.input_dim;
  cell = m.cell_dim;
  gates = m.gates();
  rec = m.arch == Arch::lstmp ? m.output_dim() : m.cell_dim;
  joint = m.arch == Arch::lstmp && L.w_x.k == L.w_r.k;
  if (joint) {
    G = FixedMatvec({&L.w_x, &L.w_r}, num, sat);
  } else {
    G = FixedMatvec({&L.w_x}, num, sat);
    R = FixedMatvec({&L.w_r}, num, sat);
  }
  if (m.arch == Arch::lstmp && m.proj_dim > 0) P = FixedMatvec({&L.w_proj}, num, sat);
  if (m.arch == Arch::lstmp) {
    bias = quantize_all(L.bias, num.act, num.rounding, SatKind::bias, sat);
    peep = quantize_all(L.peep, num.weight, num.rounding, SatKind::weight, sat);
  } else {
    bias_x = quantize_all(L.bias_x, num.act, num.rounding, SatKind::bias, sat);
    bias_r = quantize_all(L.bias_r, num.act, num.rounding, SatKind::bias, sat);
  }
  c.assign(static_cast<std::size_t>(cell), 0);
  this->m.assign(static_cast<std::size_t>(cell), 0);
  r_prev.assign(static_cast<std::size_t>(rec), 0);
  r_next.assign(static_cast<std::size_t>(rec), 0);
  gate.assign(static_cast<std::size_t>(gates) * cell, 0);
  sig = std::make_unique<Activation>(ActFn::sigmoid, num.activation, num.act, num.act);
  tanh_act = std::make_unique<Activation>(ActFn::tanh, num.activation, num.act, num.act);
  tanh_cell = std::make_unique<Activation>(ActFn::tanh, num.activation, num.cell, num.act);
}

FixedLayer::FixedLayer(const LayerGeom& g, const Numerics& num) {
  arch = g.arch;
  in_dim = g.in_dim;
  cell = g.cell;
  gates = g.gates();
  rec = g.rec();
  joint = g.joint();
  const int qx = (in_dim + g.k_x - 1) / g.k_x, qr = rec / g.k_r;
  if (joint) {
    G = FixedMatvec(gates * cell / g.k_x, qx + qr, g.k_x, num);
  } else {
    G = FixedMatvec(gates * cell / g.k_x, qx, g.k_x, num);
    R = FixedMatvec(gates * cell / g.k_r, qr, g.k_r, num);
  }
  if (arch == Arch::lstmp && g.proj > 0) P = FixedMatvec(g.proj / g.k_proj, cell / g.k_proj, g.k_proj, num);
  const std::size_t gc = static_cast<std::size_t>(gates) * cell;
  if (arch == Arch::lstmp) {
    bias.assign(gc, 0);
    peep.assign(3 * static_cast<std::size_t>(cell), 0);
  } else {
    bias_x.assign(gc, 0);
    bias_r.assign(gc, 0);
  }
  c.assign(static_cast<std::size_t>(cell), 0);
  m.assign(static_cast<std::size_t>(cell), 0);
  r_prev.assign(static_cast<std::size_t>(rec), 0);
  r_next.assign(static_cast<std::size_t>(rec), 0);
  gate.assign(gc, 0);
  sig = std::make_unique<Activation>(ActFn::sigmoid, num.activation, num.act, num.act);
  tanh_act = std::make_unique<Activation>(ActFn::tanh, num.activation, num.act, num.act);
  tanh_cell = std::make_unique<Activation>(ActFn::tanh, num.activation, num.cell, num.act);
}

void FixedLayer::reset() {
  std::fill(c.begin(), c.end(), 0);
  std::fill(m.begin(), m.end(), 0);
  std::fill(r_prev.begin(), r_prev.end(), 0);
  std::fill(r_next.begin(), r_next.end(), 0);
}

void FixedLayer::begin_frame(const std::int32_t* in) {
  if (joint) {
    G.set_inputs({in, in_dim}, {r_prev.data(), rec});
  } else {
    G.set_inputs({in, in_dim});
    R.set_inputs({r_prev.data(), rec});
  }
}

CellOperands FixedLayer::operands() {
  CellOperands o;
  o.arch = arch;
  o.cell = cell;
  o.gy = G.y.data();
  o.ry = joint ? nullptr : R.y.data();
  o.bias = bias.data();
  o.peep = peep.data();
  o.bias_x = bias_x.data();
  o.bias_r = bias_r.data();
  o.gate = gate.data();
  o.c = c.data();
  o.m = m.data();
  o.r_prev = r_prev.data();
  o.r_next = arch == Arch::lstmp && !P.empty() ? nullptr : r_next.data();
  o.sig = sig.get();
  o.tanh_act = tanh_act.get();
  o.tanh_cell = tanh_cell.get();
  return o;
}

void FixedLayer::activate(int u0, int u1, const Numerics& n, SatCounters& sat) { activate_cells(operands(), u0, u1, n, sat); }

void FixedLayer::cell_update(int u0, int u1, const Numerics& n, SatCounters& sat) {
  update_cells(operands(), u0, u1, n, sat);
}

void FixedLayer::begin_projection() { P.set_inputs({m.data(), cell}); }

void FixedLayer::proj_writeback(int i0, int i1, const Numerics& n, SatCounters& sat) {
  const int k = P.W.k();
  write_back_sums(P.y.data(), nullptr, i0 * k, i1 * k, n, r_next.data(), sat);
}

void FixedLayer::end_frame() { std::swap(r_prev, r_next); }

FixedOutput::FixedOutput(const Model& m, const Numerics& num, SatCounters& sat) {
  CirculantMatrix wo = dense_as_circulant(m.out_w, m.num_classes, m.output_dim());
  O = FixedMatvec({&wo}, num, sat);
  bias = quantize_all(m.out_b, num.act, num.rounding, SatKind::bias, sat);
  logits.assign(static_cast<std::size_t>(m.num_classes), 0);
}

FixedOutput::FixedOutput(int classes, int in_dim, const Numerics& num) : O(classes, in_dim, 1, num) {
  bias.assign(static_cast<std::size_t>(classes), 0);
  logits.assign(static_cast<std::size_t>(classes), 0);
}

void FixedOutput::writeback(int c0, int c1, const Numerics& n, SatCounters& sat) {
  write_back_sums(O.y.data(), bias.data(), c0, c1, n, logits.data(), sat);
}

void quantize_frame(const Model& m, const Numerics& num, const float* x, std::int32_t* out, SatCounters& sat) {
  const bool has_cmvn = !m.cmvn_mean.empty();
  for (int d = 0; d < m.input_dim; ++d) {
    double v = x[d];
    if (has_cmvn) v = (v - m.cmvn_mean[d]) * m.cmvn_inv_std[d];
    out[d] = quantize(v, num.act, num.rounding, SatKind::input, sat);
  }
}

FixedGolden::FixedGolden(const Model& m, const Numerics& num) : model_(m), num_(num) {
  for (const Layer& L : m.layers) layers_.push_back(std::make_unique<FixedLayer>(m, L, num_, sat_));
  out_ = std::make_unique<FixedOutput>(m, num_, sat_);
  xq_.assign(static_cast<std::size_t>(m.input_dim), 0);
  logits_d_.assign(static_cast<std::size_t>(m.num_classes), 0.0);
}

FixedGolden::~FixedGolden() = default;

void FixedGolden::reset() {
  for (auto& l : layers_) l->reset();
}

void FixedGolden::step(const float* x, float* logp) {
  quantize_frame(model_, num_, x, xq_.data(), sat_);
  const std::int32_t* in = xq_.data();
  for (auto& lp : layers_) {
    FixedLayer& L = *lp;
    L.begin_frame(in);
    L.G.run(num_, sat_);
    if (!L.R.empty()) L.R.run(num_, sat_);
    L.activate(0, L.cell, num_, sat_);
    L.cell_update(0, L.cell, num_, sat_);
    if (!L.P.empty()) {
      L.begin_projection();
      L.P.run(num_, sat_);
      L.proj_writeback(0, L.P.rows(), num_, sat_);
    }
    L.end_frame();
    in = L.output().data();
  }
  FixedOutput& o = *out_;
  o.O.set_inputs({in, model_.output_dim()});
  o.O.run(num_, sat_);
  o.writeback(0, model_.num_classes, num_, sat_);
  for (int c = 0; c < model_.num_classes; ++c) logits_d_[c] = to_double(o.logits[c], num_.act.n);
  log_softmax(logits_d_.data(), model_.num_classes, logp);
}

Matrix FixedGolden::run(const Matrix& feats) {
  reset();
  Matrix out(feats.rows, static_cast<std::size_t>(model_.num_classes));
  for (std::size_t t = 0; t < feats.rows; ++t) step(feats.row(t), out.row(t));
  return out;
}

std::vector<double> FixedGolden::layer_output(int l) const {
  const FixedLayer& s = *layers_.at(static_cast<std::size_t>(l));
  std::vector<double> v(s.output().size());
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = to_double(s.output()[i], num_.act.n);
  return v;
}

std::vector<double> FixedGolden::logits() const { return logits_d_; }

// ---------------------------------------------------------------------------------------------------------------
// Floating point

struct FloatGolden::LayerState {
  int cell = 0, rec = 0;
  std::unique_ptr<FloatCirculant> wx, wr, wp;
  std::vector<double> gx, gr, c, m, r, tmp, py;
  const Layer* L = nullptr;
};

FloatGolden::FloatGolden(const Model& m) : model_(m) {
  for (const Layer& L : m.layers) {
    auto s = std::make_unique<LayerState>();
    s->L = &L;
    s->cell = m.cell_dim;
    s->rec = m.arch == Arch::lstmp ? m.output_dim() : m.cell_dim;
    s->wx = std::make_unique<FloatCirculant>(std::vector<const CirculantMatrix*>{&L.w_x});
    s->wr = std::make_unique<FloatCirculant>(std::vector<const CirculantMatrix*>{&L.w_r});
    if (m.arch == Arch::lstmp && m.proj_dim > 0)
      s->wp = std::make_unique<FloatCirculant>(std::vector<const CirculantMatrix*>{&L.w_proj});
    s->gx.assign(static_cast<std::size_t>(L.w_x.rows()), 0.0);
    s->gr.assign(static_cast<std::size_t>(L.w_r.rows()), 0.0);
    s->c.assign(static_cast<std::size_t>(s->cell), 0.0);
    s->m.assign(static_cast<std::size_t>(s->cell), 0.0);
    s->r.assign(static_cast<std::size_t>(s->rec), 0.0);
    s->tmp.assign(static_cast<std::size_t>(s->cell), 0.0);
    s->py.assign(static_cast<std::size_t>(std::max(m.proj_dim, 1)), 0.0);
    layers_.push_back(std::move(s));
  }
  CirculantMatrix wo = dense_as_circulant(m.out_w, m.num_classes, m.output_dim());
  out_ = std::make_unique<FloatCirculant>(std::vector<const CirculantMatrix*>{&wo});
  x_.assign(static_cast<std::size_t>(m.input_dim), 0.0);
  logits_.assign(static_cast<std::size_t>(m.num_classes), 0.0);
}

FloatGolden::~FloatGolden() = default;

void FloatGolden::reset() {
  for (auto& s : layers_) {
    std::fill(s->c.begin(), s->c.end(), 0.0);
    std::fill(s->m.begin(), s->m.end(), 0.0);
    std::fill(s->r.begin(), s->r.end(), 0.0);
  }
}

namespace {
inline double sigm(double v) { return 1.0 / (1.0 + std::exp(-v)); }
}  // namespace

void FloatGolden::step(const float* x, float* logp) {
  const bool has_cmvn = !model_.cmvn_mean.empty();
  for (int d = 0; d < model_.input_dim; ++d) {
    double v = x[d];
    if (has_cmvn) v = (v - model_.cmvn_mean[d]) * model_.cmvn_inv_std[d];
    x_[d] = v;
  }
  const double* in = x_.data();
  int in_n = model_.input_dim;
  for (auto& sp : layers_) {
    LayerState& s = *sp;
    const Layer& L = *s.L;
    const int C = s.cell;
    s.wx->matvec({{in, in_n}}, s.gx.data());
    s.wr->matvec({{s.r.data(), s.rec}}, s.gr.data());
    if (model_.arch == Arch::lstmp) {
      for (int u = 0; u < C; ++u) {
        auto pre = [&](int g) { return s.gx[g * C + u] + s.gr[g * C + u] + L.bias[g * C + u]; };
        const double ig = sigm(pre(0) + L.peep[u] * s.c[u]);
        const double fg = sigm(pre(1) + L.peep[C + u] * s.c[u]);
        const double gg = std::tanh(pre(2));
        s.c[u] = fg * s.c[u] + ig * gg;
        const double og = sigm(pre(3) + L.peep[2 * C + u] * s.c[u]);
        s.m[u] = og * std::tanh(s.c[u]);
      }
      if (s.wp) {
        s.wp->matvec({{s.m.data(), C}}, s.py.data());
        std::copy(s.py.begin(), s.py.begin() + model_.proj_dim, s.r.begin());
      } else {
        std::copy(s.m.begin(), s.m.end(), s.r.begin());
      }
    } else {
      for (int u = 0; u < C; ++u) {
        const double rg = sigm(s.gx[u] + L.bias_x[u] + s.gr[u] + L.bias_r[u]);
        const double zg = sigm(s.gx[C + u] + L.bias_x[C + u] + s.gr[C + u] + L.bias_r[C + u]);
        const double ng = std::tanh(s.gx[2 * C + u] + L.bias_x[2 * C + u] + rg * (s.gr[2 * C + u] + L.bias_r[2 * C + u]));
        s.tmp[u] = (1.0 - zg) * ng + zg * s.r[u];
      }
      std::copy(s.tmp.begin(), s.tmp.end(), s.r.begin());
    }
    in = s.r.data();
    in_n = s.rec;
  }
  out_->matvec({{in, in_n}}, logits_.data());
  for (int c = 0; c < model_.num_classes; ++c) logits_[c] += model_.out_b[c];
  log_softmax(logits_.data(), model_.num_classes, logp);
}

Matrix FloatGolden::run(const Matrix& feats) {
  reset();
  Matrix out(feats.rows, static_cast<std::size_t>(model_.num_classes));
  for (std::size_t t = 0; t < feats.rows; ++t) step(feats.row(t), out.row(t));
  return out;
}

std::vector<double> FloatGolden::layer_output(int l) const { return layers_.at(static_cast<std::size_t>(l))->r; }

}  // namespace circa
