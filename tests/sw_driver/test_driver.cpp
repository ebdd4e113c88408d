// The C driver core against a fake device: a small register-level model with ID/VERSION/CAPS, a STATUS state
// machine, a level-triggered IRQ line and a clock that only moves when the driver touches the device or waits.
// Everything the driver does is logged, so the tests check the register sequence itself, not only the result.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "sw_driver/circa_drv.h"
#include "hwif/circa_regs.h"

namespace {

struct Access {
  char op;  // 'R' or 'W'
  std::uint32_t off, value;
};

class FakeDevice {
public:
  enum class Outcome { done, error, hang, error_without_code, done_but_busy };

  // Identity and capabilities (a KU060-like default).
  std::uint32_t id = CIRCA_ID_VALUE, version = CIRCA_VERSION_VALUE;
  std::uint32_t caps_k = 0x7F, weight_q = 4 | 12 << 8, act_q = 8 | 8 << 8, cell_q = 8 | 8 << 8;
  std::uint32_t lanes = 8 | 16 << 8 | 64 << 16, buf_kib = 4096, limits = 4096 | 8 << 16, lut = 1024 | 1u << 24;
  std::uint32_t datapath = 6 | 40 << 8 | 48 << 16 | 1u << 24;  // guard 6, IFFT 40 bits, 48-bit sums, half up

  // Behaviour of the next job and of resets.
  Outcome outcome = Outcome::done;
  std::uint32_t error_code = CIRCA_ERR_NONE;
  std::uint64_t job_ns = 5000, reset_ns = 100;
  bool reset_hangs = false;
  int spurious_wakes = 0;  // wait_irq returns "seen" this many times with the line low
  int wait_irq_failure = 0;
  std::uint32_t frames = 7;
  std::uint32_t lut_commit_error = CIRCA_ERR_NONE;  // a COMMIT the device refuses: this code, ERROR raised

  // Live 64-bit counters; reading LO latches HI, and every counter read lets them tick once.
  std::uint64_t cycles = 0x1FFFFFFFFull, ddr_rd = 0x2FFFFFFFFull, ddr_wr = 0x3FFFFFFFFull;

  // State.
  std::uint64_t now = 0;
  std::uint32_t ctrl = 0, state = CIRCA_STATE_IDLE, err = 0, irq_status = 0, irq_mask = 0;
  std::uint32_t desc_lo = 0, desc_hi = 0, lut_sel = 0, ring_head = 0, ring_tail = 0;
  bool busy = false, resetting = false;
  std::uint64_t job_end = 0, reset_end = 0;
  int starts = 0, lut_commits = 0, wait_calls = 0;
  std::vector<std::int32_t> lut_words, committed_lut;
  std::vector<Access> log;
  std::vector<std::uint8_t> ddr = std::vector<std::uint8_t>(1 << 16);
  static constexpr std::uint64_t kDdrBase = 0x80000000ull;

  bool line() const { return (ctrl & CIRCA_CTRL_IRQ_EN) && (irq_status & irq_mask); }
  std::uint32_t status() const { return state | err << 8 | (state == CIRCA_STATE_DONE ? frames << 16 : 0); }

  void advance(std::uint64_t ns) {
    now += ns;
    if (busy && now >= job_end) finish();
    if (resetting && now >= reset_end) {
      resetting = false;
      ctrl = 0;
      state = CIRCA_STATE_IDLE;
      err = irq_status = irq_mask = 0;
    }
  }

  void finish() {
    busy = false;
    switch (outcome) {
      case Outcome::done:
        state = CIRCA_STATE_DONE;
        irq_status |= CIRCA_IRQ_DONE;
        break;
      case Outcome::error:
        state = CIRCA_STATE_ERROR;
        err = error_code;
        irq_status |= CIRCA_IRQ_ERROR;
        break;
      case Outcome::error_without_code:
        state = CIRCA_STATE_ERROR;
        irq_status |= CIRCA_IRQ_ERROR;
        break;
      case Outcome::done_but_busy:
        irq_status |= CIRCA_IRQ_DONE;
        break;
      case Outcome::hang:
        break;
    }
  }

  std::uint32_t read(std::uint32_t off) {
    advance(10);  // a register access takes bus time, as b_transport's delay does on the VP
    const std::uint32_t v = read_value(off);
    log.push_back({'R', off, v});
    return v;
  }

