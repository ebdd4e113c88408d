// docs/registers.md is exactly what registers_markdown() generates from circa_regs.h, and the register map itself
// is well-formed: offsets unique and aligned, fields inside 32 bits and not overlapping, masks agreeing with fields.
#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>

#include "core/atomic_file.hpp"
#include "sw_driver/circa_drv.h"
#include "hwif/circa_regs.h"
#include "sw_driver/regs_doc.hpp"

namespace circa {
namespace {

// The short single-bit spellings the driver and the device use must be the field table's bits.
static_assert(CIRCA_CTRL_START == CIRCA_FIELD_MASK(CTRL, START));
static_assert(CIRCA_CTRL_SOFT_RESET == CIRCA_FIELD_MASK(CTRL, SOFT_RESET));
static_assert(CIRCA_CTRL_IRQ_EN == CIRCA_FIELD_MASK(CTRL, IRQ_EN));
static_assert(CIRCA_IRQ_DONE == CIRCA_FIELD_MASK(IRQ_STATUS, DONE));
static_assert(CIRCA_IRQ_ERROR == CIRCA_FIELD_MASK(IRQ_STATUS, ERROR));
static_assert(CIRCA_IRQ_DONE == CIRCA_FIELD_MASK(IRQ_MASK, DONE));
static_assert(CIRCA_IRQ_ERROR == CIRCA_FIELD_MASK(IRQ_MASK, ERROR));
static_assert(CIRCA_STATUS_STATE(0xFFFFFFFFu) == CIRCA_FIELD_ONES(STATUS, STATE));
static_assert(CIRCA_STATUS_ERROR(0xFFFFFFFFu) << CIRCA_FLD_STATUS_ERROR_LSB == CIRCA_FIELD_MASK(STATUS, ERROR));
static_assert(CIRCA_STATUS_FRAMES(0xFFFFFFFFu) << CIRCA_FLD_STATUS_FRAMES_LSB == CIRCA_FIELD_MASK(STATUS, FRAMES));
static_assert(CIRCA_FIELD_GET(CIRCA_VERSION_VALUE, VERSION, MAJOR) == 2);

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

TEST(RegistersDoc, CommittedFileMatchesTheGenerator) {
  const std::string path = std::string(CIRCA_SOURCE_DIR) + "/docs/registers.md";
  const std::string want = registers_markdown();
  const std::string have = read_file(path);
  if (have != want) {
    // Leave the expected text next to the test so the fix is one copy.
    const std::string fresh = std::string(CIRCA_BINARY_DIR) + "/registers.md";
    AtomicFile out(fresh);
    out.write(want);
    out.commit();
    FAIL() << path << " differs from registers_markdown(); if circa_regs.h changed on purpose, run\n  cp " << fresh
           << " " << path;
  }
}

TEST(RegistersDoc, NamesEveryRegisterFieldAndCode) {
  const std::string md = registers_markdown();
#define REG_NAMED(name, off, acc, reset, desc) EXPECT_NE(md.find("`" #name "`"), std::string::npos) << #name;
  CIRCA_REGISTERS(REG_NAMED)
#undef REG_NAMED
#define FIELD_NAMED(reg, field, lsb, width, desc) \
  EXPECT_NE(md.find("| `" #field "` | " desc " |"), std::string::npos) << #reg "." #field;
  CIRCA_FIELDS(FIELD_NAMED)
#undef FIELD_NAMED
#define ERR_NAMED(name, code, desc) EXPECT_NE(md.find("`CIRCA_ERR_" #name "`"), std::string::npos) << #name;
  CIRCA_ERRORS(ERR_NAMED)
#undef ERR_NAMED
#define DRV_NAMED(name, code, desc) EXPECT_NE(md.find("`CIRCA_DRV_ERR_" #name "`"), std::string::npos) << #name;
  CIRCA_DRV_ERRORS(DRV_NAMED)
#undef DRV_NAMED
  EXPECT_NE(md.find("| `0x000` | `ID` | RO | `0x43495243` |"), std::string::npos);
  EXPECT_NE(md.find("| `STATUS` | [15:8] | `ERROR` |"), std::string::npos);
  EXPECT_EQ(md.back(), '\n');
}

TEST(RegisterMap, OffsetsAreUniqueAlignedAndInsideTheBlock) {
  std::set<std::uint32_t> offsets;
  std::set<std::string> names;
#define REG_CHECK(name, off, acc, reset, desc)                                                        \
  EXPECT_EQ((off) % 4u, 0u) << #name;                                                                 \
  EXPECT_LT(static_cast<std::uint32_t>(off), CIRCA_REG_SPACE) << #name;                               \
  EXPECT_TRUE(offsets.insert(off).second) << #name " shares its offset";                              \
  EXPECT_TRUE(names.insert(#name).second) << #name;                                                   \
  EXPECT_TRUE(std::string(#acc) == "RO" || std::string(#acc) == "RW" || std::string(#acc) == "W1C" || \
              std::string(#acc) == "WO")                                                              \
      << #name;                                                                                       \
  EXPECT_STRNE(desc, "") << #name;
  CIRCA_REGISTERS(REG_CHECK)
#undef REG_CHECK
}

TEST(RegisterMap, FieldsFitTheirRegisterAndDoNotOverlap) {
  std::set<std::string> regs;
#define REG_NAME(name, off, acc, reset, desc) regs.insert(#name);
  CIRCA_REGISTERS(REG_NAME)
#undef REG_NAME
  std::map<std::string, std::uint32_t> used;
#define FIELD_CHECK(reg, field, lsb, width, desc)                                                                   \
  {                                                                                                                 \
    EXPECT_TRUE(regs.count(#reg)) << #reg "." #field " names no register";                                          \
    EXPECT_GE(width, 1) << #reg "." #field;                                                                         \
    EXPECT_LE((lsb) + (width), 32) << #reg "." #field;                                                              \
    const std::uint32_t mask = CIRCA_FIELD_MASK(reg, field);                                                        \
    EXPECT_EQ(used[#reg] & mask, 0u) << #reg "." #field " overlaps another field";                                  \
    used[#reg] |= mask;                                                                                             \
    EXPECT_EQ(CIRCA_FIELD_GET(CIRCA_FIELD_SET(reg, field, 0xFFFFFFFFu), reg, field), CIRCA_FIELD_ONES(reg, field)); \
  }
  CIRCA_FIELDS(FIELD_CHECK)
#undef FIELD_CHECK
}

}  // namespace
}  // namespace circa
