// The virtual platform driven through the C driver, as a driver developer would: the data really flows through
// the modeled DDR, every error code the device has is reachable and reported (through STATUS and the IRQ, never an
// abort), bad bus traffic gets TLM error responses, START while busy and soft reset mid-job leave the device usable.
// One elaboration: two platforms (default numerics, and a 32-bit accumulator) built once, programs run in turn.
#include <gtest/gtest.h>

#include <memory>

#include "core/golden.hpp"
#include "core/rng.hpp"
#include "platform/vp_run.hpp"
#include "hwif/circa_regs.h"

using namespace circa;
using sc_core::sc_time;

namespace {

Model small_model(std::uint64_t seed) {
  SynthSpec s;
  s.input_dim = 40;
  s.cell_dim = 32;
  s.proj_dim = 16;
  s.layers = 2;
  s.block = {8, 4};
  s.seed = seed;
  return synth_model(s);
}

std::vector<Utterance> utterances(int n, int frames) {
  Rng rng(9);
  std::vector<Utterance> u(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    u[i].key = "u" + std::to_string(i);
    u[i].mat = Matrix(static_cast<std::size_t>(frames), 40);
    for (float& v : u[i].mat.data) v = static_cast<float>(rng.normal());
  }
  return u;
}

struct Bench {
  Numerics num, num32;
  Model model = small_model(4);
  VpConfig cfg;
  std::unique_ptr<vp> a, b;  // b: 32-bit accumulators
  std::unique_ptr<HostRuntime> rt;
  Bench() {
    num32.acc_bits = 32;
    a = std::make_unique<vp>("vp_a", cfg, num);
    b = std::make_unique<vp>("vp_b", cfg, num32);
    a->cpu().set_stop_at_end(false);
    b->cpu().set_stop_at_end(false);
    rt = std::make_unique<HostRuntime>(model, num, kDdrBase + 0x1000);
  }
  // Runs `prog` on a platform's CPU until it returns.
  void run(vp& top, const std::function<void(host_cpu&)>& prog) {
    top.cpu().set_program(prog);
    sc_core::sc_start();
    ASSERT_TRUE(top.cpu().finished());
  }
};

Bench& bench() {
  static Bench b;
  return b;
}

struct Dev {
  circa_hal hal;
  circa_dev dev;
  explicit Dev(host_cpu& cpu) : hal(make_vp_hal(cpu)) { EXPECT_EQ(circa_open(&dev, &hal), 0); }
};

// Packs one utterance and writes everything but the descriptor; returns the job.
HostRuntime::Job stage(Dev& d, const HostRuntime& rt, const Matrix& feats) {
  SatCounters sat;
  for (const MemRegion& r : rt.model_regions()) circa_mem_write(&d.dev, r.addr, r.bytes.data(), r.bytes.size());
  HostRuntime::Job job = rt.pack_job(feats, rt.model_end(), sat);
  for (const MemRegion& r : job.regions) circa_mem_write(&d.dev, r.addr, r.bytes.data(), r.bytes.size());
  return job;
}

void write_desc(Dev& d, const HostRuntime::Job& job, const JobDesc& desc) {
  const std::string bytes = serialize_descriptor(desc);
  ASSERT_EQ(circa_mem_write(&d.dev, job.desc_addr, bytes.data(), bytes.size()), 0);
}

}  // namespace

