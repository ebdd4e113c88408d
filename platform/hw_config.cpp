#include "platform/hw_config.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <sstream>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/model.hpp"
#include "platform/ini_scan.hpp"

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

// Where an error about `key` is: "<file>: line N: key", or "option --key", which names the key already.
std::string key_at(const std::string& pos, const std::string& key) {
  return pos.rfind("option", 0) == 0 ? pos : pos + ": " + key;
}

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
    ("numerics.guard_bits", po::value(&c.guard_bits)->default_value(c.guard_bits), "guard bits of the frequency and gate sums (0..12)")
    ("numerics.ifft_bits", po::value(&c.ifft_bits)->default_value(c.ifft_bits), "IFFT input width in bits (16..40)")
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
    throw InputError(key_at(at(key), key) + ": " + what);
  };
  auto got = [](const auto& v) {
    std::ostringstream s;
    s << v;
    return ", got '" + printable(s.str()) + "'";
  };
  auto set = [&](const std::string& key) { return where.count(key) ? std::string() : std::string(" (the default)"); };
  if (c.accumulator_bits < 32 || c.accumulator_bits > 64)
    bad("numerics.accumulator_bits", "must be 32..64" + got(c.accumulator_bits));
  if (c.guard_bits < 0 || c.guard_bits > 12) bad("numerics.guard_bits", "must be 0..12" + got(c.guard_bits));
  // The unscaled IFFT grows by up to 6 bits (k = 64) and its twiddle products add up to 16: at most 40 bits in keeps
  // every intermediate inside int64, the IFFT datapath's width.
  if (c.ifft_bits < 16 || c.ifft_bits > 40) bad("numerics.ifft_bits", "must be 16..40" + got(c.ifft_bits));
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
  // The dataflow options that shape passes mean nothing without them.
  const std::pair<const char*, long long> pass_options[] = {{"dataflow.spectrum_per_pass", c.ints.spectrum_per_pass},
                                                            {"dataflow.overlap_cells", c.ints.overlap_cells},
                                                            {"dataflow.projection_first_pass", c.ints.projection_first_pass}};
  for (const auto& [key, on] : pass_options)
    if (on && !c.ints.rows_per_pass) bad(key, "needs passes: set dataflow.rows_per_pass too");
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
      {"emac.block_ii", &I::emac_block_ii, 1, 64, "cycles between input blocks entering a MAC lane (1: every cycle)"},
      {"dataflow.rows_per_pass", &I::rows_per_pass, 0, 64,
       "block rows (of each gate) the EW-MAC computes per pass over the input (0: a pool of lanes)"},
      {"dataflow.gates_per_pass", &I::gates_per_pass, 1, 4, "gates whose rows share one pass (with rows_per_pass)"},
      {"dataflow.spectrum_per_pass", &I::spectrum_per_pass, 0, 1,
       "1: the input's DFT is recomputed in every pass, inside the MAC pipeline; 0: once per frame, buffered"},
      {"dataflow.overlap_cells", &I::overlap_cells, 0, 1,
       "1: the element-wise stage takes each pass's cells as they leave the IFFT (with rows_per_pass)"},
      {"dataflow.projection_first_pass", &I::projection_first_pass, 0, 1,
       "1: the projection's first pass runs on lanes of its own as m is produced (with rows_per_pass)"},
      {"activation.lanes", &I::act_lanes, 1, 4096, "activation lookups per cycle"},
      {"activation.latency", &I::act_latency, 0, 64, "activation pipeline cycles"},
      {"cell.lanes", &I::cell_lanes, 1, 4096, "cell updates per cycle"},
      {"cell.latency", &I::cell_latency, 0, 64, "cell-update pipeline cycles"},
      {"buffer.weight_kib", &I::weight_buffer_kib, 0, 1048576, "on-chip weight buffer in KiB (weights stream when larger)"},
      {"buffer.weight_slots_kib", &I::weight_slots_kib, 1, 1048576, "the two slots streamed weights pass through, in KiB"},
      {"buffer.weight_ports", &I::weight_ports, 0, 65536, "weight buffer words per cycle (0: as many as the EW-MAC needs)"},
      {"buffer.word_bytes", &I::buffer_word_bytes, 1, 1024, "bytes per word of every on-chip buffer"},
      {"buffer.input_kib", &I::input_kib, 1, 1048576, "input buffer (a frame per stream) in KiB"},
      {"buffer.input_ports", &I::input_ports, 0, 65536, "input buffer words per cycle (0: as many as needed)"},
      {"buffer.spectrum_kib", &I::spectrum_kib, 1, 1048576, "spectrum buffer (FFT outputs, per stream) in KiB"},
      {"buffer.spectrum_ports", &I::spectrum_ports, 0, 65536, "spectrum buffer words per cycle (0: as many as needed)"},
      {"buffer.psum_kib", &I::psum_kib, 1, 1048576, "partial-sum buffer (EW-MAC outputs, per stream) in KiB"},
      {"buffer.psum_ports", &I::psum_ports, 0, 65536, "partial-sum buffer words per cycle (0: as many as needed)"},
      {"buffer.gates_kib", &I::gates_kib, 1, 1048576, "gate-sum buffer (IFFT outputs, gates, biases) in KiB"},
      {"buffer.gates_ports", &I::gates_ports, 0, 65536, "gate-sum buffer words per cycle (0: as many as needed)"},
      {"buffer.state_kib", &I::state_kib, 1, 1048576, "state buffer (c, m, r per stream and layer) in KiB"},
      {"buffer.state_ports", &I::state_ports, 0, 65536, "state buffer words per cycle (0: as many as needed)"},
      {"buffer.output_kib", &I::output_kib, 1, 1048576, "output buffer (logits per stream) in KiB"},
      {"buffer.output_ports", &I::output_ports, 0, 65536, "output buffer words per cycle (0: as many as needed)"},
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
  // program_options takes an empty name for a prefix of every key and throws "ambiguous": no key is empty.
  if (key.empty() || key.front() == '.' || key.back() == '.') throw InputError(pos + ": empty key");
  const po::option_description* od = nullptr;
  try {
    od = desc.find_nothrow(key, false);
  } catch (const po::error&) {
    od = nullptr;
  }
  if (!od) throw InputError(pos + ": unknown key '" + printable(key) + "'");
  boost::any parsed;
  try {
    od->semantic()->parse(parsed, {value}, false);
    od->semantic()->notify(parsed);
  } catch (const po::error&) {
    throw InputError(key_at(pos, key) + ": '" + printable(value) + "' is not " + expected_kind(key));
  }
}

}  // namespace

HwConfig load_hw_config_text(const std::string& text, const std::string& ini_path,
                             const std::vector<std::string>& cli_overrides) {
  HwConfig c;
  Raw r;
  c.source = ini_path;
  const po::options_description desc = make_options(c, r);

  const IniScan scan = scan_ini(text, ini_path);
  // Errors in line order: a line inih rejected stops the file where it stands.
  std::map<std::string, std::string> where;
  for (const IniEntry& e : scan.entries) {
    if (scan.bad_line && e.line > scan.bad_line) break;
    const std::string pos = ini_path + ": line " + std::to_string(e.line);
    if (where.count(e.key))
      throw InputError(pos + ": duplicate key '" + printable(e.key) + "' (first at " + where[e.key] + ")");
    apply_key(desc, e.key, e.value, pos);
    where[e.key] = pos;
  }
  if (scan.bad_line) throw InputError(scan.bad_message);

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
  n.guard_bits = c.guard_bits;
  n.ifft_bits = c.ifft_bits;
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
