// Runs the circa executable as a user would and captures what it prints.
#pragma once

#include <string>
#include <vector>

namespace circa_test {

struct CliResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs CIRCA_BIN with `args` in `cwd` (default: current folder); extra environment entries "K=V" are added.
CliResult run_circa(const std::vector<std::string>& args, const std::string& cwd = "",
                    const std::vector<std::string>& env = {});

// The whole file as bytes ("" when it cannot be read).
std::string slurp(const std::string& path);

// A new empty folder under the test temp dir.
std::string fresh_dir(const std::string& name);

}  // namespace circa_test
