/* circa accelerator register map: the one definition shared by the device model (sc_models/accel_controller) and
 * the C driver (sw_driver/circa_drv.c), as NVDLA's arnvdla.h serves its cmod and its kernel driver.
 * docs/registers.md is generated from this file (`circa registers --markdown`; a test keeps them equal).
 *
 * Every register is 32 bits wide and must be accessed with a 32-bit aligned access; any other width or alignment
 * gets a TLM error response. 64-bit counters are LO/HI pairs: reading LO latches HI. The PERF counters count the
 * current job while it runs (and the last one after it).
 * C11 and C++ compatible; no includes beyond <stdint.h>. */
#ifndef CIRCA_REGS_H
#define CIRCA_REGS_H

#include <stdint.h>

#define CIRCA_ID_VALUE 0x43495243u /* "CIRC" */
#define CIRCA_VERSION_VALUE 0x00020000u /* 2.0: major in [31:16], minor in [15:0]; 2.0: every PERF counter is a 64-bit LO/HI pair, read live, and the BUFFER error */

/* X(name, offset, access, reset, description). access: RO, RW, W1C (write 1 to clear), WO (write only, reads 0). */
#define CIRCA_REGISTERS(X)                                                                                          \
  X(ID, 0x000, RO, CIRCA_ID_VALUE, "Device identifier, reads \"CIRC\"")                                             \
  X(VERSION, 0x004, RO, CIRCA_VERSION_VALUE, "Register-map version: major [31:16], minor [15:0]")                  \
  X(CAPS_K, 0x008, RO, 0, "Supported block sizes: bit i set when k = 2^i is supported (bit 0: k = 1, dense)")      \
  X(CAPS_WEIGHT_Q, 0x00C, RO, 0, "Weight Q format: m [7:0], n [15:8]")                                             \
  X(CAPS_ACT_Q, 0x010, RO, 0, "Activation Q format: m [7:0], n [15:8]")                                            \
  X(CAPS_CELL_Q, 0x014, RO, 0, "Cell-state Q format: m [7:0], n [15:8]")                                           \
  X(CAPS_LANES, 0x018, RO, 0, "FFT lanes [7:0], activation lanes [15:8], EW-MAC complex MAC lanes [31:16]")         \
  X(CAPS_BUF_KIB, 0x01C, RO, 0, "On-chip weight buffer capacity in KiB")                                           \
  X(CAPS_LIMITS, 0x020, RO, 0, "Largest dimension [15:0] (cells, inputs, classes), most layers [23:16]")            \
  X(CAPS_LUT, 0x024, RO, 0, "Activation LUT entries per function [23:0], mode [24] (0 LUT, 1 PWL)")                 \
  X(CAPS_DATAPATH, 0x028, RO, 0, "Guard bits [7:0], IFFT input bits [15:8], accumulator bits [23:16], rounding [24]")  \
  X(CTRL, 0x040, RW, 0, "START [0] (self-clearing), SOFT_RESET [1] (self-clearing), IRQ_EN [2]")                    \
  X(STATUS, 0x044, RO, 0, "State [1:0]: 0 idle, 1 busy, 2 done, 3 error; error code [15:8]; frames done [31:16]")   \
  X(IRQ_STATUS, 0x048, W1C, 0, "DONE [0], ERROR [1]; write 1 to clear")                                            \
  X(IRQ_MASK, 0x04C, RW, 0, "Enable DONE [0], ERROR [1]; the line is high while (IRQ_STATUS & IRQ_MASK) != 0")      \
  X(DESC_LO, 0x050, RW, 0, "Job descriptor DDR address [31:0]")                                                   \
  X(DESC_HI, 0x054, RW, 0, "Job descriptor DDR address [63:32]")                                                  \
  X(LUT_SEL, 0x060, RW, 0, "LUT load: function [0] (0 sigmoid, 1 tanh), start index [31:8]")                       \
  X(LUT_DATA, 0x064, WO, 0, "LUT load: next table word (signed raw value), index auto-increments")                 \
  X(LUT_COMMIT, 0x068, WO, 0, "LUT load: write 1 to install the words written since LUT_SEL")                      \
  X(RING_HEAD, 0x070, RW, 0, "Input ring: frame steps the host has written (a ring job runs step t once HEAD > t)")  \
  X(RING_TAIL, 0x074, RO, 0, "Input ring: frame steps the device has completed (their slots are free again)")       \
  X(PERF_CYCLES_LO, 0x100, RO, 0, "Cycles of the current or last job [31:0]")           \
  X(PERF_CYCLES_HI, 0x104, RO, 0, "Cycles of the current or last job [63:32]")          \
  X(PERF_FFT_BUSY_LO, 0x108, RO, 0, "FFT unit busy cycles [31:0]")                      \
  X(PERF_FFT_BUSY_HI, 0x10C, RO, 0, "FFT unit busy cycles [63:32]")                     \
  X(PERF_EMAC_BUSY_LO, 0x110, RO, 0, "EW-MAC busy cycles [31:0]")                       \
  X(PERF_EMAC_BUSY_HI, 0x114, RO, 0, "EW-MAC busy cycles [63:32]")                      \
  X(PERF_IFFT_BUSY_LO, 0x118, RO, 0, "IFFT unit busy cycles [31:0]")                    \
  X(PERF_IFFT_BUSY_HI, 0x11C, RO, 0, "IFFT unit busy cycles [63:32]")                   \
  X(PERF_ACT_BUSY_LO, 0x120, RO, 0, "Activation unit busy cycles [31:0]")               \
  X(PERF_ACT_BUSY_HI, 0x124, RO, 0, "Activation unit busy cycles [63:32]")              \
  X(PERF_CELL_BUSY_LO, 0x128, RO, 0, "Cell-update busy cycles [31:0]")                  \
  X(PERF_CELL_BUSY_HI, 0x12C, RO, 0, "Cell-update busy cycles [63:32]")                 \
  X(PERF_DMA_BUSY_LO, 0x130, RO, 0, "DMA busy cycles [31:0]")                           \
  X(PERF_DMA_BUSY_HI, 0x134, RO, 0, "DMA busy cycles [63:32]")                          \
  X(PERF_STALL_LO, 0x138, RO, 0, "Stall cycles summed over the datapath units [31:0]")  \
  X(PERF_STALL_HI, 0x13C, RO, 0, "Stall cycles summed over the datapath units [63:32]") \
  X(PERF_DDR_RD_LO, 0x140, RO, 0, "DDR bytes read [31:0]")                              \
  X(PERF_DDR_RD_HI, 0x144, RO, 0, "DDR bytes read [63:32]")                             \
  X(PERF_DDR_WR_LO, 0x148, RO, 0, "DDR bytes written [31:0]")                           \
  X(PERF_DDR_WR_HI, 0x14C, RO, 0, "DDR bytes written [63:32]")                          \
  X(PERF_SAT, 0x150, RO, 0, "Saturations in the datapath")                              \
  X(PERF_FRAMES, 0x154, RO, 0, "Frames completed")

