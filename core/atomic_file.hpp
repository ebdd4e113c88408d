// circa: write-to-temporary-then-rename, so a failed or interrupted run never leaves a partial output file.
#pragma once

#include <cstddef>
#include <string>

namespace circa {

class AtomicFile {
public:
  // Opens "<path>.tmp-<pid>" in the destination's folder. Throws InputError if it cannot be created.
  explicit AtomicFile(std::string path);
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  // Removes the temporary unless commit() succeeded.
  ~AtomicFile();

  void write(const void* data, std::size_t n);
  void write(const std::string& s) { write(s.data(), s.size()); }
  // Flushes, fsyncs and renames onto the final path. Throws InputError on any I/O failure.
  void commit();
  const std::string& path() const { return path_; }
  const std::string& temp_path() const { return tmp_; }

private:
  std::string path_;
  std::string tmp_;
  int fd_ = -1;
  bool committed_ = false;
};

// Whole-file helpers built on AtomicFile.
void write_file_atomic(const std::string& path, const std::string& bytes);
// Reads a whole file; throws InputError naming the file if it cannot be opened or read.
std::string read_file(const std::string& path);

}  // namespace circa
