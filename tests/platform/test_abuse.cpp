// Register-level abuse: seeded random sequences of bus traffic against the virtual platform, the way a driver under
// development programs a device wrongly. A sequence mixes reads and writes of any offset with any value, accesses of
// the wrong width, with byte enables, misaligned or unmapped; garbage, random-field and near-valid descriptors at
// random addresses (outside DDR too); STARTs while busy; soft resets mid-job; IRQ clears and mask changes at odd
// times; half-finished and random LUT loads; stray DDR writes. Reads are checked against what the register map
// promises. Every sequence ends with a soft reset, after which a real job must produce outputs bit-exact with the
// golden model: whatever the host did, the device is usable again.
//
// Hangs: every wait in a sequence is bounded, each operation must finish within its own bound of simulated time, and
// an SC_THREAD watchdog stops the simulation (failing the bench) if a whole sequence runs past its budget, which
// catches a host stuck inside a bus call that never returns.
//
// One elaboration: small platforms built once. The random traffic alternates between weights on chip and weights
// streamed from DDR per tile (so resets land between weight fetches). A third platform has a register block with
// no access latency, where START and SOFT_RESET can meet the job thread in one delta cycle; it gets a directed test,
// since its STATUS polls do not advance time and the driver's reset poll would spin.
#include <gtest/gtest.h>

#include <array>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/golden.hpp"
#include "core/rng.hpp"
#include "platform/vp_run.hpp"
#include "hwif/circa_regs.h"

using namespace circa;
using sc_core::SC_MS;
using sc_core::sc_time;
using sc_core::SC_US;
using sc_core::SC_ZERO_TIME;

