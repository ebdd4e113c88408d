#include "platform/vp_run.hpp"

#include <algorithm>
#include <cstdio>

#include "hwif/circa_regs.h"

#include "sw_driver/runtime.hpp"

namespace circa {

namespace {

std::uint32_t hal_reg_read(void* ctx, std::uint32_t off) {
  std::uint32_t v = 0;
  if (static_cast<host_cpu*>(ctx)->reg_read(kRegBase + off, v) != tlm::TLM_OK_RESPONSE) return 0xFFFFFFFFu;
  return v;
}
void hal_reg_write(void* ctx, std::uint32_t off, std::uint32_t v) {
  static_cast<host_cpu*>(ctx)->reg_write(kRegBase + off, v);
}
int hal_mem_write(void* ctx, std::uint64_t addr, const void* src, std::size_t n) {
  return static_cast<host_cpu*>(ctx)->mem_write(addr, src, n);
}
int hal_mem_read(void* ctx, std::uint64_t addr, void* dst, std::size_t n) {
  return static_cast<host_cpu*>(ctx)->mem_read(addr, dst, n);
}
int hal_wait_irq(void* ctx, std::uint64_t timeout_ns) {
  return static_cast<host_cpu*>(ctx)->wait_irq(sc_core::sc_time(static_cast<double>(timeout_ns), sc_core::SC_NS));
}
std::uint64_t hal_now_ns(void* ctx) {
  return static_cast<std::uint64_t>(static_cast<host_cpu*>(ctx)->now().to_seconds() * 1e9);
}

}  // namespace

circa_hal make_vp_hal(host_cpu& cpu) {
  circa_hal h{};
  h.ctx = &cpu;
  h.reg_read = hal_reg_read;
  h.reg_write = hal_reg_write;
  h.mem_write = hal_mem_write;
  h.mem_read = hal_mem_read;
  h.wait_irq = hal_wait_irq;
  h.now_ns = hal_now_ns;
  return h;
}

void vp_program(vp& top, const HostRuntime& rt, const std::vector<Utterance>& utts, VpRunResult& res,
                const AfterLoadHook& after_load, const HostOptions& ho) {
  res.weight_bytes = rt.weight_bytes();
  auto fail = [&](int code) {
    res.driver_error = code;
    res.error = circa_strerror(code);
    if (code == CIRCA_ERR_BUFFER) res.detail = top.accel().layout_error();
  };
  host_cpu& cpu = top.cpu();
  accel_controller& acc = top.accel();
  circa_hal hal = make_vp_hal(cpu);
  circa_dev dev;
  if (int e = circa_open(&dev, &hal)) return fail(e);
  for (const MemRegion& r : rt.model_regions())
    if (int e = circa_mem_write(&dev, r.addr, r.bytes.data(), r.bytes.size())) return fail(e);
  if (after_load) after_load(top, kDdrBase + 0x1000);
  const std::size_t S = std::max<std::uint32_t>(1, ho.streams);
  const bool live = ho.frame_period_ns > 0;
  const sc_core::sc_time period(live ? ho.frame_period_ns : 0.0, sc_core::SC_NS);
  for (std::size_t g = 0; g < utts.size(); g += S) {
    std::vector<const Matrix*> feats;
    for (std::size_t i = g; i < std::min(utts.size(), g + S); ++i) feats.push_back(&utts[i].mat);
    HostRuntime::Job job = rt.pack_streams(feats, rt.model_end(), live ? ho.ring_slots : 0, res.input_saturations);
    for (const MemRegion& r : job.regions)
      if (int e = circa_mem_write(&dev, r.addr, r.bytes.data(), r.bytes.size())) return fail(e);
    const std::uint32_t steps = job.desc.steps();
    // A generous bound in simulated time: a second per frame step, plus the frame period.
    const std::uint64_t timeout_ns =
        (1000000000ull + static_cast<std::uint64_t>(ho.frame_period_ns)) * (steps + 1ull);
    std::vector<sc_core::sc_time> arrival;
    if (!live) {
      if (int e = circa_run_job(&dev, job.desc_addr, timeout_ns)) return fail(e);
    } else {
      // Live input: frame t of every stream arrives at t0 + t * period. The host writes it into its ring slot
      // (once the device has freed that slot) and publishes it through RING_HEAD.
      if (int e = circa_ring_push(&dev, 0)) return fail(e);
      if (int e = circa_start_job(&dev, job.desc_addr)) return fail(e);
      const sc_core::sc_time t0 = cpu.now();
      const sc_core::sc_time poll = sc_core::sc_time(1, sc_core::SC_US);
      for (std::uint32_t t = 0; t < steps; ++t) {
        arrival.push_back(t0 + period * static_cast<double>(t));
        cpu.wait_until(arrival.back());
        std::uint32_t tail = 0;
        const sc_core::sc_time deadline = cpu.now() + sc_core::sc_time(static_cast<double>(timeout_ns), sc_core::SC_NS);
        while (t >= job.desc.ring_slots) {
          if (int e = circa_ring_tail(&dev, &tail)) return fail(e);
          if (tail > t - job.desc.ring_slots) break;
          if (cpu.now() > deadline) return fail(CIRCA_DRV_ERR_TIMEOUT);
          cpu.wait_until(cpu.now() + poll);  // the ring is full: the device is behind the input
        }
        for (std::size_t s = 0; s < job.streams.size(); ++s) {
          const HostRuntime::StreamIo& io = job.streams[s];
          if (t >= io.frames) continue;
          if (int e = circa_mem_write(&dev, job.input_slot(s, t), io.input.data() + t * io.frame_bytes,
                                      io.frame_bytes))
            return fail(e);
        }
        if (int e = circa_ring_push(&dev, t + 1)) return fail(e);
      }
      if (int e = circa_wait_job(&dev, timeout_ns)) return fail(e);
    }
    UtteranceStats st;
    st.counters = acc.counters();
    st.cycles = st.counters.cycles;
    st.streams = static_cast<std::uint32_t>(feats.size());
    st.frame_done = acc.frame_done_cycles();
    for (std::size_t s = 0; s < job.streams.size(); ++s) {
      const HostRuntime::StreamIo& io = job.streams[s];
      std::string out(io.output_bytes, '\0');
      if (int e = circa_mem_read(&dev, io.output_addr, out.data(), out.size())) return fail(e);
      Utterance o;
      o.key = utts[g + s].key;
      o.mat = rt.unpack_output(out, io.frames);
      res.outputs.push_back(std::move(o));
      st.frames += io.frames;
      if (live)
        for (std::uint32_t t = 0; t < io.frames && t < st.frame_done.size(); ++t) {
          const sc_core::sc_time done = acc.job_start() + acc.params().clock.cycles(st.frame_done[t]);
          st.arrival_latency.push_back(acc.params().clock.to_cycles(done - arrival[t]));
        }
    }
    res.stats.push_back(std::move(st));
    if (ho.progress) ho.progress(std::min(utts.size(), g + S), utts.size());
  }
  res.weights_on_chip = acc.weights_on_chip();
  res.units = {{"fft_unit", acc.fft().stats()},          {"emac_array", acc.emac().stats()},
               {"ifft_unit", acc.ifft().stats()},        {"activation_unit", acc.act().stats()},
               {"cell_update", acc.cell().stats()},      {"dma_engine", top.dma().stats()}};
  for (int b = 0; b < kBuffers; ++b) {
    onchip_buffer& ob = acc.buffer(static_cast<Buf>(b));
    res.buffers.push_back({buffer_name(static_cast<Buf>(b)), ob.params().capacity_bytes, ob.peak_bytes(), ob.stats()});
  }
  res.layers = acc.layer_totals();
  res.host_step_wall = acc.host_step_wall();
  res.waves = acc.waves();
  res.decoupled_waves = acc.decoupled_waves();
  res.replayed_waves = acc.replayed_waves();
  res.host_step_cpu = acc.host_step_cpu();
  res.ddr_bytes_read = top.ddr().stats().bytes_read;
  res.ddr_bytes_written = top.ddr().stats().bytes_written;
}

std::string format_access(const host_cpu::Access& a) {
  const char* name = "";
  if (a.addr >= kRegBase && a.addr < kRegBase + CIRCA_REG_SPACE) {
    switch (static_cast<std::uint32_t>(a.addr - kRegBase)) {
#define CIRCA_REG_NAME(n, off, acc, reset, desc) \
  case off:                                      \
    name = #n;                                   \
    break;
      CIRCA_REGISTERS(CIRCA_REG_NAME)
#undef CIRCA_REG_NAME
      default: name = "?"; break;
    }
  }
  const char* resp = "OK";
  switch (a.response) {
    case tlm::TLM_OK_RESPONSE: resp = "OK"; break;
    case tlm::TLM_ADDRESS_ERROR_RESPONSE: resp = "ADDRESS_ERROR"; break;
    case tlm::TLM_BURST_ERROR_RESPONSE: resp = "BURST_ERROR"; break;
    case tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE: resp = "BYTE_ENABLE_ERROR"; break;
    case tlm::TLM_COMMAND_ERROR_RESPONSE: resp = "COMMAND_ERROR"; break;
    default: resp = "GENERIC_ERROR"; break;
  }
  char buf[160];
  std::snprintf(buf, sizeof buf, "%16.3f ns  %s  0x%010llx  %-16s  0x%08x  %u  %s\n", a.time.to_seconds() * 1e9,
                a.write ? "W" : "R", static_cast<unsigned long long>(a.addr), name, a.value, a.len, resp);
  return buf;
}

}  // namespace circa
