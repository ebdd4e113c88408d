// circa: frame error and phone error rate exactly as docs/architecture.md defines them.
//
// PER: map each frame to its phone, collapse repeated phones, then drop "sil" (without collapsing again), and
// divide the Levenshtein distance by the reference length, both summed over utterances.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/matrix.hpp"

namespace circa {

// The class index of "sil" in a model's phone set, or -1 when it has none (PER then drops nothing).
int sil_index(const std::vector<std::string>& phone_set);

// Collapses runs of equal labels, then removes `sil` (a class index; -1 for none). No second collapse.
std::vector<int> collapse_phones(const std::vector<int>& frames, int sil);

std::size_t levenshtein(const std::vector<int>& a, const std::vector<int>& b);

struct ErrorCounts {
  std::uint64_t frames = 0, frame_errors = 0;
  std::uint64_t ref_phones = 0, edits = 0;
  double frame_error_pct() const { return frames ? 100.0 * frame_errors / frames : 0.0; }
  double per_pct() const { return ref_phones ? 100.0 * edits / ref_phones : 0.0; }
  ErrorCounts& operator+=(const ErrorCounts& o) {
    frames += o.frames;
    frame_errors += o.frame_errors;
    ref_phones += o.ref_phones;
    edits += o.edits;
    return *this;
  }
};

// Scores one utterance: hypothesis = argmax of each row of `logp`; `ref` holds one class per frame (same count).
ErrorCounts score_utterance(const Matrix& logp, const std::vector<int>& ref, int sil);

}  // namespace circa
