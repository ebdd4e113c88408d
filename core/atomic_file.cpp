#include "core/atomic_file.hpp"

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.hpp"

namespace circa {

namespace {

// The temporaries alive right now, for the signal handler. A handler may not allocate or take locks, so this is
// fixed storage whose slots are claimed and released with lock-free atomics; the handler reads only slots marked
// live, whose path is complete.
constexpr int kLiveSlots = 32;
constexpr std::size_t kPathBytes = 4096;
enum : int { kFree = 0, kFilling = 1, kLive = 2 };
struct LiveSlot {
  std::atomic<int> state{kFree};
  char path[kPathBytes];
};
static_assert(std::atomic<int>::is_always_lock_free, "the signal handler needs lock-free atomics");
LiveSlot g_live[kLiveSlots];

int register_temp(const std::string& p) {
  if (p.size() >= kPathBytes) return -1;
  for (int i = 0; i < kLiveSlots; ++i) {
    int expected = kFree;
    if (g_live[i].state.compare_exchange_strong(expected, kFilling)) {
      std::memcpy(g_live[i].path, p.c_str(), p.size() + 1);
      g_live[i].state.store(kLive);
      return i;
    }
  }
  return -1;  // full: still removed on every normal path, only not by the handler
}

void release_temp(int slot) {
  if (slot >= 0) g_live[slot].state.store(kFree);
}

const int kCleanupSignals[] = {SIGINT, SIGTERM, SIGHUP};

void unlink_temporaries_and_die(int sig) {
  for (LiveSlot& s : g_live)
    if (s.state.load() == kLive) ::unlink(s.path);
  // Back to the default action and deliver the signal again (it is blocked until this handler returns), so the
  // parent sees the process killed by the signal it sent.
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  ::sigaction(sig, &dfl, nullptr);
  ::raise(sig);
}

}  // namespace

void install_interrupt_cleanup() {
  for (int sig : kCleanupSignals) {
    struct sigaction old {};
    if (::sigaction(sig, nullptr, &old) != 0 || old.sa_handler == SIG_IGN) continue;  // nohup, background jobs
    struct sigaction sa {};
    sa.sa_handler = unlink_temporaries_and_die;
    sigemptyset(&sa.sa_mask);
    // One handler run for all of them: a second signal arriving mid-cleanup waits, then kills as the first did.
    for (int other : kCleanupSignals) sigaddset(&sa.sa_mask, other);
    ::sigaction(sig, &sa, nullptr);
  }
}

AtomicFile::AtomicFile(std::string path) : path_(std::move(path)) {
  tmp_ = path_ + ".tmp-" + std::to_string(::getpid());
  // Registered before it exists, so there is no moment when a signal could leave it behind unregistered.
  slot_ = register_temp(tmp_);
  fd_ = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) {
    const int err = errno;
    release_temp(slot_);
    fail_in(path_, std::string("cannot create output: ") + std::strerror(err));
  }
}

AtomicFile::~AtomicFile() {
  if (fd_ >= 0) ::close(fd_);
  if (!committed_) ::unlink(tmp_.c_str());
  release_temp(slot_);
}

void AtomicFile::write(const void* data, std::size_t n) {
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    ssize_t w = ::write(fd_, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      fail_in(path_, std::string("write failed: ") + std::strerror(errno));
    }
    p += w;
    n -= static_cast<std::size_t>(w);
  }
}

void AtomicFile::commit() {
  if (::fsync(fd_) != 0) fail_in(path_, std::string("fsync failed: ") + std::strerror(errno));
  if (::close(fd_) != 0) {
    fd_ = -1;
    fail_in(path_, std::string("close failed: ") + std::strerror(errno));
  }
  fd_ = -1;
  if (::rename(tmp_.c_str(), path_.c_str()) != 0)
    fail_in(path_, std::string("rename failed: ") + std::strerror(errno));
  committed_ = true;
  // After the rename: a signal in between finds the temporary gone, and unlinking it then is harmless.
  release_temp(slot_);
  slot_ = -1;
}

void write_file_atomic(const std::string& path, const std::string& bytes) {
  AtomicFile f(path);
  f.write(bytes);
  f.commit();
}

std::string read_file(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) fail_in(path, std::string("cannot open: ") + std::strerror(errno));
  if (S_ISDIR(st.st_mode)) fail_in(path, "is a directory, expected a file");
  std::ifstream in(path, std::ios::binary);
  if (!in) fail_in(path, std::string("cannot open: ") + std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) fail_in(path, "read error");
  return ss.str();
}

}  // namespace circa
