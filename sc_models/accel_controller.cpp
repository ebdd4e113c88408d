#include "sc_models/accel_controller.hpp"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <ctime>

#include "hwif/circa_regs.h"
#include "hwif/words.hpp"

namespace circa {

using sc_core::sc_time;
using sc_core::sc_time_stamp;
using sc_core::SC_ZERO_TIME;

namespace {
double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}
std::uint32_t qword(const QFormat& q) { return static_cast<std::uint32_t>(q.m) | (static_cast<std::uint32_t>(q.n) << 8); }
}  // namespace

accel_controller::accel_controller(sc_core::sc_module_name name, const AccelParams& p, const Numerics& num,
                                   std::uint64_t ddr_base, std::uint64_t ddr_size)
    : sc_module(name),
      regs("regs"),
      irq("irq"),
      frame("frame"),
      ddr_read("ddr_read"),
      ddr_write("ddr_write"),
      p_(p),
      num_(num),
      ddr_base_(ddr_base),
      ddr_size_(ddr_size),
      q_fft_in_("q_fft_in", p.fifo_depth),
      q_fft_out_("q_fft_out", p.fifo_depth),
      q_emac_in_("q_emac_in", p.fifo_depth),
      q_emac_ifft_("q_emac_ifft", p.fifo_depth),
      q_ifft_out_("q_ifft_out", p.fifo_depth),
      q_act_in_("q_act_in", p.fifo_depth),
      q_act_cell_("q_act_cell", p.fifo_depth),
      q_cell_out_("q_cell_out", p.fifo_depth) {
  regs.register_b_transport(this, &accel_controller::b_transport);
  regs.register_transport_dbg(this, &accel_controller::transport_dbg);
  fft_ = std::make_unique<fft_unit>("fft_unit", p_.fft, p_.clock, num_);
  emac_ = std::make_unique<emac_array>("emac_array", p_.emac, p_.clock);
  ifft_ = std::make_unique<ifft_unit>("ifft_unit", p_.fft, p_.clock, num_);
  act_ = std::make_unique<activation_unit>("activation_unit", p_.act, p_.clock, num_);
  cell_ = std::make_unique<cell_update>("cell_update", p_.cell, p_.clock, num_);
  fft_->in(q_fft_in_);
  fft_->out(q_fft_out_);
  emac_->in(q_emac_in_);
  emac_->out(q_emac_ifft_);
  ifft_->in(q_emac_ifft_);
  ifft_->out(q_ifft_out_);
  act_->in(q_act_in_);
  act_->out(q_act_cell_);
  cell_->in(q_act_cell_);
  cell_->out(q_cell_out_);
  caps_.k_mask = p_.k_mask;
  caps_.weight = num_.weight;
  caps_.act = num_.act;
  caps_.cell = num_.cell;
  caps_.rounding = num_.rounding;
  caps_.max_dim = p_.max_dim;
  caps_.max_layers = p_.max_layers;
  caps_.ddr_base = ddr_base_;
  caps_.ddr_size = ddr_size_;
  SC_THREAD(job_thread);
  SC_METHOD(drive_irq);
  sensitive << irq_changed_;
  dont_initialize();
}

accel_controller::~accel_controller() = default;

// --- registers ---------------------------------------------------------------------------------------------------

std::uint32_t accel_controller::caps(std::uint32_t off) const {
  switch (off) {
    case CIRCA_REG_CAPS_K: return p_.k_mask;
    case CIRCA_REG_CAPS_WEIGHT_Q: return qword(num_.weight);
    case CIRCA_REG_CAPS_ACT_Q: return qword(num_.act);
    case CIRCA_REG_CAPS_CELL_Q: return qword(num_.cell);
    case CIRCA_REG_CAPS_LANES:
      return static_cast<std::uint32_t>(p_.fft.lanes & 0xFF) | (static_cast<std::uint32_t>(p_.act.lanes & 0xFF) << 8) |
             (static_cast<std::uint32_t>(p_.emac.lanes & 0xFFFF) << 16);
    case CIRCA_REG_CAPS_BUF_KIB: return static_cast<std::uint32_t>(p_.weight_buffer_bytes >> 10);
    case CIRCA_REG_CAPS_LIMITS: return (p_.max_dim & 0xFFFF) | ((p_.max_layers & 0xFF) << 16);
    case CIRCA_REG_CAPS_LUT: {
      const std::uint32_t entries = num_.activation.mode == ActMode::lut
                                        ? static_cast<std::uint32_t>(num_.activation.lut_entries + 1)
                                        : static_cast<std::uint32_t>(2 * num_.activation.pwl_segments);
      return (entries & 0xFFFFFF) | (num_.activation.mode == ActMode::pwl ? (1u << 24) : 0u);
    }
    case CIRCA_REG_CAPS_DATAPATH:
      return CIRCA_FIELD_SET(CAPS_DATAPATH, GUARD, num_.guard_bits) |
             CIRCA_FIELD_SET(CAPS_DATAPATH, IFFT_BITS, num_.ifft_bits) |
             CIRCA_FIELD_SET(CAPS_DATAPATH, ACC_BITS, num_.acc_bits) |
             CIRCA_FIELD_SET(CAPS_DATAPATH, HALF_UP, num_.rounding == Rounding::half_up ? 1u : 0u);
    default: return 0;
  }
}

void accel_controller::reg_read_const(std::uint32_t off, bool& exists) const {
  switch (off) {
#define CIRCA_REG_CASE(name, o, acc, reset, desc) case o:
    CIRCA_REGISTERS(CIRCA_REG_CASE)
#undef CIRCA_REG_CASE
    exists = true;
    return;
    default: exists = false;
  }
}

