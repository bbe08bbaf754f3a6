// `stopcalld run`: the live pipeline on one io_context — gpsd fixes into the tracker, the tracker
// ticked every second so an outage is noticed without fixes, events written as they happen.
#pragma once

#include <iosfwd>
#include <string>

#include "daemon/gps/gpsd_client.hpp"
#include "daemon/onboard.hpp"
#include "daemon/pipeline.hpp"

namespace stopcall::daemon {

struct LiveOptions {
  std::string bundle;
  PipelineOptions pipeline;  // pipeline.trip_id empty: auto-detect the trip
  gps::GpsdOptions gpsd;
  double exit_after_s = 0;  // > 0: stop after this long (tests, benchmarks); 0: until a signal
  OnboardOptions onboard;   // voice, screens, control socket, accessibility workflows
};

struct LiveStats {
  long fixes = 0;
  long events = 0;
  long reconnects = 0;
  // From gps_read returning a TPV to its events written, microseconds.
  double latency_p50_us = 0, latency_p99_us = 0, latency_max_us = 0;
};

// Runs until SIGINT/SIGTERM (or exit_after_s). Throws on an unusable bundle or trip.
LiveStats run_live(const LiveOptions& options, std::ostream& events, std::ostream& log);

}  // namespace stopcall::daemon
