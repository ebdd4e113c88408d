// circa: Kaldi-style text frame alignments, one utterance per line: "utt phone phone ...", one phone per frame.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/matrix.hpp"

namespace circa {

struct Alignment {
  std::string key;
  std::vector<int> phones;  // class index per frame, into the model's phone_set
};

// Parses an alignment. Phone names must belong to `phone_set`; keys must be unique; a line must hold at least one
// phone. Errors name the file, the line and the offending token.
std::vector<Alignment> read_alignment(const std::string& path, const std::vector<std::string>& phone_set);
// The same on text held in memory; `name` is used in error messages.
std::vector<Alignment> parse_alignment(const std::string& text, const std::string& name,
                                       const std::vector<std::string>& phone_set);

// Pairs alignments with feature utterances by key: every utterance must have an alignment with exactly as many
// frames. Errors name the alignment file and the utterance. Returns alignments in utterance order.
std::vector<Alignment> match_alignment(const std::vector<Alignment>& ali, const std::vector<Utterance>& utts,
                                       const std::string& ali_path);

}  // namespace circa
