#include "core/kaldi_io.hpp"

#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <map>
#include <stdexcept>
#include <unordered_map>

#include "core/atomic_file.hpp"
#include "core/error.hpp"

// Kaldi writes its binary data in host order and every Kaldi installation we read from is x86 or ARM little-endian;
// we memcpy raw bytes straight into floats, so a big-endian host would silently misread everything.
#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "circa's binary readers assume a little-endian host"
#endif

namespace circa {
namespace {

static_assert(std::numeric_limits<float>::is_iec559 && sizeof(float) == 4, "float must be IEEE-754 binary32");
static_assert(std::numeric_limits<double>::is_iec559 && sizeof(double) == 8, "double must be IEEE-754 binary64");

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

// Kaldi keys are any run of non-whitespace; we also refuse control bytes so that a missing separator in front of the
// binary marker "\0B" is reported where it happens instead of producing a key with a NUL inside.
bool is_key_char(char c) {
  auto u = static_cast<unsigned char>(c);
  return u > 0x20 && u != 0x7f;
}

std::string hex_byte(char c) {
  static const char* digits = "0123456789abcdef";
  auto u = static_cast<unsigned char>(c);
  return std::string("0x") + digits[u >> 4] + digits[u & 15];
}

std::string describe_char(const std::string& b, std::size_t pos) {
  if (pos >= b.size()) return "end of file";
  auto u = static_cast<unsigned char>(b[pos]);
  if (u > 0x20 && u < 0x7f) return std::string("'") + b[pos] + "'";
  return "byte " + hex_byte(b[pos]);
}

// A view of one file's bytes plus its name, so that every failure can say where it happened.
struct Source {
  const std::string& b;
  const std::string& name;
  const std::string* key = nullptr;  // the ark entry being read, so an error in the middle of a file names it

