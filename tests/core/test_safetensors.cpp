// The safetensors container: every malformed input is rejected with "<file>: byte <N>: ...", a well-formed file
// reads back bit-exactly, and our writer's bytes match the reference implementation's layout.
#include <gtest/gtest.h>

#include <unistd.h>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>

#include "core/error.hpp"
#include "core/safetensors.hpp"

namespace fs = std::filesystem;
using circa::DType;
using circa::InputError;
using circa::parse_safetensors;

namespace {

std::string le64(std::uint64_t v) {
  std::string s;
  for (int i = 0; i < 8; ++i) s += static_cast<char>((v >> (8 * i)) & 0xff);
  return s;
}

std::string f32_bytes(std::initializer_list<float> vals) {
  std::string s;
  for (float f : vals) {
    std::uint32_t b;
    std::memcpy(&b, &f, 4);
    for (int i = 0; i < 4; ++i) s += static_cast<char>((b >> (8 * i)) & 0xff);
  }
  return s;
}

std::string u16_bytes(std::initializer_list<std::uint16_t> vals) {
  std::string s;
  for (auto v : vals) {
    s += static_cast<char>(v & 0xff);
    s += static_cast<char>(v >> 8);
  }
  return s;
}

std::string file_of(const std::string& header, const std::string& data) {
  return le64(header.size()) + header + data;
}

// Offset in the file of the first occurrence of `needle` in the header (header starts at byte 8).
std::uint64_t at(const std::string& header, const std::string& needle) {
  const auto p = header.find(needle);
  EXPECT_NE(p, std::string::npos) << needle;
  return 8 + p;
}

// Asserts that parsing fails with InputError "<name>: byte <offset>: ..." whose text contains `what`.
void expect_bad(const std::string& bytes, std::uint64_t offset, const std::string& what) {
  const std::string name = "bad.safetensors";
  try {
    parse_safetensors(bytes, name);
    ADD_FAILURE() << "accepted, expected an error at byte " << offset << " containing \"" << what << "\"";
  } catch (const InputError& e) {
    const std::string msg = e.what();
    EXPECT_EQ(msg.rfind(name + ": byte " + std::to_string(offset) + ": ", 0), 0u) << msg;
    EXPECT_NE(msg.find(what), std::string::npos) << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
  }
}

std::uint32_t bits(float f) {
  std::uint32_t b;
  std::memcpy(&b, &f, 4);
  return b;
}

fs::path fresh_dir(const std::string& name) {
  fs::path d = fs::path(::testing::TempDir()) / ("circa_st_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

}  // namespace

// ---- malformed containers ----

TEST(SafetensorsBad, FileShorterThanTheLengthField) {
  expect_bad("abcde", 0, "too short");
}

TEST(SafetensorsBad, EmptyFile) {
  expect_bad("", 0, "too short");
}

TEST(SafetensorsBad, HeaderLengthPastEndOfFile) {
  expect_bad(le64(100) + "{}", 0, "runs past the end of the file");
}

TEST(SafetensorsBad, HeaderLengthAbsurd) {
  expect_bad(le64(~0ull) + "{}", 0, "exceeds");
}

TEST(SafetensorsBad, JsonSyntaxError) {
  // The '}' right after the comma (header index 7) is where nlohmann stops: it expected a key.
  const std::string h = "{\"t\":1,}";
  expect_bad(file_of(h, ""), 8 + 7, "not valid JSON");
}

TEST(SafetensorsBad, JsonTruncated) {
  // Unexpected end of input points just past the header.
  const std::string h = "{\"t\":";
  expect_bad(file_of(h, ""), 8 + h.size(), "not valid JSON");
}

TEST(SafetensorsBad, JsonInvalidUtf8) {
  const std::string h = "{\"a\xff\":{}}";
  expect_bad(file_of(h, ""), 8 + 3, "not valid JSON");
}

TEST(SafetensorsBad, HeaderNotAnObject) {
  expect_bad(file_of("[1,2,3] ", ""), 8, "not a JSON object");
  expect_bad(file_of("  \"x\"   ", ""), 10, "not a JSON object");
}

TEST(SafetensorsBad, UnknownDtype) {
  const std::string h = R"({"w":{"dtype":"F31","shape":[1],"data_offsets":[0,4]}})";
  expect_bad(file_of(h, f32_bytes({1})), at(h, "\"w\""), "unknown dtype \"F31\"");
}

TEST(SafetensorsBad, ShapeDoesNotMatchByteSpan) {
  const std::string h = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                        R"("b":{"dtype":"F32","shape":[2,2],"data_offsets":[8,20]}})";
  expect_bad(file_of(h, std::string(20, '\0')), at(h, "\"b\""), "needs 16 bytes, data_offsets span 12");
}

TEST(SafetensorsBad, OffsetsOutsideTheDataArea) {
  const std::string h = R"({"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})";
  expect_bad(file_of(h, f32_bytes({1, 2})), at(h, "\"w\""), "run past the data area (8 bytes)");
}

