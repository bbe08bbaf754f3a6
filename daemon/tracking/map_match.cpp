// The tracker's map matching: which pass of the trip's shape the bus is on when there is no
// place of its own to go on from -- its first fixes (acquire), fixes back after an outage
// (restore: another pass of a shape that comes back on itself is a rival), back on the route
// after a detour (rejoin) -- and when the fixes say it has left the shape (off route). The
// along-track filter (tracker.cpp) takes each fix near its prediction; the stop events are
// stop_sequence.cpp's.
#include "daemon/tracking/map_match.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

#include "daemon/tracking/tracker.hpp"
#include "routes/geo.hpp"

namespace stopcall::tracking {

using routes::geo::XY;

namespace {
constexpr double kConfirmSlackM = 20.0;  // consistency slack between confirming fixes
}  // namespace

std::optional<XY> heading_of(const Fix& fix, double fallback_speed, double min_speed) {
  if (!fix.track_deg || !std::isfinite(*fix.track_deg)) return std::nullopt;
  double speed = fix.speed_mps && std::isfinite(*fix.speed_mps) ? *fix.speed_mps : fallback_speed;
  if (speed < min_speed) return std::nullopt;
  double rad = *fix.track_deg * routes::geo::kDegToRad;
  return XY{std::sin(rad), std::cos(rad)};
}

double Tracker::heading_cos() const {
  return std::cos(cfg_.heading_max_diff_deg * routes::geo::kDegToRad);
}

void Tracker::acquire(const Fix& fix, double eph, std::vector<StopEvent>& out) {
  XY p = geo_->line().projection.to_xy(*fix.position);
  auto heading = heading_of(fix, 0, cfg_.heading_check_speed_mps);
  double radius = cfg_.acquire_radius_m + std::min(eph, cfg_.acquire_radius_m);
  ShapeMatcher::Match m = geo_->match(p, 0, length_m(), 0, heading ? &*heading : nullptr,
                                      heading_cos(), radius, ShapeMatcher::Policy::first);
  lateral_ = m.found ? m.offset : m.min_offset;
  if (!m.found || eph > cfg_.max_eph_m) {
    pending_ = {};
    return;
  }
  const bool near_start = m.along <= stop_d_[0] + cfg_.start_zone_m;
  if (!near_start && !confirm(pending_, fix.time, m.along, cfg_.join_confirm_fixes, 0)) return;
  relock(fix, m.along);
  progress_ = s_ = m.along;
  update_motion(fix);  // standing or moving from this first fix's Doppler on
  emit(out, StopEvent::Type::trip_started, fix.time, 0);
  target_ = 0;
  if (near_start) {
    phase_ = Phase::at_stop;  // the bus stands at its first stop
  } else {
    phase_ = Phase::en_route;  // joined mid-trip: the stops behind will be `passed`
    next_said_ = approach_said_ = true;
  }
  run_stops(fix.time, out);
}

bool Tracker::confirm(Pending& p, Time t, double along, int needed, double min_span_s) const {
  bool consistent = false;
  if (p.active) {
    double dt = seconds_between(t, p.last);
    consistent = dt <= lost_timeout_s() && along >= p.along - kConfirmSlackM &&
                 along <= p.along + cfg_.max_speed_mps * dt + kConfirmSlackM;
  }
  if (consistent) {
    ++p.count;
  } else {
    p = {};
    p.active = true;
    p.count = 1;
    p.first = t;
    p.first_along = along;
  }
  p.along = along;
  p.last = t;
  return p.count >= needed && seconds_between(t, p.first) >= min_span_s;
}

void Tracker::count_off_route(Time t, std::vector<StopEvent>& out) {
  if (!off_pending_.active) {
    off_pending_ = {};
    off_pending_.active = true;
    off_pending_.first = t;
  }
  ++off_pending_.count;
  off_pending_.last = t;
  if (off_pending_.count < cfg_.off_route_min_fixes ||
      seconds_between(t, off_pending_.first) < cfg_.off_route_time_s)
    return;
  if (state_ == TrackerState::degraded) {
    // Fixes are back, and they say the bus is off its route.
    state_ = TrackerState::tracking;
    if (lost_said_ || uncertain_said_) emit(out, StopEvent::Type::gps_restored, t, std::nullopt);
    lost_said_ = uncertain_said_ = false;
  }
  const int last = static_cast<int>(stop_d_.size()) - 1;
  if (halt_end_[target_] == last && phase_ == Phase::en_route &&
      progress_ >= stop_d_[target_] - cfg_.arrival_radius_m) {
    // Leaving the shape at the terminus without having been seen stopping there.
    for (int j = target_; j <= last; ++j)
      emit(out, StopEvent::Type::passed, t, j);
    state_ = TrackerState::ended;
    emit(out, StopEvent::Type::trip_ended, t, last);
    return;
  }
  state_ = TrackerState::off_route;
  pending_ = {};
  off_pending_ = {};
  stopped_since_.reset();
  emit(out, StopEvent::Type::off_route, t, std::nullopt);
}

void Tracker::restore(const Fix& fix, double eph, std::vector<StopEvent>& out) {
  const Time t = fix.time;
  const double dt = seconds_between(t, t_accepted_);
  const XY p = geo_->line().projection.to_xy(*fix.position);
  const auto heading = heading_of(fix, v_, cfg_.heading_check_speed_mps);
  const double pred = std::min(s_ + v_ * std::min(dt, cfg_.dead_reckoning_max_s), length_m());
  const Window window = window_ahead(dt);
  const ShapeMatcher::Match m = match_in(p, window, pred, heading);
  if (m.min_offset > cfg_.off_route_distance_m) {
    pending_ = {};
    count_off_route(t, out);
    return;
  }
  if (m.offset <= cfg_.accept_lateral_m) off_pending_ = {};
  if (!m.found || m.offset > cfg_.accept_lateral_m || !m.heading_ok || eph > cfg_.max_eph_m) {
    pending_ = {};
    return;
  }
  // A shape that comes back on itself (a loop round the block, a street driven twice) may pass
  // this point more than once in the window: nothing told which pass the bus took in the dark.
  // Taking the nearer to the prediction jumped a bus that had waited at a stop a whole loop
  // ahead, past stops it had yet to reach. Another pass about as near as the fix's noise allows
  // is a rival; the fixes to come tell the passes apart.
  const double rival_m =
      std::min(cfg_.accept_lateral_m, m.offset + 2 * noise_.sigma_m(fix.horizontal_error_m()));
  if (another_pass(p, window.lo, window.hi, m.along, rival_m, heading ? &*heading : nullptr)) {
    pending_ = {};
    return;
  }
  if (!confirm(pending_, t, m.along, cfg_.restore_confirm_fixes, 0)) return;
  bool said = lost_said_ || uncertain_said_;
  relock(fix, m.along);
  if (said) emit(out, StopEvent::Type::gps_restored, t, std::nullopt);
  run_stops(t, out);
}

bool Tracker::another_pass(XY p, double lo, double hi, double along, double within_m,
                           const XY* heading) const {
  // Points of one pass within accept_lateral_m of p lie within about that along it.
  const double apart = 3 * cfg_.accept_lateral_m;
  for (auto [from, to] : {std::pair{lo, along - apart}, std::pair{along + apart, hi}}) {
    if (to <= from) continue;
    const auto m = geo_->match(p, from, to, 0, heading, heading_cos(), within_m,
                               ShapeMatcher::Policy::closest);
    if (m.found) return true;
  }
  return false;
}

void Tracker::rejoin(const Fix& fix, double eph, std::vector<StopEvent>& out) {
  const Time t = fix.time;
  const double dt = seconds_between(t, t_accepted_);
  const XY p = geo_->line().projection.to_xy(*fix.position);
  const auto heading = heading_of(fix, 0, cfg_.heading_check_speed_mps);
  const double lo = std::max(0.0, progress_ - cfg_.back_window_m);
  const double hi = std::min(length_m(), s_ + cfg_.max_speed_mps * dt + cfg_.window_margin_m);
  const double radius = cfg_.rejoin_distance_m + std::min(eph, cfg_.rejoin_distance_m);
  ShapeMatcher::Match m = geo_->match(p, lo, hi, 0, heading ? &*heading : nullptr, heading_cos(),
                                      radius, ShapeMatcher::Policy::first);
  lateral_ = m.found ? m.offset : m.min_offset;
  if (!m.found || eph > cfg_.max_eph_m) {
    pending_ = {};
    return;
  }
  if (!confirm(pending_, t, m.along, cfg_.rejoin_min_fixes, cfg_.rejoin_time_s)) return;
  relock(fix, m.along);
  emit(out, StopEvent::Type::on_route, t, std::nullopt);
  run_stops(t, out);
}

Tracker::Window Tracker::window_ahead(double dt) const {
  return {std::max(0.0, progress_ - cfg_.back_window_m),
          std::min(length_m(), s_ + cfg_.max_speed_mps * dt + cfg_.window_margin_m)};
}

ShapeMatcher::Match Tracker::match_in(XY p, Window window, double pred,
                                      const std::optional<XY>& heading) {
  ShapeMatcher::Match m =
      geo_->match(p, window.lo, window.hi, pred, heading ? &*heading : nullptr, heading_cos(),
                  1.5 * cfg_.off_route_distance_m, ShapeMatcher::Policy::nearest);
  lateral_ = m.min_offset;
  return m;
}

}  // namespace stopcall::tracking
