#include "hwif/words.hpp"

#include <cstring>

namespace circa {

std::string pack_words(const std::int32_t* v, std::size_t n, std::size_t wb) {
  std::string out(n * wb, '\0');
  for (std::size_t i = 0; i < n; ++i) {
    if (wb == 2) {
      const auto w = static_cast<std::int16_t>(v[i]);
      std::memcpy(&out[i * 2], &w, 2);
    } else {
      std::memcpy(&out[i * 4], &v[i], 4);
    }
  }
  return out;
}

void unpack_words(const std::uint8_t* b, std::size_t n, std::size_t wb, std::int32_t* out) {
  for (std::size_t i = 0; i < n; ++i) {
    if (wb == 2) {
      std::int16_t w;
      std::memcpy(&w, b + i * 2, 2);
      out[i] = w;
    } else {
      std::memcpy(&out[i], b + i * 4, 4);
    }
  }
}

}  // namespace circa