TEST(SafetensorsBad, EndBeforeBegin) {
  const std::string h = R"({"w":{"dtype":"U8","shape":[0],"data_offsets":[4,0]}})";
  expect_bad(file_of(h, "abcd"), at(h, "\"w\""), "end before begin");
}

TEST(SafetensorsBad, OverlappingTensors) {
  // b starts inside a: a covers [0,8), b [4,12), 12 data bytes in all.
  const std::string h =
      R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})";
  expect_bad(file_of(h, std::string(12, '\0')), at(h, "\"b\""), "overlap tensor 'a'");
}

TEST(SafetensorsBad, HoleBetweenTensors) {
  // Data bytes [4,8) belong to nobody: the error points at their absolute position 8 + header + 4.
  const std::string h =
      R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})";
  expect_bad(file_of(h, std::string(12, '\0')), 8 + h.size() + 4, "belong to no tensor");
}

TEST(SafetensorsBad, TrailingBytesAfterLastTensor) {
  const std::string h = R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})";
  expect_bad(file_of(h, std::string(7, '\0')), 8 + h.size() + 4, "3 trailing bytes");
}

TEST(SafetensorsBad, NegativeDimension) {
  const std::string h = R"({"w":{"dtype":"F32","shape":[2,-1],"data_offsets":[0,0]}})";
  expect_bad(file_of(h, ""), at(h, "\"w\""), "shape[1] is -1");
}

TEST(SafetensorsBad, FractionalDimension) {
  const std::string h = R"({"w":{"dtype":"F32","shape":[1.5],"data_offsets":[0,0]}})";
  expect_bad(file_of(h, ""), at(h, "\"w\""), "shape[0] is 1.5");
}

TEST(SafetensorsBad, ShapeProductOverflows) {
  // 2^32 * 2^32 = 2^64 wraps to 0 in 64 bits, which would otherwise "match" the empty span.
  const std::string h = R"({"w":{"dtype":"U8","shape":[4294967296,4294967296],"data_offsets":[0,0]}})";
  expect_bad(file_of(h, ""), at(h, "\"w\""), "overflows");
}

TEST(SafetensorsBad, MetadataValueNotAString) {
  const std::string h =
      R"({"__metadata__":{"format":"pt","layers":2},"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}})";
  expect_bad(file_of(h, "x"), at(h, "\"layers\""), "metadata value of 'layers' is not a string");
}

TEST(SafetensorsBad, MetadataNotAnObject) {
  const std::string h = R"({"__metadata__":["a"]})";
  expect_bad(file_of(h, ""), 9, "__metadata__ is not a JSON object");
}

TEST(SafetensorsBad, DuplicateTensorName) {
  const std::string h =
      R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}})";
  expect_bad(file_of(h, "xy"), 8 + h.rfind("\"a\""), "duplicate header key 'a'");
}

TEST(SafetensorsBad, EntryFieldsMissingOrUnknown) {
  const std::string no_dtype = R"({"w":{"shape":[1],"data_offsets":[0,1]}})";
  expect_bad(file_of(no_dtype, "x"), 9, "no dtype");
  const std::string extra = R"({"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1],"strides":[1]}})";
  expect_bad(file_of(extra, "x"), 9, "unknown field 'strides'");
  const std::string bad_offsets = R"({"w":{"dtype":"U8","shape":[1],"data_offsets":[0]}})";
  expect_bad(file_of(bad_offsets, "x"), 9, "is not [begin, end]");
  const std::string not_obj = R"({"w":7})";
  expect_bad(file_of(not_obj, ""), 9, "entry is not a JSON object");
}

TEST(SafetensorsBad, EscapedNamesAreLocatedAndPrintedOnOneLine) {
  // The name decodes to "a\nb"; the message must stay one line and still point at the entry.
  const std::string h =
      R"({"x":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a\nb":{"dtype":"Q","shape":[],"data_offsets":[1,2]}})";
  expect_bad(file_of(h, "xy"), at(h, "\"a\\nb\""), "tensor 'a\\x0ab'");
}

