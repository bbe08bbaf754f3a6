// What the tracker tells the announcer: one StopEvent per thing that happened along the trip,
// in the order it happened. See tracker.hpp for the contract (which events, in which order).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "daemon/tracking/fix.hpp"

namespace stopcall::tracking {

struct StopEvent {
  enum class Type {
    trip_started,          // the bus was found on the trip near its first stop
    next_stop,             // the bus left the previous stop; this is the next one ("next stop: X")
    approaching,           // the bus will reach this stop within the lead time ("arriving at X")
    arrived,               // the bus stopped at this stop
    passed,                // the bus is beyond this stop without having been seen stopping there
    departed,              // the bus left this stop after having arrived there
    trip_ended,            // the last stop was reached (or passed)
    off_route,             // the bus left the trip's shape; no stop events until on_route
    on_route,              // the bus is back on the shape
    gps_lost,              // no usable fix for the gps-lost timeout; dead reckoning
    gps_restored,          // the position is trustworthy again after gps_lost / position_uncertain
    position_uncertain,    // the position estimate is too uncertain to announce stops
    trip_detected,         // auto-detection settled on trip_id; nothing was announced before it
    trip_resumed,          // after a restart: back on the saved trip; what was said is not repeated
    route_data_not_valid,  // the route bundle has no service today (note says why): a fault
  };

  Type type = Type::trip_started;
  Time time{};  // GPS time of the fix (or tick) that caused the event
  std::string trip_id;
  std::optional<std::string> stop_id;  // set for events about a stop
  std::optional<int> stop_sequence;    // the GTFS stop_sequence of that stop
  std::optional<int> stop_index;       // 0-based index into Trip::stops
  double distance_m = 0;               // progress along the trip when emitted, metres
  // next_stop / approaching of a stop close after the one before it, said right after that one's
  // ("next stop: A, then B"): the rider hears both before the bus reaches the first.
  bool with_previous = false;
  // Decided on a dead-reckoned position (a GPS outage): the bus may be a little off.
  bool uncertain = false;
  std::string note;  // for a person: what a fault means ("service ends 2019-04-18")

  friend bool operator==(const StopEvent&, const StopEvent&) = default;
};

// "next_stop", "approaching", ... ("unknown" for a value that is none of the types).
std::string_view type_name(StopEvent::Type type);
// The type named so by type_name(); nullopt for any other text.
std::optional<StopEvent::Type> type_from_name(std::string_view name);

// One JSON object, no trailing newline, e.g.
// {"type":"next_stop","time":"2026-03-01T08:00:05.000Z","trip_id":"T1","stop_id":"S2",
//  "stop_sequence":2,"stop_index":1,"distance_m":250.0}
// Absent optionals are left out.
std::string to_json_line(const StopEvent& event);

// ISO 8601 UTC with milliseconds: "2026-03-01T08:00:05.000Z".
std::string format_time(Time time);

}  // namespace stopcall::tracking