std::uint32_t accel_controller::reg_read(std::uint32_t off, bool& ok) {
  ok = true;
  const AccelCounters& c = cnt_;
  switch (off) {
    case CIRCA_REG_ID: return CIRCA_ID_VALUE;
    case CIRCA_REG_VERSION: return CIRCA_VERSION_VALUE;
    case CIRCA_REG_CAPS_K:
    case CIRCA_REG_CAPS_WEIGHT_Q:
    case CIRCA_REG_CAPS_ACT_Q:
    case CIRCA_REG_CAPS_CELL_Q:
    case CIRCA_REG_CAPS_LANES:
    case CIRCA_REG_CAPS_BUF_KIB:
    case CIRCA_REG_CAPS_LIMITS:
    case CIRCA_REG_CAPS_LUT:
    case CIRCA_REG_CAPS_DATAPATH: return caps(off);
    case CIRCA_REG_CTRL: return ctrl_ & CIRCA_CTRL_IRQ_EN;  // START and SOFT_RESET read as 0
    case CIRCA_REG_STATUS: return (state_ & 3u) | ((error_ & 0xFFu) << 8) | (std::min(frames_done_, 0xFFFFu) << 16);
    case CIRCA_REG_IRQ_STATUS: return irq_status_;
    case CIRCA_REG_IRQ_MASK: return irq_mask_;
    case CIRCA_REG_DESC_LO: return desc_lo_;
    case CIRCA_REG_DESC_HI: return desc_hi_;
    case CIRCA_REG_LUT_SEL: return lut_sel_;
    case CIRCA_REG_LUT_DATA:
    case CIRCA_REG_LUT_COMMIT: return 0;
    case CIRCA_REG_RING_HEAD: return ring_head_;
    case CIRCA_REG_RING_TAIL: return ring_tail_;
    case CIRCA_REG_PERF_CYCLES_LO: latched_hi_ = static_cast<std::uint32_t>(c.cycles >> 32); return static_cast<std::uint32_t>(c.cycles);
    case CIRCA_REG_PERF_CYCLES_HI: return latched_hi_;
    case CIRCA_REG_PERF_FFT_BUSY: return static_cast<std::uint32_t>(c.fft_busy);
    case CIRCA_REG_PERF_EMAC_BUSY: return static_cast<std::uint32_t>(c.emac_busy);
    case CIRCA_REG_PERF_IFFT_BUSY: return static_cast<std::uint32_t>(c.ifft_busy);
    case CIRCA_REG_PERF_ACT_BUSY: return static_cast<std::uint32_t>(c.act_busy);
    case CIRCA_REG_PERF_CELL_BUSY: return static_cast<std::uint32_t>(c.cell_busy);
    case CIRCA_REG_PERF_DMA_BUSY: return static_cast<std::uint32_t>(c.dma_busy);
    case CIRCA_REG_PERF_STALL: return static_cast<std::uint32_t>(c.stall);
    case CIRCA_REG_PERF_DDR_RD_LO: latched_hi_ = static_cast<std::uint32_t>(c.ddr_rd >> 32); return static_cast<std::uint32_t>(c.ddr_rd);
    case CIRCA_REG_PERF_DDR_RD_HI: return latched_hi_;
    case CIRCA_REG_PERF_DDR_WR_LO: latched_hi_ = static_cast<std::uint32_t>(c.ddr_wr >> 32); return static_cast<std::uint32_t>(c.ddr_wr);
    case CIRCA_REG_PERF_DDR_WR_HI: return latched_hi_;
    case CIRCA_REG_PERF_SAT: return static_cast<std::uint32_t>(std::min<std::uint64_t>(c.saturations, 0xFFFFFFFFu));
    case CIRCA_REG_PERF_FRAMES: return static_cast<std::uint32_t>(c.frames);
    default: ok = false; return 0;
  }
}

void accel_controller::reg_write(std::uint32_t off, std::uint32_t v, bool& ok) {
  ok = true;
  switch (off) {
    case CIRCA_REG_CTRL:
      ctrl_ = v & CIRCA_CTRL_IRQ_EN;
      if (v & CIRCA_CTRL_SOFT_RESET) {
        // A running job stops at its next tile boundary. A START the job thread has not taken yet (same delta
        // cycle) has nothing to abort: it is dropped below, and waiting for the thread would wait forever.
        if (state_ == CIRCA_STATE_BUSY && !start_pending_) reset_req_ = true;
        state_ = reset_req_ ? CIRCA_STATE_BUSY : CIRCA_STATE_IDLE;
        error_ = 0;
        irq_status_ = 0;
        irq_mask_ = 0;
        lut_words_.clear();
        lut_overflow_ = false;
        lut_sig_.clear();  // back to the built-in tables
        lut_tanh_.clear();
        start_pending_ = false;
        ctrl_ = 0;
        ring_head_ = ring_tail_ = 0;
        ring_ev_.notify(SC_ZERO_TIME);  // a ring job waiting for frames sees the reset
        update_irq();
        return;
      }
      if (v & CIRCA_CTRL_START) {
        if (state_ == CIRCA_STATE_BUSY) {
          error_ = CIRCA_ERR_BUSY;  // the running job goes on; the refused START is reported
          raise(CIRCA_IRQ_ERROR);
        } else {
          state_ = CIRCA_STATE_BUSY;
          error_ = 0;
          frames_done_ = 0;
          ring_tail_ = 0;
          start_pending_ = true;
          start_ev_.notify(SC_ZERO_TIME);
        }
      }
      update_irq();
      return;
    case CIRCA_REG_IRQ_STATUS: irq_status_ &= ~v; update_irq(); return;
    case CIRCA_REG_IRQ_MASK: irq_mask_ = v & (CIRCA_IRQ_DONE | CIRCA_IRQ_ERROR); update_irq(); return;
    case CIRCA_REG_RING_HEAD: ring_head_ = v; ring_ev_.notify(SC_ZERO_TIME); return;
    case CIRCA_REG_DESC_LO: desc_lo_ = v; return;
    case CIRCA_REG_DESC_HI: desc_hi_ = v; return;
    case CIRCA_REG_LUT_SEL: lut_sel_ = v; lut_words_.clear(); lut_overflow_ = false; return;
    case CIRCA_REG_LUT_DATA:
      // At most a table's worth of words is held; more cannot fit and makes the COMMIT fail with CAPACITY.
      if (lut_words_.size() < (caps(CIRCA_REG_CAPS_LUT) & 0xFFFFFFu))
        lut_words_.push_back(static_cast<std::int32_t>(v));
      else
        lut_overflow_ = true;
      return;
    case CIRCA_REG_LUT_COMMIT: {
      if (!(v & 1u)) return;
      const ActFn fn = (lut_sel_ & 1u) ? ActFn::tanh : ActFn::sigmoid;
      // The words replace entries from the start index on, in the table the datapath holds now.
      Activation probe(fn, num_.activation, num_.act, num_.act);
      std::vector<std::int32_t> table = probe.table();
      const std::size_t start = lut_sel_ >> 8;
      if (lut_overflow_ || start + lut_words_.size() > table.size()) {
        lut_overflow_ = false;
        lut_words_.clear();
        error_ = CIRCA_ERR_CAPACITY;
        raise(CIRCA_IRQ_ERROR);
        return;
      }
      std::copy(lut_words_.begin(), lut_words_.end(), table.begin() + static_cast<std::ptrdiff_t>(start));
      try {
        Activation check(fn, num_.activation, num_.act, num_.act);
        check.load_table(table);
      } catch (const std::invalid_argument&) {
        error_ = CIRCA_ERR_BITS;
        raise(CIRCA_IRQ_ERROR);
        return;
      }
      (fn == ActFn::sigmoid ? lut_sig_ : lut_tanh_) = table;
      lut_words_.clear();
      return;
    }
    default:
      ok = false;  // read-only or unmapped: b_transport tells which
      return;
  }
}

