// circa-corpus: one espeak-ng synthesis with its phoneme events, and the forked workers that make it reproducible.
//
// espeak-ng keeps state across messages (its noise generator, pause and pitch history): the same sentence
// synthesised twice in one process gives different samples. espeak_Terminate + espeak_Initialize does not reset
// that state, and on 1.51 a later espeak_Synchronize never returns. So every synthesis runs in a freshly forked
// child of a process that never initialised espeak: its output then depends only on (voice, text), whatever was
// synthesised before, in whatever order, with however many workers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace circa::corpus {

struct VoiceSpec {
  std::string espeak_name;  // espeak's voice name ("en-us", "en" for en-gb, ...)
  std::string variant;      // "m3", "f1", ... or empty
  int rate = 175;           // words per minute (espeakRATE)
  int pitch = 50;           // 0..100, relative to the voice's own base pitch (espeakPITCH)
  int range = 50;           // 0..100, intonation range (espeakRANGE)
  // 0..200 (espeakVOLUME). At espeak's default 100 several voices peak within 0.1 % of the 16-bit limit, where
  // espeak limits them; 60 leaves about 5 dB of headroom (peaks near 19,500, speech RMS near 2,000).
  int volume = 60;
};

struct PhonemeEvent {
  std::string name;     // espeak mnemonic (or IPA when asked for)
  std::int64_t sample;  // where it starts, in samples at Synthesis::sample_rate from the start of the message
};

struct Synthesis {
  int sample_rate = 0;  // espeak's native rate (22050 Hz)
  std::vector<std::int16_t> samples;
  std::vector<PhonemeEvent> phonemes;
};

// Synthesises `text` with espeakINITIALIZE_PHONEME_EVENTS (and _IPA when `ipa`). Call only in a process that has
// not used espeak before: a child of ForkPool. Throws InputError for an unknown voice or variant.
Synthesis synthesize_in_fresh_process(const VoiceSpec& voice, const std::string& text, bool ipa = false);

// Runs count jobs, each in its own forked child, at most `jobs` at a time. child(i) runs in the child and returns
// bytes; parent(i, bytes) runs in the parent in index order, whatever order the children finish in. An exception in
// a child is rethrown in the parent (InputError stays InputError) and the other children are killed. The children
// are forked by a scheduler process forked first, so child() sees the caller's state as it was at the call, not
// what parent() has accumulated since. The calling process must be single-threaded (fork).
void run_forked(std::size_t count, int jobs, const std::function<std::string(std::size_t)>& child,
                const std::function<void(std::size_t, std::string&&)>& parent);

// Little helpers to move results through the pipe.
class ByteWriter {
public:
  template <typename T>
  void put(const T& v) {
    out_.append(reinterpret_cast<const char*>(&v), sizeof(T));
  }
  void put_bytes(const void* p, std::size_t n) { out_.append(static_cast<const char*>(p), n); }
  void put_string(const std::string& s) {
    put<std::uint64_t>(s.size());
    out_ += s;
  }
  std::string take() { return std::move(out_); }

private:
  std::string out_;
};

class ByteReader {
public:
  explicit ByteReader(const std::string& in) : in_(in) {}
  template <typename T>
  T get() {
    T v;
    get_bytes(&v, sizeof(T));
    return v;
  }
  void get_bytes(void* p, std::size_t n);
  std::string get_string();

private:
  const std::string& in_;
  std::size_t pos_ = 0;
};

}  // namespace circa::corpus
