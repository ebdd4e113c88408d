// The register file: reads, writes, the LUT loading protocol, the IRQ line, and the TLM target around them.
#include <algorithm>
#include <cstring>

#include "hwif/circa_regs.h"
#include "sc_models/accel_controller.hpp"

namespace circa {

using sc_core::sc_time;
using sc_core::SC_ZERO_TIME;

namespace {
std::uint32_t qword(const QFormat& q) { return static_cast<std::uint32_t>(q.m) | (static_cast<std::uint32_t>(q.n) << 8); }
}  // namespace

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
  // While a job runs, the counters are brought up to now (the units' totals, the cycles since START).
  if (state_ == CIRCA_STATE_BUSY && !start_pending_ && off >= CIRCA_REG_PERF_CYCLES_LO && off <= CIRCA_REG_PERF_FRAMES)
    snapshot_counters();
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
#define CIRCA_PERF64(reg, field)                                 \
  case CIRCA_REG_##reg##_LO:                                     \
    latched_hi_ = static_cast<std::uint32_t>(c.field >> 32);     \
    return static_cast<std::uint32_t>(c.field);                  \
  case CIRCA_REG_##reg##_HI:                                     \
    return latched_hi_;
    CIRCA_PERF64(PERF_CYCLES, cycles)
    CIRCA_PERF64(PERF_FFT_BUSY, fft_busy)
    CIRCA_PERF64(PERF_EMAC_BUSY, emac_busy)
    CIRCA_PERF64(PERF_IFFT_BUSY, ifft_busy)
    CIRCA_PERF64(PERF_ACT_BUSY, act_busy)
    CIRCA_PERF64(PERF_CELL_BUSY, cell_busy)
    CIRCA_PERF64(PERF_DMA_BUSY, dma_busy)
    CIRCA_PERF64(PERF_STALL, stall)
    CIRCA_PERF64(PERF_DDR_RD, ddr_rd)
    CIRCA_PERF64(PERF_DDR_WR, ddr_wr)
#undef CIRCA_PERF64
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
        if (state_ == CIRCA_STATE_BUSY && !start_pending_) {
          reset_req_ = true;
          reset_ev_.notify();  // a decoupled wave stops issuing at this time
        }
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
    case CIRCA_REG_LUT_COMMIT:
      if (v & 1u) lut_commit();
      return;
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

void accel_controller::lut_commit() {
  const ActFn fn = (lut_sel_ & 1u) ? ActFn::tanh : ActFn::sigmoid;
  // The words replace entries from the start index on, in the table the datapath holds now (the last one
  // committed, else the built-in one).
  const std::vector<std::int32_t>& installed = fn == ActFn::sigmoid ? lut_sig_ : lut_tanh_;
  std::vector<std::int32_t> table =
      installed.empty() ? Activation(fn, num_.activation, num_.act, num_.act).table() : installed;
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
}

}  // namespace circa
