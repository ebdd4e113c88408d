// circa: the accelerator's controller: the register block (MMIO TLM target), the job sequencer and the IRQ line.
//
// A job: START -> fetch the descriptor from DDR (DMA) -> validate it (pure: validate_descriptor) -> load weights
// (on chip when they fit the weight buffer, else streamed per EW-MAC tile, double-buffered) -> for every frame:
// input frame in, every layer through the units as C-LSTM's three stages (gate matvecs -> element-wise ->
// projection), logits out -> state back to DDR -> DONE + IRQ. Anything wrong ends the job with an error code in
// STATUS and the ERROR interrupt; nothing aborts the simulation.
#pragma once

#include <functional>
#include <memory>
#include <systemc>
#include <tlm>
#include <tlm_utils/simple_target_socket.h>
#include <vector>

#include "core/golden.hpp"
#include "sc_models/activation_unit.hpp"
#include "sc_models/cell_update.hpp"
#include "sc_models/emac_array.hpp"
#include "sc_models/fft_unit.hpp"
#include "sc_models/mem_port.hpp"
#include "hwif/descriptor.hpp"

namespace circa {

struct AccelParams {
  ClockParams clock;
  FftParams fft;
  EmacParams emac;
  ActivationParams act;
  CellUpdateParams cell;
  int fifo_depth = 2;
  int fft_tile_blocks = 32;    // input blocks per FFT tile
  int emac_tile_chunks = 2;    // row chunks (8 block rows each) per EW-MAC tile: C-LSTM computes 16 rows at once
  int cell_tile = 128;         // cells per activation / cell-update tile
  std::uint64_t weight_buffer_bytes = 4u << 20;  // on-chip weight buffer (KU060: 38 Mb of BRAM in all)
  int reg_latency = 2;         // cycles per register access
  std::uint32_t max_dim = 4096;
  std::uint32_t max_layers = 8;
  std::uint32_t k_mask = 0x7F;  // k = 1 .. 64
};

struct AccelCounters {
  std::uint64_t cycles = 0, frames = 0, saturations = 0, stall = 0;
  std::uint64_t fft_busy = 0, emac_busy = 0, ifft_busy = 0, act_busy = 0, cell_busy = 0, dma_busy = 0;
  std::uint64_t ddr_rd = 0, ddr_wr = 0;
  std::uint64_t weight_stream_bytes = 0;
  std::uint64_t ring_wait = 0;  // cycles a ring job waited for the host's frames
};

class accel_controller : public sc_core::sc_module {
public:
  tlm_utils::simple_target_socket<accel_controller> regs;
  sc_core::sc_out<bool> irq;
  // For waveforms: the frame count (steps at each frame's end) and DDR traffic of the controller's transfers.
  sc_core::sc_signal<std::uint32_t> frame;
  sc_core::sc_signal<bool> ddr_read, ddr_write;

  SC_HAS_PROCESS(accel_controller);
  accel_controller(sc_core::sc_module_name name, const AccelParams& p, const Numerics& num, std::uint64_t ddr_base,
                   std::uint64_t ddr_size);
  ~accel_controller() override;

  void bind_memory(mem_port& m) { mem_ = &m; }
  const AccelCounters& counters() const { return cnt_; }
  // Per layer (the output layer last): cycles spent in its stages, DDR bytes read for it. Whole run, all jobs.
  struct LayerTotals {
    std::uint64_t cycles = 0, ddr_rd = 0;
  };
  const std::vector<LayerTotals>& layer_totals() const { return layer_totals_; }
  void set_trace(bool on) { trace_ = on; }
  void attach(TraceRecorder& rec) { rec_ = &rec; }
  const AccelParams& params() const { return p_; }
  fft_unit& fft() { return *fft_; }
  emac_array& emac() { return *emac_; }
  ifft_unit& ifft() { return *ifft_; }
  activation_unit& act() { return *act_; }
  cell_update& cell() { return *cell_; }
  int last_error() const { return error_; }
  bool weights_on_chip() const { return on_chip_; }
  // Per-job frame-step completion times (cycles from START), for latency reports.
  const std::vector<std::uint64_t>& frame_done_cycles() const { return frame_done_; }
  sc_core::sc_time job_start() const { return job_start_; }
  // Host time spent simulating frame steps (all jobs): what a frame costs on the host, without elaboration, model
  // packing, descriptor fetch or weight load. Wall clock and process CPU time, in seconds.
  double host_step_wall() const { return host_step_wall_; }
  double host_step_cpu() const { return host_step_cpu_; }

private:
  void b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay);
  unsigned int transport_dbg(tlm::tlm_generic_payload& gp);
  std::uint32_t reg_read(std::uint32_t off, bool& ok);
  void reg_read_const(std::uint32_t off, bool& exists) const;  // whether the map has a register at off
  void reg_write(std::uint32_t off, std::uint32_t v, bool& ok);
  void update_irq();
  void drive_irq();
  void raise(std::uint32_t bits);
  std::uint32_t caps(std::uint32_t off) const;

