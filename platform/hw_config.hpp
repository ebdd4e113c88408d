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

  // [activation]
  std::string act_mode = "lut";  // lut | pwl
  int lut_entries = 256;
  double lut_range = 8.0;  // LUT covers [-range, +range)
  bool lut_interpolate = true;
  int pwl_segments = 20;

  // [clock]
  double clock_mhz = 200.0;
};

// Every hardware key (named "section.key") with its default, for --help.
boost::program_options::options_description hw_options_help();

// Loads `ini_path`, then applies command-line overrides ("section.key=value", which win over the file). Validates
// every value; errors name the file and line (or the option) and throw InputError.
HwConfig load_hw_config(const std::string& ini_path, const std::vector<std::string>& cli_overrides);
// The same on INI text held in memory; `name` stands for the file in error messages and in HwConfig::source.
HwConfig load_hw_config_text(const std::string& text, const std::string& name,
                             const std::vector<std::string>& cli_overrides);

struct VpConfig;
// The platform's timing parameters a config describes (platform/vp.hpp).
VpConfig vp_config_of(const HwConfig& c);

// The datapath numerics a config describes (what core's golden model and the units compute with).
Numerics numerics_of(const HwConfig& c);

}  // namespace circa
