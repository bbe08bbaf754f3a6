// The depot's accessibility report: from the daemon's event log (JSON lines, or the SQLite
// EventStore), per trip, per service day and in total: were the next-stop and arriving
// announcements really heard, why not, the exterior route announcements, ramp cycles, boarding
// requests and GPS outage. Pure computation here; stopcall-report (main.cpp) is the command.
// The figures are defined in daemon/report/README.md.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/tracking/events.hpp"

namespace stopcall::report {

using Time = tracking::Time;  // milliseconds, UTC

// ISO 8601: "2026-03-01", "2026-03-01T22:30", "2026-03-01T22:30:26", "2026-03-01T22:30:26.028"
// (a space for the 'T' is fine), then "Z", "+08:00", "+0800", "+08" or nothing. Without a zone
// the time is local time at `utc_offset_min` east of UTC. nullopt when it is not such a time.
std::optional<Time> parse_time(std::string_view text, int utc_offset_min = 0);
// "2026-03-01T22:30:26.028Z", as the daemon writes times.
using tracking::format_time;
// The local date "2026-03-02" of `time` at `utc_offset_min`.
std::string service_day(Time time, int utc_offset_min);

struct Options {
  std::optional<Time> from;  // lines with time >= from
  std::optional<Time> to;    // and time < to
  // The city's offset for service days (480 for Shenzhen). Unset: as the log records it (its
  // "time_zone" lines, which the daemon writes from the route bundle's agency time zone), and UTC
  // for a log that records none.
  std::optional<int> utc_offset_min;
};

// A "time_zone" line of the log: from `since` on, local time is `utc_offset_min` east of UTC.
struct RecordedZone {
  Time since{};
  std::string name;  // "Asia/Shanghai"
  int utc_offset_min = 0;
  friend bool operator==(const RecordedZone&, const RecordedZone&) = default;
};
// Reads one "time_zone" line; nullopt when it is not one.
std::optional<RecordedZone> parse_zone_line(std::string_view line);
// The zones a log records, in order (the store's time_zone rows; the whole of a JSON-lines file).
std::vector<RecordedZone> recorded_zones(const std::string& path);
// The offset in effect at `t`: the last zone recorded at or before it, else the first one.
std::optional<int> offset_at(const std::vector<RecordedZone>& zones, Time t);

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

// Reads log lines in order and computes the report.
class Builder {
 public:
  explicit Builder(Options options);
  ~Builder();
  Builder(const Builder&) = delete;
  Builder& operator=(const Builder&) = delete;

  // One line of the log; `number` names it in unreadable-line messages.
  void add(std::string_view line, std::size_t number);
  // A time zone the log records outside the lines given to add() (a store read by window).
  void zone(const RecordedZone& zone);
  Report finish();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// The report of the log at `path`: an EventStore file (SQLite header) or JSON lines. Throws
// std::runtime_error naming the path when it cannot be read.
Report build_report(const std::string& path, const Options& options);

std::string to_text(const Report& report);
std::string to_csv(const Report& report);
std::string to_html(const Report& report);

}  // namespace stopcall::report
