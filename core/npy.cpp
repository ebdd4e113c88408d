#include "core/npy.hpp"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <vector>

#include "core/atomic_file.hpp"
#include "core/error.hpp"

// .npy data is read with memcpy straight into host floats; only '<' (little-endian) files are accepted, which is
// only correct on a little-endian host.
#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "circa's binary readers assume a little-endian host"
#endif

namespace circa {
namespace {

static_assert(std::numeric_limits<float>::is_iec559 && sizeof(float) == 4, "float must be IEEE-754 binary32");
static_assert(std::numeric_limits<double>::is_iec559 && sizeof(double) == 8, "double must be IEEE-754 binary64");

constexpr char kMagic[] = "\x93NUMPY";
constexpr std::size_t kMagicLen = 6;
// numpy pads the header so the data starts on a 64-byte boundary and leaves room for the first axis to grow to
// this many digits (numpy.lib.format ARRAY_ALIGN and GROWTH_AXIS_MAX_DIGITS); we write the same bytes it does.
constexpr std::size_t kArrayAlign = 64;
constexpr std::size_t kGrowthAxisMaxDigits = 21;

// A minimal reader for the Python dict literal numpy writes as the header. Positions are absolute file offsets.
class HeaderParser {
 public:
  HeaderParser(const std::string& bytes, std::size_t begin, std::size_t end, const std::string& name)
      : b_(bytes), pos_(begin), end_(end), name_(name) {}

  struct Result {
    std::string descr;
    std::size_t descr_pos = 0;
    bool fortran = false;
    std::vector<std::uint64_t> shape;
    std::size_t shape_pos = 0;
  };

  Result parse() {
    Result r;
    bool have_descr = false, have_fortran = false, have_shape = false;
    const std::size_t dict_pos = pos_;
    skip_space();
    expect('{', "expected '{' to open the header dict");
    for (;;) {
      skip_space();
      if (peek() == '}') {
        ++pos_;
        break;
      }
      const std::size_t key_pos = pos_;
      std::string key = parse_string("a quoted key");
      skip_space();
      expect(':', "expected ':' after key '" + printable(key) + "'");
      skip_space();
      bool* seen = nullptr;
      if (key == "descr") {
        seen = &have_descr;
        r.descr_pos = pos_;
        r.descr = parse_string("a quoted dtype string for 'descr'");
      } else if (key == "fortran_order") {
        seen = &have_fortran;
        r.fortran = parse_bool();
      } else if (key == "shape") {
        seen = &have_shape;
        r.shape_pos = pos_;
        r.shape = parse_shape();
      } else {
        fail(key_pos, "unexpected key '" + printable(key) + "' in header (expected descr, fortran_order, shape)");
      }
      if (*seen) fail(key_pos, "duplicate key '" + key + "' in header");
      *seen = true;
      skip_space();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      expect('}', "expected ',' or '}' in header dict");
      break;
    }
    skip_space();
    if (pos_ < end_) fail(pos_, "unexpected " + describe() + " after the header dict");
    if (!have_descr) fail(dict_pos, "header lacks the 'descr' key");
    if (!have_fortran) fail(dict_pos, "header lacks the 'fortran_order' key");
    if (!have_shape) fail(dict_pos, "header lacks the 'shape' key");
    return r;
  }

 private:
  [[noreturn]] void fail(std::size_t pos, const std::string& what) const { fail_at_byte(name_, pos, what); }

  int peek() const { return pos_ < end_ ? static_cast<unsigned char>(b_[pos_]) : -1; }

  std::string describe() const {
    if (pos_ >= end_) return "end of header";
    return "'" + printable(std::string(1, b_[pos_])) + "'";
  }

  void skip_space() {
    while (pos_ < end_ && (b_[pos_] == ' ' || b_[pos_] == '\t' || b_[pos_] == '\n' || b_[pos_] == '\r')) ++pos_;
  }

  void expect(char c, const std::string& what) {
    if (peek() != static_cast<unsigned char>(c)) fail(pos_, what + ", found " + describe());
    ++pos_;
  }

  // Python string literal without escapes: numpy's keys and dtype strings never need them.
  std::string parse_string(const std::string& what) {
    int q = peek();
    if (q != '\'' && q != '"') fail(pos_, "expected " + what + ", found " + describe());
    const std::size_t start = ++pos_;
    while (pos_ < end_ && b_[pos_] != q) {
      if (b_[pos_] == '\\') fail(pos_, "escape sequences are not supported in header strings");
      if (b_[pos_] == '\n') break;
      ++pos_;
    }
    if (pos_ >= end_ || b_[pos_] != q) fail(start - 1, "unterminated string in header");
    std::string s = b_.substr(start, pos_ - start);
    ++pos_;
    return s;
  }

