/* circa C driver core: register-level, OS-agnostic, C11. It reaches the device only through the HAL (hal.h) and
 * knows the device only through the register map (circa_regs.h), so the same source runs on the VP, on bare metal
 * and under an OS. It does not parse job descriptors: the C++ host runtime builds them in DDR, and the driver
 * passes their address and starts the job.
 *
 * No allocation, no globals: all state lives in the caller's struct circa_dev, so the driver is reentrant across
 * devices. One device must not be driven from two threads at once.
 *
 * Return values. Every function that can fail returns an int:
 *   0             success;
 *   1 .. 255      the device's own error code (enum circa_error, STATUS.ERROR), as the device reported it;
 *   -1 .. -99     the driver's own errors (CIRCA_DRV_ERRORS below), never produced by the device.
 * circa_strerror() has a string for every one of them. The driver never checks a descriptor address or its
 * contents itself, so every device-side validation error can be driven through it. */
#ifndef CIRCA_DRV_H
#define CIRCA_DRV_H

#include <stddef.h>
#include <stdint.h>

#include "../hwif/circa_regs.h"
#include "hal.h"

#ifdef __cplusplus
extern "C" {
#endif

/* X(name, code, description): errors the driver itself detects. Negative, so they can never collide with the
 * device's codes (STATUS.ERROR is 8 bits, 0..255). */
#define CIRCA_DRV_ERRORS(X)                                                                               \
  X(ARG, -1, "invalid argument (null pointer, incomplete HAL, or a value out of range)")                  \
  X(NOT_OPEN, -2, "the device has not been opened successfully")                                          \
  X(HAL, -3, "a HAL hook reported a failure or is missing")                                               \
  X(TIMEOUT, -4, "timed out waiting for the device")                                                      \
  X(BAD_ID, -5, "the device's ID register does not identify a circa accelerator")                         \
  X(VERSION, -6, "the device's register-map major version is not supported by this driver")               \
  X(CAPS, -7, "the device reports no usable capabilities (block sizes, Q formats, lanes, limits or LUT)") \
  X(NO_CODE, -8, "the device signalled an error but left the error code at 0")                            \
  X(PROTOCOL, -9, "the device's interrupt status and STATUS disagree")

enum circa_drv_error {
#define CIRCA_DRV_ERR_ENUM(name, code, desc) CIRCA_DRV_ERR_##name = code,
  CIRCA_DRV_ERRORS(CIRCA_DRV_ERR_ENUM)
#undef CIRCA_DRV_ERR_ENUM
};

/* The register-map major version this driver is written for. Any minor is accepted. */
#define CIRCA_DRV_VERSION_MAJOR (CIRCA_VERSION_VALUE >> 16)

/* How long circa_reset waits for the device to return to idle, in the HAL's time base. A soft reset takes a few
 * cycles; 1 ms leaves room for a slow quantum without letting a dead device hang the caller. */
#ifndef CIRCA_RESET_TIMEOUT_NS
#define CIRCA_RESET_TIMEOUT_NS 1000000u
#endif
/* Without now_ns a poll loop cannot measure time, so it gives up after this many register reads instead. */
#ifndef CIRCA_POLL_LIMIT
#define CIRCA_POLL_LIMIT 100000u
#endif
/* Without now_ns, how many times a wait that wakes with nothing pending is repeated before it counts as a
 * timeout (with now_ns, waits repeat until the deadline). */
#ifndef CIRCA_SPURIOUS_WAKES
#define CIRCA_SPURIOUS_WAKES 8u
#endif

struct circa_qformat {
  uint8_t m; /* integer bits, sign included */
  uint8_t n; /* fractional bits */
};

/* The CAPS registers, decoded. */
struct circa_device_caps {
  uint16_t version_major, version_minor;
  uint32_t k_mask; /* bit i set: block size k = 2^i supported (bit 0: dense) */
  struct circa_qformat weight, act, cell;
  uint32_t fft_lanes, act_lanes, emac_lanes;
  uint32_t buf_kib;
  uint32_t max_dim, max_layers;
  uint32_t lut_entries;
  int lut_pwl; /* 1: piecewise-linear interpolation between entries */
  /* CAPS_DATAPATH: the datapath's widths and rounding */
  uint32_t guard_bits, ifft_bits, acc_bits;
  int half_up; /* 1: round half up, 0: half to even */
};

struct circa_counters {
  uint64_t cycles;
  uint64_t fft_busy, emac_busy, ifft_busy, act_busy, cell_busy, dma_busy;
  uint64_t stall;
  uint64_t ddr_rd_bytes, ddr_wr_bytes;
  uint32_t saturations;
  uint32_t frames;
};

/* Owned by the caller (static, stack or embedded); the driver only fills it. Treat the members as read-only. */
struct circa_dev {
  struct circa_hal hal; /* a copy, so the caller's struct may go away after circa_open */
  struct circa_device_caps caps;
  int opened;
  uint32_t last_status;     /* STATUS as read at the end of the last wait */
  uint32_t last_irq_status; /* IRQ_STATUS as read at the end of the last wait */
};

/* Checks that the HAL is complete, then reads ID, VERSION and CAPS. Refuses a device whose ID is not
 * CIRCA_ID_VALUE (CIRCA_DRV_ERR_BAD_ID), whose major version is not CIRCA_DRV_VERSION_MAJOR
 * (CIRCA_DRV_ERR_VERSION), or that reports no block size, a zero-width Q format, no lanes, a zero dimension or
 * layer limit, or no LUT entries (CIRCA_DRV_ERR_CAPS). Does not touch CTRL: an open never disturbs a running job.
 * On failure dev is left closed. */
int circa_open(struct circa_dev* dev, const struct circa_hal* hal);

/* CTRL.SOFT_RESET, then polls STATUS until the device is idle and SOFT_RESET has cleared, for at most
 * CIRCA_RESET_TIMEOUT_NS (or CIRCA_POLL_LIMIT reads without now_ns). */
int circa_reset(struct circa_dev* dev);

/* The capabilities read by circa_open. */
int circa_caps(const struct circa_dev* dev, struct circa_device_caps* out);

/* Starts the job whose descriptor is at DDR address desc_addr: clears IRQ_STATUS, unmasks DONE and ERROR, writes
 * DESC_LO/DESC_HI, then CTRL = START | IRQ_EN. It does not look at STATUS first, so a start while busy reaches the
 * device, which reports it (CIRCA_ERR_BUSY). */
int circa_start_job(struct circa_dev* dev, uint64_t desc_addr);

/* Waits up to timeout_ns for the job's interrupt, then reads STATUS and IRQ_STATUS and clears the bits it saw.
 * Returns 0 when the job completed, the device's error code when it stopped on an error, CIRCA_DRV_ERR_TIMEOUT
 * when no interrupt came (the job may still be running: circa_reset aborts it), or another driver error. */
int circa_wait_job(struct circa_dev* dev, uint64_t timeout_ns);

/* Input ring (a descriptor with the RING flag): the host writes frame t of each stream into ring slot
 * t mod RING_SLOTS, then publishes it with circa_ring_push(dev, t + 1); the job runs step t once HEAD > t.
 * Before START, set HEAD to the frames already in the ring (0 for none). circa_ring_tail reads the steps the
 * device has completed: slot t mod RING_SLOTS may be rewritten once tail > t. */
int circa_ring_push(struct circa_dev* dev, uint32_t head);
int circa_ring_tail(struct circa_dev* dev, uint32_t* tail);

/* circa_start_job, then circa_wait_job. */
int circa_run_job(struct circa_dev* dev, uint64_t desc_addr, uint64_t timeout_ns);

/* Loads n words into activation table fn (enum circa_lut_fn) from entry 0: LUT_SEL, n writes of LUT_DATA, then
 * LUT_COMMIT. n must be 1 .. caps.lut_entries. Words are the table's signed raw values. Returns 0, or the
 * device's error code when it refused the table (CIRCA_ERR_BITS: a word does not fit its register;
 * CIRCA_ERR_CAPACITY), having cleared the ERROR interrupt it raised. */
int circa_load_lut(struct circa_dev* dev, unsigned fn, const int32_t* words, size_t n);

/* Reads every performance counter. A 64-bit counter is read LO first, since reading LO latches HI. */
int circa_read_counters(struct circa_dev* dev, struct circa_counters* out);

/* Bulk copies to and from the device's DDR through the HAL's mem hooks (CIRCA_DRV_ERR_HAL when they fail or are
 * missing). The C++ host runtime uses them to place a packed model, descriptors and frames. */
int circa_mem_write(struct circa_dev* dev, uint64_t addr, const void* src, size_t size);
int circa_mem_read(struct circa_dev* dev, uint64_t addr, void* dst, size_t size);

/* A static string for any return value above: 0, a device code, a driver code, or "unknown error code". */
const char* circa_strerror(int code);

#ifdef __cplusplus
}
#endif

#endif /* CIRCA_DRV_H */
