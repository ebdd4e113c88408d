#include "tests/platform/cli_runner.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

extern char** environ;

namespace circa_test {

std::string slurp(const std::string& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string fresh_dir(const std::string& name) {
  namespace fs = std::filesystem;
  // The process id keeps concurrent test processes (ctest -j) out of each other's folders.
  fs::path d = fs::path(::testing::TempDir()) / ("circa_cli_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d.string();
}

CliResult run_circa(const std::vector<std::string>& args, const std::string& cwd, const std::vector<std::string>& env) {
  static int counter = 0;
  std::string base = ::testing::TempDir() + "/circa_cli_io_" + std::to_string(::getpid()) + "_" +
                     std::to_string(counter++);
  std::string out_path = base + ".out", err_path = base + ".err";

  std::vector<std::string> argv_s = {CIRCA_BIN};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);

  std::vector<std::string> env_s;
  for (char** e = environ; *e; ++e) env_s.emplace_back(*e);
  env_s.insert(env_s.end(), env.begin(), env.end());
  std::vector<char*> envp;
  for (auto& e : env_s) envp.push_back(e.data());
  envp.push_back(nullptr);

  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  // posix_spawn has no chdir action in glibc 2.36's portable API; run through a shell-free helper instead.
  std::string old_cwd;
  if (!cwd.empty()) {
    old_cwd = std::filesystem::current_path().string();
    std::filesystem::current_path(cwd);
  }
  pid_t pid = 0;
  int rc = posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), envp.data());
  if (!old_cwd.empty()) std::filesystem::current_path(old_cwd);
  posix_spawn_file_actions_destroy(&fa);
  CliResult r;
  if (rc != 0) {
    r.err = "posix_spawn failed";
    return r;
  }
  int status = 0;
  waitpid(pid, &status, 0);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = slurp(out_path);
  r.err = slurp(err_path);
  std::filesystem::remove(out_path);
  std::filesystem::remove(err_path);
  return r;
}

}  // namespace circa_test
