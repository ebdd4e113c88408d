// dma_engine bench: exact job cycles against ddr_memory for several outstanding limits and burst sizes, strided 2-D
// transfers that land byte for byte, error responses that end a job with a status, the queue, and the VCD signals.
//
// Every rig is its own DDR + DMA pair so that bank state is known. All of them use one DDR3-1600 part with
// tCL = tRCD = tRP = 12 and 2 KiB rows in 8 banks: at the 200 MHz accelerator clock one cycle (5 ns) is exactly
// 4 DDR clocks, so tCL, tRCD and tRP are 3 cycles each and a 64 B BL8 burst (4 clocks) is 1 cycle.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <string>
#include <systemc>
#include <vector>

#include "core/rng.hpp"
#include "sc_models/ddr_memory.hpp"
#include "sc_models/dma_engine.hpp"
#include "sc_models/onchip_buffer.hpp"

namespace {

using circa::BufferRegion;
using circa::ddr_memory;
using circa::DdrParams;
using circa::dma_engine;
using circa::DmaDescriptor;
using circa::DmaDirection;
using circa::DmaJob;
using circa::DmaParams;
using circa::DmaResult;
using circa::DmaStatus;
using circa::onchip_buffer;
using circa::OnchipBufferParams;
using sc_core::SC_NS;
using sc_core::sc_time;
using sc_core::sc_time_stamp;

constexpr std::uint64_t GiB = 1ull << 30;

DdrParams ddr() {
  DdrParams p;
  p.size_bytes = 1 * GiB;
  p.data_rate_mts = 1600;
  p.tcl = p.trcd = p.trp = 12;
  p.page_bytes = 2048;
  return p;
}

DmaParams dma(std::uint32_t burst, std::uint32_t outstanding, std::uint32_t group) {
  DmaParams p;
  p.burst_bytes = burst;
  p.max_outstanding = outstanding;
  p.group_bursts = group;
  return p;
}

struct Rig {
  ddr_memory mem;
  dma_engine eng;
  Rig(const std::string& name, const DmaParams& p)
      : mem((name + "_ddr").c_str(), ddr()), eng((name + "_dma").c_str(), p) {
    eng.socket.bind(mem.socket);
  }
};

// Runs test scripts inside an SC_THREAD, where the DMA's blocking calls may wait.
struct Driver : sc_core::sc_module {
  std::function<void()> script;
  bool finished = true;
  sc_core::sc_event go;
  SC_HAS_PROCESS(Driver);
  explicit Driver(sc_core::sc_module_name n) : sc_module(n) { SC_THREAD(run); }
  void run() {
    for (;;) {
      // The level first: a script posted before this thread first ran is not lost.
      if (finished) wait(go);
      script();
      finished = true;
    }
  }
};

// Counts rising edges of a busy signal, the way a VCD reader counts tiles.
struct EdgeCounter : sc_core::sc_module {
  const sc_core::sc_signal_in_if<bool>& sig;
  int rises = 0;
  SC_HAS_PROCESS(EdgeCounter);
  EdgeCounter(sc_core::sc_module_name n, const sc_core::sc_signal_in_if<bool>& s) : sc_module(n), sig(s) {
    SC_METHOD(count);
    sensitive << sig;
    dont_initialize();
  }
  void count() {
    if (sig.read()) ++rises;
  }
};

struct Bench {
  Rig one{"one", dma(256, 1, 4)};          // 256 B bursts, 1 outstanding
  Rig four{"four", dma(256, 4, 4)};        // 256 B bursts, 4 outstanding
  Rig four_g1{"four_g1", dma(256, 4, 1)};  // the same, one burst per tile
  Rig two64{"two64", dma(64, 2, 8)};       // 64 B bursts, 2 outstanding
  Rig buf{"buf", dma(256, 2, 4)};          // into an on-chip buffer slower than the DDR
  Rig traced{"traced", dma(256, 4, 4)};
  onchip_buffer sram{"sram", [] {
                       OnchipBufferParams p;
                       p.capacity_bytes = 64 * 1024;
                       p.word_bytes = 8;
                       p.ports = 2;  // 16 B/cycle
                       return p;
                     }()};
  Driver driver{"driver"};
  EdgeCounter edges{"edges", traced.eng.busy};

