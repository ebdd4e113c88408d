// Kaldi ark/scp reading and writing: round trips, an independent reader, compressed matrices built by a test-local
// encoder, and malformed inputs that must fail with the file and the exact position in the message.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/kaldi_io.hpp"

namespace fs = std::filesystem;
using circa::ArkFormat;
using circa::InputError;
using circa::Matrix;
using circa::Utterance;

namespace {

fs::path fresh_dir(const std::string& name) {
  fs::path d = fs::path(::testing::TempDir()) / ("circa_kaldi_" + name);
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

void put(const fs::path& p, const std::string& bytes) {
  std::ofstream out(p, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good()) << p;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// --- Byte builders written from the Kaldi format description, independently of core/kaldi_io.cpp. ---

void put_le(std::string& s, std::uint64_t v, int n) {
  for (int i = 0; i < n; ++i) s += static_cast<char>((v >> (8 * i)) & 0xff);
}

std::uint32_t float_bits(float f) {
  std::uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

// Kaldi's WriteBasicType<int32>: a size byte 4, then the value little-endian.
std::string i32(std::int32_t v) {
  std::string s(1, '\x04');
  put_le(s, static_cast<std::uint32_t>(v), 4);
  return s;
}

std::string f32(float f) {
  std::string s;
  put_le(s, float_bits(f), 4);
  return s;
}

std::string f32s(const std::vector<float>& v) {
  std::string s;
  for (float f : v) s += f32(f);
  return s;
}

std::string f64s(const std::vector<double>& v) {
  std::string s;
  for (double d : v) {
    std::uint64_t u;
    std::memcpy(&u, &d, 8);
    put_le(s, u, 8);
  }
  return s;
}

const std::string kBin("\0B", 2);

std::string fm_entry(const std::string& key, std::int32_t rows, std::int32_t cols, const std::vector<float>& v) {
  return key + " " + kBin + "FM " + i32(rows) + i32(cols) + f32s(v);
}

// Compressed GlobalHeader as it appears in the stream (Kaldi drops the int32 format field, the token encodes it).
std::string cm_global(float min_value, float range, std::int32_t rows, std::int32_t cols) {
  std::string s = f32(min_value) + f32(range);
  put_le(s, static_cast<std::uint32_t>(rows), 4);
  put_le(s, static_cast<std::uint32_t>(cols), 4);
  return s;
}

// --- A test-local Kaldi compressor (compressed-matrix.cc's CopyFromMat), used to feed the reader realistic data. ---

struct Global {
  float min_value, range;
};

Global global_of(const std::vector<float>& v) {
  float lo = *std::min_element(v.begin(), v.end()), hi = *std::max_element(v.begin(), v.end());
  if (hi == lo) hi = lo + (1.0f + std::fabs(lo));
  return {lo, hi - lo};
}

std::uint16_t to_u16(const Global& g, float value) {
  float f = (value - g.min_value) / g.range;
  f = std::min(1.0f, std::max(0.0f, f));
  return static_cast<std::uint16_t>(static_cast<int>(f * 65535 + 0.499));
}

std::uint8_t to_u8(const Global& g, float value) {
  float f = (value - g.min_value) / g.range;
  f = std::min(1.0f, std::max(0.0f, f));
  return static_cast<std::uint8_t>(static_cast<int>(f * 255 + 0.499));
}

double u16_value(const Global& g, std::uint16_t v) {
  return g.min_value + g.range * (v / 65535.0);
}

std::string encode_cm2(const std::vector<float>& rowmajor, int rows, int cols) {
  Global g = global_of(rowmajor);
  std::string s = "CM2 " + cm_global(g.min_value, g.range, rows, cols);
  for (float v : rowmajor) put_le(s, to_u16(g, v), 2);
  return s;
}

std::string encode_cm3(const std::vector<float>& rowmajor, int rows, int cols) {
  Global g = global_of(rowmajor);
  std::string s = "CM3 " + cm_global(g.min_value, g.range, rows, cols);
  for (float v : rowmajor) s += static_cast<char>(to_u8(g, v));
  return s;
}

// Kaldi's kOneByteWithColHeaders for rows >= 5: per column the 0th, 25th, 75th and 100th percentiles (kept strictly
// increasing), then one byte per value on a piecewise-linear scale of 64 / 128 / 63 steps. Returns the bytes and, per
// column, the largest quantization step, which bounds the reconstruction error.
std::string encode_cm(const std::vector<float>& rowmajor, int rows, int cols, std::vector<double>* max_step) {
  Global g = global_of(rowmajor);
  std::string headers, bytes;
  for (int c = 0; c < cols; ++c) {
    std::vector<float> col(rows);
    for (int r = 0; r < rows; ++r) col[r] = rowmajor[r * cols + c];
    std::vector<float> sorted = col;
    std::sort(sorted.begin(), sorted.end());
    int q = rows / 4;
    std::uint16_t p0 = std::min<std::uint16_t>(to_u16(g, sorted[0]), 65532);
    std::uint16_t p25 = std::min<std::uint16_t>(std::max<std::uint16_t>(to_u16(g, sorted[q]), p0 + 1), 65533);
    std::uint16_t p75 = std::min<std::uint16_t>(std::max<std::uint16_t>(to_u16(g, sorted[3 * q]), p25 + 1), 65534);
    std::uint16_t p100 = std::max<std::uint16_t>(to_u16(g, sorted[rows - 1]), p75 + 1);
    for (std::uint16_t p : {p0, p25, p75, p100}) put_le(headers, p, 2);
    double f0 = u16_value(g, p0), f25 = u16_value(g, p25), f75 = u16_value(g, p75), f100 = u16_value(g, p100);
    max_step->push_back(std::max({(f25 - f0) / 64, (f75 - f25) / 128, (f100 - f75) / 63}));
    for (float v : col) {
      int ans;
      if (v < f25) {
        ans = std::clamp(static_cast<int>((v - f0) / (f25 - f0) * 64 + 0.5), 0, 64);
      } else if (v < f75) {
        ans = std::clamp(64 + static_cast<int>((v - f25) / (f75 - f25) * 128 + 0.5), 64, 192);
      } else {
        ans = std::clamp(192 + static_cast<int>((v - f75) / (f100 - f75) * 63 + 0.5), 192, 255);
      }
      bytes += static_cast<char>(ans);
    }
  }
  return "CM " + cm_global(g.min_value, g.range, rows, cols) + headers + bytes;
}

// A deterministic spread of values without a library RNG (whose sequence may differ between standard libraries).
std::vector<float> test_values(std::size_t n, float lo, float hi) {
  std::vector<float> v(n);
  std::uint32_t x = 12345;
  for (auto& f : v) {
    x = x * 1664525u + 1013904223u;
    f = lo + (hi - lo) * static_cast<float>(x >> 8) / static_cast<float>(1u << 24);
  }
  return v;
}

// --- An independent binary ark reader, written only from the format description. ---
// Layout per entry: key, ' ', '\0', 'B', "FM ", (0x04, int32 LE rows), (0x04, int32 LE cols), rows*cols float32 LE.

struct PlainEntry {
  std::string key;
  std::int32_t rows = 0, cols = 0;
  std::vector<float> values;
};

std::uint32_t le32(const std::string& b, std::size_t p) {
  return static_cast<std::uint32_t>(static_cast<unsigned char>(b[p])) |
         static_cast<std::uint32_t>(static_cast<unsigned char>(b[p + 1])) << 8 |
         static_cast<std::uint32_t>(static_cast<unsigned char>(b[p + 2])) << 16 |
         static_cast<std::uint32_t>(static_cast<unsigned char>(b[p + 3])) << 24;
}

std::vector<PlainEntry> independent_read(const std::string& b) {
  std::vector<PlainEntry> out;
  std::size_t p = 0;
  auto need = [&](std::size_t n) {
    if (p + n > b.size()) throw std::runtime_error("independent reader: truncated at byte " + std::to_string(p));
  };
  while (p < b.size()) {
    PlainEntry e;
    std::size_t space = b.find(' ', p);
    if (space == std::string::npos) throw std::runtime_error("independent reader: no space after key");
    e.key = b.substr(p, space - p);
    p = space + 1;
    need(5);
    if (b.substr(p, 5) != std::string("\0BFM ", 5)) throw std::runtime_error("independent reader: not \\0BFM");
    p += 5;
    for (std::int32_t* dim : {&e.rows, &e.cols}) {
      need(5);
      if (b[p] != 4) throw std::runtime_error("independent reader: size byte");
      *dim = static_cast<std::int32_t>(le32(b, p + 1));
      p += 5;
    }
    std::size_t n = static_cast<std::size_t>(e.rows) * static_cast<std::size_t>(e.cols);
    need(4 * n);
    for (std::size_t i = 0; i < n; ++i) {
      std::uint32_t u = le32(b, p + 4 * i);
      float f;
      std::memcpy(&f, &u, 4);
      e.values.push_back(f);
    }
    p += 4 * n;
    out.push_back(std::move(e));
  }
  return out;
}

// --- Error checking ---

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  } catch (const std::exception& e) {
    return std::string("<not an InputError: ") + e.what() + ">";
  }
  return "<no exception>";
}

// The message must start with "<file>: <position>: " and carry `needle`, on one line.
void expect_error(const std::function<void()>& f, const std::string& prefix, const std::string& needle) {
  std::string msg = error_of(f);
  EXPECT_EQ(msg.rfind(prefix, 0), 0u) << "message: " << msg << "\nexpected prefix: " << prefix;
  EXPECT_NE(msg.find(needle), std::string::npos) << "message: " << msg << "\nexpected to contain: " << needle;
  EXPECT_EQ(msg.find('\n'), std::string::npos) << "message spans lines: " << msg;
}

Matrix make(std::size_t rows, std::size_t cols, const std::vector<float>& v) {
  Matrix m(rows, cols);
  m.data = v;
  return m;
}

std::vector<Utterance> sample_utts() {
  std::vector<Utterance> u;
  u.push_back({"utt1", make(2, 3, {1.5f, -2.25f, 0.0f, -0.0f, 3.0e38f, 1.0e-45f})});
  u.push_back({"spk2-utt_b", make(1, 1, {0.1f})});
  u.push_back({"utt3", make(4, 2, test_values(8, -100.0f, 100.0f))});
  return u;
}

void expect_bit_equal(const std::vector<Utterance>& a, const std::vector<Utterance>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].key, b[i].key);
    EXPECT_EQ(a[i].mat.rows, b[i].mat.rows);
    EXPECT_EQ(a[i].mat.cols, b[i].mat.cols);
    ASSERT_EQ(a[i].mat.data.size(), b[i].mat.data.size());
    if (a[i].mat.data.empty()) continue;
    EXPECT_EQ(std::memcmp(a[i].mat.data.data(), b[i].mat.data.data(), a[i].mat.data.size() * 4), 0) << a[i].key;
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------------
// Writing and round trips

TEST(KaldiArk, BinaryLayoutIsExactlyKaldis) {
  std::vector<std::uint64_t> offsets;
  std::string bytes = circa::serialize_ark({{"k", make(1, 2, {1.0f, -2.5f})}}, ArkFormat::binary, &offsets);
  std::string expected = std::string("k ") + kBin + "FM " + "\x04" + std::string("\x01\x00\x00\x00", 4) + "\x04" +
                         std::string("\x02\x00\x00\x00", 4) + std::string("\x00\x00\x80\x3f", 4) +
                         std::string("\x00\x00\x20\xc0", 4);
  EXPECT_EQ(bytes, expected);
  ASSERT_EQ(offsets.size(), 1u);
  EXPECT_EQ(offsets[0], 2u);  // points at the '\0' of the binary marker
}

TEST(KaldiArk, TextLayoutIsExactlyKaldis) {
  std::vector<std::uint64_t> offsets;
  std::string bytes = circa::serialize_ark({{"a", make(2, 2, {1.0f, 2.5f, -3.0f, 0.125f})}, {"e", Matrix()}},
                                           ArkFormat::text, &offsets);
  EXPECT_EQ(bytes, "a  [\n  1 2.5 \n  -3 0.125 ]\ne  [ ]\n");
  ASSERT_EQ(offsets.size(), 2u);
  EXPECT_EQ(offsets[0], 2u);
  EXPECT_EQ(offsets[1], bytes.find("e ") + 2);
}

TEST(KaldiArk, BinaryRoundTripWithScpIsBitExact) {
  fs::path d = fresh_dir("bin_rt");
  auto utts = sample_utts();
  circa::write_ark((d / "feats.ark").string(), utts, ArkFormat::binary, (d / "feats.scp").string());
  expect_bit_equal(utts, circa::read_ark((d / "feats.ark").string()));
  expect_bit_equal(utts, circa::load_scp((d / "feats.scp").string()));
  // A sibling ark is referenced by its basename, so the pair can be moved together.
  std::string scp = slurp(d / "feats.scp");
  EXPECT_EQ(scp.rfind("utt1 feats.ark:5\n", 0), 0u) << scp;
  fs::path moved = fresh_dir("bin_rt_moved");
  fs::rename(d / "feats.ark", moved / "feats.ark");
  fs::rename(d / "feats.scp", moved / "feats.scp");
  expect_bit_equal(utts, circa::load_scp((moved / "feats.scp").string()));
}

TEST(KaldiArk, ScpInAnotherFolderGetsAnAbsoluteArkPath) {
  fs::path d = fresh_dir("abs");
  fs::create_directories(d / "lists");
  auto utts = sample_utts();
  circa::write_ark((d / "feats.ark").string(), utts, ArkFormat::binary, (d / "lists" / "feats.scp").string());
  std::string scp = slurp(d / "lists" / "feats.scp");
  EXPECT_EQ(scp.rfind("utt1 /", 0), 0u) << scp;
  expect_bit_equal(utts, circa::load_scp((d / "lists" / "feats.scp").string()));
}

TEST(KaldiArk, TextRoundTripWithScp) {
  fs::path d = fresh_dir("text_rt");
  auto utts = sample_utts();
  utts.push_back({"utt4", make(1, 4, {123456.789f, -1.0e-30f, 7.0f, 1.17549435e-38f})});
  circa::write_ark((d / "t.ark").string(), utts, ArkFormat::text, (d / "t.scp").string());
  // The writer prints the shortest decimal that reads back as the same float, so even text is bit-exact.
  expect_bit_equal(utts, circa::read_ark((d / "t.ark").string()));
  expect_bit_equal(utts, circa::load_scp((d / "t.scp").string()));
}

TEST(KaldiArk, IndependentReaderReadsWhatCircaWrites) {
  fs::path d = fresh_dir("indep");
  auto utts = sample_utts();
  circa::write_ark((d / "x.ark").string(), utts, ArkFormat::binary);
  std::vector<PlainEntry> got = independent_read(slurp(d / "x.ark"));
  ASSERT_EQ(got.size(), utts.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].key, utts[i].key);
    EXPECT_EQ(static_cast<std::size_t>(got[i].rows), utts[i].mat.rows);
    EXPECT_EQ(static_cast<std::size_t>(got[i].cols), utts[i].mat.cols);
    ASSERT_EQ(got[i].values.size(), utts[i].mat.data.size());
    for (std::size_t j = 0; j < got[i].values.size(); ++j)
      EXPECT_EQ(float_bits(got[i].values[j]), float_bits(utts[i].mat.data[j])) << utts[i].key << " value " << j;
  }
}

