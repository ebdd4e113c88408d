// onchip_buffer bench: port cycles per parameter set, real data, ping-pong isolation, and out-of-region accesses that
// are reported and touch nothing. One elaboration: every buffer is built once, up front.
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <string>
#include <systemc>
#include <vector>

#include "core/rng.hpp"
#include "sc_models/onchip_buffer.hpp"

namespace {

using circa::BufferAccess;
using circa::BufferRegion;
using circa::onchip_buffer;
using circa::OnchipBufferParams;

// Counts SC_ERROR reports of one message id instead of failing the test (sc_gtest_main turns every other warning
// or error into a failure, and still does for anything else while this is installed).
class ReportCatcher {
public:
  explicit ReportCatcher(const char* id) {
    id_ = id;
    count_ = 0;
    last_.clear();
    prev_ = sc_core::sc_report_handler::get_handler();
    sc_core::sc_report_handler::set_handler(&handle);
  }
  ~ReportCatcher() { sc_core::sc_report_handler::set_handler(prev_); }
  ReportCatcher(const ReportCatcher&) = delete;
  ReportCatcher& operator=(const ReportCatcher&) = delete;
  int count() const { return count_; }
  const std::string& last() const { return last_; }

private:
  static void handle(const sc_core::sc_report& rep, const sc_core::sc_actions& actions) {
    if (rep.get_severity() == sc_core::SC_ERROR && std::strcmp(rep.get_msg_type(), id_) == 0) {
      ++count_;
      last_ = rep.get_msg();
      return;
    }
    prev_(rep, actions);
  }
  static inline const char* id_ = nullptr;
  static inline int count_ = 0;
  static inline std::string last_;
  static inline sc_core::sc_report_handler_proc prev_ = nullptr;
};

OnchipBufferParams params(std::uint64_t capacity, std::uint32_t word, std::uint32_t ports) {
  OnchipBufferParams p;
  p.capacity_bytes = capacity;
  p.word_bytes = word;
  p.ports = ports;
  return p;
}

struct Bench {
  onchip_buffer a{"a", params(4096, 2, 1)};    // 16-bit words, one port
  onchip_buffer b{"b", params(65536, 8, 2)};   // a true dual-port BRAM column
  onchip_buffer c{"c", params(1000, 4, 3)};    // odd sizes: halves of 500 B, three ports
  onchip_buffer d{"d", OnchipBufferParams{}};  // the defaults: 1 MiB, 8 B words, 8 ports
  std::unique_ptr<onchip_buffer> bad;          // built with word_bytes = 0
  int bad_reports = 0;