  std::uint32_t read_value(std::uint32_t off) {
    switch (off) {
      case CIRCA_REG_ID:
        return id;
      case CIRCA_REG_VERSION:
        return version;
      case CIRCA_REG_CAPS_K:
        return caps_k;
      case CIRCA_REG_CAPS_WEIGHT_Q:
        return weight_q;
      case CIRCA_REG_CAPS_ACT_Q:
        return act_q;
      case CIRCA_REG_CAPS_CELL_Q:
        return cell_q;
      case CIRCA_REG_CAPS_LANES:
        return lanes;
      case CIRCA_REG_CAPS_BUF_KIB:
        return buf_kib;
      case CIRCA_REG_CAPS_LIMITS:
        return limits;
      case CIRCA_REG_CAPS_LUT:
        return lut;
      case CIRCA_REG_CAPS_DATAPATH:
        return datapath;
      case CIRCA_REG_CTRL:
        return ctrl;
      case CIRCA_REG_STATUS:
        return status();
      case CIRCA_REG_IRQ_STATUS:
        return irq_status;
      case CIRCA_REG_IRQ_MASK:
        return irq_mask;
      case CIRCA_REG_DESC_LO:
        return desc_lo;
      case CIRCA_REG_DESC_HI:
        return desc_hi;
      case CIRCA_REG_LUT_SEL:
        return lut_sel;
      case CIRCA_REG_RING_HEAD:
        return ring_head;
      case CIRCA_REG_RING_TAIL:
        return ring_tail;
      case CIRCA_REG_PERF_CYCLES_LO:
        return latch(cycles);
      case CIRCA_REG_PERF_DDR_RD_LO:
        return latch(ddr_rd);
      case CIRCA_REG_PERF_DDR_WR_LO:
        return latch(ddr_wr);
      case CIRCA_REG_PERF_FFT_BUSY_LO:
        return fixed(std::uint64_t{101});
      case CIRCA_REG_PERF_EMAC_BUSY_LO:
        return fixed(std::uint64_t{102});
      case CIRCA_REG_PERF_IFFT_BUSY_LO:
        return fixed(std::uint64_t{103});
      case CIRCA_REG_PERF_ACT_BUSY_LO:
        return fixed(std::uint64_t{104});
      case CIRCA_REG_PERF_CELL_BUSY_LO:
        return fixed(std::uint64_t{105});
      case CIRCA_REG_PERF_DMA_BUSY_LO:
        return fixed(std::uint64_t{106});
      case CIRCA_REG_PERF_STALL_LO:
        return fixed(std::uint64_t{0x500000000ull + 107});  // past 32 bits: the driver reads the pair
      case CIRCA_REG_PERF_CYCLES_HI:
      case CIRCA_REG_PERF_DDR_RD_HI:
      case CIRCA_REG_PERF_DDR_WR_HI:
      case CIRCA_REG_PERF_FFT_BUSY_HI:
      case CIRCA_REG_PERF_EMAC_BUSY_HI:
      case CIRCA_REG_PERF_IFFT_BUSY_HI:
      case CIRCA_REG_PERF_ACT_BUSY_HI:
      case CIRCA_REG_PERF_CELL_BUSY_HI:
      case CIRCA_REG_PERF_DMA_BUSY_HI:
      case CIRCA_REG_PERF_STALL_HI:
        return latched_hi;
      case CIRCA_REG_PERF_SAT:
        return 108;
      case CIRCA_REG_PERF_FRAMES:
        return frames;
      default:
        return 0;
    }
  }

  void write(std::uint32_t off, std::uint32_t v) {
    advance(10);
    log.push_back({'W', off, v});
    switch (off) {
      case CIRCA_REG_CTRL:
        ctrl = v & CIRCA_CTRL_IRQ_EN;
        if (v & CIRCA_CTRL_SOFT_RESET) {
          busy = false;
          ctrl |= CIRCA_CTRL_SOFT_RESET;
          resetting = !reset_hangs;
          reset_end = reset_hangs ? UINT64_MAX : now + reset_ns;
        } else if (v & CIRCA_CTRL_START) {
          ++starts;
          if (busy) {  // the running job goes on; the second START is refused
            err = CIRCA_ERR_BUSY;
            irq_status |= CIRCA_IRQ_ERROR;
          } else {
            busy = true;
            state = CIRCA_STATE_BUSY;
            err = 0;
            job_end = outcome == Outcome::hang ? UINT64_MAX : now + job_ns;
          }
        }
        break;
      case CIRCA_REG_IRQ_STATUS:
        irq_status &= ~v;
        break;
      case CIRCA_REG_IRQ_MASK:
        irq_mask = v;
        break;
      case CIRCA_REG_DESC_LO:
        desc_lo = v;
        break;
      case CIRCA_REG_DESC_HI:
        desc_hi = v;
        break;
      case CIRCA_REG_LUT_SEL:
        lut_sel = v;
        lut_words.clear();
        break;
      case CIRCA_REG_RING_HEAD:
        ring_head = v;
        break;
      case CIRCA_REG_LUT_DATA:
        lut_words.push_back(static_cast<std::int32_t>(v));
        break;
      case CIRCA_REG_LUT_COMMIT:
        if (v & 1) {
          ++lut_commits;
          if (lut_commit_error != CIRCA_ERR_NONE) {
            err = lut_commit_error;
            irq_status |= CIRCA_IRQ_ERROR;
          } else {
            committed_lut = lut_words;
          }
        }
        break;
      default:
        break;
    }
  }

  int wait_irq(std::uint64_t timeout) {
    ++wait_calls;
    if (wait_irq_failure) return wait_irq_failure;
    if (line()) return CIRCA_HAL_IRQ;
    if (spurious_wakes > 0) {
      --spurious_wakes;
      advance(timeout / 4);
      return CIRCA_HAL_IRQ;
    }
    if (busy && job_end - now <= timeout) {
      const std::uint64_t start = now;
      advance(job_end - now);
      if (line()) return CIRCA_HAL_IRQ;
      advance(timeout - (now - start));
      return CIRCA_HAL_TIMEOUT;
    }
    advance(timeout);
    return CIRCA_HAL_TIMEOUT;
  }

  int mem(std::uint64_t addr, std::size_t n, bool write, void* host) {
    if (addr < kDdrBase || addr - kDdrBase > ddr.size() || n > ddr.size() - (addr - kDdrBase)) return -1;
    std::uint8_t* p = ddr.data() + (addr - kDdrBase);
    if (write)
      std::memcpy(p, host, n);
    else
      std::memcpy(host, p, n);
    return 0;
  }

