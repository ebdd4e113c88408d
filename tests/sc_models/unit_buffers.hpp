// Test-bench helper: a set of on-chip buffers for one unit under test, and the operands of a golden-model matvec or
// layer copied into them, so a unit computes on its own copy while the golden model, on its own vectors, gives the
// reference.
#pragma once

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "core/golden.hpp"
#include "sc_models/buffer_set.hpp"
#include "sc_models/unit.hpp"

namespace circa_test {

using circa::Buf;
using circa::BufRef;

struct unit_buffers {
  std::vector<std::unique_ptr<circa::onchip_buffer>> own;
  circa::buffer_set set;

  // Call during elaboration (onchip_buffer is a module). `ports` 0: never a bound.
  explicit unit_buffers(const std::string& prefix, std::uint32_t ports = 0, std::uint64_t capacity = 64u << 20) {
    for (int b = 0; b < circa::kBuffers; ++b) {
      const std::string n = prefix + "_" + circa::buffer_name(static_cast<Buf>(b));
      own.push_back(std::make_unique<circa::onchip_buffer>(n.c_str(), circa::OnchipBufferParams{capacity, 8, ports}));
      set.b[static_cast<std::size_t>(b)] = own.back().get();
    }
  }
  circa::onchip_buffer& operator[](Buf b) { return *own[static_cast<std::size_t>(b)]; }

  BufRef zeros(Buf b, std::uint64_t count, std::uint32_t bits, std::uint32_t host) {
    BufRef r;
    r.buf = b;
    r.region = static_cast<std::int16_t>((*this)[b].reserve("test", count, bits, host));
    return r;
  }
  template <class T>
  BufRef put(Buf b, const std::vector<T>& v, std::uint32_t bits) {
    BufRef r = zeros(b, v.size(), bits, sizeof(T));
    std::memcpy(set.values<std::uint8_t>(r), v.data(), v.size() * sizeof(T));
    return r;
  }
  template <class T>
  std::vector<T> get(const BufRef& r) {
    const std::uint64_t n = (*this)[r.buf].region(r.region).count;
    const T* p = set.values<T>(r);
    return std::vector<T>(p, p + n);
  }
};

// One matvec's operands laid out in B: the input segment x (input buffer), the spectrum, the packed weights of mv,
// the frequency sums and the outputs, all zero but x and the weights. The tile covers nothing yet: set begin/end.
inline circa::Tile matvec_tile(unit_buffers& B, const circa::FixedMatvec& mv, const std::vector<std::int32_t>& x,
                               const circa::Numerics& num) {
  circa::Tile t;
  t.shape = mv.W.shape();
  t.op[circa::kSeg0] = B.put(Buf::input, x, 16);
  t.seg_n[0] = static_cast<int>(x.size());
  t.op[circa::kSpectrum] = B.zeros(Buf::spectrum, static_cast<std::uint64_t>(t.shape.q) * t.shape.bins, 32, 16);
  const std::string w = mv.W.packed();
  const std::uint32_t wb = mv.W.narrow() ? 2 : 4;
  t.op[circa::kWeights] = B.zeros(Buf::weight, w.size() / wb, 8 * wb, wb);
  std::memcpy(B.set.values<std::uint8_t>(t.op[circa::kWeights]), w.data(), w.size());
  t.op[circa::kPsum] = B.zeros(Buf::psum, t.shape.acc_size(), 48, 8);
  t.op[circa::kSums] = B.zeros(Buf::gates, static_cast<std::uint64_t>(t.shape.p) * t.shape.k, 40, 8);
  t.run = mv.W.int32_run();
  t.narrow = mv.W.narrow();
  t.vector = mv.W.packed16();
  t.w_stride = t.shape.chunks;
  t.w_c0 = 0;
  (void)num;
  return t;
}

// The spectrum region of a matvec tile as four arrays.
inline circa::FreqView spectrum_of(unit_buffers& B, const circa::Tile& t) {
  std::int32_t* s = B.set.values<std::int32_t>(t.op[circa::kSpectrum]);
  const std::size_t n = static_cast<std::size_t>(t.shape.q) * t.shape.bins;
  return {t.shape.q, t.shape.bins, s, s + n, s + 2 * n, s + 3 * n};
}

// One layer's element-wise operands copied from a golden layer L (gate sums, biases, peepholes, gates, state).
inline circa::Tile cell_tile(unit_buffers& B, circa::FixedLayer& L) {
  circa::Tile t;
  t.arch = L.arch;
  t.cell = L.cell;
  t.op[circa::kGy] = B.put(Buf::gates, L.G.y, 40);
  if (!L.joint) t.op[circa::kRy] = B.put(Buf::gates, L.R.y, 40);
  if (L.arch == circa::Arch::lstmp) {
    t.op[circa::kBias] = B.put(Buf::gates, L.bias, 16);
    t.op[circa::kPeep] = B.put(Buf::gates, L.peep, 16);
    t.op[circa::kM] = B.put(Buf::state, L.m, 16);
  } else {
    t.op[circa::kBiasX] = B.put(Buf::gates, L.bias_x, 16);
    t.op[circa::kBiasR] = B.put(Buf::gates, L.bias_r, 16);
  }
  t.op[circa::kGate] = B.put(Buf::gates, L.gate, 16);
  t.op[circa::kC] = B.put(Buf::state, L.c, 16);
  t.op[circa::kRPrev] = B.put(Buf::state, L.r_prev, 16);
  if (L.arch == circa::Arch::gru || L.P.empty()) t.op[circa::kRNext] = B.put(Buf::state, L.r_next, 16);
  return t;
}

}  // namespace circa_test