TEST(KaldiArk, ReadsHandBuiltArkWithEveryMatrixKind) {
  std::string ark = fm_entry("f", 1, 2, {1.0f, 2.0f}) + "d " + kBin + "DM " + i32(2) + i32(1) + f64s({0.1, -1e30}) +
                    "t  [ 1 +2.5\n 3 -4e-1 ]\n" + "z " + kBin + "FM " + i32(0) + i32(0) + "e [ ]\n";
  auto utts = circa::parse_ark(ark, "mem.ark");
  ASSERT_EQ(utts.size(), 5u);
  EXPECT_EQ(utts[0].mat.data, (std::vector<float>{1.0f, 2.0f}));
  EXPECT_EQ(utts[1].mat.rows, 2u);
  EXPECT_EQ(utts[1].mat.cols, 1u);
  EXPECT_EQ(utts[1].mat.data[0], 0.1f);  // narrowed to the nearest float
  EXPECT_EQ(utts[1].mat.data[1], -1e30f);
  EXPECT_EQ(utts[2].mat.data, (std::vector<float>{1.0f, 2.5f, 3.0f, -0.4f}));
  EXPECT_EQ(utts[3].mat.rows, 0u);
  EXPECT_EQ(utts[4].mat.rows, 0u);
}

TEST(KaldiArk, TextMatrixVariantsKaldiAccepts) {
  std::string ark =
      "a  [\n  1 2 \n  3 4 ]\n"     // Kaldi's own writer
      "b [ 1 2\n 3 4 ]\n"           // first row on the bracket's line
      "c [\n\n 1 2\r\n\n 3 4\n]\n"  // blank lines and CRLF
      "d [ 1 2 ; 3 4 ]\n"           // ';' row separator
      "e\t[ 1 2\n 3 4 ]";           // tab after the key, no final newline
  auto utts = circa::parse_ark(ark, "v.ark");
  ASSERT_EQ(utts.size(), 5u);
  for (const auto& u : utts) {
    EXPECT_EQ(u.mat.rows, 2u) << u.key;
    EXPECT_EQ(u.mat.cols, 2u) << u.key;
    EXPECT_EQ(u.mat.data, (std::vector<float>{1, 2, 3, 4})) << u.key;
  }
}

