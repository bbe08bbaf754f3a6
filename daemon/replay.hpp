// `stopcalld replay`: the whole decision pipeline offline, as fast as the machine allows — a GPS
// trace in, the stop events the daemon would act on out, one JSON object per line.
#pragma once

#include <iosfwd>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "daemon/assist/assist.hpp"
#include "daemon/pipeline.hpp"
#include "daemon/screens.hpp"

namespace stopcall::daemon {

struct ReplayOptions {
  std::string bundle;        // route bundle
  std::string trace;         // gpsd JSON lines or NMEA
  PipelineOptions pipeline;  // pipeline.trip_id empty: auto-detect the trip
  std::string event_store;   // also append every event line to this SQLite store (as run does)
};

struct ReplayStats {
  long fixes = 0;  // TPV reports fed to the tracker
  long events = 0;
  long trips = 0;     // trips tracked (more than one when following a block)
  long rejected = 0;  // trace lines that could not be decoded
  std::vector<std::pair<long, std::string>> rejected_examples;  // the first few: line, why
  long fixes_with_position = 0;                                 // of `fixes`
  long undated = 0;
  long time_glitches = 0;  // fixes dropped because their time went backwards or jumped alone
  double seconds = 0;      // wall time of the replay loop
};

// Writes events to `events`; throws std::runtime_error / routes::RouteError with a clear message
// when the bundle, trip or trace cannot be used. A trace without a single usable fix is replayed
// (nothing happens) and said in the stats: describe_trace() says what it held.
ReplayStats replay(const ReplayOptions& options, std::ostream& events);

// "replayed 1234 fixes on 1 trip(s): ...; 3 unreadable line(s) skipped (line 4: not valid JSON,
// ...)": one line for a person. `usable()` is false when the trace had no fix with a position.
std::string describe(const ReplayStats& stats);
inline bool usable(const ReplayStats& stats) {
  return stats.fixes_with_position > 0;
}

// The same at the trace's own pace (times `speed`), on an io_context, serving the passenger
// display (/) and driver console (/driver) meanwhile when `screens` is given.
struct RealtimeOptions {
  double speed = 1;                       // 2: twice as fast as recorded
  std::optional<ScreensOptions> screens;  // serve the pages
  double linger_s = 0;                    // keep serving this long after the trace ends
  // Speak the announcements through this GStreamer sink ("autoaudiosink", "fakesink sync=true");
  // empty: no voice. The screens then show the subtitles as they are really played.
  std::string audio_sink;
  // Listen for vehicle signals, buttons and requests here (stopcallctl --socket PATH); empty: no.
  std::string control_socket;
  AssistConfig assist;
  bool door_signals = false;  // exterior route announcement on door open only
  std::string state_file;     // save the trip's progress here at each stop event
  std::string event_store;    // the event log also into this SQLite store
};
ReplayStats replay_realtime(const ReplayOptions& options, const RealtimeOptions& realtime,
                            std::ostream& events, std::ostream& log);

}  // namespace stopcall::daemon
