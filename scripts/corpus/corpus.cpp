#include "scripts/corpus/corpus.hpp"

#include <espeak-ng/speak_lib.h>
#include <samplerate.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/kaldi_io.hpp"
#include "core/model.hpp"
#include "core/npy.hpp"
#include "core/rng.hpp"

namespace circa::corpus {

const std::vector<Accent>& known_accents() {
  // espeak-ng 1.51 has no voice named "en-gb": its British English voice is "en".
  static const std::vector<Accent> accents = {{"en-us", "en-us"},
                                              {"en-gb", "en"},
                                              {"en-gb-scotland", "en-gb-scotland"},
                                              {"en-gb-x-rp", "en-gb-x-rp"},
                                              {"en-gb-x-gbclan", "en-gb-x-gbclan"},
                                              {"en-gb-x-gbcwmd", "en-gb-x-gbcwmd"},
                                              {"en-us-nyc", "en-us-nyc"},
                                              {"en-029", "en-029"}};
  return accents;
}

const Accent& find_accent(const std::string& name) {
  std::string known;
  for (const auto& a : known_accents()) {
    if (a.name == name) return a;
    known += (known.empty() ? "" : ", ") + a.name;
  }
  throw InputError("unknown accent '" + name + "' (known: " + known + ")");
}

std::vector<std::string> default_accents() {
  std::vector<std::string> out;
  for (const auto& a : known_accents()) out.push_back(a.name);
  return out;
}

std::vector<std::string> default_variants() {
  return {"m1", "m2", "m3", "m4", "m5", "m6", "m7", "f1", "f2", "f3", "f4", "f5"};
}

// The dev split's own voices: espeak variants no train or test speaker uses, none of them a Klatt voice, picked
// because a model trained on the train split recognises them about as well as the dev speakers on train-family
// variants (docs/corpus.md has the screening).
std::vector<std::string> default_dev_variants() { return {"croak", "Mike", "Alex", "aunty", "john", "grandpa"}; }

const char* split_name(int split) {
  static const char* names[] = {"train", "dev", "test"};
  return names[split];
}

std::uint64_t derive_seed(std::uint64_t seed, const std::string& label) {
  std::uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a 64
  for (unsigned char c : label) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return Rng(seed ^ h).next();
}

std::vector<Speaker> plan_speakers(const CorpusOptions& o) {
  for (int s = 0; s < 3; ++s)
    if (o.speakers[s] < 0 || o.utts_per_speaker[s] < 0)
      throw InputError(std::string("--speakers-") + split_name(s) + " and --utts-" + split_name(s) +
                       " must not be negative");
  if (o.speakers[kTrain] < 1 || o.utts_per_speaker[kTrain] < 1)
    throw InputError("the train split needs at least one speaker and one utterance (CMVN comes from it)");
  if (o.accents.empty() || o.variants.empty()) throw InputError("need at least one accent and one variant");
  for (std::size_t i = 0; i < o.accents.size(); ++i) {
    find_accent(o.accents[i]);
    for (std::size_t j = 0; j < i; ++j)
      if (o.accents[j] == o.accents[i]) throw InputError("accent '" + o.accents[i] + "' is listed twice");
  }
  if (o.dev_own_speakers < 0) throw InputError("--speakers-dev-own must not be negative");
  std::vector<std::string> all_variants = o.variants;
  all_variants.insert(all_variants.end(), o.dev_variants.begin(), o.dev_variants.end());
  for (std::size_t i = 0; i < all_variants.size(); ++i)
    for (std::size_t j = 0; j < i; ++j)
      if (all_variants[j] == all_variants[i])
        throw InputError("variant '" + all_variants[i] + "' is listed twice (--variants and --dev-variants)");
  if (o.dev_own_speakers > 0 && o.dev_own_speakers > static_cast<int>(o.accents.size() * o.dev_variants.size()))
    throw InputError("--speakers-dev-own (" + std::to_string(o.dev_own_speakers) +
                     ") must not exceed accents x dev variants (" +
                     std::to_string(o.accents.size() * o.dev_variants.size()) + "): each needs a voice of its own");

  // Variants in a seed-dependent order per accent, then round-robin over the accents: the first pairs (test, then
  // dev) spread over every accent.
  Rng rng(derive_seed(o.seed, "speakers"));
  const auto deal = [&](const std::vector<std::string>& variants, Rng& order_rng) {
    std::vector<std::pair<std::string, std::string>> pairs;
    std::vector<std::vector<std::string>> order;
    for (std::size_t a = 0; a < o.accents.size(); ++a) {
      std::vector<std::string> v = variants;
      for (std::size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[order_rng.next() % i]);
      order.push_back(v);
    }
    for (std::size_t r = 0; r < variants.size(); ++r)
      for (std::size_t a = 0; a < o.accents.size(); ++a) pairs.emplace_back(o.accents[a], order[a][r]);
    return pairs;
  };
  const auto pairs = deal(o.variants, rng);

  const std::size_t held_out = static_cast<std::size_t>(o.speakers[kTest]) + o.speakers[kDev];
  if (held_out >= pairs.size())
    throw InputError("test + dev speakers (" + std::to_string(held_out) + ") must be fewer than accents x variants (" +
                     std::to_string(pairs.size()) + "): each held-out speaker needs a voice of its own");

  std::vector<Speaker> out;
  std::map<std::string, int> uses;
  auto add = [&](int split, const std::pair<std::string, std::string>& p) {
    const std::string base = p.first + "_" + p.second;
    Speaker s;
    s.id = base + "_" + std::to_string(uses[base]++);
    s.split = split;
    s.accent = p.first;
    s.voice.espeak_name = find_accent(p.first).espeak_name;
    s.voice.variant = p.second;
    // espeak's defaults are rate 175, pitch 50, range 50; these spreads keep speech natural-sounding.
    Rng r(derive_seed(o.seed, "speaker:" + s.id));
    s.voice.rate = 145 + static_cast<int>(r.next() % 61);
    s.voice.pitch = 30 + static_cast<int>(r.next() % 41);
    s.voice.range = 30 + static_cast<int>(r.next() % 41);
    s.gain_db = std::round(r.uniform(-6.0, 6.0) * 10.0) / 10.0;
    out.push_back(s);
  };
  std::size_t next = 0;
  for (int i = 0; i < o.speakers[kTest]; ++i) add(kTest, pairs[next++]);
  for (int i = 0; i < o.speakers[kDev]; ++i) add(kDev, pairs[next++]);
  const std::size_t train_pairs = pairs.size() - next;
  for (int i = 0; i < o.speakers[kTrain]; ++i) add(kTrain, pairs[next + static_cast<std::size_t>(i) % train_pairs]);
  if (o.dev_own_speakers > 0) {
    Rng dev_rng(derive_seed(o.seed, "dev-speakers"));
    const auto dev_pairs = deal(o.dev_variants, dev_rng);
    for (int i = 0; i < o.dev_own_speakers; ++i) add(kDev, dev_pairs[static_cast<std::size_t>(i)]);
  }
  return out;
}

std::vector<Segment> label_segments(const std::vector<PhonemeEvent>& events, std::int64_t total, const PhoneMap& map,
                                    const std::string& accent, const std::string& utt) {
  std::vector<Segment> out;
  std::int64_t cursor = 0;
  bool carry = false;  // a "-" modifier after silence: its stretch goes to the next phone
  std::int64_t carry_begin = 0;
  auto clamp = [&](std::int64_t s) { return std::min(std::max(s, cursor), total); };
  if (!events.empty() && clamp(events[0].sample) > 0) out.push_back({"h#", 0, clamp(events[0].sample)});
  for (std::size_t i = 0; i < events.size(); ++i) {
    // Look up even zero-length phonemes: an unmapped one is an error wherever it occurs.
    const PhoneMapEntry& e = map.lookup(accent, events[i].name, utt);
    std::int64_t b = clamp(events[i].sample);
    const std::int64_t end = i + 1 < events.size() ? std::max(clamp(events[i + 1].sample), b) : total;
    if (e.merge) {
      // A modifier colours a phone; it never extends a silence, so after one (or at the start) it waits for the
      // next phone.
      static const int sil = fold_to_39("h#");
      if (!out.empty() && fold_to_39(out.back().phone) != sil && !carry) {
        out.back().end = end;
      } else if (!carry) {
        carry = true;
        carry_begin = b;
      }
      cursor = end;
      continue;
    }
    if (carry) {
      b = carry_begin;
      carry = false;
    }
    if (e.timit.size() == 1) {
      if (end > b) out.push_back({e.timit[0], b, end});
    } else {
      const std::int64_t mid = b + (end - b) / 2;
      if (mid > b) out.push_back({e.timit[0], b, mid});
      if (end > mid) out.push_back({e.timit[1], mid, end});
    }
    cursor = end;
  }
  if (out.empty())
    out.push_back({"h#", 0, total});
  else if (out.back().end < total)
    out.back().end = total;  // only a trailing "-" stretch or nothing can be left
  return out;
}

std::vector<int> frame_labels(const std::vector<Segment>& segs, std::size_t frames, const FbankOptions& o) {
  std::vector<int> labels(frames, 0);
  std::size_t p = 0;
  int folded = segs.empty() ? 0 : fold_to_39(segs[0].phone);
  for (std::size_t t = 0; t < frames; ++t) {
    const auto c = static_cast<std::int64_t>(t * static_cast<std::size_t>(o.frame_shift) +
                                             static_cast<std::size_t>(o.frame_length / 2));
    while (p + 1 < segs.size() && segs[p].end <= c) folded = fold_to_39(segs[++p].phone);
    labels[t] = folded;
  }
  return labels;
}

std::size_t reference_phones(const std::vector<int>& labels) {
  static const int sil = fold_to_39("h#");
  std::size_t n = 0;
  for (std::size_t t = 0; t < labels.size(); ++t)
    if ((t == 0 || labels[t] != labels[t - 1]) && labels[t] != sil) ++n;
  return n;
}

namespace {

struct Job {
  int split;
  std::size_t speaker;
  std::string key;
  std::string text;
};

std::vector<float> resample_to_16k(const std::vector<std::int16_t>& in, int rate) {
  if (rate == 16000 || in.empty()) return {in.begin(), in.end()};
  std::vector<float> src(in.begin(), in.end());
  const double ratio = 16000.0 / rate;
  std::vector<float> dst(static_cast<std::size_t>(std::ceil(in.size() * ratio)) + 64);
  SRC_DATA d{};
  d.data_in = src.data();
  d.input_frames = static_cast<long>(src.size());
  d.data_out = dst.data();
  d.output_frames = static_cast<long>(dst.size());
  d.src_ratio = ratio;
  d.end_of_input = 1;
  // Band-limited sinc interpolation: no aliasing into the 4-8 kHz mel bands the features keep.
  const int err = src_simple(&d, SRC_SINC_BEST_QUALITY, 1);
  if (err != 0) throw std::runtime_error(std::string("libsamplerate: ") + src_strerror(err));
  dst.resize(static_cast<std::size_t>(d.output_frames_gen));
  return dst;
}

// One utterance, start to finish; runs in a forked child (synthesis must be the process's first).
std::string make_utterance(const Job& job, const Speaker& spk, const CorpusOptions& o, const PhoneMap& map,
                           const Fbank& fbank) {
  const Synthesis syn = synthesize_in_fresh_process(spk.voice, job.text);
  std::vector<Segment> segs =
      label_segments(syn.phonemes, static_cast<std::int64_t>(syn.samples.size()), map, spk.accent, job.key);
  const std::vector<float> speech = resample_to_16k(syn.samples, syn.sample_rate);
  const auto n16 = static_cast<std::int64_t>(speech.size());

  Rng rng(derive_seed(o.seed, "signal:" + job.key));
  // TIMIT's h# stretches: 100..300 ms of recording before and after the speech.
  const auto lead = static_cast<std::int64_t>(1600 + rng.next() % 3201);
  const auto trail = static_cast<std::int64_t>(1600 + rng.next() % 3201);
  std::vector<Segment> s16;
  s16.push_back({"h#", 0, lead});
  for (const auto& s : segs) {
    // Integer rescaling, rounded to nearest: boundaries are exact and platform-independent.
    auto rescale = [&](std::int64_t x) {
      const std::int64_t r = (x * 16000 + syn.sample_rate / 2) / syn.sample_rate;
      return lead + std::min(r, n16);
    };
    const std::int64_t b = rescale(s.begin), e = rescale(s.end);
    if (e > b) s16.push_back({s.phone, b, e});
  }
  if (s16.back().end < lead + n16) s16.back().end = lead + n16;
  s16.push_back({"h#", lead + n16, lead + n16 + trail});

  std::vector<float> wave(static_cast<std::size_t>(lead + n16 + trail), 0.0f);
  const double gain = std::pow(10.0, spk.gain_db / 20.0);
  for (std::int64_t i = 0; i < n16; ++i)
    wave[static_cast<std::size_t>(lead + i)] = static_cast<float>(gain * speech[static_cast<std::size_t>(i)]);
  if (o.snr_db) {
    // The SNR is over the speech itself (non-silence segments), as speech-level meters measure it; the noise then
    // runs through the whole recording, padding included.
    static const int sil = fold_to_39("h#");
    double power = 0.0;
    std::int64_t count = 0;
    for (const auto& s : s16) {
      if (fold_to_39(s.phone) == sil) continue;
      for (std::int64_t i = s.begin; i < s.end; ++i)
        power += static_cast<double>(wave[static_cast<std::size_t>(i)]) * wave[static_cast<std::size_t>(i)];
      count += s.end - s.begin;
    }
    if (count > 0 && power > 0.0) {
      const double sigma = std::sqrt(power / static_cast<double>(count) / std::pow(10.0, *o.snr_db / 10.0));
      for (auto& x : wave) x = static_cast<float>(x + sigma * rng.normal());
    }
  }
  if (o.dither > 0.0)
    for (auto& x : wave) x = static_cast<float>(x + o.dither * rng.normal());

  const Matrix feats = add_deltas(fbank.compute(wave), o.fbank.delta_window);
  const std::vector<int> labels = frame_labels(s16, feats.rows, o.fbank);

  ByteWriter w;
  w.put<std::uint64_t>(feats.rows);
  w.put<std::uint64_t>(feats.cols);
  w.put_bytes(feats.data.data(), feats.data.size() * sizeof(float));
  for (int l : labels) w.put<std::uint8_t>(static_cast<std::uint8_t>(l));
  w.put<std::uint64_t>(wave.size());
  return w.take();
}

}  // namespace

Corpus generate_corpus(const CorpusOptions& o, const Progress& progress) {
  const PhoneMap map = PhoneMap::load(o.phone_map_path);
  std::optional<Grammar> grammar;
  if (o.sentences.empty()) grammar = Grammar::load(o.grammar_path);
  const Fbank fbank(o.fbank);
  if (o.snr_db && !std::isfinite(*o.snr_db)) throw InputError("--snr-db must be a finite number");
  if (!(o.dither >= 0.0) || !std::isfinite(o.dither)) throw InputError("--dither must be >= 0");

  Corpus c;
  c.speakers = plan_speakers(o);
  std::vector<Job> jobs;
  for (int split = 0; split < 3; ++split) {
    for (std::size_t si = 0; si < c.speakers.size(); ++si) {
      const Speaker& spk = c.speakers[si];
      if (spk.split != split) continue;
      ++c.stats[split].speakers;
      for (int u = 0; u < o.utts_per_speaker[split]; ++u) {
        char idx[16];
        std::snprintf(idx, sizeof idx, "%03d", u);
        Job j{split, si, spk.id + "_" + idx, ""};
        Rng rng(derive_seed(o.seed, "sentence:" + j.key));
        j.text = grammar ? grammar->sentence(rng) : o.sentences[rng.next() % o.sentences.size()];
        jobs.push_back(std::move(j));
      }
    }
  }

  run_forked(
      jobs.size(), o.jobs,
      [&](std::size_t i) { return make_utterance(jobs[i], c.speakers[jobs[i].speaker], o, map, fbank); },
      [&](std::size_t i, std::string&& bytes) {
        const Job& j = jobs[i];
        ByteReader r(bytes);
        Utterance u;
        u.key = j.key;
        const auto rows = r.get<std::uint64_t>(), cols = r.get<std::uint64_t>();
        u.mat = Matrix(rows, cols);
        r.get_bytes(u.mat.data.data(), u.mat.data.size() * sizeof(float));
        UtteranceInfo info;
        info.speaker = c.speakers[j.speaker].id;
        info.text = j.text;
        info.labels.resize(rows);
        for (auto& l : info.labels) l = r.get<std::uint8_t>();
        info.samples = r.get<std::uint64_t>();
        SplitStats& st = c.stats[j.split];
        ++st.utterances;
        st.frames += rows;
        st.samples += info.samples;
        st.phones += reference_phones(info.labels);
        c.feats[j.split].push_back(std::move(u));
        c.info[j.split].push_back(std::move(info));
        if (progress) progress(i + 1, jobs.size());
      });

  // CMVN over the train frames, two passes in double (the mean first, so the variance does not cancel).
  const std::size_t dim = static_cast<std::size_t>(3 * (o.fbank.num_mels + 1));
  std::vector<double> mean(dim, 0.0), var(dim, 0.0);
  const double n = static_cast<double>(c.stats[kTrain].frames);
  for (const auto& u : c.feats[kTrain])
    for (std::size_t t = 0; t < u.mat.rows; ++t)
      for (std::size_t d = 0; d < dim; ++d) mean[d] += u.mat.at(t, d);
  for (auto& m : mean) m /= n;
  for (const auto& u : c.feats[kTrain])
    for (std::size_t t = 0; t < u.mat.rows; ++t)
      for (std::size_t d = 0; d < dim; ++d) {
        const double x = u.mat.at(t, d) - mean[d];
        var[d] += x * x;
      }
  c.cmvn = Matrix(2, dim);
  for (std::size_t d = 0; d < dim; ++d) {
    const double v = var[d] / n;
    c.cmvn.at(0, d) = static_cast<float>(mean[d]);
    c.cmvn.at(1, d) = static_cast<float>(v > 1e-20 ? 1.0 / std::sqrt(v) : 1.0);
  }
  return c;
}

void write_corpus(const Corpus& c, const CorpusOptions& o, const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) fail_in(dir, "cannot create the folder: " + ec.message());
  const auto& phones = timit39_phones();
  auto path = [&](const std::string& f) { return (std::filesystem::path(dir) / f).string(); };