  bool parse_bool() {
    if (pos_ + 4 <= end_ && b_.compare(pos_, 4, "True") == 0) {
      pos_ += 4;
      return true;
    }
    if (pos_ + 5 <= end_ && b_.compare(pos_, 5, "False") == 0) {
      pos_ += 5;
      return false;
    }
    fail(pos_, "expected True or False for 'fortran_order', found " + describe());
  }

  std::vector<std::uint64_t> parse_shape() {
    const std::size_t open = pos_;
    expect('(', "expected a tuple for 'shape'");
    std::vector<std::uint64_t> dims;
    bool trailing_comma = false;
    for (;;) {
      skip_space();
      if (peek() == ')') {
        ++pos_;
        break;
      }
      if (peek() < '0' || peek() > '9') fail(pos_, "expected a non-negative integer in 'shape', found " + describe());
      const std::size_t num_pos = pos_;
      std::uint64_t v = 0;
      while (peek() >= '0' && peek() <= '9') {
        auto digit = static_cast<std::uint64_t>(b_[pos_] - '0');
        // 2^62 bounds a dimension far beyond any file we could hold, and keeps the later products overflow-free
        // when checked by division.
        if (v > ((std::uint64_t{1} << 62) - digit) / 10) fail(num_pos, "dimension in 'shape' is too large");
        v = v * 10 + digit;
        ++pos_;
      }
      if (peek() == 'L') ++pos_;  // Python 2 long literal, as written by numpy under Python 2
      dims.push_back(v);
      skip_space();
      if (peek() == ',') {
        ++pos_;
        trailing_comma = true;
        continue;
      }
      trailing_comma = false;
      expect(')', "expected ',' or ')' in 'shape'");
      break;
    }
    // "(5)" is the integer 5 in Python, not a tuple; numpy always writes "(5,)".
    if (dims.size() == 1 && !trailing_comma) fail(open, "'shape' (" + std::to_string(dims[0]) + ") is not a tuple");
    return dims;
  }

