/* circa driver HAL: the only way the driver core (circa_drv.c) touches the machine. Each port fills one struct:
 * the VP's host_cpu (TLM b_transport and the IRQ signal), a bare-metal port (volatile MMIO and an interrupt flag),
 * a Linux port (UIO mmap and read() on the UIO fd), or a test's fake device. As in NVDLA, the core stays
 * OS-agnostic because everything that blocks, maps or times lives behind these hooks.
 *
 * Threading: the core calls the hooks only from the thread that called the driver, one call at a time, and never
 * from inside another hook. A port needs no locking unless it shares the device with someone else.
 * C11 and C++ compatible. */
#ifndef CIRCA_HAL_H
#define CIRCA_HAL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* wait_irq results. Any other positive value is read as a timeout, any negative one as a port failure. */
#define CIRCA_HAL_IRQ 0
#define CIRCA_HAL_TIMEOUT 1

struct circa_hal {
  /* Handed back unchanged as the first argument of every hook. */
  void* ctx;

  /* Required. One 32-bit read of the register at `offset` bytes from the register block's base (a CIRCA_REG_*
   * value, always 4-byte aligned and below CIRCA_REG_SPACE). The read must reach the device in program order
   * with the other register accesses and must not be merged or cached. A read of STATUS is also where the VP
   * synchronises the host's quantum, so a port must not answer it from a shadow copy. A port that gets a bus
   * error returns 0xFFFFFFFF, which no ID or STATUS value of a working device equals. */
  uint32_t (*reg_read)(void* ctx, uint32_t offset);

  /* Required. One 32-bit write, ordered after every earlier register access and memory write (so the device sees
   * a descriptor written by mem_write before the START that points it at it). A write of CTRL synchronises the
   * VP's quantum. Posted writes are fine as long as a later reg_read cannot overtake them. */
  void (*reg_write)(void* ctx, uint32_t offset, uint32_t value);

  /* Optional (circa_mem_write/circa_mem_read return CIRCA_DRV_ERR_HAL without them). Copies `size` bytes between
   * host memory and the device's DDR at physical address `addr`. Returns 0 when every byte was transferred,
   * nonzero otherwise (an address outside DDR, a bus error); after a failure the destination's contents are
   * unspecified. The VP may use DMI or bursts and may charge simulated time; the bytes must be visible to the
   * device's next DMA once the hook returns. */
  int (*mem_write)(void* ctx, uint64_t addr, const void* src, size_t size);
  int (*mem_read)(void* ctx, uint64_t addr, void* dst, size_t size);

  /* Required. Blocks until the device's interrupt line is high or `timeout_ns` has passed, whichever is first.
   * The line is level-triggered (high while IRQ_STATUS & IRQ_MASK is nonzero with CTRL.IRQ_EN set), so the hook
   * must test the level before it waits for an edge: an IRQ raised before the call, or inside the host's
   * current quantum, must still return at once. The VP syncs its quantum keeper first, tests the level, then
   * waits on the rising edge or the timeout, in simulated time. timeout_ns = 0 tests the level only.
   * Returns CIRCA_HAL_IRQ (0) when the line was seen high, CIRCA_HAL_TIMEOUT (or any positive value) when the
   * time ran out, a negative value when the port itself failed. A port may return 0 on an edge that has gone by
   * the time the driver reads IRQ_STATUS; the driver then waits again for what is left of its timeout. */
  int (*wait_irq)(void* ctx, uint64_t timeout_ns);

  /* Optional. A monotonic clock in ns, in the time base wait_irq counts in (simulated time on the VP). With it
   * the driver measures timeouts across several waits and polls; without it a poll loop is bounded by a count
   * (CIRCA_POLL_LIMIT) instead of by time. */
  uint64_t (*now_ns)(void* ctx);
};

#ifdef __cplusplus
}
#endif

#endif /* CIRCA_HAL_H */