  std::vector<Access> writes() const {
    std::vector<Access> w;
    for (const Access& a : log)
      if (a.op == 'W') w.push_back(a);
    return w;
  }

private:
  std::uint32_t latch(std::uint64_t& counter) {
    const std::uint64_t v = counter;
    latched_hi = static_cast<std::uint32_t>(v >> 32);
    cycles += 1;
    ddr_rd += 1;
    ddr_wr += 1;
    return static_cast<std::uint32_t>(v);
  }
  std::uint32_t fixed(std::uint64_t v) {  // a counter that does not move
    latched_hi = static_cast<std::uint32_t>(v >> 32);
    return static_cast<std::uint32_t>(v);
  }
  std::uint32_t latched_hi = 0;
};

FakeDevice& fake(void* ctx) {
  return *static_cast<FakeDevice*>(ctx);
}

circa_hal hal_for(FakeDevice& d, bool with_clock = true) {
  circa_hal h{};
  h.ctx = &d;
  h.reg_read = [](void* c, std::uint32_t off) { return fake(c).read(off); };
  h.reg_write = [](void* c, std::uint32_t off, std::uint32_t v) { fake(c).write(off, v); };
  h.mem_write = [](void* c, std::uint64_t a, const void* src, std::size_t n) {
    return fake(c).mem(a, n, true, const_cast<void*>(src));
  };
  h.mem_read = [](void* c, std::uint64_t a, void* dst, std::size_t n) { return fake(c).mem(a, n, false, dst); };
  h.wait_irq = [](void* c, std::uint64_t t) { return fake(c).wait_irq(t); };
  if (with_clock) h.now_ns = [](void* c) { return fake(c).now; };
  return h;
}

// An opened device with an empty log, so a test sees only its own accesses.
struct Opened {
  FakeDevice dev;
  circa_dev drv{};
  explicit Opened(bool with_clock = true) {
    const circa_hal h = hal_for(dev, with_clock);
    EXPECT_EQ(circa_open(&drv, &h), 0);
    dev.log.clear();
  }
};

constexpr std::uint64_t kDesc = 0x0000000123456740ull;  // above 4 GiB, so DESC_HI is not 0
constexpr std::uint64_t kTimeout = 100000;              // 100 us of device time, 20x the fake's job

// ---------------------------------------------------------------------------------------------------------------
// open

TEST(DriverOpen, AcceptsTheSupportedDeviceAndDecodesCaps) {
  FakeDevice d;
  const circa_hal h = hal_for(d);
  circa_dev drv;
  ASSERT_EQ(circa_open(&drv, &h), 0);
  circa_device_caps c{};
  ASSERT_EQ(circa_caps(&drv, &c), 0);
  EXPECT_EQ(c.version_major, 2);
  EXPECT_EQ(c.version_minor, 0);  // 2.0: 64-bit PERF counters
  EXPECT_EQ(c.k_mask, 0x7Fu);
  EXPECT_EQ(c.weight.m, 4);
  EXPECT_EQ(c.weight.n, 12);
  EXPECT_EQ(c.act.m, 8);
  EXPECT_EQ(c.act.n, 8);
  EXPECT_EQ(c.cell.m, 8);
  EXPECT_EQ(c.cell.n, 8);
  EXPECT_EQ(c.fft_lanes, 8u);
  EXPECT_EQ(c.act_lanes, 16u);
  EXPECT_EQ(c.emac_lanes, 64u);
  EXPECT_EQ(c.buf_kib, 4096u);
  EXPECT_EQ(c.max_dim, 4096u);
  EXPECT_EQ(c.max_layers, 8u);
  EXPECT_EQ(c.lut_entries, 1024u);
  EXPECT_EQ(c.lut_pwl, 1);
}

TEST(DriverOpen, ReadsOnlyAndNeverWrites) {
  FakeDevice d;
  const circa_hal h = hal_for(d);
  circa_dev drv;
  ASSERT_EQ(circa_open(&drv, &h), 0);
  EXPECT_TRUE(d.writes().empty());  // opening must not disturb a job another host started
  ASSERT_FALSE(d.log.empty());
  EXPECT_EQ(d.log[0].off, static_cast<std::uint32_t>(CIRCA_REG_ID));
}

TEST(DriverOpen, AcceptsANewerMinorVersion) {
  FakeDevice d;
  d.version = 0x00020007u;
  const circa_hal h = hal_for(d);
  circa_dev drv;
  ASSERT_EQ(circa_open(&drv, &h), 0);
  circa_device_caps c{};
  ASSERT_EQ(circa_caps(&drv, &c), 0);
  EXPECT_EQ(c.version_minor, 7);
}

// CAPS_DATAPATH decodes into the caps.
TEST(DriverOpen, DecodesTheDatapathCaps) {
  FakeDevice d;
  const circa_hal h = hal_for(d);
  circa_dev drv;
  ASSERT_EQ(circa_open(&drv, &h), 0);
  circa_device_caps c{};
  ASSERT_EQ(circa_caps(&drv, &c), 0);
  EXPECT_EQ(c.guard_bits, 6u);
  EXPECT_EQ(c.ifft_bits, 40u);
  EXPECT_EQ(c.acc_bits, 48u);
  EXPECT_EQ(c.half_up, 1);
}

TEST(DriverOpen, RefusesAWrongId) {
  for (std::uint32_t id : {0u, 0xFFFFFFFFu, CIRCA_ID_VALUE ^ 1u}) {
    FakeDevice d;
    d.id = id;
    const circa_hal h = hal_for(d);
    circa_dev drv;
    EXPECT_EQ(circa_open(&drv, &h), CIRCA_DRV_ERR_BAD_ID) << std::hex << id;
    EXPECT_EQ(std::string(circa_strerror(CIRCA_DRV_ERR_BAD_ID)),
              "the device's ID register does not identify a circa accelerator");
    circa_device_caps c{};
    EXPECT_EQ(circa_caps(&drv, &c), CIRCA_DRV_ERR_NOT_OPEN);
  }
}

TEST(DriverOpen, RefusesAnotherMajorVersion) {
  // 1.x: 32-bit PERF counters at other offsets.
  for (std::uint32_t v : {0x00000000u, 0x00000001u, 0x00010002u, 0x00030000u, 0xFFFF0000u}) {
    FakeDevice d;
    d.version = v;
    const circa_hal h = hal_for(d);
    circa_dev drv;
    EXPECT_EQ(circa_open(&drv, &h), CIRCA_DRV_ERR_VERSION) << std::hex << v;
    EXPECT_EQ(std::string(circa_strerror(CIRCA_DRV_ERR_VERSION)),
              "the device's register-map major version is not supported by this driver");
    EXPECT_EQ(circa_run_job(&drv, kDesc, kTimeout), CIRCA_DRV_ERR_NOT_OPEN);
  }
}

TEST(DriverOpen, RefusesMissingCaps) {
  // Each of these zeroed leaves the device unable to run any job the runtime could build.
  std::uint32_t FakeDevice::*const fields[] = {&FakeDevice::caps_k, &FakeDevice::weight_q, &FakeDevice::act_q,
                                               &FakeDevice::cell_q, &FakeDevice::lanes,    &FakeDevice::limits,
                                               &FakeDevice::lut};
  for (auto f : fields) {
    FakeDevice d;
    d.*f = 0;
    const circa_hal h = hal_for(d);
    circa_dev drv;
    EXPECT_EQ(circa_open(&drv, &h), CIRCA_DRV_ERR_CAPS);
  }
  FakeDevice d;
  d.lanes = 8 | 16 << 8;  // no EW-MAC lanes
  const circa_hal h = hal_for(d);
  circa_dev drv;
  EXPECT_EQ(circa_open(&drv, &h), CIRCA_DRV_ERR_CAPS);
  EXPECT_NE(std::string(circa_strerror(CIRCA_DRV_ERR_CAPS)).find("capabilities"), std::string::npos);
}

TEST(DriverOpen, AcceptsNoOnChipWeightBuffer) {
  FakeDevice d;
  d.buf_kib = 0;  // every weight streams from DDR: slow, but a valid design point
  const circa_hal h = hal_for(d);
  circa_dev drv;
  EXPECT_EQ(circa_open(&drv, &h), 0);
}

TEST(DriverOpen, RefusesAnIncompleteHal) {
  FakeDevice d;
  circa_dev drv;
  EXPECT_EQ(circa_open(&drv, nullptr), CIRCA_DRV_ERR_ARG);
  EXPECT_EQ(circa_open(nullptr, nullptr), CIRCA_DRV_ERR_ARG);
  for (int missing = 0; missing < 3; ++missing) {
    circa_hal h = hal_for(d);
    if (missing == 0) h.reg_read = nullptr;
    if (missing == 1) h.reg_write = nullptr;
    if (missing == 2) h.wait_irq = nullptr;
    EXPECT_EQ(circa_open(&drv, &h), CIRCA_DRV_ERR_ARG);
  }
  circa_hal h = hal_for(d, false);
  h.mem_read = nullptr;
  h.mem_write = nullptr;
  EXPECT_EQ(circa_open(&drv, &h), 0);  // mem hooks and the clock are optional
}

TEST(DriverOpen, EveryCallRefusesAClosedDevice) {
  circa_dev drv{};
  circa_device_caps c{};
  circa_counters k{};
  const std::int32_t w[1] = {0};
  std::uint8_t b[4] = {};
  EXPECT_EQ(circa_reset(&drv), CIRCA_DRV_ERR_NOT_OPEN);
  EXPECT_EQ(circa_caps(&drv, &c), CIRCA_DRV_ERR_NOT_OPEN);
  EXPECT_EQ(circa_start_job(&drv, kDesc), CIRCA_DRV_ERR_NOT_OPEN);
  EXPECT_EQ(circa_wait_job(&drv, kTimeout), CIRCA_DRV_ERR_NOT_OPEN);
  EXPECT_EQ(circa_run_job(&drv, kDesc, kTimeout), CIRCA_DRV_ERR_NOT_OPEN);
  EXPECT_EQ(circa_load_lut(&drv, CIRCA_LUT_TANH, w, 1), CIRCA_DRV_ERR_NOT_OPEN);
  EXPECT_EQ(circa_read_counters(&drv, &k), CIRCA_DRV_ERR_NOT_OPEN);
  EXPECT_EQ(circa_mem_write(&drv, 0, b, 4), CIRCA_DRV_ERR_NOT_OPEN);
  EXPECT_EQ(circa_mem_read(&drv, 0, b, 4), CIRCA_DRV_ERR_NOT_OPEN);
  std::uint32_t tail = 0;
  EXPECT_EQ(circa_ring_push(&drv, 1), CIRCA_DRV_ERR_NOT_OPEN);
  EXPECT_EQ(circa_ring_tail(&drv, &tail), CIRCA_DRV_ERR_NOT_OPEN);
  EXPECT_EQ(circa_reset(nullptr), CIRCA_DRV_ERR_ARG);
  EXPECT_EQ(circa_wait_job(nullptr, kTimeout), CIRCA_DRV_ERR_ARG);
}

// ---------------------------------------------------------------------------------------------------------------
// error strings

struct Code {
  int code;
  const char* name;
  const char* desc;
};
const std::vector<Code>& all_codes() {
  static const std::vector<Code> codes = {
#define DEV_CODE(name, code, desc) {code, "CIRCA_ERR_" #name, desc},
      CIRCA_ERRORS(DEV_CODE)
#undef DEV_CODE
#define DRV_CODE(name, code, desc) {code, "CIRCA_DRV_ERR_" #name, desc},
          CIRCA_DRV_ERRORS(DRV_CODE)
#undef DRV_CODE
  };
  return codes;
}

TEST(DriverErrors, EveryCodeHasADistinctNonEmptyString) {
  std::set<std::string> seen;
  std::set<int> values;
  for (const Code& c : all_codes()) {
    const char* s = circa_strerror(c.code);
    ASSERT_NE(s, nullptr) << c.name;
    EXPECT_STRNE(s, "") << c.name;
    EXPECT_STREQ(s, c.desc) << c.name;  // the X-macro's text, reused rather than restated
    EXPECT_TRUE(seen.insert(s).second) << c.name << " repeats \"" << s << "\"";
    EXPECT_TRUE(values.insert(c.code).second) << c.name;
  }
  EXPECT_EQ(seen.size(), all_codes().size());
}

TEST(DriverErrors, DeviceAndDriverRangesAreDisjoint) {
#define DEV_RANGE(name, code, desc) EXPECT_TRUE((code) >= 0 && (code) <= 255) << #name;  // STATUS.ERROR is 8 bits
  CIRCA_ERRORS(DEV_RANGE)
#undef DEV_RANGE
#define DRV_RANGE(name, code, desc) EXPECT_TRUE((code) <= -1 && (code) >= -99) << #name;
  CIRCA_DRV_ERRORS(DRV_RANGE)
#undef DRV_RANGE
  EXPECT_STREQ(circa_strerror(0), "no error");
}

TEST(DriverErrors, UnknownCodesStillGetAString) {
  EXPECT_STREQ(circa_strerror(200), "unknown device error code");
  EXPECT_STREQ(circa_strerror(-77), "unknown error code");
  EXPECT_STREQ(circa_strerror(1000), "unknown error code");
}

// ---------------------------------------------------------------------------------------------------------------
// jobs

TEST(DriverRun, SuccessFollowsTheDocumentedRegisterSequence) {
  Opened o;
  ASSERT_EQ(circa_run_job(&o.drv, kDesc, kTimeout), 0);
  const std::vector<Access> w = o.dev.writes();
  ASSERT_EQ(w.size(), 6u);
  const std::uint32_t both = CIRCA_IRQ_DONE | CIRCA_IRQ_ERROR;
  EXPECT_EQ(w[0].off, static_cast<std::uint32_t>(CIRCA_REG_IRQ_STATUS));
  EXPECT_EQ(w[0].value, both);  // stale bits cleared first
  EXPECT_EQ(w[1].off, static_cast<std::uint32_t>(CIRCA_REG_IRQ_MASK));
  EXPECT_EQ(w[1].value, both);
  EXPECT_EQ(w[2].off, static_cast<std::uint32_t>(CIRCA_REG_DESC_LO));
  EXPECT_EQ(w[2].value, 0x23456740u);
  EXPECT_EQ(w[3].off, static_cast<std::uint32_t>(CIRCA_REG_DESC_HI));
  EXPECT_EQ(w[3].value, 0x1u);
  EXPECT_EQ(w[4].off, static_cast<std::uint32_t>(CIRCA_REG_CTRL));
  EXPECT_EQ(w[4].value, CIRCA_CTRL_START | CIRCA_CTRL_IRQ_EN);
  EXPECT_EQ(w[5].off, static_cast<std::uint32_t>(CIRCA_REG_IRQ_STATUS));
  EXPECT_EQ(w[5].value, CIRCA_IRQ_DONE);  // exactly the bit it saw, W1C
  // After the wait: STATUS (the quantum sync) and then IRQ_STATUS are read before the clear.
  std::vector<std::uint32_t> reads;
  for (const Access& a : o.dev.log)
    if (a.op == 'R') reads.push_back(a.off);
  ASSERT_EQ(reads.size(), 2u);
  EXPECT_EQ(reads[0], static_cast<std::uint32_t>(CIRCA_REG_STATUS));
  EXPECT_EQ(reads[1], static_cast<std::uint32_t>(CIRCA_REG_IRQ_STATUS));
  EXPECT_EQ(o.dev.starts, 1);
  EXPECT_FALSE(o.dev.line());
  EXPECT_EQ(CIRCA_STATUS_STATE(o.drv.last_status), static_cast<std::uint32_t>(CIRCA_STATE_DONE));
  EXPECT_EQ(CIRCA_STATUS_FRAMES(o.drv.last_status), 7u);
  EXPECT_EQ(o.drv.last_irq_status, CIRCA_IRQ_DONE);
}

TEST(DriverRun, BackToBackJobsEachWaitForTheirOwnInterrupt) {
  Opened o;
  ASSERT_EQ(circa_run_job(&o.drv, kDesc, kTimeout), 0);
  o.dev.outcome = FakeDevice::Outcome::hang;
  EXPECT_EQ(circa_run_job(&o.drv, kDesc + 64, kTimeout), CIRCA_DRV_ERR_TIMEOUT);
}

TEST(DriverRun, StaleInterruptIsClearedBeforeStart) {
  Opened o;
  o.dev.ctrl = CIRCA_CTRL_IRQ_EN;
  o.dev.irq_mask = CIRCA_IRQ_DONE;
  o.dev.irq_status = CIRCA_IRQ_DONE;  // left over, never acknowledged
  o.dev.state = CIRCA_STATE_DONE;
  ASSERT_TRUE(o.dev.line());
  o.dev.outcome = FakeDevice::Outcome::hang;
  EXPECT_EQ(circa_run_job(&o.drv, kDesc, kTimeout), CIRCA_DRV_ERR_TIMEOUT);
}

TEST(DriverRun, TimesOutWhenTheInterruptNeverComes) {
  Opened o;
  o.dev.outcome = FakeDevice::Outcome::hang;
  const std::uint64_t t0 = o.dev.now;
  EXPECT_EQ(circa_run_job(&o.drv, kDesc, kTimeout), CIRCA_DRV_ERR_TIMEOUT);
  // Five register writes of 10 ns, then one wait of the whole timeout: the driver neither gives up early nor
  // waits past its deadline.
  EXPECT_EQ(o.dev.now - t0, 5 * 10 + kTimeout);
  EXPECT_EQ(o.dev.wait_calls, 1);
  EXPECT_TRUE(o.dev.busy);  // still running: only a reset stops it
  EXPECT_STREQ(circa_strerror(CIRCA_DRV_ERR_TIMEOUT), "timed out waiting for the device");
  ASSERT_EQ(circa_reset(&o.drv), 0);
  EXPECT_FALSE(o.dev.busy);
}

TEST(DriverRun, AJobLongerThanTheTimeoutTimesOut) {
  Opened o;
  o.dev.job_ns = 2 * kTimeout;
  EXPECT_EQ(circa_run_job(&o.drv, kDesc, kTimeout), CIRCA_DRV_ERR_TIMEOUT);
  // The job completes later; a second wait collects it.
  EXPECT_EQ(circa_wait_job(&o.drv, kTimeout), 0);
}

TEST(DriverRun, ZeroTimeoutOnlyTestsTheLevel) {
  Opened o;
  ASSERT_EQ(circa_start_job(&o.drv, kDesc), 0);
  EXPECT_EQ(circa_wait_job(&o.drv, 0), CIRCA_DRV_ERR_TIMEOUT);
  EXPECT_EQ(circa_wait_job(&o.drv, kTimeout), 0);
}

TEST(DriverRun, DeviceErrorCodesAreReturnedUnchanged) {
#define ERR_CASE(name, code, desc) {code, #name},
  const std::vector<std::pair<int, const char*>> codes = {CIRCA_ERRORS(ERR_CASE)};
#undef ERR_CASE
  for (const auto& [code, name] : codes) {
    if (code == CIRCA_ERR_NONE) continue;
    Opened o;
    o.dev.outcome = FakeDevice::Outcome::error;
    o.dev.error_code = static_cast<std::uint32_t>(code);
    const int r = circa_run_job(&o.drv, kDesc, kTimeout);
    EXPECT_EQ(r, code) << name;
    EXPECT_GT(std::string(circa_strerror(r)).size(), 0u) << name;
    EXPECT_EQ(o.dev.writes().back().value, CIRCA_IRQ_ERROR) << name;  // the ERROR bit acknowledged
    EXPECT_FALSE(o.dev.line()) << name;
  }
}

TEST(DriverRun, AnErrorWithoutACodeIsReportedAsSuch) {
  Opened o;
  o.dev.outcome = FakeDevice::Outcome::error_without_code;
  EXPECT_EQ(circa_run_job(&o.drv, kDesc, kTimeout), CIRCA_DRV_ERR_NO_CODE);
}

TEST(DriverRun, DoneWhileStatusSaysBusyIsAProtocolError) {
  Opened o;
  o.dev.outcome = FakeDevice::Outcome::done_but_busy;
  EXPECT_EQ(circa_run_job(&o.drv, kDesc, kTimeout), CIRCA_DRV_ERR_PROTOCOL);
}

TEST(DriverRun, StartWhileBusyReachesTheDeviceAndReportsBusy) {
  Opened o;
  o.dev.job_ns = 10 * kTimeout;
  ASSERT_EQ(circa_start_job(&o.drv, kDesc), 0);
  ASSERT_EQ(circa_start_job(&o.drv, kDesc + 4096), 0);  // the driver does not second-guess the device
  EXPECT_EQ(o.dev.starts, 2);
  EXPECT_EQ(circa_wait_job(&o.drv, kTimeout), CIRCA_ERR_BUSY);
  EXPECT_STREQ(circa_strerror(CIRCA_ERR_BUSY), "START written while a job was running");
  EXPECT_TRUE(o.dev.busy);  // the first job is unaffected
}

TEST(DriverRun, SpuriousWakesWaitForTheRestOfTheTimeout) {
  Opened o;
  o.dev.outcome = FakeDevice::Outcome::hang;
  o.dev.spurious_wakes = 2;
  const std::uint64_t t0 = o.dev.now;
  EXPECT_EQ(circa_run_job(&o.drv, kDesc, kTimeout), CIRCA_DRV_ERR_TIMEOUT);
  EXPECT_EQ(o.dev.wait_calls, 3);
  // The deadline is fixed when the wait begins, not restarted on each wake: after the 5 writes, the two short wakes,
  // their STATUS/IRQ_STATUS reads and the last wait end exactly at it.
  EXPECT_EQ(o.dev.now - t0, 5 * 10 + kTimeout);
}

TEST(DriverRun, SpuriousWakesWithoutAClockAreBounded) {
  Opened o(false);
  o.dev.outcome = FakeDevice::Outcome::hang;
  o.dev.spurious_wakes = 1000;
  EXPECT_EQ(circa_run_job(&o.drv, kDesc, kTimeout), CIRCA_DRV_ERR_TIMEOUT);
  EXPECT_EQ(o.dev.wait_calls, static_cast<int>(CIRCA_SPURIOUS_WAKES) + 1);
}

TEST(DriverRun, AFailingWaitIsAHalError) {
  Opened o;
  o.dev.wait_irq_failure = -5;
  EXPECT_EQ(circa_run_job(&o.drv, kDesc, kTimeout), CIRCA_DRV_ERR_HAL);
  o.dev.wait_irq_failure = 3;  // any positive value is a timeout
  EXPECT_EQ(circa_wait_job(&o.drv, kTimeout), CIRCA_DRV_ERR_TIMEOUT);
}

// ---------------------------------------------------------------------------------------------------------------
// reset

TEST(DriverReset, WritesSoftResetAndPollsUntilIdle) {
  Opened o;
  ASSERT_EQ(circa_run_job(&o.drv, kDesc, kTimeout), 0);
  o.dev.log.clear();
  ASSERT_EQ(circa_reset(&o.drv), 0);
  const std::vector<Access> w = o.dev.writes();
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0].off, static_cast<std::uint32_t>(CIRCA_REG_CTRL));
  EXPECT_EQ(w[0].value, CIRCA_CTRL_SOFT_RESET);
  EXPECT_EQ(o.dev.state, static_cast<std::uint32_t>(CIRCA_STATE_IDLE));
  // The fake's reset takes 100 ns from the CTRL write and every read costs 10 ns, so the 10th STATUS read is the
  // first to see idle; then one CTRL read confirms SOFT_RESET has cleared.
  int status_reads = 0, ctrl_reads = 0;
  for (const Access& a : o.dev.log) {
    status_reads += a.op == 'R' && a.off == CIRCA_REG_STATUS;
    ctrl_reads += a.op == 'R' && a.off == CIRCA_REG_CTRL;
  }
  EXPECT_EQ(status_reads, 10);
  EXPECT_EQ(ctrl_reads, 1);
}

