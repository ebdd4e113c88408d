// circa's own main: the SystemC library brings a main that prints a banner; ours silences it before any SystemC
// code runs, then hands over to the CLI (which elaborates a platform only for commands that simulate).
#include <cstdlib>

#include "core/atomic_file.hpp"
#include "platform/cli.hpp"

int main(int argc, char** argv) {
  ::setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 1);
  // ^C or a kill mid-run must not leave "<out>.tmp-<pid>" beside the previous output.
  circa::install_interrupt_cleanup();
  return circa::cli_main(argc, argv);
}
