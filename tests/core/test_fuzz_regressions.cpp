// Replays every fuzz input kept in the repository through the same feeding code the fuzz targets use
// (tests/fuzz/fuzz_targets.cpp), in the normal (g++) build: the seed corpora, and each input that once crashed a
// parser (tests/fuzz/regressions/<target>/). Each must parse or be rejected with a one-line InputError naming the
// file; anything else (a crash, another exception, a malformed message) fails here.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "tests/fuzz/fuzz_targets.hpp"

namespace fs = std::filesystem;

namespace {

const fs::path kFuzzDir = fs::path(CIRCA_SOURCE_DIR) / "tests" / "fuzz";

std::vector<fs::path> files_in(const fs::path& dir) {
  std::vector<fs::path> out;
  if (!fs::is_directory(dir)) return out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_regular_file() && e.path().filename().string()[0] != '.') out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

bool feeds_cleanly(const circa::fuzz::Target& t, const fs::path& file, bool* accepted) {
  try {
    *accepted = t.feed(slurp(file));
    return true;
  } catch (const std::exception& e) {
    ADD_FAILURE() << file << ": " << e.what();
  } catch (...) {
    ADD_FAILURE() << file << ": unknown exception";
  }
  return false;
}

class FuzzInputs : public ::testing::TestWithParam<std::string> {};

// Seeds are named for what the target must do with them: "bad_*" is rejected, anything else accepted. This keeps
// the corpora honest (a seed that stops parsing after a format change shows up here, not as lost fuzz coverage).
TEST_P(FuzzInputs, SeedCorpus) {
  const circa::fuzz::Target& t = circa::fuzz::target(GetParam());
  const std::vector<fs::path> seeds = files_in(kFuzzDir / "corpus" / GetParam());
  ASSERT_FALSE(seeds.empty()) << "no seeds in " << kFuzzDir / "corpus" / GetParam();
  for (const fs::path& f : seeds) {
    bool accepted = false;
    if (!feeds_cleanly(t, f, &accepted)) continue;
    const bool bad = f.filename().string().rfind("bad_", 0) == 0;
    EXPECT_EQ(accepted, !bad) << f << (bad ? " was accepted" : " was rejected");
  }
}

TEST_P(FuzzInputs, CrashRegressions) {
  const circa::fuzz::Target& t = circa::fuzz::target(GetParam());
  for (const fs::path& f : files_in(kFuzzDir / "regressions" / GetParam())) {
    bool accepted = false;
    feeds_cleanly(t, f, &accepted);
  }
}

std::vector<std::string> target_names() {
  std::vector<std::string> names;
  for (const auto& t : circa::fuzz::targets()) names.push_back(t.name);
  return names;
}

INSTANTIATE_TEST_SUITE_P(Parsers, FuzzInputs, ::testing::ValuesIn(target_names()),
                         [](const ::testing::TestParamInfo<std::string>& p) { return p.param; });

}  // namespace
