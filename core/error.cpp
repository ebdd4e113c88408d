#include "core/error.hpp"

namespace circa {

std::string printable(std::string_view s, std::size_t max_len) {
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < s.size() && i < max_len; ++i) {
    const auto u = static_cast<unsigned char>(s[i]);
    if (u >= 0x20 && u < 0x7f) {
      out += s[i];
    } else {
      out += "\\x";
      out += hex[u >> 4];
      out += hex[u & 15];
    }
  }
  if (s.size() > max_len) out += "...";
  return out;
}

void fail_at_byte(const std::string& file, std::uint64_t offset, const std::string& what) {
  throw InputError(file + ": byte " + std::to_string(offset) + ": " + what);
}

void fail_at_line(const std::string& file, std::uint64_t line, const std::string& what) {
  throw InputError(file + ": line " + std::to_string(line) + ": " + what);
}

void fail_in(const std::string& file, const std::string& what) { throw InputError(file + ": " + what); }

}  // namespace circa
