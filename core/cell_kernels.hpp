// circa: the element-wise stages of a layer (gate pre-activations and activations, the cell update, the write-back
// of wide sums) as kernels on raw operands. The golden model runs them on its own vectors (core/golden.hpp); the
// accelerator's activation and cell-update units run them on the values they read from their on-chip buffers. The
// equations and their bit-level rules are in docs/architecture.md ("Gates and cell").
#pragma once

#include <cstdint>

#include "core/activation.hpp"
#include "core/fixed.hpp"
#include "core/model.hpp"
#include "core/numerics.hpp"

namespace circa {

// One layer's element-wise operands, gate-major (gate g of cell u at g * cell + u). Pointers may be null where
// the architecture has no such operand: `ry` when W_x and W_r were accumulated together; `r_next` for an LSTMP
// with a projection (its r comes from the projection's write-back); bias/peep for GRU; bias_x/bias_r for LSTMP.
struct CellOperands {
  Arch arch = Arch::lstmp;
  int cell = 0;
  const std::int64_t* gy = nullptr;  // gate matvec outputs, act.n + guard fractional bits
  const std::int64_t* ry = nullptr;  // recurrent matvec outputs (not joint)
  const std::int32_t *bias = nullptr, *peep = nullptr, *bias_x = nullptr, *bias_r = nullptr;
  std::int32_t* gate = nullptr;         // gate outputs (act)
  std::int32_t* c = nullptr;            // cell state (cell format), read as c' and written as c
  std::int32_t* m = nullptr;            // LSTMP m (act)
  const std::int32_t* r_prev = nullptr;  // GRU h'
  std::int32_t* r_next = nullptr;       // LSTMP r without projection, GRU h
  const Activation *sig = nullptr, *tanh_act = nullptr, *tanh_cell = nullptr;
};

// Activation unit, cells [u0, u1): LSTMP i, f, g (peepholes on c'); GRU r, z, n.
void activate_cells(const CellOperands& o, int u0, int u1, const Numerics& num, SatCounters& sat);
// Cell update, cells [u0, u1): LSTMP c, o, m (and r = m without projection); GRU h.
void update_cells(const CellOperands& o, int u0, int u1, const Numerics& num, SatCounters& sat);
// The kernels above take AVX2 for runs of eight cells when activate_cells_vectorized / update_cells_vectorized
// (LSTMP, interpolated power-of-two LUTs whose arithmetic fits int32 lanes, an AVX2 host without CIRCA_NO_AVX2), the
// remaining cells and every other case the scalar path; both compute the same integers and counts
// (core/cell_kernels_avx2.cpp). The scalar path alone, the reference the vector one is tested against:
void activate_cells_scalar(const CellOperands& o, int u0, int u1, const Numerics& num, SatCounters& sat);
void update_cells_scalar(const CellOperands& o, int u0, int u1, const Numerics& num, SatCounters& sat);
bool activate_cells_vectorized(const CellOperands& o, const Numerics& num);
bool update_cells_vectorized(const CellOperands& o, const Numerics& num);
namespace detail {
// The vector path on the first multiple of eight cells of [u0, u1) when the case allows it; returns the first cell it
// left to the scalar path (u0 when it did nothing).
int activate_cells_vector(const CellOperands& o, int u0, int u1, const Numerics& num, SatCounters& sat);
int update_cells_vector(const CellOperands& o, int u0, int u1, const Numerics& num, SatCounters& sat);
}  // namespace detail

// Write-back of wide sums y[d] (act.n + guard fractional bits), plus bias[d] when given, to act: the projection's
// r and the output layer's logits, for d in [d0, d1).
void write_back_sums(const std::int64_t* y, const std::int32_t* bias, int d0, int d1, const Numerics& num,
                     std::int32_t* out, SatCounters& sat);

}  // namespace circa
