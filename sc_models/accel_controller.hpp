// circa: the accelerator's controller: the register block (MMIO TLM target), the job sequencer and the IRQ line.
//
// A job: START -> fetch the descriptor from DDR (DMA) -> validate it (pure: validate_descriptor) -> lay the job out
// in the on-chip buffers (a job that does not fit ends with BUFFER) -> load weights into the weight buffer (all of
// them when they fit, else two tile slots that every frame streams through) -> for every frame: input frame into
// the input buffer, every layer through the units as C-LSTM's three stages (gate matvecs -> element-wise ->
// projection), logits out of the output buffer -> state back to DDR -> DONE + IRQ. Anything wrong ends the job with
// an error code in STATUS and the ERROR interrupt; nothing aborts the simulation.
//
// The parts, one file each: accel_registers.cpp (the register file), accel_job.cpp (descriptor, buffer layout,
// weight and state loading), accel_schedule.cpp (tiles, the one scheduler), accel_decoupled.cpp (waves the controller
// times itself), accel_weights.cpp (weight streaming).
#pragma once

#include <array>
#include <functional>
#include <memory>
#include <systemc>
#include <tlm>
#include <tlm_utils/simple_target_socket.h>
#include <vector>

#include "hwif/descriptor.hpp"
#include "sc_models/activation_unit.hpp"
#include "sc_models/buffer_set.hpp"
#include "sc_models/cell_update.hpp"
#include "sc_models/emac_array.hpp"
#include "sc_models/fft_unit.hpp"
#include "sc_models/mem_port.hpp"
#include "sc_models/onchip_buffer.hpp"

namespace circa {

// The on-chip buffers' parameters (capacity in hardware bytes, word width, ports), by role.
struct BufferParams {
  OnchipBufferParams input{64u << 10, 8, 0}, spectrum{256u << 10, 8, 0}, psum{1u << 20, 8, 0},
      gates{1u << 20, 8, 0}, state{512u << 10, 8, 0}, output{64u << 10, 8, 0};
  OnchipBufferParams& of(Buf b);
  const OnchipBufferParams& of(Buf b) const { return const_cast<BufferParams*>(this)->of(b); }
};

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
  // Dataflow (docs/perf.md, "Passes"): with rows_per_pass > 0 the EW-MAC computes that many block rows of each of
  // gates_per_pass gates side by side, in one pass over the input's blocks; with spectrum_per_pass the input's DFT
  // is recomputed in every pass inside the MAC pipeline instead of once per frame.
  int rows_per_pass = 0;
  int gates_per_pass = 4;
  bool spectrum_per_pass = false;
  // The element-wise stage takes each pass's cells as they leave the IFFT (one stream; a gate matvec in one tile
  // with every gate in each pass), and the projection's first pass runs on lanes of its own while m is produced,
  // so that only its last block is left once the cells are done (Koios' stage 3).
  bool overlap_cells = false;
  bool projection_first_pass = false;
  std::uint64_t weight_buffer_bytes = 4u << 20;  // on-chip weight buffer (KU060: 38 Mb of BRAM in all)
  std::uint64_t weight_slots_bytes = 256u << 10;  // the two slots streamed weights pass through
  std::uint32_t weight_buffer_ports = 0;          // words per cycle; 0: as many as the EW-MAC needs
  std::uint32_t weight_word_bytes = 8;
  BufferParams buffers;
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
  std::uint64_t weight_fetches = 0;
  std::uint64_t ring_wait = 0;  // cycles a ring job waited for the host's frames
};