TEST(SafetensorsBad, ReadMissingFileNamesIt) {
  try {
    circa::read_safetensors("/nonexistent/dir/m.safetensors");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/dir/m.safetensors"), std::string::npos);
  }
}

// ---- well-formed files ----

TEST(Safetensors, EmptyHeaderIsValid) {
  auto st = parse_safetensors(file_of("{}      ", ""), "e");
  EXPECT_TRUE(st.tensors.empty());
  EXPECT_TRUE(st.metadata.empty());
  EXPECT_EQ(st.data_start, 16u);
}

TEST(Safetensors, ZeroSizedTensorsAndScalars) {
  const std::string h =
      R"({"e":{"dtype":"F32","shape":[0,3],"data_offsets":[0,0]},"s":{"dtype":"F32","shape":[],"data_offsets":[0,4]}})";
  auto st = parse_safetensors(file_of(h, f32_bytes({2.5f})), "z");
  EXPECT_EQ(st.tensors.at("e").elements(), 0u);
  EXPECT_TRUE(st.to_float("e").empty());
  EXPECT_EQ(st.to_float("s"), std::vector<float>{2.5f});
}

// The byte layouts below follow the reference writer (huggingface/safetensors, serialize(); Python's
// safetensors.torch.save_file calls it): compact JSON, each entry's fields in the order dtype, shape, data_offsets,
// __metadata__ first, header padded with spaces to a multiple of 8, tensors sorted by descending dtype alignment
// and then name. They are written out here from that description rather than produced by Python, which this machine
// does not have.
TEST(SafetensorsCompat, ReferenceFloat32FileReadsAndReserializesIdentically) {
  // 64 header bytes, already a multiple of 8: no padding.
  const std::string h = R"({"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}})";
  ASSERT_EQ(h.size(), 64u);
  const std::string bytes = file_of(h, f32_bytes({0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(bytes.substr(0, 8), std::string("\x40\0\0\0\0\0\0\0", 8));
  auto st = parse_safetensors(bytes, "ref");
  ASSERT_EQ(st.tensors.size(), 1u);
  const auto& t = st.tensors.at("attn.0");
  EXPECT_EQ(t.dtype, DType::F32);
  EXPECT_EQ(t.shape, (std::vector<std::int64_t>{1, 2, 3}));
  EXPECT_EQ(st.to_float("attn.0"), (std::vector<float>{0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(circa::serialize_safetensors({{"attn.0", {{1, 2, 3}, {0, 1, 2, 3, 4, 5}}}}, {}), bytes);
}

TEST(SafetensorsCompat, ReferencePaddingAndMetadataLayout) {
  // 65 JSON bytes + 7 spaces = 72.
  const std::string h = R"({"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}})" + std::string(7, ' ');
  const std::string bytes = file_of(h, f32_bytes({0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(circa::serialize_safetensors({{"attn0", {{1, 1, 2, 3}, {0, 1, 2, 3, 4, 5}}}}, {}), bytes);
  EXPECT_EQ(parse_safetensors(bytes, "ref").data_start, 80u);

  // No tensors, metadata only: 35 JSON bytes + 5 spaces = 40.
  const std::string meta = std::string(R"({"__metadata__":{"framework":"pt"}})") + "     ";
  EXPECT_EQ(circa::serialize_safetensors({}, {{"framework", "pt"}}), le64(40) + meta);
  EXPECT_EQ(parse_safetensors(le64(40) + meta, "ref").metadata.at("framework"), "pt");
  EXPECT_EQ(circa::serialize_safetensors({}, {}), le64(8) + "{}      ");
}

TEST(SafetensorsCompat, MixedDtypesInReferenceOrder) {
  // The reference orders F32 "b" before BF16 "c" before F16 "a" (descending alignment), so header order, name
  // order and offset order all differ.
  const std::string h =
      R"({"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"c":{"dtype":"BF16","shape":[2],"data_offsets":[4,8]},)"
      R"("a":{"dtype":"F16","shape":[3],"data_offsets":[8,14]}})";
  const std::string bytes =
      file_of(h, f32_bytes({-1.5f}) + u16_bytes({0x3f80, 0xc0a0}) + u16_bytes({0x3c00, 0x0001, 0x7c00}));
  auto st = parse_safetensors(bytes, "mixed");
  EXPECT_EQ(st.to_float("b"), std::vector<float>{-1.5f});
  EXPECT_EQ(st.to_float("c"), (std::vector<float>{1.0f, -5.0f}));
  const auto a = st.to_float("a");
  EXPECT_EQ(a[0], 1.0f);
  EXPECT_EQ(a[1], std::ldexp(1.0f, -24));
  EXPECT_EQ(a[2], std::numeric_limits<float>::infinity());
  EXPECT_EQ(st.entry_offset("a"), at(h, "\"a\""));
  EXPECT_EQ(st.data_offset("a"), 8 + h.size() + 8);
}

TEST(Safetensors, ToFloatRejectsIntegerTensors) {
  const std::string h = R"({"i":{"dtype":"I32","shape":[1],"data_offsets":[0,4]}})";
  auto st = parse_safetensors(file_of(h, std::string(4, '\0')), "ints.safetensors");
  try {
    st.to_float("i");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()),
              "ints.safetensors: byte 9: tensor 'i' has dtype I32, expected F32, F64, F16 or BF16");
  }
}

TEST(Safetensors, F64IsNarrowed) {
  const std::string h = R"({"d":{"dtype":"F64","shape":[2],"data_offsets":[0,16]}})";
  std::string data;
  for (double v : {0.1, -3.0}) {
    std::uint64_t b;
    std::memcpy(&b, &v, 8);
    for (int i = 0; i < 8; ++i) data += static_cast<char>((b >> (8 * i)) & 0xff);
  }
  auto st = parse_safetensors(file_of(h, data), "d");
  EXPECT_EQ(st.to_float("d"), (std::vector<float>{0.1f, -3.0f}));
}

// Every binary16 value against an independent decoding: (-1)^s * m * 2^(e-25) with the implicit bit, or
// m * 2^-24 for subnormals, computed with ldexp (exact in float for every half).
TEST(Safetensors, HalfConversionExhaustive) {
  for (std::uint32_t h = 0; h < 0x10000; ++h) {
    const float got = circa::half_to_float(static_cast<std::uint16_t>(h));
    const bool neg = h & 0x8000;
    const int e = (h >> 10) & 0x1f;
    const int m = h & 0x3ff;
    if (e == 0x1f) {
      if (m == 0) {
        EXPECT_TRUE(std::isinf(got) && std::signbit(got) == neg) << h;
      } else {
        EXPECT_TRUE(std::isnan(got)) << h;
        EXPECT_EQ(bits(got), (neg ? 0x80000000u : 0u) | 0x7f800000u | (static_cast<std::uint32_t>(m) << 13)) << h;
      }
      continue;
    }
    float want = e == 0 ? std::ldexp(static_cast<float>(m), -24) : std::ldexp(static_cast<float>(1024 + m), e - 25);
    if (neg) want = -want;
    EXPECT_EQ(bits(got), bits(want)) << "half 0x" << std::hex << h;
  }
  EXPECT_EQ(circa::half_to_float(0x7bff), 65504.0f);
  EXPECT_EQ(circa::half_to_float(0x0400), std::ldexp(1.0f, -14));     // smallest normal
  EXPECT_EQ(circa::half_to_float(0x03ff), std::ldexp(1023.0f, -24));  // largest subnormal
  EXPECT_EQ(bits(circa::half_to_float(0x8000)), 0x80000000u);         // -0
}

TEST(Safetensors, Bf16Conversion) {
  EXPECT_EQ(circa::bf16_to_float(0x3f80), 1.0f);
  EXPECT_EQ(circa::bf16_to_float(0xc2f7), -123.5f);
  EXPECT_EQ(circa::bf16_to_float(0x0001), std::ldexp(1.0f, -133));  // a float subnormal
  EXPECT_TRUE(std::isinf(circa::bf16_to_float(0xff80)));
  EXPECT_TRUE(std::isnan(circa::bf16_to_float(0x7fc1)));
}

TEST(Safetensors, WriteReadRoundTripIsBitExact) {
  const fs::path dir = fresh_dir("roundtrip");
  const std::string path = (dir / "rt.safetensors").string();
  const float nan_payload = [] {
    const std::uint32_t b = 0x7fa12345u;  // a signalling NaN with a payload
    float f;
    std::memcpy(&f, &b, 4);
    return f;
  }();
  const float inf = std::numeric_limits<float>::infinity();
  std::map<std::string, circa::StWriteTensor> tensors = {
      {"z.special",
       {{2, 4},
        {-0.0f, nan_payload, inf, -inf, std::numeric_limits<float>::denorm_min(), std::numeric_limits<float>::max(),
         std::numeric_limits<float>::lowest(), 1e-38f}}},
      {"a.vec", {{3}, {1.0f, -2.5f, 3.14159274f}}},
      {"m.empty", {{0}, {}}},
      {"s.scalar", {{}, {42.0f}}},
  };
  std::map<std::string, std::string> meta = {{"format", "circa-lstmp/1"}, {"note", "ünïcode \"quoted\"\n"}};
  circa::write_safetensors(path, tensors, meta);

  auto st = circa::read_safetensors(path);
  EXPECT_EQ(st.path, path);
  EXPECT_EQ(st.metadata, meta);
  ASSERT_EQ(st.tensors.size(), tensors.size());
  for (const auto& [name, t] : tensors) {
    ASSERT_TRUE(st.tensors.count(name)) << name;
    EXPECT_EQ(st.tensors.at(name).dtype, DType::F32);
    EXPECT_EQ(st.tensors.at(name).shape, t.shape) << name;
    const auto back = st.to_float(name);
    ASSERT_EQ(back.size(), t.data.size());
    for (std::size_t i = 0; i < back.size(); ++i) EXPECT_EQ(bits(back[i]), bits(t.data[i])) << name << "[" << i << "]";
  }
  // Tensors in name order, contiguous; header padded to a multiple of 8.
  EXPECT_EQ(st.data_start % 8, 0u);
  EXPECT_EQ(st.tensors.at("a.vec").begin, 0u);
  EXPECT_EQ(st.tensors.at("m.empty").begin, 12u);
  EXPECT_EQ(st.tensors.at("s.scalar").begin, 12u);
  EXPECT_EQ(st.tensors.at("z.special").begin, 16u);
  // Re-serializing what was read gives the same bytes.
  std::map<std::string, circa::StWriteTensor> again;
  for (const auto& [name, t] : st.tensors) again[name] = {t.shape, st.to_float(name)};
  EXPECT_EQ(circa::serialize_safetensors(again, st.metadata), st.bytes);
  fs::remove_all(dir);
}

TEST(Safetensors, WriterRejectsInconsistentInput) {
  EXPECT_THROW(circa::serialize_safetensors({{"x", {{2, 2}, {1, 2, 3}}}}, {}), std::invalid_argument);
  EXPECT_THROW(circa::serialize_safetensors({{"x", {{-1}, {}}}}, {}), std::invalid_argument);
  EXPECT_THROW(circa::serialize_safetensors({{"__metadata__", {{1}, {1}}}}, {}), std::invalid_argument);
  EXPECT_THROW(circa::serialize_safetensors({}, {{"k", "\xff"}}), std::invalid_argument);
}

TEST(Safetensors, FailedWriteLeavesNoFile) {
  const fs::path dir = fresh_dir("nowrite");
  EXPECT_THROW(circa::write_safetensors((dir / "missing" / "x.safetensors").string(), {}, {}), InputError);
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator()), 0);
  fs::remove_all(dir);
}

