#include "platform/sim_entry.hpp"

#include <systemc>

namespace {
std::function<int()> g_body;
}

int sc_main(int, char*[]) { return g_body ? g_body() : 1; }

namespace circa {

int run_simulation(const std::function<int()>& body) {
  g_body = body;
  char name[] = "circa";
  char* argv[] = {name, nullptr};
  return sc_core::sc_elab_and_sim(1, argv);
}

}  // namespace circa
