#include "core/safetensors.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <utility>

#include <nlohmann/json.hpp>

#include "core/atomic_file.hpp"
#include "core/error.hpp"

namespace circa {

namespace {

// The reference implementation's limit; a larger header is a corrupt length field, not a real model.
constexpr std::uint64_t kMaxHeaderBytes = 100'000'000;
// The reference reader (serde_json) refuses JSON nested past its recursion limit of 128 too. Here the limit also
// keeps nlohmann's dump(), which error messages use and which recurses once per level, from running off the stack.
constexpr int kMaxHeaderDepth = 128;

struct DTypeInfo {
  DType type;
  const char* name;
  std::size_t size;
};

constexpr DTypeInfo kDTypes[] = {
    {DType::BOOL, "BOOL", 1}, {DType::U8, "U8", 1},           {DType::I8, "I8", 1},           {DType::U16, "U16", 2},
    {DType::I16, "I16", 2},   {DType::F16, "F16", 2},         {DType::BF16, "BF16", 2},       {DType::U32, "U32", 4},
    {DType::I32, "I32", 4},   {DType::F32, "F32", 4},         {DType::U64, "U64", 8},         {DType::I64, "I64", 8},
    {DType::F64, "F64", 8},   {DType::F8_E4M3, "F8_E4M3", 1}, {DType::F8_E5M2, "F8_E5M2", 1},
};

const DTypeInfo& info(DType t) {
  for (const auto& d : kDTypes)
    if (d.type == t) return d;
  throw std::logic_error("safetensors: unknown DType enumerator");
}

bool parse_dtype(const std::string& s, DType* out) {
  for (const auto& d : kDTypes) {
    if (s == d.name) {
      *out = d.type;
      return true;
    }
  }
  return false;
}

// Explicit little-endian decoding keeps the reader independent of host byte order and of alignment (tensor data
// need not be aligned within the file).
std::uint64_t load_le(const char* p, int n) {
  std::uint64_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

std::string in_quotes(const std::string& name) {
  return "'" + printable(name) + "'";
}

using json = nlohmann::json;

// Decodes one JSON string literal (quotes included) that nlohmann has already accepted as part of the header.
std::string decode_json_string(const std::string& literal) {
  if (literal.find('\\') == std::string::npos) return literal.substr(1, literal.size() - 2);
  return json::parse(literal).get<std::string>();
}

// Offset of the first bracket nested deeper than kMaxHeaderDepth, or npos. Brackets inside strings do not count.
std::size_t too_deep(const std::string& text) {
  int depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxHeaderDepth) return i;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return std::string::npos;
}

// nlohmann reports no positions for keys, so the already-validated header text is walked once more to find where
// each key of the top-level object, and of the objects one level below, begins. Duplicate keys are rejected here:
// nlohmann keeps the last one silently, and two readers could then disagree about which tensor a name means.
void scan_keys(const std::string& text, std::uint64_t base, const std::string& file,
               std::map<std::string, std::uint64_t>& top,
               std::map<std::pair<std::string, std::string>, std::uint64_t>& nested) {
  struct Level {
    bool object;
    bool expect_key;
    std::string key;
  };
  std::vector<Level> stack;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '{') {
      stack.push_back({true, true, {}});
    } else if (c == '[') {
      stack.push_back({false, false, {}});
    } else if (c == '}' || c == ']') {
      if (!stack.empty()) stack.pop_back();
    } else if (c == ',') {
      if (!stack.empty() && stack.back().object) stack.back().expect_key = true;
    } else if (c == ':') {
      if (!stack.empty()) stack.back().expect_key = false;
    } else if (c == '"') {
      std::size_t j = i + 1;
      while (j < text.size() && text[j] != '"') j += text[j] == '\\' ? 2 : 1;
      if (j >= text.size()) break;
      if (!stack.empty() && stack.back().object && stack.back().expect_key) {
        const std::string key = decode_json_string(text.substr(i, j - i + 1));
        const std::uint64_t pos = base + i;
        if (stack.size() == 1) {
          if (!top.emplace(key, pos).second) fail_at_byte(file, pos, "duplicate header key " + in_quotes(key));
        } else if (stack.size() == 2) {
          if (!nested.emplace(std::make_pair(stack[0].key, key), pos).second)
            fail_at_byte(file, pos, "duplicate key " + in_quotes(key) + " in header entry " + in_quotes(stack[0].key));
        }
        stack.back().key = key;
      }
      i = j;
    }
  }
}

