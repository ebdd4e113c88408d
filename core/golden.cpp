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

struct FixedGolden::LayerState {
  int in_dim = 0, cell = 0, rec = 0, gates = 0;
  bool joint = false;  // W_x and W_r accumulate together (same k)
  FixedCirculant wx, wr, wp;
  std::unique_ptr<FixedFft> fft_x, fft_r, fft_p;
  FreqInput Xx, Xr, Xp;
  std::vector<std::int64_t> acc_x, acc_r, acc_p;
  std::vector<std::int64_t> gx, gr, py;  // wide results at act.n + guard
  std::vector<std::int32_t> bias, bias_x, bias_r, peep;
  std::vector<std::int32_t> c, m, r;  // state: c (cell), m (act), r (act; GRU: h)
  std::vector<std::int32_t> gate;     // gate outputs (act)
  std::vector<std::int32_t> tmp;      // GRU: Wr_n h' + br_n, written back
  std::unique_ptr<Activation> sig, tanh_act, tanh_cell;
};

FixedGolden::FixedGolden(const Model& m, const Numerics& num) : model_(m), num_(num) {
  const int F = num_.act.n + num_.guard_bits;
  (void)F;
  for (const Layer& L : m.layers) {
    auto st = std::make_unique<LayerState>();
    LayerState& s = *st;
    s.in_dim = L.input_dim;
    s.cell = m.cell_dim;
    s.gates = m.gates();
    s.rec = m.arch == Arch::lstmp ? m.output_dim() : m.cell_dim;
    s.joint = m.arch == Arch::lstmp && L.w_x.k == L.w_r.k;
    if (s.joint) {
      s.wx = FixedCirculant({&L.w_x, &L.w_r}, num_, sat_);
    } else {
      s.wx = FixedCirculant({&L.w_x}, num_, sat_);
      s.wr = FixedCirculant({&L.w_r}, num_, sat_);
      s.fft_r = std::make_unique<FixedFft>(L.w_r.k, num_.tw_frac(), num_.rounding);
      s.acc_r.assign(s.wr.acc_size(), 0);
      s.gr.assign(static_cast<std::size_t>(s.wr.p()) * s.wr.k(), 0);
    }
    s.fft_x = std::make_unique<FixedFft>(L.w_x.k, num_.tw_frac(), num_.rounding);
    s.acc_x.assign(s.wx.acc_size(), 0);
    s.gx.assign(static_cast<std::size_t>(s.wx.p()) * s.wx.k(), 0);
    if (m.arch == Arch::lstmp && m.proj_dim > 0) {
      s.wp = FixedCirculant({&L.w_proj}, num_, sat_);
      s.fft_p = std::make_unique<FixedFft>(L.w_proj.k, num_.tw_frac(), num_.rounding);
      s.acc_p.assign(s.wp.acc_size(), 0);
      s.py.assign(static_cast<std::size_t>(m.proj_dim), 0);
    }
    auto q = [&](const std::vector<float>& v, QFormat f, SatKind kind) {
      std::vector<std::int32_t> out(v.size());
      for (std::size_t i = 0; i < v.size(); ++i) out[i] = quantize(v[i], f, num_.rounding, kind, sat_);
      return out;
    };
    if (m.arch == Arch::lstmp) {
      s.bias = q(L.bias, num_.act, SatKind::bias);
      s.peep = q(L.peep, num_.weight, SatKind::weight);
    } else {
      s.bias_x = q(L.bias_x, num_.act, SatKind::bias);
      s.bias_r = q(L.bias_r, num_.act, SatKind::bias);
      s.tmp.assign(static_cast<std::size_t>(s.cell), 0);
    }
    s.c.assign(static_cast<std::size_t>(s.cell), 0);
    s.m.assign(static_cast<std::size_t>(s.cell), 0);
    s.r.assign(static_cast<std::size_t>(s.rec), 0);
    s.gate.assign(static_cast<std::size_t>(s.gates) * s.cell, 0);
    s.sig = std::make_unique<Activation>(ActFn::sigmoid, num_.activation, num_.act, num_.act);
    s.tanh_act = std::make_unique<Activation>(ActFn::tanh, num_.activation, num_.act, num_.act);
    s.tanh_cell = std::make_unique<Activation>(ActFn::tanh, num_.activation, num_.cell, num_.act);
    layers_.push_back(std::move(st));
  }
  // The dense output layer runs through the same kernels with k = 1.
  out_ = std::make_unique<LayerState>();
  const int D = m.output_dim();
  CirculantMatrix wo = dense_as_circulant(m.out_w, m.num_classes, D);
  out_->wx = FixedCirculant({&wo}, num_, sat_);
  out_->fft_x = std::make_unique<FixedFft>(1, num_.tw_frac(), num_.rounding);
  out_->acc_x.assign(out_->wx.acc_size(), 0);
  out_->gx.assign(static_cast<std::size_t>(m.num_classes), 0);
  out_->bias.resize(static_cast<std::size_t>(m.num_classes));
  for (int i = 0; i < m.num_classes; ++i)
    out_->bias[i] = quantize(m.out_b[i], num_.act, num_.rounding, SatKind::bias, sat_);
  xq_.assign(static_cast<std::size_t>(m.input_dim), 0);
  logits_q_.assign(static_cast<std::size_t>(m.num_classes), 0);
  logits_d_.assign(static_cast<std::size_t>(m.num_classes), 0.0);
}

