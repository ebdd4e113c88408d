// The closed-form model's formulas (platform/estimate.hpp) against numbers derived by hand in the comments.
#include <gtest/gtest.h>

#include <fstream>

#include "core/error.hpp"
#include "core/model.hpp"
#include "platform/estimate.hpp"
#include "platform/hw_config.hpp"

using namespace circa;

namespace {

std::string src(const std::string& rel) {
  return std::string(CIRCA_SOURCE_DIR) + "/" + rel;
}

HwConfig defaults() {
  return load_hw_config_text("", "defaults", {});
}

const Model& lstmp8() {
  static const Model m = [] {
    SynthSpec s;
    s.input_dim = 153;
    s.cell_dim = 1024;
    s.proj_dim = 512;
    s.block = {8};
    return synth_model(s);
  }();
  return m;
}

}  // namespace

TEST(EstimateFormulas, PipelineMakespan) {
  // MAC-bound: 3 + 3 + 3, then the last IFFT: 10.
  EXPECT_EQ(pipeline_makespan({{3, 3, 3}, {1, 1, 1}}), 10u);
  // IFFT-bound: the first MAC, then 5 + 5 + 5: 16.
  EXPECT_EQ(pipeline_makespan({{1, 1, 1}, {5, 5, 5}}), 16u);
  // Mixed: max(2 + 5 + 1, 2 + 6 + 1) = 9.
  EXPECT_EQ(pipeline_makespan({{2, 6}, {5, 1}}), 9u);
  // Three stages of 1, 2, 1 over two tiles: 1 + 2 + 2 + 1 = 6.
  EXPECT_EQ(pipeline_makespan({{1, 1}, {2, 2}, {1, 1}}), 6u);
  EXPECT_EQ(pipeline_makespan({}), 0u);
}

TEST(EstimateFormulas, UnitTiles) {
  const HwConfig c = defaults();            // FFT 4 lanes, ii 1, 2/stage, 2 I/O; EW-MAC 64 lanes, 2 banks, 3 + 2
  EXPECT_EQ(est_fft_tile(c, 32, 8), 16u);   // ceil(32/4) + 3*2 + 2
  EXPECT_EQ(est_fft_tile(c, 5, 16), 12u);   // ceil(5/4) + 4*2 + 2
  EXPECT_EQ(est_fft_tile(c, 7, 1), 4u);     // ceil(7/4) + 0 + 2 (dense: no stages)
  EXPECT_EQ(est_emac_tile(c, 6720), 110u);  // ceil(6720/64) = 105, + 3 + 2
  HwConfig one = load_hw_config_text("[emac]\nbanks = 1\n", "one-bank", {});
  EXPECT_EQ(est_emac_tile(one, 6720), 215u);  // 105 issues, one every add_latency = 2 cycles, + 5
  EXPECT_EQ(est_act_tile(c, 128), 28u);       // ceil(3*128/16) + 4
  EXPECT_EQ(est_cell_tile(c, 100), 13u);      // ceil(100/16) + 6
}

TEST(EstimateFormulas, Dma) {
  const HwConfig c = defaults();  // DDR4-2400: one DDR clock = 2000/2400 ns; tCL 16; BL8 on 8 bytes = 64 B, 4 clocks
  EXPECT_EQ(est_dma(c, 0), 0u);
  EXPECT_EQ(est_dma(c, 306), 6u);        // 5 bursts: 16 + 20 = 36 clocks = 30 ns = 6 cycles at 200 MHz
  EXPECT_EQ(est_dma(c, 78), 4u);         // 2 bursts: 16 + 8 = 24 clocks = 20 ns = 4 cycles
  EXPECT_EQ(est_dma(c, 78, true), 10u);  // + tRP 16 + tRCD 16: 56 clocks = 46.7 ns -> 10 cycles
  // 1 MiB: 16384 bursts * 4 + 16 = 65552 clocks = 54626.7 ns = 10925.3 -> 10926 cycles (19.2 GB/s peak).
  EXPECT_EQ(est_dma(c, 1 << 20), 10926u);
}