  nlohmann::json splits = nlohmann::json::object();
  for (int s = 0; s < 3; ++s) {
    const std::string name = split_name(s);
    write_ark(path(name + ".ark"), c.feats[s], ArkFormat::binary, path(name + ".scp"));
    std::string ali, text, utt2spk;
    for (std::size_t i = 0; i < c.feats[s].size(); ++i) {
      const auto& key = c.feats[s][i].key;
      const auto& info = c.info[s][i];
      ali += key;
      for (int l : info.labels) ali += " " + phones[static_cast<std::size_t>(l)];
      ali += "\n";
      text += key + " " + info.text + "\n";
      utt2spk += key + " " + info.speaker + "\n";
    }
    write_file_atomic(path(name + ".ali"), ali);
    write_file_atomic(path(name + ".text"), text);
    write_file_atomic(path(name + ".utt2spk"), utt2spk);
    const SplitStats& st = c.stats[s];
    splits[name] = {{"speakers", st.speakers},   {"utterances", st.utterances}, {"frames", st.frames},
                    {"samples_16k", st.samples}, {"hours", st.hours()},         {"reference_phones", st.phones}};
  }

  std::string ptxt;
  for (std::size_t i = 0; i < phones.size(); ++i) ptxt += phones[i] + " " + std::to_string(i) + "\n";
  write_file_atomic(path("phones.txt"), ptxt);

