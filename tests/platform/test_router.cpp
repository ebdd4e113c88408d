// The interconnect's DMI: a grant comes back in global addresses, clipped to the target's window, and a target's
// invalidation reaches every initiator, translated and clipped the same way (it used to stop at the router).
#include <gtest/gtest.h>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>
#include <vector>

#include "platform/router.hpp"

namespace {

using namespace circa;

// A memory of 0x2000 bytes that grants DMI over all of it (more than the router's 0x1000 window onto it).
struct dmi_target : sc_core::sc_module {
  tlm_utils::simple_target_socket<dmi_target> socket;
  std::vector<unsigned char> mem = std::vector<unsigned char>(0x2000);
  explicit dmi_target(sc_core::sc_module_name n) : sc_module(n), socket("socket") {
    socket.register_b_transport(this, &dmi_target::b_transport);
    socket.register_get_direct_mem_ptr(this, &dmi_target::get_dmi);
  }
  void b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time&) { gp.set_response_status(tlm::TLM_OK_RESPONSE); }
  bool get_dmi(tlm::tlm_generic_payload&, tlm::tlm_dmi& dmi) {
    dmi.set_dmi_ptr(mem.data());
    dmi.set_start_address(0);
    dmi.set_end_address(mem.size() - 1);
    dmi.allow_read_write();
    return true;
  }
};

struct recorder : sc_core::sc_module {
  tlm_utils::simple_initiator_socket<recorder> socket;
  std::vector<std::pair<sc_dt::uint64, sc_dt::uint64>> invalidated;
  explicit recorder(sc_core::sc_module_name n) : sc_module(n), socket("socket") {
    socket.register_invalidate_direct_mem_ptr(this, &recorder::invalidate);
  }
  void invalidate(sc_dt::uint64 a, sc_dt::uint64 b) { invalidated.emplace_back(a, b); }
};

struct bench {
  recorder cpu{"cpu"}, dma{"dma"};
  router bus{"bus"};
  dmi_target mem{"mem"}, other{"other"};
  bench() {
    cpu.socket.bind(bus.in);
    dma.socket.bind(bus.in);
    bus.out.bind(mem.socket);
    bus.out.bind(other.socket);
    bus.map(0, 0x80000000u, 0x1000, "mem");
    bus.map(1, 0x10000u, 0x100, "other");
    sc_core::sc_start(sc_core::SC_ZERO_TIME);  // end of elaboration: the sockets' bindings are complete
  }
};

bench& the_bench() {
  static bench* b = new bench();  // elaborated once for the whole process; never destroyed (SystemC owns modules)
  return *b;
}

TEST(RouterDmi, GrantIsTranslatedAndClippedToTheWindow) {
  tlm::tlm_generic_payload gp;
  tlm::tlm_dmi dmi;
  gp.set_address(0x80000010u);
  ASSERT_TRUE(the_bench().cpu.socket->get_direct_mem_ptr(gp, dmi));
  EXPECT_EQ(dmi.get_start_address(), 0x80000000u);
  EXPECT_EQ(dmi.get_end_address(), 0x80000FFFu);  // the target offers 0x2000 bytes; the window is 0x1000
  EXPECT_EQ(gp.get_address(), 0x80000010u);
}

TEST(RouterDmi, InvalidationReachesEveryInitiatorInGlobalAddresses) {
  the_bench().mem.socket->invalidate_direct_mem_ptr(0x20, 0x3F);
  the_bench().mem.socket->invalidate_direct_mem_ptr(0, ~sc_dt::uint64{0});  // everything: clipped to the window
  the_bench().mem.socket->invalidate_direct_mem_ptr(0x1800, 0x1FFF);        // beyond the window: nobody has it
  the_bench().other.socket->invalidate_direct_mem_ptr(0, 0xFF);
  const std::vector<std::pair<sc_dt::uint64, sc_dt::uint64>> want = {
      {0x80000020u, 0x8000003Fu}, {0x80000000u, 0x80000FFFu}, {0x10000u, 0x100FFu}};
  EXPECT_EQ(the_bench().cpu.invalidated, want);
  EXPECT_EQ(the_bench().dma.invalidated, want);
}

}  // namespace