void accel_controller::raise(std::uint32_t bits) {
  irq_status_ |= bits;
  update_irq();
}

void accel_controller::update_irq() { irq_changed_.notify(SC_ZERO_TIME); }

void accel_controller::drive_irq() { irq.write((ctrl_ & CIRCA_CTRL_IRQ_EN) && (irq_status_ & irq_mask_)); }

void accel_controller::b_transport(tlm::tlm_generic_payload& gp, sc_time& delay) {
  const std::uint64_t addr = gp.get_address();
  if (gp.get_byte_enable_ptr() != nullptr) {
    gp.set_response_status(tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE);
    return;
  }
  if (gp.get_data_length() != 4 || gp.get_streaming_width() != 4) {
    gp.set_response_status(tlm::TLM_BURST_ERROR_RESPONSE);  // registers are 32 bits wide, single beat
    return;
  }
  if (addr % 4 != 0 || addr >= CIRCA_REG_SPACE) {
    gp.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
    return;
  }
  if (gp.get_data_ptr() == nullptr) {
    gp.set_response_status(tlm::TLM_GENERIC_ERROR_RESPONSE);  // as ddr_memory answers it
    return;
  }
  const auto off = static_cast<std::uint32_t>(addr);
  delay += p_.clock.cycles(static_cast<std::uint64_t>(p_.reg_latency));
  // STATUS and RING_TAIL reads and CTRL and RING_HEAD writes synchronise the initiator with simulated time (VCML's sync_always), so a poll
  // sees the device as it is now and START happens when the host says it does.
  const bool sync = (gp.is_read() && (off == CIRCA_REG_STATUS || off == CIRCA_REG_RING_TAIL)) ||
                    (gp.is_write() && (off == CIRCA_REG_CTRL || off == CIRCA_REG_RING_HEAD));
  if (sync) {
    wait(delay);
    delay = SC_ZERO_TIME;
  }
  bool ok = false;
  if (gp.is_read()) {
    const std::uint32_t v = reg_read(off, ok);
    std::memcpy(gp.get_data_ptr(), &v, 4);
  } else if (gp.is_write()) {
    std::uint32_t v;
    std::memcpy(&v, gp.get_data_ptr(), 4);
    reg_write(off, v, ok);
  } else {
    gp.set_response_status(tlm::TLM_COMMAND_ERROR_RESPONSE);
    return;
  }
  if (ok) {
    gp.set_response_status(tlm::TLM_OK_RESPONSE);
  } else {
    // A write to a register that exists (it read fine) is a command the register does not take.
    bool exists = false;
    if (gp.is_write()) reg_read_const(off, exists);
    gp.set_response_status(exists ? tlm::TLM_COMMAND_ERROR_RESPONSE : tlm::TLM_ADDRESS_ERROR_RESPONSE);
  }
}

unsigned int accel_controller::transport_dbg(tlm::tlm_generic_payload& gp) {
  // Debug reads only, no side effects beyond the LO/HI latch.
  if (!gp.is_read() || gp.get_data_ptr() == nullptr || gp.get_data_length() != 4 || gp.get_address() % 4 ||
      gp.get_address() >= CIRCA_REG_SPACE)
    return 0;
  bool ok = false;
  const std::uint32_t v = reg_read(static_cast<std::uint32_t>(gp.get_address()), ok);
  if (!ok) return 0;
  std::memcpy(gp.get_data_ptr(), &v, 4);
  return 4;
}

// --- the job -----------------------------------------------------------------------------------------------------

void accel_controller::snapshot_counters() {
  AccelCounters& c = cnt_;
  const UnitStats* u[] = {&fft_->stats(), &emac_->stats(), &ifft_->stats(), &act_->stats(), &cell_->stats()};
  c.fft_busy = u[0]->busy_cycles - base_.fft_busy;
  c.emac_busy = u[1]->busy_cycles - base_.emac_busy;
  c.ifft_busy = u[2]->busy_cycles - base_.ifft_busy;
  c.act_busy = u[3]->busy_cycles - base_.act_busy;
  c.cell_busy = u[4]->busy_cycles - base_.cell_busy;
  std::uint64_t stall = 0, sat = 0;
  for (const UnitStats* s : u) {
    stall += s->stall_in_cycles + s->stall_out_cycles;
    sat += s->sat.total();
  }
  c.stall = stall - base_.stall;
  c.dma_busy = (mem_ ? mem_->busy_cycles() : 0) - base_.dma_busy;
  c.saturations = sat - base_.saturations;
  c.cycles = p_.clock.to_cycles(sc_time_stamp() - job_start_);
}