  Bench() {
    traced.eng.set_trace(true);
    sc_core::sc_start(sc_core::SC_ZERO_TIME);
  }
};

Bench& bench() {
  static Bench* b = new Bench();  // elaborated once for the whole process; never destroyed (SystemC owns modules)
  return *b;
}

// Runs `fn` in the driver thread until it returns.
void run(const std::function<void()>& fn) {
  Driver& d = bench().driver;
  d.script = fn;
  d.finished = false;
  d.go.notify(sc_core::SC_ZERO_TIME);
  sc_core::sc_start();
  ASSERT_TRUE(d.finished) << "the script did not finish (deadlock?)";
}

// From a thread: lets the rig's DDR drain, closes its rows and moves onto a 10 ns boundary (a whole number of
// accelerator and DDR clocks), so a job's t0 is the time it is submitted.
void settle(Rig& r) {
  const sc_time grid(10, SC_NS);
  sc_time t = std::max(sc_time_stamp(), r.mem.idle_time()) + grid;
  t = sc_time::from_value((t.value() + grid.value() - 1) / grid.value() * grid.value());
  sc_core::wait(t - sc_time_stamp());
  r.mem.precharge_all();
}

DmaDescriptor read_to_host(std::uint64_t addr, std::uint64_t bytes, std::vector<std::uint8_t>& host) {
  DmaDescriptor d;
  d.dir = DmaDirection::ddr_to_local;
  d.ddr_addr = addr;
  d.rows = 1;
  d.row_bytes = bytes;
  d.host = host.data();
  d.host_bytes = host.size();
  return d;
}

std::vector<std::uint8_t> random_bytes(std::size_t n, std::uint64_t seed) {
  circa::Rng rng(seed);
  std::vector<std::uint8_t> v(n);
  for (auto& x : v) x = static_cast<std::uint8_t>(rng.next());
  return v;
}

DmaResult timed_read(Rig& r, std::uint64_t addr, std::uint64_t bytes) {
  DmaResult res;
  std::vector<std::uint8_t> host(bytes);
  run([&] {
    settle(r);
    res = r.eng.transfer(read_to_host(addr, bytes, host));
  });
  EXPECT_EQ(res.status, DmaStatus::ok);
  EXPECT_EQ(res.bytes, bytes);
  return res;
}

// 4 KiB from address 0 = 16 bursts of 256 B. Bursts 0-7 fill row 0 of bank 0, bursts 8-15 row 0 of bank 1, both
// precharged. One burst's data takes 256 B / 16 B per DDR clock = 16 clocks = 4 cycles.
TEST(DmaEngine, OneOutstanding4KiB) {
  Rig& r = bench().one;
  const DmaResult res = timed_read(r, 0, 4096);
  // Each burst is issued when the previous one is done, so each pays its whole latency:
  //   bursts 0 and 8 miss:  tRCD 3 + tCL 3 + 4 = 10 cycles each;
  //   the other 14 hit:     tCL 3 + 4          =  7 cycles each;
  //   2 x 10 + 14 x 7 = 118 cycles.
  EXPECT_EQ(res.cycles, 118u);
  EXPECT_EQ(res.bursts, 16u);
  // Burst i (i >= 1) was ready one cycle after burst i-1 was issued and waited for it to finish: latency - 1 each,
  // over bursts 0..14: (10 - 1) + 7 x (7 - 1) + (10 - 1) + 6 x (7 - 1) = 9 + 42 + 9 + 36 = 96 cycles.
  EXPECT_EQ(res.stall_cycles, 96u);
  // 4096 B at the 12.8 GB/s peak take 64 cycles: 64 / 118 = 54 % of the bus.
}

TEST(DmaEngine, FourOutstanding4KiB) {
  Rig& r = bench().four;
  const DmaResult res = timed_read(r, 0, 4096);
  // Bursts 0-3 go out on cycles 0-3. Burst 0 misses: its data starts after tRCD 3 + tCL 3 and ends at 10. Every
  // later burst's access latency (a hit's tCL 3 after its issue, or bank 1's tRCD 3 + tCL 3 at burst 8) is covered
  // by the three 4-cycle transfers queued ahead of it, so the data bus never idles again:
  //   10 + 15 x 4 = 70 cycles (64 cycles of data: 91 % of the peak).
  EXPECT_EQ(res.cycles, 70u);
  // Stalls: burst 4 is ready at cycle 4 and gets burst 0's slot at 10 (6 cycles); every burst after it is ready
  // one cycle after the previous issue, 1 cycle after a slot freed, and the next slot frees 4 cycles after that:
  // 3 cycles each for bursts 5-15. 6 + 11 x 3 = 39 cycles.
  EXPECT_EQ(res.stall_cycles, 39u);
  // Outstanding 1 vs 4 on the same transfer: 118 vs 70 cycles (OneOutstanding4KiB).
}

TEST(DmaEngine, TileSizeDoesNotChangeTiming) {
  // The same engine with one burst per tile waits 16 times instead of 4, and takes the same 70 cycles.
  Rig& r = bench().four_g1;
  const auto groups0 = r.eng.dma_stats().groups;
  const DmaResult res = timed_read(r, 0, 4096);
  EXPECT_EQ(res.cycles, 70u);
  EXPECT_EQ(res.stall_cycles, 39u);
  EXPECT_EQ(r.eng.dma_stats().groups - groups0, 16u);
}

TEST(DmaEngine, TwoOutstanding64ByteBursts) {
  Rig& r = bench().two64;
  const DmaResult res = timed_read(r, 0, 4096);
  // 64 bursts of 64 B, 1 cycle of data each; a hit's latency is tCL 3 + 1 = 4 cycles, and only 2 bursts (2 cycles
  // of data) can cover it, so the bus carries 2 bursts every 4 cycles. The first pair ends at 8 (burst 1: issued at
  // cycle 1, waits for bank 0 to activate; tRCD 3 + tCL 3 + 2 x 1 = 8), each further pair 4 later, and opening
  // bank 1 at burst 32 adds tRCD 3 once: 8 + 31 x 4 + 3 = 135 cycles (64 cycles of data: 47 %).
  EXPECT_EQ(res.cycles, 135u);
  EXPECT_EQ(res.bursts, 64u);
  // Stalls fall on the even bursts, which wait for the slot of the burst two back: burst 2 from cycle 2 to 7
  // (5 cycles), burst 34 behind bank 1's activation also 5, the 29 others 2 each: 5 + 5 + 29 x 2 = 68 cycles.
  EXPECT_EQ(res.stall_cycles, 68u);
}

TEST(DmaEngine, IntoAnOnchipBufferSlowerThanDdr) {
  Bench& k = bench();
  Rig& r = k.buf;
  const auto src = random_bytes(1024, 21);
  ASSERT_TRUE(r.mem.poke(0, src.data(), src.size()));
  DmaResult res;
  DmaDescriptor d;
  d.ddr_addr = 0;
  d.row_bytes = 1024;
  d.buffer = &k.sram;
  d.region = BufferRegion::half1;
  run([&] {
    settle(r);
    res = r.eng.transfer(d);
  });
  ASSERT_EQ(res.status, DmaStatus::ok);
  // 4 bursts of 256 B; each fills 256 / 8 = 32 words through 2 ports: 16 cycles, four times what the DDR needs.
  // The first burst misses (tRCD 3 + tCL 3 + 4 = 10 cycles), then the buffer writes serialize: 10 + 4 x 16 = 74.
  EXPECT_EQ(res.cycles, 74u);
  // Burst 2 waits for burst 0's slot (free at 10 + 16 = 26, ready at 2: 24 cycles); burst 3 for burst 1's (free
  // at 42, ready at 27: 15 cycles). 24 + 15 = 39.
  EXPECT_EQ(res.stall_cycles, 39u);
  std::vector<std::uint8_t> got(1024);
  ASSERT_TRUE(k.sram.read(BufferRegion::half1, 0, got.data(), got.size()).ok);
  EXPECT_EQ(got, src);

  // And back out to DDR at 0x20000 (bank 0, row 8, precharged by settle()): the source port reads
  // burst after burst (16 cycles each) while the writes fly, the first write is issued at 16 and misses
  // (tRCD 3 + tCL 3 + 4 = 10), each later one is issued at 32, 48, 64 and hits (tCL 3 + 4 = 7):
  //   4 x 16 + 7 = 71 cycles, no stalls (2 slots cover a 7-cycle write for every 16-cycle read).
  DmaDescriptor w = d;
  w.dir = DmaDirection::local_to_ddr;
  w.ddr_addr = 0x20000;
  run([&] {
    settle(r);
    res = r.eng.transfer(w);
  });
  ASSERT_EQ(res.status, DmaStatus::ok);
  EXPECT_EQ(res.cycles, 71u);
  EXPECT_EQ(res.stall_cycles, 0u);
  std::vector<std::uint8_t> back(1024);
  ASSERT_TRUE(r.mem.peek(0x20000, back.data(), back.size()));
  EXPECT_EQ(back, src);
}

TEST(DmaEngine, WritesFromHostOutstandingOneVsFour) {
  // 1 KiB from a host span to 0x10000 (bank 0, row 4, precharged), 4 bursts of 256 B.
  const auto src = random_bytes(1024, 33);
  auto write = [&](Rig& r) {
    DmaResult res;
    DmaDescriptor d;
    d.dir = DmaDirection::local_to_ddr;
    d.ddr_addr = 0x10000;
    d.row_bytes = 1024;
    d.host = const_cast<std::uint8_t*>(src.data());
    d.host_bytes = src.size();
    run([&] {
      settle(r);
      res = r.eng.transfer(d);
    });
    EXPECT_EQ(res.status, DmaStatus::ok);
    std::vector<std::uint8_t> back(1024);
    EXPECT_TRUE(r.mem.peek(0x10000, back.data(), back.size()));
    EXPECT_EQ(back, src);
    return res;
  };
  // 1 outstanding: miss 10 + 3 hits x (tCL 3 + 4) = 31 cycles; bursts 1-3 wait 10, 7 and 7 cycles for the slot.
  const DmaResult r1 = write(bench().one);
  EXPECT_EQ(r1.cycles, 31u);
  EXPECT_EQ(r1.stall_cycles, 24u);
  // 4 outstanding: issued on cycles 0-3, the first misses (10) and the data of the rest follows back to back:
  // 10 + 3 x 4 = 22 cycles, no stall.
  const DmaResult r4 = write(bench().four);
  EXPECT_EQ(r4.cycles, 22u);
  EXPECT_EQ(r4.stall_cycles, 0u);
}

TEST(DmaEngine, Strided2DLandsWhereExpected) {
  Bench& k = bench();
  Rig& r = k.four;
  const auto ddr_img = random_bytes(8192, 77);
  ASSERT_TRUE(r.mem.poke(0x4000, ddr_img.data(), ddr_img.size()));

  // 5 rows of 100 B, 300 B apart in DDR from the unaligned 0x4003, into a host tile with rows 128 B apart from
  // offset 7. Everything between the rows keeps its fill.
  DmaDescriptor d;
  d.ddr_addr = 0x4003;
  d.ddr_stride = 300;
  d.rows = 5;
  d.row_bytes = 100;
  std::vector<std::uint8_t> host(1024, 0xAA);
  d.host = host.data();
  d.host_bytes = host.size();
  d.local_offset = 7;
  d.local_stride = 128;
  DmaResult res;
  run([&] { res = r.eng.transfer(d); });
  ASSERT_EQ(res.status, DmaStatus::ok);
  EXPECT_EQ(res.bytes, 500u);
  // Bursts never cross a 256 B boundary: rows start at 256-offsets 3, 47, 91, 135 and 179; only the last
  // (179 + 100 > 256) is cut in two: 6 bursts.
  EXPECT_EQ(res.bursts, 6u);
  std::vector<std::uint8_t> expect(1024, 0xAA);
  for (int row = 0; row < 5; ++row) std::memcpy(expect.data() + 7 + 128 * row, ddr_img.data() + 3 + 300 * row, 100);
  EXPECT_EQ(host, expect);

  // Into half 0 of the on-chip buffer, then back out to DDR with a different stride.
  std::vector<std::uint8_t> blank(k.sram.half_bytes(), 0);
  ASSERT_TRUE(k.sram.write(BufferRegion::half0, 0, blank.data(), blank.size()).ok);
  DmaDescriptor in = d;
  in.host = nullptr;
  in.buffer = &k.sram;
  in.region = BufferRegion::half0;
  in.local_offset = 1000;
  in.local_stride = 100;  // packed
  run([&] { res = r.eng.transfer(in); });
  ASSERT_EQ(res.status, DmaStatus::ok);
  std::vector<std::uint8_t> tile(500);
  ASSERT_TRUE(k.sram.read(BufferRegion::half0, 1000, tile.data(), tile.size()).ok);
  for (int row = 0; row < 5; ++row)
    EXPECT_EQ(std::memcmp(tile.data() + 100 * row, ddr_img.data() + 3 + 300 * row, 100), 0) << "row " << row;

  DmaDescriptor out = in;
  out.dir = DmaDirection::local_to_ddr;
  out.ddr_addr = 0x9001;
  out.ddr_stride = 160;
  const std::vector<std::uint8_t> fill(1024, 0x55);
  ASSERT_TRUE(r.mem.poke(0x9000, fill.data(), fill.size()));
  run([&] { res = r.eng.transfer(out); });
  ASSERT_EQ(res.status, DmaStatus::ok);
  std::vector<std::uint8_t> img(1024), want(1024, 0x55);
  for (int row = 0; row < 5; ++row) std::memcpy(want.data() + 1 + 160 * row, tile.data() + 100 * row, 100);
  ASSERT_TRUE(r.mem.peek(0x9000, img.data(), img.size()));
  EXPECT_EQ(img, want);
}

TEST(DmaEngine, ErrorResponseEndsTheJobWithAStatus) {
  Rig& r = bench().four;
  // Three 512 B rows back to back ending 512 B past the end of the 1 GiB memory: rows 0 and 1 (4 bursts) land,
  // the first burst of row 2 gets TLM_ADDRESS_ERROR_RESPONSE and the job stops there.
  DmaDescriptor d;
  d.ddr_addr = 1 * GiB - 1024;
  d.ddr_stride = 512;
  d.rows = 3;
  d.row_bytes = 512;
  d.local_stride = 512;
  std::vector<std::uint8_t> host(1536, 0xAA);
  d.host = host.data();
  d.host_bytes = host.size();
  const auto img = random_bytes(1024, 9);
  ASSERT_TRUE(r.mem.poke(1 * GiB - 1024, img.data(), img.size()));
  const auto failed0 = r.eng.dma_stats().failed_jobs;
  DmaResult res;
  run([&] { res = r.eng.transfer(d); });
  EXPECT_EQ(res.status, DmaStatus::bus_error);
  EXPECT_EQ(res.response, tlm::TLM_ADDRESS_ERROR_RESPONSE);
  EXPECT_EQ(res.error_addr, 1 * GiB);
  EXPECT_EQ(res.bytes, 1024u);
  EXPECT_EQ(res.bursts, 4u);
  EXPECT_TRUE(std::equal(img.begin(), img.end(), host.begin()));
  EXPECT_TRUE(std::all_of(host.begin() + 1024, host.end(), [](std::uint8_t x) { return x == 0xAA; }));
  EXPECT_EQ(r.eng.dma_stats().failed_jobs, failed0 + 1);
  EXPECT_STREQ(circa::to_string(res.status), "bus error");

  // The engine carries on with the next job.
  std::vector<std::uint8_t> ok(64);
  run([&] { res = r.eng.transfer(read_to_host(1 * GiB - 64, 64, ok)); });
  EXPECT_EQ(res.status, DmaStatus::ok);
  EXPECT_TRUE(std::equal(ok.begin(), ok.end(), img.end() - 64));
}

TEST(DmaEngine, BadDescriptorsMoveNothing) {
  Bench& k = bench();
  Rig& r = k.four;
  std::vector<std::uint8_t> host(256, 0xAA);
  DmaResult res;
  const auto bursts0 = r.eng.dma_stats().bursts;

  // The host span is one byte short of rows x stride.
  DmaDescriptor d = read_to_host(0, 128, host);
  d.rows = 2;
  d.local_stride = 129;
  run([&] { res = r.eng.transfer(d); });
  EXPECT_EQ(res.status, DmaStatus::bad_descriptor);
  EXPECT_EQ(res.cycles, 0u);

  // A buffer region the tile does not fit (no buffer error report: the engine checks before it moves anything).
  DmaDescriptor b = d;
  b.host = nullptr;
  b.buffer = &k.sram;
  b.region = BufferRegion::half1;
  b.rows = 1;
  b.local_offset = k.sram.half_bytes() - 64;
  run([&] { res = r.eng.transfer(b); });
  EXPECT_EQ(res.status, DmaStatus::bad_descriptor);

  // A DDR extent that wraps the 64-bit address space.
  DmaDescriptor w = read_to_host(~std::uint64_t{0} - 16, 64, host);
  run([&] { res = r.eng.transfer(w); });
  EXPECT_EQ(res.status, DmaStatus::bad_descriptor);

  // No local side at all.
  DmaDescriptor n = read_to_host(0, 64, host);
  n.host = nullptr;
  run([&] { res = r.eng.transfer(n); });
  EXPECT_EQ(res.status, DmaStatus::bad_descriptor);

  EXPECT_TRUE(std::all_of(host.begin(), host.end(), [](std::uint8_t x) { return x == 0xAA; }));
  EXPECT_EQ(r.eng.dma_stats().bursts, bursts0);

  // Nothing to do is not an error.
  DmaDescriptor z = read_to_host(0, 0, host);
  run([&] { res = r.eng.transfer(z); });
  EXPECT_EQ(res.status, DmaStatus::ok);
  EXPECT_EQ(res.bytes, 0u);
}

TEST(DmaEngine, QueuedJobsRunInOrderAndSignalDone) {
  Rig& r = bench().four;
  std::vector<std::uint8_t> h1(4096), h2(4096);
  DmaJob j1, j2;
  j1.desc = read_to_host(0x40000, 4096, h1);  // bank 0, row 16
  j2.desc = read_to_host(0x40000 + 4096, 4096, h2);
  int wakeups = 0;
  run([&] {
    settle(r);
    ASSERT_TRUE(r.eng.try_submit(j1));
    ASSERT_TRUE(r.eng.try_submit(j2));
    EXPECT_FALSE(j1.done);
    while (!j2.done) {
      sc_core::wait(r.eng.done_event());
      ++wakeups;
    }
  });
  EXPECT_TRUE(j1.done);
  EXPECT_EQ(wakeups, 2);
  EXPECT_EQ(j1.result.status, DmaStatus::ok);
  EXPECT_EQ(j2.result.status, DmaStatus::ok);
  // The layout of FourOutstanding4KiB (banks 0 and 1, row 16, both precharged): 70 cycles.
  EXPECT_EQ(j1.result.cycles, 70u);
  // The second job starts on the edge the first ends; 0x41000 is banks 2 and 3, still precharged: 70 cycles again.
  EXPECT_EQ(j2.result.start, j1.result.end);
  EXPECT_EQ(j2.result.cycles, 70u);
  EXPECT_TRUE(r.eng.idle());
}

TEST(DmaEngine, SignalsShowOneBusyEdgePerTile) {
  Bench& k = bench();
  Rig& r = k.traced;
  const int rises0 = k.edges.rises;
  const auto groups0 = r.eng.dma_stats().groups;
  const DmaResult res = timed_read(r, 0, 4096);  // 16 bursts in tiles of 4
  EXPECT_EQ(res.cycles, 70u);
  EXPECT_EQ(r.eng.dma_stats().groups - groups0, 4u);
  EXPECT_EQ(k.edges.rises - rises0, 4);
  EXPECT_FALSE(r.eng.busy.read());
  EXPECT_EQ(r.eng.tile_index.read(), groups0 + 3);
  // The unit-level view the perf report reads.
  EXPECT_EQ(r.eng.stats().tiles, r.eng.dma_stats().groups);
  EXPECT_EQ(r.eng.stats().busy_cycles, r.eng.dma_stats().busy_cycles);
  EXPECT_EQ(r.eng.stats().ops, r.eng.dma_stats().bursts);
}

}  // namespace
