// circa: error types shared by every layer.
//
// InputError is what a user can fix: a malformed file, a bad option. The CLI turns it into one line on stderr and
// exit code 2. Anything else escaping to main is an internal error (exit code 1).
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace circa {

class InputError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

// Bytes from a file or the command line, made safe for a one-line error message: every byte outside printable ASCII
// (controls, DEL, and 0x80..0xff) becomes \xNN, and text longer than `max_len` bytes is cut with "...". Every parser
// quotes untrusted text through this one function.
std::string printable(std::string_view s, std::size_t max_len = 80);

// "<file>: byte <offset>: <what>" -- the position format every binary parser uses.
[[noreturn]] void fail_at_byte(const std::string& file, std::uint64_t offset, const std::string& what);
// "<file>: line <n>: <what>" -- text formats.
[[noreturn]] void fail_at_line(const std::string& file, std::uint64_t line, const std::string& what);
// "<file>: <what>" -- when no finer position applies (utterance names go into `what`).
[[noreturn]] void fail_in(const std::string& file, const std::string& what);

}  // namespace circa
