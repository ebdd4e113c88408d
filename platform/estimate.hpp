// circa: the closed-form performance, resource and energy model of a hardware configuration running a model.
//
// It is written apart from the SystemC units on purpose: it reads the same INI (through hw_config) and the same
// model file, but shares no timing code with sc_models/, so `circa estimate` and `circa run` are two independent
// answers to the same question, and tests/platform/test_estimate.cpp holds them to each other. Every formula is
// derived in docs/perf.md.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/model.hpp"
#include "platform/hw_config.hpp"

namespace circa {

// ---- performance ----------------------------------------------------------------------------------------------

// Cycles of one matvec as the datapath runs it: the FFT of its input blocks, then the EW-MAC and IFFT pipelined
// over row tiles.
struct MatvecCycles {
  MatvecShape shape;
  std::uint64_t fft = 0;       // FFT unit busy (it runs alone: the MACs need every input block's spectrum)
  std::uint64_t emac = 0;      // EW-MAC busy
  std::uint64_t ifft = 0;      // IFFT busy
  std::uint64_t mac_pipe = 0;  // EW-MAC -> IFFT makespan
  std::uint64_t cmacs = 0;     // complex MACs
  std::uint64_t emac_tiles = 0;
  std::uint64_t fft_tiles = 0;
  std::uint64_t stream_bytes = 0;  // weights fetched from DDR (weights off chip)
  std::uint64_t stream = 0;        // cycles of those fetches
  // Pass mode, a gate matvec whose passes take the same rows of every gate: its pieces' EW-MAC and IFFT cycles and
  // the cells each piece completes (dataflow.overlap_cells pipelines the cells behind them); else empty.
  std::vector<std::uint64_t> piece_mac, piece_ifft;
  int cells_per_piece = 0;
};

struct PerfEstimate {
  std::vector<MatvecCycles> matvecs;
  // Busy cycles per frame, per unit (DMA: the frame's input read, output write and weight streaming).
  std::uint64_t fft = 0, emac = 0, ifft = 0, act = 0, cell = 0, dma = 0;
  // The frame's critical path, by part: FFT phases, EW-MAC/IFFT pipelines, element-wise pipelines (activation ->
  // cell update), input and output DMA, weight streaming beyond what the MACs hide.
  std::uint64_t path_fft = 0, path_mac = 0, path_cells = 0, path_dma = 0, path_stream = 0;
  std::uint64_t cycles_per_frame = 0;
  // Once per job (utterance): the descriptor fetch and the load of every weight, bias and state word.
  std::uint64_t job_load_cycles = 0;
  double clock_mhz = 0;
  double us_per_frame = 0, frames_per_second = 0;
  std::string bottleneck;  // the unit with the most busy cycles per frame
  bool weights_on_chip = true;
  std::uint64_t weight_bytes = 0;  // packed FFT-domain weights, output layer included
  // Work per frame, for the energy model and the report.
  std::uint64_t cmacs = 0, fft_blocks = 0, ifft_blocks = 0, butterflies = 0, lut_lookups = 0, cells = 0;
  std::uint64_t ddr_bytes = 0;     // DDR bytes per frame (input, output, streamed weights)
  std::uint64_t buffer_words = 0;  // on-chip buffer word accesses per frame
  std::int64_t dense_params = 0;   // of the same network with every circulant matrix dense
  double dense_gops = 0;           // 2 x dense MACs per frame / time per frame
};

// Pipelined stages over the same tiles (stage j takes tile t once stage j-1 has finished it and stage j has finished
// tile t-1): the makespan is the longest monotone path through the stage x tile grid of tile times. For two stages
// that is max over s of (a_0 + ... + a_s) + (b_s + ... + b_n-1). stages[j][t] is stage j's time for tile t.
std::uint64_t pipeline_makespan(const std::vector<std::vector<std::uint64_t>>& stages);

// Cycles of one FFT / IFFT tile of n blocks of size k; of one EW-MAC tile of m complex MACs; and so on. These are
// the estimate's own formulas (docs/perf.md), written from the unit specification, not taken from sc_models.
std::uint64_t est_fft_tile(const HwConfig& c, int n, int k);
std::uint64_t est_emac_tile(const HwConfig& c, std::uint64_t cmacs);
std::uint64_t est_act_tile(const HwConfig& c, int cells);
std::uint64_t est_cell_tile(const HwConfig& c, int cells);
// Cycles of one DMA transfer of `bytes` contiguous bytes: a row hit in DDR, or, with `conflict`, a transfer that
// first closes another row of its bank (tRP + tRCD before the CAS latency).
std::uint64_t est_dma(const HwConfig& c, std::uint64_t bytes, bool conflict = false);

// Packed FFT-domain weight bytes of one matvec (k/2+1 complex bins per block, rows padded to chunks of 8).
std::uint64_t packed_weight_bytes(const MatvecShape& s, const HwConfig& c);

PerfEstimate estimate_perf(const HwConfig& c, const Model& m);

// ---- resources ------------------------------------------------------------------------------------------------

struct Device {
  std::string name;  // "xcku060"
  std::string source;
  std::string family;  // "ultrascale", "virtex7"
  long long dsp = 0, bram36 = 0, lut = 0;
  double static_w = 0;  // static power, W (estimate)
};
// Reads a device file (platform/devices/*.ini); errors name the file and line, as InputError.
Device load_device(const std::string& path);
// The file of a --device argument: a name (xcku060) is looked up in platform/devices/; anything with a '/' or ending
// in .ini is a path.
std::string device_file(const std::string& name_or_path);

struct UnitResources {
  std::string unit;
  long long dsp = 0, bram36 = 0, lut = 0;
};
struct ResourceEstimate {
  std::vector<UnitResources> units;
  long long dsp = 0, bram36 = 0, lut = 0;
};
// Non-trivial twiddle multiplications (not by +-1 or +-j) of one radix-2 k-point FFT.
int nontrivial_twiddles(int k);
ResourceEstimate estimate_resources(const HwConfig& c, const Model& m);

// ---- energy ---------------------------------------------------------------------------------------------------

// Energy per action, pJ (docs/perf.md gives the sources; all are estimates).
struct EnergyTable {
  double butterfly_pj = 0;  // radix-2 butterfly with its twiddle multiply, 16 bits
  double cmac_pj = 0;       // complex multiply-accumulate, 16 bits
  double lut_pj = 0;        // activation lookup with interpolation
  double buffer_pj = 0;     // one 16-bit word read or written in on-chip SRAM (BRAM)
  double ddr_byte_pj = 0;   // one byte to or from DDR, I/O included
};
// The table for a datapath of `bits` bits (the 16-bit figures scaled by (bits/16)^2 for multipliers and bits/16 for
// storage and wires).
EnergyTable energy_table(int bits);

struct EnergyEstimate {
  EnergyTable table;
  double fft_uj = 0, emac_uj = 0, lut_uj = 0, buffer_uj = 0, ddr_uj = 0;  // per frame, µJ
  double dynamic_uj = 0;
  double static_w = 0;     // from the device, 0 without one
  double static_uj = 0;    // static power x frame time
  double total_uj = 0;     // per frame
  double avg_power_w = 0;  // total / frame time
  double frames_per_joule = 0;
};
EnergyEstimate estimate_energy(const HwConfig& c, const PerfEstimate& p, double static_w);

// ---- the DSP-bound floor --------------------------------------------------------------------------------------

// The fastest a frame could go if every DSP multiplied every cycle: the complex MACs of the circulant matvecs
// (k > 1) times the real multiplies per complex MAC, over `dsps` DSPs at the clock. It is given twice: with the
// design's own multiplies per complex MAC (emac.dsp_per_cmac: 3 with Gauss's trick, 4 direct) and with 4, so that a
// design using 3 is not credited with a floor it could never reach with 4.
struct DspFloor {
  std::uint64_t cmacs = 0;  // circulant complex MACs per frame
  long long dsps = 0;       // the device's DSPs, or the design's own without a device
  double clock_mhz = 0;
  int own_mults = 4;       // emac.dsp_per_cmac
  double own_us = 0;       // the floor with own_mults multiplies per complex MAC
  double four_us = 0;      // the floor with 4
};
// 2760 -> "2,760" (for the figures people read).
std::string grouped(long long v);
// dsps <= 0, or a model without circulant matvecs, gives a floor of 0 (nothing to compare with).
DspFloor dsp_floor(const HwConfig& c, const PerfEstimate& p, long long dsps);
// Two lines, indented by `indent`: both floors, and how far a design at `design_us` per frame is from each; the
// first percentage is against the design's own multiplies per complex MAC.
std::string dsp_floor_text(const DspFloor& f, double design_us, const std::string& indent);

}  // namespace circa
