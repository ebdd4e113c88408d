#include "sc_models/ddr_memory.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace circa {

using sc_core::sc_time;
using sc_core::sc_time_stamp;

namespace {

constexpr std::uint64_t kPsPerClockNum = 2'000'000;  // tCK in ps = 2e6 / data_rate_mts

}  // namespace

std::string DdrParams::check() const {
  if (size_bytes == 0) return "size_bytes must be at least 1";
  if (data_rate_mts == 0) return "data_rate_mts must be at least 1";
  if (bus_bytes == 0) return "bus_bytes must be at least 1";
  if (burst_length < 2 || burst_length % 2 != 0) return "burst_length must be even and at least 2";
  if (banks == 0) return "banks must be at least 1";
  if (page_bytes == 0 || page_bytes % burst_bytes() != 0)
    return "page_bytes must be a positive multiple of bus_bytes * burst_length";
  return "";
}

ddr_memory::ddr_memory(sc_core::sc_module_name name, const DdrParams& p) : sc_module(name), socket("socket"), p_(p) {
  const std::string bad = p_.check();
  if (!bad.empty()) {
    // A config loader validates first; this keeps a hand-built bad config from dividing by zero later.
    SC_REPORT_ERROR(kMsgId, (std::string(this->name()) + ": " + bad + "; using the defaults").c_str());
    const std::uint64_t size = p_.size_bytes;
    p_ = DdrParams{};
    if (size != 0) p_.size_bytes = size;
  }
  banks_.resize(p_.banks);
  socket.register_b_transport(this, &ddr_memory::b_transport);
  socket.register_get_direct_mem_ptr(this, &ddr_memory::get_direct_mem_ptr);
  socket.register_transport_dbg(this, &ddr_memory::transport_dbg);

  const double res_ps = sc_core::sc_get_time_resolution().to_seconds() * 1e12;
  if (res_ps >= 1.0)
    ps_per_tick_num_ = static_cast<std::uint64_t>(std::llround(res_ps));
  else
    ps_per_tick_den_ = static_cast<std::uint64_t>(std::llround(1.0 / res_ps));
}

// --- time ---------------------------------------------------------------------------------------------------------

std::uint64_t ddr_memory::clock_at_or_after(const sc_time& t) const {
  const std::uint64_t ps = (t.value() * ps_per_tick_num_ + ps_per_tick_den_ - 1) / ps_per_tick_den_;
  // ceil(ps * rate / 2e6), split so that the product cannot overflow for any simulated time.
  const std::uint64_t rate = p_.data_rate_mts;
  const std::uint64_t q = ps / kPsPerClockNum, r = ps % kPsPerClockNum;
  return q * rate + (r * rate + kPsPerClockNum - 1) / kPsPerClockNum;
}

sc_time ddr_memory::time_of_clock(std::uint64_t clock) const {
  const std::uint64_t rate = p_.data_rate_mts;
  const std::uint64_t q = clock / rate, r = clock % rate;
  // Rounded down (to the ps, then to the time resolution): clock_at_or_after() rounds up, and a clock whose time is
  // not a whole number of ps must map back to itself, not to the next clock.
  const std::uint64_t ps = q * kPsPerClockNum + (r * kPsPerClockNum) / rate;
  return sc_time::from_value(ps * ps_per_tick_den_ / ps_per_tick_num_);
}

sc_time ddr_memory::clocks(std::uint64_t n) const {
  return time_of_clock(n) - time_of_clock(0);
}

sc_time ddr_memory::idle_time() const {
  const sc_time t = time_of_clock(std::max(bus_free_, busy_until_));
  return std::max(t, sc_time_stamp());
}

void ddr_memory::precharge_all() {
  for (Bank& b : banks_) b.open = false;
}

// --- bank and bus model ---------------------------------------------------------------------------------------------

