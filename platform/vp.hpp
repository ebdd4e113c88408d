// circa: the virtual platform top. Host CPU and the accelerator's DMA reach the register block and DDR through one
// router; the accelerator raises a level-triggered IRQ to the host.
//
// Address map:
//   0x0_4000_0000 .. +4 KiB   accelerator registers (hwif/circa_regs.h)
//   0x1_0000_0000 .. +size    DDR (default 4 GiB)
#pragma once

#include <memory>
#include <systemc>

#include "platform/host_cpu.hpp"
#include "platform/router.hpp"
#include "sc_models/accel_controller.hpp"
#include "sc_models/ddr_memory.hpp"
#include "sc_models/dma_engine.hpp"
#include "sc_models/dma_port.hpp"

namespace circa {

constexpr std::uint64_t kRegBase = 0x40000000ull;
constexpr std::uint64_t kDdrBase = 0x100000000ull;

struct VpConfig {
  AccelParams accel;
  DdrParams ddr;
  DmaParams dma;
  sc_core::sc_time quantum = sc_core::sc_time(1, sc_core::SC_US);
};

class vp : public sc_core::sc_module {
public:
  vp(sc_core::sc_module_name name, const VpConfig& cfg, const Numerics& num);

  host_cpu& cpu() { return *cpu_; }
  accel_controller& accel() { return *accel_; }
  ddr_memory& ddr() { return *ddr_; }
  dma_engine& dma() { return *dma_; }
  router& bus() { return *bus_; }
  const VpConfig& config() const { return cfg_; }

private:
  VpConfig cfg_;
  std::unique_ptr<router> bus_;
  std::unique_ptr<ddr_memory> ddr_;
  std::unique_ptr<dma_engine> dma_;
  std::unique_ptr<dma_port> port_;
  std::unique_ptr<accel_controller> accel_;
  std::unique_ptr<host_cpu> cpu_;
  sc_core::sc_signal<bool> irq_;  // driven by the controller's one irq process
};

}  // namespace circa
