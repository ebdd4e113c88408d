#include "core/per.hpp"

#include <algorithm>
#include <stdexcept>

namespace circa {

int sil_index(const std::vector<std::string>& phone_set) {
  for (std::size_t i = 0; i < phone_set.size(); ++i)
    if (phone_set[i] == "sil") return static_cast<int>(i);
  return -1;
}

std::vector<int> collapse_phones(const std::vector<int>& frames, int sil) {
  std::vector<int> out;
  for (std::size_t t = 0; t < frames.size(); ++t) {
    if (t > 0 && frames[t] == frames[t - 1]) continue;
    if (frames[t] == sil) continue;
    out.push_back(frames[t]);
  }
  return out;
}

std::size_t levenshtein(const std::vector<int>& a, const std::vector<int>& b) {
  std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

ErrorCounts score_utterance(const Matrix& logp, const std::vector<int>& ref, int sil) {
  if (logp.rows != ref.size()) throw std::invalid_argument("score_utterance: frame counts differ");
  std::vector<int> hyp(logp.rows);
  ErrorCounts e;
  for (std::size_t t = 0; t < logp.rows; ++t) {
    const float* row = logp.row(t);
    hyp[t] = static_cast<int>(std::max_element(row, row + logp.cols) - row);
    e.frame_errors += hyp[t] != ref[t];
  }
  e.frames = logp.rows;
  std::vector<int> h = collapse_phones(hyp, sil), r = collapse_phones(ref, sil);
  e.ref_phones = r.size();
  e.edits = levenshtein(r, h);
  return e;
}

}  // namespace circa