TEST(KaldiArk, ParseMatrixAtFollowsWriterOffsets) {
  auto utts = sample_utts();
  for (ArkFormat fmt : {ArkFormat::binary, ArkFormat::text}) {
    std::vector<std::uint64_t> offsets;
    std::string bytes = circa::serialize_ark(utts, fmt, &offsets);
    ASSERT_EQ(offsets.size(), utts.size());
    for (std::size_t i = 0; i < utts.size(); ++i) {
      Matrix m = circa::parse_matrix_at(bytes, offsets[i], "mem.ark");
      EXPECT_EQ(m.rows, utts[i].mat.rows);
      ASSERT_EQ(m.data.size(), utts[i].mat.data.size());
      EXPECT_EQ(std::memcmp(m.data.data(), utts[i].mat.data.data(), m.data.size() * 4), 0);
    }
  }
}

TEST(KaldiArk, MixedBinaryAndTextEntries) {
  std::string ark = fm_entry("b1", 1, 1, {5.0f}) + "t1  [\n  6 7 ]\n" + fm_entry("b2", 1, 2, {8.0f, 9.0f});
  auto utts = circa::parse_ark(ark, "mixed.ark");
  ASSERT_EQ(utts.size(), 3u);
  EXPECT_EQ(utts[0].key, "b1");
  EXPECT_EQ(utts[1].mat.data, (std::vector<float>{6, 7}));
  EXPECT_EQ(utts[2].mat.data, (std::vector<float>{8, 9}));
}

