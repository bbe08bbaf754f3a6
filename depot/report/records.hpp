// The records the depot's report reads out of an event log (ingest.hpp makes them, judge.hpp
// judges them): every trip run with the stops it reached and the signals on it, every
// announcement with when it was heard on each output and what became of it, and every boarding
// request with its last fate, every emergency or service message with the steps of its life. No
// JSON and no files: what the log said, ready to be counted.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "depot/report/times.hpp"

namespace stopcall::depot::report {

// An "announcement" line, with what its "sound" and "announcement_result" lines said.
struct Announcement {
  std::size_t trip = 0;  // index in Records::trips
  std::string kind;      // as logged ("repeat" for a repeat)
  std::string what;      // "next_stop", "approaching" or "exterior" when the id names a stop
  std::optional<int> stop_index;
  std::optional<int> at_stop;  // the stop the bus stood at when it was made
  std::string text;
  std::optional<Time> heard_interior, heard_exterior;
  bool failed_inside_first = false;  // "failed" on the interior output before any sound there
  std::string inside_outcome;        // the last announcement_result outcome on the interior
  std::set<std::string> outcomes;    // other than "finished"
};

// One run of a trip id (a trip id again after trip_ended or a long gap is another run).
struct Trip {
  std::string trip_id;
  std::optional<Time> first;
  Time last{};
  bool ended = false;
  std::map<int, Time> reached;  // stop_index > 0 arrived or passed -> first time
  std::map<int, std::string> stop_ids;
  std::set<int> visited;  // arrived or doors opened, any index
  std::optional<int> at_stop;
  std::optional<int> ended_at;  // the terminus: where trip_ended was
  std::optional<Time> outage_since;
  std::chrono::milliseconds outage{0};
  int ramp_cycles = 0;
  int ramp_alarms = 0;
  std::vector<std::size_t> announcements;  // indices in Records::announcements

  void touch(Time t) {
    if (!first) first = t;
    last = std::max(last, t);
  }
  void close_outage(Time t) {
    if (outage_since && t > *outage_since) outage += t - *outage_since;
    outage_since.reset();
  }
};

// A boarding request, by its last "request" line.
struct Request {
  std::string kind;
  std::string fate;
  std::size_t trip = 0;  // index in Records::trips: the trip running at its last line
};

// An emergency or service message, from its "message" lines (one per step of its life) and the
// "announcement" lines of its sayings ("msg:<id>:<n>", the attention tone "msg:<id>:<n>:tone").
struct MessageRecord {
  std::string id;
  std::string kind;    // "emergency", "service"
  std::string source;  // "console", "control", "signal", "fleet"
  std::string preset;
  std::optional<Time> sent;            // unset: sent before the window
  std::vector<std::string> languages;  // it went out in, in the order spoken
  std::vector<std::string> missing;    // configured languages it lacked
  std::set<std::string> outputs;       // where its sayings were sent ("interior", "exterior")
  std::optional<Time> heard_interior, heard_exterior;  // first "heard" on each output
  int said = 0;                                        // sayings
  std::optional<Time> acknowledged;
  std::string acknowledged_by;
  std::string end;  // "cancelled", "expired", "ended"; empty: still active at the end of the log
  std::optional<Time> ended;
  std::string ended_by;  // cancelled: by whom
};

// A message the bus refused (nothing was said or shown).
struct RefusedMessage {
  Time time{};
  std::string id, kind, source, preset;
  std::string why;
};

// Everything the report counts, from the lines in the window.
struct Records {
  std::vector<Trip> trips{Trip{}};  // [0]: lines before any trip
  std::vector<Announcement> announcements;
  std::vector<Request> requests;
  std::vector<MessageRecord> messages;  // in the order they were sent
  std::vector<RefusedMessage> refused_messages;
  int held_for_emergency = 0;        // "held" stop announcements: "an emergency message is on"
  Time last_line{};                  // the latest time of a line in the window
  std::vector<double> clock_ratios;  // bus time over monotonic time between successive sounds
};

}  // namespace stopcall::depot::report
