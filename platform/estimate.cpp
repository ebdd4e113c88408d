// circa: the closed-form model (docs/perf.md derives every formula here). No sc_models header is included on
// purpose: this is the second, independent answer that the virtual platform is checked against.
#include "platform/estimate.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <sstream>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "platform/default_paths.hpp"
#include "platform/ini_scan.hpp"

namespace circa {

namespace {

std::uint64_t cdiv(std::uint64_t a, std::uint64_t b) {
  return b ? (a + b - 1) / b : 0;
}

int log2_ceil(int k) {
  int s = 0;
  while ((1 << s) < k) ++s;
  return s;
}

// Bytes of one stored word of a format: 16-bit words up to 16 bits, 32-bit words above (the host runtime's packing).
std::uint64_t word_bytes_of(const QFormat& q) {
  return q.bits() <= 16 ? 2 : 4;
}

constexpr int kChunkRows = 8;  // block rows per EW-MAC row chunk (the MAC array's row granularity)

}  // namespace

// ---- performance ----------------------------------------------------------------------------------------------

std::uint64_t pipeline_makespan(const std::vector<std::vector<std::uint64_t>>& stages) {
  if (stages.empty()) return 0;
  const std::size_t n = stages.front().size();
  // done[j]: when stage j finished its latest tile. The longest monotone path through the grid, one row at a time.
  std::vector<std::uint64_t> done(stages.size(), 0);
  for (std::size_t t = 0; t < n; ++t) {
    std::uint64_t ready = 0;
    for (std::size_t j = 0; j < stages.size(); ++j) {
      done[j] = std::max(done[j], ready) + stages[j][t];
      ready = done[j];
    }
  }
  return done.back();
}

std::uint64_t est_fft_tile(const HwConfig& c, int n, int k) {
  // A lane takes one k-point block every ii cycles, and the last block leaves after the pipeline's depth:
  // log2(k) radix-2 stages of stage_latency each, plus the input and output registers.
  const auto& i = c.ints;
  return cdiv(static_cast<std::uint64_t>(n), static_cast<std::uint64_t>(i.fft_lanes)) * i.fft_ii +
         static_cast<std::uint64_t>(log2_ceil(k)) * i.fft_stage_latency + i.fft_io_latency;
}

std::uint64_t est_emac_tile(const HwConfig& c, std::uint64_t cmacs) {
  // `lanes` complex MACs per issue; one issue a cycle when two partial-sum banks hide the adder, else one every
  // add_latency cycles (the next MAC into the same sum waits for the adder), times the lanes' block initiation
  // interval. Then the multiplier and adder drain.
  const auto& i = c.ints;
  const std::uint64_t per_issue =
      (i.emac_banks >= 2 ? 1 : static_cast<std::uint64_t>(i.emac_add_latency)) * static_cast<std::uint64_t>(i.emac_block_ii);
  return cdiv(cmacs, static_cast<std::uint64_t>(i.emac_lanes)) * per_issue + i.emac_mult_latency + i.emac_add_latency;
}

// Pass mode (dataflow.rows_per_pass > 0, circulant matrices): block rows per pass, cycles per pass over q blocks,
// and the pipeline depth (the multiplier and adder, plus the DFT when it is replayed in every pass).
struct PassMode {
  int rows = 0;  // 0: the lanes are a pool of complex MACs (est_emac_tile)
  std::uint64_t pass = 0, depth = 0;
  std::uint64_t first = 0;  // the matrix's first pass (one block's issue when the projection's runs apart)
  bool ordered = false;     // the matrix in one tile, each pass the same rows of every gate
};

PassMode pass_mode(const HwConfig& c, const MatvecShape& s) {
  const auto& i = c.ints;
  PassMode pm;
  if (i.rows_per_pass == 0 || s.k == 1) return pm;
  pm.rows = static_cast<int>(i.rows_per_pass) * static_cast<int>(std::min<long long>(i.gates_per_pass, s.gates));
  const long long chunks = static_cast<long long>(cdiv(static_cast<std::uint64_t>(s.p), kChunkRows));
  pm.ordered = s.gates > 1 && i.gates_per_pass >= s.gates && i.tile_emac_chunks >= chunks && s.p % s.gates == 0;
  const std::uint64_t per = i.emac_banks >= 2 ? 1 : static_cast<std::uint64_t>(i.emac_add_latency);
  const long long ii = std::max(i.emac_block_ii, i.spectrum_per_pass ? i.fft_ii : 1LL);
  pm.pass = static_cast<std::uint64_t>(s.q) * per * static_cast<std::uint64_t>(ii);
  pm.first = s.projection && i.projection_first_pass ? per * static_cast<std::uint64_t>(ii) : pm.pass;
  pm.depth = static_cast<std::uint64_t>(i.emac_mult_latency + i.emac_add_latency);
  if (i.spectrum_per_pass)
    pm.depth += static_cast<std::uint64_t>(log2_ceil(s.k)) * i.fft_stage_latency + i.fft_io_latency;
  return pm;
}

std::uint64_t est_act_tile(const HwConfig& c, int cells) {
  // Three lookups per cell (LSTMP: i, f, g; GRU: r, z, n), `lanes` a cycle, then the pipeline depth.
  return cdiv(3 * static_cast<std::uint64_t>(cells), static_cast<std::uint64_t>(c.ints.act_lanes)) + c.ints.act_latency;
}

std::uint64_t est_cell_tile(const HwConfig& c, int cells) {
  return cdiv(static_cast<std::uint64_t>(cells), static_cast<std::uint64_t>(c.ints.cell_lanes)) + c.ints.cell_latency;
}

std::uint64_t est_dma(const HwConfig& c, std::uint64_t bytes, bool conflict) {
  if (bytes == 0) return 0;
  // A row hit: CAS latency, then the data at the bus's peak, BL-beat bursts at two beats per DDR clock. The DDR
  // clock is data_rate/2, so one DDR clock is 2000/data_rate ns; the DMA finishes on the next accelerator edge.
  const auto& i = c.ints;
  const std::uint64_t burst = static_cast<std::uint64_t>(i.ddr_bus_bytes * i.ddr_burst_length);
  const std::uint64_t open = conflict ? static_cast<std::uint64_t>(i.ddr_trp + i.ddr_trcd) : 0;
  const std::uint64_t ddr_clocks = open + static_cast<std::uint64_t>(i.ddr_tcl) +
                                   cdiv(bytes, burst) * static_cast<std::uint64_t>(i.ddr_burst_length / 2);
  const double ns = static_cast<double>(ddr_clocks) * 2000.0 / static_cast<double>(i.ddr_data_rate_mts);
  return static_cast<std::uint64_t>(std::ceil(ns * c.clock_mhz / 1000.0 - 1e-9));
}

std::uint64_t packed_weight_bytes(const MatvecShape& s, const HwConfig& c) {
  // bins x row chunks x columns x 8 rows x (re, im) words; rows pad up to whole chunks of 8.
  const std::uint64_t chunks = cdiv(static_cast<std::uint64_t>(s.p), kChunkRows);
  return static_cast<std::uint64_t>(s.bins()) * chunks * static_cast<std::uint64_t>(s.q) * kChunkRows * 2 *
         word_bytes_of(c.weight_q);
}

PerfEstimate estimate_perf(const HwConfig& c, const Model& m) {
  PerfEstimate e;
  e.clock_mhz = c.clock_mhz;
  const auto& I = c.ints;
  const std::vector<MatvecShape> shapes = frame_matvecs(m);
  for (const MatvecShape& s : shapes) e.weight_bytes += packed_weight_bytes(s, c);
  e.weights_on_chip = e.weight_bytes <= static_cast<std::uint64_t>(I.weight_buffer_kib) * 1024;
  const std::uint64_t wb = word_bytes_of(c.weight_q);
  const std::uint64_t ab = word_bytes_of(c.activation_q), cb = word_bytes_of(c.cell_q);

  // Matvecs: FFT phase, then EW-MAC -> IFFT pipelined over row tiles (with a weight fetch ahead of each tile when
  // the weights stream).
  for (const MatvecShape& s : shapes) {
    MatvecCycles mc;
    mc.shape = s;
    const PassMode pm = pass_mode(c, s);
    const bool replayed = pm.rows > 0 && I.spectrum_per_pass;  // the DFT's time is in the passes
    for (int j = 0; j < s.q; j += static_cast<int>(I.tile_fft_blocks)) {
      const int n = std::min<int>(s.q - j, static_cast<int>(I.tile_fft_blocks));
      if (!replayed) mc.fft += est_fft_tile(c, n, s.k);
      ++mc.fft_tiles;
    }
    const int chunks = static_cast<int>(cdiv(static_cast<std::uint64_t>(s.p), kChunkRows));
    std::vector<std::uint64_t> fetch, mac, ifft;
    for (int ch = 0; ch < chunks; ch += static_cast<int>(I.tile_emac_chunks)) {
      const int ch1 = std::min<int>(chunks, ch + static_cast<int>(I.tile_emac_chunks));
      const int rows = std::min(s.p, ch1 * kChunkRows) - ch * kChunkRows;
      const std::uint64_t cm = static_cast<std::uint64_t>(rows) * static_cast<std::uint64_t>(s.q) * s.bins();
      int pieces = 1;
      ++mc.emac_tiles;
      if (pm.rows > 0) {
        // One piece per pass: the first carries the pipeline's depth; each goes on to the IFFT on its own (a
        // streamed tile's fetch precedes its first piece).
        // Ordered: ceil((p / G) / P) passes of P rows in each of the G gates; else ceil(rows / (P * G)) passes.
        const int span = pm.ordered ? s.p / s.gates : rows, step = pm.ordered ? pm.rows / s.gates : pm.rows;
        pieces = static_cast<int>(cdiv(static_cast<std::uint64_t>(span), static_cast<std::uint64_t>(step)));
        for (int j = 0; j < pieces; ++j) {
          mac.push_back((j == 0 ? (ch == 0 ? pm.first : pm.pass) + pm.depth : pm.pass));
          const int piece_rows = std::min(step, span - j * step) * (pm.ordered ? s.gates : 1);
          ifft.push_back(est_fft_tile(c, piece_rows, s.k));
        }
        if (pm.ordered) {
          mc.piece_mac = mac;
          mc.piece_ifft = ifft;
          mc.cells_per_piece = step * s.k;
        }
      } else {
        mac.push_back(est_emac_tile(c, cm));
        ifft.push_back(est_fft_tile(c, rows, s.k));
      }
      mc.cmacs += cm;
      if (!e.weights_on_chip) {
        const std::uint64_t bytes = static_cast<std::uint64_t>(s.bins()) * static_cast<std::uint64_t>(ch1 - ch) *
                                    static_cast<std::uint64_t>(s.q) * kChunkRows * 2 * wb;
        // A tile's fetch is one row per bin, a matrix stride apart: its first row lands on a bank where the previous
        // tile left another row open (the later rows' activations overlap the transfers ahead of them).
        fetch.push_back(est_dma(c, bytes, true));
        fetch.insert(fetch.end(), static_cast<std::size_t>(pieces - 1), 0);
        mc.stream_bytes += bytes;
      }
    }
    for (std::uint64_t v : mac) mc.emac += v;
    for (std::uint64_t v : ifft) mc.ifft += v;
    for (std::uint64_t v : fetch) mc.stream += v;
    mc.mac_pipe = e.weights_on_chip ? pipeline_makespan({mac, ifft}) : pipeline_makespan({fetch, mac, ifft});
    e.fft += mc.fft;
    e.emac += mc.emac;
    e.ifft += mc.ifft;
    e.dma += mc.stream;
    e.path_fft += mc.fft;
    const std::uint64_t unhidden = e.weights_on_chip ? 0 : mc.mac_pipe - pipeline_makespan({mac, ifft});
    e.path_stream += unhidden;
    e.path_mac += mc.mac_pipe - unhidden;
    e.cmacs += mc.cmacs;
    e.fft_blocks += static_cast<std::uint64_t>(s.q);
    e.ifft_blocks += static_cast<std::uint64_t>(s.p);
    e.butterflies += static_cast<std::uint64_t>(s.q + s.p) * static_cast<std::uint64_t>(s.k / 2) *
                     static_cast<std::uint64_t>(log2_ceil(s.k));
    e.ddr_bytes += mc.stream_bytes;
    // Buffer words: a weight (re, im) per complex MAC; the input spectrum (re, im per bin and column) once per MAC
    // tile; the FFT reads k words and writes k/2+1 bins per block; the IFFT reads k/2+1 bins and writes k words.
    e.buffer_words += 2 * mc.cmacs + mc.emac_tiles * static_cast<std::uint64_t>(s.q) * s.bins() * 2 +
                      static_cast<std::uint64_t>(s.q + s.p) * static_cast<std::uint64_t>(s.k + 2 * s.bins());
    e.matvecs.push_back(mc);
  }

  // Element-wise stage per layer: activation -> cell update pipelined over cell tiles.
  for (std::size_t l = 0; l < m.layers.size(); ++l) {
    std::vector<std::uint64_t> act, cell;
    std::vector<int> ends;
    for (int u = 0; u < m.cell_dim; u += static_cast<int>(I.tile_cells)) {
      const int n = std::min<int>(m.cell_dim - u, static_cast<int>(I.tile_cells));
      act.push_back(est_act_tile(c, n));
      cell.push_back(est_cell_tile(c, n));
      ends.push_back(u + n);
    }
    for (std::uint64_t v : act) e.act += v;
    for (std::uint64_t v : cell) e.cell += v;
    // The layer's gate matvecs (one, unless its input and recurrent k differ).
    std::vector<const MatvecCycles*> gm;
    for (const MatvecCycles& mc : e.matvecs)
      if (mc.shape.layer == static_cast<int>(l) && mc.shape.gates > 1) gm.push_back(&mc);
    if (I.overlap_cells && gm.size() == 1 && gm[0]->cells_per_piece > 0) {
      // The cells follow the passes: tile i starts once the IFFT has the piece that completes its last cell. What
      // the flow (EW-MAC pieces -> IFFT -> activation -> cell update) takes beyond the gates' own pipeline is the
      // element-wise stage's share of the critical path.
      const MatvecCycles& g = *gm[0];
      std::vector<std::uint64_t> ifft_done(g.piece_mac.size());
      std::uint64_t mac_t = 0, ifft_t = 0;
      for (std::size_t j = 0; j < g.piece_mac.size(); ++j) {
        mac_t += g.piece_mac[j];
        ifft_t = std::max(ifft_t, mac_t) + g.piece_ifft[j];
        ifft_done[j] = ifft_t;
      }
      std::uint64_t act_t = 0, cell_t = 0;
      for (std::size_t i = 0; i < act.size(); ++i) {
        const std::size_t need = std::min(ifft_done.size(), cdiv(static_cast<std::uint64_t>(ends[i]),
                                                                  static_cast<std::uint64_t>(g.cells_per_piece))) - 1;
        act_t = std::max(act_t, ifft_done[need]) + act[i];
        cell_t = std::max(cell_t, act_t) + cell[i];
      }
      e.path_cells += std::max(cell_t, ifft_t) - g.mac_pipe;
    } else {
      e.path_cells += pipeline_makespan({act, cell});
    }
    e.cells += static_cast<std::uint64_t>(m.cell_dim);
    // LSTMP: i, f, g, o, tanh(c); GRU: r, z, n. Buffer words per cell: LSTMP reads 4 gate sums, c', 3 peepholes and
    // 4 biases and writes c, m (14); GRU reads 6 sums, 6 biases and h' and writes h (14 as well).
    e.lut_lookups += static_cast<std::uint64_t>(m.cell_dim) * (m.arch == Arch::lstmp ? 5 : 3);
    e.buffer_words += static_cast<std::uint64_t>(m.cell_dim) * 14;
  }

  // The frame's input read and output write.
  const std::uint64_t in_bytes = static_cast<std::uint64_t>(m.input_dim) * ab;
  const std::uint64_t out_bytes = static_cast<std::uint64_t>(m.num_classes) * ab;
  e.path_dma = est_dma(c, in_bytes) + est_dma(c, out_bytes);
  e.dma += e.path_dma;
  e.ddr_bytes += in_bytes + out_bytes;

  e.cycles_per_frame = e.path_fft + e.path_mac + e.path_stream + e.path_cells + e.path_dma;
  e.us_per_frame = static_cast<double>(e.cycles_per_frame) / c.clock_mhz;
  e.frames_per_second = e.us_per_frame > 0 ? 1e6 / e.us_per_frame : 0;
  const std::pair<const char*, std::uint64_t> units[] = {{"fft", e.fft},        {"emac", e.emac}, {"ifft", e.ifft},
                                                         {"activation", e.act}, {"cell", e.cell}, {"dma", e.dma}};
  std::uint64_t best = 0;
  for (const auto& [name, busy] : units)
    if (busy > best) best = busy, e.bottleneck = name;
  e.dense_params = model_stats(m).dense_params;
  e.dense_gops = e.us_per_frame > 0 ? 2.0 * static_cast<double>(e.dense_params) / (e.us_per_frame * 1e3) : 0;

  // Job load: the descriptor (header, then the whole chain), every weight matrix, then biases, peepholes and state.
  e.job_load_cycles = est_dma(c, 64) + est_dma(c, 64 + 128 * m.layers.size());
  std::size_t si = 0;
  for (std::size_t l = 0; l < m.layers.size(); ++l) {
    const int gates = m.arch == Arch::lstmp ? 4 : 3;
    const int rec = m.arch == Arch::lstmp && m.proj_dim > 0 ? m.proj_dim : m.cell_dim;
    const std::uint64_t gc = static_cast<std::uint64_t>(gates) * m.cell_dim;
    const std::size_t mats = 1 + (m.arch == Arch::lstmp && m.layers[l].w_x.k == m.layers[l].w_r.k ? 0 : 1) +
                             (m.arch == Arch::lstmp && m.proj_dim > 0 ? 1 : 0);
    for (std::size_t j = 0; j < mats; ++j) e.job_load_cycles += est_dma(c, packed_weight_bytes(shapes[si++], c));
    if (m.arch == Arch::lstmp) {
      e.job_load_cycles += est_dma(c, gc * ab) + est_dma(c, 3 * static_cast<std::uint64_t>(m.cell_dim) * wb);
    } else {
      e.job_load_cycles += 2 * est_dma(c, gc * ab);
    }
    e.job_load_cycles += est_dma(c, static_cast<std::uint64_t>(m.cell_dim) * cb) + est_dma(c, rec * ab);
  }
  e.job_load_cycles += est_dma(c, packed_weight_bytes(shapes.back(), c)) + est_dma(c, m.num_classes * ab);
  return e;
}

}  // namespace circa

