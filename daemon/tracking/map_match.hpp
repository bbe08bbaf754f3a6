// The tracker's map matching (map_match.cpp, Tracker's members): which pass of the trip's shape
// the bus is on when it has no place to go on from -- acquiring the trip, restoring after an
// outage, rejoining after a detour -- and when it has left the shape. What it shares with the
// along-track filter (tracker.cpp) is here. Pure.
#pragma once

#include <optional>

#include "daemon/tracking/fix.hpp"
#include "routes/geo.hpp"

namespace stopcall::tracking {

// Unit vector of the course over ground when it means something (moving fast enough).
std::optional<routes::geo::XY> heading_of(const Fix& fix, double fallback_speed, double min_speed);

}  // namespace stopcall::tracking