TEST(KaldiArk, WriterRejectsKeysKaldiCannotRead) {
  fs::path d = fresh_dir("badkeys");
  std::string p = (d / "o.ark").string();
  expect_error([&] { circa::write_ark(p, {{"", make(1, 1, {1})}}); }, p + ": ", "empty");
  expect_error([&] { circa::write_ark(p, {{"has space", make(1, 1, {1})}}); }, p + ": ", "has space");
  expect_error(
      [&] {
        circa::write_ark(p, {{"k", make(1, 1, {1})}, {"k", make(1, 1, {2})}});
      },
      p + ": ", "duplicate key 'k'");
  EXPECT_FALSE(fs::exists(p));
  std::string nowhere = (d / "no" / "such" / "dir.ark").string();
  expect_error([&] { circa::write_ark(nowhere, sample_utts()); }, nowhere + ": ", "cannot create");
}

// ---------------------------------------------------------------------------------------------------------------
// Compressed matrices

// min 0 and range 65535 make each uint16 percentile decode to (almost) itself, so the expected values below are plain
// arithmetic on the bytes. Kaldi multiplies by the float constant 1.52590218966964e-05F, which is 1/65535 only to
// float precision (relative error < 6e-8), so values up to ~1000 may be off by ~1e-4.
TEST(KaldiCompressed, OneByteWithColumnHeadersHandComputed) {
  const std::int32_t rows = 3, cols = 2;
  std::string body = cm_global(0.0f, 65535.0f, rows, cols);
  for (std::uint16_t p : {0, 64, 192, 255}) put_le(body, p, 2);    // column 0: each byte decodes to itself
  for (std::uint16_t p : {0, 128, 384, 1024}) put_le(body, p, 2);  // column 1: slopes 2, 2 and 640/63
  body += std::string("\x00\x64\xff", 3);                          // column 0 bytes: 0, 100, 255 (column-major)
  body += std::string("\x20\x80\xc8", 3);                          // column 1 bytes: 32, 128, 200
  auto utts = circa::parse_ark("c " + kBin + "CM " + body, "cm.ark");
  ASSERT_EQ(utts.size(), 1u);
  const Matrix& m = utts[0].mat;
  ASSERT_EQ(m.rows, 3u);
  ASSERT_EQ(m.cols, 2u);
  const double tol = 1e-4;
  EXPECT_NEAR(m.at(0, 0), 0.0, tol);
  EXPECT_NEAR(m.at(1, 0), 100.0, tol);
  EXPECT_NEAR(m.at(2, 0), 255.0, tol);
  EXPECT_NEAR(m.at(0, 1), 0 + (128 - 0) * 32 / 64.0, tol);       // 64
  EXPECT_NEAR(m.at(1, 1), 128 + (384 - 128) * 64 / 128.0, tol);  // 256
  EXPECT_NEAR(m.at(2, 1), 384 + (1024 - 384) * 8 / 63.0, tol);   // 465.27
}

