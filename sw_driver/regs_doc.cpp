#include "sw_driver/regs_doc.hpp"

#include <cstdint>
#include <cstdio>
#include <string>

#include "sw_driver/circa_drv.h"
#include "hwif/circa_regs.h"

namespace circa {

namespace {

std::string hex(std::uint32_t v, int digits) {
  char b[16];
  std::snprintf(b, sizeof b, "0x%0*X", digits, static_cast<unsigned>(v));
  return b;
}

// A description goes into a table cell, where a bare '|' would split it.
std::string cell(const char* s) {
  std::string out;
  for (; *s; ++s) {
    if (*s == '|') out += '\\';
    out += *s;
  }
  return out;
}

std::string bits(int lsb, int width) {
  const int msb = lsb + width - 1;
  return "[" + (width == 1 ? std::to_string(lsb) : std::to_string(msb) + ":" + std::to_string(lsb)) + "]";
}

// CAPS_* are read-only values of the hardware configuration; the 0 in the X-macro is only a placeholder.
std::string reset_value(const std::string& name, std::uint32_t v) {
  return name.rfind("CAPS_", 0) == 0 ? "from config" : "`" + hex(v, 8) + "`";
}

}  // namespace

std::string registers_markdown() {
  std::string md;
  md += "# circa register map\n\n";
  md += "<!-- Generated from hwif/circa_regs.h by circa::registers_markdown() (sw_driver/regs_doc.cpp).\n";
  md += "     Edit the header, not this file: test_regs_doc fails while the two differ. -->\n\n";
  md += "Device ID `" + hex(CIRCA_ID_VALUE, 8) + "` (\"CIRC\"), register-map version " +
        std::to_string(CIRCA_VERSION_VALUE >> 16) + "." + std::to_string(CIRCA_VERSION_VALUE & 0xFFFFu) +
        ". The register block decodes " + hex(CIRCA_REG_SPACE, 4) +
        " bytes; the device model and the C driver both compile against `hwif/circa_regs.h`.\n\n";

  md += "## Access rules\n\n";
  md +=
      "- Every register is 32 bits wide. Only 32-bit accesses at 4-byte aligned offsets are allowed; an access of "
      "any other width or alignment gets a TLM error response.\n";
  md +=
      "- Access types: RO read-only, RW read/write, WO write-only (reads return 0), W1C write 1 to clear (writing "
      "0 leaves a bit as it is).\n";
  md +=
      "- 64-bit values are LO/HI pairs. For the counters, reading LO latches HI, so read LO first and HI second "
      "to get one consistent sample. The device takes the descriptor address `DESC_HI:DESC_LO` as it stands "
      "when START is written, so write both halves first.\n";
  md +=
      "- The interrupt line is level-triggered: it is high while `IRQ_STATUS & IRQ_MASK` is nonzero (with "
      "`CTRL.IRQ_EN` set) and drops only when the host clears the bits by writing 1s to `IRQ_STATUS`. A handler "
      "or a wait must test the level before waiting for an edge, or an interrupt raised earlier is lost.\n";
  md +=
      "- On the virtual platform a read of `STATUS` or a write of `CTRL` synchronises the host's quantum (like "
      "VCML's `sync_always`): the host's local time offset is consumed before the access, so the device is seen "
      "at the host's current simulated time. Other accesses may run up to one quantum ahead of the device.\n";
  md +=
      "- `STATUS.ERROR` holds one of the device error codes below. The C driver returns those codes unchanged "
      "(positive) and uses negative codes for the errors it detects itself.\n\n";

  md += "## Registers\n\n";
  md += "| Offset | Name | Access | Reset | Description |\n";
  md += "|---|---|---|---|---|\n";
#define CIRCA_DOC_REG(name, off, acc, reset, desc) \
  md += "| `" + hex(off, 3) + "` | `" #name "` | " #acc " | " + reset_value(#name, reset) + " | " + cell(desc) + " |\n";
  CIRCA_REGISTERS(CIRCA_DOC_REG)
#undef CIRCA_DOC_REG

  md += "\n## Fields\n\n";
  md += "| Register | Bits | Field | Description |\n";
  md += "|---|---|---|---|\n";
#define CIRCA_DOC_FIELD(reg, field, lsb, width, desc) \
  md += "| `" #reg "` | " + bits(lsb, width) + " | `" #field "` | " + cell(desc) + " |\n";
  CIRCA_FIELDS(CIRCA_DOC_FIELD)
#undef CIRCA_DOC_FIELD

  md += "\n## Device error codes (`STATUS.ERROR`)\n\n";
  md += "| Code | Name | Meaning |\n";
  md += "|---|---|---|\n";
#define CIRCA_DOC_ERR(name, code, desc) \
  md += "| " + std::to_string(code) + " | `CIRCA_ERR_" #name "` | " + cell(desc) + " |\n";
  CIRCA_ERRORS(CIRCA_DOC_ERR)
#undef CIRCA_DOC_ERR

  md += "\n## Driver error codes (returned by `sw_driver/circa_drv.h`, never by the device)\n\n";
  md += "| Code | Name | Meaning |\n";
  md += "|---|---|---|\n";
#define CIRCA_DOC_DRV(name, code, desc) \
  md += "| " + std::to_string(code) + " | `CIRCA_DRV_ERR_" #name "` | " + cell(desc) + " |\n";
  CIRCA_DRV_ERRORS(CIRCA_DOC_DRV)
#undef CIRCA_DOC_DRV
  return md;
}

}  // namespace circa
