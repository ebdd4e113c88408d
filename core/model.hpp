// circa: the block-circulant LSTMP / GRU model as circa's formats define it (docs/formats.md, "Models").
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace circa {

enum class Arch { lstmp, gru };
const char* arch_name(Arch a);

// A block-circulant matrix of p x q blocks of size k, stored as first columns: w[(i*q + j)*k + t] = w_ij[t], so
// W_ij[r][c] = w_ij[(r - c) mod k]. k = 1 is a dense matrix. rows = p*k; the logical column count may be smaller
// than q*k (zero-padded input).
struct CirculantMatrix {
  int p = 0;  // block rows
  int q = 0;  // block columns
  int k = 1;  // block size
  std::vector<float> w;
  int rows() const { return p * k; }
  int padded_cols() const { return q * k; }
  std::int64_t params() const { return static_cast<std::int64_t>(p) * q * k; }
};

struct Layer {
  int input_dim = 0;  // logical input width of this layer
  CirculantMatrix w_x;     // LSTMP: [4*cell/k, ceil(in/k), k]  GRU: [3*hid/k, ceil(in/k), k]
  CirculantMatrix w_r;     // LSTMP: [4*cell/k, rec/k, k] (rec = proj or cell)  GRU: [3*hid/k, hid/k, k]
  CirculantMatrix w_proj;  // LSTMP with proj_dim > 0: [proj/k, cell/k, k]; otherwise empty (p = 0)
  std::vector<float> bias;    // LSTMP: [4*cell]
  std::vector<float> peep;    // LSTMP: [3*cell], order i, f, o
  std::vector<float> bias_x;  // GRU: [3*hid]
  std::vector<float> bias_r;  // GRU: [3*hid]
};

struct Model {
  Arch arch = Arch::lstmp;
  int input_dim = 0;
  int cell_dim = 0;
  int proj_dim = 0;  // 0 = no projection (always 0 for GRU)
  int num_classes = 0;
  std::vector<std::string> phone_set;  // class names in class order; contains "sil"
  std::vector<Layer> layers;
  std::vector<float> out_w;  // [classes][out_in], dense
  std::vector<float> out_b;  // [classes]
  std::vector<float> cmvn_mean;     // [input_dim] or empty
  std::vector<float> cmvn_inv_std;  // [input_dim] or empty
  std::map<std::string, std::string> extra_metadata;  // metadata keys circa does not interpret, kept on save

  // Width of the recurrent vector r fed back into w_r and of the layer output (proj if any, else cell).
  int output_dim() const { return proj_dim > 0 ? proj_dim : cell_dim; }
  int gates() const { return arch == Arch::lstmp ? 4 : 3; }
};

// Loads and validates completely: metadata present and well formed (format "circa-lstmp/1", arch, layers,
// input_dim, cell_dim, proj_dim, num_classes, phone_set with "sil" and num_classes unique names), exactly the
// expected tensor set for the arch, every shape consistent with the dims, k in {1,2,4,8,16,32,64}, cell_dim and
// proj_dim multiples of every k that touches them, all values finite. Throws InputError naming file and tensor.
Model load_model(const std::string& path);
// The same on a file already in memory; `name` is used in error messages.
Model parse_model(std::string bytes, const std::string& name);

// Checks the same invariants on an in-memory model (used by load_model and before save).
void validate_model(const Model& m, const std::string& source);

// Writes the model as safetensors (atomic).
void save_model(const Model& m, const std::string& path);

// The 39 folded TIMIT phones, in circa's class order ("sil" first).
const std::vector<std::string>& timit39_phones();

struct SynthSpec {
  Arch arch = Arch::lstmp;
  int input_dim = 153;
  int cell_dim = 128;
  int proj_dim = 64;
  int layers = 1;
  std::vector<int> block = {8};  // one per layer, or a single value for all layers
  int num_classes = 39;
  std::uint64_t seed = 1;
};

// A deterministic random model (same spec -> byte-identical file on every platform). Weights are scaled so the
// gates neither saturate nor vanish (uniform in +-1/sqrt(fan_in), fan_in counting the expanded dense width).
// Throws InputError if the spec is inconsistent.
Model synth_model(const SynthSpec& spec);

// Facts for `circa model info`.
struct ModelStats {
  std::int64_t params = 0;        // stored parameters (circulant first columns + biases + peepholes + output)
  std::int64_t dense_params = 0;  // the same model with every circulant matrix expanded
  std::int64_t circulant_params = 0;
  std::int64_t circulant_dense_params = 0;
};
ModelStats model_stats(const Model& m);

// One block-circulant (or, with k = 1, dense) matrix-vector product of a frame.
struct MatvecShape {
  std::string name;  // "layer 0 gates", "layer 0 projection", "output", ...
  int p = 0;         // block rows
  int q = 0;         // block columns (input blocks)
  int k = 1;         // block size
  int gates = 1;     // gate matrices stacked in its rows (the gate matvecs: 4 for an LSTMP, 3 for a GRU)
  int layer = -1;    // the layer it belongs to (-1: the output layer)
  bool projection = false;
  int bins() const { return k / 2 + 1; }
};

// The matvecs of one frame of `m`, in the order the accelerator runs them (docs/perf.md, "The matvecs of a frame").
std::vector<MatvecShape> frame_matvecs(const Model& m);

}  // namespace circa
