// Nothing partial is ever written: AtomicFile writes to a temporary and renames only on commit.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
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

// The signal handler of install_interrupt_cleanup, in a child process: it must remove the temporaries of every
// AtomicFile still open, leave committed files and the previous output alone, and die by the signal it got.
namespace {

struct ChildResult {
  bool signaled = false;
  int sig = 0;
  int exit_code = -1;
};

template <class F>
ChildResult in_child(F body) {
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    body();
    ::_exit(0);  // reached only if the signal did not end the child
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  ChildResult r;
  r.signaled = WIFSIGNALED(status);
  if (r.signaled) r.sig = WTERMSIG(status);
  if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  return r;
}

std::size_t entries(const fs::path& d) {
  return static_cast<std::size_t>(std::distance(fs::directory_iterator(d), fs::directory_iterator()));
}

}  // namespace

TEST(InterruptCleanup, SignalMidWriteRemovesEveryOpenTemporaryAndKillsWithThatSignal) {
  for (int sig : {SIGINT, SIGTERM}) {
    SCOPED_TRACE(sig);
    fs::path d = fresh_dir("signal");
    std::ofstream(d / "a.ark") << "previous a";
    const ChildResult r = in_child([&] {
      circa::install_interrupt_cleanup();
      circa::write_file_atomic((d / "done.txt").string(), "committed before the signal");
      circa::AtomicFile a((d / "a.ark").string());
      a.write("half of a");
      circa::AtomicFile b((d / "b.ark").string());
      b.write("half of b");
      ::raise(sig);
    });
    EXPECT_TRUE(r.signaled) << "exit code " << r.exit_code;
    EXPECT_EQ(r.sig, sig);
    EXPECT_EQ(slurp(d / "a.ark"), "previous a");
    EXPECT_FALSE(fs::exists(d / "b.ark"));
    EXPECT_EQ(slurp(d / "done.txt"), "committed before the signal");
    EXPECT_EQ(entries(d), 2u) << "a temporary was left behind";
  }
}

TEST(InterruptCleanup, ReleasedSlotsAreReusedAndAnIgnoredSignalStaysIgnored) {
  fs::path d = fresh_dir("reuse");
  const ChildResult r = in_child([&] {
    circa::install_interrupt_cleanup();
    // Far more files than the registry has slots, one after another: each releases its slot.
    for (int i = 0; i < 100; ++i) circa::write_file_atomic((d / ("f" + std::to_string(i))).string(), "x");
    circa::AtomicFile open((d / "open.bin").string());
    open.write("y");
    ::raise(SIGINT);
  });
  EXPECT_TRUE(r.signaled);
  EXPECT_EQ(r.sig, SIGINT);
  EXPECT_EQ(entries(d), 100u);
  EXPECT_FALSE(fs::exists(d / "open.bin"));

  fs::path d2 = fresh_dir("ignored");
  const ChildResult ign = in_child([&] {
    std::signal(SIGINT, SIG_IGN);  // as nohup or a shell's background job leaves it
    circa::install_interrupt_cleanup();
    circa::AtomicFile f((d2 / "out.bin").string());
    f.write("z");
    ::raise(SIGINT);
    f.commit();
  });
  EXPECT_FALSE(ign.signaled);
  EXPECT_EQ(ign.exit_code, 0);
  EXPECT_EQ(slurp(d2 / "out.bin"), "z");
}
