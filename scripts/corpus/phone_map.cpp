#include "scripts/corpus/phone_map.hpp"

#include <algorithm>
#include <sstream>
#include <stdexcept>
#include <unordered_map>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/model.hpp"

namespace circa::corpus {

const std::vector<std::string>& timit61_phones() {
  static const std::vector<std::string> phones = {
      "b",  "d",  "g",  "p",  "t",  "k",  "dx", "q",  "bcl", "dcl",  "gcl", "pcl", "tcl", "kcl", "jh", "ch",
      "s",  "sh", "z",  "zh", "f",  "th", "v",  "dh", "m",   "n",    "ng",  "em",  "en",  "eng", "nx", "l",
      "r",  "w",  "y",  "hh", "hv", "el", "iy", "ih", "eh",  "ey",   "ae",  "aa",  "aw",  "ay",  "ah", "ao",
      "oy", "ow", "uh", "uw", "ux", "er", "ax", "ix", "axr", "ax-h", "pau", "epi", "h#"};
  return phones;
}

int fold_to_39(const std::string& timit61) {
  // Built once from the Lee & Hon table; everything not listed folds to itself.
  static const std::unordered_map<std::string, int> table = [] {
    const std::unordered_map<std::string, std::string> fold = {
        {"ao", "aa"},   {"ax", "ah"},   {"ax-h", "ah"}, {"axr", "er"},  {"hv", "hh"},   {"ix", "ih"},
        {"el", "l"},    {"em", "m"},    {"en", "n"},    {"nx", "n"},    {"eng", "ng"},  {"zh", "sh"},
        {"ux", "uw"},   {"pcl", "sil"}, {"tcl", "sil"}, {"kcl", "sil"}, {"bcl", "sil"}, {"dcl", "sil"},
        {"gcl", "sil"}, {"h#", "sil"},  {"pau", "sil"}, {"epi", "sil"}, {"q", "sil"}};
    const auto& p39 = timit39_phones();
    std::unordered_map<std::string, int> t;
    for (const auto& p : timit61_phones()) {
      auto f = fold.find(p);
      const std::string& target = f == fold.end() ? p : f->second;
      auto it = std::find(p39.begin(), p39.end(), target);
      if (it == p39.end()) throw std::logic_error("fold_to_39: '" + p + "' folds to '" + target + "', not a 39 phone");
      t[p] = static_cast<int>(it - p39.begin());
    }
    return t;
  }();
  auto it = table.find(timit61);
  if (it == table.end()) throw std::out_of_range("'" + timit61 + "' is not a TIMIT-61 phone");
  return it->second;
}

std::string strip_marks(const std::string& mnemonic) {
  std::string out;
  for (char c : mnemonic)
    if (c != '\'' && c != ',' && c != '%' && c != '=') out += c;
  // A lone mark is not a stress mark on something; keep it so the table has to say what it is.
  return out.empty() ? mnemonic : out;
}

PhoneMap PhoneMap::load(const std::string& path) {
  return parse(read_file(path), path);
}

PhoneMap PhoneMap::parse(const std::string& text, const std::string& name) {
  PhoneMap map;
  map.name_ = name;
  const auto& p61 = timit61_phones();
  std::vector<std::string> current;  // accents of the current section
  std::istringstream in(text);
  std::string raw;
  int line_no = 0;
  while (std::getline(in, raw)) {
    ++line_no;
    // Mnemonics contain '#' (t#, a#), so a comment is a '#' that starts the line or follows whitespace.
    std::string line = raw;
    for (std::size_t i = 0; i < line.size(); ++i)
      if (line[i] == '#' && (i == 0 || line[i - 1] == ' ' || line[i - 1] == '\t')) {
        line.resize(i);
        break;
      }
    std::istringstream tok(line);
    std::string first;
    if (!(tok >> first)) continue;
    if (first.front() == '[') {
      const auto close = line.find(']');
      const auto open = line.find('[');
      if (close == std::string::npos || line.find_first_not_of(" \t", close + 1) != std::string::npos)
        fail_at_line(name, line_no, "a section header is '[accent, accent, ...]' or '[*]'");
      current.clear();
      std::string list = line.substr(open + 1, close - open - 1);
      std::replace(list.begin(), list.end(), ',', ' ');
      std::istringstream accents(list);
      std::string a;
      while (accents >> a) current.push_back(a);
      if (current.empty()) fail_at_line(name, line_no, "empty section header");
      continue;
    }
    if (current.empty()) fail_at_line(name, line_no, "an entry before the first section header ('[*]')");
    PhoneMapEntry e;
    e.line = line_no;
    std::string t;
    while (tok >> t) {
      if (t == "-") {
        e.merge = true;
        continue;
      }
      if (std::find(p61.begin(), p61.end(), t) == p61.end())
        fail_at_line(name, line_no, "'" + t + "' is not a TIMIT-61 phone");
      e.timit.push_back(t);
    }
    if (e.merge ? !e.timit.empty() : (e.timit.empty() || e.timit.size() > 2))
      fail_at_line(name, line_no, "'" + first + "' needs one or two TIMIT phones, or '-' alone");
    const std::string key = strip_marks(first);
    for (const auto& a : current) {
      auto& section = map.sections_[a];
      auto [it, fresh] = section.emplace(key, e);
      if (!fresh)
        fail_at_line(name, line_no,
                     "'" + key + "' is already mapped in [" + a + "] on line " + std::to_string(it->second.line));
    }
  }
  if (!map.sections_.count("*")) fail_in(name, "no '[*]' section");
  return map;
}

bool PhoneMap::has(const std::string& accent, const std::string& mnemonic) const {
  const std::string key = strip_marks(mnemonic);
  for (const std::string& s : {accent, std::string("*")}) {
    auto sec = sections_.find(s);
    if (sec != sections_.end() && sec->second.count(key)) return true;
  }
  return false;
}

const PhoneMapEntry& PhoneMap::lookup(const std::string& accent, const std::string& mnemonic,
                                      const std::string& utt) const {
  const std::string key = strip_marks(mnemonic);
  for (const std::string& s : {accent, std::string("*")}) {
    auto sec = sections_.find(s);
    if (sec == sections_.end()) continue;
    auto it = sec->second.find(key);
    if (it != sec->second.end()) return it->second;
  }
  throw InputError(name_ + ": unmapped espeak phoneme '" + mnemonic + "' (accent " + accent + ") in utterance " + utt +
                   "; add it to the table");
}

}  // namespace circa::corpus
