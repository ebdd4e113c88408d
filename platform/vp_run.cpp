#include "platform/vp_run.hpp"

#include <cstdio>

#include "sw_driver/circa_regs.h"

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
                const AfterLoadHook& after_load) {
  res.weight_bytes = rt.weight_bytes();
  auto fail = [&](int code) {
    res.driver_error = code;
    res.error = circa_strerror(code);
  };
  host_cpu& cpu = top.cpu();
  circa_hal hal = make_vp_hal(cpu);
  circa_dev dev;
  if (int e = circa_open(&dev, &hal)) return fail(e);
  for (const MemRegion& r : rt.model_regions())
    if (int e = circa_mem_write(&dev, r.addr, r.bytes.data(), r.bytes.size())) return fail(e);
  if (after_load) after_load(top, kDdrBase + 0x1000);
  for (const Utterance& u : utts) {
    HostRuntime::Job job = rt.pack_job(u.mat, rt.model_end(), res.input_saturations);
    for (const MemRegion& r : job.regions)
      if (int e = circa_mem_write(&dev, r.addr, r.bytes.data(), r.bytes.size())) return fail(e);
    // A generous bound in simulated time: a second per frame.
    const std::uint64_t timeout_ns = 1000000000ull * (u.mat.rows + 1);
    if (int e = circa_run_job(&dev, job.desc_addr, timeout_ns)) return fail(e);
    std::string out(job.output_bytes, '\0');
    if (int e = circa_mem_read(&dev, job.output_addr, out.data(), out.size())) return fail(e);
    Utterance o;
    o.key = u.key;
    o.mat = rt.unpack_output(out, u.mat.rows);
    res.outputs.push_back(std::move(o));
    UtteranceStats st;
    st.counters = top.accel().counters();
    st.cycles = st.counters.cycles;
    st.frames = u.mat.rows;
    st.frame_done = top.accel().frame_done_cycles();
    res.stats.push_back(std::move(st));
  }
  res.weights_on_chip = top.accel().weights_on_chip();
  accel_controller& acc = top.accel();
  res.units = {{"fft_unit", acc.fft().stats()},          {"emac_array", acc.emac().stats()},
               {"ifft_unit", acc.ifft().stats()},        {"activation_unit", acc.act().stats()},
               {"cell_update", acc.cell().stats()},      {"dma_engine", top.dma().stats()}};
  res.layers = acc.layer_totals();
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
