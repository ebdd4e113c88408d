// circa: the one door into SystemC. libsystemc calls sc_main from sc_elab_and_sim; circa decides what it runs.
#pragma once

#include <functional>

namespace circa {

// Elaborates and simulates `body` inside sc_elab_and_sim (so SystemC's own start-up and error handling apply).
// One call per process: SystemC cannot elaborate twice.
int run_simulation(const std::function<int()>& body);

}  // namespace circa
