#include "tests/fuzz/fuzz_targets.hpp"

#include <algorithm>
#include <cstdint>
#include <stdexcept>

#include "core/alignment.hpp"
#include "core/error.hpp"
#include "core/fft.hpp"
#include "core/kaldi_io.hpp"
#include "core/model.hpp"
#include "core/npy.hpp"
#include "core/numerics.hpp"
#include "core/safetensors.hpp"
#include "platform/hw_config.hpp"
#include "hwif/circa_regs.h"
#include "hwif/descriptor.hpp"

namespace circa::fuzz {
namespace {

// The CLI prints an InputError as one line on stderr, so a message that breaks the line or carries terminal control
// bytes from the file is a bug too, as is one that does not say which file it is about.
void check_message(const std::string& msg, const std::string& name, bool allow_option_prefix) {
  for (char c : msg) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) throw std::logic_error("InputError message holds a control byte: " + msg);
  }
  const bool named = msg.rfind(name + ": ", 0) == 0;
  const bool option = allow_option_prefix && (msg.rfind("option --", 0) == 0 || msg.rfind("command line: ", 0) == 0);
  if (!named && !option) throw std::logic_error("InputError message does not start with '" + name + ": ': " + msg);
}

// Runs one parse; false if it was rejected properly.
template <class F>
bool accepts(const std::string& name, F&& parse, bool allow_option_prefix = false) {
  try {
    parse();
    return true;
  } catch (const InputError& e) {
    check_message(e.what(), name, allow_option_prefix);
    return false;
  }
}

void check_matrix(const Matrix& m, const char* what) {
  if (m.data.size() != m.rows * m.cols)
    throw std::logic_error(std::string(what) + ": parsed matrix holds " + std::to_string(m.data.size()) +
                           " values for " + std::to_string(m.rows) + " x " + std::to_string(m.cols));
}

bool feed_safetensors(const std::string& in) {
  const std::string name = "fuzz.safetensors";
  // The container first, with every float tensor decoded, then the model checks on top of it.
  const bool container = accepts(name, [&] {
    const SafeTensors st = parse_safetensors(in, name);
    for (const auto& [tname, t] : st.tensors) {
      if (t.dtype == DType::F32 || t.dtype == DType::F64 || t.dtype == DType::F16 || t.dtype == DType::BF16) {
        if (st.to_float(tname).size() != t.elements()) throw std::logic_error("to_float size differs from the shape");
      }
    }
  });
  if (!container) return false;
  return accepts(name, [&] { (void)parse_model(in, name); });
}

bool feed_ark(const std::string& in) {
  const std::string name = "fuzz.ark";
  bool ok = accepts(name, [&] {
    for (const Utterance& u : parse_ark(in, name)) check_matrix(u.mat, "parse_ark");
  });
  // The scp cases: a single-object file (offset 0) and an ark entry whose offset follows the first key.
  if (!in.empty()) ok |= accepts(name, [&] { check_matrix(parse_matrix_at(in, 0, name), "parse_matrix_at"); });
  const auto space = in.find(' ');
  if (space != std::string::npos && space < 64)
    ok |= accepts(name, [&] { check_matrix(parse_matrix_at(in, space + 1, name), "parse_matrix_at"); });
  return ok;
}

bool feed_scp(const std::string& in) {
  const std::string name = "fuzz.scp";
  return accepts(name, [&] {
    for (const ScpEntry& e : parse_scp(in, name, "/data"))
      if (e.key.empty() || e.ark_path.empty() || e.line == 0) throw std::logic_error("parse_scp: incomplete entry");
  });
}

bool feed_npy(const std::string& in) {
  const std::string name = "fuzz.npy";
  return accepts(name, [&] { check_matrix(parse_npy(in, name), "parse_npy"); });
}

bool feed_alignment(const std::string& in) {
  const std::string name = "fuzz.ali";
  const std::vector<std::string>& phones = timit39_phones();
  return accepts(name, [&] {
    for (const Alignment& a : parse_alignment(in, name, phones)) {
      if (a.phones.empty()) throw std::logic_error("parse_alignment: utterance without frames");
      for (int p : a.phones)
        if (p < 0 || p >= static_cast<int>(phones.size()))
          throw std::logic_error("parse_alignment: phone index out of range");
    }
  });
}

