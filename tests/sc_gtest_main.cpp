// Our main for SystemC test benches: silence the banner, elaborate once through sc_elab_and_sim, and run
// GoogleTest inside sc_main. Any SystemC warning or error fails the running test (VCML's habit).
#include <gtest/gtest.h>

#include <cstdlib>
#include <systemc>

namespace {

void report_to_gtest(const sc_core::sc_report& rep, const sc_core::sc_actions& actions) {
  using namespace sc_core;
  if (rep.get_severity() >= SC_WARNING) {
    ADD_FAILURE() << "SystemC " << (rep.get_severity() == SC_WARNING ? "warning" : "error") << " "
                  << rep.get_msg_type() << ": " << rep.get_msg() << " (" << rep.get_file_name() << ":"
                  << rep.get_line_number() << ")";
  }
  // Keep SystemC's own handling for fatal/abort actions, but never let it print to stdout for info.
  if (actions & (SC_ABORT | SC_STOP)) sc_report_handler::default_handler(rep, actions & ~SC_DISPLAY);
}

}  // namespace

int sc_main(int argc, char* argv[]) {
  ::testing::InitGoogleTest(&argc, argv);
  sc_core::sc_report_handler::set_handler(report_to_gtest);
  // Errors must not throw out of a test (the handler already recorded them); fatal still stops.
  sc_core::sc_report_handler::set_actions(sc_core::SC_ERROR, sc_core::SC_DISPLAY);
  sc_core::sc_report_handler::set_actions(sc_core::SC_WARNING, sc_core::SC_DISPLAY);
  return RUN_ALL_TESTS();
}

int main(int argc, char* argv[]) {
  ::setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 1);
  return sc_core::sc_elab_and_sim(argc, argv);
}
