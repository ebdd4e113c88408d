// circa: the accelerator's on-chip buffers, by role, and the references a tile carries into them.
//
// The datapath's operands live in these buffers (docs/architecture.md, "On-chip buffers"): the DMA fills `input`
// and `weight` from DDR and drains `output` to DDR; the FFT unit reads input segments (from `input` or `state`)
// and writes `spectrum`; the EW-MAC reads `spectrum` and `weight` and writes `psum`; the IFFT reads `psum` and
// writes `gates` (the wide gate sums) or, through its write-back stage, `state` (projection r) and `output`
// (logits); the activation unit reads `gates`, `weight` (biases, peepholes) and `state` (c') and writes `gates`
// (the gate values); the cell update reads `gates` and `state` and writes `state`.
#pragma once

#include <array>
#include <cstdint>

#include "sc_models/onchip_buffer.hpp"

namespace circa {

enum class Buf : std::uint8_t { input, spectrum, weight, psum, gates, state, output };
constexpr int kBuffers = 7;
const char* buffer_name(Buf b);

// A value region of one buffer; region < 0: none.
struct BufRef {
  Buf buf = Buf::input;
  std::int16_t region = -1;
  bool none() const { return region < 0; }
};

struct buffer_set {
  std::array<onchip_buffer*, kBuffers> b{};
  onchip_buffer& operator[](Buf x) const { return *b[static_cast<std::size_t>(x)]; }
  template <class T>
  T* values(const BufRef& r) const {
    return r.none() ? nullptr : (*this)[r.buf].values<T>(r.region);
  }
};

}  // namespace circa
