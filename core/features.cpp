#include "core/features.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <unordered_map>

#include "core/error.hpp"
#include "core/kaldi_io.hpp"
#include "core/npy.hpp"
#include "core/rng.hpp"

namespace circa {
namespace {

namespace fs = std::filesystem;

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::vector<Utterance> load_npy_dir(const std::string& path) {
  std::vector<fs::path> files;
  std::error_code ec;
  fs::directory_iterator it(path, ec), end;
  if (ec) fail_in(path, "cannot list directory: " + ec.message());
  for (; it != end; it.increment(ec)) {
    if (ec) fail_in(path, "cannot list directory: " + ec.message());
    const fs::path& p = it->path();
    if (p.extension() != ".npy") continue;
    std::error_code type_ec;
    if (!fs::is_regular_file(p, type_ec)) continue;
    files.push_back(p);
  }
  if (ec) fail_in(path, "cannot list directory: " + ec.message());
  if (files.empty()) fail_in(path, "directory holds no .npy files");
  // Byte-wise name order, so the utterance order does not depend on the locale or the file system.
  std::sort(files.begin(), files.end(),
            [](const fs::path& a, const fs::path& b) { return a.filename().string() < b.filename().string(); });
  std::vector<Utterance> out;
  out.reserve(files.size());
  for (const fs::path& p : files) out.push_back(Utterance{p.stem().string(), read_npy(p.string())});
  return out;
}

}  // namespace

std::vector<Utterance> load_features(const std::string& path, std::size_t expected_dim) {
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  if (!fs::exists(st)) fail_in(path, "cannot open: no such file or directory");
  if (ec) fail_in(path, "cannot open: " + ec.message());
  std::vector<Utterance> utts;
  if (fs::is_directory(st)) {
    utts = load_npy_dir(path);
  } else if (ends_with(path, ".scp")) {
    utts = load_scp(path);
  } else if (ends_with(path, ".ark")) {
    utts = read_ark(path);
  } else if (ends_with(path, ".npy")) {
    utts.push_back(Utterance{fs::path(path).stem().string(), read_npy(path)});
  } else {
    fail_in(path, "unrecognised feature file: expected .scp, .ark, .npy or a directory of .npy files");
  }
  validate_features(utts, path, expected_dim);
  return utts;
}

void validate_features(const std::vector<Utterance>& utts, const std::string& source, std::size_t expected_dim) {
  if (utts.empty()) fail_in(source, "no utterances");
  std::unordered_map<std::string, std::size_t> seen;
  const Utterance& first = utts.front();
  for (std::size_t u = 0; u < utts.size(); ++u) {
    const Utterance& utt = utts[u];
    const Matrix& m = utt.mat;
    const std::string name = "utterance '" + utt.key + "'";
    if (utt.key.empty()) fail_in(source, "utterance #" + std::to_string(u) + " has an empty key");
    if (!seen.emplace(utt.key, u).second) fail_in(source, "duplicate " + name);
    if (m.data.size() != m.rows * m.cols)
      throw std::logic_error("validate_features: " + name + " holds " + std::to_string(m.data.size()) +
                             " values for a " + std::to_string(m.rows) + " x " + std::to_string(m.cols) + " shape");
    if (m.rows == 0) fail_in(source, name + " has no frames");
    if (m.cols == 0) fail_in(source, name + " has feature dimension 0");
    if (expected_dim > 0 && m.cols != expected_dim)
      fail_in(source, name + " has feature dimension " + std::to_string(m.cols) + ", the model expects " +
                          std::to_string(expected_dim));
    if (m.cols != first.mat.cols)
      fail_in(source, name + " has feature dimension " + std::to_string(m.cols) + " but utterance '" + first.key +
                          "' has " + std::to_string(first.mat.cols));
    for (std::size_t i = 0; i < m.data.size(); ++i) {
      const float v = m.data[i];
      if (std::isfinite(v)) continue;
      const char* what = std::isnan(v) ? "NaN" : (v > 0 ? "+inf" : "-inf");
      fail_in(source, name + " frame " + std::to_string(i / m.cols) + " dim " + std::to_string(i % m.cols) +
                          ": value is " + what);
    }
  }
}

std::vector<Utterance> synth_features(int utts, int frames, int dim, std::uint64_t seed, const std::string& prefix) {
  Rng rng(seed);
  std::vector<Utterance> set(static_cast<std::size_t>(utts));
  for (int u = 0; u < utts; ++u) {
    char key[64];
    std::snprintf(key, sizeof key, "%s%04d", prefix.c_str(), u);
    set[u].key = key;
    set[u].mat = Matrix(static_cast<std::size_t>(frames), static_cast<std::size_t>(dim));
    for (float& v : set[u].mat.data) v = static_cast<float>(rng.normal());
  }
  return set;
}

}  // namespace circa
