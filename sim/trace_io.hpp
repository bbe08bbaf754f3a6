// Files of a scenario run: the GPS trace as gpsd JSON lines (what gpsd sends its clients, read by
// libgps) or as NMEA 0183 ($GPRMC + $GPGGA + $GPGST with correct checksums, for gpsdecode or
// gpsfake and a real gpsd), the ground truth as JSON lines, and the stop events stopcalld writes.
#pragma once

#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/tracking/events.hpp"
#include "daemon/tracking/fix.hpp"
#include "sim/simulate.hpp"

namespace stopcall::sim {

// One TPV report per fix, e.g.
// {"class":"TPV","device":"/dev/ttyACM0","mode":3,"time":"2026-03-02T06:30:00.000Z",
//  "lat":22.538000000,"lon":113.973000000,"speed":8.250,"track":91.5000,"eph":4.200}
// A fix without a position is a report without a fix: {"class":"TPV",...,"mode":1,"time":...}.
void write_gpsd_json(const std::vector<tracking::Fix>& fixes, std::ostream& out);
std::string gpsd_json_line(const tracking::Fix& fix);

// One $GPRMC, $GPGGA and $GPGST sentence per fix (status V / quality 0 without a fix).
void write_nmea(const std::vector<tracking::Fix>& fixes, std::ostream& out);
// "$GPRMC,...*hh" from the text between $ and *.
std::string nmea_sentence(std::string_view body);

// The truth as JSON lines: a "run" line, one "stop" line per stop, then "red_light" and "outage"
// lines. read_truth throws std::runtime_error on a malformed file.
void write_truth(const Truth& truth, std::ostream& out);
Truth read_truth(std::istream& in);

// Stop events as tracking::to_json_line writes them (stopcalld replay --events). Throws
// std::runtime_error naming the line on a malformed one.
std::vector<tracking::StopEvent> read_events(std::istream& in);

// "2026-03-02T06:30:00.000Z" (or without the milliseconds); nullopt when it is not that.
std::optional<tracking::Time> parse_time(std::string_view text);

}  // namespace stopcall::sim