// CM2 is row-major uint16: value = min + v * range / 65535. Kaldi rounds range / 65535 to float and adds in float, so
// for |values| <= 1 the result is within a couple of float ulps (~2.4e-7) of the exact value.
TEST(KaldiCompressed, TwoByteHandComputedRowMajor) {
  std::string body = cm_global(-1.0f, 2.0f, 2, 3);
  const std::vector<std::uint16_t> q = {0, 65535, 32768, 16384, 1, 49151};
  for (auto v : q) put_le(body, v, 2);
  auto utts = circa::parse_ark("c " + kBin + "CM2 " + body, "cm2.ark");
  const Matrix& m = utts.at(0).mat;
  ASSERT_EQ(m.rows, 2u);
  ASSERT_EQ(m.cols, 3u);
  for (std::size_t i = 0; i < 6; ++i) EXPECT_NEAR(m.data[i], -1.0 + 2.0 * q[i] / 65535.0, 1e-6) << i;
  EXPECT_NEAR(m.at(0, 1), 1.0, 1e-6);
  EXPECT_NEAR(m.at(1, 0), -0.5, 1e-4);
}

// CM3 is row-major uint8: value = min + v * range / 255; with range 255 that is min + v, exact up to float rounding of
// values near 265 (ulp 3e-5).
TEST(KaldiCompressed, OneByteHandComputedRowMajor) {
  std::string body = cm_global(10.0f, 255.0f, 2, 2) + std::string("\x00\xff\x01\x80", 4);
  const Matrix m = circa::parse_ark("c " + kBin + "CM3 " + body, "cm3.ark").at(0).mat;
  ASSERT_EQ(m.rows, 2u);
  EXPECT_NEAR(m.at(0, 0), 10.0, 1e-4);
  EXPECT_NEAR(m.at(0, 1), 265.0, 1e-4);
  EXPECT_NEAR(m.at(1, 0), 11.0, 1e-4);
  EXPECT_NEAR(m.at(1, 1), 138.0, 1e-4);
}

