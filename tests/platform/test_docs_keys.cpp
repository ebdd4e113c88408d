// docs/formats.md documents every key the hardware-config parser accepts: each key of hw_options_help() (the
// options_description load_hw_config parses with, built by make_options) appears there as `section.key`, and has
// exactly one table row in its hardware-configuration section, whose tables name no key the parser rejects. Device
// files have no enumerable key list (load_device checks against a local array), so every key the shipped
// platform/devices/*.ini use must have a row in the device-file section.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "platform/hw_config.hpp"

namespace circa {
namespace {

const std::string kDoc = std::string(CIRCA_SOURCE_DIR) + "/docs/formats.md";

std::string read_text(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

// The text of the "## <title...>" section (up to the next "## " heading), or "" if there is none.
std::string section(const std::string& md, const std::string& title) {
  const std::string head = "\n## " + title;
  const auto b = md.find(head);
  if (b == std::string::npos) return "";
  const auto e = md.find("\n## ", b + head.size());
  return md.substr(b, e == std::string::npos ? std::string::npos : e - b);
}

std::vector<std::string> accepted_keys() {
  // Held in a variable: options() refers into it, so a range-for over hw_options_help().options() would dangle.
  const boost::program_options::options_description desc = hw_options_help();
  std::vector<std::string> keys;
  for (const auto& opt : desc.options()) keys.push_back(opt->long_name());
  return keys;
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += "\n  " + x;
  return s;
}

TEST(FormatsDoc, NamesEveryHardwareKey) {
  const std::string md = read_text(kDoc);
  ASSERT_FALSE(md.empty()) << kDoc << " is missing or empty";
  const std::vector<std::string> keys = accepted_keys();
  // A sanity floor: the parser has well over 40 keys; an empty list would make this test pass vacuously.
  ASSERT_GE(keys.size(), 40u);
  std::vector<std::string> missing;
  for (const std::string& k : keys)
    if (md.find("`" + k + "`") == std::string::npos) missing.push_back(k);
  EXPECT_TRUE(missing.empty()) << missing.size() << " hardware key(s) the parser accepts are not in " << kDoc
                               << " (as `section.key`):" << join(missing);
}

TEST(FormatsDoc, HasOneTableRowPerHardwareKeyAndNoOther) {
  const std::string hw = section(read_text(kDoc), "Hardware configuration");
  ASSERT_FALSE(hw.empty()) << kDoc << " has no '## Hardware configuration' section";
  const std::vector<std::string> keys = accepted_keys();
  const std::set<std::string> known(keys.begin(), keys.end());
  std::set<std::string> rows;
  std::vector<std::string> stale, twice;
  std::istringstream in(hw);
  for (std::string line; std::getline(in, line);) {
    // Table rows whose first cell is one `section.key`.
    if (line.rfind("| `", 0) != 0) continue;
    const auto close = line.find('`', 3);
    if (close == std::string::npos || line.compare(close, 3, "` |") != 0) continue;
    const std::string key = line.substr(3, close - 3);
    if (key.find('.') == std::string::npos) continue;
    if (!known.count(key)) stale.push_back(key);
    if (!rows.insert(key).second) twice.push_back(key);
  }
  std::vector<std::string> no_row;
  for (const std::string& k : keys)
    if (!rows.count(k)) no_row.push_back(k);
  EXPECT_TRUE(no_row.empty()) << "hardware key(s) without a table row in the hardware-configuration section of "
                              << kDoc << ":" << join(no_row);
  EXPECT_TRUE(stale.empty()) << kDoc << " has table rows for key(s) the parser does not accept:" << join(stale);
  EXPECT_TRUE(twice.empty()) << kDoc << " has more than one row for:" << join(twice);
}

TEST(FormatsDoc, NamesEveryKeyOfTheShippedDeviceFiles) {
  const std::string dev = section(read_text(kDoc), "Device files");
  ASSERT_FALSE(dev.empty()) << kDoc << " has no '## Device files' section";
  const std::filesystem::path dir = std::filesystem::path(CIRCA_SOURCE_DIR) / "platform" / "devices";
  std::set<std::string> keys;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".ini") continue;
    std::istringstream in(read_text(entry.path().string()));
    for (std::string line; std::getline(in, line);) {
      const auto b = line.find_first_not_of(" \t\r");
      if (b == std::string::npos || line[b] == '#' || line[b] == ';' || line[b] == '[') continue;
      const auto eq = line.find('=');
      if (eq == std::string::npos) continue;
      std::string key = line.substr(b, eq - b);
      key.erase(key.find_last_not_of(" \t") + 1);
      keys.insert(key);
    }
  }
  ASSERT_FALSE(keys.empty()) << "no keys in " << dir.string() << "/*.ini";
  std::vector<std::string> missing;
  for (const std::string& k : keys)
    if (dev.find("\n| `" + k + "` |") == std::string::npos) missing.push_back(k);
  EXPECT_TRUE(missing.empty()) << "device-file key(s) without a row in " << kDoc << ":" << join(missing);
}

}  // namespace
}  // namespace circa
