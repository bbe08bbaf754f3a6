#include "daemon/tracking/dead_reckoning.hpp"

#include <algorithm>
#include <cmath>

namespace stopcall::tracking {

namespace {

// Each speed moves the running median by this factor up or down: it settles within a few dozen
// fixes and follows the trip from the city centre out into the suburbs.
constexpr double kStep = 0.02;

}  // namespace

DeadReckoning::DeadReckoning(double typical_accel_mps2, double initial_cruise_mps)
    : accel_mps2_(std::max(typical_accel_mps2, 0.1)),
      cruise_mps_(std::max(initial_cruise_mps, min_cruise_mps)) {}

void DeadReckoning::learn_speed(double speed_mps) {
  if (!std::isfinite(speed_mps) || speed_mps < min_cruise_mps) return;
  cruise_mps_ *= std::exp(speed_mps > cruise_mps_ ? kStep : -kStep);
  cruise_mps_ = std::max(cruise_mps_, min_cruise_mps);
}

double DeadReckoning::distance_m(double v0_mps, double t_s) const {
  if (!(t_s > 0)) return 0;
  const double v0 = std::max(0.0, v0_mps);
  const double vc = std::max(v0, cruise_mps_);
  const double t_accel = (vc - v0) / accel_mps2_;
  if (t_s <= t_accel) return v0 * t_s + 0.5 * accel_mps2_ * t_s * t_s;
  return v0 * t_accel + 0.5 * accel_mps2_ * t_accel * t_accel + vc * (t_s - t_accel);
}

}  // namespace stopcall::tracking