  std::ostringstream spk;
  spk << "# id split accent espeak_voice rate pitch range gain_db\n";
  for (const auto& s : c.speakers)
    spk << s.id << " " << split_name(s.split) << " " << s.accent << " " << s.voice.espeak_name << "+" << s.voice.variant
        << " " << s.voice.rate << " " << s.voice.pitch << " " << s.voice.range << " " << s.gain_db << "\n";
  write_file_atomic(path("speakers.txt"), spk.str());

  write_npy(path("cmvn.npy"), c.cmvn);

  const char* espeak_path = nullptr;
  // espeak_Info needs no initialisation and touches no synthesis state.
  const std::string espeak_version = espeak_Info(&espeak_path);
  nlohmann::json meta = {{"format", "circa-corpus/1"},
                         {"seed", o.seed},
                         {"espeak_ng", espeak_version},
                         {"libsamplerate", src_get_version()},
                         {"accents", o.accents},
                         {"variants", o.variants},
                         {"snr_db", o.snr_db ? nlohmann::json(*o.snr_db) : nlohmann::json(nullptr)},
                         {"dither", o.dither},
                         {"sentences", o.sentences.empty() ? "grammar" : "list"},
                         {"features",
                          {{"dim", 3 * (o.fbank.num_mels + 1)},
                           {"layout", "[log_energy, log_mel x num_mels], then delta, then delta-delta"},
                           {"num_mels", o.fbank.num_mels},
                           {"sample_rate", o.fbank.sample_rate},
                           {"frame_length", o.fbank.frame_length},
                           {"frame_shift", o.fbank.frame_shift},
                           {"fft_size", o.fbank.fft_size},
                           {"low_hz", o.fbank.low_hz},
                           {"high_hz", o.fbank.high_hz},
                           {"preemph", o.fbank.preemph},
                           {"window", "hamming"},
                           {"delta_window", o.fbank.delta_window},
                           {"normalised", false},
                           {"cmvn", "cmvn.npy: row 0 mean, row 1 inv_std, over the train frames"}}},
                         {"phone_set", phones},
                         {"splits", splits}};
  write_file_atomic(path("corpus.json"), meta.dump(2) + "\n");
}