namespace circa {

// ---- resources ------------------------------------------------------------------------------------------------

std::string device_file(const std::string& d) {
  if (d.find('/') != std::string::npos || std::filesystem::path(d).extension() == ".ini") return d;
  return (std::filesystem::path(circa_home()) / "platform" / "devices" / (d + ".ini")).string();
}

Device load_device(const std::string& path) {
  const std::string text = read_file(path);  // InputError naming the file when it cannot be read
  Device d;
  d.source = path;
  const IniScan scan = scan_ini(text, path);
  std::map<std::string, int> seen;  // key -> line
  for (const IniEntry& e : scan.entries) {
    if (scan.bad_line && e.line > scan.bad_line) break;
    const std::string pos = path + ": line " + std::to_string(e.line);
    const std::string& key = e.key;
    const std::string& val = e.value;
    static const char* known[] = {"name", "family", "dsp", "bram36", "lut", "static_w"};
    if (std::find_if(std::begin(known), std::end(known), [&](const char* k) { return key == k; }) == std::end(known))
      throw InputError(pos + ": unknown key '" + printable(key) + "' (device files have no sections)");
    if (seen.count(key))
      throw InputError(pos + ": duplicate key '" + key + "' (first on line " + std::to_string(seen[key]) + ")");
    seen[key] = e.line;
    // Resource counts are whole numbers; static power a plain decimal (no hex, exponent or inf).
    auto count = [&] {
      const bool digits = !val.empty() && val.size() <= 10 && val.find_first_not_of("0123456789") == std::string::npos;
      const long long v = digits ? std::stoll(val) : 0;
      if (!digits || v < 1 || v > 1000000000)
        throw InputError(pos + ": " + key + ": '" + printable(val) + "' is not a whole number in 1..1000000000");
      return v;
    };
    auto watts = [&] {
      const bool plain = !val.empty() && val.size() <= 12 && val.find_first_not_of("0123456789.") == std::string::npos &&
                         val.find('.') == val.rfind('.') && val != ".";
      const double v = plain ? std::stod(val) : -1;
      if (!plain || v > 1000)
        throw InputError(pos + ": " + key + ": '" + printable(val) + "' is not a power in watts, 0..1000");
      return v;
    };
    if (key == "name" || key == "family") {
      if (val.empty()) throw InputError(pos + ": " + key + ": empty");
      (key == "name" ? d.name : d.family) = val;
    }
    if (key == "dsp") d.dsp = count();
    if (key == "bram36") d.bram36 = count();
    if (key == "lut") d.lut = count();
    if (key == "static_w") d.static_w = watts();
  }
  if (scan.bad_line) throw InputError(scan.bad_message);
  for (const char* k : {"name", "dsp", "bram36", "lut"})
    if (!seen.count(k)) throw InputError(path + ": missing key '" + std::string(k) + "'");
  return d;
}

int nontrivial_twiddles(int k) {
  // Radix-2 decimation in time: stage m = 2, 4, ..., k has k/m groups of m/2 butterflies with twiddles W_m^j,
  // j = 0 .. m/2-1. W^0 = 1 and W_m^(m/4) = -j cost no multiplier.
  int n = 0;
  for (int m = 2; m <= k; m *= 2)
    for (int j = 0; j < m / 2; ++j)
      if (j != 0 && !(m >= 4 && j == m / 4)) n += k / m;
  return n;
}

ResourceEstimate estimate_resources(const HwConfig& c, const Model& m) {
  const auto& I = c.ints;
  const std::vector<MatvecShape> shapes = frame_matvecs(m);
  int kmax = 2, qmax = 0;
  for (const MatvecShape& s : shapes) {
    kmax = std::max(kmax, s.k);
    qmax = std::max(qmax, s.q);
  }
  const long long abits = c.activation_q.bits(), cbits = c.cell_q.bits(), wbits = c.weight_q.bits();
  const long long dpc = I.emac_dsp_per_cmac;
  const long long bram_bits = 36 * 1024;
  auto brams = [&](long long bits) {
    return static_cast<long long>(cdiv(static_cast<std::uint64_t>(bits), bram_bits));
  };
  ResourceEstimate r;

  // FFT and IFFT: each lane is a fully unrolled radix-2 k-point network for the largest k of the model, so it
  // takes a block every cycle: one complex multiplier (dsp_per_cmac DSPs) per non-trivial twiddle, and per
  // butterfly two complex adders (4 real adders of abits + log2(k) bits, one LUT per bit) in fabric.
  const long long bfly = static_cast<long long>(kmax / 2) * log2_ceil(kmax);
  const long long fft_dsp = I.fft_lanes * nontrivial_twiddles(kmax) * dpc;
  const long long fft_lut = I.fft_lanes * bfly * 4 * (abits + log2_ceil(kmax)) + 500;
  // Spectrum buffer (FFT out): q_max columns x (k/2+1) bins x (re, im), ping-pong. IFFT in: the EW-MAC's sums.
  const long long fft_bram = std::max(1LL, 2 * brams(static_cast<long long>(qmax) * (kmax / 2 + 1) * 2 * abits));
  r.units.push_back({"fft", fft_dsp, fft_bram, fft_lut});
  r.units.push_back({"ifft", fft_dsp, 1, fft_lut});

  // EW-MAC: dsp_per_cmac DSPs per lane (the accumulation in the DSP's post-adder); its weight buffer holds
  // weight_kib, at most two words (re, im) of at most 18 bits per 36-bit port, two ports per BRAM36: 2048 words of
  // <= 18 bits per BRAM36 by capacity, and lanes/2 BRAM36 to feed lanes x 2 words a cycle.
  const long long ww = static_cast<long long>(word_bytes_of(c.weight_q));
  const long long words = I.weight_buffer_kib * 1024 / ww;
  const long long per_bram = wbits <= 18 ? 2048 : 1024;
  const long long wbram = std::max<long long>(cdiv(static_cast<std::uint64_t>(words), per_bram), cdiv(I.emac_lanes, 2));
  // LUTs: per lane a bank select and the accumulator write-back mux (about one LUT per accumulator bit).
  r.units.push_back({"emac", I.emac_lanes * dpc, wbram, I.emac_lanes * c.accumulator_bits + 300});

  // Activation: per lane one multiplier for the peephole product and one for the LUT interpolation (or the PWL
  // slope); the sigmoid and tanh tables, one copy per two lanes (dual port), BRAM18 granularity.
  const bool interp = c.act_mode == "pwl" || c.lut_interpolate;
  const long long act_dsp = I.act_lanes * (1 + (interp ? 1 : 0));
  const long long table_bits = c.act_mode == "lut" ? static_cast<long long>(c.lut_entries + 1) * abits : 0;
  const long long table18 =
      table_bits ? static_cast<long long>(cdiv(static_cast<std::uint64_t>(table_bits), 18 * 1024)) : 0;
  const long long act_bram =
      static_cast<long long>(cdiv(static_cast<std::uint64_t>(cdiv(I.act_lanes, 2) * 2 * table18), 2));
  const long long pwl_lut = c.act_mode == "pwl" ? I.act_lanes * c.pwl_segments * 2 * abits / 64 : 0;
  r.units.push_back({"activation", act_dsp, act_bram, I.act_lanes * 3 * abits + pwl_lut + 200});

  // Cell update: f*c', i*g, p_o*c, o*tanh(c) per lane, plus the interpolation of sigmoid(o) and tanh(c).
  const long long cell_dsp = I.cell_lanes * (4 + (interp ? 2 : 0));
  const long long cell_bram =
      static_cast<long long>(cdiv(static_cast<std::uint64_t>(cdiv(I.cell_lanes, 2) * 2 * table18), 2));
  r.units.push_back({"cell", cell_dsp, cell_bram, I.cell_lanes * 3 * cbits + 200});

  // State and gate buffers: gate sums (gates x cell), ping-pong; c; r' and r; the output logits.
  const long long gates = m.arch == Arch::lstmp ? 4 : 3;
  const long long rec = m.arch == Arch::lstmp && m.proj_dim > 0 ? m.proj_dim : m.cell_dim;
  long long state_bits = 0;
  for (std::size_t l = 0; l < m.layers.size(); ++l)
    state_bits += 2 * gates * m.cell_dim * abits + m.cell_dim * cbits + 2 * rec * abits + m.cell_dim * abits;
  r.units.push_back(
      {"buffers", 0, std::max(1LL, brams(state_bits)) + brams(static_cast<long long>(m.num_classes) * abits), 400});

  // DMA and control: the AXI master, its burst FIFO (one BRAM36 per 4 KiB of outstanding data), registers and the
  // descriptor sequencer.
  r.units.push_back({"dma+control", 0, std::max(1LL, brams(I.dma_burst_bytes * I.dma_outstanding * 8)), 4000});
  for (const UnitResources& u : r.units) {
    r.dsp += u.dsp;
    r.bram36 += u.bram36;
    r.lut += u.lut;
  }
  return r;
}

// ---- energy ---------------------------------------------------------------------------------------------------

EnergyTable energy_table(int bits) {
  // 16-bit figures for a 16/20 nm FPGA fabric, routing included (docs/perf.md, "Energy"): estimates. Multipliers
  // scale with the square of the width, storage and adders linearly; the DDR figure does not depend on it.
  const double s = bits / 16.0;
  EnergyTable t;
  t.cmac_pj = 18.0 * s * s;       // 4 DSP multiplies of ~4 pJ and the accumulating adds (~2 pJ)
  t.butterfly_pj = 20.0 * s * s;  // one complex twiddle multiply (~16 pJ) and two complex adds in fabric (~4 pJ)
  t.lut_pj = 8.0 * s;             // a BRAM18 read (~4 pJ), the interpolation multiply and add (~4 pJ)
  t.buffer_pj = 2.5 * s;          // a 16-bit word of a ~5 pJ 36-bit BRAM access
  t.ddr_byte_pj = 120.0;          // ~15 pJ/bit for a DDR3/DDR4 x64 interface: device, I/O and PHY
  return t;
}

EnergyEstimate estimate_energy(const HwConfig& c, const PerfEstimate& p, double static_w) {
  EnergyEstimate e;
  e.table = energy_table(c.activation_q.bits());
  const double pj_to_uj = 1e-6;
  e.fft_uj = static_cast<double>(p.butterflies) * e.table.butterfly_pj * pj_to_uj;
  e.emac_uj = static_cast<double>(p.cmacs) * e.table.cmac_pj * pj_to_uj;
  e.lut_uj = static_cast<double>(p.lut_lookups) * e.table.lut_pj * pj_to_uj;
  e.buffer_uj = static_cast<double>(p.buffer_words) * e.table.buffer_pj * pj_to_uj;
  e.ddr_uj = static_cast<double>(p.ddr_bytes) * e.table.ddr_byte_pj * pj_to_uj;
  e.dynamic_uj = e.fft_uj + e.emac_uj + e.lut_uj + e.buffer_uj + e.ddr_uj;
  e.static_w = static_w;
  e.static_uj = static_w * p.us_per_frame;  // W x µs = µJ
  e.total_uj = e.dynamic_uj + e.static_uj;
  e.avg_power_w = p.us_per_frame > 0 ? e.total_uj / p.us_per_frame : 0;
  e.frames_per_joule = e.total_uj > 0 ? 1e6 / e.total_uj : 0;
  return e;
}

std::string grouped(long long v) {
  std::string s = std::to_string(v < 0 ? -v : v), out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (i && (s.size() - i) % 3 == 0) out += ',';
    out += s[i];
  }
  return (v < 0 ? "-" : "") + out;
}

