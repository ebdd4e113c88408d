// ddr_memory bench: exact latencies of row hits, misses and conflicts for three DRAM parameter sets, streaming
// bandwidth against the peak, every error response, DMI, debug transport and sparse storage beyond 4 GiB.
//
// The DDR model never waits, so the tests call b_transport straight from the test body and read the annotated
// delay; settle() moves simulated time past every booked access between cases. One elaboration for the process.
#include <gtest/gtest.h>
#include <unistd.h>

#include <tlm_utils/simple_initiator_socket.h>
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <deque>
#include <string>
#include <systemc>
#include <tlm>
#include <vector>

#include "core/rng.hpp"
#include "sc_models/ddr_memory.hpp"

namespace {

using circa::ddr_memory;
using circa::DdrParams;
using sc_core::SC_NS;
using sc_core::SC_PS;
using sc_core::sc_time;
using sc_core::sc_time_stamp;

constexpr std::uint64_t GiB = 1ull << 30;

// A bare initiator: one socket, and a record of DMI invalidations.
struct Probe : sc_core::sc_module {
  tlm_utils::simple_initiator_socket<Probe> socket;
  int invalidations = 0;
  std::uint64_t inv_start = 0, inv_end = 0;

  explicit Probe(sc_core::sc_module_name n) : sc_module(n), socket("socket") {
    socket.register_invalidate_direct_mem_ptr(this, &Probe::invalidate);
  }
  void invalidate(sc_dt::uint64 s, sc_dt::uint64 e) {
    ++invalidations;
    inv_start = s;
    inv_end = e;
  }

  // One timed transaction; `delay` comes in as the initiator's local time offset and goes out annotated.
  tlm::tlm_response_status access(tlm::tlm_command cmd, std::uint64_t addr, std::uint8_t* data, unsigned len,
                                  sc_time& delay, unsigned width = ~0u, std::uint8_t* be = nullptr,
                                  bool* dmi_hint = nullptr) {
    tlm::tlm_generic_payload gp;
    gp.set_command(cmd);
    gp.set_address(addr);
    gp.set_data_ptr(data);
    gp.set_data_length(len);
    gp.set_streaming_width(width == ~0u ? len : width);
    gp.set_byte_enable_ptr(be);
    gp.set_byte_enable_length(be != nullptr ? len : 0);
    gp.set_dmi_allowed(false);
    gp.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
    socket->b_transport(gp, delay);
    if (dmi_hint != nullptr) *dmi_hint = gp.is_dmi_allowed();
    return gp.get_response_status();
  }
  unsigned debug(tlm::tlm_command cmd, std::uint64_t addr, std::uint8_t* data, unsigned len) {
    tlm::tlm_generic_payload gp;
    gp.set_command(cmd);
    gp.set_address(addr);
    gp.set_data_ptr(data);
    gp.set_data_length(len);
    return socket->transport_dbg(gp);
  }
};

struct Rig {
  ddr_memory ddr;
  Probe probe;
  Rig(const char* name, const DdrParams& p) : ddr(name, p), probe((std::string(name) + "_probe").c_str()) {
    probe.socket.bind(ddr.socket);
  }
};

// DDR3-1600 11-11-11: tCK = 1.25 ns, 64-bit bus, BL8 (64 B in 4 clocks), 8 banks of 8 KiB rows.
DdrParams ddr3_1600() {
  DdrParams p;
  p.size_bytes = 1 * GiB;
  p.data_rate_mts = 1600;
  p.tcl = p.trcd = p.trp = 11;
  return p;
}
// A narrow fast part: 3200 MT/s (tCK = 0.625 ns), 32-bit bus, BL16 (64 B in 8 clocks), 22-22-22, 16 banks of
// 1 KiB rows; the size is not a multiple of the 64 KiB backing page.
DdrParams narrow_3200() {
  DdrParams p;
  p.size_bytes = 1 * GiB + 4096;
  p.data_rate_mts = 3200;
  p.bus_bytes = 4;
  p.burst_length = 16;
  p.tcl = p.trcd = p.trp = 22;
  p.banks = 16;
  p.page_bytes = 1024;
  return p;
}
DdrParams big_8g() {
  DdrParams p;
  p.size_bytes = 8 * GiB;
  return p;
}

struct Bench {
  Rig a{"a", ddr3_1600()};
  Rig b{"b", DdrParams{}};  // the defaults: DDR4-2400 16-16-16, tCK = 0.8333 ns, 8 banks of 8 KiB rows
  Rig c{"c", narrow_3200()};
  Rig big{"big", big_8g()};

