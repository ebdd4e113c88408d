#include "core/error.hpp"

namespace circa {

void fail_at_byte(const std::string& file, std::uint64_t offset, const std::string& what) {
  throw InputError(file + ": byte " + std::to_string(offset) + ": " + what);
}

void fail_at_line(const std::string& file, std::uint64_t line, const std::string& what) {
  throw InputError(file + ": line " + std::to_string(line) + ": " + what);
}

void fail_in(const std::string& file, const std::string& what) { throw InputError(file + ": " + what); }

}  // namespace circa