  std::string about(const std::string& what) const {
    return key ? "utterance '" + printable(*key) + "': " + what : what;
  }
  [[noreturn]] void fail_byte(std::uint64_t pos, const std::string& what) const {
    fail_at_byte(name, pos, about(what));
  }
  [[noreturn]] void fail_text(std::uint64_t pos, const std::string& what) const {
    // Line numbers are only needed on the error path, so they are counted lazily here.
    std::uint64_t line = 1;
    std::size_t end = pos < b.size() ? static_cast<std::size_t>(pos) : b.size();
    for (std::size_t i = 0; i < end; ++i)
      if (b[i] == '\n') ++line;
    fail_at_line(name, line, about(what));
  }
  std::size_t left(std::size_t pos) const { return pos < b.size() ? b.size() - pos : 0; }
};

std::size_t skip_space(const std::string& b, std::size_t pos) {
  while (pos < b.size() && is_space(b[pos])) ++pos;
  return pos;
}

// Kaldi's WriteBasicType<int32>: one size byte (4) then the value in host (little-endian) order.
std::int32_t read_int32(const Source& s, std::size_t& pos, const char* what) {
  if (s.left(pos) < 5)
    s.fail_byte(pos, std::string("truncated: expected the ") + what + " (5 bytes), found " +
                         std::to_string(s.left(pos)) + " bytes before end of file");
  auto size_byte = static_cast<signed char>(s.b[pos]);
  if (size_byte == -4) s.fail_byte(pos, std::string("the ") + what + " is big-endian, which is not supported");
  if (size_byte != 4)
    s.fail_byte(pos, std::string("expected the size byte 4 before the ") + what + ", found " + hex_byte(s.b[pos]));
  std::int32_t v;
  std::memcpy(&v, s.b.data() + pos + 1, 4);
  pos += 5;
  return v;
}

void check_dims(const Source& s, std::size_t pos, std::int64_t rows, std::int64_t cols) {
  if (rows < 0) s.fail_byte(pos, "negative row count " + std::to_string(rows));
  if (cols < 0) s.fail_byte(pos, "negative column count " + std::to_string(cols));
  // Kaldi's Matrix cannot hold an R x 0 or 0 x C shape; such a header is corrupt, not an empty matrix.
  if ((rows == 0) != (cols == 0))
    s.fail_byte(pos, "impossible matrix shape " + std::to_string(rows) + " x " + std::to_string(cols));
}

// Rows and columns are at most 2^31 - 1, so their product fits comfortably; the byte count is compared by division
// so that it cannot overflow either.
void check_room(const Source& s, std::size_t pos, std::uint64_t count, std::uint64_t elem_size, std::int64_t rows,
                std::int64_t cols, const char* what) {
  std::uint64_t avail = s.left(pos);
  if (count > avail / elem_size) {
    std::string need = count <= std::numeric_limits<std::uint64_t>::max() / elem_size
                           ? std::to_string(count * elem_size) + " bytes"
                           : "more than 2^64 bytes";
    s.fail_byte(pos, std::string("truncated ") + what + ": " + std::to_string(rows) + " x " + std::to_string(cols) +
                         " needs " + need + ", only " + std::to_string(avail) + " bytes remain");
  }
}

Matrix read_plain_binary(const Source& s, std::size_t& pos, bool is_double) {
  std::size_t rows_pos = pos;
  std::int64_t rows = read_int32(s, pos, "row count");
  std::int64_t cols = read_int32(s, pos, "column count");
  check_dims(s, rows_pos, rows, cols);
  const std::uint64_t n = static_cast<std::uint64_t>(rows) * static_cast<std::uint64_t>(cols);
  const std::uint64_t elem = is_double ? 8 : 4;
  check_room(s, pos, n, elem, rows, cols, is_double ? "DM matrix data" : "FM matrix data");
  Matrix m;
  m.rows = static_cast<std::size_t>(rows);
  m.cols = static_cast<std::size_t>(cols);
  m.data.resize(static_cast<std::size_t>(n));
  const char* src = s.b.data() + pos;
  if (!is_double) {
    if (n) std::memcpy(m.data.data(), src, static_cast<std::size_t>(n) * 4);
  } else {
    for (std::size_t i = 0; i < n; ++i) {
      double d;
      std::memcpy(&d, src + i * 8, 8);
      // Converting a finite double beyond float's range is undefined behaviour, and such a value is no feature.
      if (std::isfinite(d) && std::fabs(d) > std::numeric_limits<float>::max())
        s.fail_byte(pos + i * 8, "DM value " + std::to_string(d) + " is outside the float range");
      m.data[i] = static_cast<float>(d);
    }
  }
  pos += static_cast<std::size_t>(n * elem);
  return m;
}

// The arithmetic below mirrors Kaldi's compressed-matrix.cc expression by expression (float vs double
// intermediates included) so that decoded values are bit-identical to what Kaldi's own CopyToMat produces.
float uint16_to_float(float min_value, float range, std::uint16_t v) {
  return min_value + range * 1.52590218966964e-05F * v;
}

float char_to_float(float p0, float p25, float p75, float p100, std::uint8_t v) {
  if (v <= 64) return static_cast<float>(p0 + (p25 - p0) * v * (1 / 64.0));
  if (v <= 192) return static_cast<float>(p25 + (p75 - p25) * (v - 64) * (1 / 128.0));
  return static_cast<float>(p75 + (p100 - p75) * (v - 192) * (1 / 63.0));
}

enum class CompressedFormat { one_byte_with_col_headers, two_byte, one_byte };

// Stream layout (Kaldi writes its GlobalHeader without the leading int32 format field, which the token encodes):
// float min_value, float range, int32 num_rows, int32 num_cols, then
//   CM : num_cols PerColHeaders {uint16 p0, p25, p75, p100}, then num_rows bytes per column (column-major);
//   CM2: num_rows * num_cols uint16, row-major;
//   CM3: num_rows * num_cols uint8, row-major.
Matrix read_compressed(const Source& s, std::size_t& pos, CompressedFormat fmt, const std::string& token) {
  const std::size_t header_pos = pos;
  if (s.left(pos) < 16)
    s.fail_byte(pos, "truncated " + token + " header: needs 16 bytes, only " + std::to_string(s.left(pos)) + " remain");
  float min_value, range;
  std::int32_t rows32, cols32;
  std::memcpy(&min_value, s.b.data() + pos, 4);
  std::memcpy(&range, s.b.data() + pos + 4, 4);
  std::memcpy(&rows32, s.b.data() + pos + 8, 4);
  std::memcpy(&cols32, s.b.data() + pos + 12, 4);
  if (!std::isfinite(min_value) || !std::isfinite(range))
    s.fail_byte(header_pos, token + " header has a non-finite min_value or range");
  const std::int64_t rows = rows32, cols = cols32;
  check_dims(s, header_pos + 8, rows, cols);
  pos += 16;
  const auto r = static_cast<std::uint64_t>(rows), c = static_cast<std::uint64_t>(cols);
  std::uint64_t bytes = 0;
  switch (fmt) {
    case CompressedFormat::one_byte_with_col_headers:
      bytes = c * (8 + r);
      break;
    case CompressedFormat::two_byte:
      bytes = 2 * r * c;
      break;
    case CompressedFormat::one_byte:
      bytes = r * c;
      break;
  }
  check_room(s, pos, bytes, 1, rows, cols, (token + " data").c_str());

  Matrix m;
  m.rows = static_cast<std::size_t>(r);
  m.cols = static_cast<std::size_t>(c);
  m.data.resize(static_cast<std::size_t>(r * c));
  const auto* p = reinterpret_cast<const unsigned char*>(s.b.data() + pos);
  if (fmt == CompressedFormat::one_byte_with_col_headers) {
    const unsigned char* bytes_of_col = p + 8 * c;
    for (std::size_t j = 0; j < m.cols; ++j) {
      std::uint16_t q[4];
      std::memcpy(q, p + 8 * j, 8);
      float p0 = uint16_to_float(min_value, range, q[0]);
      float p25 = uint16_to_float(min_value, range, q[1]);
      float p75 = uint16_to_float(min_value, range, q[2]);
      float p100 = uint16_to_float(min_value, range, q[3]);
      for (std::size_t i = 0; i < m.rows; ++i)
        m.data[i * m.cols + j] = char_to_float(p0, p25, p75, p100, bytes_of_col[i]);
      bytes_of_col += m.rows;
    }
  } else if (fmt == CompressedFormat::two_byte) {
    const float increment = static_cast<float>(range * (1.0 / 65535.0));
    for (std::size_t i = 0; i < m.data.size(); ++i) {
      std::uint16_t v;
      std::memcpy(&v, p + 2 * i, 2);
      m.data[i] = min_value + v * increment;
    }
  } else {
    const float increment = static_cast<float>(range * (1.0 / 255.0));
    for (std::size_t i = 0; i < m.data.size(); ++i) m.data[i] = min_value + p[i] * increment;
  }
  pos += static_cast<std::size_t>(bytes);
  return m;
}

Matrix read_binary_matrix(const Source& s, std::size_t& pos) {
  // Kaldi's ReadToken: a word, then exactly one space. Real tokens are at most 3 characters.
  const std::size_t tok_pos = pos;
  std::size_t end = pos;
  while (end < s.b.size() && end - pos < 8 && s.b[end] != ' ') ++end;
  if (end >= s.b.size() || s.b[end] != ' ') {
    if (end >= s.b.size() && end - pos < 8)
      s.fail_byte(tok_pos, "truncated: expected a matrix type token (FM, DM, CM, CM2, CM3), found end of file");
    s.fail_byte(tok_pos, "bad matrix type token '" + printable(s.b.substr(pos, 8)) + "'");
  }
  const std::string token = s.b.substr(pos, end - pos);
  pos = end + 1;
  if (token == "FM") return read_plain_binary(s, pos, false);
  if (token == "DM") return read_plain_binary(s, pos, true);
  if (token == "CM") return read_compressed(s, pos, CompressedFormat::one_byte_with_col_headers, token);
  if (token == "CM2") return read_compressed(s, pos, CompressedFormat::two_byte, token);
  if (token == "CM3") return read_compressed(s, pos, CompressedFormat::one_byte, token);
  if (token == "FV" || token == "DV")
    s.fail_byte(tok_pos, "found a vector (" + token + "), expected a matrix (FM, DM, CM, CM2 or CM3)");
  if (token == "SM" || token == "SV")
    s.fail_byte(tok_pos, "sparse " + std::string(token == "SM" ? "matrices" : "vectors") + " (" + token +
                             ") are not supported, expected FM, DM, CM, CM2 or CM3");
  s.fail_byte(tok_pos, "unknown matrix type token '" + printable(token) + "', expected FM, DM, CM, CM2 or CM3");
}

// Kaldi's text matrix: '[' then rows separated by newlines (or ';'), then ']'. Blank lines are ignored and the
// closing bracket may share the last row's line.
Matrix read_text_matrix(const Source& s, std::size_t& pos) {
  const std::string& b = s.b;
  const std::size_t open_pos = pos;
  ++pos;  // '['
  std::vector<float> data;
  std::size_t cols = 0, cur = 0, rows = 0, row_start = pos;
  auto end_row = [&]() {
    if (cur == 0) return;
    if (rows == 0)
      cols = cur;
    else if (cur != cols)
      s.fail_text(row_start, "ragged text matrix: row " + std::to_string(rows + 1) + " has " + std::to_string(cur) +
                                 " values, earlier rows have " + std::to_string(cols));
    ++rows;
    cur = 0;
  };
  for (;;) {
    if (pos >= b.size()) s.fail_text(open_pos, "text matrix opened here is not closed by ']' before end of file");
    char c = b[pos];
    if (c == ']') {
      end_row();
      ++pos;
      if (pos < b.size() && b[pos] == '\r') ++pos;
      if (pos < b.size() && b[pos] == '\n') ++pos;
      break;
    }
    if (c == '\n' || c == ';') {
      end_row();
      ++pos;
      continue;
    }
    if (is_space(c)) {
      ++pos;
      continue;
    }
    if (cur == 0) row_start = pos;
    std::size_t tok_end = pos;
    while (tok_end < b.size() && !is_space(b[tok_end]) && b[tok_end] != ']' && b[tok_end] != ';') ++tok_end;
    const char* first = b.data() + pos;
    const char* last = b.data() + tok_end;
    // from_chars rejects a leading '+', which C's strtod (and so Kaldi) accepts.
    if (first < last && *first == '+' && last - first > 1 && first[1] != '-' && first[1] != '+') ++first;
    // Parsed straight to float (not via double) so that the shortest representation our writer prints reads back
    // to the identical float; double is only the fallback to tell underflow (accepted, as strtof does) from overflow.
    float f = 0;
    auto res = std::from_chars(first, last, f);
    const std::string tok = b.substr(pos, tok_end - pos);
    if (res.ptr != last || (res.ec != std::errc() && res.ec != std::errc::result_out_of_range))
      s.fail_text(pos, "'" + printable(tok) + "' is not a number");
    if (res.ec == std::errc::result_out_of_range) {
      double d = 0;
      auto dres = std::from_chars(first, last, d);
      if (dres.ec != std::errc() || std::fabs(d) > std::numeric_limits<float>::max())
        s.fail_text(pos, "value '" + printable(tok) + "' is out of float range");
      f = static_cast<float>(d);
    }
    data.push_back(f);
    ++cur;
    pos = tok_end;
  }
  Matrix m;
  m.rows = rows;
  m.cols = rows ? cols : 0;
  m.data = std::move(data);
  return m;
}

bool looks_like_binary_token(const std::string& b, std::size_t pos) {
  for (const char* t : {"FM ", "DM ", "CM ", "CM2 ", "CM3 ", "FV ", "DV "})
    if (b.compare(pos, std::strlen(t), t) == 0) return true;
  return false;
}

// Reads the matrix at `pos`: "\0B" + binary object, or optional whitespace + '[' text matrix.
Matrix read_matrix(const Source& s, std::size_t& pos) {
  const std::string& b = s.b;
  if (pos < b.size() && b[pos] == '\0') {
    if (pos + 1 >= b.size())
      s.fail_byte(pos + 1, "truncated binary marker: expected 'B' after '\\0', found end of file");
    if (b[pos + 1] != 'B')
      s.fail_byte(pos + 1, "bad binary marker: expected 'B' after '\\0', found " + describe_char(b, pos + 1));
    pos += 2;
    return read_binary_matrix(s, pos);
  }
  std::size_t p = skip_space(b, pos);
  if (p < b.size() && b[p] == '[') {
    pos = p;
    return read_text_matrix(s, pos);
  }
  if (looks_like_binary_token(b, p)) s.fail_byte(p, "missing binary marker '\\0B' before the matrix type token");
  if (p < b.size() && (static_cast<unsigned char>(b[p]) < 0x20 || static_cast<unsigned char>(b[p]) >= 0x7f))
    s.fail_byte(p, "expected a matrix ('\\0B' binary marker or '[' text), found " + describe_char(b, p));
  s.fail_text(p, "expected a matrix ('\\0B' binary marker or '[' text), found " + describe_char(b, p));
}

// One ark entry: key, one separator, matrix. Returns false at a clean end of file.
bool read_entry(const Source& s, std::size_t& pos, Utterance& out, std::size_t& key_pos, bool& binary) {
  const std::string& b = s.b;
  pos = skip_space(b, pos);
  if (pos >= b.size()) return false;
  key_pos = pos;
  while (pos < b.size() && is_key_char(b[pos])) ++pos;
  if (pos == key_pos) s.fail_byte(pos, "empty key: expected a key, found " + describe_char(b, pos));
  out.key = b.substr(key_pos, pos - key_pos);
  if (pos >= b.size()) s.fail_byte(pos, "key '" + printable(out.key) + "' is followed by end of file, not a matrix");
  if (b[pos] == ' ' || b[pos] == '\t') {
    ++pos;
  } else if (b[pos] != '\n' && b[pos] != '\r') {
    s.fail_byte(pos, "expected a space after key '" + printable(out.key) + "', found " + describe_char(b, pos));
  }
  binary = pos < b.size() && b[pos] == '\0';
  const Source entry{s.b, s.name, &out.key};
  out.mat = read_matrix(entry, pos);
  return true;
}

std::string dirname_of(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos) return "";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string folder_of_absolute(const std::string& path) {
  std::error_code ec;
  std::filesystem::path abs = std::filesystem::absolute(path, ec);
  if (ec) return path;
  return abs.lexically_normal().parent_path().string();
}

void append_int32(std::string& out, std::int32_t v) {
  char buf[5];
  buf[0] = 4;
  std::memcpy(buf + 1, &v, 4);
  out.append(buf, 5);
}

void append_float_text(std::string& out, float v) {
  // Shortest representation that reads back to the same float, so text round trips are exact.
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, res.ptr);
}

std::string serialize(const std::vector<Utterance>& utts, ArkFormat fmt, std::vector<std::uint64_t>* offsets,
                      const std::string& name) {
  std::string out;
  std::unordered_map<std::string, std::size_t> seen;
  if (offsets) offsets->clear();
  for (std::size_t u = 0; u < utts.size(); ++u) {
    const Utterance& utt = utts[u];
    const Matrix& m = utt.mat;
    if (utt.key.empty()) fail_in(name, "cannot write utterance #" + std::to_string(u) + ": its key is empty");
    for (char c : utt.key)
      if (!is_key_char(c))
        fail_in(name, "cannot write key '" + printable(utt.key) + "': Kaldi keys may not contain whitespace or " +
                          "control characters");
    if (!seen.emplace(utt.key, u).second) fail_in(name, "cannot write duplicate key '" + printable(utt.key) + "'");
    if (m.data.size() != m.rows * m.cols)
      throw std::logic_error("write_ark: matrix '" + utt.key + "' holds " + std::to_string(m.data.size()) +
                             " values for a " + std::to_string(m.rows) + " x " + std::to_string(m.cols) + " shape");
    const std::size_t max_dim = static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max());
    if (m.rows > max_dim || m.cols > max_dim)
      fail_in(name, "cannot write '" + printable(utt.key) + "': dimensions exceed Kaldi's int32 limit");
    out += utt.key;
    out += ' ';
    if (offsets) offsets->push_back(out.size());
    if (fmt == ArkFormat::binary) {
      // A zero-row or zero-column matrix is stored as 0 x 0, the only empty shape Kaldi can read back.
      const bool empty = m.rows == 0 || m.cols == 0;
      out.append("\0BFM ", 5);
      append_int32(out, empty ? 0 : static_cast<std::int32_t>(m.rows));
      append_int32(out, empty ? 0 : static_cast<std::int32_t>(m.cols));
      if (!empty) out.append(reinterpret_cast<const char*>(m.data.data()), m.data.size() * sizeof(float));
    } else if (m.rows == 0 || m.cols == 0) {
      out += " [ ]\n";
    } else {
      // Kaldi's MatrixBase::Write text layout: " [", each row on its own line indented two spaces, "]".
      out += " [";
      for (std::size_t i = 0; i < m.rows; ++i) {
        out += "\n  ";
        const float* row = m.row(i);
        for (std::size_t j = 0; j < m.cols; ++j) {
          append_float_text(out, row[j]);
          out += ' ';
        }
      }
      out += "]\n";
    }
  }
  return out;
}

}  // namespace

