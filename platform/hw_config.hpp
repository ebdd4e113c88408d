// circa: the hardware configuration (INI, read by Boost.Program_options). Every key can also be given on the
// command line as --section.key=value, which overrides the file.
#pragma once

#include <boost/program_options.hpp>
#include <string>
#include <vector>

#include "core/fixed.hpp"
#include "core/numerics.hpp"

namespace circa {

// Parses "Qm.n" with 8 <= m+n <= 18 and m >= 1; throws InputError naming `where`.
QFormat parse_qformat(const std::string& text, const std::string& where);

struct HwConfig {
  std::string source;  // the INI file it came from

  // [numerics]
  QFormat weight_q{4, 12};     // FFT-domain weights as stored on the accelerator
  QFormat activation_q{8, 8};  // inputs, gate outputs, m, r
  QFormat cell_q{8, 8};        // cell state c
  int accumulator_bits = 48;   // wide accumulator (DSP48-like); saturates only on write-back
  std::string rounding = "half_even";  // half_even | half_up
  int guard_bits = 6;   // fractional bits beyond the activation format's in the frequency sums and gate sums
  int ifft_bits = 40;   // width the frequency sums are saturated to before the IFFT

  // [activation]
  std::string act_mode = "lut";  // lut | pwl
  int lut_entries = 256;
  double lut_range = 8.0;  // LUT covers [-range, +range)
  bool lut_interpolate = true;
  int pwl_segments = 20;

  // [clock]
  double clock_mhz = 200.0;

  // Timing and structure of the platform, all integers (see hw_int_keys() for ranges and meaning). Defaults: a
  // C-LSTM-like datapath at 200 MHz in front of one DDR4-2400 x64 channel.
  struct Ints {
    long long quantum_ns = 1000;
    long long fft_lanes = 4, fft_ii = 1, fft_stage_latency = 2, fft_io_latency = 2;
    long long emac_lanes = 64, emac_dsp_per_cmac = 4, emac_banks = 2, emac_mult_latency = 3, emac_add_latency = 2;
    long long emac_block_ii = 1;
    long long act_lanes = 16, act_latency = 4;
    long long cell_lanes = 16, cell_latency = 6;
    long long weight_buffer_kib = 4096, weight_slots_kib = 256, weight_ports = 0;
    long long buffer_word_bytes = 8;
    long long input_kib = 64, spectrum_kib = 256, psum_kib = 1024, gates_kib = 1024, state_kib = 512, output_kib = 64;
    long long input_ports = 0, spectrum_ports = 0, psum_ports = 0, gates_ports = 0, state_ports = 0, output_ports = 0;
    long long tile_fft_blocks = 32, tile_emac_chunks = 2, tile_cells = 128, fifo_depth = 2;
    long long rows_per_pass = 0, gates_per_pass = 4, spectrum_per_pass = 0, overlap_cells = 0, projection_first_pass = 0;
    long long max_dim = 4096, max_layers = 8;
    long long dma_burst_bytes = 256, dma_outstanding = 4, dma_group_bursts = 16;
    long long ddr_size_mib = 4096, ddr_data_rate_mts = 2400, ddr_bus_bytes = 8, ddr_burst_length = 8;
    long long ddr_tcl = 16, ddr_trcd = 16, ddr_trp = 16, ddr_banks = 8, ddr_page_bytes = 8192;
  } ints;
};

// The integer keys: INI name, field, allowed range, help.
struct HwIntKey {
  const char* key;
  long long HwConfig::Ints::*field;
  long long lo, hi;
  const char* help;
};
const std::vector<HwIntKey>& hw_int_keys();

// Every hardware key (named "section.key") with its default, for --help.
boost::program_options::options_description hw_options_help();

// Loads `ini_path`, then applies command-line overrides ("section.key=value", which win over the file). Validates
// every value; errors name the file and line (or the option) and throw InputError.
HwConfig load_hw_config(const std::string& ini_path, const std::vector<std::string>& cli_overrides);
// The same on INI text held in memory; `name` stands for the file in error messages and in HwConfig::source.
HwConfig load_hw_config_text(const std::string& text, const std::string& name,
                             const std::vector<std::string>& cli_overrides);

struct Model;
// The accelerator refuses a job beyond its limits (limits.max_dim, limits.max_layers) with an error code; the CLI
// refuses it first, as bad input: InputError "<model_name>: ... exceeds limits.max_dim = N<where>".
void check_model_limits(const HwConfig& hw, const Model& model, const std::string& model_name,
                        const std::string& where);

struct VpConfig;
// The platform's timing parameters a config describes (platform/vp.hpp).
VpConfig vp_config_of(const HwConfig& c);

// The datapath numerics a config describes (what core's golden model and the units compute with).
Numerics numerics_of(const HwConfig& c);

}  // namespace circa
