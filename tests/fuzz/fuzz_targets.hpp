// circa: what each fuzz target feeds to circa's parsers. The libFuzzer entry points (fuzz_entry.cpp) and the
// regression test in the normal suite (tests/core/test_fuzz_regressions.cpp) share this code, so a crashing input
// replays in both exactly as it was found.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace circa::fuzz {

// The DDR window the descriptor target validates against: the VP's default map (platform/vp.hpp), where the seed
// descriptors (tests/fuzz/make_corpus.cpp) are packed.
constexpr std::uint64_t kDescDdrBase = 0x100000000ull;
constexpr std::uint64_t kDescDdrSize = 4ull << 30;

struct Target {
  const char* name;  // as in tests/fuzz/corpus/<name>/ and fuzz_<name>
  // Feeds one input to the parser(s). Returns true if the input was accepted (for ark: by any of the readers it
  // tries), false if it was rejected with an InputError whose message is one printable line naming the input. Anything
  // else escapes: another exception type, a malformed message (std::logic_error), an inconsistent parse result
  // (std::logic_error).
  bool (*feed)(const std::string& input);
};

const std::vector<Target>& targets();
// Throws std::invalid_argument for an unknown name.
const Target& target(const std::string& name);

}  // namespace circa::fuzz
