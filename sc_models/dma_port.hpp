// circa: the controller's path to DDR through the DMA engine (mem_port over dma_engine::transfer).
#pragma once

#include "sc_models/dma_engine.hpp"
#include "sc_models/mem_port.hpp"
#include "hwif/circa_regs.h"

namespace circa {

class dma_port : public mem_port {
public:
  explicit dma_port(dma_engine& dma) : dma_(dma) {}
  int read(std::uint64_t addr, void* dst, std::size_t n) override { return read2d(addr, 1, n, n, dst); }
  int write(std::uint64_t addr, const void* src, std::size_t n) override {
    if (n == 0) return 0;
    DmaDescriptor d;
    d.dir = DmaDirection::local_to_ddr;
    d.ddr_addr = addr;
    d.ddr_stride = n;
    d.rows = 1;
    d.row_bytes = n;
    d.host = const_cast<std::uint8_t*>(static_cast<const std::uint8_t*>(src));
    d.host_bytes = n;
    d.local_stride = n;
    return dma_.transfer(d).status == DmaStatus::ok ? 0 : CIRCA_ERR_BUS;
  }
  int read2d(std::uint64_t addr, std::size_t rows, std::size_t row_bytes, std::uint64_t stride, void* dst) override {
    if (rows == 0 || row_bytes == 0) return 0;
    DmaDescriptor d;
    d.dir = DmaDirection::ddr_to_local;
    d.ddr_addr = addr;
    d.ddr_stride = stride;
    d.rows = static_cast<std::uint32_t>(rows);
    d.row_bytes = row_bytes;
    d.host = static_cast<std::uint8_t*>(dst);
    d.host_bytes = rows * row_bytes;
    d.local_stride = row_bytes;
    return dma_.transfer(d).status == DmaStatus::ok ? 0 : CIRCA_ERR_BUS;
  }

  std::uint64_t busy_cycles() const override { return dma_.dma_stats().busy_cycles; }

private:
  dma_engine& dma_;
};

}  // namespace circa
