#include "platform/hw_config.hpp"

#include <fstream>
#include <map>
#include <sstream>

#include "core/atomic_file.hpp"
#include "core/error.hpp"

namespace po = boost::program_options;

namespace circa {

namespace {

// Values and keys come from the file or the command line; escaping keeps every error message on one printable line.
std::string printable(const std::string& s) {
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u != 0x7f) {
      out += c;
    } else {
      out += "\\x";
      out += hex[u >> 4];
      out += hex[u & 15];
    }
  }
  return out;
}

// Boost.Program_options (1.74) fills in its error messages by replacing "%value%", "%option%" and the like until
// none is left, so a value or key that itself holds such a placeholder loops forever. No hardware key or value has
// any use for '%', so it is refused before program_options sees it.
constexpr const char* kNoPercent = "'%' is not allowed in hardware keys or values";

}  // namespace

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

std::string trim(const std::string& s) {
  auto b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  auto e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
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

HwConfig load_hw_config_text(const std::string& text, const std::string& ini_path,
                             const std::vector<std::string>& cli_overrides) {
  HwConfig c;
  Raw r;
  c.source = ini_path;
  po::options_description desc = make_options(c, r);

  // Scan the INI ourselves first: program_options reports neither line numbers nor duplicate keys.
  std::map<std::string, std::string> where;
  // What program_options gets: the same lines, with the ';' comments blanked, which it would reject as invalid lines
  // (it knows only '#').
  std::string po_text;
  {
    std::istringstream in(text);
    std::string line, section;
    for (int n = 1; std::getline(in, line); ++n) {
      std::string t = trim(line);
      const bool comment = t.empty() || t[0] == '#' || t[0] == ';';
      po_text += (comment ? std::string() : line) + '\n';
      if (comment) continue;
      std::string pos = ini_path + ": line " + std::to_string(n);
      if (t.substr(0, t.find('#')).find('%') != std::string::npos) throw InputError(pos + ": " + kNoPercent);
      if (t[0] == '[') {
        if (t.back() != ']' || t.size() < 3)
          throw InputError(pos + ": malformed section header '" + printable(t) + "'");
        section = trim(t.substr(1, t.size() - 2));
        continue;
      }
      auto eq = t.find('=');
      if (eq == std::string::npos) throw InputError(pos + ": expected 'key = value', got '" + printable(t) + "'");
      std::string key = trim(t.substr(0, eq));
      std::string full = section.empty() ? key : section + "." + key;
      if (key.empty()) throw InputError(pos + ": empty key");
      if (!desc.find_nothrow(full, false)) throw InputError(pos + ": unknown key '" + printable(full) + "'");
      if (where.count(full))
        throw InputError(pos + ": duplicate key '" + printable(full) + "' (first at " + where[full] + ")");
      where[full] = pos;
    }
  }

  po::variables_map vm;
  std::string failing;
  try {
    // Command-line overrides first: program_options keeps the first value stored for a key.
    if (!cli_overrides.empty()) {
      std::vector<std::string> args;
      for (const auto& o : cli_overrides) {
        if (o.find('%') != std::string::npos)
          throw InputError("option --" + printable(o.substr(0, o.find('='))) + ": " + kNoPercent);
        args.push_back("--" + o);
      }
      failing = "command line";
      po::store(po::command_line_parser(args).options(desc).run(), vm);
      // Values given on the command line are reported as options, not as lines of the file.
      for (const auto& o : cli_overrides) {
        std::string key = o.substr(0, o.find('='));
        where[key] = "option --" + printable(key);
      }
    }
    failing = ini_path;
    std::istringstream in(po_text);
    po::store(po::parse_config_file(in, desc, false), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    // Name the line when the message names a key we located.
    for (const auto& [key, pos] : where)
      if (std::string(e.what()).find(key) != std::string::npos && failing == ini_path)
        throw InputError(pos + ": " + printable(e.what()));
    throw InputError(failing + ": " + printable(e.what()));
  }
  validate(c, r, where, ini_path);
  return c;
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
