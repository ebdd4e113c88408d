#include "sw_driver/runtime.hpp"

#include <cstring>

namespace circa {

std::uint64_t HostRuntime::alloc(std::uint64_t& at, std::uint64_t bytes) const {
  const std::uint64_t a = (at + kDescAlign - 1) / kDescAlign * kDescAlign;
  at = a + bytes;
  return a;
}

HostRuntime::HostRuntime(const Model& m, const Numerics& num, std::uint64_t base) : model_(m), num_(num) {
  quant_ = std::make_unique<FixedGolden>(m, num_);
  sat_ = quant_->saturations();
  const std::size_t aw = word_bytes(num_.act), ww = word_bytes(num_.weight);
  std::uint64_t at = base;
  auto put = [&](const std::string& bytes) {
    MemRegion r;
    r.addr = alloc(at, bytes.size());
    r.bytes = bytes;
    model_regions_.push_back(std::move(r));
    return model_regions_.back().addr;
  };
  JobDesc& d = base_desc_;
  d.arch = m.arch;
  d.rounding = num_.rounding;
  d.weight = num_.weight;
  d.act = num_.act;
  d.cell = num_.cell;
  d.input_dim = static_cast<std::uint32_t>(m.input_dim);
  d.classes = static_cast<std::uint32_t>(m.num_classes);
  for (std::size_t l = 0; l < m.layers.size(); ++l) {
    const Layer& L = m.layers[l];
    FixedLayer& F = quant_->layer(static_cast<int>(l));
    LayerDesc ld;
    ld.in_dim = static_cast<std::uint32_t>(L.input_dim);
    ld.cell = static_cast<std::uint32_t>(m.cell_dim);
    ld.proj = static_cast<std::uint32_t>(m.arch == Arch::lstmp ? m.proj_dim : 0);
    ld.k_x = static_cast<std::uint8_t>(L.w_x.k);
    ld.k_r = static_cast<std::uint8_t>(L.w_r.k);
    ld.k_proj = static_cast<std::uint8_t>(L.w_proj.p > 0 ? L.w_proj.k : 1);
    std::string g = F.G.W.packed();
    weight_bytes_ += g.size();
    ld.w_x = put(g);
    if (!F.R.empty()) {
      std::string r = F.R.W.packed();
      weight_bytes_ += r.size();
      ld.w_r = put(r);
    }
    if (!F.P.empty()) {
      std::string p = F.P.W.packed();
      weight_bytes_ += p.size();
      ld.w_proj = put(p);
    }
    if (m.arch == Arch::lstmp) {
      ld.bias = put(pack_words(F.bias.data(), F.bias.size(), aw));
      ld.peep = put(pack_words(F.peep.data(), F.peep.size(), ww));
    } else {
      ld.bias = put(pack_words(F.bias_x.data(), F.bias_x.size(), aw));
      ld.bias_r = put(pack_words(F.bias_r.data(), F.bias_r.size(), aw));
    }
    d.layers.push_back(ld);
  }
  FixedOutput& o = quant_->output();
  std::string ow = o.O.W.packed();
  weight_bytes_ += ow.size();
  d.out_w = put(ow);
  d.out_b = put(pack_words(o.bias.data(), o.bias.size(), aw));
  model_end_ = at;
}

HostRuntime::Job HostRuntime::pack_job(const Matrix& feats, std::uint64_t base, SatCounters& sat) const {
  return pack_streams({&feats}, base, 0, sat);
}

HostRuntime::Job HostRuntime::pack_streams(const std::vector<const Matrix*>& feats, std::uint64_t base,
                                           std::uint32_t ring_slots, SatCounters& sat) const {
  Job j;
  j.desc = base_desc_;
  j.desc.frames = static_cast<std::uint32_t>(feats.at(0)->rows);
  j.desc.ring = ring_slots > 0;
  j.desc.ring_slots = ring_slots;
  j.desc.streams.assign(feats.size() - 1, StreamDesc{});
  const std::size_t aw = word_bytes(num_.act);
  std::uint64_t at = base;
  j.desc_addr = alloc(at, j.desc.bytes());
  const std::size_t D = static_cast<std::size_t>(model_.input_dim);
  const std::uint64_t state_all =
      state_offset(j.desc, j.desc.layers.size() - 1) + layer_state_bytes(j.desc, j.desc.layers.size() - 1);
  std::vector<MemRegion> inputs;
  for (std::size_t s = 0; s < feats.size(); ++s) {
    const Matrix& f = *feats[s];
    StreamIo io;
    io.frames = static_cast<std::uint32_t>(f.rows);
    io.frame_bytes = D * aw;
    // Inputs: CMVN + quantization per frame, exactly FixedGolden's.
    std::vector<std::int32_t> q(f.rows * D);
    for (std::size_t t = 0; t < f.rows; ++t) quantize_frame(model_, num_, f.row(t), q.data() + t * D, sat);
    io.input = pack_words(q.data(), q.size(), aw);
    const std::size_t in_frames = ring_slots ? std::min<std::size_t>(ring_slots, f.rows) : f.rows;
    MemRegion in;
    in.addr = io.input_addr = alloc(at, in_frames * io.frame_bytes);
    if (!ring_slots) in.bytes = io.input;
    // A new utterance starts from zero state: one area per stream, each layer 64-byte aligned in it.
    MemRegion st;
    st.addr = alloc(at, state_all);
    st.bytes.assign(state_all, '\0');
    io.output_bytes = f.rows * static_cast<std::size_t>(model_.num_classes) * aw;
    io.output_addr = alloc(at, io.output_bytes);
    if (s == 0) {
      j.desc.input = io.input_addr;
      j.desc.output = io.output_addr;
      for (std::size_t l = 0; l < j.desc.layers.size(); ++l) j.desc.layers[l].state = st.addr + state_offset(j.desc, l);
    } else {
      StreamDesc& sd = j.desc.streams[s - 1];
      sd.input = io.input_addr;
      sd.output = io.output_addr;
      sd.state = st.addr;
      sd.frames = io.frames;
    }
    j.regions.push_back(std::move(st));
    if (!ring_slots) inputs.push_back(std::move(in));
    j.streams.push_back(std::move(io));
  }
  j.output_addr = j.streams[0].output_addr;
  j.output_bytes = j.streams[0].output_bytes;
  MemRegion dr;
  dr.addr = j.desc_addr;
  dr.bytes = serialize_descriptor(j.desc);
  j.regions.push_back(std::move(dr));
  for (MemRegion& r : inputs) j.regions.push_back(std::move(r));
  j.end = at;
  return j;
}

Matrix HostRuntime::unpack_output(const std::string& bytes, std::size_t frames) const {
  const int C = model_.num_classes;
  const std::size_t aw = word_bytes(num_.act);
  Matrix out(frames, static_cast<std::size_t>(C));
  std::vector<std::int32_t> raw(static_cast<std::size_t>(C));
  std::vector<double> z(static_cast<std::size_t>(C));
  for (std::size_t t = 0; t < frames; ++t) {
    unpack_words(reinterpret_cast<const std::uint8_t*>(bytes.data()) + t * C * aw, static_cast<std::size_t>(C), aw,
                 raw.data());
    for (int c = 0; c < C; ++c) z[c] = to_double(raw[c], num_.act.n);
    log_softmax(z.data(), C, out.row(t));
  }
  return out;
}

}  // namespace circa
