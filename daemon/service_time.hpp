// GPS time (UTC) to the timetable's clock: GTFS times are seconds into a service day in the
// agencies' local time zone.
#pragma once

#include <string>

#include "daemon/tracking/fix.hpp"

namespace stopcall::daemon {

struct ServiceTime {
  std::string date;  // YYYYMMDD, local
  int seconds = 0;   // since local midnight
};

class ServiceClock {
 public:
  // Sets the process's TZ to `timezone` (the daemon serves one city); empty keeps the current one.
  explicit ServiceClock(const std::string& timezone);
  ServiceTime at(tracking::Time time) const;
  // The same moment seen from the day before (its trips run past 24:00).
  ServiceTime day_before(tracking::Time time) const;
  // Local time's offset east of UTC at `time`, in minutes (480 in Shenzhen).
  int utc_offset_min(tracking::Time time) const;
};

}  // namespace stopcall::daemon