TEST(DriverReset, TimesOutWhenTheDeviceNeverComesBack) {
  Opened o;
  o.dev.reset_hangs = true;
  const std::uint64_t t0 = o.dev.now;
  EXPECT_EQ(circa_reset(&o.drv), CIRCA_DRV_ERR_TIMEOUT);
  EXPECT_GE(o.dev.now - t0, CIRCA_RESET_TIMEOUT_NS);
  EXPECT_LE(o.dev.now - t0, CIRCA_RESET_TIMEOUT_NS + 100);
}

TEST(DriverReset, WithoutAClockThePollCountBoundsTheWait) {
  Opened o(false);
  o.dev.reset_hangs = true;
  EXPECT_EQ(circa_reset(&o.drv), CIRCA_DRV_ERR_TIMEOUT);
  int status_reads = 0;
  for (const Access& a : o.dev.log) status_reads += a.op == 'R' && a.off == CIRCA_REG_STATUS;
  EXPECT_EQ(status_reads, static_cast<int>(CIRCA_POLL_LIMIT));
}

// ---------------------------------------------------------------------------------------------------------------
// LUT, counters, memory

TEST(DriverLut, LoadsSelectThenWordsThenCommit) {
  Opened o;
  const std::vector<std::int32_t> words = {-32768, -1, 0, 1, 255, 32767};
  ASSERT_EQ(circa_load_lut(&o.drv, CIRCA_LUT_TANH, words.data(), words.size()), 0);
  const std::vector<Access> w = o.dev.writes();
  ASSERT_EQ(w.size(), words.size() + 2);
  EXPECT_EQ(w.front().off, static_cast<std::uint32_t>(CIRCA_REG_LUT_SEL));
  EXPECT_EQ(w.front().value, 1u);  // FN = tanh, INDEX = 0
  for (std::size_t i = 0; i < words.size(); ++i) {
    EXPECT_EQ(w[1 + i].off, static_cast<std::uint32_t>(CIRCA_REG_LUT_DATA));
    EXPECT_EQ(w[1 + i].value, static_cast<std::uint32_t>(words[i]));  // raw two's complement
  }
  EXPECT_EQ(w.back().off, static_cast<std::uint32_t>(CIRCA_REG_LUT_COMMIT));
  EXPECT_EQ(w.back().value, 1u);
  EXPECT_EQ(o.dev.committed_lut, words);
  EXPECT_EQ(o.dev.lut_commits, 1);

  ASSERT_EQ(circa_load_lut(&o.drv, CIRCA_LUT_SIGMOID, words.data(), 2), 0);
  EXPECT_EQ(o.dev.lut_sel, 0u);
}

