// circa: the job descriptor the host runtime leaves in DDR and the accelerator fetches and validates. Pure C++ (no
// SystemC), so the validator can be fuzzed: bytes in, job or error code out.
//
// Layout, little-endian, one contiguous block at a 64-byte aligned address:
//   header, 64 bytes:
//     0 u32 magic "CJOB"   4 u16 version (1)   6 u16 layers
//     8 u8 arch (0 lstmp, 1 gru)   9 u8 rounding (0 half_even, 1 half_up)
//    10 u8 weight m, n   12 u8 act m, n   14 u8 cell m, n
//    16 u32 frames   20 u32 input_dim   24 u32 classes   28 u32 flags
//    32 u64 input    40 u64 output    48 u64 out_w    56 u64 out_b
//   flags: [0] RING (the input is a ring of RING_SLOTS frames that the host feeds, see RING_HEAD), [7:1] 0,
//          [15:8] EXTRA_STREAMS (independent utterances run interleaved beyond the first: S - 1), [31:16] RING_SLOTS
//          (>= 1 with RING, else 0). The header's frames/input/output and the layers' state are stream 0's.
//   then one 128-byte record per layer:
//     0 u32 in_dim   4 u32 cell   8 u32 proj (0 = none)   12 u8 k_x   13 u8 k_r   14 u8 k_proj   15 u8 0
//    16 u64 w_x (W_x, or [W_x | W_r] when the LSTMP's k_x == k_r)   24 u64 w_r (when separate, else 0)
//    32 u64 w_proj   40 u64 bias (LSTMP 4C, GRU bias_x 3C)   48 u64 bias_r (GRU 3C)   56 u64 peep (LSTMP 3C)
//    64 u64 state (c: C cell words, then r: rec act words; read at start, written back at the end)
//    72..127 reserved, 0
//   then, with EXTRA_STREAMS = S - 1 > 0, one 64-byte record for each of streams 1 .. S-1:
//     0 u64 input   8 u64 output   16 u64 state (layer l's state at state + state_offset(l))   24 u32 frames
//    28..63 reserved, 0
//   A job runs max(frames) frame steps; step t takes frame t of every stream that has one, through every stage
//   together, so one stream's tiles fill the pipeline while another's drain. The input of frame t is at
//   input + (t mod RING_SLOTS) * frame bytes with RING, else input + t * frame bytes; outputs are never a ring.
// Element sizes: a word of a b-bit format takes 2 bytes when b <= 16, else 4. Packed weights are FixedCirculant's
// host layout (bins, row chunks of 8, input blocks, 8 rows, (re, im)), so the EW-MAC reads them as they are.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/fixed.hpp"
#include "core/model.hpp"

namespace circa {

constexpr std::uint32_t kDescMagic = 0x424F4A43u;  // "CJOB"
constexpr std::uint16_t kDescVersion = 1;
constexpr std::size_t kDescHeaderBytes = 64;
constexpr std::size_t kDescLayerBytes = 128;
constexpr std::size_t kDescStreamBytes = 64;
constexpr std::uint32_t kDescFlagRing = 1u;
constexpr std::uint64_t kDescAlign = 64;

struct LayerDesc {
  std::uint32_t in_dim = 0, cell = 0, proj = 0;
  std::uint8_t k_x = 1, k_r = 1, k_proj = 1;
  std::uint64_t w_x = 0, w_r = 0, w_proj = 0, bias = 0, bias_r = 0, peep = 0, state = 0;
};

struct StreamDesc {
  std::uint64_t input = 0, output = 0, state = 0;
  std::uint32_t frames = 0;
};

struct JobDesc {
  Arch arch = Arch::lstmp;
  Rounding rounding = Rounding::half_even;
  QFormat weight, act, cell;
  std::uint32_t frames = 0, input_dim = 0, classes = 0;
  std::uint64_t input = 0, output = 0, out_w = 0, out_b = 0;
  std::vector<LayerDesc> layers;
  bool ring = false;
  std::uint32_t ring_slots = 0;
  std::vector<StreamDesc> streams;  // streams 1 .. S-1; stream 0 is the header's

  std::size_t bytes() const {
    return kDescHeaderBytes + layers.size() * kDescLayerBytes + streams.size() * kDescStreamBytes;
  }
  std::uint32_t steps() const {
    std::uint32_t n = frames;
    for (const StreamDesc& s : streams) n = std::max(n, s.frames);
    return n;
  }
};

// Bytes of layer l's state (C cell words, then the recurrent output) and where it starts in a stream's state area
// (each layer's state starts 64-byte aligned).
std::uint64_t layer_state_bytes(const JobDesc& d, std::size_t l);
std::uint64_t state_offset(const JobDesc& d, std::size_t l);

// What the hardware supports, for validation.
struct DeviceCaps {
  std::uint32_t k_mask = 0x7F;  // bit i: k = 2^i
  QFormat weight, act, cell;
  Rounding rounding = Rounding::half_even;
  std::uint32_t max_dim = 4096;
  std::uint32_t max_layers = 8;
  std::uint32_t max_frames = 1u << 20;
  std::uint32_t max_streams = 16;
  std::uint64_t ddr_base = 0, ddr_size = 0;
};

// Bytes of one word of a format, and of the buffers a descriptor points at.
inline std::size_t word_bytes(QFormat q) { return q.bits() <= 16 ? 2 : 4; }
// Packed block-circulant weights: bins * row chunks * q * 8 (re, im) words.
std::uint64_t packed_weight_bytes(int p, int q, int k, QFormat w);

std::string serialize_descriptor(const JobDesc& d);

// Header only (enough to know the full size): error code (CIRCA_ERR_*) or 0.
int parse_descriptor_header(const std::uint8_t* bytes, std::size_t n, const DeviceCaps& caps, JobDesc& out);
// The whole descriptor, every field and every extent validated against caps. Returns 0 or a CIRCA_ERR_* code.
int validate_descriptor(const std::uint8_t* bytes, std::size_t n, const DeviceCaps& caps, JobDesc& out);

}  // namespace circa
