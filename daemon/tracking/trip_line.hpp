// A trip as a line in local metres and its stops' places along it: what the tracker follows and
// what the scenario generator drives, built one way for both. Also how the stops group into
// halts: the berths of one station right after each other are one halt.
#pragma once

#include <vector>

#include "routes/geo.hpp"
#include "routes/model.hpp"

namespace stopcall::tracking {

struct TripLine {
  routes::geo::Polyline line;  // the shape, or the stops themselves when the trip has no shape
  // Each stop's distance along `line`: the bundle's when it has them, else the stops placed on
  // the shape in order (each stop its own vertex without a shape); clamped to the line and made
  // non-decreasing.
  std::vector<double> stop_distances_m;
  // For each stop, whether it is a berth of the same station as the stop before it (the same
  // parent station, or the same name in some language); false for the first.
  std::vector<bool> same_station_as_before;

  // Throws std::invalid_argument for a trip with no stops, or with neither a shape nor two stops
  // apart.
  explicit TripLine(const routes::Trip& trip);

  // For each stop, the last stop of the halt it starts: stop i itself unless the stops after it
  // are berths of its station, each closer than `same_halt_m` to the one before; -1 for a stop
  // that shares the halt of the stop before it. A stop that close with another name is a halt of
  // its own (a rider may want it).
  std::vector<int> halt_ends(double same_halt_m) const;
};

// Whether two stops are berths of one station: the same parent station, or the same name in a
// language both have (ignoring ASCII case and surrounding blanks).
bool same_station(const routes::Stop& a, const routes::Stop& b);

}  // namespace stopcall::tracking
