#include "hwif/descriptor.hpp"

#include <cstring>

#include "core/fft.hpp"
#include "hwif/circa_regs.h"

namespace circa {

std::uint64_t packed_weight_bytes(int p, int q, int k, QFormat w) {
  const std::uint64_t chunks = (static_cast<std::uint64_t>(p) + 7) / 8;
  return static_cast<std::uint64_t>(num_bins(k)) * chunks * static_cast<std::uint64_t>(q) * 8 * 2 * word_bytes(w);
}

namespace {

template <class T>
void put(std::string& s, std::size_t at, T v) {
  std::memcpy(&s[at], &v, sizeof v);  // little-endian host (checked in CMake/tests)
}
template <class T>
T get(const std::uint8_t* b, std::size_t at) {
  T v;
  std::memcpy(&v, b + at, sizeof v);
  return v;
}

bool valid_k(int k, std::uint32_t mask) {
  if (!valid_block_size(k)) return false;
  int i = 0;
  while ((1 << i) < k) ++i;
  return (mask >> i) & 1u;
}

// [addr, addr + bytes) inside DDR and aligned; 0 or an error code.
int check_extent(std::uint64_t addr, std::uint64_t bytes, const DeviceCaps& c) {
  if (addr % kDescAlign) return CIRCA_ERR_ADDR_ALIGN;
  if (addr < c.ddr_base) return CIRCA_ERR_ADDR_RANGE;
  const std::uint64_t off = addr - c.ddr_base;
  if (off > c.ddr_size || bytes > c.ddr_size - off) return CIRCA_ERR_ADDR_RANGE;
  return 0;
}

}  // namespace

std::uint64_t layer_state_bytes(const JobDesc& d, std::size_t l) {
  const LayerDesc& L = d.layers[l];
  const std::uint64_t rec = d.arch == Arch::gru ? L.cell : (L.proj ? L.proj : L.cell);
  return L.cell * static_cast<std::uint64_t>(word_bytes(d.cell)) + rec * word_bytes(d.act);
}

std::uint64_t state_offset(const JobDesc& d, std::size_t l) {
  std::uint64_t o = 0;
  for (std::size_t i = 0; i < l; ++i) o += (layer_state_bytes(d, i) + kDescAlign - 1) / kDescAlign * kDescAlign;
  return o;
}

std::string serialize_descriptor(const JobDesc& d) {
  std::string s(d.bytes(), '\0');
  put<std::uint32_t>(s, 0, kDescMagic);
  put<std::uint16_t>(s, 4, kDescVersion);
  put<std::uint16_t>(s, 6, static_cast<std::uint16_t>(d.layers.size()));
  put<std::uint8_t>(s, 8, d.arch == Arch::lstmp ? 0 : 1);
  put<std::uint8_t>(s, 9, d.rounding == Rounding::half_even ? 0 : 1);
  const std::uint8_t q[6] = {static_cast<std::uint8_t>(d.weight.m), static_cast<std::uint8_t>(d.weight.n),
                             static_cast<std::uint8_t>(d.act.m),    static_cast<std::uint8_t>(d.act.n),
                             static_cast<std::uint8_t>(d.cell.m),   static_cast<std::uint8_t>(d.cell.n)};
  std::memcpy(&s[10], q, 6);
  put<std::uint32_t>(s, 16, d.frames);
  put<std::uint32_t>(s, 20, d.input_dim);
  put<std::uint32_t>(s, 24, d.classes);
  const std::uint32_t extra = static_cast<std::uint32_t>(d.streams.size());
  put<std::uint32_t>(s, 28, (d.ring ? kDescFlagRing : 0u) | ((extra & 0xFFu) << 8) | (d.ring_slots << 16));
  put<std::uint64_t>(s, 32, d.input);
  put<std::uint64_t>(s, 40, d.output);
  put<std::uint64_t>(s, 48, d.out_w);
  put<std::uint64_t>(s, 56, d.out_b);
  for (std::size_t l = 0; l < d.layers.size(); ++l) {
    const LayerDesc& L = d.layers[l];
    const std::size_t b = kDescHeaderBytes + l * kDescLayerBytes;
    put<std::uint32_t>(s, b + 0, L.in_dim);
    put<std::uint32_t>(s, b + 4, L.cell);
    put<std::uint32_t>(s, b + 8, L.proj);
    put<std::uint8_t>(s, b + 12, L.k_x);
    put<std::uint8_t>(s, b + 13, L.k_r);
    put<std::uint8_t>(s, b + 14, L.k_proj);
    put<std::uint64_t>(s, b + 16, L.w_x);
    put<std::uint64_t>(s, b + 24, L.w_r);
    put<std::uint64_t>(s, b + 32, L.w_proj);
    put<std::uint64_t>(s, b + 40, L.bias);
    put<std::uint64_t>(s, b + 48, L.bias_r);
    put<std::uint64_t>(s, b + 56, L.peep);
    put<std::uint64_t>(s, b + 64, L.state);
  }
  for (std::size_t i = 0; i < d.streams.size(); ++i) {
    const StreamDesc& st = d.streams[i];
    const std::size_t b = kDescHeaderBytes + d.layers.size() * kDescLayerBytes + i * kDescStreamBytes;
    put<std::uint64_t>(s, b + 0, st.input);
    put<std::uint64_t>(s, b + 8, st.output);
    put<std::uint64_t>(s, b + 16, st.state);
    put<std::uint32_t>(s, b + 24, st.frames);
  }
  return s;
}

int parse_descriptor_header(const std::uint8_t* b, std::size_t n, const DeviceCaps& caps, JobDesc& d) {
  if (n < kDescHeaderBytes) return CIRCA_ERR_DESC_FORMAT;
  if (get<std::uint32_t>(b, 0) != kDescMagic || get<std::uint16_t>(b, 4) != kDescVersion)
    return CIRCA_ERR_DESC_FORMAT;
  const std::uint16_t layers = get<std::uint16_t>(b, 6);
  if (layers == 0) return CIRCA_ERR_DIMS;
  if (layers > caps.max_layers) return CIRCA_ERR_CAPACITY;
  const std::uint8_t arch = b[8], rnd = b[9];
  if (arch > 1) return CIRCA_ERR_ARCH;
  if (rnd > 1) return CIRCA_ERR_BITS;
  d.arch = arch == 0 ? Arch::lstmp : Arch::gru;
  d.rounding = rnd == 0 ? Rounding::half_even : Rounding::half_up;
  d.weight = QFormat{b[10], b[11]};
  d.act = QFormat{b[12], b[13]};
  d.cell = QFormat{b[14], b[15]};
  if (!(d.weight == caps.weight) || !(d.act == caps.act) || !(d.cell == caps.cell) || d.rounding != caps.rounding)
    return CIRCA_ERR_BITS;
  d.frames = get<std::uint32_t>(b, 16);
  d.input_dim = get<std::uint32_t>(b, 20);
  d.classes = get<std::uint32_t>(b, 24);
  const std::uint32_t flags = get<std::uint32_t>(b, 28);
  if (flags & 0xFEu) return CIRCA_ERR_DESC_FORMAT;
  d.ring = (flags & kDescFlagRing) != 0;
  d.ring_slots = flags >> 16;
  if (d.ring != (d.ring_slots != 0)) return CIRCA_ERR_DESC_FORMAT;
  const std::uint32_t S = ((flags >> 8) & 0xFFu) + 1;
  if (S > caps.max_streams) return CIRCA_ERR_CAPACITY;
  if (d.frames == 0 || d.input_dim == 0 || d.classes == 0) return CIRCA_ERR_DIMS;
  if (d.frames > caps.max_frames || d.input_dim > caps.max_dim || d.classes > caps.max_dim) return CIRCA_ERR_CAPACITY;
  d.input = get<std::uint64_t>(b, 32);
  d.output = get<std::uint64_t>(b, 40);
  d.out_w = get<std::uint64_t>(b, 48);
  d.out_b = get<std::uint64_t>(b, 56);
  d.layers.assign(layers, LayerDesc{});
  d.streams.assign(S - 1, StreamDesc{});
  return 0;
}

int validate_descriptor(const std::uint8_t* b, std::size_t n, const DeviceCaps& caps, JobDesc& d) {
  if (int e = parse_descriptor_header(b, n, caps, d)) return e;
  if (n < d.bytes()) return CIRCA_ERR_DESC_FORMAT;
  const std::uint64_t aw = word_bytes(d.act), cw = word_bytes(d.cell), ww = word_bytes(d.weight);
  std::uint32_t in = d.input_dim;
  std::uint32_t out_dim = 0;
  for (std::size_t l = 0; l < d.layers.size(); ++l) {
    const std::size_t o = kDescHeaderBytes + l * kDescLayerBytes;
    LayerDesc& L = d.layers[l];
    L.in_dim = get<std::uint32_t>(b, o);
    L.cell = get<std::uint32_t>(b, o + 4);
    L.proj = get<std::uint32_t>(b, o + 8);
    L.k_x = b[o + 12];
    L.k_r = b[o + 13];
    L.k_proj = b[o + 14];
    L.w_x = get<std::uint64_t>(b, o + 16);
    L.w_r = get<std::uint64_t>(b, o + 24);
    L.w_proj = get<std::uint64_t>(b, o + 32);
    L.bias = get<std::uint64_t>(b, o + 40);
    L.bias_r = get<std::uint64_t>(b, o + 48);
    L.peep = get<std::uint64_t>(b, o + 56);
    L.state = get<std::uint64_t>(b, o + 64);
    if (b[o + 15] != 0) return CIRCA_ERR_DESC_FORMAT;
    for (std::size_t r = 72; r < kDescLayerBytes; ++r)
      if (b[o + r] != 0) return CIRCA_ERR_DESC_FORMAT;
    const bool gru = d.arch == Arch::gru;
    if (!valid_k(L.k_x, caps.k_mask) || !valid_k(L.k_r, caps.k_mask)) return CIRCA_ERR_BLOCK_SIZE;
    if (!gru && L.proj && !valid_k(L.k_proj, caps.k_mask)) return CIRCA_ERR_BLOCK_SIZE;
    if (L.in_dim == 0 || L.cell == 0 || L.in_dim != in) return CIRCA_ERR_DIMS;
    if (gru && L.proj != 0) return CIRCA_ERR_DIMS;
    if (L.in_dim > caps.max_dim || L.cell > caps.max_dim || L.proj > caps.max_dim) return CIRCA_ERR_CAPACITY;
    const std::uint32_t rec = gru ? L.cell : (L.proj ? L.proj : L.cell);
    const std::uint32_t G = gru ? 3 : 4;
    if (L.cell % L.k_x || L.cell % L.k_r || rec % L.k_r) return CIRCA_ERR_DIMS;
    if (!gru && L.proj && (L.proj % L.k_proj || L.cell % L.k_proj)) return CIRCA_ERR_DIMS;
    const bool joint = !gru && L.k_x == L.k_r;
    const int qx = static_cast<int>((L.in_dim + L.k_x - 1) / L.k_x), qr = static_cast<int>(rec / L.k_r);
    const int px = static_cast<int>(G * L.cell / L.k_x), pr = static_cast<int>(G * L.cell / L.k_r);
    int e = 0;
    if (joint) {
      if (L.w_r != 0) return CIRCA_ERR_DESC_FORMAT;
      e = check_extent(L.w_x, packed_weight_bytes(px, qx + qr, L.k_x, d.weight), caps);
    } else {
      e = check_extent(L.w_x, packed_weight_bytes(px, qx, L.k_x, d.weight), caps);
      if (!e) e = check_extent(L.w_r, packed_weight_bytes(pr, qr, L.k_r, d.weight), caps);
    }
    if (!e && !gru && L.proj)
      e = check_extent(L.w_proj, packed_weight_bytes(static_cast<int>(L.proj / L.k_proj),
                                                     static_cast<int>(L.cell / L.k_proj), L.k_proj, d.weight),
                       caps);
    if (!e) e = check_extent(L.bias, G * L.cell * aw, caps);
    if (!e && gru) e = check_extent(L.bias_r, G * L.cell * aw, caps);
    if (!e && !gru) e = check_extent(L.peep, 3ull * L.cell * ww, caps);
    if (!e) e = check_extent(L.state, L.cell * cw + rec * aw, caps);
    if (e) return e;
    in = rec;
    out_dim = rec;
  }
  const std::uint64_t in_frames_max = d.ring ? d.ring_slots : d.frames;
  int e = check_extent(d.input, std::min<std::uint64_t>(in_frames_max, d.frames) * d.input_dim * aw, caps);
  if (!e) e = check_extent(d.output, static_cast<std::uint64_t>(d.frames) * d.classes * aw, caps);
  const std::uint64_t state_all = state_offset(d, d.layers.size() - 1) + layer_state_bytes(d, d.layers.size() - 1);
  for (std::size_t i = 0; i < d.streams.size() && !e; ++i) {
    const std::size_t o = kDescHeaderBytes + d.layers.size() * kDescLayerBytes + i * kDescStreamBytes;
    StreamDesc& st = d.streams[i];
    st.input = get<std::uint64_t>(b, o);
    st.output = get<std::uint64_t>(b, o + 8);
    st.state = get<std::uint64_t>(b, o + 16);
    st.frames = get<std::uint32_t>(b, o + 24);
    for (std::size_t r = 28; r < kDescStreamBytes; ++r)
      if (b[o + r] != 0) return CIRCA_ERR_DESC_FORMAT;
    if (st.frames == 0) return CIRCA_ERR_DIMS;
    if (st.frames > caps.max_frames) return CIRCA_ERR_CAPACITY;
    const std::uint64_t in_frames = d.ring ? std::min<std::uint64_t>(d.ring_slots, st.frames) : st.frames;
    e = check_extent(st.input, in_frames * d.input_dim * aw, caps);
    if (!e) e = check_extent(st.output, static_cast<std::uint64_t>(st.frames) * d.classes * aw, caps);
    if (!e) e = check_extent(st.state, state_all, caps);
  }
  if (!e) e = check_extent(d.out_w, packed_weight_bytes(static_cast<int>(d.classes), static_cast<int>(out_dim), 1,
                                                        d.weight),
                           caps);
  if (!e) e = check_extent(d.out_b, d.classes * aw, caps);
  return e;
}

}  // namespace circa