namespace {

constexpr int kFrames = 2;
constexpr std::uint64_t kDdrSize = 64ull << 20;  // small: stray writes can only allocate so much backing store
constexpr std::uint64_t kScratch = kDdrBase + (16ull << 20);  // random descriptors and stray writes land here
constexpr std::uint64_t kScratchBytes = 1ull << 20;
constexpr std::uint64_t kDdrEnd = kDdrBase + kDdrSize;
// A sequence's whole budget in simulated time. The slowest legitimate sequence (every operation a bounded driver
// wait) stays far below it: kOpsPerSequence * 400 us = 56 ms, plus the reset and the 2-frame check job.
const sc_time kSequenceBudget(200, SC_MS);
constexpr int kOpsPerSequence = 140;

// --- the watchdog ------------------------------------------------------------------------------------------------

class watchdog : public sc_core::sc_module {
public:
  SC_HAS_PROCESS(watchdog);
  explicit watchdog(sc_core::sc_module_name n) : sc_module(n) { SC_THREAD(run); }
  void arm(const sc_time& budget, std::string what) {
    budget_ = budget;
    what_ = std::move(what);
    armed_ = true;
    ++gen_;
    change_.notify(SC_ZERO_TIME);
  }
  void disarm() {
    armed_ = false;
    change_.notify(SC_ZERO_TIME);
  }
  bool fired() const { return fired_; }

private:
  void run() {
    for (;;) {
      while (!armed_) wait(change_);
      const unsigned gen = gen_;
      const sc_time deadline = sc_core::sc_time_stamp() + budget_;
      // Disarmed (or re-armed) wakes it early; a timed-out wait with the same arming still live is a hang.
      while (armed_ && gen_ == gen && sc_core::sc_time_stamp() < deadline)
        wait(deadline - sc_core::sc_time_stamp(), change_);
      if (armed_ && gen_ == gen) {
        fired_ = true;
        ADD_FAILURE() << "watchdog: " << what_ << " ran past " << budget_ << " of simulated time";
        sc_core::sc_stop();
        return;
      }
    }
  }
  sc_core::sc_event change_;
  sc_time budget_;
  std::string what_;
  bool armed_ = false, fired_ = false;
  unsigned gen_ = 0;
};

// --- the platforms -----------------------------------------------------------------------------------------------

Model tiny_model() {
  SynthSpec s;
  s.input_dim = 20;
  s.cell_dim = 16;
  s.proj_dim = 8;
  s.layers = 2;
  s.block = {8, 4};
  s.seed = 17;
  return synth_model(s);
}

Matrix tiny_features() {
  Rng rng(23);
  Matrix m(kFrames, 20);
  for (float& v : m.data) v = static_cast<float>(rng.normal());
  return m;
}

VpConfig small_config(bool streamed, int reg_latency) {
  VpConfig c;
  c.ddr.size_bytes = kDdrSize;
  // A small device, so a random descriptor that happens to validate cannot ask for minutes of wall time.
  c.accel.max_dim = 256;
  if (streamed) c.accel.weight_buffer_bytes = 0;
  c.accel.reg_latency = reg_latency;
  return c;
}

struct Platform {
  const char* name;
  std::unique_ptr<vp> top;
};

struct Bench {
  Numerics num;
  Model model = tiny_model();
  Matrix feats = tiny_features();
  std::vector<Platform> platforms;
  std::unique_ptr<vp> fastreg;  // a register block with no access latency
  std::unique_ptr<watchdog> dog;
  std::unique_ptr<HostRuntime> rt;
  HostRuntime::Job job;       // the 2-frame job checked after every sequence
  HostRuntime::Job long_job;  // a valid 48-frame job for random STARTs, so that resets land mid-frame
  std::vector<float> golden;
  Bench() {
    platforms.push_back({"weights on chip", std::make_unique<vp>("vp_chip", small_config(false, 2), num)});
    platforms.push_back({"weights streamed", std::make_unique<vp>("vp_stream", small_config(true, 2), num)});
    for (Platform& p : platforms) p.top->cpu().set_stop_at_end(false);
    fastreg = std::make_unique<vp>("vp_fastreg", small_config(false, 0), num);
    fastreg->cpu().set_stop_at_end(false);
    dog = std::make_unique<watchdog>("watchdog");
    rt = std::make_unique<HostRuntime>(model, num, kDdrBase + 0x1000);
    SatCounters sat;
    job = rt->pack_job(feats, rt->model_end(), sat);
    Matrix long_feats(48, feats.cols);
    for (std::size_t i = 0; i < long_feats.data.size(); ++i) long_feats.data[i] = feats.data[i % feats.data.size()];
    long_job = rt->pack_job(long_feats, job.end, sat);
    FixedGolden g(model, num);
    golden = g.run(feats).data;
  }
  // Runs `prog` on a platform's CPU until it returns; a hang either starves the simulation or trips the watchdog.
  void run(vp& top, const std::function<void(host_cpu&)>& prog) {
    ASSERT_FALSE(dog->fired()) << "an earlier hang stopped the simulation";
    top.cpu().set_program(prog);
    sc_core::sc_start();
    ASSERT_FALSE(dog->fired());
    ASSERT_TRUE(top.cpu().finished()) << "the host program starved: it waits for something that never comes";
  }
};

Bench& bench() {
  static Bench b;
  return b;
}

// --- the register map as the bench expects it to behave ----------------------------------------------------------

struct RegInfo {
  std::uint32_t off;
  std::string access;  // RO, RW, W1C, WO
};

const std::vector<RegInfo>& reg_map() {
  static const std::vector<RegInfo> m = {
#define CIRCA_REG_INFO(name, off, acc, reset, desc) {off, #acc},
      CIRCA_REGISTERS(CIRCA_REG_INFO)
#undef CIRCA_REG_INFO
  };
  return m;
}

const RegInfo* reg_at(std::uint64_t off) {
  for (const RegInfo& r : reg_map())
    if (r.off == off) return &r;
  return nullptr;
}

tlm::tlm_response_status expected_response(bool write, std::uint64_t off) {
  const RegInfo* r = reg_at(off);
  if (r == nullptr) return tlm::TLM_ADDRESS_ERROR_RESPONSE;
  if (write && r->access == "RO") return tlm::TLM_COMMAND_ERROR_RESPONSE;
  return tlm::TLM_OK_RESPONSE;
}

const char* response_name(tlm::tlm_response_status s) {
  switch (s) {
    case tlm::TLM_OK_RESPONSE:
      return "OK";
    case tlm::TLM_INCOMPLETE_RESPONSE:
      return "INCOMPLETE";
    case tlm::TLM_GENERIC_ERROR_RESPONSE:
      return "GENERIC_ERROR";
    case tlm::TLM_ADDRESS_ERROR_RESPONSE:
      return "ADDRESS_ERROR";
    case tlm::TLM_COMMAND_ERROR_RESPONSE:
      return "COMMAND_ERROR";
    case tlm::TLM_BURST_ERROR_RESPONSE:
      return "BURST_ERROR";
    case tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE:
      return "BYTE_ENABLE_ERROR";
  }
  return "?";
}

// --- one seed's abuse ----------------------------------------------------------------------------------------------

struct Totals {
  std::uint64_t actions = 0, accesses = 0, sequences = 0, checked_jobs = 0, seeds = 0;
  std::uint64_t starts = 0, starts_busy = 0, resets = 0, resets_busy = 0, resets_mid_frames = 0, irq_checks = 0,
                descriptors = 0, bad_accesses = 0, lut_commits = 0, driver_jobs = 0;
  std::map<int, std::uint64_t> outcomes;  // circa_run_job's return values in the middle of the traffic
};

class Abuser {
public:
  Abuser(Bench& b, vp& top, std::uint64_t seed, Totals& tot)
      : B(b), cpu_(top.cpu()), rng_(seed), tot_(tot), hal_(make_vp_hal(cpu_)) {}

