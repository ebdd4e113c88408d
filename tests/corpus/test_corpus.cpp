// The corpus generator: the phone table (no default entry, accent overrides), the grammar, the filterbank against
// an independent naive-DFT reference, and tiny corpora generated end to end (byte-identical per seed, every frame
// labelled with one of the 39 phones, every phoneme espeak emits for the vocabulary mapped).
#include <gtest/gtest.h>

#include <unistd.h>
#include <algorithm>
#include <cmath>
#include <complex>
#include <filesystem>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "core/alignment.hpp"
#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/kaldi_io.hpp"
#include "core/model.hpp"
#include "core/npy.hpp"
#include "core/rng.hpp"
#include "scripts/corpus/corpus.hpp"
#include "scripts/corpus/corpus_cli.hpp"
#include "scripts/corpus/fbank.hpp"
#include "scripts/corpus/grammar.hpp"
#include "scripts/corpus/phone_map.hpp"

namespace fs = std::filesystem;
using namespace circa::corpus;
using circa::InputError;
using circa::Matrix;

namespace {

const std::string kTable = std::string(CIRCA_SOURCE_DIR) + "/scripts/corpus/espeak_to_timit.txt";
const std::string kGrammar = std::string(CIRCA_SOURCE_DIR) + "/scripts/corpus/grammar.txt";

fs::path fresh_dir(const std::string& name) {
  fs::path d = fs::path(::testing::TempDir()) / ("circa_corpus_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  } catch (const std::exception& e) {
    return std::string("<not an InputError: ") + e.what() + ">";
  }
  return "<no exception>";
}

// Two accents x two variants: one test speaker, one train speaker (train needs a pair of its own), two utterances
// each. About a second to generate.
CorpusOptions tiny_options(std::uint64_t seed) {
  CorpusOptions o;
  o.seed = seed;
  o.speakers[kTrain] = 1;
  o.speakers[kDev] = 0;
  o.dev_own_speakers = 0;
  o.speakers[kTest] = 1;
  o.utts_per_speaker[kTrain] = o.utts_per_speaker[kDev] = o.utts_per_speaker[kTest] = 2;
  o.accents = {"en-us", "en-gb"};
  o.variants = {"m3", "f2"};
  o.jobs = 2;
  o.grammar_path = kGrammar;
  o.phone_map_path = kTable;
  return o;
}

}  // namespace

// ---------------------------------------------------------------------------------------------------- phone table

TEST(PhoneMap, Timit61FoldsOntoAll39) {
  const auto& p61 = timit61_phones();
  EXPECT_EQ(p61.size(), 61u);
  EXPECT_EQ(std::set<std::string>(p61.begin(), p61.end()).size(), 61u);
  std::set<int> reached;
  for (const auto& p : p61) {
    const int c = fold_to_39(p);
    ASSERT_GE(c, 0);
    ASSERT_LT(c, 39);
    reached.insert(c);
  }
  EXPECT_EQ(reached.size(), 39u);
  const auto& p39 = circa::timit39_phones();
  EXPECT_EQ(p39[static_cast<std::size_t>(fold_to_39("axr"))], "er");
  EXPECT_EQ(p39[static_cast<std::size_t>(fold_to_39("zh"))], "sh");
  EXPECT_EQ(p39[static_cast<std::size_t>(fold_to_39("pau"))], "sil");
  EXPECT_EQ(p39[static_cast<std::size_t>(fold_to_39("q"))], "sil");
  EXPECT_EQ(p39[static_cast<std::size_t>(fold_to_39("ux"))], "uw");
  EXPECT_THROW(fold_to_39("sil"), std::out_of_range);  // a 39 class, not a TIMIT-61 phone
}

