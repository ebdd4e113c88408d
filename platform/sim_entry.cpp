#include "platform/sim_entry.hpp"

#include <iostream>
#include <stdexcept>
#include <systemc>

namespace {

std::function<int()> g_body;
std::string g_error;

// Nothing of SystemC's goes to stdout: info is dropped, warnings go to stderr, errors end the run.
void report_handler(const sc_core::sc_report& rep, const sc_core::sc_actions& actions) {
  using namespace sc_core;
  if (rep.get_severity() == SC_INFO) return;
  if (rep.get_severity() == SC_WARNING) {
    std::cerr << "circa: SystemC warning " << rep.get_msg_type() << ": " << rep.get_msg() << "\n";
    return;
  }
  if (g_error.empty()) g_error = std::string(rep.get_msg_type()) + ": " + rep.get_msg();
  if (actions & (SC_THROW | SC_ABORT)) throw std::runtime_error("SystemC " + g_error);
}

}  // namespace

int sc_main(int, char*[]) { return g_body ? g_body() : 1; }

namespace circa {

int run_simulation(const std::function<int()>& body) {
  g_body = body;
  g_error.clear();
  sc_core::sc_report_handler::set_handler(report_handler);
  sc_core::sc_report_handler::set_actions(sc_core::SC_ERROR, sc_core::SC_THROW);
  sc_core::sc_report_handler::set_actions(sc_core::SC_FATAL, sc_core::SC_THROW);
  char name[] = "circa";
  char* argv[] = {name, nullptr};
  const int rc = sc_core::sc_elab_and_sim(1, argv);
  if (!g_error.empty()) throw std::runtime_error("simulation failed: " + g_error);
  return rc;
}

}  // namespace circa