std::uint64_t ddr_memory::schedule(std::uint64_t addr, std::uint64_t bytes, std::uint64_t t_req) {
  const std::uint64_t page = p_.page_bytes;
  const std::uint64_t burst = p_.burst_bytes();
  std::uint64_t t_end = t_req;
  const std::uint64_t last = addr + bytes;  // in_range() guarantees no wrap
  for (std::uint64_t a = addr; a < last;) {
    const std::uint64_t page_index = a / page;
    const std::uint64_t piece_end = std::min(last, (page_index + 1) * page);
    const std::uint64_t col0 = a % page, col1 = col0 + (piece_end - a) - 1;
    const std::uint64_t xfer = (col1 / burst - col0 / burst + 1) * p_.burst_clocks();
    Bank& b = banks_[page_index % p_.banks];
    const std::uint64_t row = page_index / p_.banks;

    const std::uint64_t start = std::max(t_req, b.ready);
    std::uint64_t cas = start;
    if (b.open && b.row == row) {
      ++stats_.row_hits;
    } else if (!b.open) {
      ++stats_.row_misses;
      cas += p_.trcd;
    } else {
      ++stats_.row_conflicts;
      cas += std::uint64_t{p_.trp} + p_.trcd;
    }
    // A controller holds the column command back until its data can have the bus.
    const std::uint64_t data = std::max(cas + p_.tcl, bus_free_);
    const std::uint64_t end = data + xfer;
    bus_free_ = end;
    b.open = true;
    b.row = row;
    // The bank takes one column command per burst time (tCCD): the next may follow this access's last burst.
    b.ready = data - p_.tcl + xfer;
    stats_.bus_busy_clocks += xfer;
    t_end = std::max(t_end, end);
    a = piece_end;
  }
  const std::uint64_t from = std::max(t_req, busy_until_);
  if (t_end > from) stats_.busy_clocks += t_end - from;
  busy_until_ = std::max(busy_until_, t_end);
  return t_end;
}

// --- storage --------------------------------------------------------------------------------------------------------

std::uint8_t* ddr_memory::page(std::uint64_t index) {
  if (index == cached_index_) return cached_page_;
  auto& slot = pages_[index];
  if (!slot) slot = std::make_unique<std::uint8_t[]>(kBackingPageBytes);  // value-initialized: zeros
  cached_index_ = index;
  cached_page_ = slot.get();
  return cached_page_;
}

const std::uint8_t* ddr_memory::find_page(std::uint64_t index) const {
  if (index == cached_index_) return cached_page_;
  const auto it = pages_.find(index);
  if (it == pages_.end()) return nullptr;
  cached_index_ = index;
  cached_page_ = it->second.get();
  return cached_page_;
}

void ddr_memory::copy_out(std::uint64_t addr, std::uint8_t* dst, std::uint64_t bytes) const {
  while (bytes != 0) {
    const std::uint64_t off = addr % kBackingPageBytes;
    const std::uint64_t n = std::min(bytes, kBackingPageBytes - off);
    const std::uint8_t* src = find_page(addr / kBackingPageBytes);
    if (src != nullptr)
      std::memcpy(dst, src + off, n);
    else
      std::memset(dst, 0, n);
    addr += n;
    dst += n;
    bytes -= n;
  }
}

void ddr_memory::copy_in(std::uint64_t addr, const std::uint8_t* src, std::uint64_t bytes) {
  while (bytes != 0) {
    const std::uint64_t off = addr % kBackingPageBytes;
    const std::uint64_t n = std::min(bytes, kBackingPageBytes - off);
    std::memcpy(page(addr / kBackingPageBytes) + off, src, n);
    addr += n;
    src += n;
    bytes -= n;
  }
}

bool ddr_memory::peek(std::uint64_t addr, std::uint8_t* dst, std::uint64_t bytes) const {
  if (bytes == 0) return true;
  if (!in_range(addr, bytes) || dst == nullptr) return false;
  copy_out(addr, dst, bytes);
  return true;
}

bool ddr_memory::poke(std::uint64_t addr, const std::uint8_t* src, std::uint64_t bytes) {
  if (bytes == 0) return true;
  if (!in_range(addr, bytes) || src == nullptr) return false;
  copy_in(addr, src, bytes);
  stats_.debug_bytes += bytes;
  return true;
}

