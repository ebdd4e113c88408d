// circa: the golden models. FixedGolden defines circa's numbers. A frame is split into the stages the
// accelerator's units run (FixedMatvec: FFT of input blocks, EW-MAC over row chunks, IFFT of block rows;
// FixedLayer: activation and cell update over ranges of units), and the virtual platform's units call these same
// stage functions on their tiles, so the platform is bit-exact to FixedGolden by construction. Every stage is
// independent across its range (blocks, row chunks, block rows, units), so any tiling gives the same bits.
// FloatGolden is the same network in double precision, for SQNR and accuracy comparisons.
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
#include "core/cell_kernels.hpp"
#include "core/circulant.hpp"
#include "core/fft.hpp"
#include "core/matrix.hpp"
#include "core/model.hpp"
#include "core/numerics.hpp"

namespace circa {

// Log-softmax of n logits, in double, written as float.
void log_softmax(const double* logits, int n, float* out);

// One block-circulant matrix-vector product as the accelerator runs it. Buffers are allocated once.
struct FixedMatvec {
  FixedCirculant W;
  std::unique_ptr<FixedFft> fft;  // the same transform serves forward and inverse
  FreqInput X;
  std::vector<std::int64_t> acc;  // frequency sums, FixedCirculant layout
  std::vector<std::int64_t> y;    // p*k outputs at act.n + guard fractional bits
  InputSegment seg[2] = {};
  int nseg = 0;

  FixedMatvec() = default;
  FixedMatvec(const std::vector<const CirculantMatrix*>& parts, const Numerics& num, SatCounters& sat);
  FixedMatvec(int p, int q, int k, const Numerics& num);  // zero weights (filled by FixedCirculant::load_packed)
  bool empty() const { return W.p() == 0; }
  void set_inputs(InputSegment a) { seg[0] = a, nseg = 1; }
  void set_inputs(InputSegment a, InputSegment b) { seg[0] = a, seg[1] = b, nseg = 2; }

  int in_blocks() const { return W.q(); }
  int chunks() const { return W.chunks(); }
  int rows() const { return W.p(); }  // block rows
  // FFT unit: forward FFT of input blocks [j0, j1).
  void fft_blocks(int j0, int j1, const Numerics& num, SatCounters& sat);
  // EW-MAC: frequency sums of row chunks [c0, c1) (overwritten, not accumulated across frames).
  void mac_chunks(int c0, int c1);
  // IFFT unit: outputs of block rows [i0, i1).
  void ifft_rows(int i0, int i1, const Numerics& num, SatCounters& sat);
  void run(const Numerics& num, SatCounters& sat);  // all three over the whole matrix
};

// A layer's shape as the accelerator's descriptor gives it.
struct LayerGeom {
  Arch arch = Arch::lstmp;
  int in_dim = 0, cell = 0, proj = 0;  // proj 0: none
  int k_x = 1, k_r = 1, k_proj = 1;
  int rec() const { return arch == Arch::lstmp && proj > 0 ? proj : cell; }
  int gates() const { return arch == Arch::lstmp ? 4 : 3; }
  bool joint() const { return arch == Arch::lstmp && k_x == k_r; }
};

// One layer's fixed-point weights, buffers and recurrent state.
struct FixedLayer {
  Arch arch = Arch::lstmp;
  int in_dim = 0, cell = 0, rec = 0, gates = 0;
  bool joint = false;  // LSTMP whose W_x and W_r share k: one accumulation, one IFFT per gate block row
  FixedMatvec G;       // [W_x | W_r] when joint, else W_x
  FixedMatvec R;       // W_r when not joint (always for GRU)
  FixedMatvec P;       // W_proj (LSTMP with projection)
  std::vector<std::int32_t> bias, bias_x, bias_r, peep;
  std::vector<std::int32_t> c, m;          // cell state (cell format), m (act)
  std::vector<std::int32_t> r_prev, r_next;  // recurrent output r (GRU: h), read / written this frame
  std::vector<std::int32_t> gate;          // gate outputs (act), gate-major
  std::unique_ptr<Activation> sig, tanh_act, tanh_cell;

  FixedLayer(const Model& m, const Layer& L, const Numerics& num, SatCounters& sat);
  // Geometry only: weights, biases and state zero, to be loaded (the accelerator's side).
  FixedLayer(const LayerGeom& g, const Numerics& num);
  void reset();
  // Points the gate matvecs at this frame's input (and r').
  void begin_frame(const std::int32_t* in);
  // Activation unit, units [u0, u1): LSTMP i, f, g (peepholes on c'); GRU r, z, n.
  void activate(int u0, int u1, const Numerics& num, SatCounters& sat);
  // Cell update, units [u0, u1): LSTMP c, o, m (and r = m without projection); GRU h.
  void cell_update(int u0, int u1, const Numerics& num, SatCounters& sat);
  // Points the projection at m (after every cell_update of the frame).
  void begin_projection();
  // Projection write-back of r for block rows [i0, i1) of P (after P.ifft_rows of those rows).
  void proj_writeback(int i0, int i1, const Numerics& num, SatCounters& sat);
  // r_next becomes r_prev.
  void end_frame();
  // This layer's vectors as the element-wise kernels' operands (core/cell_kernels.hpp).
  CellOperands operands();
  const std::vector<std::int32_t>& output() const { return r_prev; }  // after end_frame
};

// The dense output layer (k = 1 through the same kernels) and its logits.
struct FixedOutput {
  FixedMatvec O;
  std::vector<std::int32_t> bias, logits;
  FixedOutput(const Model& m, const Numerics& num, SatCounters& sat);
  FixedOutput(int classes, int in_dim, const Numerics& num);  // zero weights
  void writeback(int c0, int c1, const Numerics& num, SatCounters& sat);  // logits[c] for classes [c0, c1)
};

// CMVN (when the model has it) and quantization of one frame of features.
void quantize_frame(const Model& m, const Numerics& num, const float* x, std::int32_t* out, SatCounters& sat);

class FixedGolden {
public:
  FixedGolden(const Model& m, const Numerics& num);
  ~FixedGolden();
  FixedGolden(const FixedGolden&) = delete;
  FixedGolden& operator=(const FixedGolden&) = delete;

  void reset();                            // zero state
  void step(const float* x, float* logp);  // one frame: input_dim features -> num_classes log-posteriors
  Matrix run(const Matrix& feats);         // reset, then every frame

  const SatCounters& saturations() const { return sat_; }
  // The last frame's output of layer l (r, or h for GRU) and the logits, dequantized.
  std::vector<double> layer_output(int l) const;
  std::vector<double> logits() const;
  const Numerics& numerics() const { return num_; }
  int num_layers() const { return static_cast<int>(layers_.size()); }
  FixedLayer& layer(int l) { return *layers_.at(static_cast<std::size_t>(l)); }
  FixedOutput& output() { return *out_; }

private:
  const Model& model_;
  Numerics num_;
  SatCounters sat_;
  std::vector<std::unique_ptr<FixedLayer>> layers_;
  std::unique_ptr<FixedOutput> out_;
  std::vector<std::int32_t> xq_;
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

}  // namespace circa