// A table the device refuses is reported with the device's code, and the ERROR interrupt it raised is cleared
// (it used to be lost: the next START cleared STATUS.ERROR). An ERROR already pending is not the load's to clear.
TEST(DriverLut, ReturnsTheDevicesErrorWhenTheCommitIsRefused) {
  Opened o;
  const std::vector<std::int32_t> words = {1, 2, 3};
  o.dev.lut_commit_error = CIRCA_ERR_BITS;
  EXPECT_EQ(circa_load_lut(&o.drv, CIRCA_LUT_TANH, words.data(), words.size()), CIRCA_ERR_BITS);
  EXPECT_EQ(o.dev.irq_status & CIRCA_IRQ_ERROR, 0u);
  EXPECT_TRUE(o.dev.committed_lut.empty());

  // A job's error still pending: the load that succeeds returns 0 and leaves it pending.
  o.dev.lut_commit_error = CIRCA_ERR_NONE;
  o.dev.err = CIRCA_ERR_DESC_ADDR;
  o.dev.irq_status |= CIRCA_IRQ_ERROR;
  EXPECT_EQ(circa_load_lut(&o.drv, CIRCA_LUT_TANH, words.data(), words.size()), 0);
  EXPECT_EQ(o.dev.irq_status & CIRCA_IRQ_ERROR, static_cast<std::uint32_t>(CIRCA_IRQ_ERROR));
  EXPECT_EQ(o.dev.committed_lut, words);
  // ... and one the device refuses is told apart by the changed code.
  o.dev.lut_commit_error = CIRCA_ERR_CAPACITY;
  EXPECT_EQ(circa_load_lut(&o.drv, CIRCA_LUT_SIGMOID, words.data(), words.size()), CIRCA_ERR_CAPACITY);
}