void accel_controller::job_thread() {
  for (;;) {
    while (!start_pending_) wait(start_ev_);
    start_pending_ = false;
    job_start_ = sc_time_stamp();
    // Counters restart with every job: take the units' running totals as the new zero.
    const UnitStats* u[] = {&fft_->stats(), &emac_->stats(), &ifft_->stats(), &act_->stats(), &cell_->stats()};
    base_ = AccelCounters{};
    base_.fft_busy = u[0]->busy_cycles;
    base_.emac_busy = u[1]->busy_cycles;
    base_.ifft_busy = u[2]->busy_cycles;
    base_.act_busy = u[3]->busy_cycles;
    base_.cell_busy = u[4]->busy_cycles;
    base_.dma_busy = mem_ ? mem_->busy_cycles() : 0;
    for (const UnitStats* s : u) {
      base_.stall += s->stall_in_cycles + s->stall_out_cycles;
      base_.saturations += s->sat.total();
    }
    cnt_ = AccelCounters{};
    frame_done_.clear();
    const int e = run_job();
    snapshot_counters();
    if (reset_req_) {
      reset_req_ = false;
      state_ = CIRCA_STATE_IDLE;
      update_irq();
      continue;
    }
    if (e) {
      error_ = static_cast<std::uint32_t>(e);
      state_ = CIRCA_STATE_ERROR;
      raise(CIRCA_IRQ_ERROR);
    } else {
      state_ = CIRCA_STATE_DONE;
      raise(CIRCA_IRQ_DONE);
    }
  }
}

int accel_controller::run_job() {
  if (mem_ == nullptr) return CIRCA_ERR_BUS;
  const std::uint64_t addr = (static_cast<std::uint64_t>(desc_hi_) << 32) | desc_lo_;
  if (addr % kDescAlign) return CIRCA_ERR_DESC_ALIGN;
  if (addr < ddr_base_ || addr - ddr_base_ > ddr_size_ || ddr_size_ - (addr - ddr_base_) < kDescHeaderBytes)
    return CIRCA_ERR_DESC_ADDR;
  std::vector<std::uint8_t> hdr(kDescHeaderBytes);
  if (mem_read(addr, hdr.data(), hdr.size())) return CIRCA_ERR_BUS;
  cnt_.ddr_rd += hdr.size();
  JobDesc d;
  if (int e = parse_descriptor_header(hdr.data(), hdr.size(), caps_, d)) return e;
  const std::uint64_t n = d.bytes();
  if (ddr_size_ - (addr - ddr_base_) < n) return CIRCA_ERR_DESC_ADDR;
  std::vector<std::uint8_t> all(n);
  if (mem_read(addr, all.data(), n)) return CIRCA_ERR_BUS;
  cnt_.ddr_rd += n;
  if (int e = validate_descriptor(all.data(), n, caps_, d)) return e;
  job_ = d;
  if (int e = load_job(d)) return e;
  const std::uint32_t steps = d.steps();
  for (std::uint32_t t = 0; t < steps; ++t) {
    if (d.ring && ring_head_ <= t) {
      // The input ring holds no frame for this step yet: idle until the host writes RING_HEAD past it.
      const sc_time w0 = sc_time_stamp();
      while (ring_head_ <= t && !reset_req_) wait(ring_ev_);
      cnt_.ring_wait += p_.clock.to_cycles(sc_time_stamp() - w0);
    }
    if (reset_req_) return 0;
    const auto w0 = std::chrono::steady_clock::now();
    const double c0 = cpu_seconds();
    const int e = run_step(d, t);
    host_step_cpu_ += cpu_seconds() - c0;
    host_step_wall_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - w0).count();
    if (e) return e;
    frames_done_ += static_cast<std::uint32_t>(active_.size());
    cnt_.frames += active_.size();
    ring_tail_ = t + 1;
    frame_done_.push_back(p_.clock.to_cycles(sc_time_stamp() - job_start_));
  }
  // State back to DDR, so a caller can continue an utterance in a later job.
  const std::size_t aw = word_bytes(num_.act), cw = word_bytes(num_.cell);
  for (Ctx& c : ctx_)
    for (std::size_t l = 0; l < c.layers.size(); ++l) {
      FixedLayer& L = *c.layers[l];
      std::string st = pack_words(L.c.data(), L.c.size(), cw) + pack_words(L.r_prev.data(), L.r_prev.size(), aw);
      if (mem_write(c.state[l], st.data(), st.size())) return CIRCA_ERR_BUS;
      cnt_.ddr_wr += st.size();
    }
  return 0;
}