enum circa_reg {
#define CIRCA_REG_ENUM(name, off, acc, reset, desc) CIRCA_REG_##name = off,
  CIRCA_REGISTERS(CIRCA_REG_ENUM)
#undef CIRCA_REG_ENUM
};

#define CIRCA_REG_SPACE 0x1000u /* bytes decoded by the register block */

/* CTRL */
#define CIRCA_CTRL_START (1u << 0)
#define CIRCA_CTRL_SOFT_RESET (1u << 1)
#define CIRCA_CTRL_IRQ_EN (1u << 2)
/* STATUS */
#define CIRCA_STATUS_STATE(v) ((v) & 3u)
#define CIRCA_STATUS_ERROR(v) (((v) >> 8) & 0xFFu)
#define CIRCA_STATUS_FRAMES(v) ((v) >> 16)
enum circa_state { CIRCA_STATE_IDLE = 0, CIRCA_STATE_BUSY = 1, CIRCA_STATE_DONE = 2, CIRCA_STATE_ERROR = 3 };
/* IRQ_STATUS / IRQ_MASK */
#define CIRCA_IRQ_DONE (1u << 0)
#define CIRCA_IRQ_ERROR (1u << 1)

/* X(register, field, lsb, width, description): the fields of the registers that hold more than one value, so that
 * docs/registers.md and the driver's decoding come from the same table. The single-bit masks above stay as the
 * short spelling; a test checks that they agree with this table. */