TEST(KaldiCompressed, EncodedByKaldisAlgorithmDecodesWithinQuantizationError) {
  const int rows = 20, cols = 4;
  std::vector<float> v = test_values(rows * cols, -5.0f, 7.0f);
  Global g = global_of(v);
  std::vector<double> col_step;
  std::string ark = "a " + kBin + encode_cm(v, rows, cols, &col_step) + "b " + kBin + encode_cm2(v, rows, cols) + "c " +
                    kBin + encode_cm3(v, rows, cols);
  auto utts = circa::parse_ark(ark, "enc.ark");
  ASSERT_EQ(utts.size(), 3u);
  for (const auto& u : utts) {
    ASSERT_EQ(u.mat.rows, static_cast<std::size_t>(rows)) << u.key;
    ASSERT_EQ(u.mat.cols, static_cast<std::size_t>(cols)) << u.key;
  }
  for (int r = 0; r < rows; ++r) {
    for (int c = 0; c < cols; ++c) {
      const float x = v[r * cols + c];
      // CM: half a step of the byte scale, plus up to one uint16 step because the percentiles themselves are rounded
      // and values just outside them clamp to the end of the scale.
      EXPECT_NEAR(utts[0].mat.at(r, c), x, col_step[c] / 2 + g.range / 65535.0 + 1e-5) << r << "," << c;
      // CM2 / CM3: half a quantization step (round to nearest), plus float slack.
      EXPECT_NEAR(utts[1].mat.at(r, c), x, g.range / 65535.0 / 2 + 1e-5) << r << "," << c;
      EXPECT_NEAR(utts[2].mat.at(r, c), x, g.range / 255.0 / 2 + 1e-5) << r << "," << c;
    }
  }
}

TEST(KaldiCompressed, EmptyCompressedMatrix) {
  auto utts = circa::parse_ark("e " + kBin + "CM " + cm_global(0, 0, 0, 0), "e.ark");
  ASSERT_EQ(utts.size(), 1u);
  EXPECT_EQ(utts[0].mat.rows, 0u);
  EXPECT_TRUE(utts[0].mat.data.empty());
}

// ---------------------------------------------------------------------------------------------------------------
// Malformed arks

struct BadArk {
  std::string what;
  std::string bytes;
  std::string position;  // "byte N" or "line N"
  std::string needle;
};

TEST(KaldiArkMalformed, EveryDefectNamesFileAndPosition) {
  const std::string k1 = "k1 " + kBin;  // entry header; the token starts at byte 5, rows at 8, cols at 13, data at 18
  const std::int32_t big = std::numeric_limits<std::int32_t>::max();
  const std::vector<BadArk> cases = {
      {"data shorter than rows*cols", fm_entry("k1", 2, 2, {1, 2, 3}), "byte 18", "needs 16 bytes, only 12"},
      {"unknown token", k1 + "XM " + i32(1) + i32(1) + f32(1), "byte 5", "unknown matrix type token 'XM'"},
      {"negative rows", k1 + "FM " + i32(-3) + i32(2), "byte 8", "negative row count -3"},
      {"negative cols", k1 + "FM " + i32(2) + i32(-1), "byte 8", "negative column count -1"},
      {"rows*cols overflow", k1 + "FM " + i32(big) + i32(big) + f32(1), "byte 18", "truncated FM matrix data"},
      {"DM larger than the file", k1 + "DM " + i32(1000) + i32(1000) + f64s({1.0}), "byte 18", "8000000 bytes"},
      {"binary marker without B", "k1 " + std::string("\0X", 2) + "FM ", "byte 4", "bad binary marker"},
      {"binary marker cut short", "k1 " + std::string(1, '\0'), "byte 4", "truncated binary marker"},
      {"no binary marker at all", "k1 FM " + i32(1) + i32(1) + f32(1), "byte 3", "missing binary marker"},
      {"float vector", k1 + "FV " + i32(2) + f32s({1, 2}), "byte 5", "found a vector (FV)"},
      {"double vector", k1 + "DV " + i32(1) + f64s({1}), "byte 5", "found a vector (DV)"},
      {"sparse matrix", k1 + "SM " + i32(1), "byte 5", "sparse"},
      {"duplicate key", fm_entry("k1", 1, 1, {1}) + fm_entry("k1", 1, 1, {2}), "byte 22",
       "duplicate key 'k1' (first at byte 0)"},
      {"empty key", " " + kBin + "FM " + i32(1) + i32(1) + f32(1), "byte 1", "empty key"},
      {"no space after key", "k1" + kBin + "FM " + i32(1) + i32(1) + f32(1), "byte 2", "expected a space after key"},
      {"key at end of file", fm_entry("a", 1, 1, {1}) + "k1", "byte 23", "followed by end of file"},
      {"header cut inside rows", k1 + "FM " + std::string("\x04\x02\x00", 3), "byte 8", "truncated"},
      {"token cut short", k1 + "F", "byte 5", "truncated"},
      {"overlong token", k1 + "FMFMFMFMFM " + i32(1), "byte 5", "bad matrix type token"},
      {"wrong size byte", k1 + "FM " + std::string("\x08", 1) + i32(1).substr(1) + i32(1), "byte 8", "size byte 4"},
      {"big-endian int", k1 + "FM " + std::string("\xfc\x00\x00\x00\x01", 5) + i32(1), "byte 8", "big-endian"},
      {"one zero dimension", k1 + "FM " + i32(0) + i32(3), "byte 8", "impossible matrix shape 0 x 3"},
      {"second entry truncated", fm_entry("a", 1, 1, {1}) + fm_entry("k1", 1, 2, {1}), "byte 39", "truncated"},
      {"DM value beyond float", k1 + "DM " + i32(1) + i32(2) + f64s({1.0, 1e300}), "byte 26",
       "outside the float range"},
      {"CM header cut short", k1 + "CM " + std::string(10, '\0'), "byte 8", "truncated CM header"},
      {"CM non-finite range", k1 + "CM " + cm_global(0, std::numeric_limits<float>::infinity(), 1, 1), "byte 8",
       "non-finite"},
      {"CM negative cols", k1 + "CM " + cm_global(0, 1, 1, -2), "byte 16", "negative column count -2"},
      {"CM2 data cut short", k1 + "CM2 " + cm_global(0, 1, 2, 2) + std::string(6, '\0'), "byte 25",
       "needs 8 bytes, only 6"},
      {"CM data cut short", k1 + "CM " + cm_global(0, 1, 5, 2) + std::string(20, '\0'), "byte 24",
       "needs 26 bytes, only 20"},
      {"CM3 huge dims", k1 + "CM3 " + cm_global(0, 1, big, big), "byte 25", "truncated CM3 data"},
      {"control byte where a matrix should be", "k1 \x01", "byte 3", "expected a matrix"},
      // Text matrices report lines.
      {"text: not a number", "k1  [\n  1 2 \n  3 x ]\n", "line 3", "'x' is not a number"},
      {"text: ragged rows", "ok [ 1 ]\nk1  [\n  1 2 \n  3 ]\n", "line 4", "ragged text matrix: row 2 has 1 values"},
      {"text: never closed", "k1  [\n  1 2 \n  3 4 \n", "line 1", "not closed by ']'"},
      {"text: out of float range", "k1 [ 1e39 ]\n", "line 1", "out of float range"},
      {"text: garbage instead of a matrix", "k1 [ 1 ]\nk2 \n hello\n", "line 3", "expected a matrix"},
      {"text: duplicate key", "a [ 1 ]\nb [ 2 ]\na [ 3 ]\n", "line 3", "duplicate key 'a'"},
      {"text: number glued to garbage", "k1 [ 1.5.5 ]", "line 1", "'1.5.5' is not a number"},
  };
  fs::path d = fresh_dir("bad_ark");
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const BadArk& c = cases[i];
    SCOPED_TRACE(c.what);
    fs::path p = d / ("case" + std::to_string(i) + ".ark");
    put(p, c.bytes);
    expect_error([&] { circa::read_ark(p.string()); }, p.string() + ": " + c.position + ": ", c.needle);
  }
}

