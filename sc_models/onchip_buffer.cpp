#include "sc_models/onchip_buffer.hpp"

#include <algorithm>
#include <cstring>
#include <sstream>

#include "sc_models/clock.hpp"

namespace circa {

std::string OnchipBufferParams::check() const {
  if (capacity_bytes == 0) return "capacity_bytes must be at least 1";
  if (word_bytes == 0) return "word_bytes must be at least 1";
  return "";
}

namespace {

const char* region_name(BufferRegion r) {
  switch (r) {
    case BufferRegion::whole:
      return "whole";
    case BufferRegion::half0:
      return "half 0";
    case BufferRegion::half1:
      return "half 1";
  }
  return "?";
}

}  // namespace

onchip_buffer::onchip_buffer(sc_core::sc_module_name name, const OnchipBufferParams& p) : sc_module(name), p_(p) {
  const std::string bad = p_.check();
  if (!bad.empty()) {
    // A config loader validates first; this keeps a hand-built bad config from dividing by zero later.
    SC_REPORT_ERROR(kMsgId, (std::string(this->name()) + ": " + bad).c_str());
    if (p_.capacity_bytes == 0) p_.capacity_bytes = 1;
    if (p_.word_bytes == 0) p_.word_bytes = 1;
  }
}

std::uint8_t* onchip_buffer::bytes() {
  // The byte API's storage, allocated on first use: the datapath's buffers use value regions only.
  if (mem_.empty()) mem_.assign(p_.capacity_bytes, 0);
  return mem_.data();
}

std::uint64_t onchip_buffer::base(BufferRegion r) const {
  return r == BufferRegion::half1 ? half_bytes() : 0;
}

std::uint64_t onchip_buffer::region_bytes(BufferRegion r) const {
  return r == BufferRegion::whole ? p_.capacity_bytes : half_bytes();
}

bool onchip_buffer::fits(BufferRegion r, std::uint64_t offset, std::uint64_t bytes) const {
  const std::uint64_t limit = region_bytes(r);
  return offset <= limit && bytes <= limit - offset;
}

std::uint64_t onchip_buffer::cycles_for(BufferRegion r, std::uint64_t offset, std::uint64_t bytes) const {
  if (bytes == 0 || p_.ports == 0) return 0;
  const std::uint64_t first = base(r) + offset;
  const std::uint64_t words = (first + bytes - 1) / p_.word_bytes - first / p_.word_bytes + 1;
  return ceil_div(words, p_.ports);
}

bool onchip_buffer::admit(const char* what, BufferRegion r, std::uint64_t offset, std::uint64_t bytes,
                          const void* data) {
  const bool in_region = fits(r, offset, bytes);
  if (in_region && (data != nullptr || bytes == 0)) return true;
  ++stats_.errors;
  std::ostringstream msg;
  msg << name() << ": " << what << " of " << bytes << " bytes at offset " << offset << " of " << region_name(r);
  if (!in_region)
    msg << " leaves the region (" << region_bytes(r) << " bytes); nothing was transferred";
  else
    msg << " has no data pointer";
  SC_REPORT_ERROR(kMsgId, msg.str().c_str());
  return false;
}

BufferAccess onchip_buffer::write(BufferRegion r, std::uint64_t offset, const std::uint8_t* src, std::uint64_t bytes) {
  if (!admit("write", r, offset, bytes, src)) return {};
  if (bytes != 0) std::memcpy(this->bytes() + base(r) + offset, src, bytes);
  const BufferAccess a{true, cycles_for(r, offset, bytes)};
  ++stats_.writes;
  stats_.bytes_written += bytes;
  stats_.cycles += a.cycles;
  return a;
}

BufferAccess onchip_buffer::read(BufferRegion r, std::uint64_t offset, std::uint8_t* dst, std::uint64_t bytes) {
  if (!admit("read", r, offset, bytes, dst)) return {};
  if (bytes != 0) std::memcpy(dst, this->bytes() + base(r) + offset, bytes);
  const BufferAccess a{true, cycles_for(r, offset, bytes)};
  ++stats_.reads;
  stats_.bytes_read += bytes;
  stats_.cycles += a.cycles;
  return a;
}

void onchip_buffer::clear_regions() {
  regions_.clear();
  store_.clear();
  used_ = 0;
}

int onchip_buffer::reserve(const std::string& what, std::uint64_t count, std::uint32_t bits,
                           std::uint32_t host_bytes) {
  const std::uint64_t bytes = ceil_div(count * bits, 8);
  const std::uint64_t hw = ceil_div(bytes, p_.word_bytes) * p_.word_bytes;
  if (hw > p_.capacity_bytes - std::min(used_, p_.capacity_bytes)) return -1;
  ValueRegion v;
  v.what = what;
  v.count = count;
  v.bits = bits;
  v.host_bytes = host_bytes;
  v.hw_offset = used_;
  v.hw_bytes = hw;
  v.host_offset = ceil_div(store_.size(), 64) * 64;  // host words aligned for the vector kernels
  store_.resize(v.host_offset + count * host_bytes, 0);
  used_ += hw;
  peak_ = std::max(peak_, used_);
  regions_.push_back(std::move(v));
  return static_cast<int>(regions_.size() - 1);
}

std::uint64_t onchip_buffer::value_cycles(int r, std::uint64_t count) const {
  const ValueRegion& v = regions_[static_cast<std::size_t>(r)];
  if (count == 0 || p_.ports == 0) return 0;
  return ceil_div(ceil_div(ceil_div(count * v.bits, 8), p_.word_bytes), p_.ports);
}

OnchipBufferStats stats_since(const OnchipBufferStats& a, const OnchipBufferStats& b) {
  OnchipBufferStats d;
  d.reads = a.reads - b.reads;
  d.writes = a.writes - b.writes;
  d.bytes_read = a.bytes_read - b.bytes_read;
  d.bytes_written = a.bytes_written - b.bytes_written;
  d.cycles = a.cycles - b.cycles;
  d.errors = a.errors - b.errors;
  return d;
}

void onchip_buffer::add_stats(const OnchipBufferStats& d) {
  stats_.reads += d.reads;
  stats_.writes += d.writes;
  stats_.bytes_read += d.bytes_read;
  stats_.bytes_written += d.bytes_written;
  stats_.cycles += d.cycles;
  stats_.errors += d.errors;
}

std::uint64_t onchip_buffer::access(int r, std::uint64_t count, bool write) {
  // Called for every operand of every tile: no division unless the ports can bind.
  const std::uint64_t bytes = (count * regions_[static_cast<std::size_t>(r)].bits + 7) >> 3;
  const std::uint64_t c = p_.ports == 0 || count == 0 ? 0 : ceil_div(ceil_div(bytes, p_.word_bytes), p_.ports);
  if (write) {
    ++stats_.writes;
    stats_.bytes_written += bytes;
  } else {
    ++stats_.reads;
    stats_.bytes_read += bytes;
  }
  stats_.cycles += c;
  return c;
}

}  // namespace circa
