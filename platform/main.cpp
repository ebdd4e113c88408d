// circa's own main: the SystemC library brings a main that prints a banner; ours silences it before any SystemC
// code runs, then hands over to the CLI (which elaborates a platform only for commands that simulate).
#include <cstdlib>

#include "platform/cli.hpp"

int main(int argc, char** argv) {
  ::setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 1);
  return circa::cli_main(argc, argv);
}