// Truncating or corrupting a valid ark anywhere must end in InputError (or a valid parse), never a crash or an
// out-of-bounds read; run under the sanitizer build this also checks memory safety.
TEST(KaldiArkMalformed, EveryTruncationAndByteCorruptionIsHandled) {
  std::vector<float> v = test_values(6 * 2, -1.0f, 1.0f);
  std::vector<double> steps;
  std::string ark = fm_entry("a", 2, 2, {1, 2, 3, 4}) + "b " + kBin + "DM " + i32(1) + i32(2) + f64s({1, 2}) + "c " +
                    kBin + encode_cm(v, 6, 2, &steps) + "d " + kBin + encode_cm2(v, 6, 2) + "e " + kBin +
                    encode_cm3(v, 6, 2) + "f  [\n  1 2 \n  3 4 ]\n";
  ASSERT_EQ(circa::parse_ark(ark, "ok.ark").size(), 6u);
  std::size_t errors = 0;
  for (std::size_t n = 0; n < ark.size(); ++n) {
    try {
      circa::parse_ark(ark.substr(0, n), "cut.ark");
    } catch (const InputError&) {
      ++errors;
    }
  }
  EXPECT_GT(errors, ark.size() / 2);
  for (std::size_t i = 0; i < ark.size(); ++i) {
    for (char repl : {'\0', '\x04', '\xff', '\x7f', ' ', '[', ']', '\n', '9'}) {
      std::string bad = ark;
      bad[i] = repl;
      try {
        circa::parse_ark(bad, "flip.ark");
      } catch (const InputError&) {
      }
    }
  }
}

TEST(KaldiArkMalformed, ParseMatrixAtOffsetPastEnd) {
  std::string ark = fm_entry("a", 1, 1, {1});
  expect_error([&] { circa::parse_matrix_at(ark, ark.size(), "m.ark"); }, "m.ark: byte 21: ", "past the end");
  // Offset 1 is the space after the key: whitespace is skipped (text matrices may start with it), then the NUL is
  // not a matrix start because the offset was off by one.
  expect_error([&] { circa::parse_matrix_at(ark, 1, "m.ark"); }, "m.ark: byte 2: ", "expected a matrix");
}

// ---------------------------------------------------------------------------------------------------------------
// scp files