TEST(DriverRing, PushWritesHeadAndTailReadsTail) {
  Opened o;
  ASSERT_EQ(circa_ring_push(&o.drv, 5), 0);
  const std::vector<Access> w = o.dev.writes();
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0].off, static_cast<std::uint32_t>(CIRCA_REG_RING_HEAD));
  EXPECT_EQ(w[0].value, 5u);
  o.dev.ring_tail = 3;
  std::uint32_t tail = 0;
  ASSERT_EQ(circa_ring_tail(&o.drv, &tail), 0);
  EXPECT_EQ(tail, 3u);
  EXPECT_EQ(circa_ring_tail(&o.drv, nullptr), CIRCA_DRV_ERR_ARG);
}

TEST(DriverLut, RejectsBadArgumentsWithoutTouchingTheDevice) {
  Opened o;
  std::vector<std::int32_t> words(1025, 0);  // the fake has 1024 entries
  EXPECT_EQ(circa_load_lut(&o.drv, 2, words.data(), 4), CIRCA_DRV_ERR_ARG);
  EXPECT_EQ(circa_load_lut(&o.drv, CIRCA_LUT_TANH, nullptr, 4), CIRCA_DRV_ERR_ARG);
  EXPECT_EQ(circa_load_lut(&o.drv, CIRCA_LUT_TANH, words.data(), 0), CIRCA_DRV_ERR_ARG);
  EXPECT_EQ(circa_load_lut(&o.drv, CIRCA_LUT_TANH, words.data(), words.size()), CIRCA_DRV_ERR_ARG);
  EXPECT_TRUE(o.dev.log.empty());
  EXPECT_EQ(circa_load_lut(&o.drv, CIRCA_LUT_TANH, words.data(), 1024), 0);
}

