#include "scripts/corpus/corpus_cli.hpp"

#include <unistd.h>

#include <boost/program_options.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <sstream>
#include <thread>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/model.hpp"
#include "scripts/corpus/corpus.hpp"

namespace circa::corpus {

namespace po = boost::program_options;

namespace {

const char* kUsage =
    "usage: circa-corpus [options]\n"
    "\n"
    "Generates a TIMIT-style corpus with espeak-ng: Kaldi ark/scp features (log-mel + log energy, deltas),\n"
    "frame alignments in the 39 folded TIMIT phones, transcripts and CMVN statistics, split train/dev/test by\n"
    "speaker. The same options and seed give byte-identical files. See docs/corpus.md.\n"
    "\n"
    "  circa-corpus --print-sentences N   print N grammar sentences and exit\n"
    "  circa-corpus --inventory           espeak phonemes of the vocabulary per accent: mnemonic, IPA, count, "
    "mapping\n";

// Where the grammar and the phone table live: $CIRCA_HOME, else the source tree this binary was built from.
std::string home() {
  const char* h = std::getenv("CIRCA_HOME");
  return h && *h ? h : CIRCA_SOURCE_DIR;
}

std::vector<std::string> split_list(const std::string& s, const std::string& what) {
  std::vector<std::string> out;
  std::string item;
  std::istringstream in(s);
  while (std::getline(in, item, ',')) {
    while (!item.empty() && item.front() == ' ') item.erase(item.begin());
    while (!item.empty() && item.back() == ' ') item.pop_back();
    if (item.empty()) throw InputError(what + ": empty item in '" + s + "'");
    out.push_back(item);
  }
  if (out.empty()) throw InputError(what + " is empty");
  return out;
}

std::vector<std::string> read_sentences(const std::string& path) {
  std::vector<std::string> out;
  std::istringstream in(read_file(path));
  std::string line;
  while (std::getline(in, line)) {
    const auto a = line.find_first_not_of(" \t\r");
    if (a == std::string::npos || line[a] == '#') continue;
    const auto b = line.find_last_not_of(" \t\r");
    out.push_back(line.substr(a, b - a + 1));
  }
  if (out.empty()) fail_in(path, "no sentences");
  return out;
}

std::string fmt_duration(double s) {
  char buf[32];
  const int t = static_cast<int>(s + 0.5);
  if (t >= 60)
    std::snprintf(buf, sizeof buf, "%dm%02ds", t / 60, t % 60);
  else
    std::snprintf(buf, sizeof buf, "%.1fs", s);
  return buf;
}

class ProgressBar {
public:
  ProgressBar() : tty_(::isatty(2) == 1), start_(Clock::now()), last_(start_) {}
  void update(std::size_t done, std::size_t total) {
    if (!tty_) return;
    const auto now = Clock::now();
    if (done < total && now - last_ < std::chrono::milliseconds(200)) return;
    last_ = now;
    const double el = std::chrono::duration<double>(now - start_).count();
    const int width = 40;
    const int fill = total ? static_cast<int>(width * done / total) : width;
    std::string bar(static_cast<std::size_t>(fill), '#');
    bar.resize(width, '.');
    const double eta = done ? el * static_cast<double>(total - done) / static_cast<double>(done) : 0.0;
    std::fprintf(stderr, "\r[%s] %zu/%zu utterances, %s, ETA %s   ", bar.c_str(), done, total, fmt_duration(el).c_str(),
                 fmt_duration(eta).c_str());
    if (done == total) std::fputc('\n', stderr);
    std::fflush(stderr);
  }

private:
  using Clock = std::chrono::steady_clock;
  bool tty_;
  Clock::time_point start_, last_;
};

int run(int argc, char** argv) {
  CorpusOptions o;
  std::string out = "corpus", accents, variants, dev_variants, sentences_path;
  int utts_all = -1, utts[3] = {-1, -1, -1};
  double snr = 0.0;
  int print_sentences = 0;
  const unsigned hw = std::thread::hardware_concurrency();
  o.jobs = hw > 0 ? static_cast<int>(hw) : 1;
  o.grammar_path = home() + "/scripts/corpus/grammar.txt";
  o.phone_map_path = home() + "/scripts/corpus/espeak_to_timit.txt";

  po::options_description desc("options");
  // clang-format off
  desc.add_options()
    ("help,h", "print this help")
    ("out,o", po::value(&out)->default_value(out), "output folder")
    ("seed", po::value(&o.seed)->default_value(o.seed), "seed for speakers, sentences, padding and noise")
    ("speakers-train", po::value(&o.speakers[kTrain])->default_value(o.speakers[kTrain]), "train speakers")
    ("speakers-dev", po::value(&o.speakers[kDev])->default_value(o.speakers[kDev]), "dev speakers")
    ("speakers-dev-own", po::value(&o.dev_own_speakers)->default_value(o.dev_own_speakers),
     "more dev speakers, on voices of their own (--dev-variants)")
    ("speakers-test", po::value(&o.speakers[kTest])->default_value(o.speakers[kTest]), "test speakers")
    ("utts-per-speaker", po::value(&utts_all), "utterances per speaker in every split (default: per split)")
    ("utts-train", po::value(&utts[kTrain]), "utterances per train speaker (default 20)")
    ("utts-dev", po::value(&utts[kDev]), "utterances per dev speaker (default 25)")
    ("utts-test", po::value(&utts[kTest]), "utterances per test speaker (default 14)")
    ("accents", po::value(&accents), "comma-separated espeak accents (default: all eight English ones)")
    ("variants", po::value(&variants), "comma-separated espeak voice variants (default m1..m7,f1..f5)")
    ("dev-variants", po::value(&dev_variants), "comma-separated espeak variants heard only in dev (default "
     "croak,Mike,Alex,aunty,john,grandpa)")
    ("snr-db", po::value(&snr), "add white noise at this SNR (dB, over the speech); default clean")
    ("mels", po::value(&o.fbank.num_mels)->default_value(o.fbank.num_mels), "mel filters (50 -> 153 dims, 40 -> 123)")
    ("dither", po::value(&o.dither)->default_value(o.dither), "Gaussian dither, 16-bit scale (0 = none)")
    ("jobs,j", po::value(&o.jobs)->default_value(o.jobs), "parallel synthesis workers")
    ("grammar", po::value(&o.grammar_path)->default_value(o.grammar_path), "sentence grammar")
    ("sentences", po::value(&sentences_path), "draw sentences from this file (one per line) instead of the grammar")
    ("phone-map", po::value(&o.phone_map_path)->default_value(o.phone_map_path), "espeak -> TIMIT phone table")
    ("print-sentences", po::value(&print_sentences), "print N sentences of the grammar and exit")
    ("inventory", "print every espeak phoneme of the vocabulary per accent, with its IPA and mapping, and exit");
  // clang-format on
  po::variables_map vm;
  const po::positional_options_description none;  // any positional argument is an error, not silently ignored
  po::store(po::command_line_parser(argc, argv).options(desc).positional(none).run(), vm);
  po::notify(vm);
  if (vm.count("help")) {
    std::cout << kUsage << "\n" << desc << "\n";
    return 0;
  }
  if (vm.count("accents")) o.accents = split_list(accents, "--accents");
  if (vm.count("variants")) o.variants = split_list(variants, "--variants");
  if (vm.count("dev-variants")) o.dev_variants = split_list(dev_variants, "--dev-variants");
  if (vm.count("snr-db")) o.snr_db = snr;
  if (vm.count("sentences")) o.sentences = read_sentences(sentences_path);
  for (int s = 0; s < 3; ++s) {
    if (utts_all >= 0) o.utts_per_speaker[s] = utts_all;
    if (utts[s] >= 0) o.utts_per_speaker[s] = utts[s];
  }
  if (vm.count("utts-per-speaker") && utts_all < 1) throw InputError("--utts-per-speaker must be at least 1");
  if (o.jobs < 1) throw InputError("--jobs must be at least 1");
  if (o.fbank.num_mels < 1) throw InputError("--mels must be at least 1");
  for (const auto& a : o.accents) find_accent(a);

  if (vm.count("print-sentences")) {
    const Grammar g = Grammar::load(o.grammar_path);
    for (int i = 0; i < print_sentences; ++i) {
      Rng rng(derive_seed(o.seed, "print:" + std::to_string(i)));
      std::cout << g.sentence(rng) << "\n";
    }
    return 0;
  }
  if (vm.count("inventory")) {
    const Grammar g = Grammar::load(o.grammar_path);
    const PhoneMap map = PhoneMap::load(o.phone_map_path);
    const std::string text = inventory_text(g, 40);
    std::cout << "# accent mnemonic ipa count -> timit61\n";
    for (const auto& r : phoneme_inventory(o.accents, text, o.jobs, true)) {
      std::string m = "UNMAPPED";
      if (map.has(r.accent, r.mnemonic)) {
        const auto& e = map.lookup(r.accent, r.mnemonic, "inventory");
        m = e.merge ? "-" : e.timit[0] + (e.timit.size() > 1 ? " " + e.timit[1] : "");
      }
      std::cout << r.accent << "\t" << r.mnemonic << "\t[" << r.ipa << "]\t" << r.count << "\t" << m << "\n";
    }
    return 0;
  }

  const auto t0 = std::chrono::steady_clock::now();
  ProgressBar bar;
  const Corpus c = generate_corpus(o, [&](std::size_t d, std::size_t t) { bar.update(d, t); });
  write_corpus(c, o, out);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  std::printf("%-6s %9s %11s %10s %7s %10s\n", "split", "speakers", "utterances", "frames", "hours", "phones");
  for (int s = 0; s < 3; ++s) {
    const SplitStats& st = c.stats[s];
    std::printf("%-6s %9zu %11zu %10zu %7.2f %10zu\n", split_name(s), st.speakers, st.utterances, st.frames, st.hours(),
                st.phones);
  }
  std::printf("%zu-dim features, %zu phone classes; wrote %s/ in %s\n", c.cmvn.cols, timit39_phones().size(),
              out.c_str(), fmt_duration(secs).c_str());
  return 0;
}

}  // namespace

int corpus_cli_main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const po::error& e) {
    std::cerr << "circa-corpus: " << e.what() << "\n";
    return 2;
  } catch (const InputError& e) {
    std::cerr << "circa-corpus: " << e.what() << "\n";
    return 2;
  } catch (const std::bad_alloc&) {
    std::cerr << "circa-corpus: out of memory\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "circa-corpus: internal error: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace circa::corpus