  void job_thread();
  int run_job();
  int load_job(const JobDesc& d);
  // One frame step: frame t of every stream that has one, through every stage.
  int run_step(const JobDesc& d, std::uint32_t t);
  struct MvJob {
    FixedMatvec* mv;
    FixedLayer* lay;
    FixedOutput* out;
  };
  // The matvecs of one stage for every active stream, as one tile sequence per unit.
  int run_matvecs(const std::vector<MvJob>& jobs, TilePost post, int frame, int layer, std::uint64_t weights);
  void run_cells(const std::vector<FixedLayer*>& ls, int frame, int layer);
  Tile make_tile(const MvJob& m, TilePost post, int frame, int layer, int b, int e, bool last);
  void fft_tiles(const std::vector<MvJob>& jobs, TilePost post, int frame, int layer, std::vector<Tile>& tiles);
  void emac_tiles(const std::vector<MvJob>& jobs, TilePost post, int frame, int layer, std::vector<Tile>& tiles);
  void cell_tiles(const std::vector<FixedLayer*>& ls, int frame, int layer, std::vector<Tile>& tiles);
  std::function<void(std::size_t)> weight_fetch(std::vector<Tile>& tiles, std::size_t group, std::uint64_t weights,
                                                int& err);
  // Two stream groups one phase apart (see run_step_two_groups).
  struct Ctx;
  struct Phase {
    int q = 0;              // the unit chain: 0 FFT, 1 EW-MAC -> IFFT, 2 activation -> cell update
    std::size_t layer = 0;  // layers.size() for the output layer
    std::function<void()> before, after;  // the sequencer's own work around the phase (set-up, write-back, DMA)
    std::vector<Tile> tiles;
    std::uint64_t weights = 0;  // EW-MAC: where streamed weights come from
    std::size_t group = 1;      // EW-MAC: streams per chunk range
  };
  void build_phases(const JobDesc& d, const std::vector<Ctx*>& g, int f, std::vector<Phase>& ph);
  sc_core::sc_fifo<Tile>& queue_in(int q);
  sc_core::sc_fifo<Tile>& queue_out(int q);
  void run_wave(Phase* a, Phase* b);
  int run_step_two_groups(const JobDesc& d, int f);
  int fetch_weights(const std::vector<FixedMatvec*>& mvs, std::uint64_t addr, int c0, int c1);
  // Issues tiles to `in` and collects as many from `done`, never blocking on a full input while results wait, nor
  // on results while the input has room.
  void stream_tiles(std::vector<Tile>& tiles, sc_core::sc_fifo<Tile>& in, sc_core::sc_fifo<Tile>& done,
                    const std::function<void(std::size_t)>& before_issue);
  void snapshot_counters();

  AccelParams p_;
  Numerics num_;
  std::uint64_t ddr_base_, ddr_size_;
  mem_port* mem_ = nullptr;
  DeviceCaps caps_;

  // Registers.
  std::uint32_t ctrl_ = 0, state_ = 0, error_ = 0, irq_status_ = 0, irq_mask_ = 0, desc_lo_ = 0, desc_hi_ = 0;
  std::uint32_t lut_sel_ = 0, frames_done_ = 0;
  bool lut_overflow_ = false;  // more LUT_DATA words than a table holds since LUT_SEL
  std::uint32_t latched_hi_ = 0;
  std::vector<std::int32_t> lut_words_, lut_sig_, lut_tanh_;  // words being loaded; installed tables
  sc_core::sc_event start_ev_;
  bool start_pending_ = false, reset_req_ = false;

  // Datapath.
  std::unique_ptr<fft_unit> fft_;
  std::unique_ptr<emac_array> emac_;
  std::unique_ptr<ifft_unit> ifft_;
  std::unique_ptr<activation_unit> act_;
  std::unique_ptr<cell_update> cell_;
  sc_core::sc_fifo<Tile> q_fft_in_, q_fft_out_, q_emac_in_, q_emac_ifft_, q_ifft_out_, q_act_in_, q_act_cell_,
      q_cell_out_;
  // Register writes (the host's process) and the job thread both change what the line should be; one method
  // drives it, since two processes writing a signal in the same delta cycle is a SystemC error.
  sc_core::sc_event irq_changed_;

  // The current job's device-side network: one context (state, working buffers, a copy of the weights in the
  // model's layout) per stream.
  JobDesc job_;
  struct Ctx {
    std::vector<std::unique_ptr<FixedLayer>> layers;
    std::unique_ptr<FixedOutput> out;
    std::vector<std::int32_t> xq;
    const std::int32_t* in = nullptr;
    std::uint64_t input = 0, output = 0;
    std::vector<std::uint64_t> state;  // per layer
    std::uint32_t frames = 0;
  };
  std::vector<Ctx> ctx_;
  std::vector<Ctx*> active_;  // the streams of the current step
  std::vector<FixedMatvec*> fetch_group_;
  int phase_err_ = 0;
  std::string io_;
  // Input ring (RING_HEAD / RING_TAIL).
  std::uint32_t ring_head_ = 0, ring_tail_ = 0;
  sc_core::sc_event ring_ev_;
  bool on_chip_ = true;
  std::uint32_t seq_ = 0;
  AccelCounters cnt_, base_;
  std::vector<std::uint64_t> frame_done_;
  sc_core::sc_time job_start_;
  std::vector<LayerTotals> layer_totals_;
  bool trace_ = false;
  TraceRecorder* rec_ = nullptr;
  double host_step_wall_ = 0, host_step_cpu_ = 0;
  // Scratch reused from step to step and tile to tile, so that a frame allocates nothing.
  std::vector<Tile> tiles_;
  std::vector<MvJob> mvs_;
  std::vector<FixedLayer*> ls_;
  std::string wbuf_;
  int mem_read(std::uint64_t a, void* d, std::size_t n);
  int mem_write(std::uint64_t a, const void* s, std::size_t n);
  int mem_read2d(std::uint64_t a, std::size_t rows, std::size_t row, std::uint64_t stride, void* d);
};

}  // namespace circa