TEST(EstimateFormulas, ShapesAndWeightBytes) {
  const auto v = frame_matvecs(lstmp8());
  ASSERT_EQ(v.size(), 3u);  // [W_x | W_r] (shared k), projection, output
  EXPECT_EQ(v[0].p, 512);   // 4 * 1024 / 8
  EXPECT_EQ(v[0].q, 84);    // ceil(153/8) = 20, + 512/8 = 64
  EXPECT_EQ(v[1].p, 64);
  EXPECT_EQ(v[1].q, 128);
  EXPECT_EQ(v[2].p, 39);
  EXPECT_EQ(v[2].q, 512);
  EXPECT_EQ(v[2].k, 1);
  const HwConfig c = defaults();  // Q4.12 weights: 2 bytes a word
  // 5 bins x 64 chunks x 84 columns x 8 rows x 2 words x 2 bytes.
  EXPECT_EQ(packed_weight_bytes(v[0], c), 860160u);
  // Output: 1 bin x 5 chunks (39 rows pad to 40) x 512 x 8 x 2 x 2.
  EXPECT_EQ(packed_weight_bytes(v[2], c), 81920u);
  const HwConfig wide = load_hw_config_text("[numerics]\nweight = Q4.14\n", "wide", {});
  EXPECT_EQ(packed_weight_bytes(v[0], wide), 2 * 860160u);  // 18 bits are stored in 32-bit words

  SynthSpec g;
  g.arch = Arch::gru;
  g.input_dim = 40;
  g.cell_dim = 64;
  g.proj_dim = 0;
  g.block = {8};
  const auto w = frame_matvecs(synth_model(g));
  ASSERT_EQ(w.size(), 3u);  // GRU: W_x and W_r apart, then the output
  EXPECT_EQ(w[0].p, 24);    // 3 * 64 / 8
  EXPECT_EQ(w[0].q, 5);
  EXPECT_EQ(w[1].q, 8);
  EXPECT_EQ(w[2].q, 64);
}

TEST(EstimateFormulas, PerfOfTheFft8Preset) {
  const HwConfig c = load_hw_config(src("platform/configs/clstm-ku060-fft8.ini"), {});
  const PerfEstimate p = estimate_perf(c, lstmp8());
  // Derived in tests/platform/test_estimate.cpp (ClstmKu060Fft8): 45 + 2860 + 64 + 544 + 160 + 270 + 238 + 10.
  EXPECT_EQ(p.path_fft, 269u);
  EXPECT_EQ(p.path_mac, 3674u);
  EXPECT_EQ(p.path_cells, 238u);
  EXPECT_EQ(p.path_dma, 10u);
  EXPECT_EQ(p.cycles_per_frame, 4191u);
  EXPECT_DOUBLE_EQ(p.us_per_frame, 4191 / 200.0);
  EXPECT_EQ(p.emac, 3646u);  // 32*89 + 4*133 + 108 + 108 + 50
  EXPECT_EQ(p.ifft, 448u);   // 32*12 + 4*12 + 6 + 6 + 4
  // cMACs: 512*84*5 + 64*128*5 + 39*512 = 215040 + 40960 + 19968.
  EXPECT_EQ(p.cmacs, 275968u);
  // Butterflies: (84 + 512) * 4 * 3 + (128 + 64) * 4 * 3 (the dense output has none).
  EXPECT_EQ(p.butterflies, 9456u);
  EXPECT_EQ(p.lut_lookups, 5120u);  // 5 per cell
  EXPECT_EQ(p.ddr_bytes, 384u);     // 306 in + 78 out
  EXPECT_TRUE(p.weights_on_chip);
  EXPECT_EQ(p.weight_bytes, 1080u * 1024);
  EXPECT_EQ(p.bottleneck, "emac");
}

TEST(EstimateResources, Twiddles) {
  EXPECT_EQ(nontrivial_twiddles(1), 0);
  EXPECT_EQ(nontrivial_twiddles(2), 0);
  EXPECT_EQ(nontrivial_twiddles(4), 0);    // W4^1 = -j
  EXPECT_EQ(nontrivial_twiddles(8), 2);    // W8^1, W8^3
  EXPECT_EQ(nontrivial_twiddles(16), 10);  // 2 groups x 2 (m = 8) + 6 (m = 16: j = 1..7 but 4)
  EXPECT_EQ(nontrivial_twiddles(32), 34);  // 4 x 2 + 2 x 6 + 14
}