TEST(Vp, OutputsAreBitExactAndCorruptingOneWeightWordInDdrChangesThem) {
  Bench& B = bench();
  auto utts = utterances(1, 12);
  FixedGolden golden(B.model, B.num);
  const Matrix ref = golden.run(utts[0].mat);
  VpRunResult clean, corrupt, restored;
  B.run(*B.a, [&](host_cpu&) { vp_program(*B.a, *B.rt, utts, clean); });
  ASSERT_EQ(clean.driver_error, 0) << clean.error;
  EXPECT_EQ(clean.outputs[0].mat.data, ref.data);  // bit-exact with the golden model

  // Flip one packed weight word of layer 0's W_x in the modeled DDR after the load.
  const std::uint64_t w_x = B.rt->model_regions()[0].addr;
  std::uint16_t word = 0;
  auto hook = [&](vp& top, std::uint64_t) {
    ASSERT_TRUE(top.ddr().peek(w_x - kDdrBase + 64, reinterpret_cast<std::uint8_t*>(&word), 2));
    const std::uint16_t bad = static_cast<std::uint16_t>(word ^ 0x0F00);
    ASSERT_TRUE(top.ddr().poke(w_x - kDdrBase + 64, reinterpret_cast<const std::uint8_t*>(&bad), 2));
  };
  B.run(*B.a, [&](host_cpu&) { vp_program(*B.a, *B.rt, utts, corrupt, hook); });
  ASSERT_EQ(corrupt.driver_error, 0) << corrupt.error;
  EXPECT_NE(corrupt.outputs[0].mat.data, ref.data);
  // The functional model does not read the modeled DDR: its output is the reference, unchanged.
  FixedGolden again(B.model, B.num);
  EXPECT_EQ(again.run(utts[0].mat).data, ref.data);
  // vp_program reloads the model each run, which repairs the word: bit-exact again.
  B.run(*B.a, [&](host_cpu&) { vp_program(*B.a, *B.rt, utts, restored); });
  EXPECT_EQ(restored.outputs[0].mat.data, ref.data);
}

TEST(Vp, EveryDescriptorErrorCodeIsReportedThroughTheDriver) {
  Bench& B = bench();
  auto utts = utterances(1, 3);
  struct Case {
    const char* what;
    int expect;
    std::function<void(JobDesc&, std::uint64_t&)> mutate;  // the descriptor and its address
  };
  const std::uint64_t ddr_end = kDdrBase + B.cfg.ddr.size_bytes;
  std::vector<Case> cases = {
      {"descriptor outside DDR", CIRCA_ERR_DESC_ADDR, [&](JobDesc&, std::uint64_t& a) { a = ddr_end + 4096; }},
      {"descriptor misaligned", CIRCA_ERR_DESC_ALIGN, [](JobDesc&, std::uint64_t& a) { a += 8; }},
      {"input outside DDR", CIRCA_ERR_ADDR_RANGE, [&](JobDesc& d, std::uint64_t&) { d.input = ddr_end - 64; }},
      {"output misaligned", CIRCA_ERR_ADDR_ALIGN, [](JobDesc& d, std::uint64_t&) { d.output += 2; }},
      {"k = 3", CIRCA_ERR_BLOCK_SIZE, [](JobDesc& d, std::uint64_t&) { d.layers[0].k_x = 3; }},
      {"Q format", CIRCA_ERR_BITS, [](JobDesc& d, std::uint64_t&) { d.act = QFormat{6, 10}; }},
      {"too many layers", CIRCA_ERR_CAPACITY, [](JobDesc& d, std::uint64_t&) { d.layers.resize(9, d.layers[0]); }},
      {"cells not a multiple of k", CIRCA_ERR_DIMS, [](JobDesc& d, std::uint64_t&) { d.layers[0].cell = 36; }},
      {"unknown arch", CIRCA_ERR_ARCH, [](JobDesc&, std::uint64_t&) {}},  // patched in the bytes below
  };
  B.run(*B.a, [&](host_cpu& cpu) {
    Dev d(cpu);
    HostRuntime::Job job = stage(d, *B.rt, utts[0].mat);
    for (const Case& c : cases) {
      JobDesc desc = job.desc;
      std::uint64_t addr = job.desc_addr;
      c.mutate(desc, addr);
      std::string bytes = serialize_descriptor(desc);
      if (c.expect == CIRCA_ERR_ARCH) bytes[8] = 7;
      if (addr < ddr_end) {
        ASSERT_EQ(circa_mem_write(&d.dev, job.desc_addr, bytes.data(), bytes.size()), 0);
      }
      EXPECT_EQ(circa_run_job(&d.dev, addr, 10000000), c.expect) << c.what;
      std::uint32_t status = 0;
      cpu.reg_read(kRegBase + CIRCA_REG_STATUS, status);
      EXPECT_EQ(CIRCA_STATUS_STATE(status), static_cast<std::uint32_t>(CIRCA_STATE_ERROR)) << c.what;
      EXPECT_EQ(CIRCA_STATUS_ERROR(status), static_cast<std::uint32_t>(c.expect)) << c.what;
    }
    // Bad magic.
    std::string bytes = serialize_descriptor(job.desc);
    bytes[0] = 'X';
    circa_mem_write(&d.dev, job.desc_addr, bytes.data(), bytes.size());
    EXPECT_EQ(circa_run_job(&d.dev, job.desc_addr, 10000000), CIRCA_ERR_DESC_FORMAT);
    // And after all of that, a good job runs.
    write_desc(d, job, job.desc);
    EXPECT_EQ(circa_run_job(&d.dev, job.desc_addr, 1000000000), 0);
  });
}

