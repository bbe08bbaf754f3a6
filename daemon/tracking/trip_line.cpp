#include "daemon/tracking/trip_line.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace stopcall::tracking {

TripLine::TripLine(const routes::Trip& trip) {
  if (trip.stops.empty()) throw std::invalid_argument("trip " + trip.id + " has no stops");
  std::vector<routes::LatLon> points;
  const bool from_stops = trip.shape.size() < 2;
  if (from_stops) {
    for (const auto& s : trip.stops)
      points.push_back(s.stop.position);
  } else {
    points.reserve(trip.shape.size());
    for (const auto& p : trip.shape)
      points.push_back(p.position);
  }
  line = routes::geo::Polyline::from_latlon(points);
  if (line.points.size() < 2 || !(line.length() > 0))
    throw std::invalid_argument("trip " + trip.id + " has neither a shape nor two stops apart");

  bool all_zero = true;
  for (const auto& ts : trip.stops)
    all_zero = all_zero && ts.distance_m == 0;
  if (from_stops) {
    // The shape is the stops themselves: each stop is its own vertex.
    stop_distances_m = line.along;
  } else if (all_zero && trip.stops.size() > 1) {
    std::vector<routes::LatLon> positions;
    for (const auto& ts : trip.stops)
      positions.push_back(ts.stop.position);
    for (const auto& placed : routes::geo::place_stops_in_order(line, positions))
      stop_distances_m.push_back(placed.along_m);
  } else {
    stop_distances_m.reserve(trip.stops.size());
    for (const auto& ts : trip.stops)
      stop_distances_m.push_back(std::isfinite(ts.distance_m) ? ts.distance_m : 0);
  }
  double floor = 0;
  for (double& d : stop_distances_m) {
    d = std::clamp(d, floor, line.length());
    floor = d;
  }
}

}  // namespace stopcall::tracking