  void run(int sequences) {
    EXPECT_EQ(circa_open(&dev_, &hal_), 0);
    circa_device_caps caps{};
    circa_caps(&dev_, &caps);
    lut_entries_ = caps.lut_entries;
    for (const RegInfo& r : reg_map())
      if (r.off >= CIRCA_REG_CAPS_K && r.off <= CIRCA_REG_CAPS_DATAPATH) cpu_.reg_read(kRegBase + r.off, caps_[r.off]);
    for (int s = 0; s < sequences && !::testing::Test::HasFailure(); ++s) {
      B.dog->arm(kSequenceBudget, "sequence " + std::to_string(s));
      const sc_time t0 = cpu_.now();
      for (int i = 0; i < kOpsPerSequence && !::testing::Test::HasFailure(); ++i) one_op(s, i);
      recover_and_check(s);
      EXPECT_LE(cpu_.now() - t0, kSequenceBudget) << "sequence " << s;
      B.dog->disarm();
      ++tot_.sequences;
    }
  }

private:
  // --- bus helpers: every access counts as one operation and is checked against the register map ----------------

  std::uint32_t read_reg(std::uint64_t off, tlm::tlm_response_status* resp = nullptr) {
    std::uint32_t v = 0;
    const auto r = cpu_.reg_read(kRegBase + off, v);
    ++tot_.accesses;
    const auto want = off < CIRCA_REG_SPACE ? expected_response(false, off) : tlm::TLM_ADDRESS_ERROR_RESPONSE;
    EXPECT_EQ(r, want) << "read of offset 0x" << std::hex << off << ": " << response_name(r);
    if (r == tlm::TLM_OK_RESPONSE) check_read(off, v);
    if (resp) *resp = r;
    return v;
  }

  void write_reg(std::uint64_t off, std::uint32_t v) {
    const auto r = cpu_.reg_write(kRegBase + off, v);
    ++tot_.accesses;
    const auto want = off < CIRCA_REG_SPACE ? expected_response(true, off) : tlm::TLM_ADDRESS_ERROR_RESPONSE;
    EXPECT_EQ(r, want) << "write of 0x" << std::hex << v << " to offset 0x" << off << ": " << response_name(r);
  }

  // What the register map promises about a value read.
  void check_read(std::uint64_t off, std::uint32_t v) {
    switch (off) {
      case CIRCA_REG_ID:
        EXPECT_EQ(v, CIRCA_ID_VALUE);
        break;
      case CIRCA_REG_VERSION:
        EXPECT_EQ(v, CIRCA_VERSION_VALUE);
        break;
      case CIRCA_REG_CTRL:
        EXPECT_EQ(v & ~CIRCA_CTRL_IRQ_EN, 0u) << "START and SOFT_RESET read as 0";
        break;
      case CIRCA_REG_IRQ_STATUS:
      case CIRCA_REG_IRQ_MASK:
        EXPECT_EQ(v & ~(CIRCA_IRQ_DONE | CIRCA_IRQ_ERROR), 0u) << "offset " << off;
        break;
      case CIRCA_REG_LUT_DATA:
      case CIRCA_REG_LUT_COMMIT:
        EXPECT_EQ(v, 0u) << "write-only registers read as 0";
        break;
      case CIRCA_REG_STATUS: {
        const std::uint32_t err = CIRCA_STATUS_ERROR(v);
        EXPECT_EQ(v & 0xFCu, 0u) << "STATUS reserved bits";
        EXPECT_LE(err, static_cast<std::uint32_t>(CIRCA_ERR_ARCH)) << "an error code outside the table";
        if (CIRCA_STATUS_STATE(v) == CIRCA_STATE_ERROR) {
          EXPECT_NE(err, 0u) << "the ERROR state with no code";
        }
        break;
      }
      default:
        if (off >= CIRCA_REG_CAPS_K && off <= CIRCA_REG_CAPS_DATAPATH) {
          EXPECT_EQ(v, caps_[off]) << "CAPS changed at offset " << off;
        }
    }
  }

  // A raw payload, for what host_cpu::access cannot express (streaming width, no data pointer, IGNORE).
  tlm::tlm_response_status raw(tlm::tlm_command cmd, std::uint64_t addr, std::uint8_t* data, unsigned len,
                               unsigned streaming_width) {
    tlm::tlm_generic_payload gp;
    gp.set_command(cmd);
    gp.set_address(addr);
    gp.set_data_ptr(data);
    gp.set_data_length(len);
    gp.set_streaming_width(streaming_width);
    gp.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
    cpu_.sync();
    sc_time delay = SC_ZERO_TIME;
    cpu_.bus->b_transport(gp, delay);
    wait(delay);
    return gp.get_response_status();
  }

