/* circa C driver core. Only the register map, the HAL and standard headers: CI compiles this file alone with
 * -std=c11 -Wall -Wextra -pedantic -Werror -fsyntax-only and no include path, so any other include breaks it. */
#include "circa_drv.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../hwif/circa_regs.h"
#include "hal.h"

static uint32_t rd(const struct circa_dev* dev, uint32_t off) {
  return dev->hal.reg_read(dev->hal.ctx, off);
}

static void wr(const struct circa_dev* dev, uint32_t off, uint32_t v) {
  dev->hal.reg_write(dev->hal.ctx, off, v);
}

static int usable(const struct circa_dev* dev) {
  if (dev == NULL) return CIRCA_DRV_ERR_ARG;
  return dev->opened ? 0 : CIRCA_DRV_ERR_NOT_OPEN;
}

#define CIRCA_READ_Q(dev, reg, q)                 \
  do {                                            \
    const uint32_t v_ = rd(dev, CIRCA_REG_##reg); \
    (q).m = (uint8_t)CIRCA_FIELD_GET(v_, reg, M); \
    (q).n = (uint8_t)CIRCA_FIELD_GET(v_, reg, N); \
  } while (0)

static void read_caps(const struct circa_dev* dev, uint32_t version, struct circa_device_caps* c) {
  uint32_t lanes, limits, lut, datapath;
  memset(c, 0, sizeof *c);
  c->version_major = (uint16_t)CIRCA_FIELD_GET(version, VERSION, MAJOR);
  c->version_minor = (uint16_t)CIRCA_FIELD_GET(version, VERSION, MINOR);
  c->k_mask = rd(dev, CIRCA_REG_CAPS_K);
  CIRCA_READ_Q(dev, CAPS_WEIGHT_Q, c->weight);
  CIRCA_READ_Q(dev, CAPS_ACT_Q, c->act);
  CIRCA_READ_Q(dev, CAPS_CELL_Q, c->cell);
  lanes = rd(dev, CIRCA_REG_CAPS_LANES);
  c->fft_lanes = CIRCA_FIELD_GET(lanes, CAPS_LANES, FFT);
  c->act_lanes = CIRCA_FIELD_GET(lanes, CAPS_LANES, ACT);
  c->emac_lanes = CIRCA_FIELD_GET(lanes, CAPS_LANES, EMAC);
  c->buf_kib = rd(dev, CIRCA_REG_CAPS_BUF_KIB);
  limits = rd(dev, CIRCA_REG_CAPS_LIMITS);
  c->max_dim = CIRCA_FIELD_GET(limits, CAPS_LIMITS, MAX_DIM);
  c->max_layers = CIRCA_FIELD_GET(limits, CAPS_LIMITS, MAX_LAYERS);
  lut = rd(dev, CIRCA_REG_CAPS_LUT);
  c->lut_entries = CIRCA_FIELD_GET(lut, CAPS_LUT, ENTRIES);
  c->lut_pwl = (int)CIRCA_FIELD_GET(lut, CAPS_LUT, PWL);
  datapath = rd(dev, CIRCA_REG_CAPS_DATAPATH);
  c->guard_bits = CIRCA_FIELD_GET(datapath, CAPS_DATAPATH, GUARD);
  c->ifft_bits = CIRCA_FIELD_GET(datapath, CAPS_DATAPATH, IFFT_BITS);
  c->acc_bits = CIRCA_FIELD_GET(datapath, CAPS_DATAPATH, ACC_BITS);
  c->half_up = (int)CIRCA_FIELD_GET(datapath, CAPS_DATAPATH, HALF_UP);
}

/* A zero here means the device cannot run any job this driver could build, so it is refused at open rather than
 * failing obscurely at the first START. buf_kib may be 0: weights then stream from DDR. */
static int caps_usable(const struct circa_device_caps* c) {
  return c->k_mask != 0 && c->weight.m != 0 && c->act.m != 0 && c->cell.m != 0 && c->fft_lanes != 0 &&
         c->act_lanes != 0 && c->emac_lanes != 0 && c->max_dim != 0 && c->max_layers != 0 && c->lut_entries != 0;
}

int circa_open(struct circa_dev* dev, const struct circa_hal* hal) {
  uint32_t id, version;
  if (dev == NULL) return CIRCA_DRV_ERR_ARG;
  memset(dev, 0, sizeof *dev);
  if (hal == NULL || hal->reg_read == NULL || hal->reg_write == NULL || hal->wait_irq == NULL) return CIRCA_DRV_ERR_ARG;
  dev->hal = *hal;
  id = rd(dev, CIRCA_REG_ID);
  if (id != CIRCA_ID_VALUE) return CIRCA_DRV_ERR_BAD_ID;
  version = rd(dev, CIRCA_REG_VERSION);
  if (CIRCA_FIELD_GET(version, VERSION, MAJOR) != CIRCA_DRV_VERSION_MAJOR) return CIRCA_DRV_ERR_VERSION;
  read_caps(dev, version, &dev->caps);
  if (!caps_usable(&dev->caps)) return CIRCA_DRV_ERR_CAPS;
  dev->opened = 1;
  return 0;
}

int circa_caps(const struct circa_dev* dev, struct circa_device_caps* out) {
  int e = usable(dev);
  if (e) return e;
  if (out == NULL) return CIRCA_DRV_ERR_ARG;
  *out = dev->caps;
  return 0;
}

int circa_reset(struct circa_dev* dev) {
  uint64_t deadline = 0;
  uint32_t polls;
  int e = usable(dev);
  if (e) return e;
  if (dev->hal.now_ns) deadline = dev->hal.now_ns(dev->hal.ctx) + CIRCA_RESET_TIMEOUT_NS;
  wr(dev, CIRCA_REG_CTRL, CIRCA_CTRL_SOFT_RESET);
  /* Each STATUS read syncs the VP's quantum, so this loop advances simulated time and cannot spin in zero time. */
  for (polls = 0; polls < CIRCA_POLL_LIMIT; ++polls) {
    const uint32_t status = rd(dev, CIRCA_REG_STATUS);
    if (CIRCA_STATUS_STATE(status) == CIRCA_STATE_IDLE && !(rd(dev, CIRCA_REG_CTRL) & CIRCA_CTRL_SOFT_RESET)) {
      dev->last_status = status;
      dev->last_irq_status = 0;
      return 0;
    }
    if (dev->hal.now_ns && dev->hal.now_ns(dev->hal.ctx) >= deadline) break;
  }
  return CIRCA_DRV_ERR_TIMEOUT;
}

int circa_start_job(struct circa_dev* dev, uint64_t desc_addr) {
  const uint32_t both = CIRCA_IRQ_DONE | CIRCA_IRQ_ERROR;
  int e = usable(dev);
  if (e) return e;
  /* A DONE or ERROR left over from an earlier job would otherwise satisfy this job's wait at once. */
  wr(dev, CIRCA_REG_IRQ_STATUS, both);
  wr(dev, CIRCA_REG_IRQ_MASK, both);
  wr(dev, CIRCA_REG_DESC_LO, (uint32_t)desc_addr);
  wr(dev, CIRCA_REG_DESC_HI, (uint32_t)(desc_addr >> 32));
  wr(dev, CIRCA_REG_CTRL, CIRCA_CTRL_START | CIRCA_CTRL_IRQ_EN);
  return 0;
}

int circa_ring_push(struct circa_dev* dev, uint32_t head) {
  int e = usable(dev);
  if (e) return e;
  wr(dev, CIRCA_REG_RING_HEAD, head);
  return 0;
}

int circa_ring_tail(struct circa_dev* dev, uint32_t* tail) {
  int e = usable(dev);
  if (e) return e;
  if (tail == NULL) return CIRCA_DRV_ERR_ARG;
  *tail = rd(dev, CIRCA_REG_RING_TAIL);
  return 0;
}

/* The job's outcome from what the device reported: ERROR wins over DONE, and STATE and IRQ_STATUS must agree. */
static int outcome(uint32_t status, uint32_t irq) {
  const uint32_t state = CIRCA_STATUS_STATE(status);
  if ((irq & CIRCA_IRQ_ERROR) || state == CIRCA_STATE_ERROR) {
    const int code = (int)CIRCA_STATUS_ERROR(status);
    return code != CIRCA_ERR_NONE ? code : CIRCA_DRV_ERR_NO_CODE;
  }
  if ((irq & CIRCA_IRQ_DONE) && state == CIRCA_STATE_DONE) return 0;
  return CIRCA_DRV_ERR_PROTOCOL;
}

int circa_wait_job(struct circa_dev* dev, uint64_t timeout_ns) {
  const int timed = dev != NULL && dev->hal.now_ns != NULL;
  uint64_t deadline = 0, left = timeout_ns;
  unsigned wakes = 0;
  int e = usable(dev);
  if (e) return e;
  if (timed) {
    const uint64_t now = dev->hal.now_ns(dev->hal.ctx);
    deadline = now + timeout_ns < now ? UINT64_MAX : now + timeout_ns;
  }
  for (;;) {
    uint32_t status, irq;
    const int w = dev->hal.wait_irq(dev->hal.ctx, left);
    if (w < 0) return CIRCA_DRV_ERR_HAL;
    if (w > 0) return CIRCA_DRV_ERR_TIMEOUT;
    /* STATUS first: reading it syncs the quantum, so IRQ_STATUS is then read at the device's current time. */
    status = rd(dev, CIRCA_REG_STATUS);
    irq = rd(dev, CIRCA_REG_IRQ_STATUS);
    dev->last_status = status;
    dev->last_irq_status = irq;
    if (irq & (CIRCA_IRQ_DONE | CIRCA_IRQ_ERROR)) {
      wr(dev, CIRCA_REG_IRQ_STATUS, irq & (CIRCA_IRQ_DONE | CIRCA_IRQ_ERROR));
      return outcome(status, irq);
    }
    /* Woken with nothing pending (the HAL saw an edge that has since gone): wait for what is left. */
    if (timed) {
      const uint64_t now = dev->hal.now_ns(dev->hal.ctx);
      if (now >= deadline) return CIRCA_DRV_ERR_TIMEOUT;
      left = deadline - now;
    } else if (++wakes > CIRCA_SPURIOUS_WAKES) {
      return CIRCA_DRV_ERR_TIMEOUT;
    }
  }
}

int circa_run_job(struct circa_dev* dev, uint64_t desc_addr, uint64_t timeout_ns) {
  const int e = circa_start_job(dev, desc_addr);
  return e ? e : circa_wait_job(dev, timeout_ns);
}

int circa_load_lut(struct circa_dev* dev, unsigned fn, const int32_t* words, size_t n) {
  size_t i;
  uint32_t status_before, irq_before, status_after, irq_after;
  int e = usable(dev);
  if (e) return e;
  if (fn != CIRCA_LUT_SIGMOID && fn != CIRCA_LUT_TANH) return CIRCA_DRV_ERR_ARG;
  if (words == NULL || n == 0 || n > dev->caps.lut_entries) return CIRCA_DRV_ERR_ARG;
  /* A COMMIT the device refuses sets STATUS.ERROR and IRQ_STATUS.ERROR, installs nothing and leaves the job state
   * alone; a job that fails ends in the ERROR state. So an ERROR raised during the load is the load's unless a job
   * was running and has ended in ERROR (then it is the job's, left pending for whoever waits on it). An ERROR
   * already pending before the load is left alone too: the load's outcome is then a change of the code. */
  status_before = rd(dev, CIRCA_REG_STATUS); /* reading STATUS synchronises with the device */
  irq_before = rd(dev, CIRCA_REG_IRQ_STATUS);
  wr(dev, CIRCA_REG_LUT_SEL, CIRCA_FIELD_SET(LUT_SEL, FN, fn) | CIRCA_FIELD_SET(LUT_SEL, INDEX, 0u));
  /* Two's complement on every target this driver supports, so the cast keeps the raw bit pattern. */
  for (i = 0; i < n; ++i) wr(dev, CIRCA_REG_LUT_DATA, (uint32_t)words[i]);
  wr(dev, CIRCA_REG_LUT_COMMIT, 1u);
  status_after = rd(dev, CIRCA_REG_STATUS);
  irq_after = rd(dev, CIRCA_REG_IRQ_STATUS);
  if (CIRCA_STATUS_STATE(status_before) == CIRCA_STATE_BUSY && CIRCA_STATUS_STATE(status_after) == CIRCA_STATE_ERROR)
    return 0;
  if (irq_before & CIRCA_IRQ_ERROR)
    return CIRCA_STATUS_ERROR(status_after) != CIRCA_STATUS_ERROR(status_before) ? (int)CIRCA_STATUS_ERROR(status_after)
                                                                                  : 0;
  if (!(irq_after & CIRCA_IRQ_ERROR)) return 0;
  wr(dev, CIRCA_REG_IRQ_STATUS, CIRCA_IRQ_ERROR); /* reported here: nothing is left pending for a later wait */
  return CIRCA_STATUS_ERROR(status_after) ? (int)CIRCA_STATUS_ERROR(status_after) : CIRCA_DRV_ERR_NO_CODE;
}

static uint64_t rd64(const struct circa_dev* dev, uint32_t lo_off, uint32_t hi_off) {
  const uint32_t lo = rd(dev, lo_off); /* latches HI, so the pair is one consistent sample */
  const uint32_t hi = rd(dev, hi_off);
  return ((uint64_t)hi << 32) | lo;
}

int circa_read_counters(struct circa_dev* dev, struct circa_counters* out) {
  int e = usable(dev);
  if (e) return e;
  if (out == NULL) return CIRCA_DRV_ERR_ARG;
  out->cycles = rd64(dev, CIRCA_REG_PERF_CYCLES_LO, CIRCA_REG_PERF_CYCLES_HI);
  out->fft_busy = rd64(dev, CIRCA_REG_PERF_FFT_BUSY_LO, CIRCA_REG_PERF_FFT_BUSY_HI);
  out->emac_busy = rd64(dev, CIRCA_REG_PERF_EMAC_BUSY_LO, CIRCA_REG_PERF_EMAC_BUSY_HI);
  out->ifft_busy = rd64(dev, CIRCA_REG_PERF_IFFT_BUSY_LO, CIRCA_REG_PERF_IFFT_BUSY_HI);
  out->act_busy = rd64(dev, CIRCA_REG_PERF_ACT_BUSY_LO, CIRCA_REG_PERF_ACT_BUSY_HI);
  out->cell_busy = rd64(dev, CIRCA_REG_PERF_CELL_BUSY_LO, CIRCA_REG_PERF_CELL_BUSY_HI);
  out->dma_busy = rd64(dev, CIRCA_REG_PERF_DMA_BUSY_LO, CIRCA_REG_PERF_DMA_BUSY_HI);
  out->stall = rd64(dev, CIRCA_REG_PERF_STALL_LO, CIRCA_REG_PERF_STALL_HI);
  out->ddr_rd_bytes = rd64(dev, CIRCA_REG_PERF_DDR_RD_LO, CIRCA_REG_PERF_DDR_RD_HI);
  out->ddr_wr_bytes = rd64(dev, CIRCA_REG_PERF_DDR_WR_LO, CIRCA_REG_PERF_DDR_WR_HI);
  out->saturations = rd(dev, CIRCA_REG_PERF_SAT);
  out->frames = rd(dev, CIRCA_REG_PERF_FRAMES);
  return 0;
}

int circa_mem_write(struct circa_dev* dev, uint64_t addr, const void* src, size_t size) {
  int e = usable(dev);
  if (e) return e;
  if (src == NULL && size != 0) return CIRCA_DRV_ERR_ARG;
  if (dev->hal.mem_write == NULL) return CIRCA_DRV_ERR_HAL;
  return dev->hal.mem_write(dev->hal.ctx, addr, src, size) == 0 ? 0 : CIRCA_DRV_ERR_HAL;
}

int circa_mem_read(struct circa_dev* dev, uint64_t addr, void* dst, size_t size) {
  int e = usable(dev);
  if (e) return e;
  if (dst == NULL && size != 0) return CIRCA_DRV_ERR_ARG;
  if (dev->hal.mem_read == NULL) return CIRCA_DRV_ERR_HAL;
  return dev->hal.mem_read(dev->hal.ctx, addr, dst, size) == 0 ? 0 : CIRCA_DRV_ERR_HAL;
}

const char* circa_strerror(int code) {
  switch (code) {
#define CIRCA_DEV_CASE(name, c, desc) \
  case c:                             \
    return desc;
    CIRCA_ERRORS(CIRCA_DEV_CASE)
#undef CIRCA_DEV_CASE
#define CIRCA_DRV_CASE(name, c, desc) \
  case c:                             \
    return desc;
    CIRCA_DRV_ERRORS(CIRCA_DRV_CASE)
#undef CIRCA_DRV_CASE
    default:
      break;
  }
  return code > 0 && code <= 0xFF ? "unknown device error code" : "unknown error code";
}