TEST(KaldiScp, RelativePathsResolveAgainstTheScpFolder) {
  fs::path d = fresh_dir("scp_rel");
  fs::create_directories(d / "arks");
  fs::create_directories(d / "lists");
  std::string ark = fm_entry("x", 1, 2, {1, 2}) + fm_entry("y", 1, 2, {3, 4});  // 25 bytes each: y's matrix is at 27
  put(d / "arks" / "a.ark", ark);
  // A keyless single-matrix file, as Kaldi writes for "copy-matrix ... file.mat".
  put(d / "arks" / "single.mat", kBin + "FM " + i32(1) + i32(2) + f32s({5, 6}));
  put(d / "arks" / "single.txt", " [ 7 8 ]\n");
  put(d / "lists" / "a.scp",
      "u2 ../arks/a.ark:27\n"
      "\n"
      "u1   ../arks/a.ark:2  \r\n"
      "u3 ../arks/a.ark\n"
      "u4 ../arks/single.mat\n"
      "u5 " +
          (d / "arks" / "single.txt").string() + "\n");
  auto entries = circa::read_scp((d / "lists" / "a.scp").string());
  ASSERT_EQ(entries.size(), 5u);
  EXPECT_EQ(entries[0].key, "u2");
  EXPECT_EQ(entries[0].ark_path, (d / "lists" / "../arks/a.ark").string());
  EXPECT_TRUE(entries[0].has_offset);
  EXPECT_EQ(entries[0].offset, 27u);
  EXPECT_EQ(entries[1].line, 3u);
  EXPECT_FALSE(entries[2].has_offset);
  EXPECT_EQ(entries[4].ark_path, (d / "arks" / "single.txt").string());
  auto utts = circa::load_scp((d / "lists" / "a.scp").string());
  ASSERT_EQ(utts.size(), 5u);
  EXPECT_EQ(utts[0].key, "u2");
  EXPECT_EQ(utts[0].mat.data, (std::vector<float>{3, 4}));
  EXPECT_EQ(utts[1].mat.data, (std::vector<float>{1, 2}));
  EXPECT_EQ(utts[2].mat.data, (std::vector<float>{1, 2}));  // bare ark path: its first matrix
  EXPECT_EQ(utts[3].mat.data, (std::vector<float>{5, 6}));
  EXPECT_EQ(utts[4].mat.data, (std::vector<float>{7, 8}));
}

TEST(KaldiScpMalformed, EveryDefectNamesScpAndLine) {
  fs::path d = fresh_dir("bad_scp");
  put(d / "good.ark", fm_entry("k1", 1, 1, {1}));  // 22 bytes; the matrix header is at byte 3
  const std::string good = (d / "good.ark").string();
  struct Case {
    std::string what, scp, position, needle;
  };
  const std::vector<Case> cases = {
      {"key without a file", "u1 good.ark:3\nu2\n", "line 2", "key 'u2' has no file name"},
      {"non-numeric offset", "u1 good.ark:12a\n", "line 1", "bad byte offset '12a'"},
      {"empty offset", "u1 good.ark:\n", "line 1", "empty byte offset"},
      {"offset past end of file", "u1 good.ark:3\nu2 good.ark:999\n", "line 2",
       "utterance 'u2': offset 999 is past the end of " + good + " (22 bytes)"},
      {"offset exactly at end of file", "u1 good.ark:22\n", "line 1", "offset 22 is past the end"},
      {"duplicate key", "u1 good.ark:3\n\nu1 good.ark:3\n", "line 3", "duplicate key 'u1' (first on line 1)"},
      {"pipe", "u1 gunzip -c x.ark.gz |\n", "line 1", "pipes are not supported"},
      {"missing ark", "u1 good.ark:3\nu2 missing.ark:3\n", "line 2",
       "utterance 'u2': " + (d / "missing.ark").string() + ": cannot open"},
      {"offset into the middle of the data", "u1 good.ark:8\n", "line 1",
       "utterance 'u1': " + good + ": byte 8: expected a matrix"},
      {"row ranges", "u1 good.ark:3[0:1]\n", "line 1", "ranges are not supported"},
      {"offset overflows 64 bits", "u1 good.ark:99999999999999999999999\n", "line 1", "too large"},
      {"control character in key", std::string("u\x01 good.ark:3\n"), "line 1", "control character"},
      {"empty file name", "u1 :3\n", "line 1", "empty file name"},
  };
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const Case& c = cases[i];
    SCOPED_TRACE(c.what);
    fs::path p = d / ("case" + std::to_string(i) + ".scp");
    put(p, c.scp);
    expect_error([&] { circa::load_scp(p.string()); }, p.string() + ": " + c.position + ": ", c.needle);
  }
  // Sanity check that the good entry used above is itself loadable.
  put(d / "ok.scp", "u1 good.ark:3\n");
  EXPECT_EQ(circa::load_scp((d / "ok.scp").string()).at(0).mat.data, (std::vector<float>{1}));
}

TEST(KaldiScpMalformed, MissingScpFile) {
  fs::path d = fresh_dir("no_scp");
  std::string p = (d / "absent.scp").string();
  expect_error([&] { circa::read_scp(p); }, p + ": ", "cannot open");
}
