// circa: where the embedded default (models/default.safetensors, data/test.*) and the config presets live.
#pragma once

#include <optional>
#include <string>

namespace circa {

// The folder holding models/, data/ and platform/configs/. Searched in order: $CIRCA_HOME; the executable's folder
// and its ancestors; the source tree circa was built from. Throws InputError when none holds the default model.
std::string circa_home();

std::string default_model_path();
std::string default_features_path();
std::string default_labels_path();   // may not exist (the corpus issue adds it)
std::string default_config_path();

bool file_exists(const std::string& path);

// data/bundled.json (scripts/make-default writes it): what the bundled utterances stand for, the same model and
// numerics on the whole test split. docs/formats.md has its fields.
struct BundledInfo {
  int utterances = 0;      // how many are bundled
  std::string rule;        // how they were picked (never from a model's errors)
  double per_pct = 0;      // the bundled model on them, fixed 16-bit on the VP
  int split_utterances = 0, split_phones = 0;
  double split_per_pct = 0;  // ... and on the whole test split
  std::string config;        // the configuration both figures were measured with
};
std::string default_bundled_info_path();
// Reads and checks it; a malformed file is an InputError naming it and the field.
BundledInfo read_bundled_info(const std::string& path);

}  // namespace circa
