#include "platform/router.hpp"

#include <algorithm>

namespace circa {

router::router(sc_core::sc_module_name name) : sc_module(name), in("in"), out("out") {
  in.register_b_transport(this, &router::b_transport);
  in.register_get_direct_mem_ptr(this, &router::get_direct_mem_ptr);
  in.register_transport_dbg(this, &router::transport_dbg);
  out.register_invalidate_direct_mem_ptr(this, &router::invalidate_direct_mem_ptr);
}

void router::map(int target, std::uint64_t base, std::uint64_t size, const std::string& name) {
  ranges_.push_back({target, base, size, name});
}

const router::Range* router::decode(std::uint64_t addr) const {
  for (const Range& r : ranges_)
    if (addr >= r.base && addr - r.base < r.size) return &r;
  return nullptr;
}

void router::b_transport(int, tlm::tlm_generic_payload& gp, sc_core::sc_time& delay) {
  const std::uint64_t addr = gp.get_address();
  const Range* r = decode(addr);
  if (r == nullptr || gp.get_data_length() > r->size - (addr - r->base)) {
    ++decode_errors_;
    gp.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
    return;
  }
  gp.set_address(addr - r->base);
  out[r->target]->b_transport(gp, delay);
  gp.set_address(addr);
}

bool router::get_direct_mem_ptr(int, tlm::tlm_generic_payload& gp, tlm::tlm_dmi& dmi) {
  const std::uint64_t addr = gp.get_address();
  const Range* r = decode(addr);
  if (r == nullptr) return false;
  gp.set_address(addr - r->base);
  const bool ok = out[r->target]->get_direct_mem_ptr(gp, dmi);
  gp.set_address(addr);
  if (ok) {
    // A grant never reaches past the window this router decodes to the target.
    dmi.set_start_address(r->base + dmi.get_start_address());
    dmi.set_end_address(r->base + std::min<std::uint64_t>(dmi.get_end_address(), r->size - 1));
  }
  return ok;
}

void router::invalidate_direct_mem_ptr(int target, sc_dt::uint64 start, sc_dt::uint64 end) {
  // Target-relative, as the target sees addresses; every window of that target, clipped, in global addresses.
  for (const Range& r : ranges_) {
    if (r.target != target || start > r.size - 1) continue;
    const std::uint64_t last = std::min<std::uint64_t>(end, r.size - 1);
    for (unsigned int i = 0; i < in.size(); ++i) in[i]->invalidate_direct_mem_ptr(r.base + start, r.base + last);
  }
}

unsigned int router::transport_dbg(int, tlm::tlm_generic_payload& gp) {
  const std::uint64_t addr = gp.get_address();
  const Range* r = decode(addr);
  if (r == nullptr) return 0;
  gp.set_address(addr - r->base);
  const unsigned int n = out[r->target]->transport_dbg(gp);
  gp.set_address(addr);
  return n;
}

}  // namespace circa