TEST(Vp, AccumulatorTooNarrowForTheWeightsIsAnErrorCode) {
  Bench& B = bench();
  auto utts = utterances(1, 2);
  // Platform b has 32-bit accumulators; the runtime packs for 48 bits, and the device's bound check refuses.
  B.run(*B.b, [&](host_cpu& cpu) {
    Dev d(cpu);
    HostRuntime::Job job = stage(d, *B.rt, utts[0].mat);
    // Large weight words: every (re, im) of layer 0's W_x set to 30000.
    const MemRegion& wx = B.rt->model_regions()[0];
    std::string big(wx.bytes.size(), '\0');
    for (std::size_t i = 0; i + 1 < big.size(); i += 2) {
      big[i] = static_cast<char>(30000 & 0xFF);
      big[i + 1] = static_cast<char>(30000 >> 8);
    }
    circa_mem_write(&d.dev, wx.addr, big.data(), big.size());
    EXPECT_EQ(circa_run_job(&d.dev, job.desc_addr, 100000000), CIRCA_ERR_ACCUMULATOR);
  });
}

TEST(Vp, StartWhileBusyIsRefusedAndTheRunningJobFinishes) {
  Bench& B = bench();
  auto utts = utterances(1, 40);
  B.run(*B.a, [&](host_cpu&) {
    Dev d(*&B.a->cpu());
    HostRuntime::Job job = stage(d, *B.rt, utts[0].mat);
    ASSERT_EQ(circa_start_job(&d.dev, job.desc_addr), 0);
    // A second START at once: the device is busy.
    ASSERT_EQ(circa_start_job(&d.dev, job.desc_addr), 0);
    EXPECT_EQ(circa_wait_job(&d.dev, 1000000000), CIRCA_ERR_BUSY);
    // The first job still completes, and the device takes the next one.
    std::uint32_t status = 0;
    for (int i = 0; i < 1000 && CIRCA_STATUS_STATE(status) != CIRCA_STATE_DONE; ++i) {
      wait(sc_time(10, sc_core::SC_US));
      B.a->cpu().reg_read(kRegBase + CIRCA_REG_STATUS, status);
    }
    EXPECT_EQ(CIRCA_STATUS_STATE(status), static_cast<std::uint32_t>(CIRCA_STATE_DONE));
    EXPECT_EQ(CIRCA_STATUS_FRAMES(status), 40u);
    EXPECT_EQ(circa_run_job(&d.dev, job.desc_addr, 1000000000), 0);
  });
}

// The PERF counters count the running job: read mid-job they are between zero and the job's final values, and
// every 64-bit pair reads as one sample (LO latches HI).
TEST(Vp, PerfCountersAreLiveWhileAJobRuns) {
  Bench& B = bench();
  auto utts = utterances(1, 40);
  B.run(*B.a, [&](host_cpu&) {
    Dev d(B.a->cpu());
    HostRuntime::Job job = stage(d, *B.rt, utts[0].mat);
    ASSERT_EQ(circa_start_job(&d.dev, job.desc_addr), 0);
    wait(sc_time(20, sc_core::SC_US));  // some frames in
    circa_counters mid{}, end{};
    ASSERT_EQ(circa_read_counters(&d.dev, &mid), 0);
    ASSERT_EQ(circa_wait_job(&d.dev, 1000000000), 0);
    ASSERT_EQ(circa_read_counters(&d.dev, &end), 0);
    EXPECT_GT(mid.cycles, 0u);
    EXPECT_LT(mid.cycles, end.cycles);
    EXPECT_GT(mid.frames, 0u);
    EXPECT_LT(mid.frames, end.frames);
    EXPECT_EQ(end.frames, 40u);
    EXPECT_GT(mid.emac_busy, 0u);
    EXPECT_LT(mid.emac_busy, end.emac_busy);
    EXPECT_LT(mid.fft_busy, end.fft_busy);
    EXPECT_LT(mid.ddr_rd_bytes, end.ddr_rd_bytes);
    // The device's own totals at the end are what the registers gave.
    EXPECT_EQ(end.emac_busy, B.a->accel().counters().emac_busy);
    EXPECT_EQ(end.cycles, B.a->accel().counters().cycles);
  });
}

