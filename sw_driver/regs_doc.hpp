// circa: docs/registers.md, generated from the register map's X-macros (hwif/circa_regs.h) so that the
// documentation cannot drift from what the device model and the driver compile against.
#pragma once

#include <string>

namespace circa {

// The complete Markdown text of docs/registers.md. A test compares the committed file with it byte for byte.
std::string registers_markdown();

}  // namespace circa
