// circa: the safetensors container (8-byte little-endian header length, JSON header, raw little-endian tensors).
//
// This layer knows the container only; core/model.hpp knows what circa's tensors mean. Validation is complete
// before any tensor is used: header length within the file, JSON well formed, every dtype known, shape x dtype size
// equal to the byte span, offsets inside the data area and not overlapping. Errors throw InputError naming the file
// and the byte offset.
//
// Like the reference implementation (huggingface/safetensors, Metadata::validate), the tensors must tile the data
// area exactly: sorted by offset they start at 0, each begins where the previous one ends, and the last one ends at
// the end of the file. A file with holes or trailing bytes is rejected, since the reference cannot read it either.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace circa {

enum class DType { BOOL, U8, I8, U16, I16, F16, BF16, U32, I32, F32, U64, I64, F64, F8_E4M3, F8_E5M2 };

const char* dtype_name(DType t);
std::size_t dtype_size(DType t);

struct StTensor {
  DType dtype = DType::F32;
  std::vector<std::int64_t> shape;
  std::uint64_t begin = 0;  // offsets relative to the data area, as in the file
  std::uint64_t end = 0;
  std::uint64_t elements() const;
};

struct SafeTensors {
  std::string path;                             // for error messages
  std::map<std::string, std::string> metadata;  // __metadata__ (string values)
  std::map<std::string, StTensor> tensors;
  std::string bytes;             // the whole file
  std::uint64_t data_start = 0;  // 8 + header length

  // File offsets of the header text, so that later checks (core/model.cpp) can point at the offending entry:
  // entry_pos[name] is where the tensor's key (its opening quote) sits, "__metadata__" included; metadata_pos[key]
  // is where a metadata key sits.
  std::map<std::string, std::uint64_t> entry_pos;
  std::map<std::string, std::uint64_t> metadata_pos;

  // Header position of a tensor's entry (or of a metadata key); 8, the start of the header, if unknown.
  std::uint64_t entry_offset(const std::string& name) const;
  std::uint64_t metadata_offset(const std::string& key) const;
  // Absolute file offset of a tensor's first data byte.
  std::uint64_t data_offset(const std::string& name) const;

  // Converts a float tensor (F32, F64, F16, BF16) to float. Throws InputError for other dtypes.
  std::vector<float> to_float(const std::string& name) const;
};

SafeTensors read_safetensors(const std::string& path);
SafeTensors parse_safetensors(std::string bytes, const std::string& name);

// Exact IEEE 754 binary16 / bfloat16 to binary32 conversions (subnormals, infinities and NaN payloads included).
float half_to_float(std::uint16_t h);
float bf16_to_float(std::uint16_t h);

// Writes float32 tensors (name -> shape + data) and string metadata, atomically. Tensors are laid out in name order,
// the header padded with spaces to a multiple of 8 bytes, as the reference implementation does.
struct StWriteTensor {
  std::vector<std::int64_t> shape;
  std::vector<float> data;
};
std::string serialize_safetensors(const std::map<std::string, StWriteTensor>& tensors,
                                  const std::map<std::string, std::string>& metadata);
void write_safetensors(const std::string& path, const std::map<std::string, StWriteTensor>& tensors,
                       const std::map<std::string, std::string>& metadata);

}  // namespace circa
