// circa: the interconnect. Initiators (the host CPU, the accelerator's DMA) reach targets by address; an address
// no target decodes gets TLM_ADDRESS_ERROR_RESPONSE. DMI requests are forwarded and their ranges translated back
// (and clipped to the target's window); a target's DMI invalidation reaches every initiator, translated the same way.
#pragma once

#include <string>
#include <systemc>
#include <tlm>
#include <tlm_utils/multi_passthrough_initiator_socket.h>
#include <tlm_utils/multi_passthrough_target_socket.h>
#include <vector>

namespace circa {

class router : public sc_core::sc_module {
public:
  tlm_utils::multi_passthrough_target_socket<router> in;
  tlm_utils::multi_passthrough_initiator_socket<router> out;

  explicit router(sc_core::sc_module_name name);
  // Maps [base, base + size) to the out-socket binding with index `target` (bind order); addresses are passed on
  // relative to `base`.
  void map(int target, std::uint64_t base, std::uint64_t size, const std::string& name);
  std::uint64_t decode_errors() const { return decode_errors_; }

private:
  struct Range {
    int target;
    std::uint64_t base, size;
    std::string name;
  };
  const Range* decode(std::uint64_t addr) const;
  void b_transport(int id, tlm::tlm_generic_payload& gp, sc_core::sc_time& delay);
  bool get_direct_mem_ptr(int id, tlm::tlm_generic_payload& gp, tlm::tlm_dmi& dmi);
  unsigned int transport_dbg(int id, tlm::tlm_generic_payload& gp);
  void invalidate_direct_mem_ptr(int target, sc_dt::uint64 start, sc_dt::uint64 end);
  std::vector<Range> ranges_;
  std::uint64_t decode_errors_ = 0;
};

}  // namespace circa
