// circa: cycles -> simulated time, in one place (VCML's habit: latencies are parameters in cycles).
#pragma once

#include <cstdint>
#include <systemc>

namespace circa {

struct ClockParams {
  double mhz = 200.0;
  sc_core::sc_time period() const { return sc_core::sc_time(1e6 / mhz, sc_core::SC_PS); }
  // period() * n, which sc_time computes in double: the same value as the integer product while it stays below
  // 2^53 resolution units (52 days at 1 ps); the period is computed once (an sc_time with a unit is costly).
  sc_core::sc_time cycles(std::uint64_t n) const {
    if (period_mhz_ != mhz) {
      period_value_ = period().value();
      period_mhz_ = mhz;
    }
    constexpr sc_core::sc_time::value_type kExact = sc_core::sc_time::value_type{1} << 53;
    if (period_value_ > 0 && n < kExact / period_value_) return sc_core::sc_time::from_value(period_value_ * n);
    return period() * static_cast<double>(n);
  }
  // Whole cycles in a span of simulated time (the report's "cycles = annotated time / clock period").
  std::uint64_t to_cycles(const sc_core::sc_time& t) const {
    return static_cast<std::uint64_t>(t.to_seconds() * mhz * 1e6 + 0.5);
  }
  mutable sc_core::sc_time::value_type period_value_ = 0;  // period().value(), computed for period_mhz_
  mutable double period_mhz_ = 0;
};

inline std::uint64_t ceil_div(std::uint64_t a, std::uint64_t b) { return (a + b - 1) / b; }

}  // namespace circa
