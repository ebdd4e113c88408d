// The hardware INI parser (platform/hw_config.cpp: inih scans the file, each key's program_options semantic parses
// its value): what it accepts, and every error naming the file and line (or the option), on one line.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/model.hpp"
#include "platform/hw_config.hpp"

namespace circa {
namespace {

// The InputError text of loading `ini` (with `overrides`), or "" if it loads.
std::string error_of(const std::string& ini, const std::vector<std::string>& overrides = {}) {
  try {
    load_hw_config_text(ini, "t.ini", overrides);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

TEST(HwConfigIni, AcceptsSectionsCommentsBlanksAndIndentedKeys) {
  const HwConfig c = load_hw_config_text(
      "# a comment\n; another\n\n[numerics]\n  rounding = half_up ; inline comment\n\t[ emac ]\nlanes=96\n"
      "[activation]\ninterpolate = false\nlut_range = 4\n",
      "t.ini", {});
  EXPECT_EQ(c.rounding, "half_up");
  EXPECT_EQ(c.ints.emac_lanes, 96);
  EXPECT_FALSE(c.lut_interpolate);
  EXPECT_EQ(c.lut_range, 4.0);
  EXPECT_EQ(c.source, "t.ini");
}

TEST(HwConfigIni, OverridesWinOverTheFile) {
  const HwConfig c = load_hw_config_text("[emac]\nlanes = 96\n", "t.ini", {"emac.lanes=128", "clock.mhz=250"});
  EXPECT_EQ(c.ints.emac_lanes, 128);
  EXPECT_EQ(c.clock_mhz, 250.0);
}

TEST(HwConfigIni, ErrorsNameTheLineOrOption) {
  const std::string long_line = "[emac]\nlanes = " + std::string(300, '1') + "\n";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"[numerics]\nrounding = half_up\nbits_of_magic = 3\n", "t.ini: line 3: unknown key 'numerics.bits_of_magic'"},
      {"[numerics\n", "t.ini: line 1: malformed section header '[numerics'"},
      {"[numerics]\nrounding half_up\n", "t.ini: line 2: expected 'key = value' or '[section]', got 'rounding half_up'"},
      {"[numerics]\n= half_up\n", "t.ini: line 2: empty key"},
      {"[numerics]\nrounding = half_up\n\nrounding = half_even\n",
       "t.ini: line 4: duplicate key 'numerics.rounding' (first at t.ini: line 2)"},
      {"[activation]\nlut_entries = many\n", "t.ini: line 2: activation.lut_entries: 'many' is not an integer"},
      {"[activation]\ninterpolate = maybe\n", "t.ini: line 2: activation.interpolate: 'maybe' is not true or false"},
      {"[clock]\nmhz = fast\n", "t.ini: line 2: clock.mhz: 'fast' is not a number"},
      {"[numerics]\nweight = Q1.30\n", "t.ini: line 2: Q1.30 has 31 bits; circa supports 8 to 18 bits with m >= 1"},
      {"[ddr]\nburst_length = 9\n", "t.ini: line 2: ddr.burst_length: must be even, got '9'"},
      {long_line, "t.ini: line 2: line too long (308 bytes; at most 198)"},
      {std::string("[emac]\nlanes = 1\0 2\n", 19), "t.ini: line 2: NUL byte in the line"},
      // Errors come in line order, whichever kind each is.
      {"[emac]\nlanes = x\n[broken\n", "t.ini: line 2: emac.lanes: 'x' is not an integer"},
      {"[broken\n[emac]\nlanes = x\n", "t.ini: line 1: malformed section header '[broken'"},
      // Bytes from the file are escaped, and a '%' is only a character (Boost's own messages would loop on it).
      {"[numerics]\nrounding = %value%\x01\n",
       "t.ini: line 2: numerics.rounding: must be half_even or half_up, got '%value%\\x01'"},
      {"[emac]\nlanes = %option%\n", "t.ini: line 2: emac.lanes: '%option%' is not an integer"},
      // The LUT's ends must be values of the formats it reads: 0.3 is not a multiple of 2^-8.
      {"[activation]\nlut_range = 0.3\n",
       "t.ini: line 2: activation.lut_range: must be a multiple of 2^-8, a value of numerics.activation = Q8.8, got "
       "'0.3'"},
  };
  for (const auto& [ini, want] : cases) {
    const std::string got = error_of(ini);
    EXPECT_EQ(got, want) << ini;
    EXPECT_EQ(got.find('\n'), std::string::npos) << got;
  }
  EXPECT_EQ(error_of("", {"emac.lanes=x"}), "option --emac.lanes: 'x' is not an integer");
  EXPECT_EQ(error_of("", {"emac.lanes"}), "option --emac.lanes: needs a value (--section.key=value)");
  EXPECT_EQ(error_of("", {"emac.lanes=1", "emac.lanes=2"}), "option --emac.lanes: given twice");
  EXPECT_EQ(error_of("", {"emac.lane=1"}), "option --emac.lane: unknown key 'emac.lane'");
  // An empty key is refused by name; program_options would throw "ambiguous" (found by fuzzing).
  EXPECT_EQ(error_of("", {"=5"}), "option --: empty key");
  EXPECT_EQ(error_of("", {"emac.=5"}), "option --emac.: empty key");
  EXPECT_EQ(error_of("", {"fft.lanes=0"}), "option --fft.lanes: must be 1..256, got '0'");
}

TEST(HwConfigIni, ModelLimits) {
  const HwConfig c = load_hw_config_text("[limits]\nmax_dim = 200\nmax_layers = 1\n", "t.ini", {});
  Model m;
  m.input_dim = 153;
  m.cell_dim = 256;
  m.proj_dim = 128;
  m.num_classes = 39;
  try {
    check_model_limits(c, m, "m.safetensors", " of t.ini");
    FAIL() << "a cell dimension of 256 passed max_dim 200";
  } catch (const InputError& e) {
    EXPECT_STREQ(e.what(), "m.safetensors: a dimension of 256 exceeds limits.max_dim = 200 of t.ini");
  }
  m.cell_dim = 128;
  m.layers.resize(2);
  try {
    check_model_limits(c, m, "m.safetensors", "");
    FAIL() << "2 layers passed max_layers 1";
  } catch (const InputError& e) {
    EXPECT_STREQ(e.what(), "m.safetensors: 2 layers exceed limits.max_layers = 1");
  }
  m.layers.resize(1);
  EXPECT_NO_THROW(check_model_limits(c, m, "m.safetensors", ""));
}

}  // namespace
}  // namespace circa
