// circa: how the accelerator's controller reaches DDR. Calls block the calling SC_THREAD for the transfer's
// simulated time and return 0, or CIRCA_ERR_BUS when the bus answered with an error.
#pragma once

#include <cstddef>
#include <cstdint>

namespace circa {

class mem_port {
public:
  virtual ~mem_port() = default;
  virtual int read(std::uint64_t addr, void* dst, std::size_t n) = 0;
  virtual int write(std::uint64_t addr, const void* src, std::size_t n) = 0;
  // `rows` rows of `row_bytes` each, `stride` bytes apart in DDR, packed one after another in dst.
  virtual int read2d(std::uint64_t addr, std::size_t rows, std::size_t row_bytes, std::uint64_t stride, void* dst) = 0;
  // Cycles the path has been busy moving data, for the performance counters.
  virtual std::uint64_t busy_cycles() const = 0;
};

}  // namespace circa
