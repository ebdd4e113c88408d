// .npy reading and writing: files exactly as numpy writes them (embedded as bytes, so no Python is needed at test
// time), round trips, and malformed files that must fail naming the file and the byte offset.
#include <gtest/gtest.h>

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
#include "core/npy.hpp"

namespace fs = std::filesystem;
using circa::InputError;
using circa::Matrix;

namespace {

// Generated with /usr/bin/python3 and numpy; the bytes are the complete files.
// numpy 1.24.2: np.save(f, np.array([[1.5, -2.0, 3.25], [0.0, 1e-3, 7.0]], dtype='<f4'))
const char* const kNumpyF4_2x3 =
    "934e554d5059010076007b276465736372273a20273c6634272c2027666f727472616e5f6f72646572273a2046616c73652c"
    "20277368617065273a2028322c2033292c207d20202020202020202020202020202020202020202020202020202020202020"
    "2020202020202020202020202020202020202020202020202020200a0000c03f000000c000005040000000006f12833a0000"
    "e040";
// numpy 1.24.2: np.save(f, np.array([0.5, -1.25, 3.0, 1e-7, -0.0], dtype='<f8'))
const char* const kNumpyF8_1d =
    "934e554d5059010076007b276465736372273a20273c6638272c2027666f727472616e5f6f72646572273a2046616c73652c"
    "20277368617065273a2028352c292c207d202020202020202020202020202020202020202020202020202020202020202020"
    "2020202020202020202020202020202020202020202020202020200a000000000000e03f000000000000f4bf000000000000"
    "084048afbc9af2d77a3e0000000000000080";
// numpy 1.24.2: np.save(f, np.asfortranarray(np.arange(6, dtype='<f4').reshape(2, 3)))
const char* const kNumpyF4Fortran =
    "934e554d5059010076007b276465736372273a20273c6634272c2027666f727472616e5f6f72646572273a20547275652c20"
    "277368617065273a2028322c2033292c207d2020202020202020202020202020202020202020202020202020202020202020"
    "2020202020202020202020202020202020202020202020202020200a00000000000040400000803f00008040000000400000"
    "a040";
// numpy 1.24.2: np.lib.format.write_array(f, np.array([[1, 2], [3, 4]], dtype='<f4'), version=(2, 0))
const char* const kNumpyF4V2 =
    "934e554d50590200740000007b276465736372273a20273c6634272c2027666f727472616e5f6f72646572273a2046616c73"
    "652c20277368617065273a2028322c2032292c207d2020202020202020202020202020202020202020202020202020202020"
    "2020202020202020202020202020202020202020202020202020200a0000803f000000400000404000008040";
// numpy 1.24.2: np.lib.format.write_array(f, np.array([[0.25], [-8.0]], dtype='<f8'), version=(3, 0))
const char* const kNumpyF8V3 =
    "934e554d50590300740000007b276465736372273a20273c6638272c2027666f727472616e5f6f72646572273a2046616c73"
    "652c20277368617065273a2028322c2031292c207d2020202020202020202020202020202020202020202020202020202020"
    "2020202020202020202020202020202020202020202020202020200a000000000000d03f00000000000020c0";

std::string from_hex(const char* hex) {
  std::string out;
  for (std::size_t i = 0; hex[i] && hex[i + 1]; i += 2)
    out += static_cast<char>(std::stoi(std::string(hex + i, 2), nullptr, 16));
  return out;
}

fs::path fresh_dir(const std::string& name) {
  fs::path d = fs::path(::testing::TempDir()) / ("circa_npy_" + name);
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

void put(const fs::path& p, const std::string& bytes) {
  std::ofstream out(p, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good()) << p;
}

std::string f32s(const std::vector<float>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * 4);
}
std::string f64s(const std::vector<double>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * 8);
}

// A version 1.0 file with the header text given verbatim (no padding), so the header starts at byte 10 and every
// offset in it is 10 + its index in `header`.
std::string npy_v1(const std::string& header, const std::string& data) {
  std::string s("\x93NUMPY\x01\x00", 8);
  s += static_cast<char>(header.size() & 0xff);
  s += static_cast<char>(header.size() >> 8);
  return s + header + data;
}

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

}  // namespace

