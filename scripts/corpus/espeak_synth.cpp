#include "scripts/corpus/espeak_synth.hpp"

#include <espeak-ng/speak_lib.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <stdexcept>

#include "core/error.hpp"

namespace circa::corpus {

void ByteReader::get_bytes(void* p, std::size_t n) {
  if (n > in_.size() - pos_) throw std::runtime_error("worker result is truncated");
  std::memcpy(p, in_.data() + pos_, n);
  pos_ += n;
}

std::string ByteReader::get_string() {
  const auto n = get<std::uint64_t>();
  if (n > in_.size() - pos_) throw std::runtime_error("worker result is truncated");
  std::string s = in_.substr(pos_, n);
  pos_ += n;
  return s;
}

namespace {

// The child synthesises exactly one message, on this thread, so a process-global target is all it needs.
Synthesis* g_target = nullptr;

int on_synth(short* wav, int n, espeak_EVENT* ev) {
  if (wav && n > 0) g_target->samples.insert(g_target->samples.end(), wav, wav + n);
  for (; ev && ev->type != espeakEVENT_LIST_TERMINATED; ++ev) {
    if (ev->type != espeakEVENT_PHONEME) continue;
    // id.string is NUL-terminated unless the name fills all 8 bytes.
    const std::size_t len = strnlen(ev->id.string, sizeof ev->id.string);
    g_target->phonemes.push_back({std::string(ev->id.string, len), static_cast<std::int64_t>(ev->sample)});
  }
  return 0;
}

void write_all(int fd, const char* p, std::size_t n) {
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) _exit(3);  // the parent is gone; nobody to report to
    p += w;
    n -= static_cast<std::size_t>(w);
  }
}

}  // namespace

Synthesis synthesize_in_fresh_process(const VoiceSpec& voice, const std::string& text, bool ipa) {
  Synthesis out;
  const int options =
      espeakINITIALIZE_PHONEME_EVENTS | espeakINITIALIZE_DONT_EXIT | (ipa ? espeakINITIALIZE_PHONEME_IPA : 0);
  out.sample_rate = espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, nullptr, options);
  if (out.sample_rate <= 0) throw InputError("espeak-ng: cannot initialise (is espeak-ng-data installed?)");
  g_target = &out;
  espeak_SetSynthCallback(on_synth);
  const std::string name = voice.espeak_name + (voice.variant.empty() ? "" : "+" + voice.variant);
  if (espeak_SetVoiceByName(name.c_str()) != EE_OK)
    throw InputError("espeak-ng has no voice '" + voice.espeak_name + "'");
  // An unknown variant is silently dropped by espeak; its identifier then lacks the "+variant" suffix.
  const espeak_VOICE* v = espeak_GetCurrentVoice();
  const std::string suffix = "+" + voice.variant;
  const std::string id = v && v->identifier ? v->identifier : "";
  if (!voice.variant.empty() &&
      (id.size() < suffix.size() || id.compare(id.size() - suffix.size(), suffix.size(), suffix) != 0))
    throw InputError("espeak-ng has no voice variant '" + voice.variant + "'");
  if (espeak_SetParameter(espeakRATE, voice.rate, 0) != EE_OK ||
      espeak_SetParameter(espeakPITCH, voice.pitch, 0) != EE_OK ||
      espeak_SetParameter(espeakRANGE, voice.range, 0) != EE_OK ||
      espeak_SetParameter(espeakVOLUME, voice.volume, 0) != EE_OK)
    throw InputError("espeak-ng rejected rate/pitch/range/volume for voice '" + name + "'");
  if (espeak_Synth(text.c_str(), text.size() + 1, 0, POS_CHARACTER, 0, espeakCHARS_UTF8, nullptr, nullptr) != EE_OK)
    throw std::runtime_error("espeak-ng failed to synthesise \"" + text + "\"");
  g_target = nullptr;
  return out;
}

namespace {

void read_all(int fd, char* p, std::size_t n, std::size_t& got) {
  got = 0;
  while (got < n) {
    const ssize_t r = ::read(fd, p + got, n - got);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) throw std::runtime_error(std::string("read from the corpus workers: ") + std::strerror(errno));
    if (r == 0) return;
    got += static_cast<std::size_t>(r);
  }
}

// A frame on the scheduler -> parent pipe: index, status ('O' ok, 'I' input error, 'E' other error), length, bytes.
void send_frame(int fd, std::uint64_t index, char status, const std::string& payload) {
  std::string head(sizeof index + 1 + sizeof(std::uint64_t), '\0');
  const std::uint64_t len = payload.size();
  std::memcpy(&head[0], &index, sizeof index);
  head[sizeof index] = status;
  std::memcpy(&head[sizeof index + 1], &len, sizeof len);
  write_all(fd, head.data(), head.size());
  write_all(fd, payload.data(), payload.size());
}