DspFloor dsp_floor(const HwConfig& c, const PerfEstimate& p, long long dsps) {
  DspFloor f;
  for (const MatvecCycles& mv : p.matvecs)
    if (mv.shape.k > 1) f.cmacs += mv.cmacs;
  f.dsps = dsps;
  f.clock_mhz = c.clock_mhz;
  f.own_mults = static_cast<int>(c.ints.emac_dsp_per_cmac);
  if (dsps <= 0 || f.cmacs == 0) return f;
  const double per_mult = static_cast<double>(f.cmacs) / (static_cast<double>(dsps) * c.clock_mhz);
  f.own_us = f.own_mults * per_mult;
  f.four_us = 4 * per_mult;
  return f;
}

std::string dsp_floor_text(const DspFloor& f, double design_us, const std::string& indent) {
  if (f.own_us <= 0 || design_us <= 0) return "";
  auto line = [&](int mults, double floor_us, const char* which) {
    char b[320];
    std::snprintf(b, sizeof b,
                  "%sDSP-bound floor, %d multiplies per cMAC (%s): %s cMACs x %d / (%s DSP x %.0f MHz) = %.3f "
                  "us/frame; the design takes %.2fx it (%.1f %% of its speed)\n",
                  indent.c_str(), mults, which, grouped(static_cast<long long>(f.cmacs)).c_str(), mults,
                  grouped(f.dsps).c_str(), f.clock_mhz,
                  floor_us, design_us / floor_us, 100.0 * floor_us / design_us);
    return std::string(b);
  };
  if (f.own_mults == 4) return line(4, f.four_us, "the design's own, and the direct product");
  return line(f.own_mults, f.own_us, "the design's own") + line(4, f.four_us, "the direct product");
}

}  // namespace circa
