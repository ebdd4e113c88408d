#include "tests/fuzz/fuzz_targets.hpp"

#include <cstdint>
#include <stdexcept>

#include "core/alignment.hpp"
#include "core/error.hpp"
#include "core/kaldi_io.hpp"
#include "core/model.hpp"
#include "core/npy.hpp"
#include "core/safetensors.hpp"
#include "platform/hw_config.hpp"

namespace circa::fuzz {
namespace {

// The CLI prints an InputError as one line on stderr, so a message that breaks the line or carries terminal control
// bytes from the file is a bug too, as is one that does not say which file it is about.
void check_message(const std::string& msg, const std::string& name, bool allow_option_prefix) {
  for (char c : msg) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) throw std::logic_error("InputError message holds a control byte: " + msg);
  }
  const bool named = msg.rfind(name + ": ", 0) == 0;
  const bool option = allow_option_prefix && (msg.rfind("option --", 0) == 0 || msg.rfind("command line: ", 0) == 0);
  if (!named && !option) throw std::logic_error("InputError message does not start with '" + name + ": ': " + msg);
}

// Runs one parse; false if it was rejected properly.
template <class F>
bool accepts(const std::string& name, F&& parse, bool allow_option_prefix = false) {
  try {
    parse();
    return true;
  } catch (const InputError& e) {
    check_message(e.what(), name, allow_option_prefix);
    return false;
  }
}

void check_matrix(const Matrix& m, const char* what) {
  if (m.data.size() != m.rows * m.cols)
    throw std::logic_error(std::string(what) + ": parsed matrix holds " + std::to_string(m.data.size()) +
                           " values for " + std::to_string(m.rows) + " x " + std::to_string(m.cols));
}

bool feed_safetensors(const std::string& in) {
  const std::string name = "fuzz.safetensors";
  // The container first, with every float tensor decoded, then the model checks on top of it.
  const bool container = accepts(name, [&] {
    const SafeTensors st = parse_safetensors(in, name);
    for (const auto& [tname, t] : st.tensors) {
      if (t.dtype == DType::F32 || t.dtype == DType::F64 || t.dtype == DType::F16 || t.dtype == DType::BF16) {
        if (st.to_float(tname).size() != t.elements()) throw std::logic_error("to_float size differs from the shape");
      }
    }
  });
  if (!container) return false;
  return accepts(name, [&] { (void)parse_model(in, name); });
}

bool feed_ark(const std::string& in) {
  const std::string name = "fuzz.ark";
  bool ok = accepts(name, [&] {
    for (const Utterance& u : parse_ark(in, name)) check_matrix(u.mat, "parse_ark");
  });
  // The scp cases: a single-object file (offset 0) and an ark entry whose offset follows the first key.
  if (!in.empty()) ok |= accepts(name, [&] { check_matrix(parse_matrix_at(in, 0, name), "parse_matrix_at"); });
  const auto space = in.find(' ');
  if (space != std::string::npos && space < 64)
    ok |= accepts(name, [&] { check_matrix(parse_matrix_at(in, space + 1, name), "parse_matrix_at"); });
  return ok;
}

bool feed_scp(const std::string& in) {
  const std::string name = "fuzz.scp";
  return accepts(name, [&] {
    for (const ScpEntry& e : parse_scp(in, name, "/data"))
      if (e.key.empty() || e.ark_path.empty() || e.line == 0) throw std::logic_error("parse_scp: incomplete entry");
  });
}

bool feed_npy(const std::string& in) {
  const std::string name = "fuzz.npy";
  return accepts(name, [&] { check_matrix(parse_npy(in, name), "parse_npy"); });
}

bool feed_alignment(const std::string& in) {
  const std::string name = "fuzz.ali";
  const std::vector<std::string>& phones = timit39_phones();
  return accepts(name, [&] {
    for (const Alignment& a : parse_alignment(in, name, phones)) {
      if (a.phones.empty()) throw std::logic_error("parse_alignment: utterance without frames");
      for (int p : a.phones)
        if (p < 0 || p >= static_cast<int>(phones.size()))
          throw std::logic_error("parse_alignment: phone index out of range");
    }
  });
}

// The INI text, then optionally a NUL byte and command-line overrides ("section.key=value"), one per line.
bool feed_hw_config(const std::string& in) {
  const std::string name = "fuzz.ini";
  const auto nul = in.find('\0');
  const std::string ini = in.substr(0, nul);
  std::vector<std::string> overrides;
  if (nul != std::string::npos) {
    std::size_t pos = nul + 1;
    while (pos <= in.size()) {
      auto nl = in.find('\n', pos);
      if (nl == std::string::npos) nl = in.size();
      if (nl > pos) overrides.push_back(in.substr(pos, nl - pos));
      pos = nl + 1;
    }
  }
  return accepts(
      name, [&] { (void)numerics_of(load_hw_config_text(ini, name, overrides)); }, !overrides.empty());
}

}  // namespace

const std::vector<Target>& targets() {
  static const std::vector<Target> all = {
      {"safetensors", feed_safetensors},
      {"ark", feed_ark},
      {"scp", feed_scp},
      {"npy", feed_npy},
      {"alignment", feed_alignment},
      {"hw_config", feed_hw_config},
  };
  return all;
}

const Target& target(const std::string& name) {
  for (const Target& t : targets())
    if (name == t.name) return t;
  throw std::invalid_argument("no fuzz target named '" + name + "'");
}

}  // namespace circa::fuzz