TEST(DriverCounters, ReadsLoBeforeHiAndGetsOneConsistentSample) {
  Opened o;
  circa_counters c{};
  ASSERT_EQ(circa_read_counters(&o.drv, &c), 0);
  // The fake's counters tick on every LO read, so a value that crosses a 2^32 boundary between the two reads is
  // only right if HI comes from the latch set by LO.
  EXPECT_EQ(c.cycles, 0x1FFFFFFFFull);
  EXPECT_EQ(c.ddr_rd_bytes, 0x2FFFFFFFFull + 1);
  EXPECT_EQ(c.ddr_wr_bytes, 0x3FFFFFFFFull + 2);
  EXPECT_EQ(c.fft_busy, 101u);
  EXPECT_EQ(c.emac_busy, 102u);
  EXPECT_EQ(c.ifft_busy, 103u);
  EXPECT_EQ(c.act_busy, 104u);
  EXPECT_EQ(c.cell_busy, 105u);
  EXPECT_EQ(c.dma_busy, 106u);
  EXPECT_EQ(c.stall, 0x500000000ull + 107);
  EXPECT_EQ(c.saturations, 108u);
  EXPECT_EQ(c.frames, 7u);
  const std::pair<std::uint32_t, std::uint32_t> pairs[] = {
      {CIRCA_REG_PERF_CYCLES_LO, CIRCA_REG_PERF_CYCLES_HI},         {CIRCA_REG_PERF_DDR_RD_LO, CIRCA_REG_PERF_DDR_RD_HI},
      {CIRCA_REG_PERF_DDR_WR_LO, CIRCA_REG_PERF_DDR_WR_HI},         {CIRCA_REG_PERF_FFT_BUSY_LO, CIRCA_REG_PERF_FFT_BUSY_HI},
      {CIRCA_REG_PERF_EMAC_BUSY_LO, CIRCA_REG_PERF_EMAC_BUSY_HI},   {CIRCA_REG_PERF_IFFT_BUSY_LO, CIRCA_REG_PERF_IFFT_BUSY_HI},
      {CIRCA_REG_PERF_ACT_BUSY_LO, CIRCA_REG_PERF_ACT_BUSY_HI},     {CIRCA_REG_PERF_CELL_BUSY_LO, CIRCA_REG_PERF_CELL_BUSY_HI},
      {CIRCA_REG_PERF_DMA_BUSY_LO, CIRCA_REG_PERF_DMA_BUSY_HI},     {CIRCA_REG_PERF_STALL_LO, CIRCA_REG_PERF_STALL_HI}};
  for (const auto& [lo, hi] : pairs) {
    std::size_t at_lo = o.dev.log.size(), at_hi = o.dev.log.size();
    for (std::size_t i = 0; i < o.dev.log.size(); ++i) {
      if (o.dev.log[i].off == lo) at_lo = i;
      if (o.dev.log[i].off == hi) at_hi = i;
    }
    ASSERT_LT(at_lo, o.dev.log.size());
    // HI immediately after its LO: nothing may re-latch in between.
    EXPECT_EQ(at_hi, at_lo + 1) << std::hex << lo;
  }
  EXPECT_TRUE(o.dev.writes().empty());
  EXPECT_EQ(circa_read_counters(&o.drv, nullptr), CIRCA_DRV_ERR_ARG);
}