// Every truncation of a valid file, and every single-byte corruption of its header, is either still a valid file or
// an InputError -- never a crash or another exception (run under the sanitizer build to check memory safety).
TEST(SafetensorsBad, TruncationsAndHeaderCorruptionsAreCaught) {
  const std::string good =
      circa::serialize_safetensors({{"a", {{2, 3}, {1, 2, 3, 4, 5, 6}}}, {"b", {{1}, {7}}}}, {{"format", "x"}});
  ASSERT_NO_THROW(parse_safetensors(good, "good"));
  for (std::size_t n = 0; n < good.size(); ++n)
    EXPECT_THROW(parse_safetensors(good.substr(0, n), "cut"), InputError) << "length " << n;
  ASSERT_EQ(good[1], '\0');  // the header is shorter than 256 bytes
  const std::uint64_t header_end = 8 + static_cast<unsigned char>(good[0]);
  for (std::size_t i = 0; i < header_end; ++i) {
    for (unsigned char c : {'\0', '"', '{', '}', '[', ']', ',', ':', '1', '-', '\\', 'x', '\xff'}) {
      std::string bad = good;
      bad[i] = static_cast<char>(c);
      try {
        parse_safetensors(bad, "corrupt");
      } catch (const InputError&) {
      } catch (const std::exception& e) {
        ADD_FAILURE() << "byte " << i << " = " << int(c) << ": " << e.what();
      }
    }
  }
}