// The INI text, then optionally a NUL byte and command-line overrides ("section.key=value"), one per line.
bool feed_hw_config(const std::string& in) {
  const std::string name = "fuzz.ini";
  const auto nul = in.find('\0');
  const std::string ini = in.substr(0, nul);
  std::vector<std::string> overrides;
  if (nul != std::string::npos) {
    std::size_t pos = nul + 1;
    while (pos <= in.size()) {
      auto nl = in.find('\n', pos);
      if (nl == std::string::npos) nl = in.size();
      if (nl > pos) overrides.push_back(in.substr(pos, nl - pos));
      pos = nl + 1;
    }
  }
  return accepts(
      name, [&] { (void)numerics_of(load_hw_config_text(ini, name, overrides)); }, !overrides.empty());
}

// [addr, addr + bytes) inside the DDR window, in arithmetic that cannot wrap.
bool inside_ddr(std::uint64_t addr, unsigned __int128 bytes) {
  return addr % kDescAlign == 0 && addr >= kDescDdrBase &&
         static_cast<unsigned __int128>(addr) + bytes <= static_cast<unsigned __int128>(kDescDdrBase) + kDescDdrSize;
}

// What an accepted descriptor promises the device: every block size supported and dividing what it must, the layer
// chain consistent, every buffer it names inside DDR. Recomputed here from the fields, independently of the
// validator's own arithmetic.
void check_accepted(const JobDesc& d, const DeviceCaps& caps) {
  auto fail = [](const std::string& what) { throw std::logic_error("accepted descriptor: " + what); };
  if (d.layers.empty() || d.layers.size() > caps.max_layers) fail("layer count");
  if (d.frames == 0 || d.input_dim == 0 || d.classes == 0) fail("zero dimension");
  if (d.frames > caps.max_frames || d.input_dim > caps.max_dim || d.classes > caps.max_dim) fail("capacity");
  const bool gru = d.arch == Arch::gru;
  const unsigned __int128 aw = word_bytes(d.act), cw = word_bytes(d.cell), ww = word_bytes(d.weight);
  const unsigned G = gru ? 3 : 4;
  auto supported = [&](int k) {
    return valid_block_size(k) && ((caps.k_mask >> __builtin_ctz(static_cast<unsigned>(k))) & 1u);
  };
  auto weights = [&](std::uint64_t rows, std::uint64_t cols, int k) {  // packed bytes of a rows x cols matrix
    const unsigned __int128 p = rows / static_cast<unsigned>(k),
                            q = (cols + static_cast<unsigned>(k) - 1) / static_cast<unsigned>(k);
    return static_cast<unsigned __int128>(k / 2 + 1) * ((p + 7) / 8) * q * 16 * ww;
  };
  std::uint64_t in = d.input_dim;
  unsigned __int128 state_area = 0;  // one stream's layer states, each starting 64-byte aligned
  for (const LayerDesc& L : d.layers) {
    if (L.in_dim != in || L.cell == 0 || L.cell > caps.max_dim || L.proj > caps.max_dim) fail("layer dims");
    if (!supported(L.k_x) || !supported(L.k_r)) fail("block size");
    const std::uint64_t rec = gru ? L.cell : (L.proj ? L.proj : L.cell);
    if (L.cell % L.k_x || L.cell % L.k_r || rec % L.k_r) fail("a block straddles a gate");
    const std::uint64_t rows = static_cast<std::uint64_t>(G) * L.cell;
    if (!gru && L.k_x == L.k_r) {
      // Joint [W_x | W_r]: the input blocks of both, one row of blocks per output block row.
      const unsigned __int128 q = (L.in_dim + L.k_x - 1) / L.k_x + rec / L.k_r;
      if (!inside_ddr(L.w_x, weights(rows, q * L.k_x, L.k_x))) fail("w_x (joint) outside DDR");
    } else {
      if (!inside_ddr(L.w_x, weights(rows, L.in_dim, L.k_x))) fail("w_x outside DDR");
      if (!inside_ddr(L.w_r, weights(rows, rec, L.k_r))) fail("w_r outside DDR");
    }
    if (!gru && L.proj) {
      if (!supported(L.k_proj) || L.proj % L.k_proj || L.cell % L.k_proj) fail("projection block size");
      if (!inside_ddr(L.w_proj, weights(L.proj, L.cell, L.k_proj))) fail("w_proj outside DDR");
    }
    if (gru && L.proj) fail("GRU with a projection");
    if (!inside_ddr(L.bias, rows * aw)) fail("bias outside DDR");
    if (gru && !inside_ddr(L.bias_r, rows * aw)) fail("bias_r outside DDR");
    if (!gru && !inside_ddr(L.peep, 3 * static_cast<unsigned __int128>(L.cell) * ww)) fail("peep outside DDR");
    if (!inside_ddr(L.state, L.cell * cw + rec * aw)) fail("state outside DDR");
    state_area = (state_area + 63) / 64 * 64 + L.cell * cw + rec * aw;
    in = rec;
  }
  if (d.ring != (d.ring_slots > 0)) fail("ring flag and slot count disagree");
  if (d.streams.size() + 1 > caps.max_streams) fail("too many streams");
  auto in_frames = [&](std::uint32_t frames) {
    return static_cast<unsigned __int128>(d.ring ? std::min(d.ring_slots, frames) : frames);
  };
  for (const StreamDesc& st : d.streams) {
    if (st.frames == 0 || st.frames > caps.max_frames) fail("stream frames");
    if (!inside_ddr(st.input, in_frames(st.frames) * d.input_dim * aw)) fail("stream input outside DDR");
    if (!inside_ddr(st.output, static_cast<unsigned __int128>(st.frames) * d.classes * aw))
      fail("stream output outside DDR");
    if (!inside_ddr(st.state, state_area)) fail("stream state outside DDR");
  }
  if (!inside_ddr(d.input, in_frames(d.frames) * d.input_dim * aw)) fail("input outside DDR");
  if (!inside_ddr(d.output, static_cast<unsigned __int128>(d.frames) * d.classes * aw)) fail("output outside DDR");
  if (!inside_ddr(d.out_w, weights(d.classes, in, 1))) fail("out_w outside DDR");
  if (!inside_ddr(d.out_b, d.classes * aw)) fail("out_b outside DDR");
}