TEST(PhoneMap, UnmappedPhonemeIsAnErrorNamingPhonemeAndUtterance) {
  const PhoneMap map = PhoneMap::load(kTable);
  const std::string msg = error_of([&] { map.lookup("en-us", "Qx9", "en-us_m3_0_007"); });
  EXPECT_NE(msg.find("unmapped espeak phoneme 'Qx9'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("en-us_m3_0_007"), std::string::npos) << msg;
  EXPECT_FALSE(map.has("en-us", "Qx9"));

  // The same through the labeller, in the middle of real phonemes.
  const std::vector<PhonemeEvent> ev = {{"h", 100}, {"Qx9", 900}, {"l", 1500}};
  const std::string msg2 = error_of([&] { label_segments(ev, 3000, map, "en-gb", "utt_x"); });
  EXPECT_NE(msg2.find("'Qx9'"), std::string::npos) << msg2;
  EXPECT_NE(msg2.find("utt_x"), std::string::npos) << msg2;
}

TEST(PhoneMap, AccentSectionsOverrideTheCommonOne) {
  const PhoneMap map = PhoneMap::load(kTable);
  EXPECT_EQ(map.lookup("en-us", "3", "u").timit, std::vector<std::string>({"axr"}));  // [ɚ]
  EXPECT_EQ(map.lookup("en-gb", "3", "u").timit, std::vector<std::string>({"ax"}));   // [ə]
  EXPECT_EQ(map.lookup("en-us", "A@", "u").timit, std::vector<std::string>({"aa", "r"}));
  EXPECT_EQ(map.lookup("en-gb", "A@", "u").timit, std::vector<std::string>({"aa"}));
  EXPECT_EQ(map.lookup("en-gb", "aI", "u").timit, std::vector<std::string>({"ay"}));
  EXPECT_EQ(map.lookup("en-gb", "_:", "u").timit, std::vector<std::string>({"pau"}));
  EXPECT_EQ(map.lookup("en-gb-scotland", ";", "u").timit, std::vector<std::string>({"y"}));
  // Stress marks are not part of the name.
  EXPECT_EQ(map.lookup("en-us", "'aI", "u").timit, std::vector<std::string>({"ay"}));
  EXPECT_EQ(strip_marks(",aU"), "aU");
  EXPECT_EQ(strip_marks(","), ",");
}

TEST(PhoneMap, TableErrorsNameTheLine) {
  auto err = [](const std::string& text) { return error_of([&] { PhoneMap::parse(text, "t.txt"); }); };
  EXPECT_EQ(err("[*]\np p\naI xx\n"), "t.txt: line 3: 'xx' is not a TIMIT-61 phone");
  EXPECT_EQ(err("p p\n"), "t.txt: line 1: an entry before the first section header ('[*]')");
  EXPECT_EQ(err("[*]\np p\np b\n"), "t.txt: line 3: 'p' is already mapped in [*] on line 2");
  EXPECT_EQ(err("[*]\naI ay ax r\n"), "t.txt: line 2: 'aI' needs one or two TIMIT phones, or '-' alone");
  EXPECT_EQ(err("[en-us]\np p\n"), "t.txt: no '[*]' section");
  // '#' inside a mnemonic is part of it; after a space it starts a comment.
  const PhoneMap m = PhoneMap::parse("[*]\nt#  dx  # flap\n", "t.txt");
  EXPECT_EQ(m.lookup("en-us", "t#", "u").timit, std::vector<std::string>({"dx"}));
}

// ---------------------------------------------------------------------------------------------------- grammar

TEST(Grammar, SentencesAreDeterministicBySeed) {
  const Grammar g = Grammar::load(kGrammar);
  auto draw = [&](std::uint64_t seed) {
    circa::Rng r(seed);
    std::vector<std::string> s;
    for (int i = 0; i < 20; ++i) s.push_back(g.sentence(r));
    return s;
  };
  EXPECT_EQ(draw(5), draw(5));
  EXPECT_NE(draw(5), draw(6));
  circa::Rng r(1);
  const std::string s = g.sentence(r);
  ASSERT_FALSE(s.empty());
  EXPECT_TRUE(std::isupper(static_cast<unsigned char>(s[0]))) << s;
  EXPECT_TRUE(s.back() == '.' || s.back() == '?') << s;
  EXPECT_GT(g.vocabulary().size(), 800u);
}

TEST(Grammar, ErrorsNameTheLine) {
  auto err = [](const std::string& text) { return error_of([&] { Grammar::parse(text, "g.txt"); }); };
  EXPECT_EQ(err("<s> = a <np> .\n"), "g.txt: line 1: rule <np> is not defined");
  EXPECT_EQ(err("<x> = a\n"), "g.txt: no start rule <s>");
  EXPECT_EQ(err("<s> = a | | b\n"), "g.txt: line 1: empty alternative");
  EXPECT_EQ(err("<s> = a\n<s> = b\n"), "g.txt: line 2: rule <s> is already defined on line 1");
  EXPECT_EQ(err("<s> = Hello\n"), "g.txt: line 1: word 'Hello': words are lower-case letters, ' and -");
  EXPECT_EQ(err("| a\n"), "g.txt: line 1: a continuation line ('|') before any rule");
  circa::Rng r(1);
  EXPECT_NE(error_of([&] { Grammar::parse("<s> = a <s>\n", "g.txt").sentence(r); }).find("deeper than"),
            std::string::npos);
}

// ---------------------------------------------------------------------------------------------------- labels

TEST(Labels, SegmentsFromEvents) {
  const PhoneMap map = PhoneMap::parse("[*]\nh hh\n_: pau\n~ -\n[en-us]\naI3 ay axr\n", "t.txt");
  // 0..100 before the first event is h#; aI3 in en-us is "ay axr", split in half; "~" (a "-" entry) extends the
  // phone before it.
  const std::vector<PhonemeEvent> ev = {{"h", 100}, {"aI3", 300}, {"~", 700}, {"_:", 800}};
  const auto s = label_segments(ev, 1000, map, "en-us", "u");
  ASSERT_EQ(s.size(), 5u);
  EXPECT_EQ(s[0].phone, "h#");
  EXPECT_EQ(s[0].end, 100);
  EXPECT_EQ(s[1].phone, "hh");
  EXPECT_EQ(s[2].phone, "ay");
  EXPECT_EQ(s[2].begin, 300);
  EXPECT_EQ(s[2].end, 500);
  EXPECT_EQ(s[3].phone, "axr");
  EXPECT_EQ(s[3].begin, 500);
  EXPECT_EQ(s[3].end, 800);  // its own 500..700 plus the modifier's 700..800
  EXPECT_EQ(s[4].phone, "pau");
  EXPECT_EQ(s[4].end, 1000);
  // A leading modifier has no phone before it: its stretch goes to the next one.
  const auto s2 = label_segments({{"~", 50}, {"h", 100}}, 400, map, "en-us", "u");
  ASSERT_EQ(s2.size(), 2u);
  EXPECT_EQ(s2[0].phone, "h#");
  EXPECT_EQ(s2[0].end, 50);
  EXPECT_EQ(s2[1].phone, "hh");
  EXPECT_EQ(s2[1].begin, 50);
  EXPECT_EQ(s2[1].end, 400);

  // Frame t is labelled by the segment under its centre sample, t * 160 + 200.
  const std::vector<Segment> segs = {{"h#", 0, 450}, {"s", 450, 650}, {"iy", 650, 1400}};
  FbankOptions o;
  const auto l = frame_labels(segs, 6, o);
  const auto& p39 = circa::timit39_phones();
  std::vector<std::string> names;
  for (int x : l) names.push_back(p39[static_cast<std::size_t>(x)]);
  // centres 200, 360, 520, 680, 840, 1000
  EXPECT_EQ(names, std::vector<std::string>({"sil", "sil", "s", "iy", "iy", "iy"}));

  // PER reference: collapse repeats, then drop sil.
  const int sil = 0, a = fold_to_39("aa"), b = fold_to_39("b");
  EXPECT_EQ(reference_phones({sil, a, a, sil, a, b, b, sil}), 3u);
}

// ---------------------------------------------------------------------------------------------------- features

TEST(Fbank, FrameCountIsWholeFramesOnly) {
  FbankOptions o;
  EXPECT_EQ(num_frames(0, o), 0u);
  EXPECT_EQ(num_frames(399, o), 0u);
  EXPECT_EQ(num_frames(400, o), 1u);
  EXPECT_EQ(num_frames(559, o), 1u);
  EXPECT_EQ(num_frames(560, o), 2u);
  EXPECT_EQ(num_frames(16000, o), 98u);  // (16000 - 400) / 160 + 1
  const Fbank fb(o);
  EXPECT_EQ(fb.compute(std::vector<float>(16000, 1.0f)).rows, 98u);
  EXPECT_EQ(fb.compute(std::vector<float>(16000, 1.0f)).cols, 51u);
}

TEST(Fbank, FftMatchesNaiveDft) {
  circa::Rng r(3);
  std::vector<std::complex<double>> x(512);
  for (auto& v : x) v = {r.uniform(-1, 1), r.uniform(-1, 1)};
  std::vector<std::complex<double>> y = x;
  fft_inplace(y);
  double worst = 0.0;
  for (std::size_t k = 0; k < x.size(); ++k) {
    std::complex<double> acc = 0.0;
    for (std::size_t n = 0; n < x.size(); ++n)
      acc += x[n] * std::polar(1.0, -2.0 * M_PI * static_cast<double>(k * n % 512) / 512.0);
    worst = std::max(worst, std::abs(acc - y[k]));
  }
  EXPECT_LT(worst, 1e-9);
}

// An independent reference for one frame: naive DFT, filters written from the HTK book's definitions.
TEST(Fbank, MatchesAnIndependentReference) {
  const int M = 50, N = 400, K = 512, fs = 16000;
  auto mel = [](double f) { return 1127.0 * std::log(1.0 + f / 700.0); };
  circa::Rng r(11);
  std::vector<float> wave(N);
  for (auto& v : wave) v = static_cast<float>(r.normal() * 1000.0);
  const Fbank fb(FbankOptions{});
  const Matrix got = fb.compute(wave);
  ASSERT_EQ(got.rows, 1u);
  ASSERT_EQ(got.cols, 51u);

  std::vector<double> x(wave.begin(), wave.end());
  double mean = 0;
  for (double v : x) mean += v;
  mean /= N;
  double energy = 0;
  for (auto& v : x) {
    v -= mean;
    energy += v * v;
  }
  std::vector<double> y(N);
  for (int n = 0; n < N; ++n)
    y[n] = (x[n] - 0.97 * (n ? x[n - 1] : x[0])) * (0.54 - 0.46 * std::cos(2 * M_PI * n / (N - 1)));
  std::vector<double> power(K / 2 + 1);
  for (int k = 0; k <= K / 2; ++k) {
    std::complex<double> acc = 0;
    for (int n = 0; n < N; ++n) acc += y[n] * std::polar(1.0, -2 * M_PI * k * n / K);
    power[k] = std::norm(acc);
  }
  EXPECT_NEAR(got.at(0, 0), std::log(energy), 1e-4);
  const double lo = mel(64), hi = mel(8000), step = (hi - lo) / (M + 1);
  for (int m = 0; m < M; ++m) {
    double e = 0;
    for (int k = 0; k <= K / 2; ++k) {
      const double f = mel(static_cast<double>(k) * fs / K);
      const double a = lo + m * step, c = a + step, b = c + step;
      const double w = (f > a && f < c) ? (f - a) / step : (f >= c && f < b) ? (b - f) / step : 0.0;
      e += w * power[k];
    }
    EXPECT_NEAR(got.at(0, static_cast<std::size_t>(m + 1)), std::log(e), 2e-4) << "mel " << m;
  }
}

TEST(Fbank, SineLandsInTheNearestMelBand) {
  const Fbank fb(FbankOptions{});
  for (double f0 : {300.0, 1000.0, 2500.0, 6000.0}) {
    std::vector<float> wave(4000);
    for (std::size_t i = 0; i < wave.size(); ++i)
      wave[i] = static_cast<float>(8000.0 * std::sin(2 * M_PI * f0 * static_cast<double>(i) / 16000.0));
    const Matrix m = fb.compute(wave);
    // The expected band from the HTK formula alone: the filter whose centre is nearest to f0 on the mel scale.
    auto mel = [](double f) { return 1127.0 * std::log(1.0 + f / 700.0); };
    const double lo = mel(64), hi = mel(8000);
    int expect = 0;
    double best = 1e30;
    for (int k = 0; k < 50; ++k) {
      const double d = std::abs(lo + (k + 1) * (hi - lo) / 51 - mel(f0));
      if (d < best) best = d, expect = k;
    }
    for (std::size_t t = 0; t < m.rows; ++t) {
      int arg = 0;
      for (int k = 1; k < 50; ++k)
        if (m.at(t, static_cast<std::size_t>(k + 1)) > m.at(t, static_cast<std::size_t>(arg + 1))) arg = k;
      ASSERT_EQ(arg, expect) << f0 << " Hz, frame " << t;
      // A sine's energy over 400 samples: 400 * A^2 / 2 (the DC removal and the partial period change it little).
      EXPECT_NEAR(m.at(t, 0), std::log(400.0 * 8000.0 * 8000.0 / 2.0), 0.05) << f0 << " Hz";
    }
  }
}

TEST(Fbank, DeltasFollowHtk) {
  Matrix c(10, 1);
  for (std::size_t t = 0; t < 10; ++t) c.at(t, 0) = static_cast<float>(t);
  const Matrix d = add_deltas(c, 2);
  ASSERT_EQ(d.cols, 3u);
  // Interior: (1 * 2 + 2 * 4) / 10 = 1 for a unit ramp. Edge t = 0 replicates c_0: (1 * 1 + 2 * 2) / 10 = 0.5.
  for (std::size_t t = 2; t < 8; ++t) EXPECT_FLOAT_EQ(d.at(t, 1), 1.0f) << t;
  EXPECT_FLOAT_EQ(d.at(0, 1), 0.5f);
  EXPECT_FLOAT_EQ(d.at(1, 1), 0.8f);  // (1 * (2 - 0) + 2 * (3 - 0)) / 10
  for (std::size_t t = 4; t < 6; ++t) EXPECT_FLOAT_EQ(d.at(t, 2), 0.0f) << t;
  EXPECT_FLOAT_EQ(d.at(0, 0), 0.0f);
}

TEST(Fbank, TooManyMelsIsAnError) {
  FbankOptions o;
  o.num_mels = 200;  // the lowest filters would fall between FFT bins
  EXPECT_NE(error_of([&] { Fbank f(o); }).find("covers no FFT bin"), std::string::npos);
}

// ---------------------------------------------------------------------------------------------------- corpora

TEST(Corpus, SpeakersAreDisjointAcrossSplits) {
  CorpusOptions o;
  const auto spk = plan_speakers(o);
  std::set<std::string> held[3];
  std::set<std::string> ids;
  for (const auto& s : spk) {
    held[s.split].insert(s.accent + "+" + s.voice.variant);
    ids.insert(s.id);
  }
  EXPECT_EQ(ids.size(), spk.size());
  EXPECT_EQ(held[kTest].size(), static_cast<std::size_t>(o.speakers[kTest]));  // one voice each
  for (const auto& v : held[kTest]) {
    EXPECT_FALSE(held[kTrain].count(v)) << v;
    EXPECT_FALSE(held[kDev].count(v)) << v;
  }
  for (const auto& v : held[kDev]) EXPECT_FALSE(held[kTrain].count(v)) << v;
  // Round-robin over the accents: the 24 default test speakers are 3 per accent.
  std::map<std::string, int> per_accent;
  for (const auto& s : spk)
    if (s.split == kTest) ++per_accent[s.accent];
  for (const auto& [a, n] : per_accent) EXPECT_EQ(n, 3) << a;

  o.speakers[kTest] = 90;
  EXPECT_NE(error_of([&] { plan_speakers(o); }).find("must be fewer than accents x variants"), std::string::npos);
}

// The dev split's own speakers (dev_own_speakers on dev_variants) add voices no other split has and leave every
// train and test speaker exactly as it was without them: that is what keeps the train and test files byte for byte.
TEST(Corpus, DevSpeakersOfTheirOwnChangeNoTrainOrTestSpeaker) {
  CorpusOptions with;
  CorpusOptions without = with;
  without.dev_own_speakers = 0;
  const auto a = plan_speakers(with), b = plan_speakers(without);
  auto key = [](const Speaker& s) {
    return s.id + " " + split_name(s.split) + " " + s.voice.espeak_name + "+" + s.voice.variant + " " +
           std::to_string(s.voice.rate) + " " + std::to_string(s.voice.pitch) + " " + std::to_string(s.voice.range) +
           " " + std::to_string(s.gain_db);
  };
  std::vector<std::string> held_a, held_b;
  for (const auto& s : a)
    if (s.split != kDev || std::find(with.dev_variants.begin(), with.dev_variants.end(), s.voice.variant) ==
                               with.dev_variants.end())
      held_a.push_back(key(s));
  for (const auto& s : b) held_b.push_back(key(s));
  EXPECT_EQ(held_a, held_b);
  std::set<std::string> own, elsewhere;
  int dev = 0;
  for (const auto& s : a) {
    dev += s.split == kDev;
    const bool is_own = std::find(with.dev_variants.begin(), with.dev_variants.end(), s.voice.variant) !=
                        with.dev_variants.end();
    (is_own ? own : elsewhere).insert(s.voice.variant);
    if (is_own) {
      EXPECT_EQ(s.split, kDev) << s.id;
    }
  }
  EXPECT_EQ(dev, with.speakers[kDev] + with.dev_own_speakers);  // 8 + 16 by default
  EXPECT_EQ(own.size(), with.dev_variants.size());
  for (const auto& v : own) EXPECT_FALSE(elsewhere.count(v)) << v;

  CorpusOptions bad;
  bad.dev_variants.push_back("m1");
  EXPECT_NE(error_of([&] { plan_speakers(bad); }).find("variant 'm1' is listed twice"), std::string::npos);
  bad = CorpusOptions();
  bad.dev_own_speakers = 49;  // 8 accents x 6 dev variants
  EXPECT_NE(error_of([&] { plan_speakers(bad); }).find("must not exceed accents x dev variants (48)"),
            std::string::npos);
}

TEST(Corpus, SameSeedGivesByteIdenticalFiles) {
  const fs::path a = fresh_dir("seed_a"), b = fresh_dir("seed_b"), c = fresh_dir("seed_c"), d = fresh_dir("seed_d");
  CorpusOptions o = tiny_options(7);
  write_corpus(generate_corpus(o), o, a.string());
  o.jobs = 1;  // a different worker count and completion order must not matter either
  write_corpus(generate_corpus(o), o, b.string());
  for (const char* f : {"train.ark", "train.scp", "train.ali", "test.ark", "test.ali", "test.text", "cmvn.npy",
                        "speakers.txt", "corpus.json"}) {
    SCOPED_TRACE(f);
    const std::string x = circa::read_file((a / f).string());
    EXPECT_FALSE(x.empty());
    EXPECT_TRUE(x == circa::read_file((b / f).string()));
  }
  CorpusOptions o2 = tiny_options(8);
  write_corpus(generate_corpus(o2), o2, c.string());
  EXPECT_FALSE(circa::read_file((a / "train.ark").string()) == circa::read_file((c / "train.ark").string()));
  EXPECT_FALSE(circa::read_file((a / "test.ark").string()) == circa::read_file((c / "test.ark").string()));

  // Same seed with noise: deterministic too, and different from the clean corpus.
  CorpusOptions o3 = tiny_options(7);
  o3.snr_db = 10.0;
  write_corpus(generate_corpus(o3), o3, d.string());
  EXPECT_FALSE(circa::read_file((a / "train.ark").string()) == circa::read_file((d / "train.ark").string()));
  EXPECT_TRUE(circa::read_file((a / "train.ali").string()) == circa::read_file((d / "train.ali").string()));
  for (const auto& p : {a, b, c, d}) fs::remove_all(p);
}

TEST(Corpus, EveryFrameIsLabelledWithOneOf39AndMatchesTheFeatures) {
  const fs::path dir = fresh_dir("labels");
  CorpusOptions o = tiny_options(3);
  o.accents = {"en-us", "en-gb-scotland"};
  const Corpus c = generate_corpus(o);
  write_corpus(c, o, dir.string());
  const auto& p39 = circa::timit39_phones();
  for (int s : {kTrain, kTest}) {
    const std::string name = split_name(s);
    SCOPED_TRACE(name);
    ASSERT_EQ(c.feats[s].size(), 2u);
    for (std::size_t i = 0; i < c.feats[s].size(); ++i) {
      const auto& m = c.feats[s][i].mat;
      EXPECT_EQ(m.cols, 153u);
      EXPECT_EQ(m.rows, num_frames(c.info[s][i].samples, o.fbank));  // floor((n - 400) / 160) + 1
      EXPECT_EQ(c.info[s][i].labels.size(), m.rows);
      EXPECT_GT(m.rows, 100u);  // a sentence is seconds long
      // Silence at both ends (TIMIT's h#), speech in between.
      EXPECT_EQ(p39[static_cast<std::size_t>(c.info[s][i].labels.front())], "sil");
      EXPECT_EQ(p39[static_cast<std::size_t>(c.info[s][i].labels.back())], "sil");
      EXPECT_GT(reference_phones(c.info[s][i].labels), 10u);
    }
    // The files as a user reads them: names from the 39 set only, frame counts equal to the features'.
    const auto ali = circa::read_alignment((dir / (name + ".ali")).string(), p39);
    const auto utts = circa::load_scp((dir / (name + ".scp")).string());
    EXPECT_NO_THROW(circa::match_alignment(ali, utts, (dir / (name + ".ali")).string()));
    ASSERT_EQ(utts.size(), 2u);
    EXPECT_EQ(utts[0].mat.data, c.feats[s][0].mat.data);
  }
  // CMVN from train: normalised train features have mean 0 and standard deviation 1 in every dimension.
  const Matrix cmvn = circa::read_npy((dir / "cmvn.npy").string());
  ASSERT_EQ(cmvn.rows, 2u);
  ASSERT_EQ(cmvn.cols, 153u);
  for (std::size_t d = 0; d < 153; d += 17) {
    double s1 = 0, s2 = 0, n = 0;
    for (const auto& u : c.feats[kTrain])
      for (std::size_t t = 0; t < u.mat.rows; ++t) {
        const double z = (u.mat.at(t, d) - cmvn.at(0, d)) * cmvn.at(1, d);
        s1 += z;
        s2 += z * z;
        ++n;
      }
    EXPECT_NEAR(s1 / n, 0.0, 1e-3) << d;
    EXPECT_NEAR(s2 / n, 1.0, 1e-3) << d;
  }
  const std::string phones = circa::read_file((dir / "phones.txt").string());
  EXPECT_EQ(phones.rfind("sil 0\naa 1\n", 0), 0u);
  fs::remove_all(dir);
}

// The generator stops on an unmapped phoneme, naming it and the utterance (the error comes from a worker process).
TEST(Corpus, UnmappedPhonemeStopsTheGenerator) {
  const fs::path dir = fresh_dir("unmapped");
  std::string table = circa::read_file(kTable);
  const auto at = table.find("\nn       n\n");
  ASSERT_NE(at, std::string::npos);
  table.erase(at, 10);
  circa::write_file_atomic((dir / "table.txt").string(), table);
  CorpusOptions o = tiny_options(7);
  o.phone_map_path = (dir / "table.txt").string();
  const std::string msg = error_of([&] { generate_corpus(o); });
  EXPECT_NE(msg.find("unmapped espeak phoneme 'n'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("in utterance en-"), std::string::npos) << msg;
  fs::remove_all(dir);
}

TEST(Corpus, FortyMelsGive123Dims) {
  CorpusOptions o = tiny_options(4);
  o.fbank.num_mels = 40;
  o.utts_per_speaker[kTrain] = o.utts_per_speaker[kTest] = 1;
  const Corpus c = generate_corpus(o);
  ASSERT_EQ(c.feats[kTrain].size(), 1u);
  EXPECT_EQ(c.feats[kTrain][0].mat.cols, 123u);
  EXPECT_EQ(c.cmvn.cols, 123u);
}

// Every phoneme espeak emits for the whole vocabulary, in every accent circa uses, is in the table.
TEST(Corpus, TableCoversEveryPhonemeOfTheVocabularyInEveryAccent) {
  const Grammar g = Grammar::load(kGrammar);
  const PhoneMap map = PhoneMap::load(kTable);
  const auto rows = phoneme_inventory(default_accents(), inventory_text(g, 40), 2);
  std::set<std::string> accents;
  std::size_t events = 0;
  for (const auto& row : rows) {
    accents.insert(row.accent);
    events += row.count;
    EXPECT_TRUE(map.has(row.accent, row.mnemonic)) << "accent " << row.accent << ": espeak phoneme '" << row.mnemonic
                                                   << "' x" << row.count << " is not in " << kTable;
  }
  EXPECT_EQ(accents.size(), default_accents().size());
  EXPECT_GT(events, 8u * 6000u);
}

// The scan above uses each accent's base voice at the default rate. That covers every speaker because variants
// (formants, pitch) and rate change how phonemes sound and last, not which ones espeak picks.
TEST(Corpus, VariantAndRateDoNotChangeThePhonemes) {
  const Grammar g = Grammar::load(kGrammar);
  circa::Rng r(5);
  std::string text;
  for (int i = 0; i < 6; ++i) text += g.sentence(r) + " ";
  for (const char* accent : {"en-us", "en-gb-scotland"}) {
    VoiceSpec a, b;
    a.espeak_name = b.espeak_name = find_accent(accent).espeak_name;
    a.variant = "m1";
    a.rate = 145;
    a.pitch = 30;
    b.variant = "f5";
    b.rate = 205;
    b.pitch = 70;
    const auto pa = phoneme_sequence(a, text), pb = phoneme_sequence(b, text);
    EXPECT_GT(pa.size(), 100u);
    EXPECT_EQ(pa, pb) << accent;
  }
}

// ---------------------------------------------------------------------------------------------------- CLI

TEST(CorpusCli, BadOptionsExitWithTwoAndOneLine) {
  const fs::path dir = fresh_dir("cli");
  // Should a bad option ever be accepted, the run stays tiny and in a temporary folder instead of generating the
  // default corpus: every option the case does not set gets a small value (an option given twice would itself be an
  // error, so the case's own options are left alone).
  const std::vector<std::pair<std::string, std::string>> guard = {
      {"--out", (dir / "out").string()}, {"--speakers-train", "1"},   {"--speakers-dev", "0"},
      {"--speakers-test", "1"},          {"--utts-per-speaker", "1"}, {"--accents", "en-us"},
      {"--speakers-dev-own", "0"}};
  auto run = [&](std::vector<std::string> args) {
    for (const auto& [opt, val] : guard)
      if (std::find(args.begin(), args.end(), opt) == args.end()) args.insert(args.end(), {opt, val});
    args.insert(args.begin(), "circa-corpus");
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    ::testing::internal::CaptureStderr();
    const int rc = corpus_cli_main(static_cast<int>(argv.size()), argv.data());
    const std::string err = ::testing::internal::GetCapturedStderr();
    EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
    EXPECT_EQ(err.rfind("circa-corpus: ", 0), 0u) << err;
    return rc;
  };
  EXPECT_EQ(run({"--no-such-option"}), 2);
  EXPECT_EQ(run({"--mels", "zero"}), 2);
  EXPECT_EQ(run({"--mels", "0"}), 2);
  EXPECT_EQ(run({"--accents", "en-us,xx-yy"}), 2);
  EXPECT_EQ(run({"--variants", "m1,zz9"}), 2);  // espeak silently ignores an unknown variant; we do not
  EXPECT_EQ(run({"--speakers-test", "500"}), 2);
  EXPECT_EQ(run({"--speakers-train", "0"}), 2);
  EXPECT_EQ(run({"--utts-per-speaker", "0"}), 2);
  EXPECT_EQ(run({"--jobs", "0"}), 2);
  EXPECT_EQ(run({"--phone-map", "/nonexistent/table.txt"}), 2);
  EXPECT_EQ(run({"--speakers-dev-own", "7"}), 2);      // one accent x 6 dev variants
  EXPECT_EQ(run({"--dev-variants", "croak,m1"}), 2);    // m1 is a train voice
  EXPECT_EQ(run({"--speakers-dev-own", "-1"}), 2);
  EXPECT_EQ(run({"stray"}), 2);
  EXPECT_FALSE(fs::exists(dir / "out"));  // nothing written on failure
  fs::remove_all(dir);
}
