// circa: the scan of an INI file (hardware configs, device files) by inih, Debian's libinih, with the line of every
// key, which inih's handler is not told. Interpreting the keys is the caller's (platform/hw_config.cpp,
// platform/estimate.cpp's load_device).
#pragma once

#include <string>
#include <vector>

namespace circa {

// One `key = value` line; key is "section.name", or "name" before any section.
struct IniEntry {
  std::string key;
  std::string value;
  int line;
};

struct IniScan {
  std::vector<IniEntry> entries;  // in file order, including those after bad_line
  // The first line inih rejected or must not see (malformed section header, no '=', too long, a NUL byte): 0 if
  // none, else its number and the one-line message "<path>: line N: ...". Callers judge the entries before it
  // first, so errors come in line order.
  int bad_line = 0;
  std::string bad_message;
};

// Leading blanks of a line are dropped (inih would read an indented line as the continuation of the previous
// value); comments start a line with ';' or '#', or follow a value after " ;"; a line holds at most 198 bytes.
IniScan scan_ini(const std::string& text, const std::string& path);

}  // namespace circa