// The scheduler: forks one worker per job, at most `jobs` at a time, and sends the results to `out` in index order.
// It is itself a child forked before the parent collects anything, so its forks copy a small process: forking the
// collecting parent, which holds the whole corpus (gigabytes of features), costs milliseconds of page-table copying
// per utterance.
void schedule(std::size_t count, int jobs, const std::function<std::string(std::size_t)>& child, int out) {
  struct Worker {
    pid_t pid;
    int fd;
    std::size_t index;
    std::string bytes;
  };
  std::vector<Worker> active;
  std::map<std::size_t, std::string> finished;  // results that arrived before an earlier one
  std::size_t next_spawn = 0, next_deliver = 0;
  auto fail = [&](char status, const std::string& msg) {
    for (auto& w : active) ::kill(w.pid, SIGKILL);
    for (auto& w : active)
      while (::waitpid(w.pid, nullptr, 0) < 0 && errno == EINTR) {
      }
    send_frame(out, next_deliver, status, msg);
    _exit(0);
  };
  try {
    while (next_deliver < count) {
      while (active.size() < static_cast<std::size_t>(jobs) && next_spawn < count) {
        int fds[2];
        if (::pipe(fds) != 0) fail('E', std::string("pipe: ") + std::strerror(errno));
        const pid_t pid = ::fork();
        if (pid < 0) fail('E', std::string("fork: ") + std::strerror(errno));
        if (pid == 0) {
          ::close(fds[0]);
          ::close(out);
          for (auto& w : active) ::close(w.fd);
          char status = 'O';
          std::string payload;
          try {
            payload = child(next_spawn);
          } catch (const InputError& e) {
            status = 'I';
            payload = e.what();
          } catch (const std::exception& e) {
            status = 'E';
            payload = e.what();
          } catch (...) {
            status = 'E';
            payload = "unknown exception";
          }
          write_all(fds[1], &status, 1);
          write_all(fds[1], payload.data(), payload.size());
          _exit(0);
        }
        ::close(fds[1]);
        active.push_back({pid, fds[0], next_spawn, {}});
        ++next_spawn;
      }

      std::vector<pollfd> pfds;
      for (auto& w : active) pfds.push_back({w.fd, POLLIN, 0});
      if (::poll(pfds.data(), pfds.size(), -1) < 0) {
        if (errno == EINTR) continue;
        fail('E', std::string("poll: ") + std::strerror(errno));
      }
      for (std::size_t k = pfds.size(); k-- > 0;) {
        if (!(pfds[k].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        Worker& w = active[k];
        char buf[1 << 16];
        const ssize_t n = ::read(w.fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) fail('E', std::string("read from a worker: ") + std::strerror(errno));
        if (n > 0) {
          w.bytes.append(buf, static_cast<std::size_t>(n));
          continue;
        }
        ::close(w.fd);
        int st = 0;
        while (::waitpid(w.pid, &st, 0) < 0 && errno == EINTR) {
        }
        Worker done = std::move(w);
        active.erase(active.begin() + static_cast<long>(k));
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0 || done.bytes.empty()) {
          const std::string how = WIFSIGNALED(st) ? "was killed by signal " + std::to_string(WTERMSIG(st))
                                                  : "exited with status " + std::to_string(WEXITSTATUS(st));
          fail('E', "worker for job " + std::to_string(done.index) + " " + how);
        }
        if (done.bytes[0] != 'O') fail(done.bytes[0], done.bytes.substr(1));
        finished.emplace(done.index, done.bytes.substr(1));
      }
      for (auto it = finished.find(next_deliver); it != finished.end(); it = finished.find(next_deliver)) {
        send_frame(out, next_deliver, 'O', it->second);
        finished.erase(it);
        ++next_deliver;
      }
    }
  } catch (const std::exception& e) {
    fail('E', e.what());
  }
}

}  // namespace

void run_forked(std::size_t count, int jobs, const std::function<std::string(std::size_t)>& child,
                const std::function<void(std::size_t, std::string&&)>& parent) {
  if (count == 0) return;
  int fds[2];
  if (::pipe(fds) != 0) throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    ::close(fds[0]);
    schedule(count, std::max(jobs, 1), child, fds[1]);
    // _exit: a forked child must not run the parent's atexit handlers or flush its stdio buffers a second time.
    _exit(0);
  }
  ::close(fds[1]);
  auto finish = [&](bool kill) {
    ::close(fds[0]);
    // The scheduler's workers die on their own: their pipe to the scheduler breaks.
    if (kill) ::kill(pid, SIGKILL);
    while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
  };
  try {
    for (std::size_t i = 0; i < count; ++i) {
      char head[sizeof(std::uint64_t) * 2 + 1];
      std::size_t got = 0;
      read_all(fds[0], head, sizeof head, got);
      if (got != sizeof head) throw std::runtime_error("the corpus workers stopped without a result or an error");
      std::uint64_t index = 0, len = 0;
      std::memcpy(&index, head, sizeof index);
      const char status = head[sizeof index];
      std::memcpy(&len, head + sizeof index + 1, sizeof len);
      std::string payload(len, '\0');
      read_all(fds[0], &payload[0], len, got);
      if (got != len) throw std::runtime_error("the corpus workers stopped in the middle of a result");
      if (status == 'I') throw InputError(payload);
      if (status != 'O') throw std::runtime_error(payload);
      if (index != i) throw std::logic_error("run_forked: results out of order");
      parent(i, std::move(payload));
    }
  } catch (...) {
    finish(true);
    throw;
  }
  finish(false);
}

}  // namespace circa::corpus
