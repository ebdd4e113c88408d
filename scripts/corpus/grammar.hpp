// circa-corpus: the sentence generator. A small context-free grammar (scripts/corpus/grammar.txt) expanded with
// circa::Rng, so a seed gives the same sentences on every machine.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/rng.hpp"

namespace circa::corpus {

class Grammar {
public:
  // Parses "<name> = alt | alt" rules (continuation lines start with '|'); errors name `name` and the line. Every
  // rule referenced must be defined, and <s> is where generation starts.
  static Grammar parse(const std::string& text, const std::string& name);
  static Grammar load(const std::string& path);

  // One sentence: words separated by spaces, punctuation attached to the word before it, first letter capitalised.
  std::string sentence(Rng& rng) const;

  // Every word the grammar can produce, sorted and unique (punctuation excluded).
  std::vector<std::string> vocabulary() const;

private:
  struct Rule {
    std::vector<std::vector<std::string>> alts;  // tokens; "<x>" is a rule reference
    int line = 0;
  };
  void expand(const std::string& rule, Rng& rng, int depth, std::vector<std::string>& out) const;

  std::string name_;
  std::map<std::string, Rule> rules_;
};

}  // namespace circa::corpus
