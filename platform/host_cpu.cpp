#include "platform/host_cpu.hpp"

#include <algorithm>
#include <cstring>

namespace circa {

using sc_core::sc_time;
using sc_core::SC_ZERO_TIME;

host_cpu::host_cpu(sc_core::sc_module_name name, const sc_time& quantum) : sc_module(name), bus("bus"), irq("irq") {
  tlm_utils::tlm_quantumkeeper::set_global_quantum(quantum);
  qk_.reset();
  SC_THREAD(run);
}

void host_cpu::set_program(std::function<void(host_cpu&)> p) {
  program_ = std::move(p);
  finished_ = false;
  kick_.notify(SC_ZERO_TIME);
}

void host_cpu::run() {
  for (;;) {
    while (!program_) wait(kick_);  // the level first: a program set during elaboration is already there
    auto p = std::move(program_);
    program_ = nullptr;
    p(*this);
    qk_.sync();
    if (end_padding_ > SC_ZERO_TIME) wait(end_padding_);
    finished_ = true;
    if (stop_at_end_) sc_core::sc_stop();
  }
}

tlm::tlm_response_status host_cpu::access(tlm::tlm_command cmd, std::uint64_t addr, std::uint8_t* data, unsigned len,
                                          std::uint8_t* be, unsigned be_len) {
  tlm::tlm_generic_payload gp;
  gp.set_command(cmd);
  gp.set_address(addr);
  gp.set_data_ptr(data);
  gp.set_data_length(len);
  gp.set_streaming_width(len);
  gp.set_byte_enable_ptr(be);
  gp.set_byte_enable_length(be_len);
  gp.set_dmi_allowed(false);
  gp.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
  sc_time delay = qk_.get_local_time();
  const sc_time at = qk_.get_current_time();
  bus->b_transport(gp, delay);
  qk_.set(delay);
  if (log_) {
    Access a{at, cmd == tlm::TLM_WRITE_COMMAND, addr, len, 0, gp.get_response_status()};
    std::memcpy(&a.value, data, std::min(len, 4u));
    log_(a);
  }
  if (qk_.need_sync()) qk_.sync();
  return gp.get_response_status();
}

tlm::tlm_response_status host_cpu::reg_read(std::uint64_t addr, std::uint32_t& value) {
  std::uint8_t b[4] = {};
  const auto r = access(tlm::TLM_READ_COMMAND, addr, b, 4);
  std::memcpy(&value, b, 4);
  return r;
}

tlm::tlm_response_status host_cpu::reg_write(std::uint64_t addr, std::uint32_t value) {
  std::uint8_t b[4];
  std::memcpy(b, &value, 4);
  return access(tlm::TLM_WRITE_COMMAND, addr, b, 4);
}

bool host_cpu::dmi_for(std::uint64_t addr, bool write, tlm::tlm_dmi& dmi) {
  tlm::tlm_generic_payload gp;
  gp.set_command(write ? tlm::TLM_WRITE_COMMAND : tlm::TLM_READ_COMMAND);
  gp.set_address(addr);
  if (!bus->get_direct_mem_ptr(gp, dmi)) return false;
  return write ? dmi.is_write_allowed() : dmi.is_read_allowed();
}

int host_cpu::mem_write(std::uint64_t addr, const void* src, std::size_t n) {
  const auto* s = static_cast<const std::uint8_t*>(src);
  while (n > 0) {
    tlm::tlm_dmi dmi;
    if (dmi_for(addr, true, dmi) && addr >= dmi.get_start_address() && addr <= dmi.get_end_address()) {
      const std::size_t span = std::min<std::uint64_t>(n, dmi.get_end_address() - addr + 1);
      std::memcpy(dmi.get_dmi_ptr() + (addr - dmi.get_start_address()), s, span);
      qk_.inc(dmi.get_write_latency());  // one access per DMI region: bulk loads are not what circa times
      addr += span, s += span, n -= span;
    } else {
      const unsigned chunk = static_cast<unsigned>(std::min<std::size_t>(n, 256));
      if (access(tlm::TLM_WRITE_COMMAND, addr, const_cast<std::uint8_t*>(s), chunk) != tlm::TLM_OK_RESPONSE)
        return -1;
      addr += chunk, s += chunk, n -= chunk;
    }
  }
  if (qk_.need_sync()) qk_.sync();
  return 0;
}

int host_cpu::mem_read(std::uint64_t addr, void* dst, std::size_t n) {
  auto* d = static_cast<std::uint8_t*>(dst);
  while (n > 0) {
    tlm::tlm_dmi dmi;
    if (dmi_for(addr, false, dmi) && addr >= dmi.get_start_address() && addr <= dmi.get_end_address()) {
      const std::size_t span = std::min<std::uint64_t>(n, dmi.get_end_address() - addr + 1);
      std::memcpy(d, dmi.get_dmi_ptr() + (addr - dmi.get_start_address()), span);
      qk_.inc(dmi.get_read_latency());
      addr += span, d += span, n -= span;
    } else {
      const unsigned chunk = static_cast<unsigned>(std::min<std::size_t>(n, 256));
      if (access(tlm::TLM_READ_COMMAND, addr, d, chunk) != tlm::TLM_OK_RESPONSE) return -1;
      addr += chunk, d += chunk, n -= chunk;
    }
  }
  if (qk_.need_sync()) qk_.sync();
  return 0;
}

int host_cpu::wait_irq(const sc_time& timeout) {
  qk_.sync();                // 1. catch up with simulated time
  if (irq.read()) return 0;  // 2. the level: an IRQ raised inside our quantum is still high
  // 3. only then the edge. Not wait(timeout, edge): when the edge comes first, SystemC leaves the cancelled timeout
  // queued until its time, so a job far shorter than its timeout left one dead entry per call and a long stream of
  // jobs grew the kernel's timed queue without bound. One event, left pending across calls, is never duplicated:
  // a notification already due earlier wins, and the loop waits again for what is left.
  const sc_time deadline = sc_core::sc_time_stamp() + timeout;
  do {
    timeout_ev_.notify(deadline - sc_core::sc_time_stamp());
    wait(irq.posedge_event() | timeout_ev_);
  } while (!irq.read() && sc_core::sc_time_stamp() < deadline);
  return irq.read() ? 0 : 1;
}

void host_cpu::wait_until(const sc_time& t) {
  qk_.sync();
  if (t > sc_core::sc_time_stamp()) wait(t - sc_core::sc_time_stamp());
}

}  // namespace circa