// A job whose waves the controller times itself (decoupled) must look, from the bus, exactly like one whose tiles all
// run through the units' processes (lockstep): the PERF counters read at odd times in the middle of waves, and a
// soft reset in the middle of a wave (the tiles issued before it finish, no later one starts), give the same values.
// Each sampled job follows a whole job, so that the DDR's state is the same at its start, and starts on a whole
// millisecond; the lockstep run is repeated as the control.
TEST(Vp, MidWaveCountersAndResetReadTheSameDecoupledAsInLockstep) {
  Bench& B = bench();
  auto utts = utterances(1, 40);
  struct Sampled {
    std::vector<std::uint64_t> values;
    std::uint64_t tiles_after_reset = 0;
  };
  struct Pattern {
    int first_ns, step_ns, reset_ns;
  };
  for (const Pattern& pat : {Pattern{370, 13, 1234}, Pattern{250, 7, 2011}, Pattern{500, 29, 777}, Pattern{100, 3, 5003}}) {
  SCOPED_TRACE("samples from " + std::to_string(pat.first_ns) + " ns, every " + std::to_string(pat.step_ns) +
               " ns more; reset " + std::to_string(pat.reset_ns) + " ns after the last");
  auto sample = [&](bool lockstep) {
    Sampled out;
    B.a->accel().set_lockstep(lockstep);
    B.run(*B.a, [&](host_cpu& cpu) {
      Dev d(cpu);
      HostRuntime::Job job = stage(d, *B.rt, utts[0].mat);
      ASSERT_EQ(circa_run_job(&d.dev, job.desc_addr, 1000000000), 0);
      const std::uint64_t tiles0 = B.a->accel().emac().stats().tiles + B.a->accel().act().stats().tiles;
      // Start on a whole millisecond, so that the job meets the clock and the host's quantum in the same phase.
      cpu.sync();
      const sc_time ms(1, sc_core::SC_MS);
      wait(ms - sc_time::from_value(sc_core::sc_time_stamp().value() % ms.value()));
      ASSERT_EQ(circa_start_job(&d.dev, job.desc_addr), 0);
      for (int i = 0; i < 40; ++i) {
        wait(sc_time(pat.first_ns + pat.step_ns * i, sc_core::SC_NS));
        circa_counters c{};
        ASSERT_EQ(circa_read_counters(&d.dev, &c), 0);
        for (std::uint64_t v : {c.cycles, c.fft_busy, c.emac_busy, c.ifft_busy, c.act_busy, c.cell_busy, c.stall,
                                c.ddr_rd_bytes, std::uint64_t{c.saturations}, std::uint64_t{c.frames}})
          out.values.push_back(v);
      }
      wait(sc_time(pat.reset_ns, sc_core::SC_NS));
      EXPECT_EQ(circa_reset(&d.dev), 0);
      std::uint32_t status = 0;
      cpu.reg_read(kRegBase + CIRCA_REG_STATUS, status);
      out.values.push_back(CIRCA_STATUS_FRAMES(status));
      out.values.push_back(B.a->accel().counters().cycles);
      out.values.push_back(B.a->accel().counters().emac_busy);
      out.values.push_back(B.a->accel().counters().stall);
      out.tiles_after_reset = B.a->accel().emac().stats().tiles + B.a->accel().act().stats().tiles - tiles0;
    });
    B.a->accel().set_lockstep(false);
    return out;
  };
  const std::uint64_t decoupled_before = B.a->accel().decoupled_waves();
  const Sampled ref = sample(true);
  const std::uint64_t decoupled_mid = B.a->accel().decoupled_waves();
  const Sampled fast = sample(false);
  const Sampled control = sample(true);
  EXPECT_EQ(decoupled_mid, decoupled_before);                  // the lockstep run decoupled nothing
  EXPECT_GT(B.a->accel().decoupled_waves(), decoupled_mid);  // the other did
  ASSERT_EQ(control.values, ref.values) << "the lockstep runs differ: the DDR's state is not the same at the start";
  for (std::size_t i = 0; i < ref.values.size() && i < fast.values.size(); ++i)
    if (fast.values[i] != ref.values[i]) {
      ADD_FAILURE() << "first difference: sample " << i / 10 << ", value " << i % 10 << " (cycles, fft, emac, ifft, "
                    << "act, cell busy, stall, ddr read, saturations, frames; after the 40 samples: frames, cycles, "
                    << "emac busy, stall after the reset): " << fast.values[i] << " decoupled, " << ref.values[i]
                    << " in lockstep";
      break;
    }
  EXPECT_EQ(fast.values.size(), ref.values.size());
  EXPECT_EQ(fast.tiles_after_reset, ref.tiles_after_reset);
  EXPECT_GT(ref.values[ref.values.size() - 4 - 1], 0u);  // the reset came after some frames
  }
}

