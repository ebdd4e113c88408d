// Feature loading from every container the CLI accepts, and the validation errors that must name the file, the
// utterance and the frame.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/features.hpp"
#include "core/kaldi_io.hpp"
#include "core/npy.hpp"

namespace fs = std::filesystem;
using circa::ArkFormat;
using circa::InputError;
using circa::Matrix;
using circa::Utterance;

namespace {

fs::path fresh_dir(const std::string& name) {
  fs::path d = fs::path(::testing::TempDir()) / ("circa_features_" + name);
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

void put(const fs::path& p, const std::string& bytes) {
  std::ofstream out(p, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good()) << p;
}

Matrix ramp(std::size_t rows, std::size_t cols, float start) {
  Matrix m(rows, cols);
  for (std::size_t i = 0; i < m.data.size(); ++i) m.data[i] = start + 0.5f * static_cast<float>(i);
  return m;
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

void expect_same(const std::vector<Utterance>& got, const std::vector<Utterance>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].key, want[i].key);
    EXPECT_EQ(got[i].mat.rows, want[i].mat.rows);
    EXPECT_EQ(got[i].mat.cols, want[i].mat.cols);
    EXPECT_EQ(got[i].mat.data, want[i].mat.data) << got[i].key;
  }
}

std::vector<Utterance> three_utts() {
  return {{"utt1", ramp(3, 5, 0)}, {"utt2", ramp(1, 5, 10)}, {"utt3", ramp(20, 5, -3)}};
}

}  // namespace

TEST(Features, LoadsArkScpAndSingleNpy) {
  fs::path d = fresh_dir("containers");
  auto utts = three_utts();
  circa::write_ark((d / "b.ark").string(), utts, ArkFormat::binary, (d / "b.scp").string());
  circa::write_ark((d / "t.ark").string(), utts, ArkFormat::text);
  expect_same(circa::load_features((d / "b.ark").string()), utts);
  expect_same(circa::load_features((d / "b.scp").string(), 5), utts);
  expect_same(circa::load_features((d / "t.ark").string()), utts);
  circa::write_npy((d / "spk1_utt9.npy").string(), utts[2].mat);
  expect_same(circa::load_features((d / "spk1_utt9.npy").string(), 5), {{"spk1_utt9", utts[2].mat}});
}

TEST(Features, DirectoryOfNpyIsSortedByNameAndIgnoresOtherEntries) {
  fs::path d = fresh_dir("dir");
  circa::write_npy((d / "b.npy").string(), ramp(2, 3, 1));
  circa::write_npy((d / "a.npy").string(), ramp(1, 3, 2));
  circa::write_npy((d / "c2.npy").string(), ramp(4, 3, 3));
  circa::write_npy((d / "c10.npy").string(), ramp(3, 3, 4));
  put(d / "notes.txt", "not a feature file");
  fs::create_directories(d / "sub.npy");  // a directory, not a file
  auto utts = circa::load_features(d.string(), 3);
  ASSERT_EQ(utts.size(), 4u);
  EXPECT_EQ(utts[0].key, "a");
  EXPECT_EQ(utts[1].key, "b");
  EXPECT_EQ(utts[2].key, "c10");  // byte order, not natural order
  EXPECT_EQ(utts[3].key, "c2");
  EXPECT_EQ(utts[3].mat.rows, 4u);
  EXPECT_EQ(utts[3].mat.data, ramp(4, 3, 3).data);
}

