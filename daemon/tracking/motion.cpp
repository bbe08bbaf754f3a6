#include "daemon/tracking/motion.hpp"

#include <algorithm>
#include <cmath>

#include "routes/geo.hpp"

namespace stopcall::tracking {

void MotionDetector::reset(bool moving) {
  moving_ = moving;
  go_since_.reset();
  go_fixes_ = 0;
  crawl_since_.reset();
  crawl_fixes_ = 0;
  crawl_sum_ = 0;
}

void MotionDetector::on_vehicle(const VehicleMotion& vehicle) {
  if (vehicle.speed_mps && std::isfinite(*vehicle.speed_mps)) {
    vehicle_.speed_mps = vehicle.speed_mps;
    vehicle_.time = vehicle.time;
  }
  if (vehicle.doors_open) {
    vehicle_.doors_open = vehicle.doors_open;
    if (*vehicle.doors_open) reset(false);  // standing; the doors closing starts nothing
  }
}

std::optional<double> MotionDetector::vehicle_speed(Time now) const {
  if (!vehicle_.speed_mps) return std::nullopt;
  const double age = seconds_between(now, vehicle_.time);
  if (age < -cfg_.vehicle_max_age_s || age > cfg_.vehicle_max_age_s) return std::nullopt;
  return vehicle_.speed_mps;
}

MotionDetector::Source MotionDetector::source(Time now) const {
  if (vehicle_speed(now)) return Source::vehicle;
  if (vehicle_.doors_open.value_or(false)) return Source::doors;
  return doppler_ ? Source::doppler : Source::none;
}

bool MotionDetector::moving(Time now) const {
  if (auto v = vehicle_speed(now)) return *v > cfg_.vehicle_moving_mps;
  if (vehicle_.doors_open.value_or(false)) return false;
  return moving_;
}

void MotionDetector::on_fix(Time t, std::optional<double> speed_mps,
                            std::optional<double> course_deg, std::span<const Direction> route,
                            double fix_interval_s) {
  doppler_ = speed_mps && std::isfinite(*speed_mps) && *speed_mps >= 0;
  if (!doppler_) {
    reset(moving_);
    return;
  }
  const double speed = *speed_mps;
  along_ = speed;
  bool aligned = true;
  if (course_deg && std::isfinite(*course_deg) && speed >= cfg_.course_min_speed_mps &&
      !route.empty()) {
    const double rad = *course_deg * routes::geo::kDegToRad;
    double best = -1;
    for (const auto& d : route)
      best = std::max(best, std::sin(rad) * d.x + std::cos(rad) * d.y);
    along_ = speed * best;
    aligned = best >= std::cos(cfg_.go_course_deg * routes::geo::kDegToRad);
  }
  if (vehicle_.doors_open.value_or(false)) return;  // standing, whatever the receiver says
  if (moving_) {
    // (Along the route: a bus does not move sideways; in a turn one of the directions ahead is
    // the one it takes.)
    if (along_ <= cfg_.stop_speed_mps) reset(false);
    return;
  }
  // Crawling: slowly along the route on every fix (a canyon's standstill is reported in random
  // directions, so it does not stay along the route for long).
  if (aligned && along_ > cfg_.stop_speed_mps) {
    if (!crawl_since_) crawl_since_ = t;
    ++crawl_fixes_;
    crawl_sum_ += along_;
  } else {
    crawl_since_.reset();
    crawl_fixes_ = 0;
    crawl_sum_ = 0;
  }
  // (Not on sparse fixes: a canyon's random directions line up too often over a few of them.)
  const bool crawling = fix_interval_s < cfg_.sparse_interval_s && crawl_fixes_ >= 3 &&
                        seconds_between(t, *crawl_since_) >= cfg_.crawl_time_s - 1e-3 &&
                        crawl_sum_ / crawl_fixes_ >= cfg_.crawl_speed_mps;
  if (!aligned || along_ < cfg_.go_speed_mps) {
    go_since_.reset();
    go_fixes_ = 0;
    if (crawling) reset(true);
    return;
  }
  if (!go_since_) go_since_ = t;
  ++go_fixes_;
  const bool held = go_fixes_ >= 2 && seconds_between(t, *go_since_) >= cfg_.go_time_s - 1e-3;
  const bool sparse_go =
      fix_interval_s >= cfg_.sparse_interval_s && along_ >= cfg_.go_speed_sparse_mps;
  if (held || sparse_go || crawling) reset(true);
}

}  // namespace stopcall::tracking
