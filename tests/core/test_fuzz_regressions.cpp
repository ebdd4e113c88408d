// Replays every fuzz input kept in the repository through the same feeding code the fuzz targets use
// (tests/fuzz/fuzz_targets.cpp), in the normal (g++) build: the seed corpora, and each input that once crashed a
// parser (tests/fuzz/regressions/<target>/). Each must parse or be rejected with a one-line InputError naming the
// file; anything else (a crash, another exception, a malformed message) fails here, and so does an input whose name
// promises an outcome ("bad_*": rejected, "ok_*": accepted) that it does not get.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

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

// What an input's name promises: "bad_*" must be rejected, "ok_*" accepted; any other name gets `plain` (a seed is
// accepted; a crash input may go either way, as long as it goes cleanly).
enum class Want { rejected, accepted, either };

Want wanted(const fs::path& file, Want plain) {
  const std::string name = file.filename().string();
  if (name.rfind("bad_", 0) == 0) return Want::rejected;
  if (name.rfind("ok_", 0) == 0) return Want::accepted;
  return plain;
}

void replay(const circa::fuzz::Target& t, const fs::path& file, Want plain) {
  bool accepted = false;
  try {
    accepted = t.feed(slurp(file));
  } catch (const std::exception& e) {
    ADD_FAILURE() << file << ": " << e.what();
    return;
  } catch (...) {
    ADD_FAILURE() << file << ": unknown exception";
    return;
  }
  const Want want = wanted(file, plain);
  if (want != Want::either) {
    EXPECT_EQ(accepted, want == Want::accepted) << file << (accepted ? " was accepted" : " was rejected");
  }
}

class FuzzInputs : public ::testing::TestWithParam<std::string> {};

// The seeds' names keep the corpora honest: a seed that stops parsing after a format change shows up here, not as
// silently lost fuzz coverage.
TEST_P(FuzzInputs, SeedCorpus) {
  const circa::fuzz::Target& t = circa::fuzz::target(GetParam());
  const std::vector<fs::path> seeds = files_in(kFuzzDir / "corpus" / GetParam());
  ASSERT_FALSE(seeds.empty()) << "no seeds in " << kFuzzDir / "corpus" / GetParam();
  for (const fs::path& f : seeds) replay(t, f, Want::accepted);
}

TEST_P(FuzzInputs, CrashRegressions) {
  const circa::fuzz::Target& t = circa::fuzz::target(GetParam());
  for (const fs::path& f : files_in(kFuzzDir / "regressions" / GetParam())) replay(t, f, Want::either);
}

// Safetensors with `header` (padded as the reference writer pads it) and `data`.
std::string safetensors_file(std::string header, const std::string& data) {
  header.append((8 - header.size() % 8) % 8, ' ');
  std::string out;
  for (int i = 0; i < 8; ++i) out += static_cast<char>((static_cast<std::uint64_t>(header.size()) >> (8 * i)) & 0xff);
  return out + header + data;
}

// Crashes that need inputs too large to keep as files (and beyond the fuzzer's max_len): JSON nested deep enough
// that nlohmann's recursive dump(), called for an error message, ran off the stack.
TEST(FuzzLargeInputs, DeeplyNestedHeaderIsRejected) {
  constexpr std::size_t kDepth = 1'000'000;
  const std::string header = R"({"t":{"dtype":)" + std::string(kDepth, '[') + std::string(kDepth, ']') +
                             R"(,"shape":[1],"data_offsets":[0,4]}})";
  EXPECT_FALSE(circa::fuzz::target("safetensors").feed(safetensors_file(header, std::string(4, '\0'))));
}

TEST(FuzzLargeInputs, DeeplyNestedPhoneSetIsRejected) {
  const std::string model = slurp(kFuzzDir / "corpus" / "safetensors" / "lstmp_dense_cmvn.safetensors");
  ASSERT_GT(model.size(), 8u);
  std::uint64_t len = 0;
  for (int i = 7; i >= 0; --i) len = (len << 8) | static_cast<unsigned char>(model[static_cast<std::size_t>(i)]);
  nlohmann::json header = nlohmann::json::parse(model.substr(8, len));
  constexpr std::size_t kDepth = 300'000;
  header["__metadata__"]["phone_set"] = R"(["sil",)" + std::string(kDepth, '[') + std::string(kDepth, ']') + "]";
  EXPECT_FALSE(circa::fuzz::target("safetensors").feed(safetensors_file(header.dump(), model.substr(8 + len))));
}

std::vector<std::string> target_names() {
  std::vector<std::string> names;
  for (const auto& t : circa::fuzz::targets()) names.push_back(t.name);
  return names;
}

INSTANTIATE_TEST_SUITE_P(Parsers, FuzzInputs, ::testing::ValuesIn(target_names()),
                         [](const ::testing::TestParamInfo<std::string>& p) { return p.param; });

}  // namespace