std::string shape_str(const std::vector<std::int64_t>& shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? "," : "") + std::to_string(shape[i]);
  return s + "]";
}

// Reads one entry's data_offsets element, which must be a JSON unsigned integer.
std::uint64_t offset_value(const json& v, bool* ok) {
  *ok = v.is_number_unsigned();
  return *ok ? v.get<std::uint64_t>() : 0;
}

}  // namespace

const char* dtype_name(DType t) {
  return info(t).name;
}
std::size_t dtype_size(DType t) {
  return info(t).size;
}

std::uint64_t StTensor::elements() const {
  std::uint64_t n = 1;
  for (auto d : shape) n *= static_cast<std::uint64_t>(d);
  return n;
}

std::uint64_t SafeTensors::entry_offset(const std::string& name) const {
  auto it = entry_pos.find(name);
  return it == entry_pos.end() ? 8 : it->second;
}

std::uint64_t SafeTensors::metadata_offset(const std::string& key) const {
  auto it = metadata_pos.find(key);
  return it == metadata_pos.end() ? entry_offset("__metadata__") : it->second;
}

std::uint64_t SafeTensors::data_offset(const std::string& name) const {
  auto it = tensors.find(name);
  if (it == tensors.end()) fail_in(path, "no tensor named " + in_quotes(name));
  return data_start + it->second.begin;
}

