#include "platform/ini_scan.hpp"

#include <ini.h>

#include <string_view>

#include "core/error.hpp"

namespace circa {

namespace {

// The text as inih reads it: this reader hands inih one line at a time, so the count of lines handed out is the
// number of the line inih is on.
struct Reader {
  std::string_view text;
  std::size_t pos = 0;
  int line = 0;
  std::vector<std::string> lines;  // as handed to inih, for messages about lines it rejects
  int error_line = 0;              // a line inih must not see
  std::string error;
  IniScan* out = nullptr;
};

char* read_line(char* str, int num, void* stream) {
  auto& s = *static_cast<Reader*>(stream);
  if (s.pos >= s.text.size()) return nullptr;
  std::size_t end = s.text.find('\n', s.pos);
  if (end == std::string_view::npos) end = s.text.size();
  std::string_view line = s.text.substr(s.pos, end - s.pos);
  s.pos = end + 1;
  ++s.line;
  while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
  std::string error;
  if (line.find('\0') != std::string_view::npos)
    error = "NUL byte in the line";
  else if (line.size() + 2 > static_cast<std::size_t>(num))
    error = "line too long (" + std::to_string(line.size()) + " bytes; at most " + std::to_string(num - 2) + ")";
  if (!error.empty()) {
    if (!s.error_line) s.error_line = s.line, s.error = error;
    line = {};
  }
  s.lines.emplace_back(line);
  line.copy(str, line.size());
  str[line.size()] = '\n';
  str[line.size() + 1] = '\0';
  return str;
}

int on_key(void* user, const char* section, const char* name, const char* value) {
  auto& s = *static_cast<Reader*>(user);
  std::string sec(section);
  while (!sec.empty() && (sec.front() == ' ' || sec.front() == '\t')) sec.erase(0, 1);
  while (!sec.empty() && (sec.back() == ' ' || sec.back() == '\t')) sec.pop_back();
  s.out->entries.push_back({sec.empty() ? std::string(name) : sec + "." + name, value, s.line});
  return 1;  // never stop: errors are judged afterwards, in line order
}

}  // namespace

IniScan scan_ini(const std::string& text, const std::string& path) {
  IniScan scan;
  Reader r;
  r.text = text;
  r.out = &scan;
  const int parse_error = ini_parse_stream(read_line, &r, on_key, &r);
  int bad = parse_error > 0 ? parse_error : 0;
  if (r.error_line && (!bad || r.error_line < bad)) bad = r.error_line;
  if (!bad) return scan;
  scan.bad_line = bad;
  const std::string pos = path + ": line " + std::to_string(bad) + ": ";
  const std::string& t = r.lines.at(static_cast<std::size_t>(bad - 1));
  if (bad == r.error_line)
    scan.bad_message = pos + r.error;
  else if (!t.empty() && t[0] == '[')
    scan.bad_message = pos + "malformed section header '" + printable(t) + "'";
  else
    scan.bad_message = pos + "expected 'key = value' or '[section]', got '" + printable(t) + "'";
  return scan;
}

}  // namespace circa
