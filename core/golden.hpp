// circa: the golden models. FixedGolden defines circa's numbers: the virtual platform's units call the same
// kernels (core/circulant.hpp, core/fft.hpp, core/activation.hpp) and must match it bit for bit. FloatGolden is
// the same network in double precision, for SQNR and accuracy comparisons.
//
// Per frame, per layer (LSTMP; gate order i, f, g, o):
//   gates = IFFT(sum W_x^ X + W_r^ R')      one frequency accumulation when W_x and W_r share k, else two
//   pre_i = gates_i + b_i + p_i o c'        wide, at act.n + guard bits, then written back to act (accum)
//   i, f, o = sigmoid(pre), g = tanh(pre)   LUT / PWL, act -> act
//   c = f o c' + i o g                      exact, written back to cell
//   (o's peephole uses the new c)
//   m = o o tanh(c)                         tanh: cell -> act; product written back to act
//   r = W_proj m                            circulant, written back to act (accum); r = m without projection
// GRU (PyTorch's equations, gates r, z, n):
//   r = sigmoid(Wx_r x + bx_r + Wr_r h' + br_r), z likewise
//   n = tanh(Wx_n x + bx_n + r o (Wr_n h' + br_n))   (Wr_n h' + br_n written back to act before the product)
//   h = (1 - z) o n + z o h'                 exact, written back to act
// Output: logits = W_out r + b_out (dense, k = 1, written back to act), log-softmax in double on the host.
// Inputs: CMVN in double when the model has it, then quantized to act (counted as input saturations).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "core/activation.hpp"
#include "core/circulant.hpp"
#include "core/fft.hpp"
#include "core/matrix.hpp"
#include "core/model.hpp"
#include "core/numerics.hpp"

namespace circa {

// Log-softmax of n logits, in double, written as float.
void log_softmax(const double* logits, int n, float* out);

class FixedGolden {
public:
  FixedGolden(const Model& m, const Numerics& num);
  ~FixedGolden();
  FixedGolden(const FixedGolden&) = delete;
  FixedGolden& operator=(const FixedGolden&) = delete;

  void reset();                               // zero state
  void step(const float* x, float* logp);     // one frame: input_dim features -> num_classes log-posteriors
  Matrix run(const Matrix& feats);            // reset, then every frame

  const SatCounters& saturations() const { return sat_; }
  // The last frame's output of layer l (r, or h for GRU) and the logits, dequantized.
  std::vector<double> layer_output(int l) const;
  std::vector<double> logits() const;
  const Numerics& numerics() const { return num_; }

  // Internals the virtual platform and tests reach into (weights as packed for the kernels).
  struct LayerState;
  const LayerState& layer(int l) const;
  LayerState& layer_mut(int l);

private:
  const Model& model_;
  Numerics num_;
  SatCounters sat_;
  std::vector<std::unique_ptr<LayerState>> layers_;
  std::unique_ptr<LayerState> out_;  // the dense output layer (k = 1)
  std::vector<std::int32_t> xq_;
  std::vector<std::int32_t> logits_q_;
  std::vector<double> logits_d_;
};

class FloatGolden {
public:
  explicit FloatGolden(const Model& m);
  ~FloatGolden();
  void reset();
  void step(const float* x, float* logp);
  Matrix run(const Matrix& feats);
  std::vector<double> layer_output(int l) const;
  std::vector<double> logits() const { return logits_; }

  struct LayerState;

private:
  const Model& model_;
  std::vector<std::unique_ptr<LayerState>> layers_;
  std::unique_ptr<FloatCirculant> out_;
  std::vector<double> x_, logits_;
};

// Signal-to-quantization-noise ratio in dB of `test` against `ref` (10 log10 sum ref^2 / sum (ref - test)^2).
double sqnr_db(const std::vector<double>& ref, const std::vector<double>& test);

// Parses the numeric keys of a hardware config into Numerics (the INI loader fills the strings).
}  // namespace circa
