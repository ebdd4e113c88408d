#include "core/model.hpp"

#include <cmath>
#include <cstring>
#include <limits>
#include <set>
#include <stdexcept>
#include <utility>

#include <nlohmann/json.hpp>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/safetensors.hpp"

namespace circa {

namespace {

using json = nlohmann::json;

constexpr const char* kFormat = "circa-lstmp/1";
constexpr int kAllowedK[] = {1, 2, 4, 8, 16, 32, 64};
// Bounds that no real speech model comes near; they keep products of dims far from int overflow and turn a
// corrupted number into an error instead of a huge allocation.
constexpr std::int64_t kMaxDim = 1 << 20;
constexpr std::int64_t kMaxLayers = 1024;
// synth_model allocates what it is asked for; 2^28 floats is 1 GiB, already far beyond any TIMIT-size model.
constexpr std::int64_t kMaxSynthParams = std::int64_t{1} << 28;

constexpr const char* kReservedKeys[] = {"format",   "arch",     "layers",      "input_dim",
                                         "cell_dim", "proj_dim", "num_classes", "phone_set"};

bool is_reserved(const std::string& key) {
  for (const char* k : kReservedKeys)
    if (key == k) return true;
  return false;
}

bool allowed_k(std::int64_t k) {
  for (int a : kAllowedK)
    if (k == a) return true;
  return false;
}

std::string allowed_k_list() {
  std::string s;
  for (int a : kAllowedK) s += (s.empty() ? "" : ", ") + std::to_string(a);
  return s;
}

std::string in_quotes(const std::string& s) {
  return "'" + printable(s) + "'";
}

std::string shape_str(const std::vector<std::int64_t>& shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? "," : "") + std::to_string(shape[i]);
  return s + "]";
}

std::string layer_tensor(int layer, const char* what) {
  return "layers." + std::to_string(layer) + "." + what;
}

std::int64_t ceil_div(std::int64_t a, std::int64_t b) {
  return (a + b - 1) / b;
}

// What a circulant tensor must look like, independent of its k (which the tensor itself carries).
struct CircSpec {
  std::int64_t gates = 1;  // rows = gates * row_dim
  std::int64_t row_dim = 0;
  std::string row_label;
  std::int64_t cols = 0;  // logical input width
  std::string col_label;
  bool cols_padded = false;  // layer input: zero-padded up to a multiple of k instead of required to be one

