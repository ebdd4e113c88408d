// circa: the accelerator's word packing, shared by the host runtime that writes DDR and the device model that reads
// it: a value of a b-bit format is a little-endian signed word of 2 bytes when b <= 16, else 4 (word_bytes() in
// hwif/descriptor.hpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace circa {

// Little-endian signed words of 2 or 4 bytes.
std::string pack_words(const std::int32_t* v, std::size_t n, std::size_t word_bytes);
void unpack_words(const std::uint8_t* b, std::size_t n, std::size_t word_bytes, std::int32_t* out);

}  // namespace circa
