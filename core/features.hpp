// circa: feature sets as the CLI takes them, whatever the container.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/matrix.hpp"

namespace circa {

// Loads features from `path`:
//   *.scp            Kaldi script, matrices read at their offsets;
//   *.ark            Kaldi archive (binary, text, compressed);
//   *.npy            a single utterance, key = file stem;
//   a directory      every *.npy inside, sorted by name, key = file stem.
// Validates: at least one utterance, every utterance has >= 1 frame, all share one dimension (equal to
// expected_dim when expected_dim > 0), every value finite, keys unique. Errors name the file and the utterance
// and frame.
std::vector<Utterance> load_features(const std::string& path, std::size_t expected_dim = 0);

// Checks the same properties on an already loaded set (used by load_features; `source` names it in errors).
void validate_features(const std::vector<Utterance>& utts, const std::string& source, std::size_t expected_dim);

// `utts` utterances of `frames` x `dim` standard-normal values drawn from Rng(seed), keyed "<prefix>0000", ...:
// the input of `circa features synth` and of `circa dse`'s points (same seed, same bytes).
std::vector<Utterance> synth_features(int utts, int frames, int dim, std::uint64_t seed,
                                      const std::string& prefix = "utt");

}  // namespace circa
