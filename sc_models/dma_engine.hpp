// circa: the accelerator's DMA engine, a TLM-2.0 initiator that moves strided 2-D tiles between DDR and an on-chip
// buffer (or a plain host byte span).
//
// A descriptor is rows x row_bytes: row r lives at ddr_addr + r * ddr_stride in DDR and at local_offset +
// r * local_stride on the local side, in either direction. Each row is cut into bursts of at most burst_bytes that
// never cross a burst_bytes-aligned DDR boundary (AXI's rule for 4 KiB, applied to the burst size). Every burst is
// one loosely-timed b_transport carrying real bytes; an error response ends the job with DmaStatus::bus_error and
// the failing burst's address and response (bursts before it have landed, as on hardware), never an abort.
//
// Timing. All times are accelerator clock edges (ClockParams); t0 is the first edge at or after the job starts.
// Burst i (in job order) with N = max_outstanding:
//   start_i = max(ready_i, done_{i-N})          (a burst needs a slot; done_j = t0 for j < 0)
//   stall  += start_i - ready_i                 (it was ready, but N bursts were in flight)
//   resp_i  = first edge at or after the time b_transport returns for a request made at issue_i
//   DDR -> local:  ready_i = issue_{i-1} + 1 cycle  (t0 for i = 0; one request per cycle on the address channel)
//                  issue_i = start_i
//                  done_i  = max(resp_i, done_{i-1}) + local_i      (bursts drain into the local side in order)
//   local -> DDR:  ready_i = rend_{i-1}             (t0 for i = 0; the source port reads ahead while bursts fly)
//                  rend_i  = start_i + local_i                      (the burst is read out of the local side)
//                  issue_i = max(rend_i, issue_{i-1} + 1 cycle)
//                  done_i  = resp_i
//   job cycles = (max_i done_i - t0) / period
// where local_i is the onchip_buffer's port cycles for the burst (0 for a host span, an ideal sink). The target
// (ddr_memory) books its banks and its data bus at each request's issue time, so up to N bursts overlap their
// tRCD/tCL while their data serializes on the bus: with enough outstanding bursts a sequential stream runs at
// the bus's peak after the first access, and with one it pays the whole access latency per burst.
//
// Time advances per burst group (a tile, group_bursts bursts): the engine issues a group's b_transports with their
// issue times as delays, then waits once, until the next group's first start (or the job's end). The issue times
// do not depend on the grouping, so neither do the cycles. Signals (with set_trace(true), as the datapath units):
// busy is high while a job runs and drops for the last cycle of each group, so each group is one rising edge;
// tile_index is the running group number; stall is high over a group in which some burst waited for a slot.
//
// Use: submit() a DmaJob from an SC_THREAD (or try_submit() from anywhere) and watch job.done / done_event(), or
// call transfer(), which blocks the calling SC_THREAD until its job is done. Jobs run one at a time, in order.
#pragma once

#include <tlm_utils/simple_initiator_socket.h>
#include <cstdint>
#include <string>
#include <systemc>
#include <tlm>
#include <vector>

#include "sc_models/clock.hpp"
#include "sc_models/onchip_buffer.hpp"
#include "sc_models/unit.hpp"

namespace circa {

struct DmaParams {
  // 256 B: a 4-beat burst of a 512-bit AXI port, four BL8 bursts of a 64-bit DDR channel.
  std::uint32_t burst_bytes = 256;
  // Bursts in flight. On a DDR4-2400 x64 channel a 256 B burst transfers in 16 clocks, so the three bursts ahead
  // of a new one cover 48 clocks: a row conflict's tRP + tRCD + tCL (a hit needs only one ahead).
  std::uint32_t max_outstanding = 4;
  // Bursts per tile, the time granularity: 16 x 256 B = 4 KiB per wait.
  std::uint32_t group_bursts = 16;
  // Descriptors that can wait while one runs.
  std::uint32_t queue_depth = 4;

