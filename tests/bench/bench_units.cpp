// Host cost of the SystemC datapath beyond the kernels: N tiles through fft -> emac -> ifft (three hops through
// bounded channels), against the same kernels called in a plain loop, in one run.
//
//   bench_units [--tiles N]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <systemc>

#include "core/golden.hpp"
#include "core/rng.hpp"
#include "sc_models/emac_array.hpp"
#include "sc_models/fft_unit.hpp"
#include "tests/sc_models/unit_buffers.hpp"

using namespace circa;
using Clock = std::chrono::steady_clock;

namespace {

long g_tiles = 1000000;
double g_sim_s = 0;

struct feeder : sc_core::sc_module {
  sc_core::sc_fifo_out<Tile> out;
  Tile proto;  // operands in the bench's buffers
  SC_HAS_PROCESS(feeder);
  explicit feeder(sc_core::sc_module_name n) : sc_module(n) { SC_THREAD(run); }
  void run() {
    Tile t = proto;
    t.begin = 0;
    t.end = 1;
    for (long i = 0; i < g_tiles; ++i) {
      t.seq = static_cast<std::uint32_t>(i);
      t.last = i + 1 == g_tiles;
      out->write(t);
    }
  }
};

struct drain : sc_core::sc_module {
  sc_core::sc_fifo_in<Tile> in;
  long got = 0;
  SC_HAS_PROCESS(drain);
  explicit drain(sc_core::sc_module_name n) : sc_module(n) { SC_THREAD(run); }
  void run() {
    for (;;) {
      in->read();
      if (++got == g_tiles) sc_core::sc_stop();
    }
  }
};

}  // namespace

int sc_main(int, char*[]) {
  Numerics num;
  SatCounters sat;
  ClockParams clk;
  Rng rng(1);
  CirculantMatrix m;
  m.p = 8, m.q = 1, m.k = 8;  // one block in, one row chunk out: every unit's tile is [0, 1)
  m.w.resize(64);
  for (float& v : m.w) v = static_cast<float>(rng.uniform(-0.5, 0.5));
  std::vector<std::int32_t> x(8);
  for (auto& v : x) v = static_cast<std::int32_t>(rng.uniform(-1000, 1000));
  FixedMatvec mv({&m}, num, sat), mv2({&m}, num, sat);
  mv.set_inputs({x.data(), 8});
  mv2.set_inputs({x.data(), 8});

  // Kernels alone.
  auto k0 = Clock::now();
  for (long i = 0; i < g_tiles; ++i) {
    mv2.fft_blocks(0, 1, num, sat);
    mv2.mac_chunks(0, 1);
    mv2.ifft_rows(0, 1, num, sat);
  }
  const double kernel_s = std::chrono::duration<double>(Clock::now() - k0).count();

  feeder src("src");
  circa_test::unit_buffers bufs("buf");
  src.proto = circa_test::matvec_tile(bufs, mv, x, num);
  fft_unit fft("fft", FftParams{}, clk, num);
  emac_array emac("emac", EmacParams{}, clk);
  ifft_unit ifft("ifft", FftParams{}, clk, num);
  fft.bind_buffers(bufs.set);
  emac.bind_buffers(bufs.set);
  ifft.bind_buffers(bufs.set);
  drain sink("sink");
  sc_core::sc_fifo<Tile> a("a", 4), b("b", 4), c("c", 4), d("d", 4);
  src.out(a);
  fft.in(a);
  fft.out(b);
  emac.in(b);
  emac.out(c);
  ifft.in(c);
  ifft.out(d);
  sink.in(d);
  sc_core::sc_report_handler::set_actions(sc_core::SC_INFO, sc_core::SC_DO_NOTHING);  // "stopped by user"
  auto s0 = Clock::now();
  sc_core::sc_start();
  g_sim_s = std::chrono::duration<double>(Clock::now() - s0).count();

  const double per_tile_us = 1e6 * (g_sim_s - kernel_s) / static_cast<double>(g_tiles);
  std::printf("%ld tiles through fft -> emac -> ifft (3 hops)\n", g_tiles);
  std::printf("kernels alone:        %.3f s  (%.3f us per tile)\n", kernel_s, 1e6 * kernel_s / g_tiles);
  std::printf("SystemC pipeline:     %.3f s  (%.3f us per tile)\n", g_sim_s, 1e6 * g_sim_s / g_tiles);
  std::printf("beyond the kernels:   %.3f us per tile, %.3f us per tile per hop (target <= 0.5)\n", per_tile_us,
              per_tile_us / 3.0);
  std::printf("simulated: %llu cycles, fft busy %llu, emac busy %llu, ifft busy %llu\n",
              static_cast<unsigned long long>(clk.to_cycles(sc_core::sc_time_stamp())),
              static_cast<unsigned long long>(fft.stats().busy_cycles),
              static_cast<unsigned long long>(emac.stats().busy_cycles),
              static_cast<unsigned long long>(ifft.stats().busy_cycles));
  return 0;
}

int main(int argc, char** argv) {
  ::setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 1);
  for (int i = 1; i + 1 < argc; ++i)
    if (!std::strcmp(argv[i], "--tiles")) g_tiles = std::atol(argv[i + 1]);
  if (g_tiles < 1) {
    std::fprintf(stderr, "usage: bench_units [--tiles N]\n");
    return 2;
  }
  return sc_core::sc_elab_and_sim(1, argv);
}
