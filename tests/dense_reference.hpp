// A plain dense LSTMP / GRU written from docs/architecture.md's equations with Eigen, on circulant weights expanded to
// dense matrices: the independent reference for the golden models and for `circa run --functional`.
#pragma once

#include <Eigen/Dense>
#include <cmath>
#include <vector>

#include "core/matrix.hpp"
#include "core/model.hpp"

namespace circa_test {

using circa::Arch;
using circa::CirculantMatrix;
using circa::Layer;
using circa::Matrix;
using circa::Model;
using Eigen::MatrixXd;
using Eigen::VectorXd;

// W_ij[r][c] = w_ij[(r - c) mod k], columns beyond `cols` (padding) dropped.
inline MatrixXd expand(const CirculantMatrix& m, int cols) {
  MatrixXd d = MatrixXd::Zero(m.p * m.k, cols);
  for (int i = 0; i < m.p; ++i)
    for (int j = 0; j < m.q; ++j)
      for (int r = 0; r < m.k; ++r)
        for (int c = 0; c < m.k; ++c) {
          const int col = j * m.k + c;
          if (col < cols)
            d(i * m.k + r, col) = m.w[(static_cast<std::size_t>(i) * m.q + j) * m.k + (r - c + m.k) % m.k];
        }
  return d;
}

inline VectorXd vec(const std::vector<float>& v, int off, int n) {
  VectorXd out(n);
  for (int i = 0; i < n; ++i) out(i) = v[off + i];
  return out;
}

inline VectorXd sigmoid(const VectorXd& v) {
  return (1.0 + (-v.array()).exp()).inverse().matrix();
}
inline VectorXd tanhv(const VectorXd& v) {
  return v.array().tanh().matrix();
}

// Dense reference network, one utterance.
inline Matrix dense_reference(const Model& m, const Matrix& feats) {
  const int C = m.cell_dim, D = m.output_dim();
  struct L {
    MatrixXd wx, wr, wp;
    VectorXd c, r;
  };
  std::vector<L> ls;
  for (const Layer& layer : m.layers) {
    L l;
    l.wx = expand(layer.w_x, layer.input_dim);
    l.wr = expand(layer.w_r, m.arch == Arch::lstmp ? D : C);
    if (m.arch == Arch::lstmp && m.proj_dim > 0) l.wp = expand(layer.w_proj, C);
    l.c = VectorXd::Zero(C);
    l.r = VectorXd::Zero(m.arch == Arch::lstmp ? D : C);
    ls.push_back(l);
  }
  MatrixXd wo(m.num_classes, D);
  for (int i = 0; i < m.num_classes; ++i)
    for (int j = 0; j < D; ++j) wo(i, j) = m.out_w[static_cast<std::size_t>(i) * D + j];
  VectorXd bo = vec(m.out_b, 0, m.num_classes);
  Matrix out(feats.rows, static_cast<std::size_t>(m.num_classes));
  for (std::size_t t = 0; t < feats.rows; ++t) {
    VectorXd x(m.input_dim);
    for (int d = 0; d < m.input_dim; ++d) {
      x(d) = feats.at(t, d);
      if (!m.cmvn_mean.empty()) x(d) = (x(d) - m.cmvn_mean[d]) * m.cmvn_inv_std[d];
    }
    for (std::size_t li = 0; li < ls.size(); ++li) {
      L& l = ls[li];
      const Layer& P = m.layers[li];
      if (m.arch == Arch::lstmp) {
        VectorXd a = l.wx * x + l.wr * l.r + vec(P.bias, 0, 4 * C);
        VectorXd pi = vec(P.peep, 0, C), pf = vec(P.peep, C, C), po = vec(P.peep, 2 * C, C);
        VectorXd i = sigmoid(a.segment(0, C) + pi.cwiseProduct(l.c));
        VectorXd f = sigmoid(a.segment(C, C) + pf.cwiseProduct(l.c));
        VectorXd g = tanhv(a.segment(2 * C, C));
        l.c = f.cwiseProduct(l.c) + i.cwiseProduct(g);
        VectorXd o = sigmoid(a.segment(3 * C, C) + po.cwiseProduct(l.c));
        VectorXd mm = o.cwiseProduct(tanhv(l.c));
        l.r = m.proj_dim > 0 ? VectorXd(l.wp * mm) : mm;
      } else {
        VectorXd gx = l.wx * x + vec(P.bias_x, 0, 3 * C), gh = l.wr * l.r + vec(P.bias_r, 0, 3 * C);
        VectorXd r = sigmoid(gx.segment(0, C) + gh.segment(0, C));
        VectorXd z = sigmoid(gx.segment(C, C) + gh.segment(C, C));
        VectorXd n = tanhv(gx.segment(2 * C, C) + r.cwiseProduct(gh.segment(2 * C, C)));
        l.r = (VectorXd::Ones(C) - z).cwiseProduct(n) + z.cwiseProduct(l.r);
      }
      x = l.r;
    }
    VectorXd z = wo * x + bo;
    const double mx = z.maxCoeff();
    const double lse = mx + std::log((z.array() - mx).exp().sum());
    for (int c = 0; c < m.num_classes; ++c) out.at(t, c) = static_cast<float>(z(c) - lse);
  }
  return out;
}


}  // namespace circa_test
