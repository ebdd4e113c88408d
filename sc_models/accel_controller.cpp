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
// CPU time of the simulation's thread (SystemC's processes are coroutines on it), not of the process: the CLI
// computes the report's SQNR on another thread meanwhile.
double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}
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
      q_emac_in_("q_emac_in", p.fifo_depth),
      q_act_in_("q_act_in", p.fifo_depth),
      q_fft_out_("q_fft_out", p.fifo_depth),
      q_ifft_out_("q_ifft_out", p.fifo_depth),
      q_cell_out_("q_cell_out", p.fifo_depth),
      q_emac_ifft_("q_emac_ifft", p.fifo_depth),
      q_act_cell_("q_act_cell", p.fifo_depth) {
  regs.register_b_transport(this, &accel_controller::b_transport);
  regs.register_transport_dbg(this, &accel_controller::transport_dbg);
  for (int b = 0; b < kBuffers; ++b) {
    const Buf r = static_cast<Buf>(b);
    // The weight buffer: weight_buffer_bytes for weights that stay, and the two slots for weights that stream.
    OnchipBufferParams bp = r == Buf::weight ? OnchipBufferParams{p_.weight_buffer_bytes + p_.weight_slots_bytes,
                                                                  p_.weight_word_bytes, p_.weight_buffer_ports}
                                             : p_.buffers.of(r);
    bufs_.push_back(std::make_unique<onchip_buffer>((std::string(buffer_name(r)) + "_buffer").c_str(), bp));
    bset_.b[static_cast<std::size_t>(b)] = bufs_.back().get();
  }
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
  for (unit_base* u : {static_cast<unit_base*>(fft_.get()), static_cast<unit_base*>(emac_.get()),
                       static_cast<unit_base*>(ifft_.get()), static_cast<unit_base*>(act_.get()),
                       static_cast<unit_base*>(cell_.get())})
    u->bind_buffers(bset_);
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

OnchipBufferParams& BufferParams::of(Buf b) {
  switch (b) {
    case Buf::input: return input;
    case Buf::spectrum: return spectrum;
    case Buf::psum: return psum;
    case Buf::gates: return gates;
    case Buf::state: return state;
    case Buf::output: return output;
    case Buf::weight: break;
  }
  return input;  // the weight buffer's parameters are AccelParams::weight_buffer_*
}

// --- the job -----------------------------------------------------------------------------------------------------

void accel_controller::snapshot_counters() {
  if (decoupled_) materialize(sc_time_stamp());  // the units' work of a decoupled wave up to now
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
  if (int e = layout_job(d)) return e;
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
  return store_state();
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

}  // namespace circa