  std::uint64_t any_offset() {
    const auto& m = reg_map();
    switch (rng_.next() % 8) {
      case 0:
        return (rng_.next() % (CIRCA_REG_SPACE / 4)) * 4;  // any aligned offset in the block
      case 1:
        return CIRCA_REG_SPACE + (rng_.next() % 64) * 4;  // past the block: decodes nowhere
      default:
        return m[rng_.next() % m.size()].off;  // a register
    }
  }

  // --- operations -----------------------------------------------------------------------------------------------

  // STATUS through the debug path: no side effects, no time, not an operation of the sequence.
  std::uint32_t peek_status() {
    std::uint32_t v = 0;
    tlm::tlm_generic_payload gp;
    gp.set_command(tlm::TLM_READ_COMMAND);
    gp.set_address(kRegBase + CIRCA_REG_STATUS);
    gp.set_data_ptr(reinterpret_cast<unsigned char*>(&v));
    gp.set_data_length(4);
    EXPECT_EQ(cpu_.bus->transport_dbg(gp), 4u);
    return v;
  }
  bool busy() { return CIRCA_STATUS_STATE(peek_status()) == CIRCA_STATE_BUSY; }

  void one_op(int seq, int i) {
    ++tot_.actions;
    const sc_time t0 = cpu_.now();
    sc_time bound(50, SC_US);  // register traffic: a few cycles per access, plus a quantum
    const unsigned pick = static_cast<unsigned>(rng_.next() % 100);
    if (pick < 16) {
      read_reg(any_offset());
    } else if (pick < 30) {
      write_reg(any_offset(), random_word());
    } else if (pick < 40) {
      bad_access();
    } else if (pick < 50) {
      place_descriptor();
    } else if (pick < 57) {
      set_desc_addr();
    } else if (pick < 65) {
      ++tot_.starts;
      const bool was_busy = busy();
      tot_.starts_busy += was_busy;
      write_reg(CIRCA_REG_CTRL, CIRCA_CTRL_START | (rng_.next() % 2 ? CIRCA_CTRL_IRQ_EN : 0u));
    } else if (pick < 69) {
      ++tot_.resets;
      const std::uint32_t st = peek_status();
      if (CIRCA_STATUS_STATE(st) == CIRCA_STATE_BUSY) {
        ++tot_.resets_busy;
        tot_.resets_mid_frames += CIRCA_STATUS_FRAMES(st) > 0;  // a job that validated and was computing
      }
      write_reg(CIRCA_REG_CTRL, CIRCA_CTRL_SOFT_RESET | static_cast<std::uint32_t>(rng_.next() & 5u));
    } else if (pick < 77) {
      irq_fiddle();
    } else if (pick < 82) {
      lut_load();
    } else if (pick < 91) {
      bound = wait_a_while();
    } else if (pick < 94) {
      bound = driver_job();
    } else if (pick < 97) {
      stray_ddr();
    } else {
      check_irq_line();
    }
    EXPECT_LE(cpu_.now() - t0, bound) << "sequence " << seq << " op " << i << " (pick " << pick << ")";
  }

  std::uint32_t random_word() {
    switch (rng_.next() % 6) {
      case 0:
        return 0;
      case 1:
        return 0xFFFFFFFFu;
      case 2:
        return 1u << (rng_.next() % 32);
      default:
        return static_cast<std::uint32_t>(rng_.next());
    }
  }

  void bad_access() {
    ++tot_.bad_accesses;
    std::uint8_t buf[16] = {};
    const std::uint64_t off = any_offset() & (CIRCA_REG_SPACE - 4);
    const bool wr = rng_.next() % 2;
    const tlm::tlm_command cmd = wr ? tlm::TLM_WRITE_COMMAND : tlm::TLM_READ_COMMAND;
    tlm::tlm_response_status r = tlm::TLM_OK_RESPONSE;
    const char* what = "";
    switch (rng_.next() % 7) {
      case 0: {
        static const unsigned widths[] = {1, 2, 3, 8, 16};
        r = cpu_.access(cmd, kRegBase + off, buf, widths[rng_.next() % 5]);
        what = "wrong width";
        break;
      }
      case 1: {
        std::uint8_t be[4] = {0xFF, 0xFF, 0xFF, 0xFF};
        be[rng_.next() % 4] = 0;
        r = cpu_.access(cmd, kRegBase + off, buf, 4, be, 4);
        what = "byte enables";
        break;
      }
      case 2:
        r = cpu_.access(cmd, kRegBase + off + 1 + rng_.next() % 3, buf, 4);
        what = "misaligned";
        break;
      case 3:
        r = raw(cmd, kRegBase + off, buf, 4, 1 + static_cast<unsigned>(rng_.next() % 3));
        what = "streaming width";
        break;
      case 4:
        r = raw(cmd, kRegBase + off, nullptr, 4, 4);
        what = "no data pointer";
        break;
      case 5:
        r = raw(tlm::TLM_IGNORE_COMMAND, kRegBase + off, buf, 4, 4);
        what = "IGNORE command";
        break;
      default: {
        // Between the register block and DDR, and above DDR: nothing decodes these.
        const std::uint64_t holes[] = {kRegBase - 4, kRegBase + CIRCA_REG_SPACE, kDdrBase - 4, kDdrEnd, ~0ull - 3};
        r = cpu_.access(cmd, holes[rng_.next() % 5], buf, 4);
        what = "unmapped address";
      }
    }
    ++tot_.accesses;
    EXPECT_NE(r, tlm::TLM_OK_RESPONSE) << what << " at offset 0x" << std::hex << off << " was accepted";
    EXPECT_NE(r, tlm::TLM_INCOMPLETE_RESPONSE) << what << ": the target never answered";
  }

