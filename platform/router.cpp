#include "platform/router.hpp"

namespace circa {

router::router(sc_core::sc_module_name name) : sc_module(name), in("in"), out("out") {
  in.register_b_transport(this, &router::b_transport);
  in.register_get_direct_mem_ptr(this, &router::get_direct_mem_ptr);
  in.register_transport_dbg(this, &router::transport_dbg);
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
    dmi.set_start_address(dmi.get_start_address() + r->base);
    dmi.set_end_address(dmi.get_end_address() + r->base);
  }
  return ok;
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
