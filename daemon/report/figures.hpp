// What the depot's report holds: the figures per trip, per service day and in total (how many
// announcements were heard, why not, exterior route, ramp, requests, GPS outage), the stops whose
// announcement was not heard, and the whole Report with its window, unreadable lines and faults.
// Plain data and how figures add up; judge.hpp computes them from the log's records, render.hpp
// prints them. The figures are defined in daemon/report/README.md.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "daemon/report/times.hpp"

namespace stopcall::report {

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
  static constexpr std::size_t kMaxFaults = 100;
  // How much faster than real time the bus's clock ran while the announcements played (a replay
  // with --speed): the time between sounds on the bus's clock over the same on the computer's
  // monotonic clock (mono_ns), the median of successive sounds. About 1 on a bus; unset with too
  // few sounds to tell. Faster than real time, announcements have less time between stops than on
  // a bus, and the figures do not show what a bus gets.
  std::optional<double> clock_speed;
  bool faster_than_real_time() const { return clock_speed && *clock_speed > 1.5; }
};

}  // namespace stopcall::report
