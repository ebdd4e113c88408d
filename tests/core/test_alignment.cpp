// Text frame alignments: parsing against the model's phone set, and pairing with feature utterances. Every error must
// name the file and the line (or the utterance).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "core/alignment.hpp"
#include "core/error.hpp"

namespace fs = std::filesystem;
using circa::Alignment;
using circa::InputError;
using circa::Matrix;
using circa::Utterance;

namespace {

const std::vector<std::string> kPhones = {"sil", "aa", "b", "sh"};

fs::path fresh_dir(const std::string& name) {
  fs::path d = fs::path(::testing::TempDir()) / ("circa_alignment_" + name);
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

void put(const fs::path& p, const std::string& bytes) {
  std::ofstream out(p, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good()) << p;
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

Utterance utt(const std::string& key, std::size_t frames) {
  return Utterance{key, Matrix(frames, 2)};
}

}  // namespace

TEST(Alignment, ParsesNamesIntoPhoneIndices) {
  fs::path d = fresh_dir("ok");
  put(d / "a.ali", "utt1 sil aa aa sil\n\n   \nutt2\tb  sil sh \r\nutt3 aa");
  auto ali = circa::read_alignment((d / "a.ali").string(), kPhones);
  ASSERT_EQ(ali.size(), 3u);
  EXPECT_EQ(ali[0].key, "utt1");
  EXPECT_EQ(ali[0].phones, (std::vector<int>{0, 1, 1, 0}));
  EXPECT_EQ(ali[1].key, "utt2");
  EXPECT_EQ(ali[1].phones, (std::vector<int>{2, 0, 3}));
  EXPECT_EQ(ali[2].phones, (std::vector<int>{1}));
}

TEST(AlignmentMalformed, EveryDefectNamesFileLineAndToken) {
  fs::path d = fresh_dir("bad");
  struct Case {
    std::string what, text, message;  // message: exact text after "<path>: "
  };
  const std::vector<Case> cases = {
      {"unknown phone", "utt1 sil aa\nutt2 sil xx sil\n",
       "line 2: utterance 'utt2': token 3 (frame 1): unknown phone 'xx', not in the model's phone set"},
      {"unknown phone after blank lines", "utt1 sil\n\n\n\nutt2 aa aa zz\n",
       "line 5: utterance 'utt2': token 4 (frame 2): unknown phone 'zz', not in the model's phone set"},
      {"phone names are case-sensitive", "utt1 SIL\n",
       "line 1: utterance 'utt1': token 2 (frame 0): unknown phone 'SIL', not in the model's phone set"},
      {"integer ids instead of names", "utt1 0 1\n",
       "line 1: utterance 'utt1': token 2 (frame 0): unknown phone '0', not in the model's phone set"},
      {"duplicate utterance", "utt1 sil\nutt2 aa\nutt1 b\n", "line 3: duplicate utterance 'utt1' (first on line 1)"},
      {"utterance without phones", "utt1 sil\nutt2   \n", "line 2: utterance 'utt2' has no phones"},
      {"empty file", "", "no alignments (the file is empty or blank)"},
      {"only blank lines", "\n  \n\t\n", "no alignments (the file is empty or blank)"},
      {"control character in the key", std::string("ut\x01t sil\n", 9),
       "line 1: utterance 'ut\\x01t': the key contains a control character"},
      {"NUL inside a phone", std::string("utt1 s\0l\n", 9),
       "line 1: utterance 'utt1': token 2 (frame 0): unknown phone 's\\x00l', not in the model's phone set"},
  };
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const Case& c = cases[i];
    SCOPED_TRACE(c.what);
    fs::path p = d / ("case" + std::to_string(i) + ".ali");
    put(p, c.text);
    EXPECT_EQ(error_of([&] { circa::read_alignment(p.string(), kPhones); }), p.string() + ": " + c.message);
  }
  const std::string missing = (d / "absent.ali").string();
  EXPECT_EQ(error_of([&] { circa::read_alignment(missing, kPhones); }).rfind(missing + ": cannot open", 0), 0u);
  EXPECT_EQ(error_of([&] { circa::read_alignment(d.string(), kPhones); }),
            d.string() + ": is a directory, expected a file");
}

TEST(Alignment, MatchReturnsAlignmentsInUtteranceOrder) {
  std::vector<Alignment> ali = {{"a", {0, 1}}, {"b", {2}}, {"extra", {0}}};
  auto m = circa::match_alignment(ali, {utt("b", 1), utt("a", 2)}, "x.ali");
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[0].key, "b");
  EXPECT_EQ(m[0].phones, (std::vector<int>{2}));
  EXPECT_EQ(m[1].key, "a");
  EXPECT_EQ(m[1].phones, (std::vector<int>{0, 1}));
}

TEST(AlignmentMalformed, MatchErrorsNameTheUtteranceAndBothCounts) {
  std::vector<Alignment> ali = {{"a", {0, 1}}, {"b", {2}}};
  EXPECT_EQ(error_of([&] {
              circa::match_alignment(ali, {utt("a", 2), utt("c", 1)}, "x.ali");
            }),
            "x.ali: no alignment for utterance 'c'");
  EXPECT_EQ(error_of([&] { circa::match_alignment(ali, {utt("a", 3)}, "x.ali"); }),
            "x.ali: utterance 'a': the alignment has 2 frames but the features have 3");
  EXPECT_EQ(error_of([&] {
              circa::match_alignment({{"a", {0}}, {"a", {1}}}, {utt("a", 1)}, "x.ali");
            }),
            "x.ali: duplicate utterance 'a'");
}