// The sequencer's command queue into a unit chain: an sc_fifo that tells the sequencer, in the reading unit's own
// process, when a tile has been taken, so that the next tile goes in without waking the sequencer. It holds one
// slot more than the queue's modelled depth: the sequencer counts the depth itself (a slot a read frees becomes
// free in sc_fifo only at the next update), so timing follows tiling.fifo_depth.
class command_queue : public sc_core::sc_fifo<Tile> {
public:
  command_queue(const char* name, int depth) : sc_core::sc_fifo<Tile>(name, depth + kSpare) {}
  static constexpr int kSpare = 8;  // slots beyond the modelled depth, for tiles issued before a read's update
  std::function<void()> after_read;
  void read(Tile& t) override {
    sc_core::sc_fifo<Tile>::read(t);
    if (after_read) after_read();
  }
  Tile read() override {
    Tile t;
    read(t);
    return t;
  }
  bool nb_read(Tile& t) override {
    if (!sc_core::sc_fifo<Tile>::nb_read(t)) return false;
    if (after_read) after_read();
    return true;
  }
};

// Where a unit chain's last unit hands its finished tiles to the sequencer. With on_write set, the sequencer's
// bookkeeping runs in the writing unit's process and never blocks it (the sequencer takes results at once), and
// the sequencer wakes only when it has something to do. Without, the results queue in fifo() for the sequencer to
// read: a lane that streams weights, whose sequencer may be busy with a fetch while results arrive (a full queue
// then holds the chain back, as it always has).
class result_sink : public sc_core::sc_prim_channel, public sc_core::sc_fifo_out_if<Tile> {
public:
  result_sink(const char* name, int depth)
      : sc_core::sc_prim_channel(name), fifo_((std::string(name) + "_queue").c_str(), depth) {}
  std::function<void(const Tile&)> on_write;
  void write(const Tile& t) override {
    if (on_write)
      on_write(t);
    else
      fifo_.write(t);
  }
  bool nb_write(const Tile& t) override {
    if (!on_write) return fifo_.nb_write(t);
    on_write(t);
    return true;
  }
  int num_free() const override { return on_write ? 1 : fifo_.num_free(); }
  const sc_core::sc_event& data_read_event() const override { return fifo_.data_read_event(); }
  sc_core::sc_fifo<Tile>& fifo() { return fifo_; }

private:
  sc_core::sc_fifo<Tile> fifo_;
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
  // For the last frame (of the first group): its cycles, and the cycles from the layer's start to its first output
  // values (the first tile, or pass, of the phase that writes the layer's output) leaving their unit.
  struct LayerTotals {
    std::uint64_t cycles = 0, ddr_rd = 0;
    std::uint64_t last_cycles = 0, first_output_cycles = 0;
  };
  const std::vector<LayerTotals>& layer_totals() const { return layer_totals_; }
  void set_trace(bool on) { trace_ = on; }
  void attach(TraceRecorder& rec) { rec_ = &rec; }
  // Every tile of every wave through the units' own processes, a SystemC step each, as with a timeline: the
  // reference that the waves the controller times itself (decoupled) are checked against.
  void set_lockstep(bool on) { lockstep_ = on; }
  // Waves run (all jobs), and how many of them the controller timed itself.
  std::uint64_t waves() const { return waves_; }
  std::uint64_t decoupled_waves() const { return decoupled_waves_; }
  // Decoupled waves whose schedule was the previous step's same wave, shifted (no tile costed or sorted again).
  std::uint64_t replayed_waves() const { return replayed_waves_; }
  const AccelParams& params() const { return p_; }
  fft_unit& fft() { return *fft_; }
  emac_array& emac() { return *emac_; }
  ifft_unit& ifft() { return *ifft_; }
  activation_unit& act() { return *act_; }
  cell_update& cell() { return *cell_; }
  onchip_buffer& buffer(Buf b) const { return *bufs_[static_cast<std::size_t>(b)]; }
  int last_error() const { return error_; }
  // Why the last job's layout did not fit (the BUFFER error), in words: the buffer, the region, the bytes.
  const std::string& layout_error() const { return layout_error_; }
  bool weights_on_chip() const { return on_chip_; }
  // Per-job frame-step completion times (cycles from START), for latency reports.
  const std::vector<std::uint64_t>& frame_done_cycles() const { return frame_done_; }
  sc_core::sc_time job_start() const { return job_start_; }
  // Host time spent simulating frame steps (all jobs): what a frame costs on the host, without elaboration, model
  // packing, descriptor fetch or weight load. Wall clock and process CPU time, in seconds.
  double host_step_wall() const { return host_step_wall_; }
  double host_step_cpu() const { return host_step_cpu_; }
  // Fault injection: the n-th weight fetch of the next jobs (0-based, counted per job) moves nothing, so the EW-MAC
  // reads what its slot held before. -1: none.
  void skip_weight_fetch(std::int64_t n) { skip_fetch_ = n; }
  // Called once per weight fetch with the job's fetch index, the matrix's DDR address and the fetched chunks
  // (tests follow the streaming).
  void on_weight_fetch(std::function<void(std::uint64_t index, std::uint64_t ddr, int c0, int c1)> f) {
    fetch_hook_ = std::move(f);
  }
  // Called around every phase of the scheduler: before its tiles are issued (done = false), and once they have all
  // come back, before the sequencer's own work after it (done = true). Tests poison buffers there.
  struct PhaseEvent {
    int frame = 0;
    std::size_t layer = 0;  // the layer count for the output layer
    char what = 'G';        // the matvec G, R, P or O, or C for the cells
    int chain = 0;          // 0 FFT, 1 EW-MAC -> IFFT, 2 activation -> cell update
    bool done = false;
  };
  void on_phase(std::function<void(const PhaseEvent&)> f) { phase_hook_ = std::move(f); }

private:
  // --- registers (accel_registers.cpp) ---
  void b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay);
  unsigned int transport_dbg(tlm::tlm_generic_payload& gp);
  std::uint32_t reg_read(std::uint32_t off, bool& ok);
  void reg_read_const(std::uint32_t off, bool& exists) const;  // whether the map has a register at off
  void reg_write(std::uint32_t off, std::uint32_t v, bool& ok);
  void lut_commit();
  void update_irq();
  void drive_irq();
  void raise(std::uint32_t bits);
  std::uint32_t caps(std::uint32_t off) const;

  // --- the job (accel_controller.cpp, accel_job.cpp) ---
  void job_thread();
  int run_job();
  int layout_job(const JobDesc& d);
  int load_job(const JobDesc& d);
  int store_state();
  void snapshot_counters();

  // --- the scheduler (accel_schedule.cpp) ---
  struct Ctx;
  // One matrix as the device holds it: geometry, where its weights are in DDR, their bounds, and its weight
  // region when the weights are on chip.
  struct Matrix {
    CirculantShape shape;
    std::uint64_t ddr = 0;
    std::size_t bytes = 0;
    WeightBounds bounds;
    BufRef w;
    bool empty() const { return shape.p == 0; }
  };
  enum class Mv : std::uint8_t { G, R, P, O };
  // A phase: the tiles of one unit chain for one group of streams.
  struct Phase {
    int q = 0;              // the unit chain: 0 FFT, 1 EW-MAC -> IFFT, 2 activation -> cell update
    std::size_t layer = 0;  // layers.size() for the output layer
    std::function<void()> before, after;  // the sequencer's own work around the phase (set-up, write-back, DMA)
    std::vector<Tile> tiles;
    const Matrix* mat = nullptr;  // EW-MAC: the matrix, for streamed weights
    char what = 'G';              // G, R, P, O or C (cells)
    int frame = 0;
    std::size_t group = 1;        // EW-MAC: streams per chunk range
    bool layer_output = false;    // its results are the layer's output (r: the projection, else the cells)
    bool overlap_next = false;    // a gate EW-MAC phase whose cells phase (next) may run beside it
  };
  int run_step(const JobDesc& d, std::uint32_t t);
  // The phases of one group's step into ph (reusing its elements); how many.
  std::size_t build_phases(const JobDesc& d, const std::vector<Ctx*>& g, int f, std::vector<Phase>& ph);
  // The last step's phases of both groups, for the same streams, made the phases of frame f: the same tiles but for
  // their frame, sequence numbers and the r regions, which swap roles every frame (docs/architecture.md, "Kept
  // schedules"). False, changing nothing, when the phases were not built for these streams or the roles did not swap.
  bool renew_phases(int f);
  void keep_phases(std::size_t na, std::size_t nb);
  Phase& next_phase(std::vector<Phase>& ph);
  void matvec_phases(const std::vector<Ctx*>& g, std::size_t l, Mv which, int f, std::vector<Phase>& ph);
  Tile matvec_tile(const Ctx& c, std::size_t l, Mv which, int f) const;
  command_queue& queue_in(int q);
  // What the sequencer waits for in a wave: bit q, chain q's command queue read or its result queue written (a
  // lane that fetches weights issues and collects from the sequencer), or a result needs it (wake_ev_), or a
  // refill found no free slot (refill_ev_).
  const sc_core::sc_event_or_list& wave_event(unsigned fetch_chains);
  sc_core::sc_event_or_list wave_ev_[8];
  sc_core::sc_event wake_ev_, refill_ev_;
  result_sink& queue_out(int q);
  // With `dependent`, b is a's cells phase: a cell tile issues once a's collected pieces cover its cells.
  void run_wave(Phase* a, Phase* b, bool dependent = false);
  // --- decoupled waves (accel_decoupled.cpp) ---
  // A wave whose lanes neither fetch weights nor depend on each other, with no timeline: the controller computes when every tile enters and leaves each unit from the units' costs and the queues' depths,
  // waits once for the wave's end, and has each unit compute and book its tiles at their start times.
  bool decouplable(const Phase* a, const Phase* b, bool dependent) const;
  void run_decoupled(Phase* a, Phase* b, bool dependent, std::size_t slot);
  // The wave's events, tiles and results from its phases' tiles (schedule_lane per lane): returns its end.
  sc_core::sc_time schedule_wave(Phase* a, Phase* b, bool dependent, const sc_core::sc_time& t0);
  // Waits for the scheduled wave's end (writing its signals at their times), then runs its work.
  void run_scheduled(sc_core::sc_time end, std::uint64_t emac_before);
  // Schedules phase p's tiles from t0 (its first tiles' issue; with `ready`, no tile before its time there): returns
  // when its last result is collected.
  sc_core::sc_time schedule_lane(const Phase& p, const sc_core::sc_time& t0, bool first_output,
                                 const std::vector<sc_core::sc_time>* ready = nullptr);
  // Cells of every gate that one piece of a gate phase completes (0: only the whole phase completes any).
  static int cells_per_piece(const Phase& p);
  std::vector<sc_core::sc_time> dready_;
  // Runs the scheduled work that starts before `before`. A register read at time t sees the tiles that started
  // before t: a tile handed on at t starts a delta cycle after the host's access, as the units' processes have it.
  void materialize(const sc_core::sc_time& before);
  struct UnitEvent {
    sc_core::sc_time at;       // when it happens
    sc_core::sc_time issued;   // when the lane tile it comes from was issued (a reset drops the later ones)
    datapath_unit* unit;
    std::uint32_t value;       // the tile's index in the wave's DTileSource list (execute), or stall cycles
    std::uint8_t kind;         // 0 execute, 1 stall waiting for input, 2 stall waiting for room
  };
  std::vector<UnitEvent> devents_;
  struct SignalEvent {         // a write to a unit's waveform signal
    sc_core::sc_time at, issued;
    datapath_unit* unit;
    std::uint32_t value;
    std::uint8_t kind;         // 0 busy, 1 stall, 2 tile index
  };
  std::vector<SignalEvent> dsignals_;
  // A decoupled wave's schedule, kept for the same wave of the next step. Within a job and a set of active streams,
  // a step's k-th wave has the same tiles as the previous step's k-th wave apart from their frame, sequence number
  // and which of r's two regions is r' (regions of one size and width, so the same port cycles): the same costs, so
  // the same schedule shifted to the wave's start, if the units' mid-job flags and the layer's first output match.
  struct DTileSource {
    std::uint32_t index;    // in its phase's tiles
    std::int32_t piece;     // -1: the tile itself, else its piece
    std::uint8_t phase;     // 0 a, 1 b
  };
  struct WaveSchedule {
    const Phase *a = nullptr, *b = nullptr;
    bool dependent = false;
    std::size_t na = 0, nb = 0;    // tiles of a and b
    std::uint8_t mid_in = 0;       // the units' mid-job flags at the start (bit per unit)
    bool first_seen_in = false;    // first_output_seen_ at the start
    std::vector<UnitEvent> events;  // sorted, times from the wave's start
    std::vector<DTileSource> tiles;
    std::vector<std::pair<sc_core::sc_time, sc_core::sc_time>> collects;
    std::vector<SignalEvent> signals;  // with a waveform: the signal writes, sorted, times from the start
    bool traced = false;
    sc_core::sc_time end;
    std::uint64_t emac_tiles = 0;
    std::uint8_t mid_out = 0;
    bool sets_first = false;
    sc_core::sc_time first_at;
    bool valid = false;
    // What the wave's bookkeeping (its tiles' booking and stalls) added to the five units' statistics and to the
    // buffers', measured the first time the wave was materialized whole; a replay materialized whole only computes
    // its tiles and adds these.
    bool booked = false;
    std::array<UnitStats, 5> unit_booking;
    std::array<OnchipBufferStats, kBuffers> buffer_booking;
  };
  // The phases kept for renew_phases: how many per group, each active stream's layers' r roles (cur) when they
  // were made, and for each state region that is an r, the region it swaps roles with (else -1).
  bool phases_kept_ = false;
  std::size_t kept_na_ = 0, kept_nb_ = 0;
  std::vector<int> kept_cur_;
  std::vector<std::int16_t> r_swap_;
  int step_frame_ = 0;  // the frame of the step being run (the logits' address)
  std::vector<WaveSchedule> wave_cache_;
  std::size_t wave_slot_ = 0;          // the current wave's index in its step
  std::vector<Ctx*> cache_ga_, cache_gb_;  // the groups the cached schedules were made for
  std::uint64_t replayed_waves_ = 0;
  std::uint8_t mid_bits() const;
  void set_mid_bits(std::uint8_t m);
  datapath_unit* unit_at(int i) const;
  std::vector<DTileSource> dsources_;  // while scheduling: the tile of each execute event
  // The wave being run: its phases, its kept schedule (times from doff_, the wave's start), a piece's scratch.
  const Phase *da_ = nullptr, *db_ = nullptr;
  WaveSchedule* dws_ = nullptr;
  const std::vector<UnitEvent>* dev_ = &devents_;
  const std::vector<DTileSource>* dsrc_ = &dsources_;
  const std::vector<std::pair<sc_core::sc_time, sc_core::sc_time>>* dcol_ = &dcollects_;
  const std::vector<SignalEvent>* dsig_ = &dsignals_;
  sc_core::sc_time doff_;
  Tile dpiece_;
  // Execute event i's tile: its phase's tile, or the piece of it (valid until the next call).
  const Tile& dtile(std::uint32_t i);
  std::vector<sc_core::sc_time> dtake0_, dtake1_;
  std::vector<std::pair<sc_core::sc_time, sc_core::sc_time>> dcollects_;  // (collected, issued) per result
  std::size_t dnext_ = 0;
  bool decoupled_ = false;
  sc_core::sc_time dcut_;  // lane tiles issued after it are not run (a reset came)
  bool lockstep_ = false;
  sc_core::sc_event reset_ev_;
  std::uint64_t waves_ = 0, decoupled_waves_ = 0;

  // When the current frame's layer of group A first had output values (run_wave sets it, run_step reads it).
  sc_core::sc_time first_output_at_;
  bool first_output_seen_ = false;

  // --- weight streaming (accel_weights.cpp) ---
  // Before EW-MAC tile i of phase p, weights streamed: the fetch of its chunk range when it is the range's first.
  void fetch_for(Phase& p, std::size_t i);
  int fetch_weights(const Matrix& m, int c0, int c1, int slot);

  int mem_read(std::uint64_t a, void* d, std::size_t n);
  int mem_write(std::uint64_t a, const void* s, std::size_t n);
  int mem_read2d(std::uint64_t a, std::size_t rows, std::size_t row, std::uint64_t stride, void* d);

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

  // Datapath and its buffers.
  std::unique_ptr<fft_unit> fft_;
  std::unique_ptr<emac_array> emac_;
  std::unique_ptr<ifft_unit> ifft_;
  std::unique_ptr<activation_unit> act_;
  std::unique_ptr<cell_update> cell_;
  std::vector<std::unique_ptr<onchip_buffer>> bufs_;
  buffer_set bset_;
  command_queue q_fft_in_, q_emac_in_, q_act_in_;
  result_sink q_fft_out_, q_ifft_out_, q_cell_out_;
  sc_core::sc_fifo<Tile> q_emac_ifft_, q_act_cell_;
  // Register writes (the host's process) and the job thread both change what the line should be; one method
  // drives it, since two processes writing a signal in the same delta cycle is a SystemC error.
  sc_core::sc_event irq_changed_;

  // The current job: shared weights and parameters, and per stream its buffer regions.
  JobDesc job_;
  struct LayerMats {
    Matrix G, R, P;
    BufRef bias, peep, bias_x, bias_r;  // in the gate-sum buffer
    bool joint = false;
  };
  std::vector<LayerMats> mats_;
  Matrix out_mat_;
  BufRef out_bias_;
  BufRef slot_[2];  // streamed weights: the two tile slots of the weight buffer
  struct StreamLayer {
    BufRef c, m, r[2], gate, gy, ry, py;
    int cur = 0;  // r[cur] is r' this frame; r[1 - cur] receives r
  };
  struct Ctx {
    std::vector<StreamLayer> layers;
    BufRef x, spectrum, psum, oy, logits;
    std::uint64_t input = 0, output = 0;
    std::vector<std::uint64_t> state;  // per layer
    std::uint32_t frames = 0;
  };
  std::vector<Ctx> ctx_;
  std::vector<Ctx*> active_;  // the streams of the current step
  int phase_err_ = 0;
  std::string layout_error_;
  std::string io_;
  // Input ring (RING_HEAD / RING_TAIL).
  std::uint32_t ring_head_ = 0, ring_tail_ = 0;
  sc_core::sc_event ring_ev_;
  bool on_chip_ = true;
  std::uint64_t fetches_ = 0;  // weight fetches of this job
  std::uint64_t emac_issued_ = 0;  // EW-MAC tiles issued, all jobs (the EW-MAC's taken() counts the same way)
  std::uint64_t slot_last_[2] = {0, 0};  // the last EW-MAC tile that reads each weight slot
  std::int64_t skip_fetch_ = -1;
  std::function<void(std::uint64_t, std::uint64_t, int, int)> fetch_hook_;
  std::function<void(const PhaseEvent&)> phase_hook_;
  std::uint32_t seq_ = 0;
  AccelCounters cnt_, base_;
  std::vector<std::uint64_t> frame_done_;
  sc_core::sc_time job_start_;
  std::vector<LayerTotals> layer_totals_;
  bool trace_ = false;
  TraceRecorder* rec_ = nullptr;
  double host_step_wall_ = 0, host_step_cpu_ = 0;
  std::vector<Phase> pa_, pb_;  // phases of the two stream groups, reused from step to step
  std::vector<Ctx*> ga_, gb_;   // the two groups of this step
  std::size_t used_phases_ = 0;
  std::vector<Tile> proto_;
};

}  // namespace circa
