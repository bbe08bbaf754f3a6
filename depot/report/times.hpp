// Times in the depot's report: the ISO 8601 times of the event log and of --from/--to, the
// report's window, the time zones the bus recorded and the service day of a time. Pure.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/tracking/events.hpp"

namespace stopcall::depot::report {

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
// The offset in effect at `t`: the last zone recorded at or before it, else the first one.
std::optional<int> offset_at(const std::vector<RecordedZone>& zones, Time t);

}  // namespace stopcall::depot::report
