// circa model info | synth
#include <boost/program_options.hpp>
#include <cstdio>
#include <iostream>
#include <sstream>

#include "core/error.hpp"
#include "core/model.hpp"
#include "platform/cli.hpp"

namespace po = boost::program_options;

namespace circa {

namespace {

std::string human_bytes(double b) {
  char buf[64];
  if (b >= 1024.0 * 1024.0)
    std::snprintf(buf, sizeof buf, "%.2f MiB", b / (1024.0 * 1024.0));
  else if (b >= 1024.0)
    std::snprintf(buf, sizeof buf, "%.1f KiB", b / 1024.0);
  else
    std::snprintf(buf, sizeof buf, "%.0f B", b);
  return buf;
}

std::string describe(const CirculantMatrix& w, int logical_cols) {
  std::ostringstream s;
  s << w.rows() << "x" << logical_cols << " as " << w.p << "x" << w.q << " blocks, k=" << w.k;
  if (w.k == 1) s << " (dense)";
  return s.str();
}

int model_info(const Args& args) {
  po::options_description d("circa model info F");
  std::string path;
  d.add_options()("help,h", "this help")("model", po::value(&path)->required(), "model file (.safetensors)");
  po::positional_options_description pos;
  pos.add("model", 1);
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(d).positional(pos).run(), vm);
  if (vm.count("help")) {
    std::cout << d;
    return 0;
  }
  po::notify(vm);

  Model m = load_model(path);
  ModelStats st = model_stats(m);
  std::cout << "model:       " << path << "\n";
  std::cout << "arch:        " << arch_name(m.arch) << ", " << m.layers.size() << " layer"
            << (m.layers.size() == 1 ? "" : "s") << "\n";
  std::cout << "dims:        input " << m.input_dim << ", " << (m.arch == Arch::gru ? "hidden " : "cell ")
            << m.cell_dim << ", projection " << m.proj_dim << (m.proj_dim == 0 ? " (none)" : "") << ", classes "
            << m.num_classes << "\n";
  for (std::size_t l = 0; l < m.layers.size(); ++l) {
    const Layer& L = m.layers[l];
    std::cout << "layer " << l << ":     w_x " << describe(L.w_x, L.input_dim) << "\n";
    std::cout << "             w_r " << describe(L.w_r, L.w_r.padded_cols()) << "\n";
    if (L.w_proj.p > 0) std::cout << "             w_proj " << describe(L.w_proj, L.w_proj.padded_cols()) << "\n";
  }
  std::cout << "output:      dense " << m.num_classes << "x" << m.output_dim() << " + bias\n";
  std::cout << "cmvn:        " << (m.cmvn_mean.empty() ? "none" : "input.mean / input.inv_std") << "\n";
  std::cout << "phone_set:   " << m.phone_set.size() << " classes\n";
  char buf[256];
  std::snprintf(buf, sizeof buf, "%lld stored, %lld dense-equivalent, compression %.2fx overall",
                static_cast<long long>(st.params), static_cast<long long>(st.dense_params),
                st.params ? static_cast<double>(st.dense_params) / static_cast<double>(st.params) : 0.0);
  std::cout << "parameters:  " << buf << "\n";
  std::snprintf(buf, sizeof buf, "%lld stored, %lld dense, compression %.2fx",
                static_cast<long long>(st.circulant_params), static_cast<long long>(st.circulant_dense_params),
                st.circulant_params
                    ? static_cast<double>(st.circulant_dense_params) / static_cast<double>(st.circulant_params)
                    : 0.0);
  std::cout << "circulant:   " << buf << "\n";
  std::cout << "weights at:  ";
  for (int bits : {12, 16, 18}) {
    double bytes = static_cast<double>(st.params) * bits / 8.0;
    std::cout << bits << " bits " << human_bytes(bytes) << (bits == 18 ? "\n" : ", ");
  }
  return 0;
}

std::vector<int> parse_blocks(const std::string& s) {
  std::vector<int> out;
  std::stringstream ss(s);
  std::string tok;
  while (std::getline(ss, tok, ',')) {
    std::size_t used = 0;
    int v = 0;
    try {
      v = std::stoi(tok, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (tok.empty() || used != tok.size()) throw UsageError("--block: '" + s + "' is not a list of block sizes");
    out.push_back(v);
  }
  if (out.empty()) throw UsageError("--block: empty");
  return out;
}

int model_synth(const Args& args) {
  po::options_description d("circa model synth [options] -o F");
  SynthSpec spec;
  std::string arch = "lstmp", block = "8", out;
  std::uint64_t seed = 1;
  // clang-format off
  d.add_options()
    ("help,h", "this help")
    ("arch", po::value(&arch)->default_value(arch), "lstmp | gru")
    ("input-dim", po::value(&spec.input_dim)->default_value(spec.input_dim), "input feature dimension")
    ("cell-dim", po::value(&spec.cell_dim)->default_value(spec.cell_dim), "LSTM cells (GRU hidden size)")
    ("proj-dim", po::value(&spec.proj_dim)->default_value(spec.proj_dim), "projection size, 0 = none (GRU: must be 0)")
    ("layers", po::value(&spec.layers)->default_value(spec.layers), "layers")
    ("block", po::value(&block)->default_value(block), "block size k, or one per layer: 8,4")
    ("classes", po::value(&spec.num_classes)->default_value(spec.num_classes), "output classes (39 = folded TIMIT)")
    ("seed", po::value(&seed)->default_value(seed), "random seed")
    ("output,o", po::value(&out)->required(), "output .safetensors file");
  // clang-format on
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(d).run(), vm);
  if (vm.count("help")) {
    std::cout << d;
    return 0;
  }
  po::notify(vm);
  if (arch == "lstmp")
    spec.arch = Arch::lstmp;
  else if (arch == "gru")
    spec.arch = Arch::gru;
  else
    throw UsageError("--arch: '" + arch + "' is not lstmp or gru");
  if (spec.arch == Arch::gru && vm["proj-dim"].defaulted()) spec.proj_dim = 0;
  spec.block = parse_blocks(block);
  spec.seed = seed;
  Model m = synth_model(spec);
  save_model(m, out);
  ModelStats st = model_stats(m);
  std::cout << "wrote " << out << ": " << arch_name(m.arch) << " " << m.input_dim << " -> " << m.cell_dim
            << (m.proj_dim ? " -> " + std::to_string(m.proj_dim) : std::string()) << ", " << m.layers.size()
            << " layer(s), " << st.params << " parameters\n";
  return 0;
}

}  // namespace

int cmd_model(const Args& args) {
  if (args.empty() || args[0] == "-h" || args[0] == "--help") {
    std::cout << "usage: circa model info F | circa model synth [options] -o F\n";
    return args.empty() ? 2 : 0;
  }
  Args rest(args.begin() + 1, args.end());
  if (args[0] == "info") return model_info(rest);
  if (args[0] == "synth") return model_synth(rest);
  throw UsageError("unknown model command '" + args[0] + "' (info or synth)");
}

}  // namespace circa
