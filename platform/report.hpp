// circa: what a run reports: a short summary for people (stdout) and report.json + CSVs for scripts
// (schema: docs/report.md). Everything but the "wall_clock" section depends only on the inputs, so two runs of
// the same inputs give identical reports apart from that section.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/per.hpp"
#include "platform/default_paths.hpp"
#include "platform/vp_run.hpp"

namespace circa {

struct RunFacts {
  std::string model, features, config, arch;
  int layers = 0, classes = 0;
  std::size_t utterances = 0, frames = 0;
  double clock_mhz = 200.0;
  unsigned streams = 1, ring_frames = 0;
  double frame_period_ns = 0;         // > 0: live input (the "streaming" section)
  std::int64_t dense_params = 0;      // MACs per frame of the dense-equivalent network
  const VpRunResult* vp = nullptr;    // the platform run
  SatCounters input_saturations;
  bool scored = false;
  ErrorCounts errors;
  std::vector<double> sqnr_db;        // per layer then logits, fixed vs float (first utterance)
  double wall_seconds = 0;
  std::optional<BundledInfo> bundled;  // the bundled utterances were run: what they stand for
};

nlohmann::ordered_json build_report(const RunFacts& f);
// The terminal summary, from the report.
std::string summary_text(const nlohmann::ordered_json& r);
// The line under a bundled run's PER: the same model's figure on the whole test split, and how the bundled
// utterances were picked.
std::string bundled_note(const BundledInfo& b);
// Writes F.json and, beside it, F.layers.csv and F.units.csv (atomic each).
void write_report(const std::string& path, const nlohmann::ordered_json& r);

// p in [0, 100]: nearest-rank percentile of a sorted copy.
double percentile(std::vector<double> v, double p);

}  // namespace circa
