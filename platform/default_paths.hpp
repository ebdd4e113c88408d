// circa: where the embedded default (models/default.safetensors, data/test.*) and the config presets live.
#pragma once

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

}  // namespace circa
