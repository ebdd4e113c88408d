// libFuzzer entry point for one target; CMake builds it once per target with CIRCA_FUZZ_TARGET set to its name.
#include <cstddef>
#include <cstdint>
#include <string>

#include "tests/fuzz/fuzz_targets.hpp"

#ifndef CIRCA_FUZZ_TARGET
#error "CIRCA_FUZZ_TARGET must name the target"
#endif

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const circa::fuzz::Target& t = circa::fuzz::target(CIRCA_FUZZ_TARGET);
  t.feed(std::string(reinterpret_cast<const char*>(data), size));
  return 0;
}