std::vector<Utterance> parse_ark(const std::string& bytes, const std::string& name) {
  Source s{bytes, name};
  std::vector<Utterance> out;
  std::unordered_map<std::string, std::size_t> first_seen;
  std::size_t pos = 0, key_pos = 0;
  bool binary = false;
  Utterance u;
  while (read_entry(s, pos, u, key_pos, binary)) {
    auto ins = first_seen.emplace(u.key, key_pos);
    if (!ins.second) {
      const std::string what = "duplicate key '" + printable(u.key) + "'";
      if (binary) s.fail_byte(key_pos, what + " (first at byte " + std::to_string(ins.first->second) + ")");
      s.fail_text(key_pos, what);
    }
    out.push_back(std::move(u));
    u = Utterance();
  }
  return out;
}

std::vector<Utterance> read_ark(const std::string& path) {
  return parse_ark(read_file(path), path);
}

Matrix parse_matrix_at(const std::string& bytes, std::uint64_t offset, const std::string& name) {
  if (offset >= bytes.size())
    fail_at_byte(name, offset, "offset is past the end of the file (" + std::to_string(bytes.size()) + " bytes)");
  Source s{bytes, name};
  auto pos = static_cast<std::size_t>(offset);
  return read_matrix(s, pos);
}

std::vector<ScpEntry> read_scp(const std::string& path) {
  return parse_scp(read_file(path), path, dirname_of(path));
}

