// The job loader: the job's layout in the on-chip buffers (checked against their capacities), then the weights,
// biases, peepholes, LUTs and state brought on chip by DMA, and the state written back to DDR at the end.
#include <algorithm>

#include "hwif/circa_regs.h"
#include "hwif/words.hpp"
#include "sc_models/accel_controller.hpp"

namespace circa {

namespace {
CirculantShape shape_of(int p, int q, int k) {
  CirculantShape s;
  s.p = p;
  s.q = q;
  s.k = k;
  s.bins = num_bins(k);
  s.chunks = (p + kRowChunk - 1) / kRowChunk;
  return s;
}
std::size_t weight_words(const CirculantShape& s) {
  return static_cast<std::size_t>(s.bins) * s.chunks * s.q * kRowChunk * 2;
}
}  // namespace

// Every region of the job, buffer by buffer. The first region that does not fit ends the job with BUFFER before
// anything is loaded. Layout (docs/architecture.md, "On-chip buffers"):
//   weight:   each matrix's packed words when they all fit (on chip), else two slots of one EW-MAC tile's words
//   gates:    biases and peepholes (shared by the streams); per stream, every matvec's sums and the gate values
//   spectrum: per stream, one spectrum (the largest matvec's), reused by its matvecs one after another
//   psum:     per stream, one set of frequency sums (the largest matvec's), likewise
//   state:    per stream and layer: c, m, and r' and r (two regions that swap roles every frame)
//   input:    per stream, one input frame;  output: per stream, one frame of logits
int accel_controller::layout_job(const JobDesc& d) {
  for (auto& b : bufs_) b->clear_regions();
  wave_cache_.clear();  // schedules and phases kept from the last job's steps
  phases_kept_ = false;
  cache_ga_.clear();
  cache_gb_.clear();
  const Arch arch = d.arch;
  const std::size_t S = d.streams.size() + 1;
  const std::uint32_t wb = static_cast<std::uint32_t>(word_bytes(num_.weight));
  const std::uint32_t abits = static_cast<std::uint32_t>(num_.act.bits());
  const std::uint32_t cbits = static_cast<std::uint32_t>(num_.cell.bits());
  const std::uint32_t wbits = static_cast<std::uint32_t>(num_.weight.bits());
  const std::uint32_t sum_bits = static_cast<std::uint32_t>(num_.ifft_bits);
  const std::uint32_t acc_bits = static_cast<std::uint32_t>(num_.acc_bits);
  bool fits = true;
  layout_error_.clear();
  auto reserve = [&](Buf b, const char* what, std::uint64_t count, std::uint32_t bits, std::uint32_t host) {
    BufRef r;
    r.buf = b;
    if (!fits || count == 0) return r;
    const int id = buffer(b).reserve(what, count, bits, host);
    if (id < 0 || id > 32767) {
      fits = false;
      const onchip_buffer& ob = buffer(b);
      layout_error_ = std::string("the ") + buffer_name(b) + " buffer (" + std::to_string(ob.params().capacity_bytes) +
                      " bytes) cannot hold " + what + " (" + std::to_string(count) + " values of " +
                      std::to_string(bits) + " bits) after " + std::to_string(ob.used_bytes()) +
                      " bytes of the job's other regions";
      return r;
    }
    r.region = static_cast<std::int16_t>(id);
    return r;
  };

  // Shapes, and the weight buffer.
  mats_.assign(d.layers.size(), LayerMats{});
  std::uint64_t total = 0;
  std::size_t max_tile_words = 0, max_spectrum = 0, max_acc = 0;
  auto add = [&](Matrix& m, const CirculantShape& s, std::uint64_t ddr) {
    m.shape = s;
    m.ddr = ddr;
    m.bytes = weight_words(s) * wb;
    total += m.bytes;
    const int tc = std::min(s.chunks, p_.emac_tile_chunks);
    max_tile_words = std::max(max_tile_words, static_cast<std::size_t>(s.bins) * tc * s.q * kRowChunk * 2);
    max_spectrum = std::max(max_spectrum, static_cast<std::size_t>(s.q) * s.bins);
    max_acc = std::max(max_acc, s.acc_size());
  };
  int rec = 0;
  for (std::size_t l = 0; l < d.layers.size(); ++l) {
    const LayerDesc& ld = d.layers[l];
    LayerMats& M = mats_[l];
    const int gates = arch == Arch::lstmp ? 4 : 3, cell = static_cast<int>(ld.cell);
    rec = arch == Arch::lstmp && ld.proj > 0 ? static_cast<int>(ld.proj) : cell;
    M.joint = arch == Arch::lstmp && ld.k_x == ld.k_r;
    const int qx = (static_cast<int>(ld.in_dim) + ld.k_x - 1) / ld.k_x, qr = rec / ld.k_r;
    add(M.G, shape_of(gates * cell / ld.k_x, M.joint ? qx + qr : qx, ld.k_x), ld.w_x);
    if (!M.joint) add(M.R, shape_of(gates * cell / ld.k_r, qr, ld.k_r), ld.w_r);
    if (arch == Arch::lstmp && ld.proj > 0)
      add(M.P, shape_of(static_cast<int>(ld.proj) / ld.k_proj, cell / ld.k_proj, ld.k_proj), ld.w_proj);
  }
  add(out_mat_, shape_of(static_cast<int>(d.classes), rec, 1), d.out_w);
  on_chip_ = total <= p_.weight_buffer_bytes;
  if (on_chip_) {
    for (LayerMats& M : mats_)
      for (Matrix* m : {&M.G, &M.R, &M.P})
        if (!m->empty()) m->w = reserve(Buf::weight, "weights", m->bytes / wb, 8 * wb, wb);
    out_mat_.w = reserve(Buf::weight, "output weights", out_mat_.bytes / wb, 8 * wb, wb);
  } else if (2 * max_tile_words * wb > p_.weight_slots_bytes) {
    fits = false;  // one EW-MAC tile's weights do not fit a slot
    layout_error_ = "the weight buffer's two slots (" + std::to_string(p_.weight_slots_bytes) +
                    " bytes) cannot hold two EW-MAC tiles of streamed weights (" +
                    std::to_string(2 * max_tile_words * wb) + " bytes)";
  } else {
    slot_[0] = reserve(Buf::weight, "weight slot 0", max_tile_words, 8 * wb, wb);
    slot_[1] = reserve(Buf::weight, "weight slot 1", max_tile_words, 8 * wb, wb);
  }

  // Parameters beside the gate sums.
  for (std::size_t l = 0; l < d.layers.size(); ++l) {
    const std::uint64_t gc = static_cast<std::uint64_t>(arch == Arch::lstmp ? 4 : 3) * d.layers[l].cell;
    LayerMats& M = mats_[l];
    if (arch == Arch::lstmp) {
      M.bias = reserve(Buf::gates, "bias", gc, abits, 4);
      M.peep = reserve(Buf::gates, "peepholes", 3 * static_cast<std::uint64_t>(d.layers[l].cell), wbits, 4);
    } else {
      M.bias_x = reserve(Buf::gates, "bias_x", gc, abits, 4);
      M.bias_r = reserve(Buf::gates, "bias_r", gc, abits, 4);
    }
  }
  out_bias_ = reserve(Buf::gates, "output bias", d.classes, abits, 4);

  // Per stream.
  ctx_.assign(S, Ctx{});
  for (std::size_t s = 0; s < S; ++s) {
    Ctx& c = ctx_[s];
    c.input = s == 0 ? d.input : d.streams[s - 1].input;
    c.output = s == 0 ? d.output : d.streams[s - 1].output;
    c.frames = s == 0 ? d.frames : d.streams[s - 1].frames;
    c.x = reserve(Buf::input, "frame", d.input_dim, abits, 4);
    c.spectrum = reserve(Buf::spectrum, "spectrum", max_spectrum, 2 * abits, 16);
    c.psum = reserve(Buf::psum, "frequency sums", max_acc, acc_bits, 8);
    c.logits = reserve(Buf::output, "logits", d.classes, abits, 4);
    c.oy = reserve(Buf::gates, "output sums", out_mat_.shape.p, sum_bits, 8);
    for (std::size_t l = 0; l < d.layers.size(); ++l) {
      const LayerDesc& ld = d.layers[l];
      const LayerMats& M = mats_[l];
      c.state.push_back(s == 0 ? ld.state : d.streams[s - 1].state + state_offset(d, l));
      StreamLayer L;
      const std::uint64_t cell = ld.cell, r = arch == Arch::lstmp && ld.proj > 0 ? ld.proj : ld.cell;
      L.gy = reserve(Buf::gates, "gate sums", static_cast<std::uint64_t>(M.G.shape.p) * M.G.shape.k, sum_bits, 8);
      if (!M.R.empty())
        L.ry = reserve(Buf::gates, "recurrent sums", static_cast<std::uint64_t>(M.R.shape.p) * M.R.shape.k, sum_bits, 8);
      if (!M.P.empty())
        L.py = reserve(Buf::gates, "projection sums", static_cast<std::uint64_t>(M.P.shape.p) * M.P.shape.k, sum_bits, 8);
      L.gate = reserve(Buf::gates, "gates", static_cast<std::uint64_t>(arch == Arch::lstmp ? 4 : 3) * cell, abits, 4);
      L.c = reserve(Buf::state, "c", cell, cbits, 4);
      if (arch == Arch::lstmp) L.m = reserve(Buf::state, "m", cell, abits, 4);
      L.r[0] = reserve(Buf::state, "r", r, abits, 4);
      L.r[1] = reserve(Buf::state, "r", r, abits, 4);
      c.layers.push_back(L);
    }
  }
  return fits ? 0 : CIRCA_ERR_BUFFER;
}

int accel_controller::load_job(const JobDesc& d) {
  const std::size_t aw = word_bytes(num_.act), cw = word_bytes(num_.cell), ww = word_bytes(num_.weight);
  const bool narrow = ww == 2;
  // Every weight is read once at load: on chip into its region, where it stays; streamed, into scratch, which
  // proves the accumulator bound (and sets the kernel's int32 run length) for the weights every frame fetches.
  std::string scratch;
  auto load = [&](Matrix& m) -> int {
    if (m.empty()) return 0;
    void* dst = nullptr;
    if (!m.w.none()) {
      dst = bset_.values<std::uint8_t>(m.w);
    } else {
      scratch.assign(m.bytes, '\0');
      dst = scratch.data();
    }
    if (mem_read(m.ddr, dst, m.bytes)) return CIRCA_ERR_BUS;
    cnt_.ddr_rd += m.bytes;
    if (!m.w.none()) buffer(Buf::weight).access(m.w.region, m.bytes / ww, true);
    m.bounds = weight_bounds(m.shape, WeightSpan{dst, narrow, m.shape.chunks, 0}, num_);
    return m.bounds.acc_bits_needed <= num_.acc_bits ? 0 : CIRCA_ERR_ACCUMULATOR;
  };
  // Values of a b-byte-word format from DDR into a region.
  auto words = [&](std::uint64_t a, const BufRef& r, std::size_t wbytes) -> int {
    if (r.none()) return 0;
    const std::uint64_t n = buffer(r.buf).region(r.region).count;
    io_.assign(n * wbytes, '\0');
    if (mem_read(a, io_.data(), io_.size())) return CIRCA_ERR_BUS;
    cnt_.ddr_rd += io_.size();
    unpack_words(reinterpret_cast<const std::uint8_t*>(io_.data()), n, wbytes, bset_.values<std::int32_t>(r));
    buffer(r.buf).access(r.region, n, true);
    return 0;
  };
  for (std::size_t l = 0; l < d.layers.size(); ++l) {
    LayerMats& M = mats_[l];
    const LayerDesc& ld = d.layers[l];
    int e = load(M.G);
    if (!e) e = load(M.R);
    if (!e) e = load(M.P);
    if (!e && d.arch == Arch::lstmp) e = words(ld.bias, M.bias, aw);
    if (!e && d.arch == Arch::lstmp) e = words(ld.peep, M.peep, ww);
    if (!e && d.arch == Arch::gru) e = words(ld.bias, M.bias_x, aw);
    if (!e && d.arch == Arch::gru) e = words(ld.bias_r, M.bias_r, aw);
    for (Ctx& c : ctx_) {
      StreamLayer& L = c.layers[l];
      if (!e) e = words(c.state[l], L.c, cw);
      if (!e) e = words(c.state[l] + buffer(Buf::state).region(L.c.region).count * cw, L.r[0], aw);
    }
    if (e) return e;
  }
  if (int e = load(out_mat_)) return e;
  if (int e = words(d.out_b, out_bias_, aw)) return e;
  // The LUTs committed through the registers (else the built-in tables) into the units' LUT memories.
  for (ActFn fn : {ActFn::sigmoid, ActFn::tanh}) {
    const std::vector<std::int32_t>& t = fn == ActFn::sigmoid ? lut_sig_ : lut_tanh_;
    const std::vector<std::int32_t> table = t.empty() ? Activation(fn, num_.activation, num_.act, num_.act).table() : t;
    act_->load_lut(fn, table);
    cell_->load_lut(fn, table);
  }
  fetches_ = 0;
  return 0;
}

int accel_controller::store_state() {
  const std::size_t aw = word_bytes(num_.act), cw = word_bytes(num_.cell);
  onchip_buffer& st = buffer(Buf::state);
  for (Ctx& c : ctx_)
    for (std::size_t l = 0; l < c.layers.size(); ++l) {
      const StreamLayer& L = c.layers[l];
      const BufRef& r = L.r[L.cur];
      const std::size_t nc = st.region(L.c.region).count, nr = st.region(r.region).count;
      std::string s = pack_words(bset_.values<std::int32_t>(L.c), nc, cw) + pack_words(bset_.values<std::int32_t>(r), nr, aw);
      st.access(L.c.region, nc, false);
      st.access(r.region, nr, false);
      if (mem_write(c.state[l], s.data(), s.size())) return CIRCA_ERR_BUS;
      cnt_.ddr_wr += s.size();
    }
  return 0;
}

}  // namespace circa
