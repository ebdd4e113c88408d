// circa estimate: the closed-form performance, resource and energy model of a hardware config running a model
// (platform/estimate.hpp, docs/perf.md), without simulating anything.
#include <algorithm>
#include <boost/program_options.hpp>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/model.hpp"
#include "platform/cli.hpp"
#include "platform/default_paths.hpp"
#include "platform/estimate.hpp"
#include "platform/hw_config.hpp"

namespace po = boost::program_options;

namespace circa {

namespace {

nlohmann::ordered_json to_json(const HwConfig& hw, const std::string& model_path, const PerfEstimate& p,
                               const ResourceEstimate& r, const Device* dev, const EnergyEstimate& e,
                               const DspFloor& fl) {
  using json = nlohmann::ordered_json;
  json j;
  j["schema"] = "circa-estimate/1";
  j["config"] = hw.source;
  j["model"] = model_path;
  j["clock_mhz"] = p.clock_mhz;
  j["weights_on_chip"] = p.weights_on_chip;
  j["weight_bytes"] = p.weight_bytes;
  j["cycles_per_frame"] = p.cycles_per_frame;
  j["us_per_frame"] = p.us_per_frame;
  j["frames_per_second"] = p.frames_per_second;
  j["dense_equivalent_gops"] = p.dense_gops;
  j["job_load_cycles"] = p.job_load_cycles;
  j["bottleneck"] = p.bottleneck;
  j["busy_cycles_per_frame"] = {{"fft", p.fft},        {"emac", p.emac}, {"ifft", p.ifft},
                                {"activation", p.act}, {"cell", p.cell}, {"dma", p.dma}};
  j["critical_path"] = {{"fft", p.path_fft},
                        {"emac_ifft", p.path_mac},
                        {"weight_stream", p.path_stream},
                        {"activation_cell", p.path_cells},
                        {"dma", p.path_dma}};
  json mv = json::array();
  for (const MatvecCycles& m : p.matvecs)
    mv.push_back({{"name", m.shape.name},
                  {"p", m.shape.p},
                  {"q", m.shape.q},
                  {"k", m.shape.k},
                  {"cmacs", m.cmacs},
                  {"fft", m.fft},
                  {"emac", m.emac},
                  {"ifft", m.ifft},
                  {"emac_ifft_pipeline", m.mac_pipe},
                  {"weight_stream", m.stream}});
  j["matvecs"] = mv;
  j["work_per_frame"] = {{"complex_macs", p.cmacs},      {"fft_blocks", p.fft_blocks},
                         {"ifft_blocks", p.ifft_blocks}, {"butterflies", p.butterflies},
                         {"lut_lookups", p.lut_lookups}, {"buffer_words", p.buffer_words},
                         {"ddr_bytes", p.ddr_bytes}};
  json units = json::array();
  for (const UnitResources& u : r.units)
    units.push_back({{"unit", u.unit}, {"dsp", u.dsp}, {"bram36", u.bram36}, {"lut", u.lut}});
  j["resources"] = {{"units", units}, {"dsp", r.dsp}, {"bram36", r.bram36}, {"lut", r.lut}};
  if (dev) {
    j["device"] = {{"name", dev->name},
                   {"file", dev->source},
                   {"dsp", dev->dsp},
                   {"bram36", dev->bram36},
                   {"lut", dev->lut},
                   {"dsp_pct", 100.0 * r.dsp / dev->dsp},
                   {"bram36_pct", 100.0 * r.bram36 / dev->bram36},
                   {"lut_pct", 100.0 * r.lut / dev->lut},
                   {"fits", r.dsp <= dev->dsp && r.bram36 <= dev->bram36 && r.lut <= dev->lut}};
  }
  j["dsp_floor"] = {{"complex_macs", fl.cmacs},
                    {"dsps", fl.dsps},
                    {"dsps_from", dev ? "device" : "design"},
                    {"design_multiplies_per_cmac", fl.own_mults},
                    {"us_per_frame_design_multiplies", fl.own_us},
                    {"us_per_frame_4_multiplies", fl.four_us},
                    {"pct_of_floor_speed_design_multiplies", fl.own_us > 0 ? 100.0 * fl.own_us / p.us_per_frame : 0.0},
                    {"pct_of_floor_speed_4_multiplies", fl.four_us > 0 ? 100.0 * fl.four_us / p.us_per_frame : 0.0}};
  j["energy"] = {{"pj_per_action",
                  {{"butterfly", e.table.butterfly_pj},
                   {"complex_mac", e.table.cmac_pj},
                   {"lut_lookup", e.table.lut_pj},
                   {"buffer_word", e.table.buffer_pj},
                   {"ddr_byte", e.table.ddr_byte_pj}}},
                 {"uj_per_frame",
                  {{"fft", e.fft_uj},
                   {"emac", e.emac_uj},
                   {"lut", e.lut_uj},
                   {"buffer", e.buffer_uj},
                   {"ddr", e.ddr_uj},
                   {"dynamic", e.dynamic_uj},
                   {"static", e.static_uj},
                   {"total", e.total_uj}}},
                 {"static_w", e.static_w},
                 {"avg_power_w", e.avg_power_w},
                 {"frames_per_joule", e.frames_per_joule}};
  return j;
}

void print_text(const HwConfig& hw, const std::string& model_path, const PerfEstimate& p, const ResourceEstimate& r,
                const Device* dev, const EnergyEstimate& e, const DspFloor& fl) {
  std::printf("circa estimate (closed form): %s on %s\n", model_path.c_str(), hw.source.c_str());
  std::printf("  weights: %.1f KiB packed, %s\n", static_cast<double>(p.weight_bytes) / 1024.0,
              p.weights_on_chip ? "on chip" : "streamed from DDR every frame");
  std::printf(
      "  per frame, busy cycles: FFT %llu, EW-MAC %llu, IFFT %llu, activation %llu, cell update %llu, DMA %llu\n",
      static_cast<unsigned long long>(p.fft), static_cast<unsigned long long>(p.emac),
      static_cast<unsigned long long>(p.ifft), static_cast<unsigned long long>(p.act),
      static_cast<unsigned long long>(p.cell), static_cast<unsigned long long>(p.dma));
  std::printf(
      "  critical path: FFT %llu + EW-MAC/IFFT %llu + weight streaming %llu + activation/cell %llu + DMA %llu\n",
      static_cast<unsigned long long>(p.path_fft), static_cast<unsigned long long>(p.path_mac),
      static_cast<unsigned long long>(p.path_stream), static_cast<unsigned long long>(p.path_cells),
      static_cast<unsigned long long>(p.path_dma));
  std::printf("  latency: %llu cycles/frame = %.2f us/frame at %.0f MHz, %.0f frames/s, %.1f GOPS dense-equivalent\n",
              static_cast<unsigned long long>(p.cycles_per_frame), p.us_per_frame, p.clock_mhz, p.frames_per_second,
              p.dense_gops);
  std::printf("  bottleneck: %s; job load (descriptor + weights): %llu cycles once per utterance\n",
              p.bottleneck.c_str(), static_cast<unsigned long long>(p.job_load_cycles));
  std::printf("  resources:");
  for (const UnitResources& u : r.units)
    std::printf(" %s %lld DSP/%lld BRAM36/%lld LUT;", u.unit.c_str(), u.dsp, u.bram36, u.lut);
  std::printf("\n  total: %lld DSP, %lld BRAM36, %lld LUT\n", r.dsp, r.bram36, r.lut);
  if (dev) {
    const bool fits = r.dsp <= dev->dsp && r.bram36 <= dev->bram36 && r.lut <= dev->lut;
    std::printf("  on %s: DSP %.1f%%, BRAM36 %.1f%%, LUT %.1f%% -> %s\n", dev->name.c_str(), 100.0 * r.dsp / dev->dsp,
                100.0 * r.bram36 / dev->bram36, 100.0 * r.lut / dev->lut, fits ? "fits" : "DOES NOT FIT");
    if (!fits) {
      if (r.dsp > dev->dsp) std::printf("    DSP: needs %lld, the device has %lld\n", r.dsp, dev->dsp);
      if (r.bram36 > dev->bram36) std::printf("    BRAM36: needs %lld, the device has %lld\n", r.bram36, dev->bram36);
      if (r.lut > dev->lut) std::printf("    LUT: needs %lld, the device has %lld\n", r.lut, dev->lut);
    }
  }
  // On the device's DSPs when one is given, else on the design's own.
  std::fputs(dsp_floor_text(fl, p.us_per_frame, "  ").c_str(), stdout);
  std::printf("  energy: %.3f uJ/frame dynamic (FFT %.3f, EW-MAC %.3f, LUT %.3f, buffers %.3f, DDR %.3f)", e.dynamic_uj,
              e.fft_uj, e.emac_uj, e.lut_uj, e.buffer_uj, e.ddr_uj);
  if (dev) std::printf(" + %.3f static (%.2f W)", e.static_uj, e.static_w);
  std::printf("\n  power: %.2f W average, %.0f frames/J%s\n", e.avg_power_w, e.frames_per_joule,
              dev ? "" : " (dynamic only; --device adds static power)");
}

}  // namespace

int cmd_estimate(const Args& args) {
  po::options_description d(
      "circa estimate --config C.ini --model M.safetensors [--device D] [--json] [--section.key=value ...]");
  std::string config, model_path, device;
  bool json_out = false;
  // clang-format off
  d.add_options()
    ("help,h", "this help")
    ("config", po::value(&config), "hardware config (INI); default: platform/configs/default.ini")
    ("model", po::value(&model_path), "model (.safetensors); default: the bundled model")
    ("device", po::value(&device), "FPGA: a name in platform/devices/ (xcku060, xc7vx690t) or an .ini path")
    ("json", po::bool_switch(&json_out), "print JSON instead of text");
  // clang-format on
  std::vector<std::string> overrides;
  po::variables_map vm;
  if (parse_with_hw_overrides(args, d, overrides, vm)) return 0;
  if (config.empty()) config = default_config_path();
  if (model_path.empty()) model_path = default_model_path();

  const HwConfig hw = load_hw_config(config, overrides);
  const Model model = load_model(model_path);
  check_model_limits(hw, model, model_path, " of " + hw.source);
  Device dev;
  if (!device.empty()) dev = load_device(device_file(device));
  const PerfEstimate p = estimate_perf(hw, model);
  const ResourceEstimate r = estimate_resources(hw, model);
  const EnergyEstimate e = estimate_energy(hw, p, device.empty() ? 0.0 : dev.static_w);
  const Device* dp = device.empty() ? nullptr : &dev;
  const DspFloor fl = dsp_floor(hw, p, dp ? dp->dsp : r.dsp);
  if (json_out)
    std::cout << to_json(hw, model_path, p, r, dp, e, fl).dump(2) << "\n";
  else
    print_text(hw, model_path, p, r, dp, e, fl);
  return 0;
}

}  // namespace circa