int accel_controller::load_job(const JobDesc& d) {
  const std::size_t S = d.streams.size() + 1;
  ctx_.clear();
  ctx_.resize(S);
  for (std::size_t s = 0; s < S; ++s) {
    Ctx& c = ctx_[s];
    c.input = s == 0 ? d.input : d.streams[s - 1].input;
    c.output = s == 0 ? d.output : d.streams[s - 1].output;
    c.frames = s == 0 ? d.frames : d.streams[s - 1].frames;
    for (std::size_t l = 0; l < d.layers.size(); ++l)
      c.state.push_back(s == 0 ? d.layers[l].state : d.streams[s - 1].state + state_offset(d, l));
  }
  std::uint64_t total = 0;
  for (const LayerDesc& ld : d.layers) {
    LayerGeom g;
    g.arch = d.arch;
    g.in_dim = static_cast<int>(ld.in_dim);
    g.cell = static_cast<int>(ld.cell);
    g.proj = static_cast<int>(ld.proj);
    g.k_x = ld.k_x;
    g.k_r = ld.k_r;
    g.k_proj = ld.k_proj;
    for (Ctx& c : ctx_) c.layers.push_back(std::make_unique<FixedLayer>(g, num_));
    FixedLayer& L = *ctx_[0].layers.back();
    total += L.G.W.packed_bytes() + (L.R.empty() ? 0 : L.R.W.packed_bytes()) + (L.P.empty() ? 0 : L.P.W.packed_bytes());
  }
  const int D = ctx_[0].layers.back()->rec;
  for (Ctx& c : ctx_) c.out = std::make_unique<FixedOutput>(static_cast<int>(d.classes), D, num_);
  total += ctx_[0].out->O.W.packed_bytes();
  on_chip_ = total <= p_.weight_buffer_bytes;

  // Every weight is read once at load: on chip it stays; streamed, this pass proves the accumulator bound (and
  // sets the kernel's int32 run length) for the weights every frame will fetch again. The streams share the
  // weights: one read, one copy per stream context in the model.
  std::string buf;
  auto load = [&](std::size_t mi, std::uint64_t a) -> int {
    auto mv = [&](Ctx& c) -> FixedMatvec& {
      if (mi == 0) return c.out->O;
      FixedLayer& L = *c.layers[(mi - 1) / 3];
      return (mi - 1) % 3 == 0 ? L.G : (mi - 1) % 3 == 1 ? L.R : L.P;
    };
    buf.assign(mv(ctx_[0]).W.packed_bytes(), '\0');
    if (mem_read(a, buf.data(), buf.size())) return CIRCA_ERR_BUS;
    cnt_.ddr_rd += buf.size();
    for (Ctx& c : ctx_) {
      FixedMatvec& m = mv(c);
      if (!m.W.load_packed(buf.data(), buf.size())) return CIRCA_ERR_DIMS;
      if (!m.W.check_bounds(num_)) return CIRCA_ERR_ACCUMULATOR;
    }
    return 0;
  };
  const std::size_t aw = word_bytes(num_.act), cw = word_bytes(num_.cell), ww = word_bytes(num_.weight);
  auto words = [&](std::uint64_t a, std::vector<std::int32_t>& v, std::size_t wb) -> int {
    std::string b(v.size() * wb, '\0');
    if (mem_read(a, b.data(), b.size())) return CIRCA_ERR_BUS;
    cnt_.ddr_rd += b.size();
    unpack_words(reinterpret_cast<const std::uint8_t*>(b.data()), v.size(), wb, v.data());
    return 0;
  };
  for (std::size_t l = 0; l < d.layers.size(); ++l) {
    FixedLayer& L = *ctx_[0].layers[l];
    const LayerDesc& ld = d.layers[l];
    int e = load(1 + 3 * l, ld.w_x);
    if (!e && !L.R.empty()) e = load(2 + 3 * l, ld.w_r);
    if (!e && !L.P.empty()) e = load(3 + 3 * l, ld.w_proj);
    if (!e && d.arch == Arch::lstmp) e = words(ld.bias, L.bias, aw);
    if (!e && d.arch == Arch::lstmp) e = words(ld.peep, L.peep, ww);
    if (!e && d.arch == Arch::gru) e = words(ld.bias, L.bias_x, aw);
    if (!e && d.arch == Arch::gru) e = words(ld.bias_r, L.bias_r, aw);
    for (Ctx& c : ctx_) {
      FixedLayer& M = *c.layers[l];
      if (!e && &M != &L) {
        M.bias = L.bias;
        M.peep = L.peep;
        M.bias_x = L.bias_x;
        M.bias_r = L.bias_r;
      }
      if (!e) e = words(c.state[l], M.c, cw);
      if (!e) e = words(c.state[l] + M.c.size() * cw, M.r_prev, aw);
      if (!e && !lut_sig_.empty()) M.sig->load_table(lut_sig_);
      if (!e && !lut_tanh_.empty()) M.tanh_act->load_table(lut_tanh_);
    }
    if (e) return e;
  }
  if (int e = load(0, d.out_w)) return e;
  if (int e = words(d.out_b, ctx_[0].out->bias, aw)) return e;
  for (Ctx& c : ctx_) {
    c.out->bias = ctx_[0].out->bias;
    c.xq.assign(d.input_dim, 0);
  }
  return 0;
}

// Every DDR transfer of the controller goes through these, so waveforms show the traffic and the bytes count.
int accel_controller::mem_read(std::uint64_t a, void* d, std::size_t n) {
  if (trace_) ddr_read.write(true);
  const int e = mem_->read(a, d, n);
  if (trace_) ddr_read.write(false);
  return e;
}

int accel_controller::mem_write(std::uint64_t a, const void* s, std::size_t n) {
  if (trace_) ddr_write.write(true);
  const int e = mem_->write(a, s, n);
  if (trace_) ddr_write.write(false);
  return e;
}

int accel_controller::mem_read2d(std::uint64_t a, std::size_t rows, std::size_t row, std::uint64_t stride, void* d) {
  if (trace_) ddr_read.write(true);
  const int e = mem_->read2d(a, rows, row, stride, d);
  if (trace_) ddr_read.write(false);
  return e;
}

void accel_controller::stream_tiles(std::vector<Tile>& tiles, sc_core::sc_fifo<Tile>& in,
                                    sc_core::sc_fifo<Tile>& done,
                                    const std::function<void(std::size_t)>& before_issue) {
  // The sequencer refills the first unit's channel as soon as it has room, whatever the last unit is doing: waiting
  // on `done` alone would keep a tile from a unit that has already taken the previous one (with a 1-deep channel,
  // the EW-MAC then idled through every IFFT tile). Levels are tested before waiting on either event.
  std::size_t issued = 0, collected = 0;
  while (collected < issued || (issued < tiles.size() && !reset_req_)) {
    if (issued < tiles.size() && !reset_req_ && (issued == collected || in.num_free() > 0)) {
      if (before_issue) before_issue(issued);
      in.write(tiles[issued++]);
    } else if (done.num_available() > 0 || issued == tiles.size() || reset_req_) {
      done.read();
      ++collected;
    } else {
      wait(in.data_read_event() | done.data_written_event());
    }
  }
}