TEST(EstimateResources, Fft8PresetOnKu060) {
  const HwConfig c = load_hw_config(src("platform/configs/clstm-ku060-fft8.ini"), {});
  const ResourceEstimate r = estimate_resources(c, lstmp8());
  auto unit = [&](const std::string& n) {
    for (const auto& u : r.units)
      if (u.unit == n) return u;
    ADD_FAILURE() << n;
    return UnitResources{};
  };
  // DSP: FFT and IFFT 4 lanes x 2 twiddles x 4 = 32 each; EW-MAC 80 x 4 = 320; activation 16 x (peephole +
  // interpolation) = 32; cell update 16 x (4 products + 2 interpolations) = 96. 32 + 32 + 320 + 32 + 96 = 512.
  EXPECT_EQ(unit("fft").dsp, 32);
  EXPECT_EQ(unit("ifft").dsp, 32);
  EXPECT_EQ(unit("emac").dsp, 320);
  EXPECT_EQ(unit("activation").dsp, 32);
  EXPECT_EQ(unit("cell").dsp, 96);
  EXPECT_EQ(r.dsp, 512);
  // BRAM36: weights 1152 KiB / 2 bytes = 589824 words / 2048 = 288 (> 80/2 = 40 for bandwidth); FFT spectrum
  // 512 x 5 x 2 x 16 = 81920 bits -> 3, ping-pong 6; IFFT 1; activation and cell tables 257 x 16 bits = 1 BRAM18 per
  // copy, 8 copies x 2 functions = 16 BRAM18 = 8 each; buffers 2*4*1024*16 + 1024*16 + 2*512*16 + 1024*16 = 180224
  // bits -> 5, + logits 1 = 6; DMA 256 x 4 x 8 bits -> 1. 288 + 6 + 1 + 8 + 8 + 6 + 1 = 318.
  EXPECT_EQ(unit("emac").bram36, 288);
  EXPECT_EQ(unit("fft").bram36, 6);
  EXPECT_EQ(unit("activation").bram36, 8);
  EXPECT_EQ(unit("buffers").bram36, 6);
  EXPECT_EQ(r.bram36, 318);
  // LUT: FFT lane 12 butterflies x 4 adders x (16 + 3) bits = 912, x 4 lanes + 500 = 4148.
  EXPECT_EQ(unit("fft").lut, 4148);
  EXPECT_EQ(unit("emac").lut, 80 * 48 + 300);

  const Device ku = load_device(src("platform/devices/xcku060.ini"));
  EXPECT_EQ(ku.dsp, 2760);
  EXPECT_EQ(ku.bram36, 1080);
  EXPECT_EQ(ku.lut, 331680);
  EXPECT_LE(r.dsp, ku.dsp);
  const Device v7 = load_device(src("platform/devices/xc7vx690t.ini"));
  EXPECT_EQ(v7.dsp, 3600);
  EXPECT_EQ(v7.bram36, 1470);
  EXPECT_EQ(v7.lut, 433200);

  // 1024 lanes: 4096 DSPs in the EW-MAC alone, more than the KU060 has.
  const HwConfig big = load_hw_config(src("platform/configs/clstm-ku060-fft8.ini"), {"emac.lanes=1024"});
  EXPECT_EQ(estimate_resources(big, lstmp8()).dsp, 512 - 320 + 4096);
}

TEST(EstimateResources, BadDeviceFiles) {
  const std::string dir = ::testing::TempDir();
  auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream(dir + "/" + name) << text;
    return dir + "/" + name;
  };
  EXPECT_THROW(load_device(dir + "/no-such-device.ini"), InputError);
  EXPECT_THROW(load_device(write("d1.ini", "name = x\ndsp = 10\nbram36 = 1\n")), InputError);  // no lut
  EXPECT_THROW(load_device(write("d2.ini", "name = x\ndsp = -3\nbram36 = 1\nlut = 1\n")), InputError);
  EXPECT_THROW(load_device(write("d3.ini", "name = x\ndsps = 3\n")), InputError);
  EXPECT_THROW(load_device(write("d4.ini", "name = x\nname = y\n")), InputError);
  try {
    load_device(write("d5.ini", "name = x\ndsp = 1e99\n"));
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("d5.ini: line 2"), std::string::npos) << e.what();
  }
}