  // A 64-byte aligned slot in the scratch area.
  std::uint64_t scratch_slot() { return kScratch + (rng_.next() % (kScratchBytes / 64 - 1024)) * 64; }

  std::uint64_t interesting_addr() {
    switch (rng_.next() % 12) {
      case 0:
        return 0;
      case 1:
        return kRegBase;  // the register block itself
      case 2:
        return kDdrEnd - 64;
      case 3:
        return kDdrEnd;
      case 4:
        return kDdrEnd + 64 * (rng_.next() % 1024);
      case 5:
        return ~0ull - 63;
      case 6:
        return scratch_slot() + 1 + rng_.next() % 63;  // misaligned
      case 7:
        return rng_.next();
      case 8:
        return kDdrBase + (rng_.next() % (kDdrSize / 64)) * 64;  // anywhere in DDR
      default:
        return scratch_slot();
    }
  }

  std::uint32_t interesting_dim(std::uint32_t good) {
    switch (rng_.next() % 10) {
      case 0:
        return 0;
      case 1:
        return 1;
      case 2:
        return 256;  // the device's largest
      case 3:
        return 257;
      case 4:
        return 0xFFFFFFFFu;
      case 5:
        return static_cast<std::uint32_t>(rng_.next() % 300);
      default:
        return good;
    }
  }

  std::uint8_t interesting_k(std::uint8_t good) {
    static const std::uint8_t ks[] = {0, 1, 2, 3, 4, 8, 16, 32, 64, 128, 255};
    return rng_.next() % 2 ? good : ks[rng_.next() % sizeof ks];
  }

  std::uint64_t maybe_addr(std::uint64_t good) { return rng_.next() % 3 ? good : interesting_addr(); }

  std::uint64_t good_desc() { return rng_.next() % 2 ? B.job.desc_addr : B.long_job.desc_addr; }

  // Bytes of a descriptor: garbage, random fields, or the good one with a few mutations.
  std::string make_descriptor() {
    const JobDesc& good = B.job.desc;
    switch (rng_.next() % 4) {
      case 0: {  // garbage, sometimes behind a valid magic and version so the header parser goes further
        std::string s(64 + 128 * (rng_.next() % 4), '\0');
        for (char& c : s) c = static_cast<char>(rng_.next());
        if (rng_.next() % 2) s.replace(0, 6, serialize_descriptor(good).substr(0, 6));
        return s;
      }
      case 1: {  // random fields, each either the good value or an interesting one
        JobDesc d = good;
        d.arch = rng_.next() % 4 ? good.arch : Arch::gru;
        if (rng_.next() % 4 == 0)
          d.act = QFormat{static_cast<int>(rng_.next() % 20), static_cast<int>(rng_.next() % 20)};
        if (rng_.next() % 4 == 0) d.rounding = Rounding::half_up;
        d.frames = rng_.next() % 3 ? good.frames : interesting_dim(good.frames);
        d.input_dim = interesting_dim(good.input_dim);
        d.classes = interesting_dim(good.classes);
        d.input = maybe_addr(good.input);
        d.output = maybe_addr(good.output);
        d.out_w = maybe_addr(good.out_w);
        d.out_b = maybe_addr(good.out_b);
        const std::size_t n = rng_.next() % 4 ? good.layers.size() : rng_.next() % 11;
        d.layers.resize(n, good.layers.front());
        for (LayerDesc& L : d.layers) {
          L.in_dim = interesting_dim(L.in_dim);
          L.cell = interesting_dim(L.cell);
          L.proj = interesting_dim(L.proj);
          L.k_x = interesting_k(L.k_x);
          L.k_r = interesting_k(L.k_r);
          L.k_proj = interesting_k(L.k_proj);
          for (std::uint64_t* a : {&L.w_x, &L.w_r, &L.w_proj, &L.bias, &L.bias_r, &L.peep, &L.state})
            *a = maybe_addr(*a);
        }
        return serialize_descriptor(d);
      }
      default: {  // the good descriptor, one to three bytes changed
        std::string s = serialize_descriptor(good);
        const int n = 1 + static_cast<int>(rng_.next() % 3);
        for (int i = 0; i < n; ++i) {
          const std::size_t at = rng_.next() % s.size();
          if (rng_.next() % 2)
            s[at] = static_cast<char>(s[at] ^ (1 << (rng_.next() % 8)));
          else
            s[at] = static_cast<char>(rng_.next());
        }
        return s;
      }
    }
  }