  Bench() {
    {
      ReportCatcher catcher(onchip_buffer::kMsgId);
      bad = std::make_unique<onchip_buffer>("bad", params(64, 0, 1));
      bad_reports = catcher.count();
    }
    sc_core::sc_start(sc_core::SC_ZERO_TIME);
  }
};

Bench& bench() {
  static Bench* b = new Bench();  // elaborated once for the whole process; never destroyed (SystemC owns modules)
  return *b;
}

std::vector<std::uint8_t> random_bytes(std::size_t n, std::uint64_t seed) {
  circa::Rng rng(seed);
  std::vector<std::uint8_t> v(n);
  for (auto& x : v) x = static_cast<std::uint8_t>(rng.next());
  return v;
}

std::vector<std::uint8_t> snapshot(onchip_buffer& buf) {
  std::vector<std::uint8_t> v(buf.params().capacity_bytes);
  EXPECT_TRUE(buf.read(0, v.data(), v.size()).ok);
  return v;
}

TEST(OnchipBuffer, CyclesAreCeilWordsOverPorts) {
  Bench& k = bench();
  const auto data = random_bytes(4096, 1);

  // a: 100 B = 50 words of 2 B; 1 port -> 50 / 1 = 50 cycles.
  EXPECT_EQ(k.a.write(0, data.data(), 100).cycles, 50u);
  // a: bytes 1..3 touch words 0 and 1 (a partial word costs a whole one) -> 2 words / 1 port = 2 cycles.
  std::uint8_t tmp[8];
  EXPECT_EQ(k.a.read(1, tmp, 3).cycles, 2u);

  // b: 100 B -> ceil(100 / 8) = 13 words; 2 ports -> ceil(13 / 2) = 7 cycles.
  EXPECT_EQ(k.b.write(0, data.data(), 100).cycles, 7u);
  // b: 256 B into half 1 (base 32768, word aligned) -> 32 words / 2 ports = 16 cycles.
  EXPECT_EQ(k.b.write(BufferRegion::half1, 0, data.data(), 256).cycles, 16u);

  // c: 100 B at offset 2 -> bytes 2..101 touch words 0..25 = 26 words; 3 ports -> ceil(26 / 3) = 9 cycles.
  EXPECT_EQ(k.c.write(2, data.data(), 100).cycles, 9u);
  // c: 8 B at half 1 offset 0 -> bytes 500..507 = words 125..126 = 2 words; 3 ports -> ceil(2 / 3) = 1 cycle.
  EXPECT_EQ(k.c.read(BufferRegion::half1, 0, tmp, 8).cycles, 1u);
  // c: 4 B at offset 1 -> bytes 1..4 straddle words 0 and 1 -> ceil(2 / 3) = 1 cycle.
  EXPECT_EQ(k.c.read(1, tmp, 4).cycles, 1u);
  // c: 13 B at 0 -> bytes 0..12 = words 0..3 = 4 words -> ceil(4 / 3) = 2 cycles.
  std::uint8_t tmp13[13];
  EXPECT_EQ(k.c.read(0, tmp13, 13).cycles, 2u);

  // d (defaults): 4096 B = 512 words of 8 B; 8 ports -> 512 / 8 = 64 cycles (64 B/cycle).
  EXPECT_EQ(k.d.write(0, data.data(), 4096).cycles, 64u);
  EXPECT_EQ(k.d.cycles_for(BufferRegion::whole, 0, 4096), 64u);

  // Nothing to move costs nothing.
  const BufferAccess empty = k.d.write(0, nullptr, 0);
  EXPECT_TRUE(empty.ok);
  EXPECT_EQ(empty.cycles, 0u);
}

TEST(OnchipBuffer, DataRoundTrips) {
  Bench& k = bench();
  for (onchip_buffer* buf : {&k.a, &k.b, &k.c, &k.d}) {
    const std::size_t n = buf->params().capacity_bytes;
    const auto data = random_bytes(n, 7 + n);
    ASSERT_TRUE(buf->write(0, data.data(), n).ok);
    EXPECT_EQ(snapshot(*buf), data) << buf->name();
    // An unaligned piece in the middle reads back what was written there.
    std::vector<std::uint8_t> piece(n / 3);
    ASSERT_TRUE(buf->read(n / 5, piece.data(), piece.size()).ok);
    EXPECT_TRUE(std::equal(piece.begin(), piece.end(), data.begin() + static_cast<std::ptrdiff_t>(n / 5)));
  }
}

TEST(OnchipBuffer, OutOfCapacityIsReportedAndTouchesNothing) {
  Bench& k = bench();
  const auto fill = random_bytes(4096, 3);
  ASSERT_TRUE(k.a.write(0, fill.data(), fill.size()).ok);
  const auto before = snapshot(k.a);
  const std::uint64_t errors0 = k.a.stats().errors;
  const std::uint64_t writes0 = k.a.stats().writes;

  ReportCatcher catcher(onchip_buffer::kMsgId);
  const std::uint8_t src[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
  // 8 bytes at 4092 would run 4 bytes past the 4096-byte array: rejected whole, not clipped.
  BufferAccess r = k.a.write(4092, src, 8);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.cycles, 0u);
  EXPECT_EQ(catcher.count(), 1);
  EXPECT_NE(catcher.last().find("leaves the region"), std::string::npos) << catcher.last();
  // An offset that would wrap the 64-bit address space.
  EXPECT_FALSE(k.a.write(~std::uint64_t{0} - 1, src, 4).ok);
  // Entirely outside.
  EXPECT_FALSE(k.a.write(1u << 20, src, 1).ok);
  // A read past the end leaves the destination alone too.
  std::uint8_t dst[16];
  std::memset(dst, 0x5A, sizeof dst);
  EXPECT_FALSE(k.a.read(4090, dst, 16).ok);
  for (std::uint8_t x : dst) EXPECT_EQ(x, 0x5A);
  // No data pointer for a non-empty access.
  EXPECT_FALSE(k.a.write(0, nullptr, 4).ok);
  EXPECT_EQ(catcher.count(), 5);

  EXPECT_EQ(snapshot(k.a), before);
  EXPECT_EQ(k.a.stats().errors, errors0 + 5);
  EXPECT_EQ(k.a.stats().writes, writes0);  // failed accesses are not counted as writes
}

TEST(OnchipBuffer, PingPongHalvesAreIsolated) {
  Bench& k = bench();
  onchip_buffer& b = k.b;
  ASSERT_EQ(b.half_bytes(), 32768u);
  EXPECT_EQ(circa::buffer_half(0), BufferRegion::half0);
  EXPECT_EQ(circa::buffer_half(1), BufferRegion::half1);

  const std::vector<std::uint8_t> ping(32768, 0x11), pong(32768, 0x22);
  ASSERT_TRUE(b.write(BufferRegion::half0, 0, ping.data(), ping.size()).ok);
  ASSERT_TRUE(b.write(BufferRegion::half1, 0, pong.data(), pong.size()).ok);

  std::vector<std::uint8_t> got(32768);
  ASSERT_TRUE(b.read(BufferRegion::half0, 0, got.data(), got.size()).ok);
  EXPECT_EQ(got, ping);
  ASSERT_TRUE(b.read(BufferRegion::half1, 0, got.data(), got.size()).ok);
  EXPECT_EQ(got, pong);
  // Half 1 starts where half 0 ends in the whole buffer.
  std::uint8_t edge[2];
  ASSERT_TRUE(b.read(32767, edge, 2).ok);
  EXPECT_EQ(edge[0], 0x11);
  EXPECT_EQ(edge[1], 0x22);

  {
    ReportCatcher catcher(onchip_buffer::kMsgId);
    // The last byte of half 0 plus one more would spill into half 1: rejected, half 1 untouched.
    const std::uint8_t two[2] = {0xEE, 0xEE};
    EXPECT_FALSE(b.write(BufferRegion::half0, 32767, two, 2).ok);
    // Half 1 addressed past its own end is rejected even though the whole buffer is no bigger.
    EXPECT_FALSE(b.read(BufferRegion::half1, 32768, got.data(), 1).ok);
    EXPECT_EQ(catcher.count(), 2);
  }
  ASSERT_TRUE(b.read(BufferRegion::half1, 0, got.data(), got.size()).ok);
  EXPECT_EQ(got, pong);
  ASSERT_TRUE(b.read(BufferRegion::half0, 0, got.data(), got.size()).ok);
  EXPECT_EQ(got, ping);

  // Odd capacity: c has halves of 500 B; offset 499 is the last byte of half 1, 500 is outside it.
  onchip_buffer& c = k.c;
  ASSERT_EQ(c.half_bytes(), 500u);
  const std::uint8_t one = 0x77;
  EXPECT_TRUE(c.write(BufferRegion::half1, 499, &one, 1).ok);
  std::uint8_t back = 0;
  ASSERT_TRUE(c.read(999, &back, 1).ok);
  EXPECT_EQ(back, 0x77);
  {
    ReportCatcher catcher(onchip_buffer::kMsgId);
    EXPECT_FALSE(c.write(BufferRegion::half1, 500, &one, 1).ok);
    EXPECT_EQ(catcher.count(), 1);
  }
}

TEST(OnchipBuffer, CountsAccessesAndBytes) {
  Bench& k = bench();
  onchip_buffer& d = k.d;
  const auto s0 = d.stats();
  std::vector<std::uint8_t> v(1000);
  ASSERT_TRUE(d.write(BufferRegion::half0, 8, v.data(), 1000).ok);  // 125 words / 8 ports -> 16 cycles
  ASSERT_TRUE(d.read(BufferRegion::half1, 0, v.data(), 64).ok);     // 8 words / 8 ports -> 1 cycle
  ASSERT_TRUE(d.read(BufferRegion::half1, 0, v.data(), 64).ok);     // 1 cycle
  const auto& s = d.stats();
  EXPECT_EQ(s.writes - s0.writes, 1u);
  EXPECT_EQ(s.reads - s0.reads, 2u);
  EXPECT_EQ(s.bytes_written - s0.bytes_written, 1000u);
  EXPECT_EQ(s.bytes_read - s0.bytes_read, 128u);
  EXPECT_EQ(s.cycles - s0.cycles, 16u + 1u + 1u);
  EXPECT_EQ(s.errors, s0.errors);
}

TEST(OnchipBuffer, BadParametersAreReportedAndMadeSafe) {
  Bench& k = bench();
  EXPECT_EQ(k.bad_reports, 1);
  EXPECT_EQ(k.bad->params().word_bytes, 1u);
  // 10 B at word size 1 and 1 port: 10 cycles, and no division by zero.
  std::uint8_t v[10] = {};
  EXPECT_EQ(k.bad->write(0, v, 10).cycles, 10u);
}

}  // namespace