int accel_controller::fetch_weights(const std::vector<FixedMatvec*>& mvs, std::uint64_t addr, int c0, int c1) {
  // A tile's weights are one row of `bins` pieces, one per bin, `chunks` apart: a 2-D transfer. The streams of a
  // step share it: one transfer, the same weights for every stream's tile of these chunks.
  const FixedMatvec& mv = *mvs.front();
  const std::size_t wb = word_bytes(num_.weight);
  const std::size_t per_chunk = static_cast<std::size_t>(mv.W.q()) * kRowChunk * 2 * wb;
  const std::size_t row = per_chunk * static_cast<std::size_t>(c1 - c0);
  const std::uint64_t stride = per_chunk * static_cast<std::uint64_t>(mv.chunks());
  std::string& buf = wbuf_;  // reused: streamed weights arrive every EW-MAC tile
  buf.resize(row * static_cast<std::size_t>(mv.W.bins()));
  if (mem_read2d(addr + per_chunk * static_cast<std::uint64_t>(c0), static_cast<std::size_t>(mv.W.bins()), row,
                   stride, buf.data()))
    return CIRCA_ERR_BUS;
  cnt_.ddr_rd += buf.size();
  cnt_.weight_stream_bytes += buf.size();
  for (FixedMatvec* m : mvs)
    if (!m->W.load_packed_chunks(buf.data(), buf.size(), c0, c1)) return CIRCA_ERR_DIMS;
  return 0;
}

Tile accel_controller::make_tile(const MvJob& m, TilePost post, int frame, int layer, int b, int e, bool last) {
  Tile t;
  t.seq = seq_++;
  t.frame = frame;
  t.layer = layer;
  t.begin = b;
  t.end = e;
  t.last = last;
  t.post = post;
  t.mv = m.mv;
  t.lay = m.lay;
  t.out = m.out;
  return t;
}

// The streams' tiles go in one after another, so one stream's EW-MAC tiles follow another's FFT tiles through the
// pipeline instead of waiting for it to drain.
void accel_controller::fft_tiles(const std::vector<MvJob>& jobs, TilePost post, int frame, int layer,
                                 std::vector<Tile>& tiles) {
  for (const MvJob& m : jobs)
    for (int j = 0; j < m.mv->in_blocks(); j += p_.fft_tile_blocks) {
      const int e = std::min(m.mv->in_blocks(), j + p_.fft_tile_blocks);
      tiles.push_back(make_tile(m, post, frame, layer, j, e, e == m.mv->in_blocks()));
    }
}

// EW-MAC tiles go chunk by chunk, every stream's tile of a chunk range in a row (the streams share the matrix's
// geometry), so weights streamed from DDR are fetched once per chunk range for all of them.
void accel_controller::emac_tiles(const std::vector<MvJob>& jobs, TilePost post, int frame, int layer,
                                  std::vector<Tile>& tiles) {
  const int chunks = jobs.front().mv->chunks();
  for (int c = 0; c < chunks; c += p_.emac_tile_chunks) {
    const int e = std::min(chunks, c + p_.emac_tile_chunks);
    for (const MvJob& m : jobs) tiles.push_back(make_tile(m, post, frame, layer, c, e, e == chunks));
  }
}

void accel_controller::cell_tiles(const std::vector<FixedLayer*>& ls, int frame, int layer, std::vector<Tile>& tiles) {
  for (FixedLayer* L : ls)
    for (int u = 0; u < L->cell; u += p_.cell_tile) {
      Tile t;
      t.seq = seq_++;
      t.frame = frame;
      t.layer = layer;
      t.begin = u;
      t.end = std::min(L->cell, u + p_.cell_tile);
      t.last = t.end == L->cell;
      t.lay = L;
      tiles.push_back(t);
    }
}

// Before EW-MAC tile i: with weights streamed from DDR, the first tile of each chunk range fetches them for the
// `group` streams' tiles that follow it.
std::function<void(std::size_t)> accel_controller::weight_fetch(std::vector<Tile>& tiles, std::size_t group,
                                                                std::uint64_t weights, int& err) {
  if (on_chip_) return nullptr;
  return [this, &tiles, group, weights, &err](std::size_t i) {
    if (err || i % group != 0) return;
    std::vector<FixedMatvec*>& mvs = fetch_group_;
    mvs.clear();
    for (std::size_t j = i; j < i + group; ++j) mvs.push_back(tiles[j].mv);
    err = fetch_weights(mvs, weights, tiles[i].begin, tiles[i].end);
  };
}

int accel_controller::run_matvecs(const std::vector<MvJob>& jobs, TilePost post, int frame, int layer,
                                  std::uint64_t weights) {
  std::vector<Tile>& tiles = tiles_;
  tiles.clear();
  fft_tiles(jobs, post, frame, layer, tiles);
  stream_tiles(tiles, q_fft_in_, q_fft_out_, nullptr);
  tiles.clear();
  emac_tiles(jobs, post, frame, layer, tiles);
  int err = 0;
  stream_tiles(tiles, q_emac_in_, q_ifft_out_, weight_fetch(tiles, jobs.size(), weights, err));
  return err;
}

void accel_controller::run_cells(const std::vector<FixedLayer*>& ls, int frame, int layer) {
  std::vector<Tile>& tiles = tiles_;
  tiles.clear();
  cell_tiles(ls, frame, layer, tiles);
  stream_tiles(tiles, q_act_in_, q_cell_out_, nullptr);
}