  void place_descriptor() {
    ++tot_.descriptors;
    const std::string bytes = make_descriptor();
    std::uint64_t at = scratch_slot();
    // Now and then right at the end of DDR, so the header fits and the layer records do not.
    if (rng_.next() % 8 == 0) at = kDdrEnd - 64;
    const std::size_t n = std::min<std::uint64_t>(bytes.size(), kDdrEnd - at);
    EXPECT_EQ(circa_mem_write(&dev_, at, bytes.data(), n), 0);
    ++tot_.accesses;
    write_reg(CIRCA_REG_DESC_LO, static_cast<std::uint32_t>(at));
    write_reg(CIRCA_REG_DESC_HI, static_cast<std::uint32_t>(at >> 32));
  }

  void set_desc_addr() {
    const std::uint64_t a = rng_.next() % 2 ? interesting_addr() : good_desc();
    write_reg(CIRCA_REG_DESC_LO, static_cast<std::uint32_t>(a));
    if (rng_.next() % 4) write_reg(CIRCA_REG_DESC_HI, static_cast<std::uint32_t>(a >> 32));
  }

  void irq_fiddle() {
    switch (rng_.next() % 4) {
      case 0:
        write_reg(CIRCA_REG_IRQ_STATUS, random_word());
        break;
      case 1:
        write_reg(CIRCA_REG_IRQ_MASK, random_word());
        break;
      case 2:
        write_reg(CIRCA_REG_CTRL, rng_.next() % 2 ? CIRCA_CTRL_IRQ_EN : 0u);
        break;
      default: {  // read-then-clear what is pending, as an interrupt handler would, at whatever moment this is
        const std::uint32_t pending = read_reg(CIRCA_REG_IRQ_STATUS);
        write_reg(CIRCA_REG_IRQ_STATUS, pending);
      }
    }
  }

  void lut_load() {
    const std::uint32_t fn = static_cast<std::uint32_t>(rng_.next() % 2);
    if (rng_.next() % 4 == 0) {
      // A whole table of random words through the driver: the device accepts it or says why not.
      std::vector<std::int32_t> t(lut_entries_);
      for (auto& v : t) v = static_cast<std::int32_t>(rng_.next() % 512) - 256;
      EXPECT_EQ(circa_load_lut(&dev_, fn, t.data(), t.size()), 0);
      tot_.accesses += t.size() + 2;
      ++tot_.lut_commits;
      return;
    }
    const std::uint32_t start = rng_.next() % 2 ? static_cast<std::uint32_t>(rng_.next() % (lut_entries_ + 8))
                                                : static_cast<std::uint32_t>(rng_.next() & 0xFFFFFF);
    write_reg(CIRCA_REG_LUT_SEL, CIRCA_FIELD_SET(LUT_SEL, FN, fn) | CIRCA_FIELD_SET(LUT_SEL, INDEX, start));
    const int words = static_cast<int>(rng_.next() % 12);
    for (int i = 0; i < words; ++i) write_reg(CIRCA_REG_LUT_DATA, random_word());
    if (rng_.next() % 3) {
      write_reg(CIRCA_REG_LUT_COMMIT, rng_.next() % 4 ? 1u : random_word());
      ++tot_.lut_commits;
    }
  }

  sc_time wait_a_while() {
    ++tot_.accesses;
    if (rng_.next() % 2) {
      const sc_time t(static_cast<double>(rng_.next() % 30000), sc_core::SC_NS);
      cpu_.sync();
      wait(t);
      return t + sc_time(2, SC_US);
    }
    const sc_time timeout(static_cast<double>(rng_.next() % 50000), sc_core::SC_NS);
    const int r = cpu_.wait_irq(timeout);
    EXPECT_TRUE(r == 0 || r == 1);
    return timeout + sc_time(2, SC_US);
  }

  // The driver's own job path in the middle of the mess: any outcome the driver can name is fine.
  sc_time driver_job() {
    ++tot_.driver_jobs;
    const std::uint64_t addr = rng_.next() % 3 ? good_desc() : interesting_addr();
    const int r = circa_run_job(&dev_, addr, 300000);
    tot_.accesses += 6;  // five register writes, the wait and its reads
    EXPECT_STRNE(circa_strerror(r), "unknown error code") << r;
    EXPECT_STRNE(circa_strerror(r), "unknown device error code") << r;
    ++tot_.outcomes[r];
    return sc_time(400, SC_US);
  }

