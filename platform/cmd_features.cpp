// circa features info
#include <algorithm>
#include <boost/program_options.hpp>
#include <cstdio>
#include <iostream>

#include "core/features.hpp"
#include "core/kaldi_io.hpp"
#include "platform/cli.hpp"

namespace po = boost::program_options;

namespace circa {

namespace {

int features_info(const Args& args) {
  po::options_description d("circa features info F");
  std::string path;
  d.add_options()("help,h", "this help")("features", po::value(&path)->required(),
                                         "features: .scp, .ark, .npy or a folder of .npy");
  po::positional_options_description pos;
  pos.add("features", 1);
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(d).positional(pos).run(), vm);
  if (vm.count("help")) {
    std::cout << d;
    return 0;
  }
  po::notify(vm);
  auto utts = load_features(path);
  std::size_t frames = 0, lo = SIZE_MAX, hi = 0;
  for (const auto& u : utts) {
    frames += u.mat.rows;
    lo = std::min(lo, u.mat.rows);
    hi = std::max(hi, u.mat.rows);
  }
  std::cout << "features:    " << path << "\n";
  std::cout << "utterances:  " << utts.size() << "\n";
  std::cout << "frames:      " << frames << " (min " << lo << ", max " << hi << " per utterance)\n";
  std::cout << "dims:        " << utts.front().mat.cols << "\n";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.1f s at 10 ms per frame", static_cast<double>(frames) * 0.01);
  std::cout << "duration:    " << buf << "\n";
  return 0;
}

// Random features with TIMIT-like statistics after CMVN (zero mean, unit variance), for tests and performance work.
int features_synth(const Args& args) {
  po::options_description d("circa features synth [options] -o F.ark");
  int utts = 4, frames = 100, dim = 153;
  std::uint64_t seed = 1;
  std::string out, prefix = "utt";
  // clang-format off
  d.add_options()
    ("help,h", "this help")
    ("utts", po::value(&utts)->default_value(utts), "utterances")
    ("frames", po::value(&frames)->default_value(frames), "frames per utterance")
    ("dim", po::value(&dim)->default_value(dim), "feature dimension")
    ("seed", po::value(&seed)->default_value(seed), "random seed")
    ("prefix", po::value(&prefix)->default_value(prefix), "utterance key prefix")
    ("output,o", po::value(&out)->required(), "output ark; an scp with offsets is written beside it");
  // clang-format on
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(d).run(), vm);
  if (vm.count("help")) {
    std::cout << d;
    return 0;
  }
  po::notify(vm);
  if (utts < 1 || utts > 1000000) throw UsageError("--utts must be 1..1000000");
  if (frames < 1 || frames > 1000000) throw UsageError("--frames must be 1..1000000");
  if (dim < 1 || dim > 65536) throw UsageError("--dim must be 1..65536");
  if (out.size() < 5 || out.substr(out.size() - 4) != ".ark") throw UsageError("-o must name a .ark file");
  const std::vector<Utterance> set = synth_features(utts, frames, dim, seed, prefix);
  std::string scp = out.substr(0, out.size() - 4) + ".scp";
  write_ark(out, set, ArkFormat::binary, scp);
  std::cout << "wrote " << out << " and " << scp << ": " << utts << " utterances x " << frames << " frames x " << dim
            << " dims\n";
  return 0;
}

}  // namespace

int cmd_features(const Args& args) {
  if (args.empty() || args[0] == "-h" || args[0] == "--help") {
    std::cout << "usage: circa features info F | circa features synth [options] -o F.ark\n";
    return args.empty() ? 2 : 0;
  }
  Args rest(args.begin() + 1, args.end());
  if (args[0] == "info") return features_info(rest);
  if (args[0] == "synth") return features_synth(rest);
  throw UsageError("unknown features command '" + args[0] + "' (info or synth)");
}

}  // namespace circa
