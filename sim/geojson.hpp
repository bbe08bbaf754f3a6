// A picture of a run for a look in QGIS or geojson.io: a GeoJSON FeatureCollection with the trip's
// shape, the stops (name, index, ground truth and each announcer's verdict), the trace (a line and
// one point per fix with its time), red lights, outages, and the announcers' events placed at the
// fix that caused them. Every feature has a "kind" property to style by.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "daemon/tracking/events.hpp"
#include "daemon/tracking/fix.hpp"
#include "routes/model.hpp"
#include "sim/score.hpp"
#include "sim/simulate.hpp"

namespace stopcall::sim {

struct AnnouncerRun {
  std::string announcer;  // "tracker", "geofence"
  std::vector<tracking::StopEvent> events;
  Score score;
};

void write_geojson(std::ostream& out, const routes::Trip& trip, const Truth& truth,
                   const std::vector<tracking::Fix>& fixes, const std::vector<AnnouncerRun>& runs);

}  // namespace stopcall::sim