  // Empty if k fits; otherwise why not. Blocks must not straddle two gates (or two projection outputs), hence the
  // multiple-of-k rule on the dims rather than on gates * dim.
  std::string check_k(std::int64_t k) const {
    if (!allowed_k(k)) return "block size k=" + std::to_string(k) + " is not one of " + allowed_k_list();
    if (row_dim % k != 0)
      return row_label + " " + std::to_string(row_dim) + " is not a multiple of the block size k=" + std::to_string(k);
    if (!cols_padded && cols % k != 0)
      return col_label + " " + std::to_string(cols) + " is not a multiple of the block size k=" + std::to_string(k);
    return {};
  }
  std::vector<std::int64_t> shape(std::int64_t k) const { return {gates * row_dim / k, ceil_div(cols, k), k}; }
  std::string formula() const {
    std::string rows = (gates > 1 ? std::to_string(gates) + "*" : std::string()) + row_label;
    std::string c = cols_padded ? "ceil(" + col_label + "/k)" : col_label + "/k";
    return "[" + rows + "/k, " + c + ", k] with " + row_label + "=" + std::to_string(row_dim) + ", " + col_label + "=" +
           std::to_string(cols);
  }
};

struct Expected {
  std::string name;
  bool circulant = false;
  CircSpec circ;
  std::vector<std::int64_t> shape;  // dense tensors
};

struct Dims {
  Arch arch = Arch::lstmp;
  std::int64_t layers = 0;
  std::int64_t input_dim = 0;
  std::int64_t cell_dim = 0;
  std::int64_t proj_dim = 0;
  std::int64_t num_classes = 0;
  bool cmvn = false;
  std::int64_t out_dim() const { return proj_dim > 0 ? proj_dim : cell_dim; }
  const char* out_label() const { return proj_dim > 0 ? "proj_dim" : "cell_dim"; }
};

std::vector<Expected> expected_tensors(const Dims& d) {
  std::vector<Expected> out;
  const std::int64_t gates = d.arch == Arch::lstmp ? 4 : 3;
  auto circ = [&](std::string name, std::int64_t g, std::int64_t rows, std::string row_label, std::int64_t cols,
                  std::string col_label, bool padded) {
    Expected e;
    e.name = std::move(name);
    e.circulant = true;
    e.circ = CircSpec{g, rows, std::move(row_label), cols, std::move(col_label), padded};
    out.push_back(std::move(e));
  };
  auto dense = [&](std::string name, std::vector<std::int64_t> shape) {
    Expected e;
    e.name = std::move(name);
    e.shape = std::move(shape);
    out.push_back(std::move(e));
  };
  for (int l = 0; l < d.layers; ++l) {
    const std::int64_t in = l == 0 ? d.input_dim : d.out_dim();
    const std::string in_label = l == 0 ? "input_dim" : d.out_label();
    circ(layer_tensor(l, "w_x"), gates, d.cell_dim, "cell_dim", in, in_label, true);
    circ(layer_tensor(l, "w_r"), gates, d.cell_dim, "cell_dim", d.out_dim(), d.out_label(), false);
    if (d.arch == Arch::lstmp) {
      dense(layer_tensor(l, "bias"), {4 * d.cell_dim});
      dense(layer_tensor(l, "peep"), {3, d.cell_dim});
      if (d.proj_dim > 0) circ(layer_tensor(l, "w_proj"), 1, d.proj_dim, "proj_dim", d.cell_dim, "cell_dim", false);
    } else {
      dense(layer_tensor(l, "bias_x"), {3 * d.cell_dim});
      dense(layer_tensor(l, "bias_r"), {3 * d.cell_dim});
    }
  }
  dense("output.w", {d.num_classes, d.out_dim()});
  dense("output.b", {d.num_classes});
  if (d.cmvn) {
    dense("input.mean", {d.input_dim});
    dense("input.inv_std", {d.input_dim});
  }
  return out;
}

// Strict decimal: digits only, no sign, no leading zeros, no spaces, so that "12 " or "0x10" never slip through.
bool parse_decimal(const std::string& s, std::int64_t* out) {
  if (s.empty() || s.size() > 18) return false;
  if (s.size() > 1 && s[0] == '0') return false;
  std::int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *out = v;
  return true;
}

// Empty if the phone set is usable; otherwise why not.
std::string check_phone_set(const std::vector<std::string>& phones, std::int64_t num_classes) {
  if (static_cast<std::int64_t>(phones.size()) != num_classes)
    return "phone_set has " + std::to_string(phones.size()) + " names, num_classes is " + std::to_string(num_classes);
  std::set<std::string> seen;
  for (std::size_t i = 0; i < phones.size(); ++i) {
    const std::string& p = phones[i];
    if (p.empty()) return "phone_set[" + std::to_string(i) + "] is empty";
    for (unsigned char c : p) {
      // Alignments and transcripts are whitespace-separated text, so a name with a space could never be matched.
      if (c <= 0x20 || c == 0x7f)
        return "phone_set[" + std::to_string(i) + "] " + in_quotes(p) + " contains whitespace or a control character";
    }
    try {
      (void)json(p).dump();
    } catch (const json::type_error&) {
      return "phone_set[" + std::to_string(i) + "] " + in_quotes(p) + " is not valid UTF-8";
    }
    if (!seen.insert(p).second) return "phone_set names " + in_quotes(p) + " twice";
  }
  if (seen.count("sil") == 0) return "phone_set has no \"sil\"";
  return {};
}

// The in-memory view of a model as name -> tensor, for the checks shared with load_model.
struct Present {
  const CirculantMatrix* circ = nullptr;
  const std::vector<float>* dense = nullptr;
};

std::map<std::string, Present> present_tensors(const Model& m) {
  std::map<std::string, Present> out;
  auto add_c = [&](const std::string& name, const CirculantMatrix& c) {
    if (c.p != 0 || c.q != 0 || !c.w.empty()) out[name].circ = &c;
  };
  auto add_d = [&](const std::string& name, const std::vector<float>& v) {
    if (!v.empty()) out[name].dense = &v;
  };
  for (std::size_t l = 0; l < m.layers.size(); ++l) {
    const Layer& L = m.layers[l];
    const int li = static_cast<int>(l);
    add_c(layer_tensor(li, "w_x"), L.w_x);
    add_c(layer_tensor(li, "w_r"), L.w_r);
    add_c(layer_tensor(li, "w_proj"), L.w_proj);
    add_d(layer_tensor(li, "bias"), L.bias);
    add_d(layer_tensor(li, "peep"), L.peep);
    add_d(layer_tensor(li, "bias_x"), L.bias_x);
    add_d(layer_tensor(li, "bias_r"), L.bias_r);
  }
  add_d("output.w", m.out_w);
  add_d("output.b", m.out_b);
  add_d("input.mean", m.cmvn_mean);
  add_d("input.inv_std", m.cmvn_inv_std);
  return out;
}

std::int64_t product(const std::vector<std::int64_t>& shape) {
  std::int64_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

// Per-tensor stream derivation for synth_model: FNV-1a of the tensor name mixed into the seed, so that each tensor's
// values depend only on (seed, name, its own size) and not on which other tensors the model has.
std::uint64_t fnv1a64(const std::string& s) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

// SplitMix64 (Steele, Lea, Flood 2014), fully specified by integer arithmetic, unlike the standard library's
// distributions, whose outputs differ between implementations.
class SplitMix64 {
 public:
  explicit SplitMix64(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  // Uniform in [-a, a): the top 24 bits n give the exact float (2n - 2^24), scaled by a * 2^-24 (exact, a power
  // of two) with a single rounding, so every IEEE platform computes the same bits.
  float uniform(float a) {
    const auto n = static_cast<std::int32_t>(next() >> 40);
    const auto s = static_cast<float>(2 * n - (std::int32_t{1} << 24));
    return s * (a * 0x1p-24f);
  }

 private:
  std::uint64_t state_;
};

std::vector<float> synth_values(std::uint64_t seed, const std::string& name, std::int64_t n, float a) {
  SplitMix64 rng(seed ^ fnv1a64(name));
  std::vector<float> v(static_cast<std::size_t>(n));
  for (auto& x : v) x = rng.uniform(a);
  return v;
}

float inv_sqrt(std::int64_t fan_in) {
  return 1.0f / std::sqrt(static_cast<float>(fan_in));
}

}  // namespace

const char* arch_name(Arch a) {
  return a == Arch::lstmp ? "lstmp" : "gru";
}

const std::vector<std::string>& timit39_phones() {
  // Lee & Hon (1989) folding, as in Kaldi's egs/timit/s5/conf/phones.60-48-39.map (third column): closures, pau,
  // epi and h# fold into sil; ao->aa, ax/ax-h->ah, axr->er, hv->hh, ix->ih, el->l, em->m, en/nx->n, eng->ng,
  // zh->sh, ux->uw; q is dropped. sil first, then alphabetical.
  static const std::vector<std::string> phones = {"sil", "aa", "ae", "ah", "aw", "ay", "b",  "ch", "d",  "dh",
                                                  "dx",  "eh", "er", "ey", "f",  "g",  "hh", "ih", "iy", "jh",
                                                  "k",   "l",  "m",  "n",  "ng", "ow", "oy", "p",  "r",  "s",
                                                  "sh",  "t",  "th", "uh", "uw", "v",  "w",  "y",  "z"};
  return phones;
}

Model load_model(const std::string& path) {
  return parse_model(read_file(path), path);
}

Model parse_model(std::string bytes, const std::string& path) {
  const SafeTensors st = parse_safetensors(std::move(bytes), path);
  Model m;

  // --- metadata ---
  const std::uint64_t meta_pos = st.entry_offset("__metadata__");
  auto meta = [&](const char* key) -> const std::string& {
    auto it = st.metadata.find(key);
    if (it == st.metadata.end())
      fail_at_byte(path, meta_pos, std::string("metadata key '") + key + "' is missing (not a circa model?)");
    return it->second;
  };
  auto fail_meta = [&](const char* key, const std::string& what) {
    fail_at_byte(path, st.metadata_offset(key), std::string("metadata '") + key + "': " + what);
  };
  auto meta_int = [&](const char* key, std::int64_t lo, std::int64_t hi) {
    const std::string& s = meta(key);
    std::int64_t v = 0;
    if (!parse_decimal(s, &v) || v < lo || v > hi)
      fail_meta(key, "\"" + printable(s) + "\" is not a decimal integer in [" + std::to_string(lo) + ", " +
                         std::to_string(hi) + "]");
    return v;
  };

  if (meta("format") != kFormat)
    fail_meta("format", "\"" + printable(meta("format")) + "\" is not \"" + kFormat + "\"");
  const std::string& arch = meta("arch");
  if (arch == "lstmp") {
    m.arch = Arch::lstmp;
  } else if (arch == "gru") {
    m.arch = Arch::gru;
  } else {
    fail_meta("arch", "\"" + printable(arch) + "\" is not \"lstmp\" or \"gru\"");
  }
  Dims d;
  d.arch = m.arch;
  d.layers = meta_int("layers", 1, kMaxLayers);
  d.input_dim = meta_int("input_dim", 1, kMaxDim);
  d.cell_dim = meta_int("cell_dim", 1, kMaxDim);
  d.proj_dim = meta_int("proj_dim", 0, kMaxDim);
  d.num_classes = meta_int("num_classes", 1, kMaxDim);
  if (d.arch == Arch::gru && d.proj_dim != 0)
    fail_meta("proj_dim", std::to_string(d.proj_dim) + ", but a GRU has no projection (must be 0)");

  const std::string& phone_text = meta("phone_set");
  // A "\u0000" in the metadata string becomes a NUL here, where nlohmann would stop reading and ignore the rest.
  if (phone_text.find('\0') != std::string::npos)
    fail_meta("phone_set", "not a JSON array of strings (it contains a NUL character)");
  json phones;
  try {
    phones = json::parse(phone_text);
  } catch (const json::parse_error& e) {
    fail_meta("phone_set", "not a JSON array of strings (parse error at character " + std::to_string(e.byte) + ")");
  } catch (const json::out_of_range&) {
    // nlohmann refuses numbers beyond double's range with out_of_range, not parse_error.
    fail_meta("phone_set", "not a JSON array of strings (a number in it is out of range)");
  }
  if (!phones.is_array()) fail_meta("phone_set", "not a JSON array of strings");
  for (const auto& p : phones) {
    // A nested array or object is named by its type: dump() recurses once per level, and the nesting is unbounded.
    if (!p.is_string())
      fail_meta("phone_set", "element " +
                                 (p.is_structured() ? std::string("of type ") + p.type_name() : printable(p.dump())) +
                                 " is not a string");
    m.phone_set.push_back(p.get<std::string>());
  }
  if (std::string why = check_phone_set(m.phone_set, d.num_classes); !why.empty()) fail_meta("phone_set", why);

  for (const auto& [key, value] : st.metadata)
    if (!is_reserved(key)) m.extra_metadata[key] = value;

  // --- tensors ---
  d.cmvn = st.tensors.count("input.mean") || st.tensors.count("input.inv_std");
  const std::vector<Expected> expected = expected_tensors(d);
  std::set<std::string> expected_names;
  for (const auto& e : expected) expected_names.insert(e.name);
  const std::string model_desc = std::string(arch_name(d.arch)) + " model with " + std::to_string(d.layers) +
                                 " layer(s) and proj_dim " + std::to_string(d.proj_dim);
  for (const auto& e : expected) {
    if (!st.tensors.count(e.name)) {
      if (e.name == "input.mean" || e.name == "input.inv_std")
        fail_in(path, "tensor " + in_quotes(e.name) + " is missing (input.mean and input.inv_std come together)");
      fail_in(path, "tensor " + in_quotes(e.name) + " is missing (expected in a " + model_desc + ")");
    }
  }
  for (const auto& [name, t] : st.tensors) {
    if (!expected_names.count(name))
      fail_at_byte(path, st.entry_offset(name), "unexpected tensor " + in_quotes(name) + " in a " + model_desc);
  }

  std::map<std::string, std::vector<float>> values;
  for (const auto& e : expected) {
    const StTensor& t = st.tensors.at(e.name);
    const std::uint64_t pos = st.entry_offset(e.name);
    const std::string what = "tensor " + in_quotes(e.name) + ": ";
    if (t.dtype != DType::F32 && t.dtype != DType::F64 && t.dtype != DType::F16 && t.dtype != DType::BF16)
      fail_at_byte(path, pos, what + "dtype " + dtype_name(t.dtype) + " is not a float type");
    std::vector<std::int64_t> want = e.shape;
    if (e.circulant) {
      if (t.shape.size() != 3)
        fail_at_byte(path, pos,
                     what + "shape " + shape_str(t.shape) + " is not [block rows, block cols, k] " + e.circ.formula());
      if (std::string why = e.circ.check_k(t.shape[2]); !why.empty()) fail_at_byte(path, pos, what + why);
      want = e.circ.shape(t.shape[2]);
    }
    if (t.shape != want)
      fail_at_byte(path, pos,
                   what + "shape " + shape_str(t.shape) + ", expected " + shape_str(want) +
                       (e.circulant ? " = " + e.circ.formula() : std::string()));
    std::vector<float> v = st.to_float(e.name);
    const std::uint64_t esize = dtype_size(t.dtype);
    const bool inv_std = e.name == "input.inv_std";  // once per tensor, not per element
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (!std::isfinite(v[i]))
        fail_at_byte(path, st.data_offset(e.name) + i * esize,
                     what + "element " + std::to_string(i) + " is " + (std::isnan(v[i]) ? "NaN" : "infinite"));
      if (inv_std && !(v[i] > 0.0f))
        fail_at_byte(path, st.data_offset(e.name) + i * esize,
                     what + "element " + std::to_string(i) + " is " + std::to_string(v[i]) + ", must be > 0");
    }
    values[e.name] = std::move(v);
  }

  // --- assemble ---
  m.input_dim = static_cast<int>(d.input_dim);
  m.cell_dim = static_cast<int>(d.cell_dim);
  m.proj_dim = static_cast<int>(d.proj_dim);
  m.num_classes = static_cast<int>(d.num_classes);
  auto take_circ = [&](const std::string& name) {
    const StTensor& t = st.tensors.at(name);
    CirculantMatrix c;
    c.p = static_cast<int>(t.shape[0]);
    c.q = static_cast<int>(t.shape[1]);
    c.k = static_cast<int>(t.shape[2]);
    c.w = std::move(values.at(name));
    return c;
  };
  for (int l = 0; l < d.layers; ++l) {
    Layer L;
    L.input_dim = static_cast<int>(l == 0 ? d.input_dim : d.out_dim());
    L.w_x = take_circ(layer_tensor(l, "w_x"));
    L.w_r = take_circ(layer_tensor(l, "w_r"));
    if (d.arch == Arch::lstmp) {
      if (d.proj_dim > 0) L.w_proj = take_circ(layer_tensor(l, "w_proj"));
      L.bias = std::move(values.at(layer_tensor(l, "bias")));
      L.peep = std::move(values.at(layer_tensor(l, "peep")));
    } else {
      L.bias_x = std::move(values.at(layer_tensor(l, "bias_x")));
      L.bias_r = std::move(values.at(layer_tensor(l, "bias_r")));
    }
    m.layers.push_back(std::move(L));
  }
  m.out_w = std::move(values.at("output.w"));
  m.out_b = std::move(values.at("output.b"));
  if (d.cmvn) {
    m.cmvn_mean = std::move(values.at("input.mean"));
    m.cmvn_inv_std = std::move(values.at("input.inv_std"));
  }
  validate_model(m, path);
  return m;
}

void validate_model(const Model& m, const std::string& source) {
  auto check_range = [&](const char* what, std::int64_t v, std::int64_t lo, std::int64_t hi) {
    if (v < lo || v > hi)
      fail_in(source, std::string(what) + " " + std::to_string(v) + " is not in [" + std::to_string(lo) + ", " +
                          std::to_string(hi) + "]");
  };
  check_range("number of layers", static_cast<std::int64_t>(m.layers.size()), 1, kMaxLayers);
  check_range("input_dim", m.input_dim, 1, kMaxDim);
  check_range("cell_dim", m.cell_dim, 1, kMaxDim);
  check_range("proj_dim", m.proj_dim, 0, kMaxDim);
  check_range("num_classes", m.num_classes, 1, kMaxDim);
  if (m.arch == Arch::gru && m.proj_dim != 0)
    fail_in(source, "proj_dim " + std::to_string(m.proj_dim) + ", but a GRU has no projection (must be 0)");
  if (std::string why = check_phone_set(m.phone_set, m.num_classes); !why.empty()) fail_in(source, why);
  for (const auto& [key, value] : m.extra_metadata) {
    if (is_reserved(key))
      fail_in(source, "extra metadata key " + in_quotes(key) + " is reserved for circa's own metadata");
    try {
      (void)json(key).dump();
      (void)json(value).dump();
    } catch (const json::type_error&) {
      fail_in(source, "extra metadata " + in_quotes(key) + " is not valid UTF-8");
    }
  }

  Dims d;
  d.arch = m.arch;
  d.layers = static_cast<std::int64_t>(m.layers.size());
  d.input_dim = m.input_dim;
  d.cell_dim = m.cell_dim;
  d.proj_dim = m.proj_dim;
  d.num_classes = m.num_classes;
  d.cmvn = !m.cmvn_mean.empty() || !m.cmvn_inv_std.empty();
  for (std::size_t l = 0; l < m.layers.size(); ++l) {
    const std::int64_t want = l == 0 ? d.input_dim : d.out_dim();
    if (m.layers[l].input_dim != want)
      fail_in(source, "layer " + std::to_string(l) + " input_dim is " + std::to_string(m.layers[l].input_dim) +
                          ", expected " + std::to_string(want));
  }

  const std::vector<Expected> expected = expected_tensors(d);
  const std::map<std::string, Present> present = present_tensors(m);
  std::set<std::string> expected_names;
  for (const auto& e : expected) expected_names.insert(e.name);
  for (const auto& [name, p] : present)
    if (!expected_names.count(name))
      fail_in(source, "unexpected tensor " + in_quotes(name) + " in a " + arch_name(m.arch) + " model with proj_dim " +
                          std::to_string(m.proj_dim));

  for (const auto& e : expected) {
    const std::string what = "tensor " + in_quotes(e.name) + ": ";
    auto it = present.find(e.name);
    if (it == present.end()) fail_in(source, what + "missing");
    const std::vector<float>* values = it->second.dense;
    if (e.circulant) {
      const CirculantMatrix& c = *it->second.circ;
      if (std::string why = e.circ.check_k(c.k); !why.empty()) fail_in(source, what + why);
      const std::vector<std::int64_t> got = {c.p, c.q, c.k};
      const std::vector<std::int64_t> want = e.circ.shape(c.k);
      if (got != want)
        fail_in(source, what + "blocks " + shape_str(got) + ", expected " + shape_str(want) + " = " + e.circ.formula());
      if (static_cast<std::int64_t>(c.w.size()) != c.params())
        fail_in(source,
                what + std::to_string(c.w.size()) + " values for " + std::to_string(c.params()) + " parameters");
      values = &c.w;
    } else if (static_cast<std::int64_t>(values->size()) != product(e.shape)) {
      fail_in(source, what + std::to_string(values->size()) + " values, expected " + shape_str(e.shape));
    }
    const bool inv_std = e.name == "input.inv_std";  // once per tensor, not per element
    for (std::size_t i = 0; i < values->size(); ++i) {
      const float x = (*values)[i];
      if (!std::isfinite(x))
        fail_in(source, what + "element " + std::to_string(i) + " is " + (std::isnan(x) ? "NaN" : "infinite"));
      if (inv_std && !(x > 0.0f))
        fail_in(source, what + "element " + std::to_string(i) + " is " + std::to_string(x) + ", must be > 0");
    }
  }
}

void save_model(const Model& m, const std::string& path) {
  validate_model(m, path);
  std::map<std::string, StWriteTensor> tensors;
  auto put_c = [&](const std::string& name, const CirculantMatrix& c) {
    tensors[name] = StWriteTensor{{c.p, c.q, c.k}, c.w};
  };
  auto put_d = [&](const std::string& name, std::vector<std::int64_t> shape, const std::vector<float>& v) {
    tensors[name] = StWriteTensor{std::move(shape), v};
  };
  const std::int64_t cell = m.cell_dim;
  for (std::size_t l = 0; l < m.layers.size(); ++l) {
    const Layer& L = m.layers[l];
    const int li = static_cast<int>(l);
    put_c(layer_tensor(li, "w_x"), L.w_x);
    put_c(layer_tensor(li, "w_r"), L.w_r);
    if (m.arch == Arch::lstmp) {
      if (m.proj_dim > 0) put_c(layer_tensor(li, "w_proj"), L.w_proj);
      put_d(layer_tensor(li, "bias"), {4 * cell}, L.bias);
      put_d(layer_tensor(li, "peep"), {3, cell}, L.peep);
    } else {
      put_d(layer_tensor(li, "bias_x"), {3 * cell}, L.bias_x);
      put_d(layer_tensor(li, "bias_r"), {3 * cell}, L.bias_r);
    }
  }
  put_d("output.w", {m.num_classes, m.output_dim()}, m.out_w);
  put_d("output.b", {m.num_classes}, m.out_b);
  if (!m.cmvn_mean.empty()) {
    put_d("input.mean", {m.input_dim}, m.cmvn_mean);
    put_d("input.inv_std", {m.input_dim}, m.cmvn_inv_std);
  }

  std::map<std::string, std::string> meta = m.extra_metadata;
  meta["format"] = kFormat;
  meta["arch"] = arch_name(m.arch);
  meta["layers"] = std::to_string(m.layers.size());
  meta["input_dim"] = std::to_string(m.input_dim);
  meta["cell_dim"] = std::to_string(m.cell_dim);
  meta["proj_dim"] = std::to_string(m.proj_dim);
  meta["num_classes"] = std::to_string(m.num_classes);
  meta["phone_set"] = json(m.phone_set).dump();
  write_safetensors(path, tensors, meta);
}

Model synth_model(const SynthSpec& spec) {
  auto bad = [](const std::string& what) { throw InputError("synthetic model: " + what); };
  auto range = [&](const char* what, std::int64_t v, std::int64_t lo, std::int64_t hi) {
    if (v < lo || v > hi)
      bad(std::string(what) + " " + std::to_string(v) + " is not in [" + std::to_string(lo) + ", " +
          std::to_string(hi) + "]");
  };
  range("layers", spec.layers, 1, kMaxLayers);
  range("input_dim", spec.input_dim, 1, kMaxDim);
  range("cell_dim", spec.cell_dim, 1, kMaxDim);
  range("proj_dim", spec.proj_dim, 0, kMaxDim);
  range("num_classes", spec.num_classes, 1, kMaxDim);
  if (spec.arch == Arch::gru && spec.proj_dim != 0)
    bad("proj_dim " + std::to_string(spec.proj_dim) + ", but a GRU has no projection (must be 0)");
  if (spec.block.size() != 1 && static_cast<int>(spec.block.size()) != spec.layers)
    bad(std::to_string(spec.block.size()) + " block sizes for " + std::to_string(spec.layers) +
        " layers (give one for all layers or one per layer)");
  std::vector<int> block(static_cast<std::size_t>(spec.layers));
  for (int l = 0; l < spec.layers; ++l) {
    const int k = spec.block.size() == 1 ? spec.block[0] : spec.block[static_cast<std::size_t>(l)];
    const std::string where = "block size " + std::to_string(k) + " (layer " + std::to_string(l) + ")";
    if (!allowed_k(k)) bad(where + " is not one of " + allowed_k_list());
    if (spec.cell_dim % k != 0) bad("cell_dim " + std::to_string(spec.cell_dim) + " is not a multiple of " + where);
    if (spec.proj_dim > 0 && spec.proj_dim % k != 0)
      bad("proj_dim " + std::to_string(spec.proj_dim) + " is not a multiple of " + where);
    block[static_cast<std::size_t>(l)] = k;
  }

  Model m;
  m.arch = spec.arch;
  m.input_dim = spec.input_dim;
  m.cell_dim = spec.cell_dim;
  m.proj_dim = spec.proj_dim;
  m.num_classes = spec.num_classes;
  const std::int64_t gates = m.gates();
  const std::int64_t cell = m.cell_dim;
  const std::int64_t out = m.output_dim();

  // Count before allocating: the dims pass their bounds one by one but their products can still be huge.
  std::int64_t total = m.num_classes * (out + 1);
  for (int l = 0; l < spec.layers; ++l) {
    const std::int64_t k = block[static_cast<std::size_t>(l)];
    const std::int64_t in = l == 0 ? m.input_dim : out;
    total += gates * cell / k * ceil_div(in, k) * k + gates * cell / k * out;
    total += m.proj_dim * cell / k + 7 * cell;
  }
  if (total > kMaxSynthParams)
    bad(std::to_string(total) + " parameters is more than the " + std::to_string(kMaxSynthParams) + " allowed");

  const std::uint64_t seed = spec.seed;
  auto circ = [&](const std::string& name, std::int64_t rows, std::int64_t cols, std::int64_t k) {
    CirculantMatrix c;
    c.k = static_cast<int>(k);
    c.p = static_cast<int>(rows / k);
    c.q = static_cast<int>(ceil_div(cols, k));
    // fan_in is the expanded dense width the matrix multiplies: for w_x the zero-padded input (q*k).
    c.w = synth_values(seed, name, c.params(), inv_sqrt(static_cast<std::int64_t>(c.q) * k));
    return c;
  };
  // Small biases and peepholes keep the gates near their linear range at the start.
  constexpr float kBias = 0.1f;
  for (int l = 0; l < spec.layers; ++l) {
    const std::int64_t k = block[static_cast<std::size_t>(l)];
    Layer L;
    L.input_dim = static_cast<int>(l == 0 ? m.input_dim : out);
    L.w_x = circ(layer_tensor(l, "w_x"), gates * cell, L.input_dim, k);
    L.w_r = circ(layer_tensor(l, "w_r"), gates * cell, out, k);
    if (m.arch == Arch::lstmp) {
      if (m.proj_dim > 0) L.w_proj = circ(layer_tensor(l, "w_proj"), m.proj_dim, cell, k);
      L.bias = synth_values(seed, layer_tensor(l, "bias"), 4 * cell, kBias);
      // A forget-gate bias of +1 (Gers et al. 2000; Jozefowicz et al. 2015) keeps the cell state from being
      // wiped every frame, so a random model still has memory.
      for (std::int64_t i = cell; i < 2 * cell; ++i) L.bias[static_cast<std::size_t>(i)] += 1.0f;
      L.peep = synth_values(seed, layer_tensor(l, "peep"), 3 * cell, kBias);
    } else {
      L.bias_x = synth_values(seed, layer_tensor(l, "bias_x"), 3 * cell, kBias);
      L.bias_r = synth_values(seed, layer_tensor(l, "bias_r"), 3 * cell, kBias);
    }
    m.layers.push_back(std::move(L));
  }
  m.out_w = synth_values(seed, "output.w", m.num_classes * out, inv_sqrt(out));
  m.out_b = synth_values(seed, "output.b", m.num_classes, kBias);

  if (m.num_classes == 39) {
    m.phone_set = timit39_phones();
  } else {
    m.phone_set.push_back("sil");
    for (int i = 1; i < m.num_classes; ++i) m.phone_set.push_back("p" + std::to_string(i));
  }
  m.extra_metadata["synth_seed"] = std::to_string(seed);
  m.extra_metadata["synth_rng"] = "splitmix64(seed ^ fnv1a64(tensor name)), uniform 24-bit";
  validate_model(m, "synthetic model");
  return m;
}

ModelStats model_stats(const Model& m) {
  ModelStats s;
  auto circ = [&](const CirculantMatrix& c, std::int64_t logical_cols) {
    s.circulant_params += c.params();
    s.circulant_dense_params += static_cast<std::int64_t>(c.rows()) * logical_cols;
  };
  std::int64_t other = 0;
  for (const Layer& L : m.layers) {
    circ(L.w_x, L.input_dim);
    circ(L.w_r, m.output_dim());
    if (m.proj_dim > 0) circ(L.w_proj, m.cell_dim);
    other += static_cast<std::int64_t>(L.bias.size() + L.peep.size() + L.bias_x.size() + L.bias_r.size());
  }
  other += static_cast<std::int64_t>(m.out_w.size() + m.out_b.size());
  s.params = s.circulant_params + other;
  s.dense_params = s.circulant_dense_params + other;
  return s;
}

std::vector<MatvecShape> frame_matvecs(const Model& m) {
  std::vector<MatvecShape> out;
  int in = m.input_dim;
  for (std::size_t l = 0; l < m.layers.size(); ++l) {
    const Layer& L = m.layers[l];
    const std::string pre = "layer " + std::to_string(l) + " ";
    const int cell = m.cell_dim;
    const int rec = m.arch == Arch::lstmp && m.proj_dim > 0 ? m.proj_dim : cell;
    const int gates = m.arch == Arch::lstmp ? 4 : 3;
    const int kx = L.w_x.k, kr = L.w_r.k;
    const int qx = (in + kx - 1) / kx, qr = rec / kr;
    // An LSTMP whose input and recurrent matrices share k accumulates both in one frequency sum: one matvec over
    // [x | r'] and one IFFT per gate block row. GRU keeps them apart (n needs W_nr h' on its own).
    if (m.arch == Arch::lstmp && kx == kr) {
      out.push_back({pre + "gates [W_x | W_r]", gates * cell / kx, qx + qr, kx, gates, static_cast<int>(l)});
    } else {
      out.push_back({pre + "gates W_x", gates * cell / kx, qx, kx, gates, static_cast<int>(l)});
      out.push_back({pre + "gates W_r", gates * cell / kr, qr, kr, gates, static_cast<int>(l)});
    }
    if (m.arch == Arch::lstmp && m.proj_dim > 0)
      out.push_back({pre + "projection", m.proj_dim / L.w_proj.k, cell / L.w_proj.k, L.w_proj.k, 1,
                     static_cast<int>(l), true});
    in = rec;
  }
  out.push_back({"output (dense)", m.num_classes, in, 1, 1});
  return out;
}

}  // namespace circa