#define CIRCA_FIELDS(X)                                                                                  \
  X(VERSION, MINOR, 0, 16, "Minor version: additions that an older driver of the same major may ignore") \
  X(VERSION, MAJOR, 16, 16, "Major version: a driver refuses any major it was not written for")          \
  X(CAPS_WEIGHT_Q, M, 0, 8, "Integer bits, sign included")                                               \
  X(CAPS_WEIGHT_Q, N, 8, 8, "Fractional bits")                                                           \
  X(CAPS_ACT_Q, M, 0, 8, "Integer bits, sign included")                                                  \
  X(CAPS_ACT_Q, N, 8, 8, "Fractional bits")                                                              \
  X(CAPS_CELL_Q, M, 0, 8, "Integer bits, sign included")                                                 \
  X(CAPS_CELL_Q, N, 8, 8, "Fractional bits")                                                             \
  X(CAPS_LANES, FFT, 0, 8, "FFT/IFFT lanes")                                                             \
  X(CAPS_LANES, ACT, 8, 8, "Activation lanes")                                                           \
  X(CAPS_LANES, EMAC, 16, 16, "EW-MAC complex MAC lanes")                                                \
  X(CAPS_LIMITS, MAX_DIM, 0, 16, "Largest cell, input, projection or class dimension")                   \
  X(CAPS_LIMITS, MAX_LAYERS, 16, 8, "Most layers in one job")                                            \
  X(CAPS_LUT, ENTRIES, 0, 24, "Activation LUT entries per function")                                     \
  X(CAPS_LUT, PWL, 24, 1, "Interpolation: 0 plain LUT, 1 piecewise linear")                              \
  X(CAPS_DATAPATH, GUARD, 0, 8, "Guard bits of the frequency and gate sums (numerics.guard_bits)")       \
  X(CAPS_DATAPATH, IFFT_BITS, 8, 8, "Width the frequency sums saturate to before the IFFT")              \
  X(CAPS_DATAPATH, ACC_BITS, 16, 8, "Accumulator width the sums must provably fit")                      \
  X(CAPS_DATAPATH, HALF_UP, 24, 1, "Rounding: 0 half to even, 1 half up")                                \
  X(CTRL, START, 0, 1, "Write 1 to start the job at DESC_HI:DESC_LO; self-clearing")                     \
  X(CTRL, SOFT_RESET, 1, 1, "Write 1 to abort any job and return to idle; self-clearing")                \
  X(CTRL, IRQ_EN, 2, 1, "Global interrupt enable")                                                       \
  X(STATUS, STATE, 0, 2, "0 idle, 1 busy, 2 done, 3 error")                                              \
  X(STATUS, ERROR, 8, 8, "Error code (see the error table)")                                             \
  X(STATUS, FRAMES, 16, 16, "Frames completed by the current or last job")                               \
  X(IRQ_STATUS, DONE, 0, 1, "The job completed; write 1 to clear")                                       \
  X(IRQ_STATUS, ERROR, 1, 1, "The job stopped on an error; write 1 to clear")                            \
  X(IRQ_MASK, DONE, 0, 1, "DONE drives the line")                                                        \
  X(IRQ_MASK, ERROR, 1, 1, "ERROR drives the line")                                                      \
  X(LUT_SEL, FN, 0, 1, "Table to load: 0 sigmoid, 1 tanh")                                               \
  X(LUT_SEL, INDEX, 8, 24, "Entry that the next LUT_DATA write fills")

enum circa_field {
#define CIRCA_FIELD_ENUM(reg, field, lsb, width, desc) \
  CIRCA_FLD_##reg##_##field##_LSB = lsb, CIRCA_FLD_##reg##_##field##_WIDTH = width,
  CIRCA_FIELDS(CIRCA_FIELD_ENUM)
#undef CIRCA_FIELD_ENUM
};

/* Widths are 1..32, so the shift below never reaches 32. */
#define CIRCA_FIELD_ONES(reg, field) (0xFFFFFFFFu >> (32 - CIRCA_FLD_##reg##_##field##_WIDTH))
#define CIRCA_FIELD_MASK(reg, field) (CIRCA_FIELD_ONES(reg, field) << CIRCA_FLD_##reg##_##field##_LSB)
#define CIRCA_FIELD_GET(v, reg, field) \
  (((uint32_t)(v) >> CIRCA_FLD_##reg##_##field##_LSB) & CIRCA_FIELD_ONES(reg, field))
#define CIRCA_FIELD_SET(reg, field, x) \
  (((uint32_t)(x) & CIRCA_FIELD_ONES(reg, field)) << CIRCA_FLD_##reg##_##field##_LSB)

/* LUT_SEL.FN */
enum circa_lut_fn { CIRCA_LUT_SIGMOID = 0, CIRCA_LUT_TANH = 1 };

/* X(name, code, description): the device's error codes (STATUS[15:8]). */
#define CIRCA_ERRORS(X)                                                                                        \
  X(NONE, 0, "no error")                                                                                       \
  X(DESC_ADDR, 1, "descriptor address outside DDR")                                                           \
  X(DESC_ALIGN, 2, "descriptor address not 64-byte aligned")                                                  \
  X(DESC_FORMAT, 3, "descriptor magic or version not recognised")                                            \
  X(ADDR_RANGE, 4, "a buffer address or extent lies outside DDR")                                             \
  X(ADDR_ALIGN, 5, "a buffer address is not 64-byte aligned")                                                 \
  X(BLOCK_SIZE, 6, "a block size k the hardware does not support")                                            \
  X(BITS, 7, "Q formats differ from the hardware's")                                                          \
  X(CAPACITY, 8, "a dimension or the layer count exceeds the hardware's capacity")                            \
  X(DIMS, 9, "inconsistent dimensions (zero, or not a multiple of k)")                                        \
  X(BUSY, 10, "START written while a job was running")                                                        \
  X(BUS, 11, "a DMA transfer got an error response from the bus")                                             \
  X(ACCUMULATOR, 12, "the weights could overflow the accumulator")                                            \
  X(ARCH, 13, "unknown network architecture")                                                                 \
  X(BUFFER, 14, "the job's values do not fit an on-chip buffer")

enum circa_error {
#define CIRCA_ERR_ENUM(name, code, desc) CIRCA_ERR_##name = code,
  CIRCA_ERRORS(CIRCA_ERR_ENUM)
#undef CIRCA_ERR_ENUM
};

#endif /* CIRCA_REGS_H */
