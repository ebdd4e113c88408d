// The job descriptor: the serializer and the validator round-trip, the byte layout matches the one documented in
// descriptor.hpp, every validator error code comes from the field it names, and the host runtime's jobs validate
// with buffers exactly as large as the validator's extents.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "core/circulant.hpp"
#include "core/model.hpp"
#include "core/numerics.hpp"
#include "hwif/circa_regs.h"
#include "hwif/descriptor.hpp"
#include "sw_driver/runtime.hpp"

namespace circa {
namespace {

constexpr std::uint64_t kDdrBase = 0x80000000ull;
constexpr std::uint64_t kDdrSize = 64ull << 20;
constexpr std::uint64_t kSlot = 64 << 10;  // every buffer of the hand-made jobs fits in one slot

DeviceCaps caps_for(const Numerics& num) {
  DeviceCaps c;
  c.weight = num.weight;
  c.act = num.act;
  c.cell = num.cell;
  c.rounding = num.rounding;
  c.ddr_base = kDdrBase;
  c.ddr_size = kDdrSize;
  return c;
}

// Hands out 64-byte aligned, non-overlapping slots from the bottom of DDR.
struct Slots {
  std::uint64_t next = kDdrBase;
  std::uint64_t operator()() {
    const std::uint64_t a = next;
    next += kSlot;
    return a;
  }
};

// Two LSTMP layers: layer 0 joint (k_x = k_r) with input 40 (zero-padded to 5 blocks of 8), layer 1 with
// separate W_x and W_r of different k and a projection of a third k.
JobDesc lstmp_job(const Numerics& num) {
  Slots s;
  JobDesc d;
  d.arch = Arch::lstmp;
  d.rounding = num.rounding;
  d.weight = num.weight;
  d.act = num.act;
  d.cell = num.cell;
  d.frames = 11;
  d.input_dim = 40;
  d.classes = 39;
  LayerDesc a;
  a.in_dim = 40;
  a.cell = 64;
  a.proj = 32;
  a.k_x = a.k_r = 8;
  a.k_proj = 4;
  a.w_x = s();
  a.w_proj = s();
  a.bias = s();
  a.peep = s();
  a.state = s();
  LayerDesc b;
  b.in_dim = 32;
  b.cell = 64;
  b.proj = 32;
  b.k_x = 4;
  b.k_r = 8;
  b.k_proj = 16;
  b.w_x = s();
  b.w_r = s();
  b.w_proj = s();
  b.bias = s();
  b.peep = s();
  b.state = s();
  d.layers = {a, b};
  d.input = s();
  d.output = s();
  d.out_w = s();
  d.out_b = s();
  return d;
}

JobDesc gru_job(const Numerics& num) {
  Slots s;
  JobDesc d;
  d.arch = Arch::gru;
  d.rounding = num.rounding;
  d.weight = num.weight;
  d.act = num.act;
  d.cell = num.cell;
  d.frames = 3;
  d.input_dim = 40;
  d.classes = 39;
  LayerDesc a;
  a.in_dim = 40;
  a.cell = 48;
  a.k_x = 16;
  a.k_r = 8;
  a.w_x = s();
  a.w_r = s();
  a.bias = s();
  a.bias_r = s();
  a.state = s();
  d.layers = {a};
  d.input = s();
  d.output = s();
  d.out_w = s();
  d.out_b = s();
  return d;
}

int validate(const std::string& bytes, const DeviceCaps& caps, JobDesc& out) {
  return validate_descriptor(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size(), caps, out);
}
int validate(const JobDesc& d, const DeviceCaps& caps) {
  JobDesc out;
  return validate(serialize_descriptor(d), caps, out);
}

void expect_same(const JobDesc& a, const JobDesc& b) {
  EXPECT_EQ(a.arch, b.arch);
  EXPECT_EQ(a.rounding, b.rounding);
  EXPECT_TRUE(a.weight == b.weight);
  EXPECT_TRUE(a.act == b.act);
  EXPECT_TRUE(a.cell == b.cell);
  EXPECT_EQ(a.frames, b.frames);
  EXPECT_EQ(a.input_dim, b.input_dim);
  EXPECT_EQ(a.classes, b.classes);
  EXPECT_EQ(a.input, b.input);
  EXPECT_EQ(a.output, b.output);
  EXPECT_EQ(a.out_w, b.out_w);
  EXPECT_EQ(a.out_b, b.out_b);
  ASSERT_EQ(a.layers.size(), b.layers.size());
  for (std::size_t l = 0; l < a.layers.size(); ++l) {
    const LayerDesc &x = a.layers[l], &y = b.layers[l];
    EXPECT_EQ(x.in_dim, y.in_dim) << l;
    EXPECT_EQ(x.cell, y.cell) << l;
    EXPECT_EQ(x.proj, y.proj) << l;
    EXPECT_EQ(x.k_x, y.k_x) << l;
    EXPECT_EQ(x.k_r, y.k_r) << l;
    EXPECT_EQ(x.k_proj, y.k_proj) << l;
    EXPECT_EQ(x.w_x, y.w_x) << l;
    EXPECT_EQ(x.w_r, y.w_r) << l;
    EXPECT_EQ(x.w_proj, y.w_proj) << l;
    EXPECT_EQ(x.bias, y.bias) << l;
    EXPECT_EQ(x.bias_r, y.bias_r) << l;
    EXPECT_EQ(x.peep, y.peep) << l;
    EXPECT_EQ(x.state, y.state) << l;
  }
}

TEST(Descriptor, LstmpRoundTrips) {
  const Numerics num;
  const JobDesc d = lstmp_job(num);
  const std::string bytes = serialize_descriptor(d);
  ASSERT_EQ(bytes.size(), kDescHeaderBytes + 2 * kDescLayerBytes);
  JobDesc back;
  ASSERT_EQ(validate(bytes, caps_for(num), back), 0);
  expect_same(d, back);
  EXPECT_EQ(serialize_descriptor(back), bytes);
}

TEST(Descriptor, GruRoundTripsWithWideFormats) {
  Numerics num;
  num.weight = QFormat{6, 12};  // 18 bits: 4-byte words
  num.act = QFormat{8, 10};
  num.cell = QFormat{8, 10};
  num.rounding = Rounding::half_up;
  const JobDesc d = gru_job(num);
  const std::string bytes = serialize_descriptor(d);
  JobDesc back;
  ASSERT_EQ(validate(bytes, caps_for(num), back), 0);
  expect_same(d, back);
}

TEST(Descriptor, BytesFollowTheDocumentedLayout) {
  const Numerics num;
  const JobDesc d = lstmp_job(num);
  const std::string s = serialize_descriptor(d);
  auto u8 = [&](std::size_t at) { return static_cast<unsigned>(static_cast<unsigned char>(s[at])); };
  auto u64 = [&](std::size_t at) {
    std::uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = v << 8 | u8(at + static_cast<std::size_t>(i));
    return v;
  };
  EXPECT_EQ(s.substr(0, 4), "CJOB");  // little-endian u32 0x424F4A43
  EXPECT_EQ(u8(4) | u8(5) << 8, 1u);
  EXPECT_EQ(u8(6) | u8(7) << 8, 2u);
  EXPECT_EQ(u8(8), 0u);
  EXPECT_EQ(u8(10), static_cast<unsigned>(num.weight.m));
  EXPECT_EQ(u8(11), static_cast<unsigned>(num.weight.n));
  EXPECT_EQ(u8(16), 11u);
  EXPECT_EQ(u8(20), 40u);
  EXPECT_EQ(u8(24), 39u);
  EXPECT_EQ(u64(32), d.input);
  EXPECT_EQ(u64(56), d.out_b);
  const std::size_t l1 = kDescHeaderBytes + kDescLayerBytes;
  EXPECT_EQ(u8(l1 + 0), 32u);
  EXPECT_EQ(u8(l1 + 12), 4u);
  EXPECT_EQ(u8(l1 + 13), 8u);
  EXPECT_EQ(u8(l1 + 14), 16u);
  EXPECT_EQ(u64(l1 + 16), d.layers[1].w_x);
  EXPECT_EQ(u64(l1 + 24), d.layers[1].w_r);
  EXPECT_EQ(u64(l1 + 64), d.layers[1].state);
  for (std::size_t r = 72; r < kDescLayerBytes; ++r) EXPECT_EQ(u8(l1 + r), 0u) << r;
}

// Each crafted fault yields the code of the field it breaks.
TEST(Descriptor, EachFaultGetsItsOwnCode) {
  const Numerics num;
  const DeviceCaps caps = caps_for(num);
  ASSERT_EQ(validate(lstmp_job(num), caps), 0);

  JobDesc d = lstmp_job(num);
  d.layers[0].bias += 8;
  EXPECT_EQ(validate(d, caps), CIRCA_ERR_ADDR_ALIGN);

  d = lstmp_job(num);
  d.output = kDdrBase + kDdrSize - 64;  // 11 frames x 39 classes do not fit in the last 64 bytes
  EXPECT_EQ(validate(d, caps), CIRCA_ERR_ADDR_RANGE);
  d = lstmp_job(num);
  d.layers[1].w_r = kDdrBase - 4096;
  EXPECT_EQ(validate(d, caps), CIRCA_ERR_ADDR_RANGE);
  d = lstmp_job(num);
  d.input = 0xFFFFFFFFFFFFFFC0ull;  // the extent would wrap around 2^64
  EXPECT_EQ(validate(d, caps), CIRCA_ERR_ADDR_RANGE);

  d = lstmp_job(num);
  d.layers[0].k_x = d.layers[0].k_r = 3;
  EXPECT_EQ(validate(d, caps), CIRCA_ERR_BLOCK_SIZE);
  d = lstmp_job(num);
  DeviceCaps no16 = caps;
  no16.k_mask &= ~(1u << 4);  // k = 16 (layer 1's projection) not built
  EXPECT_EQ(validate(d, no16), CIRCA_ERR_BLOCK_SIZE);

  d = lstmp_job(num);
  d.weight = QFormat{8, 8};
  EXPECT_EQ(validate(d, caps), CIRCA_ERR_BITS);
  d = lstmp_job(num);
  d.rounding = Rounding::half_up;
  EXPECT_EQ(validate(d, caps), CIRCA_ERR_BITS);

  d = lstmp_job(num);
  DeviceCaps one_layer = caps;
  one_layer.max_layers = 1;
  EXPECT_EQ(validate(d, one_layer), CIRCA_ERR_CAPACITY);
  DeviceCaps narrow = caps;
  narrow.max_dim = 63;  // the cells are 64
  EXPECT_EQ(validate(d, narrow), CIRCA_ERR_CAPACITY);

  d = lstmp_job(num);
  d.layers[1].cell = 60;  // not a multiple of k_r = 8
  EXPECT_EQ(validate(d, caps), CIRCA_ERR_DIMS);
  d = lstmp_job(num);
  d.layers[1].in_dim = 40;  // layer 0 produces 32
  EXPECT_EQ(validate(d, caps), CIRCA_ERR_DIMS);
  JobDesc g = gru_job(num);
  g.layers[0].proj = 16;  // GRU has no projection
  EXPECT_EQ(validate(g, caps), CIRCA_ERR_DIMS);

  std::string bytes = serialize_descriptor(lstmp_job(num));
  JobDesc out;
  bytes[0] ^= 1;
  EXPECT_EQ(validate(bytes, caps, out), CIRCA_ERR_DESC_FORMAT);
  bytes = serialize_descriptor(lstmp_job(num));
  bytes[4] = 2;  // version
  EXPECT_EQ(validate(bytes, caps, out), CIRCA_ERR_DESC_FORMAT);
  bytes = serialize_descriptor(lstmp_job(num));
  bytes[kDescHeaderBytes + 100] = 1;  // reserved
  EXPECT_EQ(validate(bytes, caps, out), CIRCA_ERR_DESC_FORMAT);
  d = lstmp_job(num);
  d.layers[0].w_r = d.layers[0].w_x + kSlot;  // a joint layer has no separate W_r
  EXPECT_EQ(validate(d, caps), CIRCA_ERR_DESC_FORMAT);

  bytes = serialize_descriptor(lstmp_job(num));
  bytes[8] = 7;
  EXPECT_EQ(validate(bytes, caps, out), CIRCA_ERR_ARCH);
}

TEST(Descriptor, EveryTruncationIsRejectedWithoutReadingPastTheEnd) {
  const Numerics num;
  const std::string bytes = serialize_descriptor(lstmp_job(num));
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    // A copy of exactly n bytes, so ASan would catch a read past it.
    std::vector<std::uint8_t> cut(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(n));
    JobDesc out;
    EXPECT_EQ(validate_descriptor(cut.data(), cut.size(), caps_for(num), out), CIRCA_ERR_DESC_FORMAT) << n;
  }
}

// The validator's weight extents must be the sizes the EW-MAC's packed layout really has.
TEST(Descriptor, PackedWeightBytesMatchesTheCirculantLayout) {
  for (const QFormat w : {QFormat{4, 12}, QFormat{6, 12}}) {
    Numerics num;
    num.weight = w;
    for (int k : {1, 2, 8, 64})
      for (int p : {1, 7, 8, 9, 33})
        for (int q : {1, 3, 20}) {
          const FixedCirculant c(p, q, k, num);
          EXPECT_EQ(packed_weight_bytes(p, q, k, w), c.packed_bytes())
              << w.str() << " k" << k << " p" << p << " q" << q;
        }
  }
}

// The runtime's model and job images: the descriptor it writes validates, and every buffer it points at has exactly
// the size the descriptor format implies (derived here from descriptor.hpp's layout, independently of the
// validator's own arithmetic).
void check_runtime_job(const Model& m, const Numerics& num) {
  const HostRuntime rt(m, num, kDdrBase);
  Matrix feats(5, static_cast<std::size_t>(m.input_dim));
  for (std::size_t i = 0; i < feats.data.size(); ++i) feats.data[i] = static_cast<float>((i * 37) % 17) / 8.0f - 1.0f;
  SatCounters sat;
  const HostRuntime::Job job = rt.pack_job(feats, rt.model_end(), sat);

  std::map<std::uint64_t, std::size_t> size_at;
  for (const MemRegion& r : rt.model_regions()) size_at[r.addr] = r.bytes.size();
  for (const MemRegion& r : job.regions) size_at[r.addr] = r.bytes.size();
  size_at[job.output_addr] = job.output_bytes;
  std::uint64_t end = kDdrBase;
  for (const auto& [addr, size] : size_at) {
    EXPECT_EQ(addr % kDescAlign, 0u);
    EXPECT_GE(addr, end) << "regions overlap at " << std::hex << addr;
    end = addr + size;
  }

  ASSERT_TRUE(size_at.count(job.desc_addr));
  std::string desc_bytes;
  for (const MemRegion& r : job.regions)
    if (r.addr == job.desc_addr) desc_bytes = r.bytes;
  JobDesc d;
  ASSERT_EQ(validate(desc_bytes, caps_for(num), d), 0);
  expect_same(d, job.desc);

  const std::uint64_t aw = word_bytes(num.act), ww = word_bytes(num.weight), cw = word_bytes(num.cell);
  const bool gru = m.arch == Arch::gru;
  const int G = gru ? 3 : 4;
  for (const LayerDesc& L : d.layers) {
    const int in_blocks = static_cast<int>((L.in_dim + L.k_x - 1) / L.k_x);
    const std::uint32_t rec = gru || !L.proj ? L.cell : L.proj;
    const bool joint = !gru && L.k_x == L.k_r;
    const int px = static_cast<int>(G * L.cell / L.k_x), pr = static_cast<int>(G * L.cell / L.k_r);
    const int rec_blocks = static_cast<int>(rec / L.k_r);
    EXPECT_EQ(size_at[L.w_x], packed_weight_bytes(px, joint ? in_blocks + rec_blocks : in_blocks, L.k_x, num.weight));
    if (!joint) {
      EXPECT_EQ(size_at[L.w_r], packed_weight_bytes(pr, rec_blocks, L.k_r, num.weight));
    }
    if (!gru && L.proj) {
      EXPECT_EQ(size_at[L.w_proj], packed_weight_bytes(static_cast<int>(L.proj / L.k_proj),
                                                       static_cast<int>(L.cell / L.k_proj), L.k_proj, num.weight));
    }
    EXPECT_EQ(size_at[L.bias], G * L.cell * aw);
    if (gru) {
      EXPECT_EQ(size_at[L.bias_r], G * L.cell * aw);
    } else {
      EXPECT_EQ(size_at[L.peep], 3 * L.cell * ww);
    }
    // The layers' states share one area, each layer at its 64-byte aligned offset.
    const std::size_t l = static_cast<std::size_t>(&L - d.layers.data());
    EXPECT_EQ(layer_state_bytes(d, l), L.cell * cw + rec * aw);
    EXPECT_EQ(L.state, d.layers[0].state + state_offset(d, l));
  }
  EXPECT_EQ(size_at[d.layers[0].state],
            state_offset(d, d.layers.size() - 1) + layer_state_bytes(d, d.layers.size() - 1));
  EXPECT_EQ(size_at[d.input], d.frames * d.input_dim * aw);
  EXPECT_EQ(size_at[d.output], d.frames * d.classes * aw);
  const std::uint32_t last = gru || !d.layers.back().proj ? d.layers.back().cell : d.layers.back().proj;
  EXPECT_EQ(size_at[d.out_w], packed_weight_bytes(static_cast<int>(d.classes), static_cast<int>(last), 1, num.weight));
  EXPECT_EQ(size_at[d.out_b], d.classes * aw);
}

// 40 inputs, 64 cells, 32 projected, two layers with block sizes 8 and 4.
SynthSpec two_layer_lstmp() {
  SynthSpec s;
  s.input_dim = 40;
  s.cell_dim = 64;
  s.proj_dim = 32;
  s.layers = 2;
  s.block = {8, 4};
  return s;
}

TEST(Descriptor, RuntimeJobsValidateWithExactBufferSizes) {
  const Numerics num;
  const SynthSpec lstmp = two_layer_lstmp();
  {
    SCOPED_TRACE("lstmp, mixed block sizes");
    check_runtime_job(synth_model(lstmp), num);
  }
  SynthSpec gru;
  gru.arch = Arch::gru;
  gru.input_dim = 40;
  gru.cell_dim = 48;
  gru.proj_dim = 0;
  gru.block = {16};
  {
    SCOPED_TRACE("gru");
    check_runtime_job(synth_model(gru), num);
  }
  Numerics wide = num;
  wide.weight = QFormat{6, 12};
  wide.act = QFormat{8, 10};
  wide.cell = QFormat{8, 10};
  {
    SCOPED_TRACE("lstmp, 18-bit formats");
    check_runtime_job(synth_model(lstmp), wide);
  }
}

// --- input ring and streams (register map 1.1) ---------------------------------------------------------------

JobDesc two_stream_ring_job(const Numerics& num) {
  JobDesc d = lstmp_job(num);
  d.ring = true;
  d.ring_slots = 4;
  Slots s;
  s.next = kDdrBase + 32 * kSlot;  // past lstmp_job's slots
  StreamDesc a;
  a.input = s();
  a.output = s();
  a.state = s();
  a.frames = 7;
  d.streams = {a};
  return d;
}

TEST(Descriptor, RingAndStreamsRoundTripInTheDocumentedLayout) {
  const Numerics num;
  const JobDesc d = two_stream_ring_job(num);
  const std::string bytes = serialize_descriptor(d);
  ASSERT_EQ(bytes.size(), kDescHeaderBytes + 2 * kDescLayerBytes + kDescStreamBytes);
  auto u32 = [&](std::size_t at) {
    std::uint32_t v;
    std::memcpy(&v, bytes.data() + at, 4);
    return v;
  };
  auto u64 = [&](std::size_t at) {
    std::uint64_t v;
    std::memcpy(&v, bytes.data() + at, 8);
    return v;
  };
  // flags: RING [0], EXTRA_STREAMS = 1 in [15:8], RING_SLOTS = 4 in [31:16].
  EXPECT_EQ(u32(28), 0x1u | (1u << 8) | (4u << 16));
  const std::size_t r = kDescHeaderBytes + 2 * kDescLayerBytes;
  EXPECT_EQ(u64(r + 0), d.streams[0].input);
  EXPECT_EQ(u64(r + 8), d.streams[0].output);
  EXPECT_EQ(u64(r + 16), d.streams[0].state);
  EXPECT_EQ(u32(r + 24), 7u);
  JobDesc back;
  ASSERT_EQ(validate(bytes, caps_for(num), back), 0);
  expect_same(d, back);
  EXPECT_TRUE(back.ring);
  EXPECT_EQ(back.ring_slots, 4u);
  ASSERT_EQ(back.streams.size(), 1u);
  EXPECT_EQ(back.streams[0].state, d.streams[0].state);
  EXPECT_EQ(back.steps(), 11u);  // max(11, 7)
  EXPECT_EQ(serialize_descriptor(back), bytes);
  // Every truncation of the longer descriptor is refused too.
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    std::vector<std::uint8_t> cut(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(n));
    JobDesc out;
    EXPECT_EQ(validate_descriptor(cut.data(), cut.size(), caps_for(num), out), CIRCA_ERR_DESC_FORMAT) << n;
  }
}

