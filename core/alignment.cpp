#include "core/alignment.hpp"

#include <unordered_map>

#include "core/atomic_file.hpp"
#include "core/error.hpp"

namespace circa {
namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

bool has_control(const std::string& s) {
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return true;
  }
  return false;
}

}  // namespace

std::vector<Alignment> read_alignment(const std::string& path, const std::vector<std::string>& phone_set) {
  return parse_alignment(read_file(path), path, phone_set);
}

std::vector<Alignment> parse_alignment(const std::string& text, const std::string& path,
                                       const std::vector<std::string>& phone_set) {
  std::unordered_map<std::string, int> phone_index;
  for (std::size_t i = 0; i < phone_set.size(); ++i) phone_index.emplace(phone_set[i], static_cast<int>(i));

  std::vector<Alignment> out;
  std::unordered_map<std::string, std::uint64_t> first_line;
  std::size_t pos = 0;
  std::uint64_t line_no = 0;
  std::vector<std::string> tokens;
  while (pos < text.size()) {
    ++line_no;
    std::size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    tokens.clear();
    for (std::size_t i = pos; i < nl;) {
      while (i < nl && is_space(text[i])) ++i;
      std::size_t j = i;
      while (j < nl && !is_space(text[j])) ++j;
      if (j > i) tokens.emplace_back(text, i, j - i);
      i = j;
    }
    pos = nl + 1;
    if (tokens.empty()) continue;  // blank lines separate nothing and are harmless

    Alignment a;
    a.key = tokens[0];
    const std::string utt = "utterance '" + printable(a.key) + "'";
    if (has_control(a.key)) fail_at_line(path, line_no, utt + ": the key contains a control character");
    auto ins = first_line.emplace(a.key, line_no);
    if (!ins.second)
      fail_at_line(path, line_no, "duplicate " + utt + " (first on line " + std::to_string(ins.first->second) + ")");
    if (tokens.size() == 1) fail_at_line(path, line_no, utt + " has no phones");
    a.phones.reserve(tokens.size() - 1);
    for (std::size_t t = 1; t < tokens.size(); ++t) {
      auto it = phone_index.find(tokens[t]);
      if (it == phone_index.end())
        fail_at_line(path, line_no,
                     utt + ": token " + std::to_string(t + 1) + " (frame " + std::to_string(t - 1) +
                         "): unknown phone '" + printable(tokens[t]) + "', not in the model's phone set");
      a.phones.push_back(it->second);
    }
    out.push_back(std::move(a));
  }
  if (out.empty()) fail_in(path, "no alignments (the file is empty or blank)");
  return out;
}

std::vector<Alignment> match_alignment(const std::vector<Alignment>& ali, const std::vector<Utterance>& utts,
                                       const std::string& ali_path) {
  std::unordered_map<std::string, std::size_t> by_key;
  for (std::size_t i = 0; i < ali.size(); ++i)
    if (!by_key.emplace(ali[i].key, i).second) fail_in(ali_path, "duplicate utterance '" + ali[i].key + "'");
  std::vector<Alignment> out;
  out.reserve(utts.size());
  for (const Utterance& u : utts) {
    auto it = by_key.find(u.key);
    if (it == by_key.end()) fail_in(ali_path, "no alignment for utterance '" + u.key + "'");
    const Alignment& a = ali[it->second];
    if (a.phones.size() != u.mat.rows)
      fail_in(ali_path, "utterance '" + u.key + "': the alignment has " + std::to_string(a.phones.size()) +
                            " frames but the features have " + std::to_string(u.mat.rows));
    out.push_back(a);
  }
  return out;
}

}  // namespace circa
