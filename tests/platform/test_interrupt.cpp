// Interrupted runs leave no truncated output: SIGINT (or SIGTERM) during `circa run`, or bad data in the middle of
// a feature file, leaves either the previous output or nothing, and never a "<out>.tmp-<pid>" beside it.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/kaldi_io.hpp"
#include "tests/platform/cli_runner.hpp"

extern char** environ;

namespace fs = std::filesystem;
using circa_test::fresh_dir;
using circa_test::run_circa;
using circa_test::slurp;

namespace {


std::vector<std::string> temporaries(const fs::path& d) {
  std::vector<std::string> t;
  for (const auto& e : fs::directory_iterator(d))
    if (e.path().filename().string().find(".tmp-") != std::string::npos) t.push_back(e.path().filename().string());
  return t;
}

// A run in the background, its output going to files in `dir`.
struct Child {
  pid_t pid = -1;
  int status = 0;
  bool done = false;

  Child(const std::vector<std::string>& args, const fs::path& dir) {
    std::vector<std::string> argv_s = {CIRCA_BIN};
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : argv_s) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    const std::string out = (dir / "stdout.txt").string(), err = (dir / "stderr.txt").string();
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    // The test runner may ignore SIGINT (a background job); circa keeps an ignored signal ignored, so reset it.
    posix_spawnattr_t at;
    posix_spawnattr_init(&at);
    sigset_t def;
    sigemptyset(&def);
    sigaddset(&def, SIGINT);
    sigaddset(&def, SIGTERM);
    posix_spawnattr_setsigdefault(&at, &def);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGDEF);
    if (posix_spawn(&pid, argv[0], &fa, &at, argv.data(), environ) != 0) pid = -1;
    posix_spawnattr_destroy(&at);
    posix_spawn_file_actions_destroy(&fa);
  }
  bool poll() {
    if (!done && ::waitpid(pid, &status, WNOHANG) == pid) done = true;
    return done;
  }
  void wait() {
    if (!done && ::waitpid(pid, &status, 0) == pid) done = true;
  }
  bool killed_by(int sig) const { return done && WIFSIGNALED(status) && WTERMSIG(status) == sig; }
  std::string how() const {
    if (!done) return "still running";
    if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
    return "exit code " + std::to_string(WEXITSTATUS(status));
  }
};

// A feature set large enough that `circa run --functional` on the bundled model takes about a second.
class Interrupt : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    // CTest runs each test in its own process, several at once: one input folder per process.
    dir_ = new fs::path(fresh_dir("interrupt_inputs_" + std::to_string(::getpid())));
    const auto r = run_circa(
        {"features", "synth", "--utts", "16", "--frames", "1000", "--dim", "153", "-o", (*dir_ / "big.ark").string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  static void TearDownTestSuite() {
    std::error_code ec;
    fs::remove_all(*dir_, ec);
    delete dir_;
    dir_ = nullptr;
  }
  static std::string big() { return (*dir_ / "big.ark").string(); }
  static fs::path* dir_;
};
fs::path* Interrupt::dir_ = nullptr;

// Signals the run `delay` after its start and checks what it left in `d`.
void interrupt_run(const fs::path& d, int sig, std::chrono::milliseconds delay, const std::string& features) {
  const fs::path out = d / "X.ark";
  Child c({"run", "--functional", "--features", features, "--out", out.string()}, d);
  ASSERT_GT(c.pid, 0);
  std::this_thread::sleep_for(delay);
  ASSERT_FALSE(c.poll()) << "the run ended before it could be interrupted: " << c.how() << "; "
                         << slurp(d / "stderr.txt");
  ::kill(c.pid, sig);
  c.wait();
  EXPECT_TRUE(c.killed_by(sig)) << c.how();
  EXPECT_TRUE(temporaries(d).empty()) << temporaries(d).front();
}

}  // namespace

TEST_F(Interrupt, SigintMidRunWritesNothing) {
  const fs::path d = fresh_dir("interrupt_nothing");
  interrupt_run(d, SIGINT, std::chrono::milliseconds(200), big());
  EXPECT_FALSE(fs::exists(d / "X.ark"));
}

TEST_F(Interrupt, SigintAndSigtermMidRunKeepThePreviousOutput) {
  for (int sig : {SIGINT, SIGTERM}) {
    SCOPED_TRACE(sig);
    const fs::path d = fresh_dir("interrupt_previous");
    std::ofstream(d / "X.ark") << "the previous output";
    interrupt_run(d, sig, std::chrono::milliseconds(200), big());
    EXPECT_EQ(slurp(d / "X.ark"), "the previous output");
  }
}