TEST(Descriptor, LayerStateOffsetsAre64ByteAligned) {
  const Numerics num;  // 16-bit words: 2 bytes
  const JobDesc d = lstmp_job(num);
  // Layer 0: 64 cells + 32 projected outputs = 96 words = 192 bytes, already a multiple of 64.
  EXPECT_EQ(layer_state_bytes(d, 0), 192u);
  EXPECT_EQ(state_offset(d, 0), 0u);
  EXPECT_EQ(state_offset(d, 1), 192u);
  JobDesc g = gru_job(num);
  g.layers.push_back(g.layers[0]);
  g.layers[1].in_dim = 48;
  // GRU layer: 48 cells + 48 outputs = 96 words = 192 bytes; with 40 cells, 160 bytes round up to 192.
  g.layers[0].cell = 40;
  EXPECT_EQ(layer_state_bytes(g, 0), 160u);
  EXPECT_EQ(state_offset(g, 1), 192u);
}

TEST(Descriptor, RingAndStreamFaultsGetTheirCodes) {
  const Numerics num;
  const DeviceCaps caps = caps_for(num);
  ASSERT_EQ(validate(two_stream_ring_job(num), caps), 0);
  JobDesc out;
  std::string bytes = serialize_descriptor(two_stream_ring_job(num));
  bytes[28] |= 0x02;  // a flag bit that means nothing
  EXPECT_EQ(validate(bytes, caps, out), CIRCA_ERR_DESC_FORMAT);
  JobDesc d = two_stream_ring_job(num);
  d.ring_slots = 0;  // RING without slots
  EXPECT_EQ(validate(d, caps), CIRCA_ERR_DESC_FORMAT);
  d = two_stream_ring_job(num);
  d.ring = false;  // slots without RING
  EXPECT_EQ(validate(d, caps), CIRCA_ERR_DESC_FORMAT);
  d = two_stream_ring_job(num);
  DeviceCaps one = caps;
  one.max_streams = 1;
  EXPECT_EQ(validate(d, one), CIRCA_ERR_CAPACITY);
  d = two_stream_ring_job(num);
  d.streams[0].frames = 0;
  EXPECT_EQ(validate(d, caps), CIRCA_ERR_DIMS);
  d = two_stream_ring_job(num);
  d.streams[0].state += 32;
  EXPECT_EQ(validate(d, caps), CIRCA_ERR_ADDR_ALIGN);
  d = two_stream_ring_job(num);
  d.streams[0].output = kDdrBase + kDdrSize - 64;  // 7 frames x 39 classes do not fit
  EXPECT_EQ(validate(d, caps), CIRCA_ERR_ADDR_RANGE);
  d = two_stream_ring_job(num);
  // The ring needs 4 frames of 40 words only: its extent ends 320 bytes before the end of DDR.
  d.streams[0].input = kDdrBase + kDdrSize - 320;
  EXPECT_EQ(validate(d, caps), 0);
  d.ring = false;
  d.ring_slots = 0;  // without the ring, 7 frames must fit
  EXPECT_EQ(validate(d, caps), CIRCA_ERR_ADDR_RANGE);
  bytes = serialize_descriptor(two_stream_ring_job(num));
  bytes[kDescHeaderBytes + 2 * kDescLayerBytes + 40] = 1;  // reserved byte of the stream record
  EXPECT_EQ(validate(bytes, caps, out), CIRCA_ERR_DESC_FORMAT);
}

