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
  const HwConfig::Ints& i = c.ints;
  auto n = [](long long x) { return static_cast<int>(x); };
  VpConfig v;
  AccelParams& a = v.accel;
  a.clock.mhz = c.clock_mhz;
  a.fft = FftParams{n(i.fft_lanes), n(i.fft_ii), n(i.fft_stage_latency), n(i.fft_io_latency)};
  a.emac = EmacParams{n(i.emac_lanes), n(i.emac_dsp_per_cmac), n(i.emac_banks), n(i.emac_mult_latency),
                      n(i.emac_add_latency), n(i.emac_block_ii)};
  a.rows_per_pass = n(i.rows_per_pass);
  a.gates_per_pass = n(i.gates_per_pass);
  a.spectrum_per_pass = i.spectrum_per_pass != 0;
  a.overlap_cells = i.overlap_cells != 0;
  a.projection_first_pass = i.projection_first_pass != 0;
  a.act = ActivationParams{n(i.act_lanes), n(i.act_latency)};
  a.cell = CellUpdateParams{n(i.cell_lanes), n(i.cell_latency)};
  a.fifo_depth = n(i.fifo_depth);
  a.fft_tile_blocks = n(i.tile_fft_blocks);
  a.emac_tile_chunks = n(i.tile_emac_chunks);
  a.cell_tile = n(i.tile_cells);
  a.weight_buffer_bytes = static_cast<std::uint64_t>(i.weight_buffer_kib) << 10;
  a.weight_slots_bytes = static_cast<std::uint64_t>(i.weight_slots_kib) << 10;
  a.weight_buffer_ports = static_cast<std::uint32_t>(i.weight_ports);
  const auto wbytes = static_cast<std::uint32_t>(i.buffer_word_bytes);
  auto buf = [&](long long kib, long long ports) {
    return OnchipBufferParams{static_cast<std::uint64_t>(kib) << 10, wbytes, static_cast<std::uint32_t>(ports)};
  };
  a.buffers.input = buf(i.input_kib, i.input_ports);
  a.buffers.spectrum = buf(i.spectrum_kib, i.spectrum_ports);
  a.buffers.psum = buf(i.psum_kib, i.psum_ports);
  a.buffers.gates = buf(i.gates_kib, i.gates_ports);
  a.buffers.state = buf(i.state_kib, i.state_ports);
  a.buffers.output = buf(i.output_kib, i.output_ports);
  a.weight_word_bytes = wbytes;
  a.max_dim = static_cast<std::uint32_t>(i.max_dim);
  a.max_layers = static_cast<std::uint32_t>(i.max_layers);
  v.dma.burst_bytes = static_cast<std::uint32_t>(i.dma_burst_bytes);
  v.dma.max_outstanding = static_cast<std::uint32_t>(i.dma_outstanding);
  v.dma.group_bursts = static_cast<std::uint32_t>(i.dma_group_bursts);
  v.ddr.size_bytes = static_cast<std::uint64_t>(i.ddr_size_mib) << 20;
  v.ddr.data_rate_mts = static_cast<std::uint32_t>(i.ddr_data_rate_mts);
  v.ddr.bus_bytes = static_cast<std::uint32_t>(i.ddr_bus_bytes);
  v.ddr.burst_length = static_cast<std::uint32_t>(i.ddr_burst_length);
  v.ddr.tcl = static_cast<std::uint32_t>(i.ddr_tcl);
  v.ddr.trcd = static_cast<std::uint32_t>(i.ddr_trcd);
  v.ddr.trp = static_cast<std::uint32_t>(i.ddr_trp);
  v.ddr.banks = static_cast<std::uint32_t>(i.ddr_banks);
  v.ddr.page_bytes = static_cast<std::uint64_t>(i.ddr_page_bytes);
  v.quantum = sc_core::sc_time(static_cast<double>(i.quantum_ns), sc_core::SC_NS);
  return v;
}

}  // namespace circa