TEST(DriverMem, CopiesThroughTheHalAndMapsFailures) {
  Opened o;
  const std::uint8_t src[5] = {1, 2, 3, 4, 5};
  std::uint8_t dst[5] = {};
  ASSERT_EQ(circa_mem_write(&o.drv, FakeDevice::kDdrBase + 64, src, sizeof src), 0);
  ASSERT_EQ(circa_mem_read(&o.drv, FakeDevice::kDdrBase + 64, dst, sizeof dst), 0);
  EXPECT_EQ(std::memcmp(src, dst, sizeof src), 0);
  EXPECT_EQ(circa_mem_write(&o.drv, 0x10, src, sizeof src), CIRCA_DRV_ERR_HAL);
  EXPECT_EQ(circa_mem_read(&o.drv, FakeDevice::kDdrBase + o.dev.ddr.size() - 2, dst, sizeof dst), CIRCA_DRV_ERR_HAL);
  EXPECT_EQ(circa_mem_write(&o.drv, FakeDevice::kDdrBase, nullptr, 4), CIRCA_DRV_ERR_ARG);

  FakeDevice d;
  circa_hal h = hal_for(d);
  h.mem_write = nullptr;
  h.mem_read = nullptr;
  circa_dev drv;
  ASSERT_EQ(circa_open(&drv, &h), 0);
  EXPECT_EQ(circa_mem_write(&drv, FakeDevice::kDdrBase, src, sizeof src), CIRCA_DRV_ERR_HAL);
  EXPECT_EQ(circa_mem_read(&drv, FakeDevice::kDdrBase, dst, sizeof dst), CIRCA_DRV_ERR_HAL);
}

TEST(DriverState, TwoDevicesDoNotShareState) {
  Opened a, b;
  b.dev.outcome = FakeDevice::Outcome::error;
  b.dev.error_code = CIRCA_ERR_DIMS;
  ASSERT_EQ(circa_start_job(&a.drv, kDesc), 0);
  ASSERT_EQ(circa_start_job(&b.drv, kDesc), 0);
  EXPECT_EQ(circa_wait_job(&b.drv, kTimeout), CIRCA_ERR_DIMS);
  EXPECT_EQ(circa_wait_job(&a.drv, kTimeout), 0);
  EXPECT_EQ(CIRCA_STATUS_STATE(a.drv.last_status), static_cast<std::uint32_t>(CIRCA_STATE_DONE));
  EXPECT_EQ(CIRCA_STATUS_ERROR(b.drv.last_status), static_cast<std::uint32_t>(CIRCA_ERR_DIMS));
}

}  // namespace