std::vector<ScpEntry> parse_scp(const std::string& text, const std::string& path, const std::string& base) {
  std::vector<ScpEntry> out;
  std::unordered_map<std::string, std::uint64_t> first_line;
  std::size_t pos = 0;
  std::uint64_t line_no = 0;
  while (pos < text.size()) {
    ++line_no;
    std::size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    std::string line = text.substr(pos, nl - pos);
    pos = nl + 1;
    std::size_t a = 0, e = line.size();
    while (a < e && is_space(line[a])) ++a;
    while (e > a && is_space(line[e - 1])) --e;
    if (a == e) continue;
    std::size_t k = a;
    while (k < e && !is_space(line[k])) ++k;
    ScpEntry entry;
    entry.key = line.substr(a, k - a);
    entry.line = line_no;
    for (char c : entry.key)
      if (!is_key_char(c))
        fail_at_line(path, line_no, "key '" + printable(entry.key) + "' contains a control character");
    std::size_t r = k;
    while (r < e && is_space(line[r])) ++r;
    std::string rx = line.substr(r, e - r);
    if (rx.empty()) fail_at_line(path, line_no, "key '" + printable(entry.key) + "' has no file name after it");
    if (rx.back() == '|' || rx.front() == '|')
      fail_at_line(path, line_no, "'" + printable(rx) + "': pipes are not supported, only files");
    if (rx == "-") fail_at_line(path, line_no, "standard input ('-') is not supported, only files");
    if (rx.back() == ']' && rx.find('[') != std::string::npos)
      fail_at_line(path, line_no, "'" + printable(rx) + "': row/column ranges are not supported");
    std::string file = rx;
    std::size_t colon = rx.rfind(':');
    if (colon != std::string::npos) {
      std::string suffix = rx.substr(colon + 1);
      bool digits = !suffix.empty();
      for (char c : suffix) digits = digits && c >= '0' && c <= '9';
      if (digits) {
        std::uint64_t off = 0;
        auto res = std::from_chars(suffix.data(), suffix.data() + suffix.size(), off);
        if (res.ec != std::errc() || res.ptr != suffix.data() + suffix.size())
          fail_at_line(path, line_no, "offset '" + printable(suffix) + "' is too large");
        entry.offset = off;
        entry.has_offset = true;
        file = rx.substr(0, colon);
        if (file.empty()) fail_at_line(path, line_no, "empty file name before ':" + suffix + "'");
      } else if (suffix.empty()) {
        fail_at_line(path, line_no, "'" + printable(rx) + "': empty byte offset after ':'");
      } else if (suffix.find('/') == std::string::npos) {
        fail_at_line(path, line_no, "'" + printable(rx) + "': bad byte offset '" + printable(suffix) + "'");
      }
    }
    entry.ark_path = (file[0] == '/' || base.empty()) ? file : (base.back() == '/' ? base + file : base + "/" + file);
    auto ins = first_line.emplace(entry.key, line_no);
    if (!ins.second)
      fail_at_line(
          path, line_no,
          "duplicate key '" + printable(entry.key) + "' (first on line " + std::to_string(ins.first->second) + ")");
    out.push_back(std::move(entry));
  }
  return out;
}

