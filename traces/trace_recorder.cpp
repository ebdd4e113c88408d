#include "traces/trace_recorder.hpp"

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

namespace circa {

std::size_t TraceRecorder::count(int track) const {
  return static_cast<std::size_t>(
      std::count_if(slices_.begin(), slices_.end(), [&](const Slice& s) { return s.track == track; }));
}

std::string TraceRecorder::chrome_json(double clock_mhz) const {
  using nlohmann::json;
  json ev = json::array();
  ev.push_back({{"ph", "M"}, {"name", "process_name"}, {"pid", 1}, {"tid", 0}, {"args", {{"name", "circa accelerator"}}}});
  for (std::size_t t = 0; t < tracks_.size(); ++t) {
    ev.push_back({{"ph", "M"}, {"name", "thread_name"}, {"pid", 1}, {"tid", t + 1}, {"args", {{"name", tracks_[t]}}}});
    ev.push_back({{"ph", "M"}, {"name", "thread_sort_index"}, {"pid", 1}, {"tid", t + 1}, {"args", {{"sort_index", t}}}});
  }
  // Trace-event times are microseconds; keep picosecond precision as fractions.
  auto us = [](std::uint64_t ps) { return static_cast<double>(ps) * 1e-6; };
  const double cycle_ps = 1e6 / clock_mhz;
  for (const Slice& s : slices_) {
    ev.push_back({{"ph", "X"},
                  {"name", tracks_[static_cast<std::size_t>(s.track)] + " tile"},
                  {"pid", 1},
                  {"tid", s.track + 1},
                  {"ts", us(s.start_ps)},
                  {"dur", us(s.end_ps - s.start_ps)},
                  {"args",
                   {{"tile", s.seq},
                    {"frame", s.frame},
                    {"layer", s.layer},
                    {"cycles", static_cast<std::uint64_t>((s.end_ps - s.start_ps) / cycle_ps + 0.5)}}}});
  }
  // Utilization per frame: busy time of each unit inside the frame's span, over the span.
  std::uint64_t prev = 0;
  std::vector<std::uint64_t> busy(tracks_.size());
  for (std::uint64_t f : frames_) {
    std::fill(busy.begin(), busy.end(), 0);
    for (const Slice& s : slices_) {
      const std::uint64_t a = std::max(prev, s.start_ps), b = std::min(f, s.end_ps);
      if (b > a) busy[static_cast<std::size_t>(s.track)] += b - a;
    }
    json args = json::object();
    for (std::size_t t = 0; t < tracks_.size(); ++t)
      args[tracks_[t]] = f > prev ? static_cast<double>(busy[t]) / static_cast<double>(f - prev) : 0.0;
    ev.push_back({{"ph", "C"}, {"name", "utilization"}, {"pid", 1}, {"tid", 0}, {"ts", us(prev)}, {"args", args}});
    prev = f;
  }
  json doc = {{"traceEvents", ev}, {"displayTimeUnit", "ns"}};
  return doc.dump(1);
}

}  // namespace circa
