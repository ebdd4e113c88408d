#include "platform/vp.hpp"

namespace circa {

vp::vp(sc_core::sc_module_name name, const VpConfig& cfg, const Numerics& num)
    : sc_module(name), cfg_(cfg), irq_("irq") {
  bus_ = std::make_unique<router>("router");
  ddr_ = std::make_unique<ddr_memory>("ddr_memory", cfg_.ddr);
  dma_ = std::make_unique<dma_engine>("dma_engine", cfg_.dma, cfg_.accel.clock);
  port_ = std::make_unique<dma_port>(*dma_);
  accel_ = std::make_unique<accel_controller>("accel", cfg_.accel, num, kDdrBase, cfg_.ddr.size_bytes);
  cpu_ = std::make_unique<host_cpu>("host_cpu", cfg_.quantum);
  accel_->bind_memory(*port_);
  // Initiators: the host CPU and the DMA engine. Targets, in bind order: 0 registers, 1 DDR.
  cpu_->bus(bus_->in);
  dma_->socket(bus_->in);
  bus_->out(accel_->regs);
  bus_->out(ddr_->socket);
  bus_->map(0, kRegBase, 0x1000, "registers");
  bus_->map(1, kDdrBase, cfg_.ddr.size_bytes, "ddr");
  accel_->irq(irq_);
  cpu_->irq(irq_);
}

}  // namespace circa

#include "platform/hw_config.hpp"

namespace circa {

VpConfig vp_config_of(const HwConfig& c) {
  VpConfig v;
  v.accel.clock.mhz = c.clock_mhz;
  return v;
}

}  // namespace circa
