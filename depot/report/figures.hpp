// What the depot's report holds: the figures per trip, per service day and in total (how many
// announcements were heard, why not, exterior route, ramp, requests, GPS outage), the stops whose
// announcement was not heard, the emergency and service messages, and the whole Report with its
// window, unreadable lines and faults.
// Plain data and how figures add up; judge.hpp computes them from the log's records, render.hpp
// prints them. The figures are defined in depot/report/README.md.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "depot/report/times.hpp"

namespace stopcall::depot::report {

// One announcement kind: how many were made, heard, and what became of those that were not.
struct KindFigures {
  int announced = 0;
  int heard = 0;  // a "sound" line on any output
  // announcement_result outcomes other than "finished" (an announcement counts once per
  // outcome, even when it had that outcome on both outputs).
  int expired = 0;  // dropped: the bus was already there
  int interrupted = 0;
  int cancelled = 0;
  int failed = 0;
  int never_heard = 0;  // no "sound" line at all
  int failures() const { return expired + interrupted + cancelled + failed; }
  KindFigures& operator+=(const KindFigures& other);
};

struct Figures {
  int stops = 0;           // stops served or passed: distinct stop_index > 0 arrived or passed
  int next_stop_ok = 0;    // of those, the next-stop announcement was heard inside
  int approaching_ok = 0;  // of those, the arriving announcement was heard inside
  int next_stop_late = 0;  // ok, but first heard after the bus reached the stop
  int approaching_late = 0;
  int next_stop_cut = 0;  // ok, but it ended short inside (expired/interrupted after its sound)
  int approaching_cut = 0;
  int exterior_stops = 0;  // stops where the bus arrived or the doors opened (not the terminus)
  int exterior_heard = 0;  // of those, an exterior route announcement was heard outside
  std::map<std::string, KindFigures> kinds;  // by announcement kind
  int ramp_cycles = 0;                       // ramp deployed then stowed
  int ramp_alarms = 0;                       // ramp_moving_alarm prompts to the driver
  // Boarding requests (wheelchair, blind) by final fate; open = still pending or shown.
  int requests_served = 0;
  int requests_missed = 0;
  int requests_expired = 0;
  int requests_dismissed = 0;
  int requests_open = 0;
  int alighting_served = 0;  // wheelchair_alighting requests served
  int alighting_missed = 0;
  double gps_outage_s = 0;  // gps_lost / position_uncertain until gps_restored or trip end

  KindFigures all_kinds() const;
  bool empty() const;
  Figures& operator+=(const Figures& other);
};

// ok / stops; nullopt without stops.
std::optional<double> share(int ok, int stops);

// A stop (served or passed) whose next-stop or arriving announcement was not heard.
struct StopProblem {
  int stop_index = 0;
  std::string stop_id;
  bool next_stop_ok = false;
  std::string next_stop_why;  // "not announced", "expired", "never heard", ...
  bool approaching_ok = false;
  std::string approaching_why;
  std::string text;  // what the next-stop (or arriving) announcement said, in English if it can
};

struct TripReport {
  std::string trip_id;  // "" for lines before any trip
  std::string day;      // service day of the trip's first line
  Figures figures;
  std::vector<StopProblem> problems;
};

struct DayReport {
  std::string day;
  int trips = 0;
  Figures figures;
};

struct UnreadableLine {
  std::size_t number = 0;  // line number in the file, or row number (seq) in the store
  std::string why;
  std::string excerpt;  // the start of the line
};

// A fault the bus logged: route data not valid today, a GPIO line missing, ...
struct Fault {
  std::string time;  // as logged
  std::string kind;  // "route_data_not_valid", "gpio_unavailable", ...
  std::string message;
  friend bool operator==(const Fault&, const Fault&) = default;
};

// One emergency or service message: when it was sent, how soon it was heard inside and outside,
// how often it was said, its acknowledgement and how it ended.
struct MessageReport {
  std::string id;
  std::string kind;    // "emergency", "service"
  std::string source;  // "console", "control", "signal", "fleet"
  std::string preset;
  std::string sent;                    // the log's time; empty: sent before the window
  std::vector<std::string> languages;  // it went out in
  std::vector<std::string> missing;    // configured languages it lacked
  bool to_interior = false;            // its sayings went there (from their announcement lines)
  bool to_exterior = false;
  bool heard_interior = false;
  bool heard_exterior = false;
  std::optional<double> heard_interior_s;  // sent -> first heard there, seconds
  std::optional<double> heard_exterior_s;
  int said = 0;
  bool acknowledged = false;
  std::string acknowledged_by;
  std::optional<double> acknowledged_s;  // sent -> acknowledged
  std::string end;                       // "cancelled", "expired", "ended", "active"
  std::string ended_by;                  // cancelled: by whom ("console", "control", ...)
  std::optional<double> lasted_s;        // sent -> its end
};

// A message the bus refused: nothing was said or shown.
struct MessageRefusal {
  std::string time;  // the log's time
  std::string id, kind, source, preset;
  std::string why;
  friend bool operator==(const MessageRefusal&, const MessageRefusal&) = default;
};

// The messages in the window and what a controller reads first about them.
struct MessageFigures {
  std::vector<MessageReport> messages;                        // in the order they were sent
  std::map<std::string, std::map<std::string, int>> by_kind;  // kind -> source -> messages
  int emergencies = 0;
  int emergencies_heard_both = 0;  // heard inside and outside
  int never_heard = 0;             // messages not heard on any output
  // The slowest sent -> first heard, of every message and output.
  std::optional<double> slowest_s;
  std::string slowest_id;
  std::string slowest_output;  // "interior", "exterior"
  std::vector<MessageRefusal> refused;
  std::map<std::string, int> refused_by_reason;
  int stops_held = 0;  // stop announcements held while an emergency was on
  bool empty() const { return messages.empty() && refused.empty() && stops_held == 0; }
};

struct Report {
  std::string source;
  std::string format;  // "JSON lines" or "event store"
  Options options;
  std::size_t lines = 0;      // readable lines seen (in the window or not)
  std::size_t in_window = 0;  // readable lines in the window
  std::size_t unreadable = 0;
  std::vector<UnreadableLine> unreadable_examples;  // the first few
  std::vector<TripReport> trips;                    // in order of their first line
  std::vector<DayReport> days;                      // by date
  Figures total;
  std::vector<RecordedZone> zones;  // the time zones the log recorded
  std::vector<Fault> faults;        // in the window, in order (the first kMaxFaults)
  std::size_t fault_count = 0;
  MessageFigures messages;  // emergency and service messages
  static constexpr std::size_t kMaxFaults = 100;
  // How much faster than real time the bus's clock ran while the announcements played (a replay
  // with --speed): the time between sounds on the bus's clock over the same on the computer's
  // monotonic clock (mono_ns), the median of successive sounds. About 1 on a bus; unset with too
  // few sounds to tell. Faster than real time, announcements have less time between stops than on
  // a bus, and the figures do not show what a bus gets.
  std::optional<double> clock_speed;
  bool faster_than_real_time() const { return clock_speed && *clock_speed > 1.5; }
};

}  // namespace stopcall::depot::report