namespace {

std::string phoneme_names(const Synthesis& s) {
  ByteWriter w;
  w.put<std::uint64_t>(s.phonemes.size());
  for (const auto& e : s.phonemes) w.put_string(e.name);
  return w.take();
}

std::vector<std::string> read_names(const std::string& bytes) {
  ByteReader r(bytes);
  std::vector<std::string> out(r.get<std::uint64_t>());
  for (auto& n : out) n = r.get_string();
  return out;
}

}  // namespace

std::string inventory_text(const Grammar& g, int sentences) {
  std::string text;
  const auto words = g.vocabulary();
  for (std::size_t i = 0; i < words.size(); ++i) text += words[i] + (i % 12 == 11 ? ". " : " ");
  text += ". ";
  Rng r(derive_seed(0, "inventory"));
  for (int i = 0; i < sentences; ++i) text += g.sentence(r) + " ";
  return text;
}

std::vector<std::string> phoneme_sequence(const VoiceSpec& voice, const std::string& text) {
  std::vector<std::string> out;
  run_forked(
      1, 1, [&](std::size_t) { return phoneme_names(synthesize_in_fresh_process(voice, text)); },
      [&](std::size_t, std::string&& bytes) { out = read_names(bytes); });
  return out;
}

std::vector<InventoryRow> phoneme_inventory(const std::vector<std::string>& accents, const std::string& text, int jobs,
                                            bool ipa) {
  const std::size_t per = ipa ? 2 : 1;
  std::vector<std::vector<std::string>> runs(accents.size() * per);
  run_forked(
      runs.size(), jobs,
      [&](std::size_t i) {
        VoiceSpec v;
        v.espeak_name = find_accent(accents[i / per]).espeak_name;
        return phoneme_names(synthesize_in_fresh_process(v, text, i % per == 1));
      },
      [&](std::size_t i, std::string&& bytes) { runs[i] = read_names(bytes); });
  std::vector<InventoryRow> rows;
  for (std::size_t a = 0; a < accents.size(); ++a) {
    const auto& mn = runs[per * a];
    const std::vector<std::string> none(mn.size());
    const auto& names = ipa ? runs[per * a + 1] : none;
    if (mn.size() != names.size())
      throw std::runtime_error("espeak-ng reported " + std::to_string(mn.size()) + " phonemes by mnemonic but " +
                               std::to_string(names.size()) + " in IPA for accent " + accents[a]);
    std::map<std::pair<std::string, std::string>, std::size_t> count;
    for (std::size_t k = 0; k < mn.size(); ++k) ++count[{mn[k], names[k]}];
    for (const auto& [key, n] : count) rows.push_back({accents[a], key.first, key.second, n});
  }
  return rows;
}

}  // namespace circa::corpus
