#include "platform/default_paths.hpp"

#include <cstdlib>
#include <filesystem>
#include <system_error>

#include <nlohmann/json.hpp>

#include "core/atomic_file.hpp"
#include "core/error.hpp"

namespace fs = std::filesystem;

namespace circa {

namespace {
bool holds_default(const fs::path& dir) {
  std::error_code ec;
  return fs::is_regular_file(dir / "models" / "default.safetensors", ec);
}
}  // namespace

bool file_exists(const std::string& path) {
  std::error_code ec;
  return fs::is_regular_file(path, ec);
}

std::string circa_home() {
  if (const char* env = std::getenv("CIRCA_HOME"); env && *env) {
    if (!holds_default(env)) throw InputError(std::string("CIRCA_HOME=") + env + ": no models/default.safetensors there");
    return env;
  }
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    // build/release/circa -> the repository is two levels up; an installed layout would be one.
    for (fs::path dir = exe.parent_path(); !dir.empty(); dir = dir.parent_path()) {
      if (holds_default(dir)) return dir.string();
      if (dir == dir.root_path()) break;
    }
  }
  if (holds_default(CIRCA_SOURCE_DIR)) return CIRCA_SOURCE_DIR;
  throw InputError("cannot find the embedded default (models/default.safetensors); set CIRCA_HOME to the circa folder");
}

std::string default_model_path() { return circa_home() + "/models/default.safetensors"; }
std::string default_features_path() { return circa_home() + "/data/test.scp"; }
std::string default_labels_path() { return circa_home() + "/data/test.ali"; }
std::string default_config_path() { return circa_home() + "/platform/configs/default.ini"; }

std::string default_bundled_info_path() { return circa_home() + "/data/bundled.json"; }

BundledInfo read_bundled_info(const std::string& path) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(read_file(path));
  } catch (const nlohmann::json::parse_error& e) {
    throw InputError(path + ": not JSON (byte " + std::to_string(e.byte) + ")");
  }
  auto field = [&](const nlohmann::json& obj, const char* key, const char* where) -> const nlohmann::json& {
    if (!obj.is_object() || !obj.contains(key)) throw InputError(path + ": no " + where + key);
    return obj[key];
  };
  auto count = [&](const nlohmann::json& obj, const char* key, const char* where) {
    const auto& v = field(obj, key, where);
    if (!v.is_number_integer() || v.get<long long>() < 1 || v.get<long long>() > 100000000)
      throw InputError(path + ": " + where + key + " must be a positive count");
    return v.get<int>();
  };
  auto pct = [&](const nlohmann::json& obj, const char* key, const char* where) {
    const auto& v = field(obj, key, where);
    if (!v.is_number() || !(v.get<double>() >= 0.0 && v.get<double>() <= 1000.0))
      throw InputError(path + ": " + where + key + " must be a PER in percent");
    return v.get<double>();
  };
  auto text = [&](const nlohmann::json& obj, const char* key, const char* where) {
    const auto& v = field(obj, key, where);
    if (!v.is_string()) throw InputError(path + ": " + where + key + " must be a string");
    return v.get<std::string>();
  };
  BundledInfo b;
  b.utterances = count(j, "utterances", "");
  b.rule = text(j, "rule", "");
  b.per_pct = pct(j, "per_pct", "");
  const auto& s = field(j, "test_split", "");
  b.split_utterances = count(s, "utterances", "test_split.");
  b.split_phones = count(s, "phones", "test_split.");
  b.split_per_pct = pct(s, "per_pct", "test_split.");
  b.config = text(s, "config", "test_split.");
  return b;
}

}  // namespace circa