  Bench() { sc_core::sc_start(sc_core::SC_ZERO_TIME); }
  std::vector<Rig*> all() { return {&a, &b, &c, &big}; }
};

Bench& bench() {
  static Bench* b = new Bench();  // elaborated once for the whole process; never destroyed (SystemC owns modules)
  return *b;
}

// Runs time past every booked access and onto a multiple of 10 ns, which is a whole number of clocks for every
// data rate here (8 x 1.25 ns, 12 x 0.8333 ns, 16 x 0.625 ns), so a request is seen exactly when it is made.
void settle() {
  const sc_time grid(10, SC_NS);
  sc_time t = sc_time_stamp();
  for (Rig* r : bench().all()) t = std::max(t, r->ddr.idle_time());
  t += grid;
  t = sc_time::from_value((t.value() + grid.value() - 1) / grid.value() * grid.value());
  sc_core::sc_start(t - sc_time_stamp());
}

// Latency of one read made now on an idle memory.
sc_time read_latency(Rig& r, std::uint64_t addr, unsigned len) {
  settle();
  std::vector<std::uint8_t> buf(len);
  sc_time delay = sc_core::SC_ZERO_TIME;
  EXPECT_EQ(r.probe.access(tlm::TLM_READ_COMMAND, addr, buf.data(), len, delay), tlm::TLM_OK_RESPONSE);
  return delay;
}

TEST(DdrMemory, RowHitMissConflictDdr3_1600) {
  Rig& r = bench().a;
  r.ddr.precharge_all();
  const auto s0 = r.ddr.stats();
  // Miss (bank 0 precharged): tRCD 11 + tCL 11 + 64 B / (8 B x 2 per clock) = 4 -> 26 clocks x 1.25 ns = 32.5 ns.
  EXPECT_EQ(read_latency(r, 0, 64), sc_time(32500, SC_PS));
  // Hit (row 0 of bank 0 is open): tCL 11 + 4 = 15 clocks = 18.75 ns.
  EXPECT_EQ(read_latency(r, 64, 64), sc_time(18750, SC_PS));
  // Conflict: 64 KiB = 8 KiB page x 8 banks later is bank 0 again, row 1:
  // tRP 11 + tRCD 11 + tCL 11 + 4 = 37 clocks = 46.25 ns.
  EXPECT_EQ(read_latency(r, 65536, 64), sc_time(46250, SC_PS));
  // Hit on the row just opened, 256 B: tCL 11 + 256 / 16 = 16 -> 27 clocks = 33.75 ns.
  EXPECT_EQ(read_latency(r, 65536 + 64, 256), sc_time(33750, SC_PS));
  // The next page is bank 1, still precharged: a miss, 26 clocks = 32.5 ns.
  EXPECT_EQ(read_latency(r, 8192, 64), sc_time(32500, SC_PS));
  // A 4-byte read still moves a whole BL8 burst: tCL 11 + 4 = 15 clocks = 18.75 ns.
  EXPECT_EQ(read_latency(r, 8192 + 100, 4), sc_time(18750, SC_PS));
  const auto& s = r.ddr.stats();
  EXPECT_EQ(s.row_hits - s0.row_hits, 3u);
  EXPECT_EQ(s.row_misses - s0.row_misses, 2u);
  EXPECT_EQ(s.row_conflicts - s0.row_conflicts, 1u);
  // Bus busy 4 + 4 + 4 + 16 + 4 + 4 = 36 clocks; the accesses never overlapped, so busy = 26+15+37+27+26+15.
  EXPECT_EQ(s.bus_busy_clocks - s0.bus_busy_clocks, 36u);
  EXPECT_EQ(s.busy_clocks - s0.busy_clocks, 146u);
}

TEST(DdrMemory, RowHitMissConflictDdr4_2400) {
  Rig& r = bench().b;
  r.ddr.precharge_all();
  // Miss: tRCD 16 + tCL 16 + 64 B / 16 B per clock = 4 -> 36 clocks x 0.8333 ns = 30 ns.
  EXPECT_EQ(read_latency(r, 0, 64), sc_time(30, SC_NS));
  // Hit, 128 B: tCL 16 + 8 = 24 clocks = 20 ns.
  EXPECT_EQ(read_latency(r, 128, 128), sc_time(20, SC_NS));
  // Conflict (bank 0, row 1), 192 B: tRP 16 + tRCD 16 + tCL 16 + 12 = 60 clocks = 50 ns.
  EXPECT_EQ(read_latency(r, 65536, 192), sc_time(50, SC_NS));
  // A 64 B hit: tCL 16 + 4 = 20 clocks = 16666.67 ps, which the model truncates to the picosecond.
  EXPECT_EQ(read_latency(r, 65536 + 512, 64), sc_time(16666, SC_PS));
}

TEST(DdrMemory, RowHitMissConflictNarrow3200) {
  Rig& r = bench().c;
  r.ddr.precharge_all();
  // Miss: tRCD 22 + tCL 22 + 64 B / (4 B x 2 per clock) = 8 -> 52 clocks x 0.625 ns = 32.5 ns.
  EXPECT_EQ(read_latency(r, 0, 64), sc_time(32500, SC_PS));
  // Hit, 8 B at 60 straddles the 64 B burst boundary: two bursts -> tCL 22 + 16 = 38 clocks = 23.75 ns.
  EXPECT_EQ(read_latency(r, 60, 8), sc_time(23750, SC_PS));
  // Conflict: 1 KiB page x 16 banks = 16 KiB later is bank 0, row 1: 22 x 3 + 8 = 74 clocks = 46.25 ns.
  EXPECT_EQ(read_latency(r, 16384, 64), sc_time(46250, SC_PS));
  // 2 KiB from 2048 spans banks 2 and 3, both precharged. Bank 3 activates while bank 2 transfers, so only the
  // first activation shows: tRCD 22 + tCL 22 + 2048 B / 8 B per clock = 256 -> 300 clocks = 187.5 ns.
  EXPECT_EQ(read_latency(r, 2048, 2048), sc_time(187500, SC_PS));
}

// A sequential 1 MiB read in 256 B requests on the default DDR4-2400 x64 (peak 2400 MT/s x 8 B = 19.2 GB/s),
// issued by an initiator that keeps `window` requests in flight: request i is made when request i - window has
// completed. Returns the time from the first request to the last byte.
sc_time stream(Rig& r, int window) {
  r.ddr.precharge_all();
  settle();
  const sc_time t0 = sc_time_stamp();
  constexpr unsigned kReq = 256;
  constexpr int kCount = (1 << 20) / kReq;
  std::vector<std::uint8_t> buf(kReq);
  std::deque<sc_time> in_flight;  // completion times, oldest first
  sc_time last = t0;
  for (int i = 0; i < kCount; ++i) {
    sc_time issue = t0;
    if (static_cast<int>(in_flight.size()) == window) {
      issue = in_flight.front();
      in_flight.pop_front();
    }
    sc_time delay = issue - sc_time_stamp();
    EXPECT_EQ(r.probe.access(tlm::TLM_READ_COMMAND, std::uint64_t(i) * kReq, buf.data(), kReq, delay),
              tlm::TLM_OK_RESPONSE);
    const sc_time done = sc_time_stamp() + delay;
    in_flight.push_back(done);
    last = std::max(last, done);
  }
  return last - t0;
}

TEST(DdrMemory, StreamingReadAgainstPeak) {
  Rig& r = bench().b;
  const double peak = r.ddr.params().peak_bytes_per_second();
  ASSERT_DOUBLE_EQ(peak, 19.2e9);

  // Four 256 B requests in flight. Each transfers in 256 / 16 = 16 clocks; the worst access ahead of its data, a
  // row conflict tRP + tRCD + tCL = 48 clocks, is covered by the three transfers already queued (3 x 16 = 48), so
  // after the first request (tRCD 16 + tCL 16) the bus never idles:
  //   32 + 4096 x 16 = 65568 clocks x 0.8333 ns = 54.64 us; efficiency 65536 / 65568 = 99.95 % of the peak.
  // Only the first access's latency is lost; refresh and read/write turnaround are not modeled.
  const auto s0 = r.ddr.stats();
  const sc_time t4 = stream(r, 4);
  EXPECT_EQ(t4, sc_time(54640, SC_NS));
  const double eff4 = double(1 << 20) / (t4.to_seconds() * peak);
  EXPECT_NEAR(eff4, 65536.0 / 65568.0, 1e-12);
  EXPECT_EQ(r.ddr.stats().bus_busy_clocks - s0.bus_busy_clocks, 65536u);
  EXPECT_EQ(r.ddr.stats().busy_clocks - s0.busy_clocks, 65568u);
  std::printf("[ stream  ] DDR4-2400 x64, 1 MiB in 256 B reads, 4 in flight: %.2f GB/s = %.2f %% of %.1f GB/s\n",
              1048576 / t4.to_seconds() / 1e9, 100 * eff4, peak / 1e9);

  // One request at a time (a blocking initiator): every request pays its latency before its 16 transfer clocks.
  // 1 MiB is 128 pieces of 8 KiB rows: the first 8 open a precharged bank (miss), the other 120 find the bank's
  // previous row open (conflict), the remaining 3968 requests hit:
  //   3968 x (tCL 16 + 16) + 8 x (tRCD 16 + tCL 16 + 16) + 120 x (tRP 16 + tRCD 16 + tCL 16 + 16)
  //   = 126976 + 384 + 7680 = 135040 clocks x 0.8333 ns = 112533.33 ns (112533333 ps, truncated);
  // efficiency 65536 / 135040 = 48.53 %.
  const auto s1 = r.ddr.stats();
  const sc_time t1 = stream(r, 1);
  EXPECT_EQ(t1, sc_time(112533333, SC_PS));
  EXPECT_EQ(r.ddr.stats().row_misses - s1.row_misses, 8u);
  EXPECT_EQ(r.ddr.stats().row_conflicts - s1.row_conflicts, 120u);
  EXPECT_EQ(r.ddr.stats().row_hits - s1.row_hits, 3968u);
  const double eff1 = double(1 << 20) / (t1.to_seconds() * peak);
  EXPECT_NEAR(eff1, 65536.0 / 135040.0, 1e-6);
  std::printf("[ stream  ] the same with 1 in flight: %.2f GB/s = %.2f %% of the peak\n",
              1048576 / t1.to_seconds() / 1e9, 100 * eff1);
}

TEST(DdrMemory, WritesMoveDataAndCostLikeReads) {
  Rig& r = bench().a;
  r.ddr.precharge_all();
  settle();
  auto data = std::vector<std::uint8_t>(300);
  circa::Rng rng(11);
  for (auto& x : data) x = static_cast<std::uint8_t>(rng.next());
  sc_time delay = sc_core::SC_ZERO_TIME;
  const std::uint64_t addr = 3 * 8192 + 5;  // bank 3, precharged; bytes 5..304 touch bursts 0..4
  const auto w0 = r.ddr.stats().bytes_written;
  ASSERT_EQ(r.probe.access(tlm::TLM_WRITE_COMMAND, addr, data.data(), 300, delay), tlm::TLM_OK_RESPONSE);
  // Miss: tRCD 11 + tCL 11 + 5 bursts x 4 = 42 clocks x 1.25 ns = 52.5 ns.
  EXPECT_EQ(delay, sc_time(52500, SC_PS));
  EXPECT_EQ(r.ddr.stats().bytes_written - w0, 300u);
  std::vector<std::uint8_t> back(300);
  ASSERT_TRUE(r.ddr.peek(addr, back.data(), back.size()));
  EXPECT_EQ(back, data);
}

TEST(DdrMemory, EveryErrorResponse) {
  Rig& r = bench().a;
  const std::uint64_t size = r.ddr.params().size_bytes;
  const auto s0 = r.ddr.stats();
  const sc_time in(7, SC_NS);
  std::uint8_t buf[8];
  std::memset(buf, 0xEE, sizeof buf);
  std::uint8_t be[8];
  std::memset(be, 0xFF, sizeof be);
  auto check = [&](tlm::tlm_command cmd, std::uint64_t addr, std::uint8_t* data, unsigned len, unsigned width,
                   std::uint8_t* bytes_en) {
    sc_time delay = in;
    const tlm::tlm_response_status st = r.probe.access(cmd, addr, data, len, delay, width, bytes_en);
    EXPECT_EQ(delay, in) << "an error costs no time";
    return st;
  };
  // The memory before the end: a failed write must not touch it.
  const std::uint8_t seed[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  ASSERT_TRUE(r.ddr.poke(size - 8, seed, 8));

  EXPECT_EQ(check(tlm::TLM_READ_COMMAND, size, buf, 8, 8, nullptr), tlm::TLM_ADDRESS_ERROR_RESPONSE);
  EXPECT_EQ(check(tlm::TLM_WRITE_COMMAND, size - 4, buf, 8, 8, nullptr), tlm::TLM_ADDRESS_ERROR_RESPONSE);
  EXPECT_EQ(check(tlm::TLM_READ_COMMAND, ~std::uint64_t{0} - 3, buf, 8, 8, nullptr),  // wraps past 2^64
            tlm::TLM_ADDRESS_ERROR_RESPONSE);
  EXPECT_EQ(check(tlm::TLM_IGNORE_COMMAND, size, buf, 8, 8, nullptr), tlm::TLM_ADDRESS_ERROR_RESPONSE);
  // Streaming (width 4 < length 8), and a zero-length transfer.
  EXPECT_EQ(check(tlm::TLM_WRITE_COMMAND, size - 8, buf, 8, 4, nullptr), tlm::TLM_BURST_ERROR_RESPONSE);
  EXPECT_EQ(check(tlm::TLM_READ_COMMAND, 0, buf, 0, 0, nullptr), tlm::TLM_BURST_ERROR_RESPONSE);
  // Byte enables, even all-ones.
  EXPECT_EQ(check(tlm::TLM_WRITE_COMMAND, size - 8, buf, 8, 8, be), tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE);
  // No data pointer.
  EXPECT_EQ(check(tlm::TLM_READ_COMMAND, 0, nullptr, 8, 8, nullptr), tlm::TLM_GENERIC_ERROR_RESPONSE);
  // IGNORE in range is a no-op that succeeds.
  EXPECT_EQ(check(tlm::TLM_IGNORE_COMMAND, size - 8, buf, 8, 8, nullptr), tlm::TLM_OK_RESPONSE);

  for (std::uint8_t x : buf) EXPECT_EQ(x, 0xEE);
  std::uint8_t back[8];
  ASSERT_TRUE(r.ddr.peek(size - 8, back, 8));
  EXPECT_EQ(std::memcmp(back, seed, 8), 0);

  const auto& s = r.ddr.stats();
  EXPECT_EQ(s.address_errors - s0.address_errors, 4u);
  EXPECT_EQ(s.burst_errors - s0.burst_errors, 2u);
  EXPECT_EQ(s.byte_enable_errors - s0.byte_enable_errors, 1u);
  EXPECT_EQ(s.generic_errors - s0.generic_errors, 1u);
  EXPECT_EQ(s.ignores - s0.ignores, 1u);
  EXPECT_EQ(s.reads - s0.reads, 0u);
  EXPECT_EQ(s.writes - s0.writes, 0u);
}

TEST(DdrMemory, DirectMemoryInterface) {
  Rig& r = bench().c;
  const std::uint64_t size = r.ddr.params().size_bytes;
  tlm::tlm_generic_payload gp;
  tlm::tlm_dmi dmi;
  gp.set_command(tlm::TLM_READ_COMMAND);
  gp.set_address(0x12345);
  ASSERT_TRUE(r.probe.socket->get_direct_mem_ptr(gp, dmi));
  ASSERT_NE(dmi.get_dmi_ptr(), nullptr);
  EXPECT_EQ(dmi.get_start_address(), 0x10000u);  // the 64 KiB backing page around the address
  EXPECT_EQ(dmi.get_end_address(), 0x1FFFFu);
  EXPECT_TRUE(dmi.is_read_write_allowed());
  // A one-burst row hit: tCL 22 + BL16 / 2 = 8 -> 30 clocks x 0.625 ns = 18.75 ns, for reads and writes.
  EXPECT_EQ(dmi.get_read_latency(), sc_time(18750, SC_PS));
  EXPECT_EQ(dmi.get_write_latency(), sc_time(18750, SC_PS));

  // Written through the pointer, seen by debug and timed transport.
  unsigned char* p = dmi.get_dmi_ptr();
  const std::uint8_t msg[5] = {'c', 'i', 'r', 'c', 'a'};
  std::memcpy(p + 0x2345, msg, 5);
  std::uint8_t got[5] = {};
  EXPECT_EQ(r.probe.debug(tlm::TLM_READ_COMMAND, 0x12345, got, 5), 5u);
  EXPECT_EQ(std::memcmp(got, msg, 5), 0);
  std::memset(got, 0, 5);
  sc_time delay = sc_core::SC_ZERO_TIME;
  bool hint = false;
  ASSERT_EQ(r.probe.access(tlm::TLM_READ_COMMAND, 0x12345, got, 5, delay, ~0u, nullptr, &hint), tlm::TLM_OK_RESPONSE);
  EXPECT_EQ(std::memcmp(got, msg, 5), 0);
  EXPECT_TRUE(hint) << "a successful transport offers DMI";

  // Written by timed transport, seen through the pointer.
  std::uint8_t val[4] = {0xDE, 0xAD, 0xBE, 0xEF};
  delay = sc_core::SC_ZERO_TIME;
  ASSERT_EQ(r.probe.access(tlm::TLM_WRITE_COMMAND, 0x1FFFC, val, 4, delay), tlm::TLM_OK_RESPONSE);
  EXPECT_EQ(std::memcmp(p + 0xFFFC, val, 4), 0);

  // The last page is cut at the end of memory (size = 1 GiB + 4 KiB).
  tlm::tlm_dmi last;
  gp.set_address(size - 1);
  ASSERT_TRUE(r.probe.socket->get_direct_mem_ptr(gp, last));
  EXPECT_EQ(last.get_start_address(), 1 * GiB);
  EXPECT_EQ(last.get_end_address(), size - 1);
  // Beyond the end: refused, for everything above.
  tlm::tlm_dmi none;
  gp.set_address(size);
  EXPECT_FALSE(r.probe.socket->get_direct_mem_ptr(gp, none));
  EXPECT_TRUE(none.is_none_allowed());
  EXPECT_EQ(none.get_start_address(), size);
  EXPECT_EQ(none.get_end_address(), ~std::uint64_t{0});

  // clear() takes the storage away, so it first invalidates every pointer handed out.
  const int inv0 = r.probe.invalidations;
  r.ddr.clear();
  EXPECT_EQ(r.probe.invalidations, inv0 + 1);
  EXPECT_EQ(r.probe.inv_start, 0u);
  EXPECT_EQ(r.probe.inv_end, ~std::uint64_t{0});
  EXPECT_EQ(r.ddr.pages_allocated(), 0u);
  ASSERT_TRUE(r.ddr.peek(0x12345, got, 5));
  for (std::uint8_t x : got) EXPECT_EQ(x, 0);
  // With no grant outstanding there is nothing to invalidate.
  r.ddr.clear();
  EXPECT_EQ(r.probe.invalidations, inv0 + 1);
}

TEST(DdrMemory, DebugTransport) {
  Rig& r = bench().a;
  const std::uint64_t size = r.ddr.params().size_bytes;
  const auto reads0 = r.ddr.stats().reads;
  std::uint8_t src[16];
  for (int i = 0; i < 16; ++i) src[i] = static_cast<std::uint8_t>(0xA0 + i);
  // Only the 8 bytes that exist are written.
  EXPECT_EQ(r.probe.debug(tlm::TLM_WRITE_COMMAND, size - 8, src, 16), 8u);
  std::uint8_t back[8];
  EXPECT_EQ(r.probe.debug(tlm::TLM_READ_COMMAND, size - 8, back, 8), 8u);
  EXPECT_EQ(std::memcmp(back, src, 8), 0);
  EXPECT_EQ(r.probe.debug(tlm::TLM_READ_COMMAND, size, back, 8), 0u);
  EXPECT_EQ(r.probe.debug(tlm::TLM_IGNORE_COMMAND, 0, back, 8), 0u);
  // An untimed read of memory never written allocates nothing.
  const std::size_t pages = r.ddr.pages_allocated();
  EXPECT_EQ(r.probe.debug(tlm::TLM_READ_COMMAND, 512 * 1024 * 1024, back, 8), 8u);
  for (std::uint8_t x : back) EXPECT_EQ(x, 0);
  EXPECT_EQ(r.ddr.pages_allocated(), pages);
  EXPECT_EQ(r.ddr.stats().reads, reads0);  // debug traffic is not timed traffic
}

std::uint64_t resident_bytes() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  unsigned long total = 0, resident = 0;
  const int n = std::fscanf(f, "%lu %lu", &total, &resident);
  std::fclose(f);
  return n == 2 ? std::uint64_t(resident) * std::uint64_t(sysconf(_SC_PAGESIZE)) : 0;
}

TEST(DdrMemory, SparseStorageBeyond4GiB) {
  Rig& r = bench().big;
  ASSERT_EQ(r.ddr.params().size_bytes, 8 * GiB);
  const std::uint64_t rss0 = resident_bytes();
  ASSERT_GT(rss0, 0u);
  EXPECT_EQ(r.ddr.pages_allocated(), 0u);

  std::vector<std::uint8_t> a(4096), b(4096);
  circa::Rng rng(5);
  for (auto& x : a) x = static_cast<std::uint8_t>(rng.next());
  for (auto& x : b) x = static_cast<std::uint8_t>(rng.next());
  const std::uint64_t at35 = 7 * GiB / 2, at6 = 6 * GiB, at_end = 8 * GiB - 64;
  settle();
  sc_time delay = sc_core::SC_ZERO_TIME;
  ASSERT_EQ(r.probe.access(tlm::TLM_WRITE_COMMAND, at35, a.data(), 4096, delay), tlm::TLM_OK_RESPONSE);
  ASSERT_TRUE(r.ddr.poke(at6, b.data(), b.size()));
  delay = sc_core::SC_ZERO_TIME;
  ASSERT_EQ(r.probe.access(tlm::TLM_WRITE_COMMAND, at_end, a.data(), 64, delay), tlm::TLM_OK_RESPONSE);

  std::vector<std::uint8_t> back(4096);
  delay = sc_core::SC_ZERO_TIME;
  ASSERT_EQ(r.probe.access(tlm::TLM_READ_COMMAND, at6, back.data(), 4096, delay), tlm::TLM_OK_RESPONSE);
  EXPECT_EQ(back, b);
  ASSERT_TRUE(r.ddr.peek(at35, back.data(), back.size()));
  EXPECT_EQ(back, a);
  ASSERT_TRUE(r.ddr.peek(at_end, back.data(), 64));
  EXPECT_TRUE(std::equal(back.begin(), back.begin() + 64, a.begin()));
  // Unwritten memory anywhere reads as zeros and allocates nothing.
  delay = sc_core::SC_ZERO_TIME;
  ASSERT_EQ(r.probe.access(tlm::TLM_READ_COMMAND, 5 * GiB, back.data(), 4096, delay), tlm::TLM_OK_RESPONSE);
  EXPECT_TRUE(std::all_of(back.begin(), back.end(), [](std::uint8_t x) { return x == 0; }));
  EXPECT_EQ(r.ddr.pages_allocated(), 3u);  // three 64 KiB pages for an 8 GiB memory
  // One past the end is out of range, however big the memory.
  delay = sc_core::SC_ZERO_TIME;
  EXPECT_EQ(r.probe.access(tlm::TLM_READ_COMMAND, 8 * GiB, back.data(), 1, delay), tlm::TLM_ADDRESS_ERROR_RESPONSE);

  const std::uint64_t rss1 = resident_bytes();
  const std::uint64_t grown = rss1 > rss0 ? rss1 - rss0 : 0;
  std::printf("[ sparse  ] 8 GiB memory, 3 pages written: resident %.1f MiB, grew %.1f KiB\n", rss1 / 1048576.0,
              grown / 1024.0);
  EXPECT_LT(grown, 16u << 20);
  EXPECT_LT(rss1, 1u * GiB) << "an 8 GiB memory must not be resident";
}

TEST(DdrMemory, BadParametersAreReplaced) {
  DdrParams p;
  p.page_bytes = 100;  // not a multiple of the 64 B burst
  EXPECT_FALSE(p.check().empty());
  p = DdrParams{};
  p.burst_length = 7;
  EXPECT_FALSE(p.check().empty());
  EXPECT_TRUE(DdrParams{}.check().empty());
  EXPECT_TRUE(ddr3_1600().check().empty());
  EXPECT_TRUE(narrow_3200().check().empty());
}

}  // namespace
