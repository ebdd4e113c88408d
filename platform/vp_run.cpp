#include "platform/vp_run.hpp"

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
}

}  // namespace circa