void ddr_memory::clear() {
  // Initiators must drop their pointers before the memory behind them goes away.
  if (dmi_granted_) {
    socket->invalidate_direct_mem_ptr(0, ~std::uint64_t{0});
    ++stats_.dmi_invalidations;
    dmi_granted_ = false;
  }
  pages_.clear();
  cached_index_ = ~std::uint64_t{0};
  cached_page_ = nullptr;
}

// --- TLM ------------------------------------------------------------------------------------------------------------

void ddr_memory::b_transport(tlm::tlm_generic_payload& gp, sc_time& delay) {
  const std::uint64_t addr = gp.get_address();
  const std::uint64_t len = gp.get_data_length();
  const tlm::tlm_command cmd = gp.get_command();

  if (!in_range(addr, len == 0 ? 1 : len)) {
    ++stats_.address_errors;
    gp.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
    return;
  }
  if (cmd == tlm::TLM_IGNORE_COMMAND) {
    ++stats_.ignores;
    gp.set_response_status(tlm::TLM_OK_RESPONSE);
    return;
  }
  if (len == 0 || gp.get_streaming_width() < len) {
    ++stats_.burst_errors;
    gp.set_response_status(tlm::TLM_BURST_ERROR_RESPONSE);
    return;
  }
  if (gp.get_byte_enable_ptr() != nullptr) {
    ++stats_.byte_enable_errors;
    gp.set_response_status(tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE);
    return;
  }
  if (gp.get_data_ptr() == nullptr) {
    ++stats_.generic_errors;
    gp.set_response_status(tlm::TLM_GENERIC_ERROR_RESPONSE);
    return;
  }

  if (cmd == tlm::TLM_WRITE_COMMAND) {
    copy_in(addr, gp.get_data_ptr(), len);
    ++stats_.writes;
    stats_.bytes_written += len;
  } else {
    copy_out(addr, gp.get_data_ptr(), len);
    ++stats_.reads;
    stats_.bytes_read += len;
  }
  const sc_time now = sc_time_stamp();
  const std::uint64_t end = schedule(addr, len, clock_at_or_after(now + delay));
  delay = time_of_clock(end) - now;
  gp.set_dmi_allowed(true);
  gp.set_response_status(tlm::TLM_OK_RESPONSE);
}

bool ddr_memory::get_direct_mem_ptr(tlm::tlm_generic_payload& gp, tlm::tlm_dmi& dmi) {
  const std::uint64_t addr = gp.get_address();
  if (addr >= p_.size_bytes) {
    // The denial covers everything above the memory, so the initiator need not ask again for any of it.
    dmi.allow_none();
    dmi.set_start_address(p_.size_bytes);
    dmi.set_end_address(~std::uint64_t{0});
    return false;
  }
  const std::uint64_t index = addr / kBackingPageBytes;
  const std::uint64_t start = index * kBackingPageBytes;
  const std::uint64_t end = std::min(p_.size_bytes - 1, start + (kBackingPageBytes - 1));
  dmi.set_dmi_ptr(page(index));
  dmi.set_start_address(start);
  dmi.set_end_address(end);
  dmi.allow_read_write();
  // What a one-burst row hit costs through b_transport.
  const sc_time hit = clocks(std::uint64_t{p_.tcl} + p_.burst_clocks());
  dmi.set_read_latency(hit);
  dmi.set_write_latency(hit);
  dmi_granted_ = true;
  ++stats_.dmi_grants;
  return true;
}

unsigned int ddr_memory::transport_dbg(tlm::tlm_generic_payload& gp) {
  const std::uint64_t addr = gp.get_address();
  const tlm::tlm_command cmd = gp.get_command();
  if (cmd == tlm::TLM_IGNORE_COMMAND || gp.get_data_ptr() == nullptr || addr >= p_.size_bytes) return 0;
  const std::uint64_t n = std::min<std::uint64_t>(gp.get_data_length(), p_.size_bytes - addr);
  if (cmd == tlm::TLM_WRITE_COMMAND)
    copy_in(addr, gp.get_data_ptr(), n);
  else
    copy_out(addr, gp.get_data_ptr(), n);
  stats_.debug_bytes += n;
  gp.set_response_status(tlm::TLM_OK_RESPONSE);
  return static_cast<unsigned int>(n);
}

}  // namespace circa