std::vector<Utterance> load_scp(const std::string& path) {
  const std::vector<ScpEntry> entries = read_scp(path);
  // scp files usually point many times into the same ark; read each file once.
  std::map<std::string, std::string> cache;
  std::vector<Utterance> out;
  out.reserve(entries.size());
  for (const ScpEntry& e : entries) {
    const std::string where = "utterance '" + printable(e.key) + "': ";
    try {
      auto it = cache.find(e.ark_path);
      if (it == cache.end()) it = cache.emplace(e.ark_path, read_file(e.ark_path)).first;
      const std::string& bytes = it->second;
      Utterance u;
      u.key = e.key;
      if (e.has_offset) {
        if (e.offset >= bytes.size())
          fail_at_line(path, e.line,
                       where + "offset " + std::to_string(e.offset) + " is past the end of " + e.ark_path + " (" +
                           std::to_string(bytes.size()) + " bytes)");
        u.mat = parse_matrix_at(bytes, e.offset, e.ark_path);
      } else {
        // A bare path is either a single-object Kaldi file (no key) or an ark whose first matrix is meant.
        Source s{bytes, e.ark_path};
        std::size_t p = skip_space(bytes, 0);
        if (bytes.empty()) fail_at_byte(e.ark_path, 0, "empty file, expected a matrix");
        if (bytes[0] == '\0' || (p < bytes.size() && bytes[p] == '[')) {
          std::size_t pos = bytes[0] == '\0' ? 0 : p;
          u.mat = read_matrix(s, pos);
        } else {
          Utterance first;
          std::size_t pos = 0, key_pos = 0;
          bool binary = false;
          if (!read_entry(s, pos, first, key_pos, binary)) fail_at_byte(e.ark_path, 0, "no matrix in file");
          u.mat = std::move(first.mat);
        }
      }
      out.push_back(std::move(u));
    } catch (const InputError& err) {
      // Keep the scp position in front: the user edits the scp line, the ark error says what is wrong there.
      std::string msg = err.what();
      if (msg.rfind(path + ": line ", 0) == 0) throw;
      fail_at_line(path, e.line, where + msg);
    }
  }
  return out;
}