// --- two stream groups, one stage apart -----------------------------------------------------------------------
//
// With two or more streams, the step runs as two groups (the first half of the streams and the rest), each through
// the same sequence of phases (FFT, EW-MAC/IFFT, activation/cell update, per matvec and layer), group B one phase
// behind group A: while A's gate MACs run, B's input FFT runs; while A's cells update, B's MACs run. Phases that
// need the same unit run one after the other. This is how C-LSTM keeps its replicated pipelines busy: the
// recurrence serialises one utterance's stages, independent utterances fill the gaps.

void accel_controller::build_phases(const JobDesc& d, const std::vector<Ctx*>& g, int f, std::vector<Phase>& ph) {
  const std::size_t nl = d.layers.size();
  const std::size_t aw = word_bytes(num_.act);
  const std::uint64_t fout = static_cast<std::uint64_t>(d.classes) * aw;
  auto jobs_of = [&](std::size_t l, FixedMatvec FixedLayer::*which) {
    std::vector<MvJob> j;
    for (Ctx* c : g) {
      FixedLayer& L = *c->layers[l];
      j.push_back({&(L.*which), &L, nullptr});
    }
    return j;
  };
  auto matvec = [&](std::vector<MvJob> jobs, TilePost post, std::size_t layer, std::uint64_t w,
                    std::function<void()> before, std::function<void()> after) {
    Phase a;
    a.q = 0;
    a.layer = layer;
    a.before = std::move(before);
    fft_tiles(jobs, post, f, static_cast<int>(layer), a.tiles);
    ph.push_back(std::move(a));
    Phase b;
    b.q = 1;
    b.layer = layer;
    b.weights = w;
    b.group = jobs.size();
    b.after = std::move(after);
    emac_tiles(jobs, post, f, static_cast<int>(layer), b.tiles);
    ph.push_back(std::move(b));
  };
  for (std::size_t l = 0; l < nl; ++l) {
    const LayerDesc& ld = d.layers[l];
    FixedLayer& L0 = *g[0]->layers[l];
    matvec(jobs_of(l, &FixedLayer::G), TilePost::none, l, ld.w_x,
           [g, l] {
             for (Ctx* c : g) c->layers[l]->begin_frame(c->in);
           },
           nullptr);
    if (!L0.R.empty()) matvec(jobs_of(l, &FixedLayer::R), TilePost::none, l, ld.w_r, nullptr, nullptr);
    Phase cells;
    cells.q = 2;
    cells.layer = l;
    std::vector<FixedLayer*> ls;
    for (Ctx* c : g) ls.push_back(c->layers[l].get());
    cell_tiles(ls, f, static_cast<int>(l), cells.tiles);
    ph.push_back(std::move(cells));
    if (!L0.P.empty())
      matvec(jobs_of(l, &FixedLayer::P), TilePost::proj_writeback, l, ld.w_proj,
             [g, l] {
               for (Ctx* c : g) c->layers[l]->begin_projection();
             },
             nullptr);
    ph.back().after = [g, l, prev = ph.back().after] {
      if (prev) prev();
      for (Ctx* c : g) {
        c->layers[l]->end_frame();
        c->in = c->layers[l]->output().data();
      }
    };
  }
  std::vector<MvJob> out;
  for (Ctx* c : g) out.push_back({&c->out->O, nullptr, c->out.get()});
  matvec(out, TilePost::logits_writeback, nl, d.out_w,
         [g] {
           for (Ctx* c : g) c->out->O.set_inputs({c->in, c->layers.back()->rec});
         },
         [this, g, f, fout, aw] {
           for (Ctx* c : g) {
             io_ = pack_words(c->out->logits.data(), c->out->logits.size(), aw);
             if (!phase_err_ && mem_write(c->output + static_cast<std::uint64_t>(f) * fout, io_.data(), io_.size()))
               phase_err_ = CIRCA_ERR_BUS;
             cnt_.ddr_wr += io_.size();
           }
         });
}

sc_core::sc_fifo<Tile>& accel_controller::queue_in(int q) { return q == 0 ? q_fft_in_ : q == 1 ? q_emac_in_ : q_act_in_; }
sc_core::sc_fifo<Tile>& accel_controller::queue_out(int q) {
  return q == 0 ? q_fft_out_ : q == 1 ? q_ifft_out_ : q_cell_out_;
}

// Phases a and b (either may be null) at once. On different units their tiles stream side by side; on the same
// unit, a's and then b's.
void accel_controller::run_wave(Phase* a, Phase* b) {
  for (Phase* p : {a, b})
    if (p && p->before) p->before();
  if (a && b && a->q == b->q) {
    for (Phase* p : {a, b})
      stream_tiles(p->tiles, queue_in(p->q), queue_out(p->q),
                   p->q == 1 ? weight_fetch(p->tiles, p->group, p->weights, phase_err_) : nullptr);
  } else {
    struct Lane {
      Phase* p;
      sc_core::sc_fifo<Tile>* in;
      sc_core::sc_fifo<Tile>* done;
      std::function<void(std::size_t)> fetch;
      std::size_t issued = 0, collected = 0;
    };
    std::vector<Lane> lanes;
    for (Phase* p : {a, b})
      if (p)
        lanes.push_back({p, &queue_in(p->q), &queue_out(p->q),
                         p->q == 1 ? weight_fetch(p->tiles, p->group, p->weights, phase_err_) : nullptr});
    for (;;) {
      bool busy = false, moved = false;
      for (Lane& x : lanes) {
        const bool more = x.issued < x.p->tiles.size() && !reset_req_;
        if (more && (x.issued == x.collected || x.in->num_free() > 0)) {
          if (x.fetch) x.fetch(x.issued);
          x.in->write(x.p->tiles[x.issued++]);
          moved = true;
        }
        if (x.collected < x.issued && x.done->num_available() > 0) {
          x.done->read();
          ++x.collected;
          moved = true;
        }
        busy = busy || x.collected < x.issued || (x.issued < x.p->tiles.size() && !reset_req_);
      }
      if (!busy) break;
      if (!moved) {
        sc_core::sc_event_or_list ev;
        for (Lane& x : lanes) ev |= x.in->data_read_event() | x.done->data_written_event();
        wait(ev);
      }
    }
  }
  for (Phase* p : {a, b})
    if (p && p->after) p->after();
}

