// One run of the daemon under measurement: started on the trace, measured over the window, with
// or without displays, and what the displays got.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "hmi/bench/displays.hpp"
#include "hmi/bench/options.hpp"
#include "hmi/bench/process.hpp"

namespace stopcall::hmi::bench {

struct Phase {
  int displays = 0;
  double ready_s = 0;      // daemon start to its port accepting
  double connected_s = 0;  // daemon start to every display connected
  double window_s = 0;
  double cpu_s = 0;
  double cpu_pct = 0;
  double self_cpu_pct = 0;  // this process over the same window (not in the figure)
  Memory start, end;
  long peak_rss_kb = 0;  // the highest VmRSS sampled in the window
  // With displays, from the window's start to the end of the trace (the stalled display's time).
  double run_s = 0;
  long run_peak_rss_kb = 0;
  Memory run_end;
  std::string daemon_exit;
  std::string daemon_summary;  // its last log line ("replayed N fixes ...")

  // With displays:
  std::size_t readers = 0;
  std::uint64_t broadcasts = 0;  // seqs published while every reader was connected
  std::uint64_t first_seq = 0, last_seq = 0;
  std::uint64_t messages_min = 0, messages_max = 0;
  std::size_t readers_in_order = 0, readers_complete = 0, readers_closed_by_server = 0;
  std::uint64_t mismatches = 0;  // a seq with different bytes on two displays
  std::vector<double> latency_ms;
  std::map<std::string, std::uint64_t> types;  // what the first reader got, by type
  bool all_closed = false;
  StalledReport stalled;

  bool readers_ok() const {
    return readers > 0 && readers_in_order == readers && readers_complete == readers &&
           mismatches == 0;
  }
};

// Runs stopcalld on the trace with `displays` displays (0: none) in the work folder `work`;
// `replay_s` is how long the replay lasts.
Phase run_phase(const Options& o, int displays, double replay_s, const fs::path& work);

}  // namespace stopcall::hmi::bench
