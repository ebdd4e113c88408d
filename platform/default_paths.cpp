#include "platform/default_paths.hpp"

#include <cstdlib>
#include <filesystem>
#include <system_error>

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

}  // namespace circa
