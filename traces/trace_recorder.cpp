#include "traces/trace_recorder.hpp"

#include <algorithm>
#include <cstdio>
#include <string>

namespace circa {

std::size_t TraceRecorder::count(int track) const {
  return static_cast<std::size_t>(
      std::count_if(slices_.begin(), slices_.end(), [&](const Slice& s) { return s.track == track; }));
}

namespace {

// A JSON string literal (track names are plain, but a name is data: escape what JSON requires).
void put_string(std::string& o, const std::string& v) {
  o += '"';
  for (char c : v) {
    if (c == '"' || c == '\\') {
      o += '\\';
      o += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char b[8];
      std::snprintf(b, sizeof b, "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(c)));
      o += b;
    } else {
      o += c;
    }
  }
  o += '"';
}

// Picoseconds as trace-event microseconds, exactly (6 decimals).
void put_us(std::string& o, std::uint64_t ps) {
  char b[32];
  std::snprintf(b, sizeof b, "%llu.%06llu", static_cast<unsigned long long>(ps / 1000000),
                static_cast<unsigned long long>(ps % 1000000));
  o += b;
}

}  // namespace

// Written out directly: a document object of every slice costs several times the simulation it describes.
std::string TraceRecorder::chrome_json(double clock_mhz) const {
  std::string o;
  o.reserve(160 * (slices_.size() + frames_.size()) + 4096);
  char b[256];
  o += "{\"traceEvents\":[\n";
  o += R"({"ph":"M","name":"process_name","pid":1,"tid":0,"args":{"name":"circa accelerator"}})";
  for (std::size_t t = 0; t < tracks_.size(); ++t) {
    o += ",\n{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":1,\"tid\":" + std::to_string(t + 1) + ",\"args\":{\"name\":";
    put_string(o, tracks_[t]);
    o += "}},\n{\"ph\":\"M\",\"name\":\"thread_sort_index\",\"pid\":1,\"tid\":" + std::to_string(t + 1) +
         ",\"args\":{\"sort_index\":" + std::to_string(t) + "}}";
  }
  const double cycle_ps = 1e6 / clock_mhz;
  for (const Slice& s : slices_) {
    o += ",\n{\"ph\":\"X\",\"name\":";
    put_string(o, tracks_[static_cast<std::size_t>(s.track)] + " tile");
    o += ",\"pid\":1,\"tid\":" + std::to_string(s.track + 1) + ",\"ts\":";
    put_us(o, s.start_ps);
    o += ",\"dur\":";
    put_us(o, s.end_ps - s.start_ps);
    std::snprintf(b, sizeof b, ",\"args\":{\"tile\":%llu,\"frame\":%d,\"layer\":%d,\"cycles\":%llu}}",
                  static_cast<unsigned long long>(s.seq), s.frame, s.layer,
                  static_cast<unsigned long long>((s.end_ps - s.start_ps) / cycle_ps + 0.5));
    o += b;
  }
  // Utilization per frame: busy time of each unit inside the frame's span (the previous frame's end to its own),
  // over the span. Frame ends are increasing, so each slice finds its first frame by binary search and adds its
  // overlap to that frame and the following ones it reaches.
  const std::size_t nf = frames_.size(), nt = tracks_.size();
  std::vector<std::uint64_t> busy(nf * nt, 0);
  for (const Slice& s : slices_) {
    std::size_t i = static_cast<std::size_t>(std::upper_bound(frames_.begin(), frames_.end(), s.start_ps) -
                                             frames_.begin());
    for (; i < nf; ++i) {
      const std::uint64_t lo = i ? frames_[i - 1] : 0;
      if (lo >= s.end_ps) break;
      const std::uint64_t a = std::max(lo, s.start_ps), e = std::min(frames_[i], s.end_ps);
      if (e > a) busy[i * nt + static_cast<std::size_t>(s.track)] += e - a;
    }
  }
  std::uint64_t prev = 0;
  for (std::size_t i = 0; i < nf; ++i) {
    const std::uint64_t f = frames_[i];
    o += ",\n{\"ph\":\"C\",\"name\":\"utilization\",\"pid\":1,\"tid\":0,\"ts\":";
    put_us(o, prev);
    o += ",\"args\":{";
    for (std::size_t t = 0; t < nt; ++t) {
      if (t) o += ',';
      put_string(o, tracks_[t]);
      std::snprintf(b, sizeof b, ":%.6g",
                    f > prev ? static_cast<double>(busy[i * nt + t]) / static_cast<double>(f - prev) : 0.0);
      o += b;
    }
    o += "}}";
    prev = f;
  }
  o += "\n],\"displayTimeUnit\":\"ns\"}\n";
  return o;
}

}  // namespace circa
