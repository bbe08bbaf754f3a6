// A trip as a line in local metres and its stops' places along it: what the tracker follows and
// what the scenario generator drives, built one way for both.
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

  // Throws std::invalid_argument for a trip with no stops, or with neither a shape nor two stops
  // apart.
  explicit TripLine(const routes::Trip& trip);
};

}  // namespace stopcall::tracking
