#include "platform/cli.hpp"
#include "platform/hw_config.hpp"

#include <boost/program_options.hpp>
#include <iostream>
#include <systemc>

#include "core/error.hpp"
#include "sw_driver/regs_doc.hpp"

namespace circa {

namespace {

const char* kUsage =
    "usage: circa <command> [options]\n"
    "\n"
    "commands:\n"
    "  run                 run inference (default: the bundled model and utterances)\n"
    "  estimate ...        closed-form cycles, resources and energy of a config and model (circa estimate --help)\n"
    "  dse ...             design-space exploration: one circa run per point of a sweep, CSV and plots (circa dse --help)\n"
    "  model info F        dims, block sizes, parameters and storage of a model\n"
    "  model synth ...     write a deterministic random model (see circa model synth --help)\n"
    "  features info F     utterances, frames and dims of a feature file (.ark, .scp, .npy or a folder)\n"
    "  registers           the register map as Markdown (docs/registers.md)\n"
    "  version             print circa's and SystemC's versions\n"
    "\n"
    "Run 'circa <command> --help' for the options of a command.\n";

}  // namespace

int cli_main(int argc, char** argv) {
  Args args(argv + 1, argv + argc);
  try {
    if (args.empty() || args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
      std::cout << kUsage;
      return args.empty() ? 2 : 0;
    }
    const std::string cmd = args[0];
    Args rest(args.begin() + 1, args.end());
    if (cmd == "run") return cmd_run(rest);
    if (cmd == "model") return cmd_model(rest);
    if (cmd == "estimate") return cmd_estimate(rest);
    if (cmd == "dse") return cmd_dse(rest);
    if (cmd == "features") return cmd_features(rest);
    if (cmd == "registers") {
      if (rest.size() > 1 || (rest.size() == 1 && rest[0] != "--markdown"))
        throw UsageError("usage: circa registers [--markdown]");
      std::cout << registers_markdown();
      return 0;
    }
    if (cmd == "version" || cmd == "--version") {
      std::cout << "circa " << CIRCA_VERSION << " (SystemC " << sc_core::sc_release() << ")\n";
      return 0;
    }
    throw UsageError("unknown command '" + cmd + "' (try circa --help)");
  } catch (const UsageError& e) {
    std::cerr << "circa: " << e.what() << "\n";
    return 2;
  } catch (const boost::program_options::error& e) {
    std::cerr << "circa: " << e.what() << "\n";
    return 2;
  } catch (const InputError& e) {
    std::cerr << "circa: " << e.what() << "\n";
    return 2;
  } catch (const std::bad_alloc&) {
    std::cerr << "circa: out of memory\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "circa: internal error: " << e.what() << "\n";
    return 1;
  }
}

bool take_hw_override(const Args& args, std::size_t& i, std::vector<std::string>& out) {
  const std::string& a = args[i];
  if (a.rfind("--", 0) != 0) return false;
  const std::string body = a.substr(2);
  const auto eq = body.find('=');
  const std::string key = body.substr(0, eq);
  if (key.find('.') == std::string::npos) return false;
  if (eq != std::string::npos) {
    out.push_back(body);
  } else {
    if (i + 1 >= args.size()) throw UsageError("option --" + key + " needs a value");
    out.push_back(key + "=" + args[++i]);
  }
  return true;
}

bool parse_with_hw_overrides(const Args& args, const boost::program_options::options_description& d,
                             std::vector<std::string>& overrides, boost::program_options::variables_map& vm) {
  namespace po = boost::program_options;
  Args rest;
  for (std::size_t i = 0; i < args.size(); ++i)
    if (!take_hw_override(args, i, overrides)) rest.push_back(args[i]);
  po::store(po::command_line_parser(rest).options(d).run(), vm);
  if (vm.count("help")) {
    std::cout << d << "\n" << hw_options_help();
    return true;
  }
  po::notify(vm);
  return false;
}

}  // namespace circa