TEST(Vp, SoftResetMidJobLeavesTheDeviceUsable) {
  Bench& B = bench();
  auto utts = utterances(1, 40);
  B.run(*B.a, [&](host_cpu& cpu) {
    Dev d(cpu);
    HostRuntime::Job job = stage(d, *B.rt, utts[0].mat);
    ASSERT_EQ(circa_start_job(&d.dev, job.desc_addr), 0);
    wait(sc_time(20, sc_core::SC_US));  // some frames in
    EXPECT_EQ(circa_reset(&d.dev), 0);
    std::uint32_t status = 0;
    cpu.reg_read(kRegBase + CIRCA_REG_STATUS, status);
    EXPECT_EQ(CIRCA_STATUS_STATE(status), static_cast<std::uint32_t>(CIRCA_STATE_IDLE));
    EXPECT_LT(CIRCA_STATUS_FRAMES(status), 40u);
    EXPECT_EQ(circa_run_job(&d.dev, job.desc_addr, 1000000000), 0);
    cpu.reg_read(kRegBase + CIRCA_REG_STATUS, status);
    EXPECT_EQ(CIRCA_STATUS_FRAMES(status), 40u);
  });
}

TEST(Vp, RingJobWaitsForRingHeadAndSoftResetEndsTheWait) {
  Bench& B = bench();
  auto utts = utterances(1, 6);
  B.run(*B.a, [&](host_cpu& cpu) {
    Dev d(cpu);
    SatCounters sat;
    for (const MemRegion& r : B.rt->model_regions()) circa_mem_write(&d.dev, r.addr, r.bytes.data(), r.bytes.size());
    HostRuntime::Job job = B.rt->pack_streams({&utts[0].mat}, B.rt->model_end(), 2, sat);
    for (const MemRegion& r : job.regions) circa_mem_write(&d.dev, r.addr, r.bytes.data(), r.bytes.size());
    const HostRuntime::StreamIo& io = job.streams[0];
    auto feed = [&](std::uint32_t t) {
      ASSERT_EQ(circa_mem_write(&d.dev, job.input_slot(0, t), io.input.data() + t * io.frame_bytes, io.frame_bytes),
                0);
    };
    ASSERT_EQ(circa_ring_push(&d.dev, 0), 0);
    ASSERT_EQ(circa_start_job(&d.dev, job.desc_addr), 0);
    feed(0);
    feed(1);
    ASSERT_EQ(circa_ring_push(&d.dev, 2), 0);
    wait(sc_time(100, sc_core::SC_US));  // far longer than two frames: the device is waiting for frame 2
    std::uint32_t tail = 0, status = 0;
    ASSERT_EQ(circa_ring_tail(&d.dev, &tail), 0);
    EXPECT_EQ(tail, 2u);
    cpu.reg_read(kRegBase + CIRCA_REG_STATUS, status);
    EXPECT_EQ(CIRCA_STATUS_STATE(status), static_cast<std::uint32_t>(CIRCA_STATE_BUSY));
    EXPECT_EQ(CIRCA_STATUS_FRAMES(status), 2u);
    // A soft reset ends the wait; RING_HEAD and RING_TAIL return to 0.
    EXPECT_EQ(circa_reset(&d.dev), 0);
    ASSERT_EQ(circa_ring_tail(&d.dev, &tail), 0);
    EXPECT_EQ(tail, 0u);
    std::uint32_t head = 1;
    cpu.reg_read(kRegBase + CIRCA_REG_RING_HEAD, head);
    EXPECT_EQ(head, 0u);
    // Fed in full, the ring job completes, and its outputs are the golden model's.
    for (const MemRegion& r : job.regions) circa_mem_write(&d.dev, r.addr, r.bytes.data(), r.bytes.size());
    ASSERT_EQ(circa_start_job(&d.dev, job.desc_addr), 0);
    for (std::uint32_t t = 0; t < 6; ++t) {
      while (t >= 2) {  // slot t mod 2 is free once the device has finished frame t - 2
        ASSERT_EQ(circa_ring_tail(&d.dev, &tail), 0);
        if (tail > t - 2) break;
        wait(sc_time(1, sc_core::SC_US));
      }
      feed(t);
      ASSERT_EQ(circa_ring_push(&d.dev, t + 1), 0);
    }
    ASSERT_EQ(circa_wait_job(&d.dev, 1000000000), 0);
    std::string out(io.output_bytes, '\0');
    ASSERT_EQ(circa_mem_read(&d.dev, io.output_addr, out.data(), out.size()), 0);
    FixedGolden g(B.model, B.num);
    EXPECT_EQ(B.rt->unpack_output(out, 6).data, g.run(utts[0].mat).data);
  });
}

