// circa: the accelerator's DDR memory, a loosely-timed TLM-2.0 target with an open-page bank model and sparse
// backing storage.
//
// Timing (all DRAM timings in DDR clock cycles, tCK = 2000 / data_rate_mts ns, as JEDEC speed bins give them):
//   - Address mapping row:bank:column. The column is the offset inside a DRAM page (page_bytes, one row across the
//     whole bus), the bank comes next, the row above it:
//       column = addr % page_bytes,  bank = (addr / page_bytes) % banks,  row = addr / (page_bytes * banks).
//     A sequential stream therefore walks one page, then the same row of the next bank, and so on; it comes back to
//     a bank only after banks * page_bytes bytes, which leaves the other banks' transfers to hide the precharge and
//     activation.
//   - Open-page policy: a row stays open after an access. An access that lands on
//       the open row (hit)                 costs tCL              + transfer,
//       a precharged bank (miss)           costs tRCD + tCL       + transfer,
//       another open row (conflict)        costs tRP + tRCD + tCL + transfer.
//   - Transfer: BL8 (burst_length) moves bus_bytes * burst_length bytes in burst_length / 2 clocks (two beats per
//     clock), and is the smallest access, so an access pays for every burst-aligned chunk it touches. For aligned
//     accesses this is bytes / (data_rate * bus_bytes); the peak bandwidth is data_rate * bus_bytes (19.2 GB/s for
//     the defaults) and nothing goes faster: the data bus is one shared resource.
//   - Requests are served in call order. Each one is seen at the first clock edge at or after its initiator's local
//     time (sc_time_stamp() + the delay it brings), and the model books two resources on absolute clock indices:
//       a bank:     accepts its next column command when the previous one's bursts have left its column pipeline
//                   (one command per burst time, tCCD = burst_length / 2); a row change first waits for that;
//       the bus:    data starts at max(column command + tCL, end of the bus's previous transfer).
//     So requests issued at the same time (an initiator with several outstanding) overlap their tRCD/tCL with the
//     transfers ahead of them and their data serializes on the bus, while a blocking initiator that waits for each
//     answer pays the whole latency every time. The returned delay is (end of data - sc_time_stamp()); b_transport
//     never waits.
//   - An access longer than a page is split at page boundaries, each piece booked on its own bank in address order.
//   - Not modeled: refresh (tRFC every tREFI costs about 4 % on DDR4), read/write turnaround, tRAS/tRTP/tWR/tFAW,
//     bank groups; writes use the read timing (tCWL taken as tCL).
//
// Storage: 64 KiB backing pages allocated on first write (or on a DMI request), so a 4 GiB or larger address space
// costs nothing until written; unwritten memory reads as zeros. Addresses are 64-bit.
//
// The TLM interface (Accellera's base protocol, checked in this order):
//   - address or address + length beyond size_bytes (including wrap-around) -> TLM_ADDRESS_ERROR_RESPONSE;
//   - TLM_IGNORE_COMMAND in range -> TLM_OK_RESPONSE with no data moved, no time and no bank state change (the base
//     protocol lets a target treat it as a no-op, which makes it a cheap probe of the address map);
//   - data length 0, or streaming width < data length (a FIFO-style burst) -> TLM_BURST_ERROR_RESPONSE;
//   - any byte-enable pointer -> TLM_BYTE_ENABLE_ERROR_RESPONSE (not supported);
//   - no data pointer -> TLM_GENERIC_ERROR_RESPONSE.
//   An error moves no data, adds no delay and leaves the bank state alone; it is counted, never reported or
//   asserted (bad traffic is the initiator's problem to handle). A successful transport sets the DMI hint.
//   DMI grants read/write access to one backing page (allocating it) with latencies of a one-burst row hit; DMI
//   accesses bypass the bank model. clear() drops the storage and invalidates every grant first. transport_dbg
//   reads or writes untimed, up to the end of memory, and never allocates for a read.
#pragma once

#include <tlm_utils/simple_target_socket.h>
#include <cstdint>
#include <memory>
#include <string>
#include <systemc>
#include <tlm>
#include <unordered_map>
#include <vector>

namespace circa {

// Defaults: the DDR4-2400 (CL16-16-16) x64 channel of a KCU105-class KU060 board, four x16 devices with 8 banks and
// 2 KiB pages each, so one row across the bus is 8 KiB.
struct DdrParams {
  std::uint64_t size_bytes = 4ull << 30;  // 4 GiB; anything up to 2^64 - 1
  std::uint32_t data_rate_mts = 2400;     // transfers per second per pin, in millions (DDR: two per clock)
  std::uint32_t bus_bytes = 8;            // data bus width
  std::uint32_t burst_length = 8;         // beats per burst (even)
  std::uint32_t tcl = 16;                 // CAS latency, DDR clocks
  std::uint32_t trcd = 16;                // activate to column command, DDR clocks
  std::uint32_t trp = 16;                 // precharge, DDR clocks
  std::uint32_t banks = 8;
  std::uint64_t page_bytes = 8192;  // one DRAM row across the bus; a multiple of bus_bytes * burst_length