std::string serialize_ark(const std::vector<Utterance>& utts, ArkFormat fmt, std::vector<std::uint64_t>* offsets) {
  return serialize(utts, fmt, offsets, "ark");
}

void write_ark(const std::string& path, const std::vector<Utterance>& utts, ArkFormat fmt,
               const std::string& scp_path) {
  std::vector<std::uint64_t> offsets;
  const std::string bytes = serialize(utts, fmt, &offsets, path);
  write_file_atomic(path, bytes);
  if (scp_path.empty()) return;
  // Our scp reader resolves relative paths against the scp's folder, so a sibling ark is named by its basename
  // (the pair can be moved together); anything else gets an absolute path.
  const std::string ark_dir = folder_of_absolute(path), scp_dir = folder_of_absolute(scp_path);
  std::string ark_ref;
  if (ark_dir == scp_dir) {
    ark_ref = std::filesystem::path(path).filename().string();
  } else {
    std::error_code ec;
    ark_ref = std::filesystem::absolute(path, ec).lexically_normal().string();
    if (ec) fail_in(path, "cannot make the path absolute for the scp: " + ec.message());
  }
  std::string scp;
  for (std::size_t i = 0; i < utts.size(); ++i)
    scp += utts[i].key + " " + ark_ref + ":" + std::to_string(offsets[i]) + "\n";
  write_file_atomic(scp_path, scp);
}

}  // namespace circa
