// circa-corpus: command line. See docs/corpus.md, or circa-corpus --help.
#include "scripts/corpus/corpus_cli.hpp"

int main(int argc, char** argv) {
  return circa::corpus::corpus_cli_main(argc, argv);
}
