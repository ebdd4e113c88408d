// circa: the numerics of one hardware configuration (bit widths, Q formats, rounding, accumulator, activations).
// They belong to the hardware: the INI config fills this struct, and both the golden model and the virtual
// platform compute with it.
#pragma once

#include "core/activation.hpp"
#include "core/fixed.hpp"

namespace circa {

struct Numerics {
  QFormat weight{4, 12};     // FFT-domain weights, peepholes, dense output weights
  QFormat act{8, 8};         // inputs, gate outputs, m, r, logits (and biases)
  QFormat cell{8, 8};        // LSTM cell state
  int acc_bits = 48;         // wide accumulator; a design-time bound proves it cannot overflow
  Rounding rounding = Rounding::half_even;
  ActivationSpec activation;
  // The IFFT runs on frequency sums rounded to act.n + guard_bits fractional bits, saturated to ifft_bits.
  int guard_bits = 6;
  int ifft_bits = 40;
  int tw_frac() const { return act.bits() - 2; }  // twiddles in Q2.(bits-2), as wide as the datapath
};

}  // namespace circa