TEST(Vp, BadBusTrafficGetsTlmErrorResponses) {
  Bench& B = bench();
  B.run(*B.a, [&](host_cpu& cpu) {
    std::uint8_t buf[8] = {};
    // Out-of-range DDR address: nothing decodes it.
    const std::uint64_t beyond = kDdrBase + B.cfg.ddr.size_bytes + 64;
    EXPECT_EQ(cpu.access(tlm::TLM_READ_COMMAND, beyond, buf, 4), tlm::TLM_ADDRESS_ERROR_RESPONSE);
    EXPECT_NE(cpu.mem_read(beyond, buf, 8), 0);
    // Register accesses of a width the map does not allow.
    EXPECT_EQ(cpu.access(tlm::TLM_READ_COMMAND, kRegBase + CIRCA_REG_ID, buf, 2), tlm::TLM_BURST_ERROR_RESPONSE);
    EXPECT_EQ(cpu.access(tlm::TLM_READ_COMMAND, kRegBase + CIRCA_REG_ID, buf, 8), tlm::TLM_BURST_ERROR_RESPONSE);
    std::uint8_t be[4] = {0xFF, 0xFF, 0, 0};
    EXPECT_EQ(cpu.access(tlm::TLM_READ_COMMAND, kRegBase + CIRCA_REG_ID, buf, 4, be, 4),
              tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE);
    EXPECT_EQ(cpu.access(tlm::TLM_READ_COMMAND, kRegBase + CIRCA_REG_ID + 2, buf, 4), tlm::TLM_ADDRESS_ERROR_RESPONSE);
    // An offset with no register, and a write to a read-only one.
    std::uint32_t v = 0;
    EXPECT_EQ(cpu.reg_read(kRegBase + 0x0FC, v), tlm::TLM_ADDRESS_ERROR_RESPONSE);
    EXPECT_EQ(cpu.reg_write(kRegBase + CIRCA_REG_ID, 1), tlm::TLM_COMMAND_ERROR_RESPONSE);
    // The device still answers.
    EXPECT_EQ(cpu.reg_read(kRegBase + CIRCA_REG_ID, v), tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(v, CIRCA_ID_VALUE);
  });
}

TEST(Vp, LutLoadedThroughRegistersChangesOutputsUntilSoftReset) {
  Bench& B = bench();
  auto utts = utterances(1, 6);
  FixedGolden golden(B.model, B.num);
  const Matrix ref = golden.run(utts[0].mat);
  B.run(*B.a, [&](host_cpu& cpu) {
    Dev d(cpu);
    HostRuntime::Job job = stage(d, *B.rt, utts[0].mat);
    auto outputs = [&]() {
      // The device writes the final state back: start every run from the zero state again.
      for (const MemRegion& r : job.regions) circa_mem_write(&d.dev, r.addr, r.bytes.data(), r.bytes.size());
      EXPECT_EQ(circa_run_job(&d.dev, job.desc_addr, 1000000000), 0);
      std::string out(job.output_bytes, '\0');
      circa_mem_read(&d.dev, job.output_addr, out.data(), out.size());
      return B.rt->unpack_output(out, utts[0].mat.rows).data;
    };
    EXPECT_EQ(outputs(), ref.data);
    // A sigmoid table scaled by 3/4: the model's outputs must move.
    Activation sig(ActFn::sigmoid, B.num.activation, B.num.act, B.num.act);
    std::vector<std::int32_t> t = sig.table();
    for (auto& v : t) v = v * 3 / 4;
    ASSERT_EQ(circa_load_lut(&d.dev, CIRCA_LUT_SIGMOID, t.data(), t.size()), 0);
    EXPECT_NE(outputs(), ref.data);
    // Counters of that job: every frame counted, the units and the DMA were busy.
    circa_counters c{};
    ASSERT_EQ(circa_read_counters(&d.dev, &c), 0);
    EXPECT_EQ(c.frames, 6u);
    EXPECT_GT(c.cycles, 0u);
    EXPECT_GT(c.emac_busy, 0u);
    EXPECT_GT(c.dma_busy, 0u);
    EXPECT_GT(c.ddr_rd_bytes, 0u);
    // Soft reset restores the built-in tables.
    ASSERT_EQ(circa_reset(&d.dev), 0);
    EXPECT_EQ(outputs(), ref.data);
    // More LUT_DATA words than a table holds: the device keeps at most a table's worth, and the COMMIT fails
    // with CAPACITY instead of installing anything.
    std::uint32_t lut = 0, status = 0, irq = 0, datapath = 0;
    // CAPS_DATAPATH reports the config's datapath: guard 6, IFFT input 40 bits, 48-bit sums, half to even (the
    // default numerics).
    cpu.reg_read(kRegBase + CIRCA_REG_CAPS_DATAPATH, datapath);
    EXPECT_EQ(datapath, 6u | 40u << 8 | 48u << 16);
    cpu.reg_read(kRegBase + CIRCA_REG_CAPS_LUT, lut);
    const std::uint32_t entries = lut & 0xFFFFFFu;
    cpu.reg_write(kRegBase + CIRCA_REG_IRQ_STATUS, 3);
    cpu.reg_write(kRegBase + CIRCA_REG_LUT_SEL, CIRCA_LUT_SIGMOID);
    for (std::uint32_t i = 0; i < entries + 100; ++i) cpu.reg_write(kRegBase + CIRCA_REG_LUT_DATA, 0);
    cpu.reg_write(kRegBase + CIRCA_REG_LUT_COMMIT, 1);
    cpu.reg_read(kRegBase + CIRCA_REG_STATUS, status);
    cpu.reg_read(kRegBase + CIRCA_REG_IRQ_STATUS, irq);
    EXPECT_EQ(CIRCA_STATUS_ERROR(status), static_cast<std::uint32_t>(CIRCA_ERR_CAPACITY));
    EXPECT_TRUE(irq & CIRCA_IRQ_ERROR);
    EXPECT_EQ(outputs(), ref.data);  // nothing was installed
    // Through the driver: a word that does not fit the activation format (Q8.8: at most 32767) is refused with
    // BITS, which circa_load_lut returns, and the table in use stays.
    std::vector<std::int32_t> wide = sig.table();
    wide[3] = 40000;
    EXPECT_EQ(circa_load_lut(&d.dev, CIRCA_LUT_SIGMOID, wide.data(), wide.size()), CIRCA_ERR_BITS);
    cpu.reg_read(kRegBase + CIRCA_REG_IRQ_STATUS, irq);
    EXPECT_FALSE(irq & CIRCA_IRQ_ERROR);  // reported, so cleared
    EXPECT_EQ(outputs(), ref.data);
  });
}
