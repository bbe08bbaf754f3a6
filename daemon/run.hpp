// The one run loop of stopcalld. Fixes come from a source -- gpsd (the service, `stopcalld run`),
// a recorded trace at its own pace (`replay --realtime`: the demo, the browser tests), or a trace
// as fast as the machine allows (`replay`: the road test, the scenario suite) -- into the decision
// pipeline, ticked on one bus clock, and its events go to the event log and, when the bus's
// outputs are configured, to everything on board (onboard.hpp: voice, screens, workflows).
#pragma once

#include <chrono>
#include <iosfwd>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "daemon/fleet/client.hpp"
#include "daemon/gps/gpsd_client.hpp"
#include "daemon/onboard.hpp"
#include "daemon/pipeline.hpp"

namespace stopcall::daemon {

struct GpsdSource {
  gps::GpsdOptions gpsd;
};

struct TraceSource {
  std::string path;     // gpsd JSON lines or NMEA 0183 (decoded by gpsd's own gpsdecode)
  double speed = 0;     // 0: as fast as the machine allows; 1: the trace's own pace; 10: ten times
  double linger_s = 0;  // paced: keep serving this long after the trace ends
};

struct RunOptions {
  std::string bundle;
  PipelineOptions pipeline;  // pipeline.trip_id empty: the trip is found from the fixes
  std::variant<GpsdSource, TraceSource> source;
  // Voice, screens, control socket, workflows, state file, event store: everything on board. A
  // fast trace runs the decisions (announcer, policy, workflows) without voice or screens.
  OnboardOptions onboard;
  // On board (gpsd or a paced trace): the fleet link over MQTT (daemon/fleet), reading the events
  // from onboard.event_store. Unset: none, and nothing else changes.
  std::optional<fleet::Options> fleet;
  double exit_after_s = 0;  // > 0: stop after this long (tests, benches); else until the source
                            // ends (a trace) or a signal (SIGINT, SIGTERM)
};

struct RunStats {
  long fixes = 0;  // reports fed to the pipeline
  long events = 0;
  long trips = 0;  // trips tracked (more than one when following a block)
  double seconds = 0;
  // A trace: what it held.
  long rejected = 0;                                            // lines that could not be decoded
  std::vector<std::pair<long, std::string>> rejected_examples;  // the first few: line, why
  long fixes_with_position = 0;
  long undated = 0;
  long time_glitches = 0;  // fixes dropped because their time went backwards or jumped alone
  // gpsd: reconnections, and from a TPV read to its events written, microseconds.
  long reconnects = 0;
  double latency_p50_us = 0, latency_p99_us = 0, latency_max_us = 0;
  // Route data from the depot was installed between trips: the caller starts again on it
  // (main.cpp executes itself anew, same arguments, same process id).
  bool switch_bundle = false;
};

// Throws std::runtime_error / routes::RouteError with a clear message when the bundle, the trip,
// the trace or a listener cannot be used.
RunStats run(const RunOptions& options, std::ostream& events, std::ostream& log);

// "replayed 1234 fixes on 1 trip(s): ...; 3 unreadable line(s) skipped (line 4: not valid JSON,
// ...)": one line for a person about a trace.
std::string describe(const RunStats& stats);
// False when a trace held no fix with a position.
inline bool usable(const RunStats& stats) {
  return stats.fixes_with_position > 0;
}

// The bus's clock: GPS time, advanced between fixes by the steady clock (times a replay's speed),
// so that signals and ticks between two fixes carry the time they stand for; before the first
// fix, the system clock. Speed 0 (a fast trace): the time of the last fix or tick, exactly.
class BusClock {
 public:
  explicit BusClock(double speed = 1) : speed_(speed) {}
  void on_fix(tracking::Time gps_time);
  tracking::Time now() const;
  bool has_gps_time() const { return last_ != tracking::Time{}; }

 private:
  double speed_;
  tracking::Time last_{};
  std::chrono::steady_clock::time_point last_at_{};
};

}  // namespace stopcall::daemon
