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
  int slot_ = -1;  // in the registry of live temporaries that install_interrupt_cleanup's handler unlinks
  bool committed_ = false;
};

// Installs handlers for SIGINT, SIGTERM and SIGHUP that unlink the temporary of every AtomicFile not yet committed
// or destroyed, then let the signal end the process as it would have (a shell sees 130 after ^C), so an interrupted
// run leaves the previous output, or none, and no "<path>.tmp-<pid>". A signal the process ignores stays ignored.
// Call once, early in main. Only the first 32 temporaries open at the same time are covered.
void install_interrupt_cleanup();

// Whole-file helpers built on AtomicFile.
void write_file_atomic(const std::string& path, const std::string& bytes);
// Reads a whole file; throws InputError naming the file if it cannot be opened or read.
std::string read_file(const std::string& path);

}  // namespace circa
