// circa run: inference over a feature set, on the virtual platform or (--functional) on the golden model.
#include <boost/program_options.hpp>
#include <filesystem>
#include <iostream>

#include "core/alignment.hpp"
#include "core/error.hpp"
#include "core/features.hpp"
#include "core/model.hpp"
#include "platform/cli.hpp"
#include "platform/default_paths.hpp"
#include "platform/hw_config.hpp"

namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace circa {

namespace {

struct RunOptions {
  std::string model, features, labels, config, out, precision = "fixed", out_format;
  bool functional = false;
  bool labels_given = false;
  std::vector<std::string> hw_overrides;
};

// "--section.key=value" or "--section.key value": a hardware key, validated by load_hw_config.
bool take_hw_override(const Args& args, std::size_t& i, std::vector<std::string>& out) {
  const std::string& a = args[i];
  if (a.rfind("--", 0) != 0) return false;
  std::string body = a.substr(2);
  auto eq = body.find('=');
  std::string key = body.substr(0, eq);
  if (key.find('.') == std::string::npos) return false;
  if (eq != std::string::npos) {
    out.push_back(body);
  } else {
    if (i + 1 >= args.size()) throw UsageError("option --" + key + " needs a value");
    out.push_back(key + "=" + args[++i]);
  }
  return true;
}

RunOptions parse_run_options(const Args& args, bool& help) {
  RunOptions o;
  po::options_description d("circa run [options] [--section.key=value ...]");
  // clang-format off
  d.add_options()
    ("help,h", "this help")
    ("model", po::value(&o.model), "model (.safetensors); default: the bundled model")
    ("features", po::value(&o.features), "features (.scp, .ark, .npy or a folder of .npy); default: bundled utterances")
    ("labels", po::value(&o.labels), "frame alignment (text, 'utt phone ...'); prints frame error and PER")
    ("config", po::value(&o.config), "hardware config (INI); default: platform/configs/default.ini")
    ("out", po::value(&o.out), "write log-posteriors: F.ark (binary Kaldi) or a folder for one .npy per utterance")
    ("out-format", po::value(&o.out_format), "ark | npy (default: from --out's extension)")
    ("functional", po::bool_switch(&o.functional), "run the golden model instead of the virtual platform")
    ("precision", po::value(&o.precision)->default_value(o.precision), "fixed | float (float needs --functional)");
  // clang-format on
  Args rest;
  for (std::size_t i = 0; i < args.size(); ++i)
    if (!take_hw_override(args, i, o.hw_overrides)) rest.push_back(args[i]);
  po::variables_map vm;
  po::store(po::command_line_parser(rest).options(d).run(), vm);
  help = vm.count("help") > 0;
  if (help) {
    std::cout << d << "\n" << hw_options_help();
    return o;
  }
  po::notify(vm);
  o.labels_given = vm.count("labels") > 0;
  if (o.precision != "fixed" && o.precision != "float")
    throw UsageError("--precision: '" + o.precision + "' is not fixed or float");
  if (o.precision == "float" && !o.functional)
    throw UsageError("--precision float runs only with --functional (the accelerator is fixed point)");
  if (!o.out_format.empty() && o.out_format != "ark" && o.out_format != "npy")
    throw UsageError("--out-format: '" + o.out_format + "' is not ark or npy");
  if (!o.out_format.empty() && o.out.empty()) throw UsageError("--out-format needs --out");
  if (!o.out.empty()) {
    if (o.out_format.empty()) o.out_format = fs::path(o.out).extension() == ".ark" ? "ark" : "npy";
    fs::path parent = fs::path(o.out).parent_path();
    std::error_code ec;
    if (!parent.empty() && !fs::is_directory(parent, ec))
      throw InputError(o.out + ": output folder " + parent.string() + " does not exist");
    if (o.out_format == "ark" && fs::is_directory(o.out, ec))
      throw InputError(o.out + ": is a folder; an ark output must be a file");
  }
  bool defaults = o.model.empty() && o.features.empty();
  if (o.model.empty()) o.model = default_model_path();
  if (o.features.empty()) o.features = default_features_path();
  if (o.config.empty()) o.config = default_config_path();
  // The bundled alignment goes with the bundled utterances only.
  if (!o.labels_given && defaults && file_exists(default_labels_path())) o.labels = default_labels_path();
  return o;
}

}  // namespace

int cmd_run(const Args& args) {
  bool help = false;
  RunOptions o = parse_run_options(args, help);
  if (help) return 0;

  // Validate everything before computing anything, so a bad input costs no time and leaves no output.
  HwConfig hw = load_hw_config(o.config, o.hw_overrides);
  Model model = load_model(o.model);
  auto utts = load_features(o.features, static_cast<std::size_t>(model.input_dim));
  std::vector<Alignment> ali;
  if (!o.labels.empty()) ali = match_alignment(read_alignment(o.labels, model.phone_set), utts, o.labels);

  std::size_t frames = 0;
  for (const auto& u : utts) frames += u.mat.rows;
  std::cout << "model " << o.model << ": " << arch_name(model.arch) << ", " << model.layers.size() << " layer(s)\n"
            << "features " << o.features << ": " << utts.size() << " utterance(s), " << frames << " frames\n"
            << "config " << hw.source << ": weights " << hw.weight_q.str() << ", activations "
            << hw.activation_q.str() << ", " << hw.clock_mhz << " MHz\n";
  std::cerr << "circa run: inputs validated; inference is not implemented yet (Foundation II)\n";
  return 1;
}

}  // namespace circa
