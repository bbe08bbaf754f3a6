// A bus driven along a real trip's shape for pipeline tests: constant cruise speed, a halt with a
// dwell at every stop, one clean fix a second. Accuracy under noise is the scenario suite's job;
// these tests are about what the pipeline does with the events.
#pragma once

#include <algorithm>
#include <cmath>
#include <vector>

#include "daemon/tracking/fix.hpp"
#include "routes/model.hpp"

namespace stopcall::testing {

inline routes::LatLon point_at(const routes::Trip& trip, double d) {
  const auto& s = trip.shape;
  auto it = std::upper_bound(s.begin(), s.end(), d, [](double v, const routes::ShapePoint& p) {
    return v < p.distance_m;
  });
  if (it == s.begin()) return s.front().position;
  if (it == s.end()) return s.back().position;
  const auto& a = *(it - 1);
  const auto& b = *it;
  double t = (d - a.distance_m) / std::max(1e-9, b.distance_m - a.distance_m);
  return {a.position.lat + t * (b.position.lat - a.position.lat),
          a.position.lon + t * (b.position.lon - a.position.lon)};
}

// Fixes from `start` (the bus standing at the first stop for `first_dwell_s`) to the last stop.
inline std::vector<tracking::Fix> drive(const routes::Trip& trip, tracking::Time start,
                                        double cruise_mps = 10, double dwell_s = 20,
                                        double first_dwell_s = 30) {
  std::vector<tracking::Fix> fixes;
  double t = 0, d = trip.stops.front().distance_m;
  std::size_t next = 1;
  double dwell_left = first_dwell_s;
  auto emit = [&](double speed) {
    tracking::Fix f;
    f.time = start + std::chrono::milliseconds(static_cast<long long>(t * 1000));
    f.mode = tracking::Fix::Mode::fix_3d;
    f.status = tracking::Fix::Status::normal;
    f.position = point_at(trip, d);
    f.speed_mps = speed;
    f.eph_m = 5;
    fixes.push_back(f);
  };
  while (true) {
    double speed = 0;
    double target = next < trip.stops.size() ? trip.stops[next].distance_m : d;
    if (dwell_left <= 0 && next < trip.stops.size()) {
      // Slow down over the last 30 m so the bus is seen standing at the stop.
      speed = std::min(cruise_mps, std::max(2.0, (target - d) / 3));
    }
    emit(speed);
    t += 1;
    if (dwell_left > 0) {
      dwell_left -= 1;
      continue;
    }
    if (next >= trip.stops.size()) break;
    d = std::min(target, d + speed);
    if (d >= target) {
      dwell_left = next + 1 == trip.stops.size() ? 5 : dwell_s;
      ++next;
    }
  }
  return fixes;
}

}  // namespace stopcall::testing
