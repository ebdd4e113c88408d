// Test-bench helpers for the datapath units: a source that feeds tiles at chosen times and a sink that records
// when they come out (optionally reading slowly, to exert back-pressure).
#pragma once

#include <deque>
#include <systemc>
#include <vector>

#include "sc_models/unit.hpp"

namespace circa_test {

using circa::Tile;

struct tile_source : sc_core::sc_module {
  sc_core::sc_fifo_out<Tile> out;
  std::deque<Tile> pending;
  sc_core::sc_event kick;

  SC_HAS_PROCESS(tile_source);
  explicit tile_source(sc_core::sc_module_name n) : sc_module(n), out("out") { SC_THREAD(run); }
  void push(const Tile& t) { pending.push_back(t); }
  void start() { kick.notify(sc_core::SC_ZERO_TIME); }

private:
  void run() {
    // Test the level (pending tiles) before waiting on the edge: a kick made before this thread first runs
    // would otherwise be lost.
    for (;;) {
      while (!pending.empty()) {
        out->write(pending.front());
        pending.pop_front();
      }
      wait(kick);
    }
  }
};

struct tile_sink : sc_core::sc_module {
  sc_core::sc_fifo_in<Tile> in;
  std::vector<Tile> got;
  std::vector<sc_core::sc_time> when;
  sc_core::sc_time read_gap = sc_core::SC_ZERO_TIME;  // time spent after each read before the next (back-pressure)

  SC_HAS_PROCESS(tile_sink);
  explicit tile_sink(sc_core::sc_module_name n) : sc_module(n), in("in") { SC_THREAD(run); }

private:
  void run() {
    for (;;) {
      Tile t = in->read();
      got.push_back(t);
      when.push_back(sc_core::sc_time_stamp());
      if (read_gap != sc_core::SC_ZERO_TIME) wait(read_gap);
    }
  }
};

// Source -> unit -> sink through bounded channels of the given depths.
template <class Unit>
struct unit_rig {
  sc_core::sc_fifo<Tile> a, b;
  tile_source src;
  Unit& unit;
  tile_sink sink;
  unit_rig(const char* name, Unit& u, int depth_in = 4, int depth_out = 4)
      : a((std::string(name) + "_a").c_str(), depth_in),
        b((std::string(name) + "_b").c_str(), depth_out),
        src((std::string(name) + "_src").c_str()),
        unit(u),
        sink((std::string(name) + "_sink").c_str()) {
    src.out(a);
    unit.in(a);
    unit.out(b);
    sink.in(b);
  }
};

// Runs the simulation for `t` more and returns the simulated time at which the run started.
inline sc_core::sc_time run_for(const sc_core::sc_time& t) {
  const sc_core::sc_time t0 = sc_core::sc_time_stamp();
  sc_core::sc_start(t);
  return t0;
}

}  // namespace circa_test