  const std::string& b_;
  std::size_t pos_;
  std::size_t end_;
  const std::string& name_;
};

std::string shape_text(const std::vector<std::uint64_t>& shape) {
  std::string s = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  if (shape.size() == 1) s += ",";
  return s + ")";
}

}  // namespace

Matrix parse_npy(const std::string& bytes, const std::string& name) {
  const std::size_t size = bytes.size();
  for (std::size_t i = 0; i < kMagicLen; ++i) {
    if (i >= size) fail_at_byte(name, i, "truncated: not a .npy file (file ends inside the magic string)");
    if (bytes[i] != kMagic[i]) fail_at_byte(name, i, "not a .npy file: bad magic (expected \\x93NUMPY)");
  }
  if (size < 8) fail_at_byte(name, size, "truncated: the format version is missing");
  const int major = static_cast<unsigned char>(bytes[6]), minor = static_cast<unsigned char>(bytes[7]);
  if (major < 1 || major > 3 || minor != 0)
    fail_at_byte(name, 6,
                 "unsupported .npy format version " + std::to_string(major) + "." + std::to_string(minor) +
                     " (expected 1.0, 2.0 or 3.0)");
  const std::size_t len_size = major == 1 ? 2 : 4;
  if (size < 8 + len_size) fail_at_byte(name, 8, "truncated: the header length field is incomplete");
  std::uint64_t header_len = 0;
  if (len_size == 2) {
    std::uint16_t v;
    std::memcpy(&v, bytes.data() + 8, 2);
    header_len = v;
  } else {
    std::uint32_t v;
    std::memcpy(&v, bytes.data() + 8, 4);
    header_len = v;
  }
  const std::size_t header_begin = 8 + len_size;
  if (header_len > size - header_begin)
    fail_at_byte(name, 8,
                 "header length " + std::to_string(header_len) + " runs past the end of the file (only " +
                     std::to_string(size - header_begin) + " bytes follow the length field)");
  const std::size_t data_begin = header_begin + static_cast<std::size_t>(header_len);

  HeaderParser::Result h = HeaderParser(bytes, header_begin, data_begin, name).parse();

  std::size_t item = 0;
  if (h.descr.size() == 3 && h.descr[1] == 'f' && (h.descr[2] == '4' || h.descr[2] == '8')) {
    // '=' (native) and '|' (not applicable) both mean host order here, and the host is little-endian.
    if (h.descr[0] == '<' || h.descr[0] == '=' || h.descr[0] == '|') item = h.descr[2] == '4' ? 4 : 8;
    if (h.descr[0] == '>')
      fail_at_byte(name, h.descr_pos, "big-endian dtype '" + h.descr + "' is not supported (expected '<f4' or '<f8')");
  }
  if (item == 0)
    fail_at_byte(name, h.descr_pos, "unsupported dtype '" + printable(h.descr) + "' (expected '<f4' or '<f8')");

  if (h.shape.empty()) fail_at_byte(name, h.shape_pos, "0-D arrays (scalars) are not supported, expected 1-D or 2-D");
  if (h.shape.size() > 2)
    fail_at_byte(name, h.shape_pos,
                 std::to_string(h.shape.size()) + "-D array of shape " + shape_text(h.shape) +
                     " is not supported, expected 1-D or 2-D");
  const std::uint64_t rows = h.shape.size() == 2 ? h.shape[0] : 1;
  const std::uint64_t cols = h.shape.size() == 2 ? h.shape[1] : h.shape[0];

  const std::uint64_t avail = size - data_begin;
  // Checked by division first: a corrupt shape must not overflow the byte count into something small.
  if (cols != 0 && rows > std::numeric_limits<std::uint64_t>::max() / item / cols)
    fail_at_byte(name, data_begin,
                 "truncated data: shape " + shape_text(h.shape) + " of '" + h.descr +
                     "' needs more than 2^64 bytes, only " + std::to_string(avail) + " present");
  const std::uint64_t count = rows * cols;
  const std::uint64_t need = count * item;
  if (avail < need)
    fail_at_byte(name, data_begin,
                 "truncated data: shape " + shape_text(h.shape) + " of '" + h.descr + "' needs " +
                     std::to_string(need) + " bytes, only " + std::to_string(avail) + " present");
  if (avail > need)
    fail_at_byte(name, data_begin + need,
                 std::to_string(avail - need) + " unexpected bytes after the data of shape " + shape_text(h.shape));

  Matrix m;
  m.rows = static_cast<std::size_t>(rows);
  m.cols = static_cast<std::size_t>(cols);
  m.data.resize(static_cast<std::size_t>(count));
  const char* src = bytes.data() + data_begin;
  const bool transpose = h.fortran && h.shape.size() == 2;
  if (item == 4 && !transpose) {
    if (count) std::memcpy(m.data.data(), src, static_cast<std::size_t>(need));
  } else {
    // Fortran order stores column j contiguously: element (i, j) is at j * rows + i.
    for (std::size_t k = 0; k < count; ++k) {
      float v;
      if (item == 4) {
        std::memcpy(&v, src + 4 * k, 4);
      } else {
        double d;
        std::memcpy(&d, src + 8 * k, 8);
        // Converting a finite double beyond float's range is undefined behaviour, and such a value is no feature.
        if (std::isfinite(d) && std::fabs(d) > std::numeric_limits<float>::max())
          fail_at_byte(name, data_begin + 8 * k, "value " + std::to_string(d) + " is outside the float range");
        v = static_cast<float>(d);
      }
      if (transpose)
        m.data[(k % m.rows) * m.cols + k / m.rows] = v;
      else
        m.data[k] = v;
    }
  }
  return m;
}

Matrix read_npy(const std::string& path) {
  return parse_npy(read_file(path), path);
}

std::string serialize_npy(const Matrix& m) {
  if (m.data.size() != m.rows * m.cols)
    throw std::logic_error("serialize_npy: matrix holds " + std::to_string(m.data.size()) + " values for a " +
                           std::to_string(m.rows) + " x " + std::to_string(m.cols) + " shape");
  const std::string first = std::to_string(m.rows);
  std::string header =
      "{'descr': '<f4', 'fortran_order': False, 'shape': (" + first + ", " + std::to_string(m.cols) + "), }";
  if (first.size() < kGrowthAxisMaxDigits) header.append(kGrowthAxisMaxDigits - first.size(), ' ');
  // numpy: padlen = ARRAY_ALIGN - ((MAGIC_LEN + 4 + len(header) + 1) % ARRAY_ALIGN), always at least one space.
  const std::size_t prefix = kMagicLen + 2 + 2;
  const std::size_t pad = kArrayAlign - ((prefix + header.size() + 1) % kArrayAlign);
  header.append(pad, ' ');
  header += '\n';
  if (header.size() > 0xffff) throw std::logic_error("serialize_npy: header too long for format 1.0");
  std::string out(kMagic, kMagicLen);
  out += '\x01';
  out += '\x00';
  const auto len = static_cast<std::uint16_t>(header.size());
  out.append(reinterpret_cast<const char*>(&len), 2);
  out += header;
  if (!m.data.empty()) out.append(reinterpret_cast<const char*>(m.data.data()), m.data.size() * sizeof(float));
  return out;
}

void write_npy(const std::string& path, const Matrix& m) {
  write_file_atomic(path, serialize_npy(m));
}

}  // namespace circa