TEST(Descriptor, RuntimeStreamJobsValidateAndPlaceFramesInRingSlots) {
  const Numerics num;
  const SynthSpec lstmp = two_layer_lstmp();
  const Model m = synth_model(lstmp);
  HostRuntime rt(m, num, kDdrBase);
  Matrix a(9, 40), b(5, 40);
  SatCounters sat;
  HostRuntime::Job j = rt.pack_streams({&a, &b}, rt.model_end(), 4, sat);
  ASSERT_EQ(j.streams.size(), 2u);
  EXPECT_EQ(j.desc.steps(), 9u);
  EXPECT_EQ(j.streams[1].frames, 5u);
  const std::uint64_t fb = 40 * 2;
  EXPECT_EQ(j.streams[0].frame_bytes, fb);
  EXPECT_EQ(j.streams[0].input.size(), 9 * fb);
  // Frame 6 of stream 1 would be slot 6 mod 4 = 2.
  EXPECT_EQ(j.input_slot(1, 6), j.streams[1].input_addr + 2 * fb);
  DeviceCaps caps = caps_for(num);
  caps.ddr_size = j.end - kDdrBase;  // exactly what the runtime laid out
  const std::string bytes = serialize_descriptor(j.desc);
  JobDesc out;
  EXPECT_EQ(validate(bytes, caps, out), 0);
  ASSERT_EQ(out.streams.size(), 1u);
  EXPECT_EQ(out.streams[0].frames, 5u);
  // Without a ring, the frames themselves are among the regions; with one, they are not.
  HostRuntime::Job batch = rt.pack_streams({&a, &b}, rt.model_end(), 0, sat);
  std::size_t in_bytes = 0, ring_bytes = 0;
  for (const MemRegion& r : batch.regions) in_bytes += r.bytes.size();
  for (const MemRegion& r : j.regions) ring_bytes += r.bytes.size();
  EXPECT_EQ(in_bytes - ring_bytes, (9 + 5) * fb);
}

}  // namespace
}  // namespace circa
