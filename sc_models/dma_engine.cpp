#include "sc_models/dma_engine.hpp"

#include <algorithm>

namespace circa {

using sc_core::sc_time;
using sc_core::sc_time_stamp;

std::string DmaParams::check() const {
  if (burst_bytes == 0) return "burst_bytes must be at least 1";
  if (max_outstanding == 0) return "max_outstanding must be at least 1";
  if (group_bursts == 0) return "group_bursts must be at least 1";
  if (queue_depth == 0) return "queue_depth must be at least 1";
  return "";
}

const char* to_string(DmaStatus s) {
  switch (s) {
    case DmaStatus::ok:
      return "ok";
    case DmaStatus::bus_error:
      return "bus error";
    case DmaStatus::local_error:
      return "local buffer error";
    case DmaStatus::bad_descriptor:
      return "bad descriptor";
  }
  return "?";
}

namespace {

// A config loader validates first; this keeps a hand-built bad config from dividing by zero later.
DmaParams usable(const DmaParams& p, const char* who) {
  const std::string bad = p.check();
  if (bad.empty()) return p;
  SC_REPORT_ERROR(dma_engine::kMsgId, (std::string(who) + ": " + bad + "; using 1 instead").c_str());
  DmaParams q = p;
  q.burst_bytes = std::max(q.burst_bytes, 1u);
  q.max_outstanding = std::max(q.max_outstanding, 1u);
  q.group_bursts = std::max(q.group_bursts, 1u);
  q.queue_depth = std::max(q.queue_depth, 1u);
  return q;
}

// One past the last byte of rows x row_bytes at base + r * stride, or false if that wraps the 64-bit space.
bool extent_end(std::uint64_t base, std::uint32_t rows, std::uint64_t stride, std::uint64_t row_bytes,
                std::uint64_t& end) {
  std::uint64_t span = 0;
  if (__builtin_mul_overflow(std::uint64_t{rows} - 1, stride, &span)) return false;
  if (__builtin_add_overflow(base, span, &end)) return false;
  return !__builtin_add_overflow(end, row_bytes, &end);
}

}  // namespace

dma_engine::dma_engine(sc_core::sc_module_name name, const DmaParams& p, const ClockParams& clk)
    : unit_base(name, clk),
      socket("socket"),
      p_(usable(p, this->name())),
      queue_("queue", static_cast<int>(p_.queue_depth)),
      staging_(p_.burst_bytes),
      slots_(p_.max_outstanding) {
  SC_HAS_PROCESS(dma_engine);
  SC_THREAD(run);
}

void dma_engine::submit(DmaJob& job) {
  job.done = false;
  job.result = DmaResult{};
  queue_.write(&job);
}

bool dma_engine::try_submit(DmaJob& job) {
  job.done = false;
  job.result = DmaResult{};
  return queue_.nb_write(&job);
}

DmaResult dma_engine::transfer(const DmaDescriptor& d) {
  DmaJob job;
  job.desc = d;
  submit(job);
  while (!job.done) wait(done_event_);
  return job.result;
}

void dma_engine::run() {
  for (;;) {
    DmaJob* job = nullptr;
    queue_.read(job);
    running_ = true;
    execute(*job);
    const DmaResult& r = job->result;
    ++dstats_.jobs;
    if (r.status != DmaStatus::ok) ++dstats_.failed_jobs;
    dstats_.busy_cycles += r.cycles;
    dstats_.stall_cycles += r.stall_cycles;
    stats_.busy_cycles += r.cycles;
    stats_.stall_in_cycles += r.stall_cycles;
    job->done = true;
    running_ = false;
    done_event_.notify(sc_core::SC_ZERO_TIME);
  }
}

bool dma_engine::validate(const DmaDescriptor& d) const {
  if (d.rows == 0 || d.row_bytes == 0) return true;
  std::uint64_t end = 0;
  if (!extent_end(d.ddr_addr, d.rows, d.ddr_stride, d.row_bytes, end)) return false;
  if (!extent_end(d.local_offset, d.rows, d.local_stride, d.row_bytes, end)) return false;
  if (d.buffer != nullptr) return d.buffer->fits(d.region, 0, end);
  return d.host != nullptr && end <= d.host_bytes;
}

sc_time dma_engine::align_up(const sc_time& t) const {
  const sc_time::value_type p = clk_.period().value();
  return sc_time::from_value((t.value() + p - 1) / p * p);
}

void dma_engine::end_group(const sc_time& until, bool stalled) {
  record(group_start_, std::max(group_start_, until), group_seq_, -1, -1);
  ++dstats_.groups;
  ++stats_.tiles;
  ++group_seq_;
  const sc_time now = sc_time_stamp();
  if (until <= now) return;  // only a target that answers in no time gets here
  const sc_time span = until - now;
  if (!trace_) {
    wait(span);
    return;
  }
  if (stalled) stall.write(true);
  const sc_time cyc = clk_.period();
  if (span > cyc) {
    wait(span - cyc);
    busy.write(false);
    wait(cyc);
  } else {
    busy.write(false);
    wait(span);
  }
  if (stalled) stall.write(false);
}

void dma_engine::execute(DmaJob& job) {
  const DmaDescriptor& d = job.desc;
  DmaResult& res = job.result;
  res = DmaResult{};
  res.start = res.end = sc_time_stamp();
  if (!validate(d)) {
    res.status = DmaStatus::bad_descriptor;
    return;
  }
  if (d.rows == 0 || d.row_bytes == 0) return;

  const sc_time cyc = clk_.period();
  const sc_time t0 = align_up(sc_time_stamp());
  if (t0 > sc_time_stamp()) wait(t0 - sc_time_stamp());
  res.start = t0;
  std::fill(slots_.begin(), slots_.end(), t0);

  const bool to_local = d.dir == DmaDirection::ddr_to_local;
  const std::uint64_t burst = p_.burst_bytes;
  const std::uint32_t n_out = p_.max_outstanding;
  sc_time issue_prev = t0, read_end_prev = t0, done_prev = t0, job_end = t0;
  sc_time stall_time = sc_core::SC_ZERO_TIME;
  std::uint64_t i = 0;         // burst number in the job
  std::uint32_t in_group = 0;  // bursts issued in the current group
  bool group_stalled = false;
  bool failed = false;

  group_start_ = t0;
  if (trace_) {
    tile_index.write(group_seq_);
    busy.write(true);
  }
  for (std::uint32_t r = 0; r < d.rows && !failed; ++r) {
    const std::uint64_t row_ddr = d.ddr_addr + r * d.ddr_stride;
    const std::uint64_t row_local = d.local_offset + r * d.local_stride;
    for (std::uint64_t off = 0; off < d.row_bytes;) {
      const std::uint64_t addr = row_ddr + off;
      const std::uint64_t len = std::min(d.row_bytes - off, burst - addr % burst);
      const std::uint64_t local = row_local + off;

      // Reads wait for the address channel; writes for the source port, which reads ahead while bursts fly.
      const sc_time ready = i == 0 ? t0 : to_local ? issue_prev + cyc : read_end_prev;
      const sc_time start = std::max(ready, slots_[i % n_out]);
      if (in_group == p_.group_bursts) {
        end_group(start, group_stalled);
        group_start_ = start;
        in_group = 0;
        group_stalled = false;
        if (trace_) {
          tile_index.write(group_seq_);
          busy.write(true);
        }
      }
      if (start > ready) {
        stall_time += start - ready;
        group_stalled = true;
      }
      ++in_group;

      std::uint8_t* data = d.buffer != nullptr ? staging_.data() : d.host + local;
      sc_time issue = start;
      if (!to_local) {
        std::uint64_t local_cycles = 0;
        if (d.buffer != nullptr) {
          const BufferAccess a = d.buffer->read(d.region, local, data, len);
          if (!a.ok) {
            res.status = DmaStatus::local_error;
            failed = true;
            break;
          }
          local_cycles = a.cycles;
          dstats_.local_cycles += a.cycles;
        }
        read_end_prev = start + clk_.cycles(local_cycles);
        issue = i == 0 ? read_end_prev : std::max(read_end_prev, issue_prev + cyc);
      }

      gp_.set_command(to_local ? tlm::TLM_READ_COMMAND : tlm::TLM_WRITE_COMMAND);
      gp_.set_address(addr);
      gp_.set_data_ptr(data);
      gp_.set_data_length(static_cast<unsigned int>(len));
      gp_.set_streaming_width(static_cast<unsigned int>(len));
      gp_.set_byte_enable_ptr(nullptr);
      gp_.set_byte_enable_length(0);
      gp_.set_dmi_allowed(false);
      gp_.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
      sc_time delay = issue - sc_time_stamp();
      socket->b_transport(gp_, delay);
      const sc_time resp = align_up(sc_time_stamp() + delay);
      issue_prev = issue;
      if (gp_.is_response_error()) {
        res.status = DmaStatus::bus_error;
        res.response = gp_.get_response_status();
        res.error_addr = addr;
        job_end = std::max(job_end, resp);
        failed = true;
        break;
      }

      sc_time done = resp;
      if (to_local) {
        std::uint64_t local_cycles = 0;
        if (d.buffer != nullptr) {
          const BufferAccess a = d.buffer->write(d.region, local, data, len);
          if (!a.ok) {
            res.status = DmaStatus::local_error;
            job_end = std::max(job_end, resp);
            failed = true;
            break;
          }
          local_cycles = a.cycles;
          dstats_.local_cycles += a.cycles;
        }
        done = std::max(resp, done_prev) + clk_.cycles(local_cycles);
        dstats_.bytes_read += len;
      } else {
        dstats_.bytes_written += len;
      }
      done_prev = done;
      slots_[i % n_out] = done;
      job_end = std::max(job_end, done);
      res.bytes += len;
      ++res.bursts;
      ++dstats_.bursts;
      ++stats_.ops;
      ++i;
      off += len;
    }
  }
  end_group(job_end, group_stalled);

  res.end = job_end;
  // Every time here sits on a clock edge, so the division is exact.
  res.cycles = (job_end - t0).value() / cyc.value();
  res.stall_cycles = stall_time.value() / cyc.value();
}

}  // namespace circa