TEST(EstimateEnergy, HandDerived) {
  const HwConfig c = defaults();  // 16-bit activations: the table's 16-bit figures
  PerfEstimate p;
  p.cmacs = 1000;
  p.butterflies = 100;
  p.lut_lookups = 10;
  p.buffer_words = 1000;
  p.ddr_bytes = 10;
  p.us_per_frame = 2.0;
  const EnergyEstimate e = estimate_energy(c, p, 1.0);
  // EW-MAC 1000 x 18 pJ = 0.018 uJ; FFT 100 x 20 pJ = 0.002; LUT 10 x 8 pJ = 0.00008; buffers 1000 x 2.5 pJ =
  // 0.0025; DDR 10 x 120 pJ = 0.0012: 0.02378 uJ dynamic. Static 1 W x 2 us = 2 uJ. Total 2.02378 uJ, i.e.
  // 1.01189 W and 1e6 / 2.02378 = 494124.86 frames/J.
  EXPECT_NEAR(e.emac_uj, 0.018, 1e-12);
  EXPECT_NEAR(e.fft_uj, 0.002, 1e-12);
  EXPECT_NEAR(e.lut_uj, 0.00008, 1e-12);
  EXPECT_NEAR(e.buffer_uj, 0.0025, 1e-12);
  EXPECT_NEAR(e.ddr_uj, 0.0012, 1e-12);
  EXPECT_NEAR(e.dynamic_uj, 0.02378, 1e-12);
  EXPECT_NEAR(e.static_uj, 2.0, 1e-12);
  EXPECT_NEAR(e.avg_power_w, 1.01189, 1e-9);
  EXPECT_NEAR(e.frames_per_joule, 494124.86, 0.01);
  // A 12-bit datapath: multipliers scale by (12/16)^2 = 0.5625, storage by 0.75; DDR bytes do not.
  const HwConfig narrow = load_hw_config_text("[numerics]\nactivation = Q6.6\n", "narrow", {});
  const EnergyTable t = energy_table(12);
  EXPECT_DOUBLE_EQ(t.cmac_pj, 18.0 * 0.5625);
  EXPECT_DOUBLE_EQ(t.buffer_pj, 2.5 * 0.75);
  EXPECT_DOUBLE_EQ(t.ddr_byte_pj, 120.0);
  EXPECT_NEAR(estimate_energy(narrow, p, 0.0).emac_uj, 1000 * 10.125e-6, 1e-12);
  EXPECT_EQ(estimate_energy(narrow, p, 0.0).static_uj, 0.0);
}

// Q formats as the hardware config spells them: Qm.n, one or two digits each, 8 to 18 bits, m >= 1.
TEST(HwConfigQFormat, ParsesQmnAndRejectsTheRest) {
  using circa::parse_qformat;
  const circa::QFormat a = parse_qformat("Q8.8", "x.ini: line 1");
  EXPECT_EQ(a.m, 8);
  EXPECT_EQ(a.n, 8);
  const circa::QFormat b = parse_qformat("Q1.17", "x");
  EXPECT_EQ(b.m, 1);
  EXPECT_EQ(b.n, 17);
  const circa::QFormat c = parse_qformat("Q06.10", "x");  // a leading zero is a digit like any other
  EXPECT_EQ(c.m, 6);
  EXPECT_EQ(c.n, 10);
  for (const char* bad : {"", "Q", "Q8", "Q8.", "Q.8", "q8.8", "Q8,8", "Q8.8 ", " Q8.8", "Q123.4", "Q4.123", "Q8.8.8",
                          "Q+8.8", "Q-1.9", "Q8.8x"}) {
    try {
      parse_qformat(bad, "x.ini: line 3");
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const circa::InputError& e) {
      EXPECT_EQ(std::string(e.what()).rfind("x.ini: line 3: '", 0), 0u) << e.what();
      EXPECT_NE(std::string(e.what()).find("is not a Q format"), std::string::npos) << e.what();
    }
  }
  // Well formed, but outside what the datapath supports.
  EXPECT_THROW(parse_qformat("Q0.12", "x"), circa::InputError);   // no sign bit
  EXPECT_THROW(parse_qformat("Q4.3", "x"), circa::InputError);    // 7 bits
  EXPECT_THROW(parse_qformat("Q10.10", "x"), circa::InputError);  // 20 bits
  EXPECT_NO_THROW(parse_qformat("Q9.9", "x"));                    // 18 bits
}