// The signal lands while the output's temporary exists (it is being written or fsynced): the handler removes it.
// The window is a few milliseconds, so the test watches for the temporary and signals the moment it appears; if a
// fast disk closes the window every time, there is nothing to interrupt and the test says so.
TEST_F(Interrupt, SigintWhileTheOutputIsBeingWrittenRemovesTheTemporary) {
  int caught = 0;
  for (int attempt = 0; attempt < 5 && caught == 0; ++attempt) {
    const fs::path d = fresh_dir("interrupt_writing");
    std::ofstream(d / "X.ark") << "the previous output";
    Child c({"run", "--functional", "--features", big(), "--out", (d / "X.ark").string()}, d);
    ASSERT_GT(c.pid, 0);
    const fs::path tmp = d / ("X.ark.tmp-" + std::to_string(c.pid));
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (!c.poll() && std::chrono::steady_clock::now() < give_up) {
      if (fs::exists(tmp)) {
        ::kill(c.pid, SIGINT);
        c.wait();
        ++caught;
        EXPECT_TRUE(c.killed_by(SIGINT)) << c.how();
        break;
      }
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    c.wait();
    EXPECT_TRUE(temporaries(d).empty()) << temporaries(d).front();
    if (caught) {
      EXPECT_EQ(slurp(d / "X.ark"), "the previous output");
    } else {
      EXPECT_EQ(c.how(), "exit code 0") << slurp(d / "stderr.txt");  // finished: the new output, complete
      EXPECT_EQ(circa::read_ark((d / "X.ark").string()).size(), 16u);
    }
  }
  if (caught == 0) GTEST_SKIP() << "the output was always written before the signal could land";
}

// Bad data in the third of five utterances: exit 2 with one line naming the file and the utterance, and the
// previous output untouched (nothing is computed before every input has been read and checked).
TEST(BadFeatures, CorruptThirdUtteranceIsAnInputErrorAndWritesNothing) {
  const fs::path d = fresh_dir("interrupt_bad");
  const std::string good = (d / "good.ark").string();
  auto r = run_circa({"features", "synth", "--utts", "5", "--frames", "20", "--dim", "153", "-o", good});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string bytes = slurp(good);
  const std::size_t third = bytes.find("utt0002 ");
  ASSERT_NE(third, std::string::npos);
  // Binary ark entry: key, ' ', "\0B", "FM ", then the row and column counts (5 bytes each), then the floats.
  const std::size_t data = third + 8 + 2 + 3 + 10;
  struct Case {
    const char* name;
    std::string bytes;
    const char* says;
  };
  std::string nan_bytes = bytes;
  const float nan = std::nanf("");
  std::memcpy(&nan_bytes[data + 4 * 160], &nan, 4);  // frame 1, dim 7
  std::string token = bytes;
  token.replace(third + 10, 2, "XM");
  const std::vector<Case> cases = {
      {"truncated.ark", bytes.substr(0, data + 1000), "truncated"},
      {"nan.ark", nan_bytes, "NaN"},
      {"token.ark", token, "matrix type token"},
  };
  for (const Case& c : cases) {
    for (bool functional : {true, false}) {
      SCOPED_TRACE(std::string(c.name) + (functional ? " --functional" : " on the virtual platform"));
      const fs::path in = d / c.name;
      std::ofstream(in, std::ios::binary) << c.bytes;
      const fs::path out = d / "X.ark";
      std::ofstream(out) << "the previous output";
      std::vector<std::string> args = {"run", "--features", in.string(), "--out", out.string()};
      if (functional) args.push_back("--functional");
      r = run_circa(args);
      EXPECT_EQ(r.exit_code, 2) << r.err;
      EXPECT_EQ(r.out, "");
      ASSERT_FALSE(r.err.empty());
      EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << "one line: " << r.err;
      EXPECT_NE(r.err.find(in.string()), std::string::npos) << r.err;
      EXPECT_NE(r.err.find("utt0002"), std::string::npos) << r.err;
      EXPECT_NE(r.err.find(c.says), std::string::npos) << r.err;
      EXPECT_EQ(slurp(out), "the previous output");
      EXPECT_TRUE(temporaries(d).empty()) << temporaries(d).front();
    }
  }
}