// The bytes of a job descriptor as the device fetches them from DDR, validated against the default hardware (the
// numerics the seeds were packed with). Beyond not crashing: the code is one the validator may return, the header
// parser alone agrees with the full validation on header errors, an accepted descriptor keeps its promises
// (check_accepted) and serializes back to exactly its bytes (every byte is a field or a reserved zero).
bool feed_descriptor(const std::string& in) {
  const Numerics num;
  DeviceCaps caps;
  caps.weight = num.weight;
  caps.act = num.act;
  caps.cell = num.cell;
  caps.rounding = num.rounding;
  caps.ddr_base = kDescDdrBase;
  caps.ddr_size = kDescDdrSize;
  // Exactly as long as the input, so reading one byte past it is a heap overflow that ASan reports.
  const std::vector<std::uint8_t> b(in.begin(), in.end());
  const std::uint8_t* p = b.empty() ? nullptr : b.data();
  JobDesc head, d;
  const int eh = parse_descriptor_header(p, b.size(), caps, head);
  const int e = validate_descriptor(p, b.size(), caps, d);
  switch (e) {
    case 0:
    case CIRCA_ERR_DESC_FORMAT:
    case CIRCA_ERR_ADDR_RANGE:
    case CIRCA_ERR_ADDR_ALIGN:
    case CIRCA_ERR_BLOCK_SIZE:
    case CIRCA_ERR_BITS:
    case CIRCA_ERR_CAPACITY:
    case CIRCA_ERR_DIMS:
    case CIRCA_ERR_ARCH:
      break;
    default:
      throw std::logic_error("validate_descriptor returned " + std::to_string(e) + ", not a validation code");
  }
  if (eh != 0 && e != eh)
    throw std::logic_error("header error " + std::to_string(eh) + " but validation says " + std::to_string(e));
  if (e != 0) return false;
  check_accepted(d, caps);
  const std::string back = serialize_descriptor(d);
  if (back.size() > in.size() || in.compare(0, back.size(), back) != 0)
    throw std::logic_error("an accepted descriptor does not serialize back to its own bytes");
  return true;
}

}  // namespace

const std::vector<Target>& targets() {
  static const std::vector<Target> all = {
      {"safetensors", feed_safetensors},
      {"ark", feed_ark},
      {"scp", feed_scp},
      {"npy", feed_npy},
      {"alignment", feed_alignment},
      {"hw_config", feed_hw_config},
      {"descriptor", feed_descriptor},
  };
  return all;
}

const Target& target(const std::string& name) {
  for (const Target& t : targets())
    if (name == t.name) return t;
  throw std::invalid_argument("no fuzz target named '" + name + "'");
}

}  // namespace circa::fuzz