TEST(Npy, ReadsFilesWrittenByNumpy) {
  Matrix a = circa::parse_npy(from_hex(kNumpyF4_2x3), "a.npy");
  EXPECT_EQ(a.rows, 2u);
  EXPECT_EQ(a.cols, 3u);
  EXPECT_EQ(a.data, (std::vector<float>{1.5f, -2.0f, 3.25f, 0.0f, 1e-3f, 7.0f}));

  Matrix b = circa::parse_npy(from_hex(kNumpyF8_1d), "b.npy");  // 1-D reads as one row
  EXPECT_EQ(b.rows, 1u);
  EXPECT_EQ(b.cols, 5u);
  EXPECT_EQ(b.data, (std::vector<float>{0.5f, -1.25f, 3.0f, static_cast<float>(1e-7), -0.0f}));
  EXPECT_TRUE(std::signbit(b.data[4]));

  Matrix c = circa::parse_npy(from_hex(kNumpyF4Fortran), "c.npy");  // stored column by column: 0 3 1 4 2 5
  EXPECT_EQ(c.rows, 2u);
  EXPECT_EQ(c.cols, 3u);
  EXPECT_EQ(c.data, (std::vector<float>{0, 1, 2, 3, 4, 5}));

  Matrix d = circa::parse_npy(from_hex(kNumpyF4V2), "d.npy");
  EXPECT_EQ(d.rows, 2u);
  EXPECT_EQ(d.data, (std::vector<float>{1, 2, 3, 4}));

  Matrix e = circa::parse_npy(from_hex(kNumpyF8V3), "e.npy");
  EXPECT_EQ(e.rows, 2u);
  EXPECT_EQ(e.cols, 1u);
  EXPECT_EQ(e.data, (std::vector<float>{0.25f, -8.0f}));
}

TEST(Npy, WriterProducesNumpysExactBytes) {
  Matrix m = make(2, 3, {1.5f, -2.0f, 3.25f, 0.0f, 1e-3f, 7.0f});
  EXPECT_EQ(circa::serialize_npy(m), from_hex(kNumpyF4_2x3));
}

TEST(Npy, RoundTripIsBitExactForManyShapes) {
  fs::path d = fresh_dir("rt");
  std::vector<Matrix> ms = {make(1, 1, {-0.0f}), make(3, 2, {1e-45f, 3.4e38f, -1.0f, 0.1f, 2.0f, -7.5f}),
                            Matrix(1234, 7), Matrix(0, 4)};
  for (std::size_t i = 0; i < ms[2].data.size(); ++i) ms[2].data[i] = static_cast<float>(i) * 0.37f - 100.0f;
  for (std::size_t k = 0; k < ms.size(); ++k) {
    SCOPED_TRACE(k);
    const Matrix& m = ms[k];
    fs::path p = d / ("m" + std::to_string(k) + ".npy");
    circa::write_npy(p.string(), m);
    std::ifstream in(p, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), {});
    // numpy's layout: data 64-byte aligned, header ends with a newline.
    std::size_t data_at = 10 + (static_cast<unsigned char>(bytes[8]) | static_cast<unsigned char>(bytes[9]) << 8);
    EXPECT_EQ(data_at % 64, 0u);
    EXPECT_EQ(bytes[data_at - 1], '\n');
    EXPECT_EQ(bytes.size(), data_at + 4 * m.data.size());
    Matrix r = circa::read_npy(p.string());
    EXPECT_EQ(r.rows, m.rows);
    EXPECT_EQ(r.cols, m.cols);
    ASSERT_EQ(r.data.size(), m.data.size());
    if (!m.data.empty()) {
      EXPECT_EQ(std::memcmp(r.data.data(), m.data.data(), 4 * m.data.size()), 0);
    }
  }
}

TEST(Npy, AcceptsHeaderVariantsNumpyCanProduce) {
  // Native and not-applicable byte-order marks, double quotes, Python 2 longs, extra spaces, no trailing comma.
  struct Ok {
    std::string header;
    std::string data;
    std::size_t rows, cols;
  };
  const std::vector<Ok> ok = {
      {"{'descr': '=f4', 'fortran_order': False, 'shape': (1, 2), }\n", f32s({1, 2}), 1, 2},
      {"{'descr': '|f4', 'fortran_order': False, 'shape': (2,), }\n", f32s({1, 2}), 1, 2},
      {"{\"descr\": \"<f8\", \"fortran_order\": False, \"shape\": (2L, 1L)}", f64s({1, 2}), 2, 1},
      {"  {'shape': ( 1 , 2 ), 'fortran_order': True, 'descr': '<f4'}  \n", f32s({1, 2}), 1, 2},
  };
  for (const auto& c : ok) {
    SCOPED_TRACE(c.header);
    Matrix m = circa::parse_npy(npy_v1(c.header, c.data), "v.npy");
    EXPECT_EQ(m.rows, c.rows);
    EXPECT_EQ(m.cols, c.cols);
    EXPECT_EQ(m.data, (std::vector<float>{1, 2}));
  }
}

