#include "daemon/tracking/trip_line.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <stdexcept>
#include <string_view>

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
  same_station_as_before.assign(trip.stops.size(), false);
  for (std::size_t i = 1; i < trip.stops.size(); ++i)
    same_station_as_before[i] = same_station(trip.stops[i - 1].stop, trip.stops[i].stop);
}

std::vector<int> TripLine::halt_ends(double same_halt_m) const {
  const auto& d = stop_distances_m;
  const int n = static_cast<int>(d.size());
  std::vector<int> end(n, -1);
  for (int i = 0; i < n;) {
    int last = i;
    while (last + 1 < n && same_station_as_before[last + 1] && d[last + 1] - d[last] < same_halt_m)
      ++last;
    end[i] = last;
    i = last + 1;
  }
  return end;
}

namespace {

std::string_view trimmed(std::string_view s) {
  const auto blank = [](char c) { return c == ' ' || c == '\t'; };
  while (!s.empty() && blank(s.front()))
    s.remove_prefix(1);
  while (!s.empty() && blank(s.back()))
    s.remove_suffix(1);
  return s;
}

bool equal_ignoring_case(std::string_view a, std::string_view b) {
  a = trimmed(a);
  b = trimmed(b);
  return !a.empty() && std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) ==
           std::tolower(static_cast<unsigned char>(y));
  });
}

}  // namespace

bool same_station(const routes::Stop& a, const routes::Stop& b) {
  if (!a.parent_station.empty() && a.parent_station == b.parent_station) return true;
  for (const auto& [language, name] : a.names) {
    auto other = b.names.find(language);
    if (other != b.names.end() && equal_ignoring_case(name, other->second)) return true;
  }
  return false;
}

}  // namespace stopcall::tracking
