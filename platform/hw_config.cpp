#include "platform/hw_config.hpp"

#include <ini.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <sstream>
#include <string_view>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/model.hpp"

namespace po = boost::program_options;

namespace circa {

QFormat parse_qformat(const std::string& text, const std::string& where) {
  // Qm.n with one or two digits each, by hand: std::regex allocates down a recursion as deep as the input, which
  // made the sanitizer build's fuzzing slow down and its stack depot grow without bound.
  auto digits = [&](std::size_t& i, int& v) {
    const std::size_t start = i;
    v = 0;
    while (i < text.size() && i - start < 2 && text[i] >= '0' && text[i] <= '9') v = v * 10 + (text[i++] - '0');
    return i > start;
  };
  std::size_t i = 1;
  QFormat q{0, 0};
  const bool ok = !text.empty() && text[0] == 'Q' && digits(i, q.m) && i < text.size() && text[i++] == '.' &&
                  digits(i, q.n) && i == text.size();
  if (!ok)
    throw InputError(where + ": '" + printable(text) +
                     "' is not a Q format (expected Qm.n, e.g. Q8.8; m counts the sign bit)");
  if (q.m < 1 || q.bits() < 8 || q.bits() > 18)
    throw InputError(where + ": " + text + " has " + std::to_string(q.bits()) +
                     " bits; circa supports 8 to 18 bits with m >= 1");
  return q;
}

namespace {

// String-typed staging for the keys that need parsing beyond what program_options does.
struct Raw {
  std::string weight_q = "Q4.12", activation_q = "Q8.8", cell_q = "Q8.8";
};

po::options_description make_options(HwConfig& c, Raw& r) {
  po::options_description d("Hardware configuration (INI keys; also --section.key=value)");
  // clang-format off
  d.add_options()
    ("numerics.weight", po::value(&r.weight_q)->default_value(r.weight_q), "Q format of FFT-domain weights")
    ("numerics.activation", po::value(&r.activation_q)->default_value(r.activation_q), "Q format of activations (x, gates, m, r)")
    ("numerics.cell", po::value(&r.cell_q)->default_value(r.cell_q), "Q format of the cell state")
    ("numerics.accumulator_bits", po::value(&c.accumulator_bits)->default_value(c.accumulator_bits), "accumulator width in bits (32..64)")
    ("numerics.rounding", po::value(&c.rounding)->default_value(c.rounding), "half_even | half_up")
    ("activation.mode", po::value(&c.act_mode)->default_value(c.act_mode), "lut | pwl")
    ("activation.lut_entries", po::value(&c.lut_entries)->default_value(c.lut_entries), "LUT entries (16..65536)")
    ("activation.lut_range", po::value(&c.lut_range)->default_value(c.lut_range), "LUT input range +-R")
    ("activation.interpolate", po::value(&c.lut_interpolate)->default_value(c.lut_interpolate), "linear interpolation between LUT entries")
    ("activation.pwl_segments", po::value(&c.pwl_segments)->default_value(c.pwl_segments), "piecewise-linear segments (4..256)")
    ("clock.mhz", po::value(&c.clock_mhz)->default_value(c.clock_mhz), "accelerator clock in MHz");
  // clang-format on
  for (const HwIntKey& k : hw_int_keys())
    d.add_options()(k.key, po::value(&(c.ints.*k.field))->default_value(c.ints.*k.field), k.help);
  return d;
}

void validate(HwConfig& c, const Raw& r, const std::map<std::string, std::string>& where, const std::string& source) {
  // Where a key's value came from: its line, the option that set it, or (a default) the file as a whole; a check
  // across keys can fail on a default, e.g. ddr.page_bytes against a burst_length set in the file.
  auto at = [&](const std::string& key) {
    auto it = where.find(key);
    return it != where.end() ? it->second : source;
  };
  c.weight_q = parse_qformat(r.weight_q, at("numerics.weight"));
  c.activation_q = parse_qformat(r.activation_q, at("numerics.activation"));
  c.cell_q = parse_qformat(r.cell_q, at("numerics.cell"));
  auto bad = [&](const std::string& key, const std::string& what) {
    const std::string pos = at(key);
    throw InputError(pos.rfind("option", 0) == 0 ? pos + ": " + what : pos + ": " + key + ": " + what);
  };
  auto got = [](const auto& v) {
    std::ostringstream s;
    s << v;
    return ", got '" + printable(s.str()) + "'";
  };
  auto set = [&](const std::string& key) { return where.count(key) ? std::string() : std::string(" (the default)"); };
  if (c.accumulator_bits < 32 || c.accumulator_bits > 64)
    bad("numerics.accumulator_bits", "must be 32..64" + got(c.accumulator_bits));
  if (c.rounding != "half_even" && c.rounding != "half_up")
    bad("numerics.rounding", "must be half_even or half_up" + got(c.rounding));
  if (c.act_mode != "lut" && c.act_mode != "pwl") bad("activation.mode", "must be lut or pwl" + got(c.act_mode));
  if (c.lut_entries < 16 || c.lut_entries > 65536)
    bad("activation.lut_entries", "must be 16..65536" + got(c.lut_entries));
  if (!(c.lut_range > 0.0 && c.lut_range <= 64.0)) bad("activation.lut_range", "must be in (0, 64]" + got(c.lut_range));
  // The LUT/PWL ends +-range must be values of the formats the activations read: activation (sigma, tanh of the
  // gates) and cell (tanh(c)); core/activation.cpp refuses any other table.
  for (const auto& [q, name] : {std::pair{c.activation_q, "numerics.activation"}, std::pair{c.cell_q, "numerics.cell"}})
    if (std::ldexp(c.lut_range, q.n) != std::floor(std::ldexp(c.lut_range, q.n)))
      bad("activation.lut_range", "must be a multiple of 2^-" + std::to_string(q.n) + ", a value of " + name + " = " +
                                      q.str() + got(c.lut_range));
  if (c.pwl_segments < 4 || c.pwl_segments > 256) bad("activation.pwl_segments", "must be 4..256" + got(c.pwl_segments));
  if (!(c.clock_mhz > 0.0 && c.clock_mhz <= 10000.0)) bad("clock.mhz", "must be in (0, 10000]" + got(c.clock_mhz));
  for (const HwIntKey& k : hw_int_keys()) {
    const long long v = c.ints.*k.field;
    if (v < k.lo || v > k.hi)
      bad(k.key, "must be " + std::to_string(k.lo) + ".." + std::to_string(k.hi) + got(v));
  }
  if (c.ints.ddr_burst_length % 2) bad("ddr.burst_length", "must be even" + got(c.ints.ddr_burst_length));
  const long long burst = c.ints.ddr_bus_bytes * c.ints.ddr_burst_length;
  if (c.ints.ddr_page_bytes % burst)
    bad("ddr.page_bytes", "must be a multiple of bus_bytes * burst_length = " + std::to_string(burst) +
                              got(c.ints.ddr_page_bytes) + set("ddr.page_bytes"));
}

}  // namespace

const std::vector<HwIntKey>& hw_int_keys() {
  using I = HwConfig::Ints;
  static const std::vector<HwIntKey> keys = {
      {"platform.quantum_ns", &I::quantum_ns, 1, 1000000000, "host CPU quantum in ns (temporal decoupling)"},
      {"fft.lanes", &I::fft_lanes, 1, 256, "parallel FFT / IFFT pipelines"},
      {"fft.ii", &I::fft_ii, 1, 1024, "cycles between blocks entering one pipeline"},
      {"fft.stage_latency", &I::fft_stage_latency, 0, 64, "cycles per radix-2 stage"},
      {"fft.io_latency", &I::fft_io_latency, 0, 64, "input/output register cycles"},
      {"emac.lanes", &I::emac_lanes, 1, 65536, "complex MAC lanes"},
      {"emac.dsp_per_cmac", &I::emac_dsp_per_cmac, 3, 4, "DSPs per complex MAC (3: Gauss, 4: direct)"},
      {"emac.banks", &I::emac_banks, 1, 8, "partial-sum banks (2 hide the adder latency)"},
      {"emac.mult_latency", &I::emac_mult_latency, 0, 64, "multiplier pipeline cycles"},
      {"emac.add_latency", &I::emac_add_latency, 1, 64, "adder pipeline cycles"},
      {"activation.lanes", &I::act_lanes, 1, 4096, "activation lookups per cycle"},
      {"activation.latency", &I::act_latency, 0, 64, "activation pipeline cycles"},
      {"cell.lanes", &I::cell_lanes, 1, 4096, "cell updates per cycle"},
      {"cell.latency", &I::cell_latency, 0, 64, "cell-update pipeline cycles"},
      {"buffer.weight_kib", &I::weight_buffer_kib, 0, 1048576, "on-chip weight buffer in KiB (weights stream when larger)"},
      {"tiling.fft_blocks", &I::tile_fft_blocks, 1, 65536, "input blocks per FFT tile"},
      {"tiling.emac_chunks", &I::tile_emac_chunks, 1, 65536, "row chunks (8 block rows) per EW-MAC tile"},
      {"tiling.cells", &I::tile_cells, 1, 65536, "cells per activation / cell-update tile"},
      {"tiling.fifo_depth", &I::fifo_depth, 1, 64, "tiles a channel between units holds"},
      {"limits.max_dim", &I::max_dim, 1, 65535, "largest dimension the hardware accepts"},
      {"limits.max_layers", &I::max_layers, 1, 255, "most layers the hardware accepts"},
      {"dma.burst_bytes", &I::dma_burst_bytes, 8, 65536, "DMA burst size in bytes"},
      {"dma.outstanding", &I::dma_outstanding, 1, 64, "DMA bursts in flight"},
      {"dma.group_bursts", &I::dma_group_bursts, 1, 4096, "bursts per DMA tile (time granularity)"},
      {"ddr.size_mib", &I::ddr_size_mib, 1, 1048576, "DDR size in MiB"},
      {"ddr.data_rate_mts", &I::ddr_data_rate_mts, 100, 20000, "DDR data rate in MT/s"},
      {"ddr.bus_bytes", &I::ddr_bus_bytes, 1, 128, "DDR data bus width in bytes"},
      {"ddr.burst_length", &I::ddr_burst_length, 2, 64, "DDR burst length in beats"},
      {"ddr.tcl", &I::ddr_tcl, 1, 200, "CAS latency, DDR clocks"},
      {"ddr.trcd", &I::ddr_trcd, 1, 200, "RAS-to-CAS delay, DDR clocks"},
      {"ddr.trp", &I::ddr_trp, 1, 200, "precharge, DDR clocks"},
      {"ddr.banks", &I::ddr_banks, 1, 64, "DDR banks"},
      {"ddr.page_bytes", &I::ddr_page_bytes, 64, 1048576, "DDR row size in bytes"},
  };
  return keys;
}

po::options_description hw_options_help() {
  // The bound storage only lives for the help text; load_hw_config binds its own.
  static HwConfig cfg;
  static Raw raw;
  return make_options(cfg, raw);
}

HwConfig load_hw_config(const std::string& ini_path, const std::vector<std::string>& cli_overrides) {
  return load_hw_config_text(read_file(ini_path), ini_path, cli_overrides);
}

namespace {

// One `key = value` line of the file, as inih reports it.
struct IniEntry {
  std::string key;  // "section.key"
  std::string value;
  int line;
};

// The INI text as inih reads it: inih (Debian's libinih) does the parsing; this reader hands it one line at a time,
// so that the count of lines handed out is the number of the line inih is on, which its handler is not told.
struct IniScan {
  std::string_view text;
  std::size_t pos = 0;
  int line = 0;
  std::vector<std::string> lines;  // as handed to inih, for messages about lines it rejects
  std::vector<IniEntry> entries;
  int reader_error_line = 0;  // a line inih must not see (too long, or holding a NUL byte)
  std::string reader_error;
};

char* read_ini_line(char* str, int num, void* stream) {
  auto& s = *static_cast<IniScan*>(stream);
  if (s.pos >= s.text.size()) return nullptr;
  std::size_t end = s.text.find('\n', s.pos);
  if (end == std::string_view::npos) end = s.text.size();
  std::string_view line = s.text.substr(s.pos, end - s.pos);
  s.pos = end + 1;
  ++s.line;
  // Leading blanks go: inih would take an indented line for the continuation of the previous value.
  while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
  std::string error;
  if (line.find('\0') != std::string_view::npos)
    error = "NUL byte in the line";
  else if (line.size() + 2 > static_cast<std::size_t>(num))
    error = "line too long (" + std::to_string(line.size()) + " bytes; at most " + std::to_string(num - 2) + ")";
  if (!error.empty()) {
    if (!s.reader_error_line) s.reader_error_line = s.line, s.reader_error = error;
    line = {};
  }
  s.lines.emplace_back(line);
  line.copy(str, line.size());
  str[line.size()] = '\n';
  str[line.size() + 1] = '\0';
  return str;
}

int on_ini_key(void* user, const char* section, const char* name, const char* value) {
  auto& s = *static_cast<IniScan*>(user);
  std::string sec(section);
  while (!sec.empty() && (sec.front() == ' ' || sec.front() == '\t')) sec.erase(0, 1);
  while (!sec.empty() && (sec.back() == ' ' || sec.back() == '\t')) sec.pop_back();
  s.entries.push_back({sec.empty() ? std::string(name) : sec + "." + name, value, s.line});
  return 1;  // never stop: errors are judged afterwards, in line order
}

const char* expected_kind(const std::string& key) {
  static const std::map<std::string, const char*> kinds = {
      {"numerics.weight", "a Q format"},         {"numerics.activation", "a Q format"},
      {"numerics.cell", "a Q format"},           {"numerics.rounding", "half_even or half_up"},
      {"activation.mode", "lut or pwl"},         {"activation.lut_range", "a number"},
      {"activation.interpolate", "true or false"}, {"clock.mhz", "a number"}};
  auto it = kinds.find(key);
  return it != kinds.end() ? it->second : "an integer";
}

// Parses `value` with the key's own program_options semantic and stores it into the bound field. A bad value is
// reported here, by key and position, never through program_options' message: Boost 1.74 fills that message in by
// substituting "%value%"-style placeholders until none is left, which never ends on a value that holds one.
void apply_key(const po::options_description& desc, const std::string& key, const std::string& value,
               const std::string& pos) {
  const po::option_description* od = desc.find_nothrow(key, false);
  if (!od) throw InputError(pos + ": unknown key '" + printable(key) + "'");
  boost::any parsed;
  try {
    od->semantic()->parse(parsed, {value}, false);
    od->semantic()->notify(parsed);
  } catch (const po::error&) {
    // An option names its key already; a line of the file does not.
    const std::string where = pos.rfind("option", 0) == 0 ? pos : pos + ": " + key;
    throw InputError(where + ": '" + printable(value) + "' is not " + expected_kind(key));
  }
}

}  // namespace

HwConfig load_hw_config_text(const std::string& text, const std::string& ini_path,
                             const std::vector<std::string>& cli_overrides) {
  HwConfig c;
  Raw r;
  c.source = ini_path;
  const po::options_description desc = make_options(c, r);

  IniScan scan;
  scan.text = text;
  const int parse_error = ini_parse_stream(read_ini_line, &scan, on_ini_key, &scan);
  int first_bad = parse_error > 0 ? parse_error : 0;
  if (scan.reader_error_line && (!first_bad || scan.reader_error_line < first_bad)) first_bad = scan.reader_error_line;
  auto line_pos = [&](int n) { return ini_path + ": line " + std::to_string(n); };
  auto fail_line = [&](int n) {
    if (n == scan.reader_error_line) throw InputError(line_pos(n) + ": " + scan.reader_error);
    const std::string& t = scan.lines.at(static_cast<std::size_t>(n - 1));
    if (!t.empty() && t[0] == '[')
      throw InputError(line_pos(n) + ": malformed section header '" + printable(t) + "'");
    throw InputError(line_pos(n) + ": expected 'key = value' or '[section]', got '" + printable(t) + "'");
  };

  // Errors in line order: a line inih rejected stops the file where it stands.
  std::map<std::string, std::string> where;
  for (const IniEntry& e : scan.entries) {
    if (first_bad && e.line > first_bad) break;
    const std::string pos = line_pos(e.line);
    if (e.key.empty() || e.key.back() == '.') throw InputError(pos + ": empty key");
    if (where.count(e.key))
      throw InputError(pos + ": duplicate key '" + printable(e.key) + "' (first at " + where[e.key] + ")");
    apply_key(desc, e.key, e.value, pos);
    where[e.key] = pos;
  }
  if (first_bad) fail_line(first_bad);

  // Command-line overrides ("section.key=value") win over the file.
  std::map<std::string, bool> given;
  for (const std::string& o : cli_overrides) {
    const std::size_t eq = o.find('=');
    const std::string key = o.substr(0, eq);
    const std::string pos = "option --" + printable(key);
    if (eq == std::string::npos) throw InputError(pos + ": needs a value (--section.key=value)");
    if (given[key]) throw InputError(pos + ": given twice");
    given[key] = true;
    apply_key(desc, key, o.substr(eq + 1), pos);
    where[key] = pos;
  }
  validate(c, r, where, ini_path);
  return c;
}

void check_model_limits(const HwConfig& hw, const Model& model, const std::string& model_name,
                        const std::string& where) {
  const long long most = std::max({model.input_dim, model.cell_dim, model.proj_dim, model.num_classes});
  if (most > hw.ints.max_dim)
    throw InputError(model_name + ": a dimension of " + std::to_string(most) +
                     " exceeds limits.max_dim = " + std::to_string(hw.ints.max_dim) + where);
  if (static_cast<long long>(model.layers.size()) > hw.ints.max_layers)
    throw InputError(model_name + ": " + std::to_string(model.layers.size()) +
                     " layers exceed limits.max_layers = " + std::to_string(hw.ints.max_layers) + where);
}

Numerics numerics_of(const HwConfig& c) {
  Numerics n;
  n.weight = c.weight_q;
  n.act = c.activation_q;
  n.cell = c.cell_q;
  n.acc_bits = c.accumulator_bits;
  n.rounding = parse_rounding(c.rounding);
  n.activation.mode = c.act_mode == "pwl" ? ActMode::pwl : ActMode::lut;
  n.activation.lut_entries = c.lut_entries;
  n.activation.range = c.lut_range;
  n.activation.interpolate = c.lut_interpolate;
  n.activation.pwl_segments = c.pwl_segments;
  n.activation.rounding = n.rounding;
  return n;
}

}  // namespace circa
