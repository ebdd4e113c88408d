// circa: Kaldi archive (ark) and script (scp) files, float matrices only.
//
// Reading: binary matrices "FM" (float32) and "DM" (float64, narrowed to float), compressed matrices "CM", "CM2",
// "CM3", and text matrices ("key  [ 1 2\n 3 4 ]"). Writing: binary "FM" or text. Every read is validated
// completely before use; any defect throws InputError naming the file and the byte offset (binary) or line (text).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/matrix.hpp"

namespace circa {

// Reads every matrix of an ark file (binary and text entries may be mixed, as Kaldi allows).
std::vector<Utterance> read_ark(const std::string& path);

// Parses an ark held in memory; `name` is used in error messages.
std::vector<Utterance> parse_ark(const std::string& bytes, const std::string& name);

// Reads exactly one matrix of `bytes` starting at `offset` (the scp "file.ark:offset" case: offset points at the
// matrix header, just after the key). `name` is used in error messages.
Matrix parse_matrix_at(const std::string& bytes, std::uint64_t offset, const std::string& name);

struct ScpEntry {
  std::string key;
  std::string ark_path;     // resolved relative to the scp's folder when not absolute
  std::uint64_t offset = 0; // byte offset of the matrix header; has_offset false means "first matrix in file"
  bool has_offset = false;
  std::uint64_t line = 0;   // 1-based line in the scp, for error messages
};

// Parses an scp file ("key path[:offset]" per line). Lines are validated; duplicate keys are an error.
std::vector<ScpEntry> read_scp(const std::string& path);
// The same on text held in memory: `name` is used in error messages, and relative ark paths are resolved against
// `base_dir` (left as they are when it is empty).
std::vector<ScpEntry> parse_scp(const std::string& text, const std::string& name, const std::string& base_dir);

// Reads the matrices an scp points at, in scp order.
std::vector<Utterance> load_scp(const std::string& path);

enum class ArkFormat { binary, text };

// Writes an ark (atomically: temporary + rename). When scp_path is non-empty, also writes an scp whose offsets point
// into the ark (written atomically too, after the ark).
void write_ark(const std::string& path, const std::vector<Utterance>& utts, ArkFormat fmt = ArkFormat::binary,
               const std::string& scp_path = "");

// Serialises an ark to memory (binary FM or text); `offsets` (if given) receives each matrix header's offset.
std::string serialize_ark(const std::vector<Utterance>& utts, ArkFormat fmt,
                          std::vector<std::uint64_t>* offsets = nullptr);

}  // namespace circa
