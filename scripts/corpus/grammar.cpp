#include "scripts/corpus/grammar.hpp"

#include <cctype>
#include <set>
#include <sstream>

#include "core/atomic_file.hpp"
#include "core/error.hpp"

namespace circa::corpus {

namespace {

bool is_ref(const std::string& t) {
  return t.size() > 2 && t.front() == '<' && t.back() == '>';
}
bool is_punct(const std::string& t) {
  return t == "," || t == "." || t == "?" || t == "!";
}

// Recursion in the grammar is legal, but a runaway expansion is a grammar bug, not a long sentence.
constexpr int kMaxDepth = 32;

}  // namespace

Grammar Grammar::load(const std::string& path) {
  return parse(read_file(path), path);
}

Grammar Grammar::parse(const std::string& text, const std::string& name) {
  Grammar g;
  g.name_ = name;
  std::istringstream in(text);
  std::string raw;
  int line_no = 0;
  Rule* current = nullptr;
  std::map<std::string, int> referenced;  // rule -> first line that uses it
  auto add_alts = [&](const std::string& body, int line) {
    std::istringstream tok(body);
    std::vector<std::string> alt;
    std::string t;
    auto close = [&] {
      if (alt.empty()) fail_at_line(name, line, "empty alternative");
      current->alts.push_back(alt);
      alt.clear();
    };
    while (tok >> t) {
      if (t == "|") {
        close();
        continue;
      }
      if (t.front() == '<' || t.back() == '>') {
        if (!is_ref(t)) fail_at_line(name, line, "malformed rule reference '" + t + "'");
        referenced.emplace(t.substr(1, t.size() - 2), line);
      } else if (!is_punct(t)) {
        for (char c : t)
          if (!std::islower(static_cast<unsigned char>(c)) && c != '\'' && c != '-')
            fail_at_line(name, line, "word '" + t + "': words are lower-case letters, ' and -");
      }
      alt.push_back(t);
    }
    close();
  };
  while (std::getline(in, raw)) {
    ++line_no;
    std::string line = raw.substr(0, raw.find('#'));
    const auto first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos) continue;
    if (line[first] == '|') {
      if (!current) fail_at_line(name, line_no, "a continuation line ('|') before any rule");
      add_alts(line.substr(first + 1), line_no);
      continue;
    }
    const auto eq = line.find('=');
    std::string head = eq == std::string::npos ? "" : line.substr(first, eq - first);
    while (!head.empty() && (head.back() == ' ' || head.back() == '\t')) head.pop_back();
    if (!is_ref(head) || head.find_first_of(" \t") != std::string::npos)
      fail_at_line(name, line_no, "expected '<rule> = alternative | ...'");
    const std::string rule = head.substr(1, head.size() - 2);
    auto [it, fresh] = g.rules_.emplace(rule, Rule{});
    if (!fresh)
      fail_at_line(name, line_no, "rule <" + rule + "> is already defined on line " + std::to_string(it->second.line));
    current = &it->second;
    current->line = line_no;
    add_alts(line.substr(eq + 1), line_no);
  }
  for (const auto& [rule, line] : referenced)
    if (!g.rules_.count(rule)) fail_at_line(name, line, "rule <" + rule + "> is not defined");
  if (!g.rules_.count("s")) fail_in(name, "no start rule <s>");
  return g;
}

void Grammar::expand(const std::string& rule, Rng& rng, int depth, std::vector<std::string>& out) const {
  if (depth > kMaxDepth)
    fail_in(name_, "expansion deeper than " + std::to_string(kMaxDepth) + " rules at <" + rule + ">");
  const Rule& r = rules_.at(rule);
  // rng.next() % n has a bias below n / 2^64: irrelevant here, and exact integer arithmetic on every platform.
  const auto& alt = r.alts[rng.next() % r.alts.size()];
  for (const auto& t : alt) {
    if (is_ref(t))
      expand(t.substr(1, t.size() - 2), rng, depth + 1, out);
    else
      out.push_back(t);
  }
}

std::string Grammar::sentence(Rng& rng) const {
  std::vector<std::string> words;
  expand("s", rng, 0, words);
  std::string s;
  for (const auto& w : words) {
    if (!s.empty() && !is_punct(w)) s += ' ';
    s += w;
  }
  if (!s.empty()) s[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(s[0])));
  return s;
}

std::vector<std::string> Grammar::vocabulary() const {
  std::set<std::string> words;
  for (const auto& [name, rule] : rules_)
    for (const auto& alt : rule.alts)
      for (const auto& t : alt)
        if (!is_ref(t) && !is_punct(t)) words.insert(t);
  return {words.begin(), words.end()};
}

}  // namespace circa::corpus
