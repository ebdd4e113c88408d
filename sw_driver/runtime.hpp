// circa: the C++ host runtime. It turns a safetensors model and feature frames into what the accelerator reads from
// DDR: FFT-domain fixed-point weights packed in the EW-MAC's layout, quantized biases and peepholes, CMVN-applied
// quantized input frames, state buffers and the job descriptor. The quantization is core's (FixedGolden's), so
// the device computes exactly what the golden model computes.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/fixed.hpp"
#include "core/golden.hpp"
#include "core/matrix.hpp"
#include "core/model.hpp"
#include "core/numerics.hpp"
#include "hwif/descriptor.hpp"
#include "hwif/words.hpp"

namespace circa {

struct MemRegion {
  std::uint64_t addr = 0;
  std::string bytes;
};

class HostRuntime {
public:
  // Quantizes the model (as FixedGolden does) and lays it out from `base` upwards.
  HostRuntime(const Model& m, const Numerics& num, std::uint64_t base);

  const std::vector<MemRegion>& model_regions() const { return model_regions_; }
  std::uint64_t model_end() const { return model_end_; }
  std::uint64_t weight_bytes() const { return weight_bytes_; }
  const SatCounters& quantization_saturations() const { return sat_; }

  // One stream (utterance) of a job.
  struct StreamIo {
    std::uint32_t frames = 0;
    std::uint64_t input_addr = 0;    // its frames, or its input ring
    std::size_t frame_bytes = 0;     // one quantized input frame
    std::string input;               // every quantized frame, for a host that feeds a ring
    std::uint64_t output_addr = 0;
    std::size_t output_bytes = 0;
  };
  struct Job {
    JobDesc desc;
    std::uint64_t desc_addr = 0;
    std::vector<MemRegion> regions;  // descriptor, zeroed state, input frames unless ring-fed (outputs: the device's)
    std::vector<StreamIo> streams;
    std::uint64_t output_addr = 0;   // stream 0's
    std::size_t output_bytes = 0;
    std::uint64_t end = 0;
    // Where frame t of stream s goes (a ring slot when ring_slots > 0).
    std::uint64_t input_slot(std::size_t s, std::uint32_t t) const {
      const StreamIo& io = streams[s];
      const std::uint32_t slot = desc.ring ? t % desc.ring_slots : t;
      return io.input_addr + static_cast<std::uint64_t>(slot) * io.frame_bytes;
    }
  };
  // One utterance: frames quantized (CMVN first when the model has it) into a job region starting at `base`.
  Job pack_job(const Matrix& feats, std::uint64_t base, SatCounters& sat) const;
  // Several utterances run interleaved in one job (one stream each). With ring_slots > 0 the inputs are rings of
  // that many frames that the host fills as frames arrive (Job::streams[s].input, RING_HEAD); regions then do
  // not hold the frames.
  Job pack_streams(const std::vector<const Matrix*>& feats, std::uint64_t base, std::uint32_t ring_slots,
                   SatCounters& sat) const;
  // The device's logits (act words) -> log-posteriors, exactly as FixedGolden::step computes them.
  Matrix unpack_output(const std::string& bytes, std::size_t frames) const;

private:
  std::uint64_t alloc(std::uint64_t& at, std::uint64_t bytes) const;
  const Model& model_;
  Numerics num_;
  SatCounters sat_;
  std::unique_ptr<FixedGolden> quant_;
  JobDesc base_desc_;
  std::vector<MemRegion> model_regions_;
  std::uint64_t model_end_ = 0, weight_bytes_ = 0;
};

}  // namespace circa