  // The first problem with these values, or "" when they are usable.
  std::string check() const;
};

enum class DmaDirection : std::uint8_t { ddr_to_local, local_to_ddr };

struct DmaDescriptor {
  DmaDirection dir = DmaDirection::ddr_to_local;
  std::uint64_t ddr_addr = 0;
  std::uint64_t ddr_stride = 0;  // bytes from one row's start to the next in DDR
  std::uint32_t rows = 1;
  std::uint64_t row_bytes = 0;
  // The local side: an on-chip buffer region, or, when buffer is null, a host span of host_bytes bytes.
  onchip_buffer* buffer = nullptr;
  BufferRegion region = BufferRegion::whole;
  std::uint8_t* host = nullptr;
  std::uint64_t host_bytes = 0;
  std::uint64_t local_offset = 0;
  std::uint64_t local_stride = 0;
};

enum class DmaStatus : std::uint8_t {
  ok,
  bus_error,       // the target answered a burst with an error response
  local_error,     // the on-chip buffer rejected a burst
  bad_descriptor,  // the local extent does not fit, there is no local side, or the DDR extent wraps; nothing moved
};
const char* to_string(DmaStatus s);

struct DmaResult {
  DmaStatus status = DmaStatus::ok;
  tlm::tlm_response_status response = tlm::TLM_OK_RESPONSE;  // the failing burst's, for bus_error
  std::uint64_t error_addr = 0;                              // the failing burst's DDR address
  std::uint64_t bytes = 0;                                   // moved by successful bursts
  std::uint64_t bursts = 0;                                  // successful bursts
  std::uint64_t cycles = 0;                                  // t0 to the job's end
  std::uint64_t stall_cycles = 0;
  sc_core::sc_time start, end;  // t0 and the job's end
};

// What a caller owns until done is set: the engine keeps a pointer to it while it is queued or running.
struct DmaJob {
  DmaDescriptor desc;
  DmaResult result;
  bool done = false;
};

struct DmaStats {
  std::uint64_t jobs = 0, failed_jobs = 0;
  std::uint64_t bytes_read = 0;     // DDR -> local
  std::uint64_t bytes_written = 0;  // local -> DDR
  std::uint64_t bursts = 0;
  std::uint64_t groups = 0;
  std::uint64_t busy_cycles = 0;   // from each job's t0 to its end
  std::uint64_t stall_cycles = 0;  // a burst was ready but max_outstanding were in flight
  std::uint64_t local_cycles = 0;  // on-chip buffer port cycles
};

// unit_base supplies the VCD signals, the clock and set_trace(); its UnitStats mirror DmaStats as tiles = groups,
// busy_cycles, stall_in_cycles = stall_cycles (the DMA waits on its source, the DDR), ops = bursts.
class dma_engine : public unit_base {
public:
  static constexpr const char* kMsgId = "circa/dma_engine";

  tlm_utils::simple_initiator_socket<dma_engine> socket;

  dma_engine(sc_core::sc_module_name name, const DmaParams& p = {}, const ClockParams& clk = {});

  // Queue a job; blocks the calling SC_THREAD while the queue is full. Resets job.done and job.result.
  void submit(DmaJob& job);
  // Queue a job if there is room; callable outside a thread.
  bool try_submit(DmaJob& job);
  // Run one descriptor to completion from an SC_THREAD.
  DmaResult transfer(const DmaDescriptor& d);
  // Notified (one delta later) each time a job completes.
  const sc_core::sc_event& done_event() const { return done_event_; }
  bool idle() const { return !running_ && queue_.num_available() == 0; }

  const DmaParams& params() const { return p_; }
  const DmaStats& dma_stats() const { return dstats_; }

private:
  void run();
  void execute(DmaJob& job);
  bool validate(const DmaDescriptor& d) const;
  sc_core::sc_time align_up(const sc_core::sc_time& t) const;
  // Waits until `until` as the end of one group, with the busy/stall/tile_index conventions of the units.
  void end_group(const sc_core::sc_time& until, bool stalled);

  DmaParams p_;
  DmaStats dstats_;
  sc_core::sc_fifo<DmaJob*> queue_;
  sc_core::sc_event done_event_;
  bool running_ = false;
  sc_core::sc_time group_start_;  // the current burst group's first start, for the timeline
  tlm::tlm_generic_payload gp_;
  std::vector<std::uint8_t> staging_;    // one burst between the socket and the buffer
  std::vector<sc_core::sc_time> slots_;  // done_{i-N} .. done_{i-1}, indexed i % N
  std::uint32_t group_seq_ = 0;
};

}  // namespace circa
