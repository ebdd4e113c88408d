// PER as docs/architecture.md defines it, on hand-worked examples.
#include <gtest/gtest.h>

#include "core/per.hpp"

using namespace circa;

TEST(Per, CollapseThenDropSilWithoutCollapsingAgain) {
  // frames: a a sil sil a b b sil b  (sil = 0, a = 1, b = 2)
  // collapse: a sil a b sil b ; drop sil: a a b b   (the two a's stay apart: no second collapse)
  EXPECT_EQ(collapse_phones({1, 1, 0, 0, 1, 2, 2, 0, 2}, 0), (std::vector<int>{1, 1, 2, 2}));
  EXPECT_EQ(collapse_phones({0, 0, 0}, 0), std::vector<int>{});
  EXPECT_EQ(collapse_phones({}, 0), std::vector<int>{});
}

TEST(Per, Levenshtein) {
  EXPECT_EQ(levenshtein({1, 2, 3}, {1, 2, 3}), 0u);
  EXPECT_EQ(levenshtein({1, 2, 3}, {1, 3}), 1u);        // deletion
  EXPECT_EQ(levenshtein({1, 2, 3}, {1, 4, 2, 3}), 1u);  // insertion
  EXPECT_EQ(levenshtein({1, 2, 3}, {3, 2, 1}), 2u);     // two substitutions
  EXPECT_EQ(levenshtein({}, {1, 2}), 2u);
  EXPECT_EQ(levenshtein({5, 6}, {}), 2u);
}

TEST(Per, ScoresAnUtterance) {
  // 6 frames, 3 classes. Hypothesis argmax: 1 1 2 2 0 2 ; reference: 1 1 1 2 0 0
  Matrix lp(6, 3);
  const int hyp[6] = {1, 1, 2, 2, 0, 2};
  for (int t = 0; t < 6; ++t)
    for (int c = 0; c < 3; ++c) lp.at(t, c) = c == hyp[t] ? -0.1f : -3.0f;
  ErrorCounts e = score_utterance(lp, {1, 1, 1, 2, 0, 0}, 0);
  EXPECT_EQ(e.frames, 6u);
  EXPECT_EQ(e.frame_errors, 2u);  // frames 2 and 5
  // ref phones: 1 2 (sil dropped) ; hyp phones: 1 2 2 (sil between the 2s splits them) -> one insertion
  EXPECT_EQ(e.ref_phones, 2u);
  EXPECT_EQ(e.edits, 1u);
  EXPECT_DOUBLE_EQ(e.per_pct(), 50.0);
  EXPECT_NEAR(e.frame_error_pct(), 100.0 * 2 / 6, 1e-12);
}
