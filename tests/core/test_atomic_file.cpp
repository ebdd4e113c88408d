// Nothing partial is ever written: AtomicFile writes to a temporary and renames only on commit.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/atomic_file.hpp"
#include "core/error.hpp"

namespace fs = std::filesystem;

namespace {

fs::path fresh_dir(const char* name) {
  fs::path d = fs::path(::testing::TempDir()) / ("circa_atomic_" + std::string(name));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

TEST(AtomicFile, CommitReplacesTheOldFile) {
  fs::path d = fresh_dir("commit");
  fs::path p = d / "out.bin";
  std::ofstream(p) << "old";
  {
    circa::AtomicFile f(p.string());
    f.write("new contents");
    EXPECT_EQ(slurp(p), "old");  // not visible before commit
    f.commit();
  }
  EXPECT_EQ(slurp(p), "new contents");
  EXPECT_EQ(std::distance(fs::directory_iterator(d), fs::directory_iterator()), 1);  // no temporary left
}

TEST(AtomicFile, AbandonedWriteKeepsThePreviousFileAndLeavesNoTemporary) {
  fs::path d = fresh_dir("abandon");
  fs::path p = d / "out.bin";
  std::ofstream(p) << "previous";
  try {
    circa::AtomicFile f(p.string());
    f.write("half of it");
    throw std::runtime_error("simulated failure mid-write");
  } catch (const std::runtime_error&) {
  }
  EXPECT_EQ(slurp(p), "previous");
  EXPECT_EQ(std::distance(fs::directory_iterator(d), fs::directory_iterator()), 1);
}

TEST(AtomicFile, AbandonedWriteWithNoPreviousFileWritesNothing) {
  fs::path d = fresh_dir("nothing");
  fs::path p = d / "out.bin";
  { circa::AtomicFile f(p.string()); f.write("x"); }
  EXPECT_FALSE(fs::exists(p));
  EXPECT_TRUE(fs::is_empty(d));
}

TEST(AtomicFile, MissingFolderIsAnInputErrorNamingThePath) {
  fs::path p = fresh_dir("missing") / "no" / "such" / "out.bin";
  try {
    circa::AtomicFile f(p.string());
    FAIL() << "expected InputError";
  } catch (const circa::InputError& e) {
    EXPECT_NE(std::string(e.what()).find(p.string()), std::string::npos) << e.what();
  }
}

TEST(ReadFile, MissingFileAndFolderAreInputErrors) {
  fs::path d = fresh_dir("read");
  EXPECT_THROW(circa::read_file((d / "absent").string()), circa::InputError);
  EXPECT_THROW(circa::read_file(d.string()), circa::InputError);
  std::ofstream(d / "f") << "abc";
  EXPECT_EQ(circa::read_file((d / "f").string()), "abc");
}