  void stray_ddr() {
    ++tot_.accesses;
    std::uint8_t buf[64];
    for (auto& b : buf) b = static_cast<std::uint8_t>(rng_.next());
    const std::size_t n = 1 + rng_.next() % sizeof buf;
    // Over the model and the job's buffers too: the host repairs them before the check, as a real host would.
    const std::uint64_t at =
        rng_.next() % 2 ? kDdrBase + 0x1000 + rng_.next() % (B.long_job.end - kDdrBase - 0x1000) : interesting_addr();
    const bool in_ddr = at >= kDdrBase && at < kDdrEnd && kDdrEnd - at >= n;
    const int w = rng_.next() % 2 ? cpu_.mem_write(at, buf, n) : cpu_.mem_read(at, buf, n);
    // Reads and writes inside DDR succeed; outside, any failure is reported and none crashes.
    if (in_ddr) {
      EXPECT_EQ(w, 0) << "DDR access at 0x" << std::hex << at;
    }
  }

  // The line is high exactly while IRQ_EN and (IRQ_STATUS & IRQ_MASK) != 0. Checked on a snapshot that held still
  // across a delta cycle (so the signal has taken the value written with the registers).
  void check_irq_line() {
    auto snapshot = [&]() {
      const std::uint32_t st = read_reg(CIRCA_REG_IRQ_STATUS), mask = read_reg(CIRCA_REG_IRQ_MASK),
                          ctrl = read_reg(CIRCA_REG_CTRL);
      return std::array<std::uint32_t, 3>{st, mask, ctrl};
    };
    cpu_.sync();
    const auto a = snapshot();
    wait(SC_ZERO_TIME);
    const bool line = cpu_.irq.read();
    const auto b = snapshot();
    if (a != b) return;
    ++tot_.irq_checks;
    const bool want = (a[2] & CIRCA_CTRL_IRQ_EN) && (a[0] & a[1]);
    EXPECT_EQ(line, want) << "IRQ_STATUS " << a[0] << " IRQ_MASK " << a[1] << " CTRL " << a[2];
  }

  // --- after every sequence: soft reset, then a real job, bit-exact ------------------------------------------------

  void recover_and_check(int seq) {
    ASSERT_EQ(circa_reset(&dev_), 0) << "sequence " << seq << ": soft reset did not bring the device back to idle";
    ++tot_.accesses;
    std::uint32_t status = read_reg(CIRCA_REG_STATUS);
    EXPECT_EQ(CIRCA_STATUS_STATE(status), static_cast<std::uint32_t>(CIRCA_STATE_IDLE)) << "sequence " << seq;
    EXPECT_EQ(CIRCA_STATUS_ERROR(status), 0u) << "sequence " << seq;
    EXPECT_EQ(read_reg(CIRCA_REG_IRQ_STATUS), 0u) << "sequence " << seq;
    EXPECT_EQ(read_reg(CIRCA_REG_IRQ_MASK), 0u) << "sequence " << seq;
    EXPECT_EQ(read_reg(CIRCA_REG_CTRL), 0u) << "sequence " << seq;
    wait(SC_ZERO_TIME);
    EXPECT_FALSE(cpu_.irq.read()) << "sequence " << seq << ": IRQ line high after soft reset";
    // The host's part: put the model, the frames, the zero state and the descriptor back where stray writes and
    // wild jobs may have scribbled.
    for (const MemRegion& r : B.rt->model_regions())
      ASSERT_EQ(circa_mem_write(&dev_, r.addr, r.bytes.data(), r.bytes.size()), 0);
    for (const HostRuntime::Job* j : {&B.job, &B.long_job})
      for (const MemRegion& r : j->regions)
        ASSERT_EQ(circa_mem_write(&dev_, r.addr, r.bytes.data(), r.bytes.size()), 0);
    const int e = circa_run_job(&dev_, B.job.desc_addr, 1000000000ull);
    ASSERT_EQ(e, 0) << "sequence " << seq << ": the job after the reset failed: " << circa_strerror(e);
    std::string out(B.job.output_bytes, '\0');
    ASSERT_EQ(circa_mem_read(&dev_, B.job.output_addr, out.data(), out.size()), 0);
    EXPECT_EQ(B.rt->unpack_output(out, kFrames).data, B.golden) << "sequence " << seq << ": outputs differ";
    circa_counters c{};
    ASSERT_EQ(circa_read_counters(&dev_, &c), 0);
    EXPECT_EQ(c.frames, static_cast<std::uint32_t>(kFrames));
    tot_.accesses += 12;
    ++tot_.checked_jobs;
  }

  Bench& B;
  host_cpu& cpu_;
  Rng rng_;
  Totals& tot_;
  circa_hal hal_;
  circa_dev dev_{};
  std::uint32_t lut_entries_ = 0;
  std::uint32_t caps_[CIRCA_REG_CAPS_DATAPATH + 4] = {};
};

}  // namespace

