// circa-corpus: the TIMIT-style corpus. Speakers are espeak-ng accents x voice variants with their own rate, pitch
// and level; sentences come from our grammar; every utterance is synthesised in its own process, resampled to
// 16 kHz, optionally mixed with noise, turned into log-mel + energy + Δ + ΔΔ features, and labelled per frame with
// the 39 folded TIMIT phones from espeak's phoneme events. See docs/corpus.md.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/matrix.hpp"
#include "scripts/corpus/espeak_synth.hpp"
#include "scripts/corpus/fbank.hpp"
#include "scripts/corpus/grammar.hpp"
#include "scripts/corpus/phone_map.hpp"

namespace circa::corpus {

// An espeak accent as circa names it, and espeak-ng's voice name for it.
struct Accent {
  std::string name;
  std::string espeak_name;
};
const std::vector<Accent>& known_accents();
const Accent& find_accent(const std::string& name);  // throws InputError listing the known names

std::vector<std::string> default_accents();
std::vector<std::string> default_variants();
std::vector<std::string> default_dev_variants();

enum Split { kTrain = 0, kDev = 1, kTest = 2 };
const char* split_name(int split);

struct CorpusOptions {
  std::uint64_t seed = 1;
  int speakers[3] = {192, 8, 24};  // train, dev, test
  int utts_per_speaker[3] = {20, 25, 14};
  std::vector<std::string> accents = default_accents();
  std::vector<std::string> variants = default_variants();
  // Dev speakers beyond speakers[kDev] with voices no other split has: accent x dev_variants pairs, dealt like the
  // shared ones from a stream of their own, so adding them changes no train or test speaker, sentence or signal.
  int dev_own_speakers = 16;
  std::vector<std::string> dev_variants = default_dev_variants();
  std::optional<double> snr_db;  // white noise at this SNR over the speech samples; none = clean
  double dither = 1.0;           // Gaussian, 16-bit scale, as Kaldi's default
  FbankOptions fbank;
  int jobs = 2;
  // Sentence source: the grammar, unless `sentences` is non-empty (then each utterance draws one of them).
  std::string grammar_path;
  std::vector<std::string> sentences;
  std::string phone_map_path;
};

struct Speaker {
  std::string id;  // "<accent>_<variant>_<k>", k numbering the speakers that share an accent and variant
  int split = kTrain;
  std::string accent;
  VoiceSpec voice;
  double gain_db = 0.0;
};

// Assigns accent x variant pairs to speakers: test and dev speakers each get a pair of their own, train speakers
// share the remaining pairs (with different rate/pitch/range/level). Pairs are taken round-robin over the accents,
// so every split sees every accent when it has enough speakers. Throws InputError when test + dev speakers need
// more pairs than exist, or train would get none. Then dev_own_speakers dev speakers on accent x dev_variants pairs
// (variants that must not be in `variants`), in their own seed-dependent order.
std::vector<Speaker> plan_speakers(const CorpusOptions& o);

// A (split, speaker, utterance) seed: splitmix64(seed ^ fnv1a64(label)), so an utterance's sentence and signal do
// not depend on how many others are generated or in which order.
std::uint64_t derive_seed(std::uint64_t seed, const std::string& label);

// One labelled phone segment, in samples at some rate, TIMIT-61 name.
struct Segment {
  std::string phone;
  std::int64_t begin = 0, end = 0;
};

// espeak phoneme events -> TIMIT-61 segments covering [0, total): the stretch before the first event is h#, each
// event lasts until the next one (the last until `total`), two-phone entries split their stretch in half, and "-"
// entries extend the previous phone (the next one after a silence or at the start). Unmapped phonemes throw InputError
// naming the phoneme and `utt`.
std::vector<Segment> label_segments(const std::vector<PhonemeEvent>& events, std::int64_t total, const PhoneMap& map,
                                    const std::string& accent, const std::string& utt);

// Per-frame 39-class labels: frame t takes the segment holding its centre sample (t * shift + length / 2).
std::vector<int> frame_labels(const std::vector<Segment>& segs, std::size_t frames, const FbankOptions& o);

// Reference phones in PER's sense: collapse repeats, then drop sil.
std::size_t reference_phones(const std::vector<int>& labels);

// What the alignment, transcript and statistics need of an utterance; its features live in Corpus::feats.
struct UtteranceInfo {
  std::string speaker;
  std::string text;
  std::vector<int> labels;  // one index into timit39_phones() per frame
  std::size_t samples = 0;  // at 16 kHz, padding included
};

struct SplitStats {
  std::size_t speakers = 0, utterances = 0, frames = 0, samples = 0, phones = 0;
  double hours() const { return static_cast<double>(samples) / 16000.0 / 3600.0; }
};

struct Corpus {
  std::vector<Speaker> speakers;
  std::vector<Utterance> feats[3];  // per split; frames x 3 * (num_mels + 1), raw (not normalised)
  std::vector<UtteranceInfo> info[3];
  SplitStats stats[3];
  Matrix cmvn;  // 2 x dim: mean, inv_std over the train frames
};

// Progress: (done, total) after each utterance.
using Progress = std::function<void(std::size_t, std::size_t)>;

Corpus generate_corpus(const CorpusOptions& o, const Progress& progress = nullptr);

// Writes <dir>/{train,dev,test}.{ark,scp,ali,text,utt2spk}, phones.txt, speakers.txt, cmvn.npy and corpus.json,
// each atomically; creates `dir` if needed.
void write_corpus(const Corpus& c, const CorpusOptions& o, const std::string& dir);

// Every (accent, mnemonic) espeak emits for `text` with the base voice at espeak's default rate, and its count.
// With `ipa`, a second synthesis per accent reports IPA names, paired with the mnemonics in order (the table's
// evidence; ipa is empty otherwise). Voice variants and rate do not change the phonemes, only how they sound.
struct InventoryRow {
  std::string accent, mnemonic, ipa;
  std::size_t count = 0;
};
std::vector<InventoryRow> phoneme_inventory(const std::vector<std::string>& accents, const std::string& text, int jobs,
                                            bool ipa = false);

// The text the inventory reads: the whole vocabulary in groups of twelve words, each group read as a sentence (so
// words also meet their neighbours, as in connected speech), then `sentences` grammar sentences.
std::string inventory_text(const Grammar& g, int sentences);

// The mnemonic sequence espeak reports for `text` with `voice` (one fresh process).
std::vector<std::string> phoneme_sequence(const VoiceSpec& voice, const std::string& text);

}  // namespace circa::corpus
