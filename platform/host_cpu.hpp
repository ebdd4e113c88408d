// circa: the host CPU. An SC_THREAD runs a program (the driver and its caller) against the platform, host-compiled.
// Register accesses are TLM b_transport calls whose delays a tlm_quantumkeeper accumulates (the Accellera LT
// temporal-decoupling loop); bulk memory goes through DMI when the target grants it. wait_irq syncs the quantum
// keeper first, then tests the IRQ level, and only then waits for an edge, so an interrupt raised inside the
// host's quantum is never lost. Device timing does not depend on the quantum.
#pragma once

#include <cstdint>
#include <functional>
#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/tlm_quantumkeeper.h>

namespace circa {

class host_cpu : public sc_core::sc_module {
public:
  tlm_utils::simple_initiator_socket<host_cpu> bus;
  sc_core::sc_in<bool> irq;

  SC_HAS_PROCESS(host_cpu);
  host_cpu(sc_core::sc_module_name name, const sc_core::sc_time& quantum);
  // Runs `p` next (now, if the CPU is idle). With stop_at_end the simulation stops when it returns (the CLI);
  // otherwise the CPU idles until the next program (test benches that run several programs in one elaboration).
  void set_program(std::function<void(host_cpu&)> p);
  void set_stop_at_end(bool s) { stop_at_end_ = s; }
  // Simulated time to let pass after the program before stopping (so a waveform keeps the last changes).
  void set_end_padding(const sc_core::sc_time& t) { end_padding_ = t; }

  // Every bus access the CPU makes, for the MMIO log.
  struct Access {
    sc_core::sc_time time;  // host-local time of the access
    bool write;
    std::uint64_t addr;
    unsigned len;
    std::uint32_t value;  // the first 4 bytes
    tlm::tlm_response_status response;
  };
  void set_access_log(std::function<void(const Access&)> f) { log_ = std::move(f); }

  // A 32-bit register access; returns the TLM response.
  tlm::tlm_response_status reg_read(std::uint64_t addr, std::uint32_t& value);
  tlm::tlm_response_status reg_write(std::uint64_t addr, std::uint32_t value);
  // Any access, for tests of bus behaviour (other widths, byte enables).
  tlm::tlm_response_status access(tlm::tlm_command cmd, std::uint64_t addr, std::uint8_t* data, unsigned len,
                                  std::uint8_t* byte_enable = nullptr, unsigned be_len = 0);
  // Bulk memory through DMI (or bursts when DMI is refused); 0 or -1 on a bus error.
  int mem_write(std::uint64_t addr, const void* src, std::size_t n);
  int mem_read(std::uint64_t addr, void* dst, std::size_t n);
  // 0 when the IRQ line is high (now or before the timeout), 1 on timeout.
  int wait_irq(const sc_core::sc_time& timeout);
  // Host-local time (simulated time plus the quantum keeper's offset).
  sc_core::sc_time now() const { return qk_.get_current_time(); }
  // Idles until simulated time t (at once when t has passed): a host waiting for the next frame of live input.
  void wait_until(const sc_core::sc_time& t);
  void sync() { qk_.sync(); }
  bool finished() const { return finished_; }

private:
  void run();
  bool dmi_for(std::uint64_t addr, bool write, tlm::tlm_dmi& dmi);
  std::function<void(host_cpu&)> program_;
  sc_core::sc_event kick_;
  sc_core::sc_event timeout_ev_;  // wait_irq's timeout
  tlm_utils::tlm_quantumkeeper qk_;
  bool finished_ = false, stop_at_end_ = true;
  sc_core::sc_time end_padding_ = sc_core::SC_ZERO_TIME;
  std::function<void(const Access&)> log_;
};

}  // namespace circa