TEST(FeaturesMalformed, ValidationErrorsNameFileUtteranceAndFrame) {
  fs::path d = fresh_dir("bad");
  struct Case {
    std::string what;
    std::function<std::string()> make;  // writes the input, returns the path to load
    std::size_t expected_dim;
    std::string message;  // the exact message after "<path>: "
  };
  const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
  const std::vector<Case> cases = {
      {"NaN in an ark",
       [&] {
         auto u = three_utts();
         u[2].mat.at(12, 4) = nan;
         circa::write_ark((d / "nan.ark").string(), u);
         return (d / "nan.ark").string();
       },
       0, "utterance 'utt3' frame 12 dim 4: value is NaN"},
      {"+inf in a single npy",
       [&] {
         Matrix m = ramp(2, 3, 0);
         m.at(1, 0) = inf;
         circa::write_npy((d / "big.npy").string(), m);
         return (d / "big.npy").string();
       },
       0, "utterance 'big' frame 1 dim 0: value is +inf"},
      {"-inf in a text ark",
       [&] {
         put(d / "neg.ark", "u1  [\n  1 2 \n  3 -inf ]\n");
         return (d / "neg.ark").string();
       },
       0, "utterance 'u1' frame 1 dim 1: value is -inf"},
      {"NaN in one file of a directory",
       [&] {
         fs::create_directories(d / "npydir");
         circa::write_npy((d / "npydir" / "a.npy").string(), ramp(2, 2, 0));
         Matrix m = ramp(3, 2, 0);
         m.at(2, 1) = nan;
         circa::write_npy((d / "npydir" / "b.npy").string(), m);
         return (d / "npydir").string();
       },
       0, "utterance 'b' frame 2 dim 1: value is NaN"},
      {"dimensions differ between utterances",
       [&] {
         circa::write_ark((d / "dims.ark").string(), {{"a", ramp(2, 4, 0)}, {"b", ramp(2, 3, 0)}});
         return (d / "dims.ark").string();
       },
       0, "utterance 'b' has feature dimension 3 but utterance 'a' has 4"},
      {"dimension differs from the model's",
       [&] {
         circa::write_ark((d / "model.ark").string(), {{"a", ramp(2, 4, 0)}});
         return (d / "model.ark").string();
       },
       153, "utterance 'a' has feature dimension 4, the model expects 153"},
      {"an utterance without frames",
       [&] {
         circa::write_ark((d / "empty_utt.ark").string(), {{"a", ramp(2, 4, 0)}, {"z", Matrix()}});
         return (d / "empty_utt.ark").string();
       },
       0, "utterance 'z' has no frames"},
      {"an empty ark",
       [&] {
         put(d / "nothing.ark", "");
         return (d / "nothing.ark").string();
       },
       0, "no utterances"},
      {"an empty scp",
       [&] {
         put(d / "nothing.scp", "\n\n");
         return (d / "nothing.scp").string();
       },
       0, "no utterances"},
      {"a directory without npy files",
       [&] {
         fs::create_directories(d / "emptydir");
         put(d / "emptydir" / "readme.txt", "x");
         return (d / "emptydir").string();
       },
       0, "directory holds no .npy files"},
      {"an unknown extension",
       [&] {
         put(d / "feats.mat", "x");
         return (d / "feats.mat").string();
       },
       0, "unrecognised feature file: expected .scp, .ark, .npy or a directory of .npy files"},
      {"a path that does not exist", [&] { return (d / "absent.ark").string(); }, 0,
       "cannot open: no such file or directory"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    const std::string path = c.make();
    EXPECT_EQ(error_of([&] { circa::load_features(path, c.expected_dim); }), path + ": " + c.message);
  }
}

TEST(FeaturesMalformed, ParserErrorsPassThroughWithTheirPositions) {
  fs::path d = fresh_dir("parser");
  auto utts = three_utts();
  circa::write_ark((d / "ok.ark").string(), utts);
  std::string bytes;
  {
    std::ifstream in(d / "ok.ark", std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  put(d / "cut.ark", bytes.substr(0, bytes.size() - 3));
  // The cut lands in utt3's data, which starts after the "\0B" marker, "FM " and the two int32 dimensions.
  std::vector<std::uint64_t> offsets;
  circa::serialize_ark(utts, ArkFormat::binary, &offsets);
  const std::uint64_t utt3_data = offsets[2] + 2 + 3 + 5 + 5;
  expect_error([&] { circa::load_features((d / "cut.ark").string()); },
               (d / "cut.ark").string() + ": byte " + std::to_string(utt3_data) + ": ", "truncated FM matrix data");
  put(d / "bad.scp", "utt1 ok.ark:" + std::to_string(offsets[0]) + "\nutt2 ok.ark:7\n");
  expect_error([&] { circa::load_features((d / "bad.scp").string()); },
               (d / "bad.scp").string() + ": line 2: ", "utterance 'utt2'");
  put(d / "bad.npy", "\x93NUMPY\x01");
  expect_error([&] { circa::load_features((d / "bad.npy").string()); },
               (d / "bad.npy").string() + ": byte 7: ", "truncated");
}

TEST(FeaturesMalformed, ValidateFeaturesOnLoadedSets) {
  expect_error(
      [] {
        circa::validate_features({{"a", ramp(1, 2, 0)}, {"a", ramp(1, 2, 0)}}, "src", 0);
      },
      "src: ", "duplicate utterance 'a'");
  expect_error([] { circa::validate_features({{"", ramp(1, 2, 0)}}, "src", 0); }, "src: ", "empty key");
  expect_error(
      [] {
        circa::validate_features({{"w", Matrix(3, 0)}}, "src", 0);
      },
      "src: ", "utterance 'w' has feature dimension 0");
  EXPECT_NO_THROW(circa::validate_features({{"a", ramp(2, 2, 0)}, {"b", ramp(1, 2, 0)}}, "src", 2));
}