  std::uint64_t burst_bytes() const { return std::uint64_t{bus_bytes} * burst_length; }
  std::uint64_t burst_clocks() const { return burst_length / 2; }
  double peak_bytes_per_second() const { return double(data_rate_mts) * 1e6 * bus_bytes; }
  // The first problem with these values, or "" when they are usable.
  std::string check() const;
};

struct DdrStats {
  std::uint64_t reads = 0, writes = 0;  // successful timed transactions
  std::uint64_t bytes_read = 0, bytes_written = 0;
  std::uint64_t row_hits = 0, row_misses = 0, row_conflicts = 0;  // per page-sized piece of an access
  std::uint64_t bus_busy_clocks = 0;                              // data bus transferring
  std::uint64_t busy_clocks = 0;                                  // at least one access in flight
  std::uint64_t address_errors = 0, burst_errors = 0, byte_enable_errors = 0, generic_errors = 0;
  std::uint64_t ignores = 0;
  std::uint64_t dmi_grants = 0, dmi_invalidations = 0;
  std::uint64_t debug_bytes = 0;  // moved by transport_dbg, and written by poke
};

class ddr_memory : public sc_core::sc_module {
public:
  static constexpr const char* kMsgId = "circa/ddr_memory";
  // Backing-store granule and DMI grant size.
  static constexpr std::uint64_t kBackingPageBytes = 64 * 1024;

  tlm_utils::simple_target_socket<ddr_memory> socket;

  ddr_memory(sc_core::sc_module_name name, const DdrParams& p = {});

  // Untimed accessors for the host runtime and tests: no bank state, no timed statistics. false (and nothing
  // transferred) when the range does not fit. peek allocates nothing.
  bool peek(std::uint64_t addr, std::uint8_t* dst, std::uint64_t bytes) const;
  bool poke(std::uint64_t addr, const std::uint8_t* src, std::uint64_t bytes);

  // Drops all storage (memory reads zero again) after invalidating every DMI grant.
  void clear();
  // Closes every open row, as a precharge-all (or a refresh) would: the next access to any bank is a miss.
  void precharge_all();

  // When the last booked access ends (sc_time_stamp() if the memory is idle).
  sc_core::sc_time idle_time() const;
  // n DDR clocks as a span of time.
  sc_core::sc_time clocks(std::uint64_t n) const;

  std::size_t pages_allocated() const { return pages_.size(); }
  const DdrParams& params() const { return p_; }
  const DdrStats& stats() const { return stats_; }

private:
  struct Bank {
    bool open = false;
    std::uint64_t row = 0;
    std::uint64_t ready = 0;  // clock index of the earliest next command
  };

  void b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay);
  bool get_direct_mem_ptr(tlm::tlm_generic_payload& gp, tlm::tlm_dmi& dmi);
  unsigned int transport_dbg(tlm::tlm_generic_payload& gp);

  bool in_range(std::uint64_t addr, std::uint64_t bytes) const {
    return addr < p_.size_bytes && bytes <= p_.size_bytes - addr;
  }
  // Books an access that arrives at clock `t_req` on the banks and the bus; returns the clock its data ends.
  std::uint64_t schedule(std::uint64_t addr, std::uint64_t bytes, std::uint64_t t_req);

  // Absolute time <-> DDR clock index, exact in integers: the clock period is 2e6 / data_rate ps.
  std::uint64_t clock_at_or_after(const sc_core::sc_time& t) const;
  sc_core::sc_time time_of_clock(std::uint64_t clock) const;

  std::uint8_t* page(std::uint64_t index);                   // allocates
  const std::uint8_t* find_page(std::uint64_t index) const;  // nullptr when never written
  void copy_out(std::uint64_t addr, std::uint8_t* dst, std::uint64_t bytes) const;
  void copy_in(std::uint64_t addr, const std::uint8_t* src, std::uint64_t bytes);

  DdrParams p_;
  DdrStats stats_;
  std::vector<Bank> banks_;
  std::uint64_t bus_free_ = 0;    // clock the data bus becomes free
  std::uint64_t busy_until_ = 0;  // clock the last booked access ends
  std::unordered_map<std::uint64_t, std::unique_ptr<std::uint8_t[]>> pages_;
  // Bulk copies touch the same page many times in a row.
  mutable std::uint64_t cached_index_ = ~std::uint64_t{0};
  mutable std::uint8_t* cached_page_ = nullptr;
  bool dmi_granted_ = false;
  std::uint64_t ps_per_tick_num_ = 1, ps_per_tick_den_ = 1;  // time resolution in ps, as a fraction
};

}  // namespace circa
