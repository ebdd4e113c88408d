// circa: the timeline every unit reports its tiles to (one slice per tile or DMA burst group), written as
// Chrome / Perfetto trace-event JSON. Recording is off unless a recorder is attached, so it costs nothing then.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace circa {

class TraceRecorder {
public:
  struct Slice {
    int track;
    std::uint64_t start_ps, end_ps;
    std::uint32_t seq;
    int frame, layer;
  };
  // One track per unit, in registration order.
  int add_track(const std::string& name) {
    tracks_.push_back(name);
    return static_cast<int>(tracks_.size()) - 1;
  }
  void slice(int track, std::uint64_t start_ps, std::uint64_t end_ps, std::uint32_t seq, int frame, int layer) {
    slices_.push_back({track, start_ps, end_ps, seq, frame, layer});
  }
  // A frame finished at this time (for utilization counters and frame markers).
  void frame_end(std::uint64_t t_ps) { frames_.push_back(t_ps); }

  const std::vector<std::string>& tracks() const { return tracks_; }
  const std::vector<Slice>& slices() const { return slices_; }
  const std::vector<std::uint64_t>& frames() const { return frames_; }
  std::size_t count(int track) const;

  // Trace-event JSON: metadata naming the process and one thread per track, an "X" slice per tile, and per-frame
  // "C" counters with each unit's busy share in that frame.
  std::string chrome_json(double clock_mhz) const;

private:
  std::vector<std::string> tracks_;
  std::vector<Slice> slices_;
  std::vector<std::uint64_t> frames_;
};

}  // namespace circa
