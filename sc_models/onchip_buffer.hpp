// circa: an on-chip SRAM buffer (a group of BRAMs/URAMs behind one address space): capacity, ports per cycle and
// ping-pong halves.
//
// The buffer is passive storage. Whoever owns the access (the DMA filling it, a datapath unit draining it) calls
// read/write, which copy real bytes and return the cycles the access occupies the ports; the caller adds them to
// its own tile and waits once, so the buffer itself never advances time.
//
// Ping-pong: the two halves [0, capacity/2) and [capacity/2, 2 * (capacity/2)) are addressed from their own base,
// and an access through a half may not leave it. A producer fills one half while the consumer reads the other (ESP's
// load/compute/store around ping-pong buffers, C-LSTM's 3-stage pipeline). The whole region addresses everything.
//
// An access outside its region is reported (SC_REPORT_ERROR, id "circa/onchip_buffer") and returns ok = false
// without touching a byte on either side: in hardware the address decoder would wrap or drop it, and a model that
// wrote past its array would corrupt the simulator instead. Under SystemC's default actions an SC_ERROR throws; the
// state is already consistent when the report is made.
#pragma once

#include <cstdint>
#include <string>
#include <systemc>
#include <vector>

namespace circa {

struct OnchipBufferParams {
  // 1 MiB: about 230 BRAM36 (4.5 KiB of data each), a fifth of a KU060's block RAM.
  std::uint64_t capacity_bytes = 1u << 20;
  // 8 bytes: a BRAM36 port is 72 bits wide, 64 of them data (four 16-bit values).
  std::uint32_t word_bytes = 8;
  // Words per cycle over all ports: 8 BRAM columns side by side give 64 B/cycle, 12.8 GB/s at 200 MHz, the width
  // of a 512-bit AXI port.
  std::uint32_t ports = 8;

  // The first problem with these values, or "" when they are usable.
  std::string check() const;
};

enum class BufferRegion : std::uint8_t { whole, half0, half1 };

// The half selected by a ping-pong index (0 or 1; anything else selects half 1, as a one-bit select would).
inline BufferRegion buffer_half(int index) {
  return index == 0 ? BufferRegion::half0 : BufferRegion::half1;
}

struct BufferAccess {
  bool ok = false;
  std::uint64_t cycles = 0;  // ceil(words touched / ports); 0 for an empty or failed access
};

struct OnchipBufferStats {
  std::uint64_t reads = 0, writes = 0;  // successful accesses
  std::uint64_t bytes_read = 0, bytes_written = 0;
  std::uint64_t cycles = 0;  // port cycles of all successful accesses
  std::uint64_t errors = 0;  // rejected accesses (out of region, or no data pointer)
};

class onchip_buffer : public sc_core::sc_module {
public:
  static constexpr const char* kMsgId = "circa/onchip_buffer";

  onchip_buffer(sc_core::sc_module_name name, const OnchipBufferParams& p = {});

  // `offset` counts from the region's base. A zero-byte access is ok and costs nothing.
  BufferAccess write(BufferRegion r, std::uint64_t offset, const std::uint8_t* src, std::uint64_t bytes);
  BufferAccess read(BufferRegion r, std::uint64_t offset, std::uint8_t* dst, std::uint64_t bytes);
  BufferAccess write(std::uint64_t offset, const std::uint8_t* src, std::uint64_t bytes) {
    return write(BufferRegion::whole, offset, src, bytes);
  }
  BufferAccess read(std::uint64_t offset, std::uint8_t* dst, std::uint64_t bytes) {
    return read(BufferRegion::whole, offset, dst, bytes);
  }

  // Whether [offset, offset + bytes) lies inside the region (overflow-safe); no report, no statistics.
  bool fits(BufferRegion r, std::uint64_t offset, std::uint64_t bytes) const;
  std::uint64_t region_bytes(BufferRegion r) const;
  // Port cycles of an access, without making it. Words are counted by the word lines touched, so an access that
  // starts or ends inside a word pays for that whole word.
  std::uint64_t cycles_for(BufferRegion r, std::uint64_t offset, std::uint64_t bytes) const;

  const OnchipBufferParams& params() const { return p_; }
  const OnchipBufferStats& stats() const { return stats_; }
  std::uint64_t half_bytes() const { return p_.capacity_bytes / 2; }

private:
  std::uint64_t base(BufferRegion r) const;
  bool admit(const char* what, BufferRegion r, std::uint64_t offset, std::uint64_t bytes, const void* data);

  OnchipBufferParams p_;
  std::vector<std::uint8_t> mem_;
  OnchipBufferStats stats_;
};

}  // namespace circa