int accel_controller::run_step_two_groups(const JobDesc& d, int f) {
  const std::size_t half = (active_.size() + 1) / 2;
  const std::vector<Ctx*> ga(active_.begin(), active_.begin() + static_cast<std::ptrdiff_t>(half)),
      gb(active_.begin() + static_cast<std::ptrdiff_t>(half), active_.end());
  std::vector<Phase> pa, pb;
  build_phases(d, ga, f, pa);
  build_phases(d, gb, f, pb);
  phase_err_ = 0;
  const std::size_t nl = d.layers.size();
  sc_time mark = sc_time_stamp();
  std::uint64_t rd_mark = cnt_.ddr_rd;
  // Cycles go to the layer group A is in; the last wave (B's output layer alone) to the output layer.
  for (std::size_t w = 0; w <= pa.size(); ++w) {
    Phase* a = w < pa.size() ? &pa[w] : nullptr;
    Phase* b = w >= 1 ? &pb[w - 1] : nullptr;
    run_wave(a, b);
    if (phase_err_) return phase_err_;
    if (reset_req_) return 0;
    const std::size_t l = a ? a->layer : nl;
    const bool layer_ends = !a || w + 1 == pa.size() || pa[w + 1].layer != l;
    if (layer_ends && (a || w == pa.size())) {
      layer_totals_[l].cycles += p_.clock.to_cycles(sc_time_stamp() - mark);
      layer_totals_[l].ddr_rd += cnt_.ddr_rd - rd_mark;
      mark = sc_time_stamp();
      rd_mark = cnt_.ddr_rd;
    }
  }
  return 0;
}

int accel_controller::run_step(const JobDesc& d, std::uint32_t t) {
  const std::size_t aw = word_bytes(num_.act);
  const std::uint64_t fin = static_cast<std::uint64_t>(d.input_dim) * aw;
  const std::uint64_t fout = static_cast<std::uint64_t>(d.classes) * aw;
  const std::uint32_t slot = d.ring ? t % d.ring_slots : t;
  active_.clear();
  for (Ctx& c : ctx_) {
    if (t >= c.frames) continue;  // this stream's utterance has ended
    io_.assign(fin, '\0');
    if (mem_read(c.input + slot * fin, io_.data(), io_.size())) return CIRCA_ERR_BUS;
    cnt_.ddr_rd += io_.size();
    unpack_words(reinterpret_cast<const std::uint8_t*>(io_.data()), d.input_dim, aw, c.xq.data());
    c.in = c.xq.data();
    active_.push_back(&c);
  }
  const int f = static_cast<int>(t);
  const std::size_t nl = d.layers.size();
  if (layer_totals_.size() < nl + 1) layer_totals_.resize(nl + 1);
  if (active_.size() >= 2) {
    if (int e = run_step_two_groups(d, f)) return e;
    if (reset_req_) return 0;
    frame.write(frame.read() + 1);
    if (rec_ != nullptr) rec_->frame_end(sc_time_stamp().value());
    return 0;
  }
  sc_time mark = sc_time_stamp();
  std::uint64_t rd_mark = cnt_.ddr_rd;
  auto close_layer = [&](std::size_t l) {
    layer_totals_[l].cycles += p_.clock.to_cycles(sc_time_stamp() - mark);
    layer_totals_[l].ddr_rd += cnt_.ddr_rd - rd_mark;
    mark = sc_time_stamp();
    rd_mark = cnt_.ddr_rd;
  };
  std::vector<MvJob>& mvs = mvs_;
  std::vector<FixedLayer*>& ls = ls_;
  auto gather = [&](std::size_t l, FixedMatvec FixedLayer::*which) {
    mvs.clear();
    for (Ctx* c : active_) {
      FixedLayer& L = *c->layers[l];
      mvs.push_back({&(L.*which), &L, nullptr});
    }
    return mvs;
  };
  for (std::size_t l = 0; l < nl; ++l) {
    const LayerDesc& ld = d.layers[l];
    const int li = static_cast<int>(l);
    FixedLayer& L0 = *active_[0]->layers[l];
    ls.clear();
    for (Ctx* c : active_) {
      c->layers[l]->begin_frame(c->in);
      ls.push_back(c->layers[l].get());
    }
    if (int e = run_matvecs(gather(l, &FixedLayer::G), TilePost::none, f, li, ld.w_x)) return e;
    if (!L0.R.empty())
      if (int e = run_matvecs(gather(l, &FixedLayer::R), TilePost::none, f, li, ld.w_r)) return e;
    if (reset_req_) return 0;
    run_cells(ls, f, li);
    if (!L0.P.empty()) {
      for (FixedLayer* L : ls) L->begin_projection();
      if (int e = run_matvecs(gather(l, &FixedLayer::P), TilePost::proj_writeback, f, li, ld.w_proj)) return e;
    }
    for (Ctx* c : active_) {
      c->layers[l]->end_frame();
      c->in = c->layers[l]->output().data();
    }
    close_layer(l);
  }
  mvs.clear();
  for (Ctx* c : active_) {
    c->out->O.set_inputs({c->in, c->layers.back()->rec});
    mvs.push_back({&c->out->O, nullptr, c->out.get()});
  }
  if (int e = run_matvecs(mvs, TilePost::logits_writeback, f, static_cast<int>(nl), d.out_w)) return e;
  for (Ctx* c : active_) {
    io_ = pack_words(c->out->logits.data(), c->out->logits.size(), aw);
    if (mem_write(c->output + t * fout, io_.data(), io_.size())) return CIRCA_ERR_BUS;
    cnt_.ddr_wr += io_.size();
  }
  close_layer(nl);
  frame.write(frame.read() + 1);
  if (rec_ != nullptr) rec_->frame_end(sc_time_stamp().value());
  return 0;
}

}  // namespace circa
