// circa-corpus: the command line, as a function so the tests can drive it in-process.
#pragma once

namespace circa::corpus {

// Exit codes as circa's: 0 success, 2 bad input or usage (one line on stderr), 1 internal error.
int corpus_cli_main(int argc, char** argv);

}  // namespace circa::corpus
