// The host floor of a circulant model's arithmetic: every complex MAC of its frame in a plain bin-major int16 loop
// with exact int64 sums, nothing else (no FFT, no activation, no bookkeeping). scripts/bench's line (e) compares
// the golden model's frame time with it.
//
//   bench_floor --model M.safetensors [--frames N]
//
// For each matvec of a frame (docs/perf.md, "The matvecs of a frame": the gates, the projection, the dense output
// layer) and each of its k/2+1 bins: p rows x q columns of complex int16 weights, bin-major (bin, row, column),
// against the q complex int16 inputs of that bin. A complex product's real part is wr*xr - wi*xi and its imaginary
// part wr*xi + wi*xr; _mm256_madd_epi16 gives each exactly in int32 (operands in [-32767, 32767]), and each is
// widened into an int64 sum: exact, whatever q. Columns pad to a multiple of 8 with zeros. Prints
// "floor_ms_per_frame X cmacs_per_frame N checksum C" (the checksum keeps the sums live).
#include <immintrin.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "core/model.hpp"
#include "core/rng.hpp"

using namespace circa;

namespace {

struct Mat {
  int rows = 0, q8 = 0, bins = 0;
  std::vector<std::int16_t> w;   // bins x rows x q8 x (re, im)
  std::vector<std::int16_t> xa;  // bins x q8 x (re, -im)
  std::vector<std::int16_t> xb;  // bins x q8 x (im, re)
};

__attribute__((target("avx2"))) std::int64_t run_mat(const Mat& m, std::vector<std::int64_t>& out) {
  std::int64_t check = 0;
  for (int b = 0; b < m.bins; ++b) {
    const std::int16_t* xa = m.xa.data() + static_cast<std::size_t>(b) * m.q8 * 2;
    const std::int16_t* xb = m.xb.data() + static_cast<std::size_t>(b) * m.q8 * 2;
    for (int i = 0; i < m.rows; ++i) {
      const std::int16_t* w = m.w.data() + (static_cast<std::size_t>(b) * m.rows + i) * m.q8 * 2;
      __m256i re = _mm256_setzero_si256(), im = _mm256_setzero_si256();
      for (int j = 0; j < m.q8; j += 8) {
        const __m256i wv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + 2 * j));
        const __m256i pr = _mm256_madd_epi16(wv, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xa + 2 * j)));
        const __m256i pi = _mm256_madd_epi16(wv, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xb + 2 * j)));
        re = _mm256_add_epi64(re, _mm256_cvtepi32_epi64(_mm256_castsi256_si128(pr)));
        re = _mm256_add_epi64(re, _mm256_cvtepi32_epi64(_mm256_extracti128_si256(pr, 1)));
        im = _mm256_add_epi64(im, _mm256_cvtepi32_epi64(_mm256_castsi256_si128(pi)));
        im = _mm256_add_epi64(im, _mm256_cvtepi32_epi64(_mm256_extracti128_si256(pi, 1)));
      }
      alignas(32) std::int64_t r[4], s[4];
      _mm256_store_si256(reinterpret_cast<__m256i*>(r), re);
      _mm256_store_si256(reinterpret_cast<__m256i*>(s), im);
      const std::size_t o = 2 * (static_cast<std::size_t>(b) * m.rows + i);
      out[o] = r[0] + r[1] + r[2] + r[3];
      out[o + 1] = s[0] + s[1] + s[2] + s[3];
      check += out[o] ^ out[o + 1];
    }
  }
  return check;
}

[[noreturn]] void usage(const std::string& why) {
  std::fprintf(stderr, "bench_floor: %s\nusage: bench_floor --model M.safetensors [--frames N]\n", why.c_str());
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  std::string model_path;
  int frames = 400;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--model" && i + 1 < argc) {
      model_path = argv[++i];
    } else if (a == "--frames" && i + 1 < argc) {
      frames = std::atoi(argv[++i]);
      if (frames < 1 || frames > 1000000) usage("--frames: expected 1..1000000");
    } else {
      usage("unknown argument '" + a + "'");
    }
  }
  if (model_path.empty()) usage("--model is required");
  Model model;
  try {
    model = load_model(model_path);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_floor: %s\n", e.what());
    return 2;
  }
  Rng rng(1);
  auto val = [&] { return static_cast<std::int16_t>(static_cast<int>(static_cast<std::uint32_t>(rng.next() >> 32) % 65535u) - 32767); };
  std::vector<Mat> mats;
  std::uint64_t cmacs = 0;
  std::size_t most = 0;
  for (const MatvecShape& s : frame_matvecs(model)) {
    Mat m;
    m.rows = s.p;
    m.q8 = (s.q + 7) / 8 * 8;
    m.bins = s.bins();
    m.w.assign(static_cast<std::size_t>(m.bins) * m.rows * m.q8 * 2, 0);
    m.xa.assign(static_cast<std::size_t>(m.bins) * m.q8 * 2, 0);
    m.xb.assign(m.xa.size(), 0);
    for (int b = 0; b < m.bins; ++b) {
      for (int i = 0; i < m.rows; ++i)
        for (int j = 0; j < s.q; ++j)
          for (int c = 0; c < 2; ++c) m.w[((static_cast<std::size_t>(b) * m.rows + i) * m.q8 + j) * 2 + c] = val();
      for (int j = 0; j < s.q; ++j) {
        const std::int16_t xr = val(), xi = val();
        const std::size_t o = (static_cast<std::size_t>(b) * m.q8 + j) * 2;
        m.xa[o] = xr;
        m.xa[o + 1] = static_cast<std::int16_t>(-xi);
        m.xb[o] = xi;
        m.xb[o + 1] = xr;
      }
    }
    cmacs += static_cast<std::uint64_t>(s.p) * s.q * m.bins;
    most = std::max(most, static_cast<std::size_t>(m.bins) * m.rows * 2);
    mats.push_back(std::move(m));
  }
  std::vector<std::int64_t> out(most);
  std::int64_t check = 0;
  for (const Mat& m : mats) check += run_mat(m, out);  // warm-up
  const auto t0 = std::chrono::steady_clock::now();
  for (int f = 0; f < frames; ++f)
    for (const Mat& m : mats) check += run_mat(m, out);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("floor_ms_per_frame %.4f cmacs_per_frame %llu checksum %lld\n", 1e3 * s / frames,
              static_cast<unsigned long long>(cmacs), static_cast<long long>(check));
  return 0;
}
