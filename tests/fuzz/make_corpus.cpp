// Writes the fuzz seed corpora (tests/fuzz/corpus/<target>/): small valid files made with circa's own writers, plus
// hand-built variants for what the writers never produce (F16 tensors, DM and compressed matrices, Fortran-order
// .npy) and a few slightly broken ones, so that the fuzzer starts next to both the accepting and the rejecting paths.
//
//   build/fuzz/fuzz_make_corpus <source dir> [target...]
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "core/atomic_file.hpp"
#include "core/kaldi_io.hpp"
#include "core/model.hpp"
#include "core/npy.hpp"
#include "core/safetensors.hpp"
#include "hwif/descriptor.hpp"
#include "sw_driver/runtime.hpp"
#include "tests/fuzz/fuzz_targets.hpp"

namespace fs = std::filesystem;
using namespace circa;

namespace {

fs::path g_root;

void put(const std::string& target, const std::string& file, const std::string& bytes) {
  const fs::path dir = g_root / target;
  fs::create_directories(dir);
  std::ofstream out(dir / file, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + (dir / file).string());
}

void put_le(std::string& s, std::uint64_t v, int n) {
  for (int i = 0; i < n; ++i) s += static_cast<char>((v >> (8 * i)) & 0xff);
}

void put_f32(std::string& s, float f) {
  std::uint32_t u;
  std::memcpy(&u, &f, 4);
  put_le(s, u, 4);
}

void put_f64(std::string& s, double d) {
  std::uint64_t u;
  std::memcpy(&u, &d, 8);
  put_le(s, u, 8);
}

// Kaldi's WriteBasicType<int32>.
std::string i32(std::int32_t v) {
  std::string s(1, '\x04');
  put_le(s, static_cast<std::uint32_t>(v), 4);
  return s;
}

std::string model_bytes(const Model& m) {
  const fs::path tmp = fs::temp_directory_path() / "circa_fuzz_corpus.safetensors";
  save_model(m, tmp.string());
  std::string b = read_file(tmp.string());
  fs::remove(tmp);
  return b;
}

void safetensors_corpus() {
  SynthSpec s;
  s.input_dim = 3;
  s.cell_dim = 4;
  s.proj_dim = 2;
  s.block = {2};
  s.num_classes = 2;
  const std::string lstmp = model_bytes(synth_model(s));
  put("safetensors", "lstmp_k2.safetensors", lstmp);

  s.input_dim = 2;
  s.cell_dim = 2;
  s.proj_dim = 0;
  s.block = {1};
  Model dense = synth_model(s);
  dense.cmvn_mean = {0.5f, -0.25f};
  dense.cmvn_inv_std = {2.0f, 1.0f};
  const std::string dense_bytes = model_bytes(dense);
  put("safetensors", "lstmp_dense_cmvn.safetensors", dense_bytes);

  s.arch = Arch::gru;
  s.input_dim = 3;
  s.cell_dim = 4;
  s.layers = 2;
  s.block = {2, 4};
  put("safetensors", "gru_2layer.safetensors", model_bytes(synth_model(s)));

  // A valid container but no model (no metadata, dtypes circa's models never hold), for the dtype conversions.
  {
    const std::string header = R"({"a":{"dtype":"F16","shape":[2],"data_offsets":[0,4]},)"
                               R"("b":{"dtype":"BF16","shape":[1,2],"data_offsets":[4,8]},)"
                               R"("c":{"dtype":"F64","shape":[1],"data_offsets":[8,16]},)"
                               R"("d":{"dtype":"I32","shape":[],"data_offsets":[16,20]},)"
                               R"("e":{"dtype":"U8","shape":[0],"data_offsets":[20,20]}})";
    std::string b;
    put_le(b, header.size(), 8);
    b += header;
    put_le(b, 0x3c00, 2);  // 1.0 in binary16
    put_le(b, 0x0001, 2);  // the smallest binary16 subnormal
    put_le(b, 0x3f80, 2);  // 1.0 in bfloat16
    put_le(b, 0x7fc0, 2);  // a bfloat16 NaN
    put_f64(b, -2.5);
    put_le(b, 7, 4);
    put("safetensors", "bad_model_dtypes.safetensors", b);
  }

  // Slightly broken: a NaN weight (the last tensor in name order is output.w), a truncated file, and a header
  // length one past the end.
  {
    std::string b = dense_bytes;
    const float nan = std::numeric_limits<float>::quiet_NaN();
    std::memcpy(&b[b.size() - 4], &nan, 4);
    put("safetensors", "bad_nan_weight.safetensors", b);
    put("safetensors", "bad_truncated.safetensors", lstmp.substr(0, lstmp.size() - 3));
    std::string h = lstmp;
    std::string l;
    put_le(l, h.size() - 7, 8);
    h.replace(0, 8, l);
    put("safetensors", "bad_header_length.safetensors", h);
  }
}

Matrix mat(std::size_t r, std::size_t c, float base) {
  Matrix m(r, c);
  for (std::size_t i = 0; i < m.data.size(); ++i) m.data[i] = base + 0.25f * static_cast<float>(i);
  return m;
}

void ark_corpus() {
  const std::vector<Utterance> utts = {{"utt1", mat(3, 2, -1.0f)}, {"utt2", mat(2, 2, 4.0f)}, {"empty", Matrix()}};
  put("ark", "fm.ark", serialize_ark(utts, ArkFormat::binary));
  put("ark", "text.ark", serialize_ark(utts, ArkFormat::text));

  // A single-object file (no key), as an scp's bare path may name.
  put("ark", "single_fm.mat", serialize_ark({{"x", mat(2, 3, 0.5f)}}, ArkFormat::binary).substr(2));

  std::string dm = "d1 ";
  dm += std::string("\0BDM ", 5) + i32(2) + i32(2);
  for (double v : {1.0, -2.0, 1e-3, 3.5}) put_f64(dm, v);
  put("ark", "dm.ark", dm);

  // Compressed matrices, laid out as Kaldi's CompressedMatrix::Write does (2 rows x 3 columns).
  auto global = [](float min, float range, int rows, int cols) {
    std::string g;
    put_f32(g, min);
    put_f32(g, range);
    put_le(g, static_cast<std::uint32_t>(rows), 4);
    put_le(g, static_cast<std::uint32_t>(cols), 4);
    return g;
  };
  std::string cm = "c1 " + std::string("\0BCM ", 5) + global(-1.0f, 2.0f, 2, 3);
  for (int j = 0; j < 3; ++j)
    for (std::uint16_t q : {0, 16384, 49152, 65535}) put_le(cm, q, 2);
  for (int j = 0; j < 3; ++j) cm += std::string{'\x00', '\xff'};
  std::string cm2 = "c2 " + std::string("\0BCM2 ", 6) + global(0.0f, 1.0f, 2, 3);
  for (std::uint16_t q : {0, 1, 2, 32768, 65534, 65535}) put_le(cm2, q, 2);
  std::string cm3 =
      "c3 " + std::string("\0BCM3 ", 6) + global(-4.0f, 8.0f, 2, 3) + std::string("\x00\x01\x40\x80\xc0\xff", 6);
  put("ark", "cm.ark", cm);
  put("ark", "cm2.ark", cm2);
  put("ark", "cm3.ark", cm3);
  put("ark", "mixed.ark", cm3 + "\nt1  [ 1 2\n 3 4 ]\n" + cm2);

  // Slightly broken.
  const std::string fm = serialize_ark({{"u", mat(2, 2, 0.0f)}}, ArkFormat::binary);
  put("ark", "bad_truncated.ark", fm.substr(0, fm.size() - 1));
  put("ark", "bad_vector.ark", "v " + std::string("\0BFV ", 5) + i32(2) + std::string(8, '\0'));
  put("ark", "bad_ragged.ark", "r [ 1 2\n 3 ]\n");
  put("ark", "bad_no_marker.ark", "k FM " + i32(1) + i32(1) + std::string(4, '\0'));
}

void scp_corpus() {
  put("scp", "offsets.scp", "utt1 test.ark:5\nutt2 test.ark:43\n");
  put("scp", "mixed.scp", "\n  a\t/abs/feats.ark:123  \r\nb sub/dir/x.ark\nc c:/dos/path.ark\n\nd x.ark:0\n");
  put("scp", "bad_pipe.scp", "u1 gunzip -c x.ark.gz |\n");
  put("scp", "bad_range.scp", "u1 x.ark:10[0:3]\n");
  put("scp", "bad_duplicate.scp", "u1 x.ark:5\nu2 x.ark:9\nu1 y.ark:3\n");
  put("scp", "bad_offset.scp", "u1 x.ark:123456789012345678901234567890\n");
}

// A .npy file as numpy writes it, for headers our own writer never produces.
std::string npy(int major, const std::string& dict, const std::string& data) {
  std::string header = dict;
  const std::size_t prefix = 8 + (major == 1 ? 2 : 4);
  header.append(63 - (prefix + header.size()) % 64, ' ');
  header += '\n';
  std::string b = "\x93NUMPY";
  b += static_cast<char>(major);
  b += '\0';
  put_le(b, header.size(), major == 1 ? 2 : 4);
  return b + header + data;
}

void npy_corpus() {
  put("npy", "f4_2d.npy", serialize_npy(mat(2, 3, 1.0f)));
  put("npy", "f4_empty.npy", serialize_npy(Matrix(0, 3)));
  std::string f4;
  for (float v : {1.0f, 2.0f, 3.0f}) put_f32(f4, v);
  put("npy", "f4_1d.npy", npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", f4));
  std::string f8;
  for (double v : {1.0, 2.0, 3.0, 4.0, 5.0, 6.0}) put_f64(f8, v);
  put("npy", "f8_fortran_v2.npy", npy(2, "{'descr': '<f8', 'fortran_order': True, 'shape': (2, 3), }", f8));
  put("npy", "f4_v3_long.npy", npy(3, "{\"shape\": (1L, 3L), \"descr\": \"=f4\", \"fortran_order\": False}", f4));
  put("npy", "bad_big_endian.npy", npy(1, "{'descr': '>f4', 'fortran_order': False, 'shape': (3,), }", f4));
  put("npy", "bad_3d.npy", npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 3), }", f4));
  put("npy", "bad_truncated.npy", npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }", f4));
}

void alignment_corpus() {
  put("alignment", "two.ali", "utt1 sil sil aa aa aa b sil\nutt2 sil iy iy t t sil\n");
  put("alignment", "blank_lines.ali", "\n  utt1\tsil  sh \r\n\nutt3 sil\n");
  put("alignment", "bad_unknown_phone.ali", "utt1 sil zh sil\n");
  put("alignment", "bad_duplicate.ali", "utt1 sil\nutt2 aa\nutt1 sil\n");
}

void hw_config_corpus(const fs::path& source) {
  put("hw_config", "default.ini", read_file((source / "platform/configs/default.ini").string()));
  put("hw_config", "pwl.ini", "[activation]\nmode = pwl\npwl_segments = 64\n[clock]\nmhz=350.5\n");
  put("hw_config", "overrides.ini",
      std::string("[numerics]\nweight = Q6.10\n") + '\0' + "numerics.rounding=half_up\nclock.mhz=100\n");
  put("hw_config", "bad_unknown_key.ini", "[numerics]\nwidth = 16\n");
  put("hw_config", "bad_duplicate.ini", "[clock]\nmhz = 100\n; again\nmhz = 200\n");
  put("hw_config", "bad_qformat.ini", "[numerics]\nactivation = Q0.20\n");
  put("hw_config", "bad_value.ini", "[activation]\ninterpolate = maybe\nlut_entries = 1e9\n");
}

// Job descriptors as the host runtime packs them for the default numerics, at the DDR base the fuzz target checks
// against, plus a few that the validator must refuse.
void descriptor_corpus() {
  const Numerics num;
  auto packed = [&](const SynthSpec& spec) {
    const Model m = synth_model(spec);
    const HostRuntime rt(m, num, fuzz::kDescDdrBase + 0x1000);
    SatCounters sat;
    const Matrix frames(3, static_cast<std::size_t>(spec.input_dim));
    return serialize_descriptor(rt.pack_job(frames, rt.model_end(), sat).desc);
  };
  SynthSpec s;
  s.input_dim = 40;
  s.cell_dim = 32;
  s.proj_dim = 16;
  s.layers = 2;
  s.block = {8, 4};
  const std::string lstmp = packed(s);
  put("descriptor", "lstmp_2layer.desc", lstmp);
  s.input_dim = 20, s.cell_dim = 8, s.proj_dim = 4, s.layers = 1, s.block = {1};
  put("descriptor", "lstmp_dense.desc", packed(s));
  s.input_dim = 30, s.cell_dim = 16, s.proj_dim = 0, s.block = {4};
  put("descriptor", "lstmp_no_projection.desc", packed(s));
  {
    // Three streams of different lengths through an input ring of 2 frames (register map 1.1).
    SynthSpec r = s;
    r.input_dim = 40, r.cell_dim = 32, r.proj_dim = 16, r.layers = 2, r.block = {8, 4};
    const Model m = synth_model(r);
    const HostRuntime rt(m, num, fuzz::kDescDdrBase + 0x1000);
    SatCounters sat;
    const Matrix a(3, 40), b2(5, 40), c(2, 40);
    put("descriptor", "lstmp_ring_3streams.desc",
        serialize_descriptor(rt.pack_streams({&a, &b2, &c}, rt.model_end(), 2, sat).desc));
  }
  s.arch = Arch::gru, s.input_dim = 24, s.cell_dim = 16, s.layers = 2, s.block = {8, 2};
  put("descriptor", "gru_2layer.desc", packed(s));

  std::string b = lstmp;
  b[0] = 'X';
  put("descriptor", "bad_magic.desc", b);
  put("descriptor", "bad_truncated.desc", lstmp.substr(0, kDescHeaderBytes + kDescLayerBytes + 40));
  b = lstmp;
  b[kDescHeaderBytes + 12] = 3;  // layer 0's k_x
  put("descriptor", "bad_block_size.desc", b);
  b = lstmp;
  const std::uint64_t beyond = fuzz::kDescDdrBase + fuzz::kDescDdrSize;
  std::memcpy(&b[32], &beyond, 8);  // the input frames, just past the end of DDR
  put("descriptor", "bad_input_outside_ddr.desc", b);
  b = lstmp;
  b[kDescHeaderBytes + kDescLayerBytes + 100] = 1;  // a reserved byte of layer 1
  put("descriptor", "bad_reserved_byte.desc", b);
}

}  // namespace

// With target names after the source folder, only those corpora are rewritten.
int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: fuzz_make_corpus <source dir> [target...]\n";
    return 2;
  }
  try {
    const fs::path source = argv[1];
    g_root = source / "tests/fuzz/corpus";
    const std::vector<std::string> only(argv + 2, argv + argc);
    auto wanted = [&](const char* t) { return only.empty() || std::find(only.begin(), only.end(), t) != only.end(); };
    if (wanted("safetensors")) safetensors_corpus();
    if (wanted("ark")) ark_corpus();
    if (wanted("scp")) scp_corpus();
    if (wanted("npy")) npy_corpus();
    if (wanted("alignment")) alignment_corpus();
    if (wanted("hw_config")) hw_config_corpus(source);
    if (wanted("descriptor")) descriptor_corpus();
  } catch (const std::exception& e) {
    std::cerr << "fuzz_make_corpus: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
