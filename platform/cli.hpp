// circa: the command-line front end. Exit codes: 0 success, 2 bad input or usage, 1 internal error.
#pragma once

#include <boost/program_options.hpp>
#include <stdexcept>
#include <string>
#include <vector>

namespace circa {

using Args = std::vector<std::string>;

int cli_main(int argc, char** argv);

int cmd_model(const Args& args);
int cmd_features(const Args& args);
int cmd_run(const Args& args);
int cmd_estimate(const Args& args);
int cmd_dse(const Args& args);

// Thrown for usage errors (unknown option, missing argument); exit code 2 like InputError.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// "--section.key=value" or "--section.key value" at args[i]: a hardware key over the INI (load_hw_config validates
// it). Appends "section.key=value" to out, advances i past a separate value, and returns true; false when args[i]
// is not such an option.
bool take_hw_override(const Args& args, std::size_t& i, std::vector<std::string>& out);

// Parses args against d, taking every hardware key into overrides first; with --help prints d and the hardware
// keys and returns true (vm is then not notified).
bool parse_with_hw_overrides(const Args& args, const boost::program_options::options_description& d,
                             std::vector<std::string>& overrides, boost::program_options::variables_map& vm);

}  // namespace circa