float half_to_float(std::uint16_t h) {
  const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
  const std::uint32_t exp = (h >> 10) & 0x1fu;
  std::uint32_t mant = h & 0x3ffu;
  std::uint32_t bits;
  if (exp == 0x1f) {
    // Inf stays inf; a NaN keeps its payload in the top mantissa bits (and so stays quiet or signalling).
    bits = sign | 0x7f800000u | (mant << 13);
  } else if (exp != 0) {
    bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
  } else if (mant == 0) {
    bits = sign;
  } else {
    // A subnormal half, mant * 2^-24, is a normal float: shift the leading 1 up to the implicit-bit position.
    int e = -1;
    do {
      mant <<= 1;
      ++e;
    } while ((mant & 0x400u) == 0);
    // mant * 2^-24 = (1.f) * 2^(-15 - e) after the e+1 shifts.
    bits = sign | (static_cast<std::uint32_t>(127 - 15 - e) << 23) | ((mant & 0x3ffu) << 13);
  }
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

float bf16_to_float(std::uint16_t h) {
  const std::uint32_t bits = static_cast<std::uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

std::vector<float> SafeTensors::to_float(const std::string& name) const {
  auto it = tensors.find(name);
  if (it == tensors.end()) fail_in(path, "no tensor named " + in_quotes(name));
  const StTensor& t = it->second;
  const std::uint64_t n = t.elements();
  const char* p = bytes.data() + data_start + t.begin;
  std::vector<float> out(static_cast<std::size_t>(n));
  switch (t.dtype) {
    case DType::F32:
      for (std::uint64_t i = 0; i < n; ++i) {
        const auto bits = static_cast<std::uint32_t>(load_le(p + 4 * i, 4));
        std::memcpy(&out[i], &bits, sizeof bits);
      }
      break;
    case DType::F64:
      for (std::uint64_t i = 0; i < n; ++i) {
        const std::uint64_t bits = load_le(p + 8 * i, 8);
        double d;
        std::memcpy(&d, &bits, sizeof d);
        out[i] = static_cast<float>(d);
      }
      break;
    case DType::F16:
      for (std::uint64_t i = 0; i < n; ++i) out[i] = half_to_float(static_cast<std::uint16_t>(load_le(p + 2 * i, 2)));
      break;
    case DType::BF16:
      for (std::uint64_t i = 0; i < n; ++i) out[i] = bf16_to_float(static_cast<std::uint16_t>(load_le(p + 2 * i, 2)));
      break;
    default:
      fail_at_byte(
          path, entry_offset(name),
          "tensor " + in_quotes(name) + " has dtype " + dtype_name(t.dtype) + ", expected F32, F64, F16 or BF16");
  }
  return out;
}

SafeTensors read_safetensors(const std::string& path) {
  return parse_safetensors(read_file(path), path);
}

SafeTensors parse_safetensors(std::string bytes, const std::string& name) {
  SafeTensors st;
  st.path = name;
  const std::uint64_t file_size = bytes.size();
  if (file_size < 8)
    fail_at_byte(name, 0,
                 "file is " + std::to_string(file_size) + " bytes, too short for the 8-byte safetensors header length");
  const std::uint64_t header_len = load_le(bytes.data(), 8);
  if (header_len > kMaxHeaderBytes)
    fail_at_byte(name, 0,
                 "header length " + std::to_string(header_len) + " exceeds the " + std::to_string(kMaxHeaderBytes) +
                     "-byte limit (not a safetensors file?)");
  if (header_len > file_size - 8)
    fail_at_byte(name, 0,
                 "header length " + std::to_string(header_len) + " runs past the end of the file (" +
                     std::to_string(file_size) + " bytes)");

  const std::string text = bytes.substr(8, static_cast<std::size_t>(header_len));
  // nlohmann takes a NUL byte for the end of its input and would accept whatever follows; JSON has no raw NUL
  // anywhere (in a string it must be escaped), so the header is invalid.
  if (const auto nul = text.find('\0'); nul != std::string::npos)
    fail_at_byte(name, 8 + nul, "header is not valid JSON: NUL byte");
  if (const auto deep = too_deep(text); deep != std::string::npos)
    fail_at_byte(name, 8 + deep, "header nests deeper than " + std::to_string(kMaxHeaderDepth) + " levels");
  json header;
  try {
    header = json::parse(text);
  } catch (const json::parse_error& e) {
    // e.byte counts characters read, the offending one included (1-based); past the end means "unexpected end".
    const std::uint64_t pos = 8 + std::min<std::uint64_t>(e.byte > 0 ? e.byte - 1 : 0, header_len);
    std::string what = e.what();
    // Drop nlohmann's "[json.exception.parse_error.101] parse error at line 1, column 5: " prefix: the byte offset
    // already says where.
    const auto colon = what.find(": ");
    if (what.rfind("[json.exception.", 0) == 0 && colon != std::string::npos) what = what.substr(colon + 2);
    fail_at_byte(name, pos, "header is not valid JSON: " + printable(what));
  } catch (const json::out_of_range& e) {
    // A number too large for a double (out_of_range.406). nlohmann gives no position but quotes the number, which
    // locates it well enough.
    const std::string what = e.what();
    const auto open = what.find('\'');
    std::string number = open == std::string::npos ? std::string() : what.substr(open + 1);
    if (!number.empty() && number.back() == '\'') number.pop_back();
    const auto at = number.empty() ? std::string::npos : text.find(number);
    if (number.size() > 40) number = number.substr(0, 40) + "...";
    fail_at_byte(name, 8 + (at == std::string::npos ? 0 : at),
                 "header is not valid JSON: number " + printable(number) + " is out of range");
  }
  if (!header.is_object()) {
    const auto first = text.find_first_not_of(" \t\r\n");
    fail_at_byte(name, 8 + (first == std::string::npos ? 0 : first), "header is not a JSON object");
  }

  std::map<std::pair<std::string, std::string>, std::uint64_t> nested;
  scan_keys(text, 8, name, st.entry_pos, nested);
  st.data_start = 8 + header_len;
  const std::uint64_t data_size = file_size - st.data_start;

  for (const auto& [key, value] : header.items()) {
    const std::uint64_t pos = st.entry_offset(key);
    if (key == "__metadata__") {
      if (!value.is_object()) fail_at_byte(name, pos, "__metadata__ is not a JSON object");
      for (const auto& [mkey, mval] : value.items()) {
        auto mp = nested.find({key, mkey});
        const std::uint64_t mpos = mp == nested.end() ? pos : mp->second;
        st.metadata_pos[mkey] = mpos;
        if (!mval.is_string()) fail_at_byte(name, mpos, "metadata value of " + in_quotes(mkey) + " is not a string");
        st.metadata[mkey] = mval.get<std::string>();
      }
      continue;
    }
    const std::string what = "tensor " + in_quotes(key) + ": ";
    if (!value.is_object()) fail_at_byte(name, pos, what + "entry is not a JSON object");
    for (const auto& field : value.items()) {
      if (field.key() != "dtype" && field.key() != "shape" && field.key() != "data_offsets")
        fail_at_byte(name, pos, what + "unknown field " + in_quotes(field.key()));
    }
    StTensor t;
    auto dt = value.find("dtype");
    if (dt == value.end()) fail_at_byte(name, pos, what + "no dtype");
    if (!dt->is_string() || !parse_dtype(dt->get<std::string>(), &t.dtype))
      fail_at_byte(name, pos, what + "unknown dtype " + printable(dt->dump()));

    auto sh = value.find("shape");
    if (sh == value.end()) fail_at_byte(name, pos, what + "no shape");
    if (!sh->is_array()) fail_at_byte(name, pos, what + "shape is not an array");
    std::uint64_t elements = 1;
    bool overflow = false;
    for (std::size_t i = 0; i < sh->size(); ++i) {
      const json& d = (*sh)[i];
      if (!d.is_number_unsigned())
        fail_at_byte(
            name, pos,
            what + "shape[" + std::to_string(i) + "] is " + printable(d.dump()) + ", expected a non-negative integer");
      const auto v = d.get<std::uint64_t>();
      if (v > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) overflow = true;
      overflow = overflow || __builtin_mul_overflow(elements, v, &elements);
      t.shape.push_back(static_cast<std::int64_t>(v));
    }
    std::uint64_t nbytes = 0;
    overflow = overflow || __builtin_mul_overflow(elements, static_cast<std::uint64_t>(dtype_size(t.dtype)), &nbytes);

    auto off = value.find("data_offsets");
    if (off == value.end()) fail_at_byte(name, pos, what + "no data_offsets");
    bool ok_begin = false;
    bool ok_end = false;
    if (off->is_array() && off->size() == 2) {
      t.begin = offset_value((*off)[0], &ok_begin);
      t.end = offset_value((*off)[1], &ok_end);
    }
    if (!ok_begin || !ok_end)
      fail_at_byte(name, pos, what + "data_offsets " + printable(off->dump()) + " is not [begin, end] in bytes");
    if (t.begin > t.end)
      fail_at_byte(
          name, pos,
          what + "data_offsets [" + std::to_string(t.begin) + "," + std::to_string(t.end) + "] end before begin");
    if (t.end > data_size)
      fail_at_byte(name, pos,
                   what + "data_offsets [" + std::to_string(t.begin) + "," + std::to_string(t.end) +
                       "] run past the data area (" + std::to_string(data_size) + " bytes)");
    if (overflow) fail_at_byte(name, pos, what + "shape " + shape_str(t.shape) + " overflows 64 bits");
    if (nbytes != t.end - t.begin)
      fail_at_byte(name, pos,
                   what + "shape " + shape_str(t.shape) + " of " + dtype_name(t.dtype) + " needs " +
                       std::to_string(nbytes) + " bytes, data_offsets span " + std::to_string(t.end - t.begin));
    st.tensors.emplace(key, std::move(t));
  }

  // The tensors must tile the data area exactly, as the reference requires.
  std::vector<std::pair<const std::string*, const StTensor*>> order;
  for (const auto& [tname, t] : st.tensors) order.emplace_back(&tname, &t);
  std::sort(order.begin(), order.end(), [](const auto& a, const auto& b) {
    return std::make_pair(a.second->begin, a.second->end) < std::make_pair(b.second->begin, b.second->end);
  });
  std::uint64_t covered = 0;
  const std::string* prev = nullptr;
  for (const auto& [tname, t] : order) {
    if (t->begin < covered)
      fail_at_byte(name, st.entry_offset(*tname),
                   "tensor " + in_quotes(*tname) + ": data_offsets [" + std::to_string(t->begin) + "," +
                       std::to_string(t->end) + "] overlap tensor " + in_quotes(*prev) + " (data ends at " +
                       std::to_string(covered) + ")");
    if (t->begin > covered)
      fail_at_byte(name, st.data_start + covered,
                   "data bytes [" + std::to_string(covered) + "," + std::to_string(t->begin) +
                       ") belong to no tensor (safetensors tensors must be contiguous)");
    covered = t->end;
    prev = tname;
  }
  if (covered != data_size)
    fail_at_byte(name, st.data_start + covered,
                 std::to_string(data_size - covered) + " trailing bytes after the last tensor");

  st.bytes = std::move(bytes);
  return st;
}

std::string serialize_safetensors(const std::map<std::string, StWriteTensor>& tensors,
                                  const std::map<std::string, std::string>& metadata) {
  // ordered_json keeps the reference writer's field order (dtype, shape, data_offsets), so that a file we write is
  // byte-identical to the one Python's safetensors would write for the same float32 tensors and metadata.
  using ojson = nlohmann::ordered_json;
  ojson header = ojson::object();
  if (!metadata.empty()) {
    ojson meta = ojson::object();
    for (const auto& [k, v] : metadata) meta[k] = v;
    header["__metadata__"] = std::move(meta);
  }
  std::uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    if (name == "__metadata__") throw std::invalid_argument("safetensors: a tensor cannot be named __metadata__");
    std::uint64_t n = 1;
    ojson shape = ojson::array();
    for (auto d : t.shape) {
      if (d < 0) throw std::invalid_argument("safetensors: tensor " + in_quotes(name) + " has a negative dimension");
      n *= static_cast<std::uint64_t>(d);
      shape.push_back(static_cast<std::uint64_t>(d));
    }
    if (n != t.data.size())
      throw std::invalid_argument("safetensors: tensor " + in_quotes(name) + " has shape " + shape_str(t.shape) +
                                  " but " + std::to_string(t.data.size()) + " values");
    ojson entry = ojson::object();
    entry["dtype"] = "F32";
    entry["shape"] = std::move(shape);
    entry["data_offsets"] = ojson::array({offset, offset + 4 * n});
    header[name] = std::move(entry);
    offset += 4 * n;
  }
  std::string text;
  try {
    text = header.dump();
  } catch (const nlohmann::json::type_error& e) {
    throw std::invalid_argument(std::string("safetensors: tensor name or metadata is not valid UTF-8: ") + e.what());
  }
  text.append((8 - text.size() % 8) % 8, ' ');

  std::string out;
  out.reserve(8 + text.size() + offset);
  const std::uint64_t len = text.size();
  for (int i = 0; i < 8; ++i) out += static_cast<char>((len >> (8 * i)) & 0xff);
  out += text;
  for (const auto& [name, t] : tensors) {
    for (float f : t.data) {
      std::uint32_t bits;
      std::memcpy(&bits, &f, sizeof bits);
      for (int i = 0; i < 4; ++i) out += static_cast<char>((bits >> (8 * i)) & 0xff);
    }
  }
  return out;
}

void write_safetensors(const std::string& path, const std::map<std::string, StWriteTensor>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  write_file_atomic(path, serialize_safetensors(tensors, metadata));
}

}  // namespace circa
