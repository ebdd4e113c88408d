// circa: cycles -> simulated time, in one place (VCML's habit: latencies are parameters in cycles).
#pragma once

#include <cstdint>
#include <systemc>

namespace circa {

struct ClockParams {
  double mhz = 200.0;
  sc_core::sc_time period() const { return sc_core::sc_time(1e6 / mhz, sc_core::SC_PS); }
  sc_core::sc_time cycles(std::uint64_t n) const { return period() * static_cast<double>(n); }
  // Whole cycles in a span of simulated time (the report's "cycles = annotated time / clock period").
  std::uint64_t to_cycles(const sc_core::sc_time& t) const {
    return static_cast<std::uint64_t>(t.to_seconds() * mhz * 1e6 + 0.5);
  }
};

inline std::uint64_t ceil_div(std::uint64_t a, std::uint64_t b) { return (a + b - 1) / b; }

}  // namespace circa