TEST(Abuse, RandomRegisterTrafficNeverWedgesTheDevice) {
  Bench& B = bench();
  Totals tot;
  const std::uint64_t seeds[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
  constexpr int kSequences = 12;
  for (std::size_t i = 0; i < std::size(seeds) && !HasFailure(); ++i) {
    Platform& p = B.platforms[i % B.platforms.size()];
    SCOPED_TRACE(std::string("seed ") + std::to_string(seeds[i]) + " on " + p.name);
    B.run(*p.top, [&](host_cpu&) { Abuser(B, *p.top, seeds[i], tot).run(kSequences); });
    ++tot.seeds;
  }
  std::printf("register abuse: %" PRIu64 " random operations (%" PRIu64 " bus accesses) in %" PRIu64
              " sequences over %" PRIu64 " seeds, on %zu platforms\n",
              tot.actions, tot.accesses, tot.sequences, tot.seeds, B.platforms.size());
  std::printf("  %" PRIu64 " STARTs (%" PRIu64 " while busy), %" PRIu64 " soft resets (%" PRIu64 " mid-job, %" PRIu64
              " after frames were computed), %" PRIu64 " descriptors, %" PRIu64 " bad accesses, %" PRIu64
              " LUT commits, %" PRIu64 " driver jobs, %" PRIu64 " IRQ line checks\n",
              tot.starts, tot.starts_busy, tot.resets, tot.resets_busy, tot.resets_mid_frames, tot.descriptors,
              tot.bad_accesses, tot.lut_commits, tot.driver_jobs, tot.irq_checks);
  std::printf("  driver jobs' outcomes (code: count):");
  for (const auto& [code, n] : tot.outcomes) std::printf(" %d:%" PRIu64, code, n);
  std::printf("\n  after every sequence: soft reset, then a job bit-exact with the golden model: %" PRIu64
              " of %" PRIu64 "\n",
              tot.checked_jobs, tot.sequences);
  EXPECT_GE(tot.actions, 10000u);
  EXPECT_EQ(tot.checked_jobs, tot.sequences);
}

// With no register latency, a CTRL write's synchronisation is a single delta cycle, so START, the job thread's
// wake-up and a SOFT_RESET right behind it share delta cycles. The reset must still leave the device idle (a job
// that never began has nothing to abort) and ready for the next job. Polled with time advancing between reads,
// since STATUS reads alone would not move simulated time on this platform.
TEST(Abuse, SoftResetInTheDeltaCycleOfStartLeavesTheDeviceIdle) {
  Bench& B = bench();
  vp& top = *B.fastreg;
  B.run(top, [&](host_cpu& cpu) {
    circa_hal hal = make_vp_hal(cpu);
    circa_dev dev{};
    ASSERT_EQ(circa_open(&dev, &hal), 0);
    for (const MemRegion& r : B.rt->model_regions())
      ASSERT_EQ(circa_mem_write(&dev, r.addr, r.bytes.data(), r.bytes.size()), 0);
    for (int gap = 0; gap < 3; ++gap) {
      SCOPED_TRACE("delta cycles between START and SOFT_RESET: " + std::to_string(gap));
      for (const MemRegion& r : B.job.regions)
        ASSERT_EQ(circa_mem_write(&dev, r.addr, r.bytes.data(), r.bytes.size()), 0);
      cpu.sync();
      cpu.reg_write(kRegBase + CIRCA_REG_DESC_LO, static_cast<std::uint32_t>(B.job.desc_addr));
      cpu.reg_write(kRegBase + CIRCA_REG_DESC_HI, static_cast<std::uint32_t>(B.job.desc_addr >> 32));
      cpu.reg_write(kRegBase + CIRCA_REG_CTRL, CIRCA_CTRL_START);
      for (int i = 0; i < gap; ++i) wait(SC_ZERO_TIME);
      cpu.reg_write(kRegBase + CIRCA_REG_CTRL, CIRCA_CTRL_SOFT_RESET);
      std::uint32_t status = CIRCA_STATE_BUSY;
      for (int i = 0; i < 1000 && CIRCA_STATUS_STATE(status) != CIRCA_STATE_IDLE; ++i) {
        wait(sc_time(1, SC_US));
        cpu.reg_read(kRegBase + CIRCA_REG_STATUS, status);
      }
      EXPECT_EQ(CIRCA_STATUS_STATE(status), static_cast<std::uint32_t>(CIRCA_STATE_IDLE)) << "stuck busy";
      const int e = circa_run_job(&dev, B.job.desc_addr, 1000000000ull);
      EXPECT_EQ(e, 0) << circa_strerror(e);
      std::string out(B.job.output_bytes, '\0');
      ASSERT_EQ(circa_mem_read(&dev, B.job.output_addr, out.data(), out.size()), 0);
      EXPECT_EQ(B.rt->unpack_output(out, kFrames).data, B.golden);
    }
  });
}