TEST(NpyMalformed, EveryDefectNamesFileAndByteOffset) {
  const std::string good = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }\n";
  auto with = [&](const std::string& from, const std::string& to) {
    std::string h = good;
    h.replace(h.find(from), from.size(), to);
    return h;
  };
  auto at = [](const std::string& header, const std::string& what) { return 10 + header.find(what); };
  const std::string data4 = f32s({1, 2, 3, 4});
  struct Case {
    std::string what, bytes;
    std::size_t offset;
    std::string needle;
  };
  const std::string h_be = with("<f4", ">f4"), h_i4 = with("<f4", "<i4"), h_3d = with("(2, 2)", "(2, 2, 1)"),
                    h_0d = with("(2, 2)", "()"), h_int = with("(2, 2)", "(4)"), h_bool = with("False", "'no'"),
                    h_key = with("'fortran_order'", "'order'"),
                    h_dup = with("'fortran_order': False", "'descr': '<f4'"),
                    h_noshape = "{'descr': '<f4', 'fortran_order': False}", h_open = "{'descr': '<f4', 'fortran_order'",
                    h_alpha = with("(2, 2)", "(2, x)"), h_tail = good + "x", h_f8 = with("<f4", "<f8"),
                    h_huge = with("(2, 2)", "(4611686018427387903, 4611686018427387903)"),
                    h_toobig = with("(2, 2)", "(99999999999999999999, 1)");
  const std::vector<Case> cases = {
      {"not an npy file", "hello, world", 0, "bad magic"},
      {"magic wrong in the last byte", npy_v1(good, data4).replace(5, 1, "X"), 5, "bad magic"},
      {"file ends inside the magic", std::string("\x93NUM", 4), 4, "truncated"},
      {"version 4.0", npy_v1(good, data4).replace(6, 1, "\x04"), 6, "format version 4.0"},
      {"version 1.1", npy_v1(good, data4).replace(7, 1, "\x01"), 6, "format version 1.1"},
      {"header length cut short", std::string("\x93NUMPY\x01\x00\x10", 9), 8, "header length field"},
      {"header length past end of file", npy_v1(good, data4).replace(8, 2, std::string("\xc8\x00", 2)), 8,
       "header length 200 runs past the end"},
      {"big-endian dtype", npy_v1(h_be, data4), at(h_be, "'>f4'"), "big-endian dtype '>f4'"},
      {"integer dtype", npy_v1(h_i4, data4), at(h_i4, "'<i4'"), "unsupported dtype '<i4'"},
      {"3-D shape", npy_v1(h_3d, data4), at(h_3d, "(2, 2, 1)"), "3-D array of shape (2, 2, 1)"},
      {"0-D shape", npy_v1(h_0d, data4), at(h_0d, "()"), "0-D"},
      {"shape that is not a tuple", npy_v1(h_int, data4), at(h_int, "(4)"), "not a tuple"},
      {"non-numeric shape", npy_v1(h_alpha, data4), at(h_alpha, "x)"), "expected a non-negative integer"},
      {"data shorter than the shape", npy_v1(good, f32s({1, 2, 3})), 10 + good.size(), "needs 16 bytes, only 12"},
      {"data longer than the shape", npy_v1(good, data4 + "xyz"), 10 + good.size() + 16, "3 unexpected bytes"},
      {"fortran_order not a bool", npy_v1(h_bool, data4), at(h_bool, "'no'"), "expected True or False"},
      {"unknown key", npy_v1(h_key, data4), at(h_key, "'order'"), "unexpected key 'order'"},
      {"duplicate key", npy_v1(h_dup, data4), at(h_dup, "'descr': '<f4', 's") + 0, "duplicate key"},
      {"missing shape", npy_v1(h_noshape, data4), 10, "lacks the 'shape' key"},
      {"dict never closed", npy_v1(h_open, data4), 10 + h_open.size(), "expected ':'"},
      {"garbage after the dict", npy_v1(h_tail, data4), 10 + good.size(), "after the header dict"},
      {"shape whose byte count overflows", npy_v1(h_huge, data4), 10 + h_huge.size(), "more than 2^64 bytes"},
      {"dimension beyond 2^62", npy_v1(h_toobig, data4), at(h_toobig, "99999"), "too large"},
      {"f8 value beyond float", npy_v1(h_f8, f64s({1, 2, 1e300, 4})), 10 + h_f8.size() + 16, "outside the float"},
  };
  fs::path d = fresh_dir("bad");
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const Case& c = cases[i];
    SCOPED_TRACE(c.what);
    fs::path p = d / ("case" + std::to_string(i) + ".npy");
    put(p, c.bytes);
    expect_error([&] { circa::read_npy(p.string()); }, p.string() + ": byte " + std::to_string(c.offset) + ": ",
                 c.needle);
  }
}

// Every prefix and many single-byte corruptions of valid files end in InputError or a valid parse, never a crash.
TEST(NpyMalformed, EveryTruncationAndByteCorruptionIsHandled) {
  for (const char* hex : {kNumpyF4_2x3, kNumpyF8_1d, kNumpyF4V2}) {
    const std::string file = from_hex(hex);
    for (std::size_t n = 0; n < file.size(); ++n)
      EXPECT_THROW(circa::parse_npy(file.substr(0, n), "cut.npy"), InputError) << n;
    for (std::size_t i = 0; i < file.size(); ++i) {
      for (char repl : {'\0', '\xff', ' ', '(', ')', ',', '\'', '9', '}'}) {
        std::string bad = file;
        bad[i] = repl;
        try {
          circa::parse_npy(bad, "flip.npy");
        } catch (const InputError&) {
        }
      }
    }
  }
}

TEST(NpyMalformed, MissingFile) {
  fs::path d = fresh_dir("missing");
  std::string p = (d / "nope.npy").string();
  expect_error([&] { circa::read_npy(p); }, p + ": ", "cannot open");
}