FixedGolden::~FixedGolden() = default;

const FixedGolden::LayerState& FixedGolden::layer(int l) const { return *layers_.at(static_cast<std::size_t>(l)); }
FixedGolden::LayerState& FixedGolden::layer_mut(int l) { return *layers_.at(static_cast<std::size_t>(l)); }

void FixedGolden::reset() {
  for (auto& s : layers_) {
    std::fill(s->c.begin(), s->c.end(), 0);
    std::fill(s->m.begin(), s->m.end(), 0);
    std::fill(s->r.begin(), s->r.end(), 0);
  }
}

namespace {

// y = W [segments], wide at act.n + guard.
void matvec(const FixedCirculant& W, const FixedFft& fft, std::initializer_list<InputSegment> segs, FreqInput& X,
            std::vector<std::int64_t>& acc, std::int64_t* y, const Numerics& num, SatCounters& sat) {
  fft_inputs(segs, fft, num.act.bits(), X, sat);
  std::fill(acc.begin(), acc.end(), 0);
  W.mac(X, 0, W.chunks(), acc.data());
  ifft_rows(W, acc.data(), 0, W.p(), fft, num, y, sat);
}

}  // namespace

void FixedGolden::step(const float* x, float* logp) {
  const Numerics& n = num_;
  const int F = n.act.n + n.guard_bits;  // fractional bits of the wide gate sums
  const Rounding rnd = n.rounding;
  const bool has_cmvn = !model_.cmvn_mean.empty();
  for (int d = 0; d < model_.input_dim; ++d) {
    double v = x[d];
    if (has_cmvn) v = (v - model_.cmvn_mean[d]) * model_.cmvn_inv_std[d];
    xq_[d] = quantize(v, n.act, rnd, SatKind::input, sat_);
  }
  const std::int32_t* in = xq_.data();
  int in_n = model_.input_dim;
  for (auto& sp : layers_) {
    LayerState& s = *sp;
    const int C = s.cell;
    if (s.joint) {
      matvec(s.wx, *s.fft_x, {{in, in_n}, {s.r.data(), s.rec}}, s.Xx, s.acc_x, s.gx.data(), n, sat_);
    } else {
      matvec(s.wx, *s.fft_x, {{in, in_n}}, s.Xx, s.acc_x, s.gx.data(), n, sat_);
      matvec(s.wr, *s.fft_r, {{s.r.data(), s.rec}}, s.Xr, s.acc_r, s.gr.data(), n, sat_);
    }
    auto wide = [&](int idx) { return s.gx[idx] + (s.joint ? 0 : s.gr[idx]); };
    if (model_.arch == Arch::lstmp) {
      const int pe = n.weight.n + n.cell.n - F;  // peephole product -> F
      auto pre = [&](int gate, int u, const std::vector<std::int32_t>& cstate, int peep_row) {
        const int idx = gate * C + u;
        std::int64_t v = wide(idx) + (static_cast<std::int64_t>(s.bias[idx]) << n.guard_bits);
        if (peep_row >= 0)
          v += shift_round(static_cast<std::int64_t>(s.peep[peep_row * C + u]) * cstate[u], pe, rnd);
        return write_back(v, F, n.act, rnd, SatKind::accum, sat_);
      };
      const int F2 = std::max(n.act.n + n.cell.n, 2 * n.act.n);
      for (int u = 0; u < C; ++u) {
        const std::int32_t ig = s.sig->eval(pre(0, u, s.c, 0));
        const std::int32_t fg = s.sig->eval(pre(1, u, s.c, 1));
        const std::int32_t gg = s.tanh_act->eval(pre(2, u, s.c, -1));
        const std::int64_t fc = static_cast<std::int64_t>(fg) * s.c[u] << (F2 - n.act.n - n.cell.n);
        const std::int64_t igp = static_cast<std::int64_t>(ig) * gg << (F2 - 2 * n.act.n);
        s.c[u] = write_back(fc + igp, F2, n.cell, rnd, SatKind::cell, sat_);
        s.gate[u] = ig;
        s.gate[C + u] = fg;
        s.gate[2 * C + u] = gg;
      }
      for (int u = 0; u < C; ++u) {
        const std::int32_t og = s.sig->eval(pre(3, u, s.c, 2));
        s.gate[3 * C + u] = og;
        const std::int32_t tc = s.tanh_cell->eval(s.c[u]);
        s.m[u] = write_back(static_cast<std::int64_t>(og) * tc, 2 * n.act.n, n.act, rnd, SatKind::act, sat_);
      }
      if (model_.proj_dim > 0) {
        matvec(s.wp, *s.fft_p, {{s.m.data(), C}}, s.Xp, s.acc_p, s.py.data(), n, sat_);
        for (int d = 0; d < model_.proj_dim; ++d) s.r[d] = write_back(s.py[d], F, n.act, rnd, SatKind::accum, sat_);
      } else {
        std::copy(s.m.begin(), s.m.end(), s.r.begin());
      }
    } else {
      // GRU: gates r, z, n.
      const int rn = 2 * n.act.n - F;
      for (int u = 0; u < C; ++u) {
        auto both = [&](int gate) {
          const int idx = gate * C + u;
          return s.gx[idx] + s.gr[idx] + ((static_cast<std::int64_t>(s.bias_x[idx]) + s.bias_r[idx]) << n.guard_bits);
        };
        const std::int32_t rg = s.sig->eval(write_back(both(0), F, n.act, rnd, SatKind::accum, sat_));
        const std::int32_t zg = s.sig->eval(write_back(both(1), F, n.act, rnd, SatKind::accum, sat_));
        const int idx = 2 * C + u;
        const std::int32_t hn = write_back(s.gr[idx] + (static_cast<std::int64_t>(s.bias_r[idx]) << n.guard_bits), F,
                                           n.act, rnd, SatKind::accum, sat_);
        const std::int64_t npre = s.gx[idx] + (static_cast<std::int64_t>(s.bias_x[idx]) << n.guard_bits) +
                                  shift_round(static_cast<std::int64_t>(rg) * hn, rn, rnd);
        const std::int32_t ng = s.tanh_act->eval(write_back(npre, F, n.act, rnd, SatKind::accum, sat_));
        const std::int64_t one = std::int64_t{1} << n.act.n;
        const std::int64_t h = (one - zg) * ng + static_cast<std::int64_t>(zg) * s.r[u];
        s.tmp[u] = write_back(h, 2 * n.act.n, n.act, rnd, SatKind::act, sat_);
        s.gate[u] = rg;
        s.gate[C + u] = zg;
        s.gate[2 * C + u] = ng;
      }
      std::copy(s.tmp.begin(), s.tmp.end(), s.r.begin());
    }
    in = s.r.data();
    in_n = s.rec;
  }
  LayerState& o = *out_;
  matvec(o.wx, *o.fft_x, {{in, in_n}}, o.Xx, o.acc_x, o.gx.data(), n, sat_);
  for (int c = 0; c < model_.num_classes; ++c) {
    logits_q_[c] = write_back(o.gx[c] + (static_cast<std::int64_t>(o.bias[c]) << n.guard_bits), F, n.act, rnd,
                              SatKind::accum, sat_);
    logits_d_[c] = to_double(logits_q_[c], n.act.n);
  }
  log_softmax(logits_d_.data(), model_.num_classes, logp);
}

Matrix FixedGolden::run(const Matrix& feats) {
  reset();
  Matrix out(feats.rows, static_cast<std::size_t>(model_.num_classes));
  for (std::size_t t = 0; t < feats.rows; ++t) step(feats.row(t), out.row(t));
  return out;
}

std::vector<double> FixedGolden::layer_output(int l) const {
  const LayerState& s = layer(l);
  std::vector<double> v(s.r.size());
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = to_double(s.r[i], num_.act.n);
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
