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
// Value regions: the datapath's buffers (spectrum, partial sums, gate sums, state, input, output) hold values whose
// hardware width is not a host word's (a 16-bit activation, a 40-bit sum). reserve() lays out a region of `count`
// values of `bits` bits each: it occupies ceil(count * bits / 8) bytes of the capacity, rounded up to whole words,
// and the model keeps the values in host words of `host_bytes` (4 or 8) in storage of its own, so a unit computes
// on them in place. Capacity, occupancy and port cycles count hardware bytes; the byte API above and the regions
// share the capacity. A unit pays for what it moves with access() (port cycles, statistics).
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
  // of a 512-bit AXI port. 0: as many as the units need (an access never costs a cycle of its own).
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

// Field by field a - b: what the accesses between two readings added.
OnchipBufferStats stats_since(const OnchipBufferStats& a, const OnchipBufferStats& b);

// One value region (see reserve()).
struct ValueRegion {
  std::string what;
  std::uint64_t count = 0;
  std::uint32_t bits = 0, host_bytes = 0;
  std::uint64_t hw_offset = 0, hw_bytes = 0;  // in the buffer's capacity
  std::uint64_t host_offset = 0;              // in the host store, bytes
};

class onchip_buffer : public sc_core::sc_module {
public:
  static constexpr const char* kMsgId = "circa/onchip_buffer";

  onchip_buffer(sc_core::sc_module_name name, const OnchipBufferParams& p = {});

  // --- value regions ---
  // Drops every region (a new job's layout). The byte contents and statistics stay.
  void clear_regions();
  // Reserves a region after the previous ones; its index, or -1 when it would pass the capacity (nothing is
  // reserved then). The values start at zero.
  int reserve(const std::string& what, std::uint64_t count, std::uint32_t bits, std::uint32_t host_bytes);
  const ValueRegion& region(int r) const { return regions_[static_cast<std::size_t>(r)]; }
  std::size_t regions() const { return regions_.size(); }
  // The region's values in host words (T of region(r).host_bytes bytes). Valid until the next reserve().
  template <class T>
  T* values(int r) {
    return reinterpret_cast<T*>(store_.data() + regions_[static_cast<std::size_t>(r)].host_offset);
  }
  std::uint8_t* host_bytes(int r) { return values<std::uint8_t>(r); }
  // Books an access to `count` values of region r (a read when `write` is false): port cycles, statistics.
  // Returns the port cycles: ceil(words / ports), the words being the hardware bytes over word_bytes, rounded up.
  std::uint64_t access(int r, std::uint64_t count, bool write);
  std::uint64_t value_cycles(int r, std::uint64_t count) const;
  // Hardware bytes in use now (regions), and the most ever in use.
  std::uint64_t used_bytes() const { return used_; }
  std::uint64_t peak_bytes() const { return peak_; }

  // --- bytes ---
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
  // A kept wave's accesses in one step (sc_models/accel_decoupled.cpp): what they added, added again.
  void add_stats(const OnchipBufferStats& d);
  std::uint64_t half_bytes() const { return p_.capacity_bytes / 2; }

private:
  std::uint64_t base(BufferRegion r) const;
  std::uint8_t* bytes();
  bool admit(const char* what, BufferRegion r, std::uint64_t offset, std::uint64_t bytes, const void* data);

  OnchipBufferParams p_;
  std::vector<std::uint8_t> mem_;
  OnchipBufferStats stats_;
  std::vector<ValueRegion> regions_;
  std::vector<std::uint8_t> store_;
  std::uint64_t used_ = 0, peak_ = 0;
};

}  // namespace circa
