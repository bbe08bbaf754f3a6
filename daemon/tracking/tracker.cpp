// The tracker's along-track filter: the bus's place and speed along the trip from each fix near
// its prediction, the fix interval, GPS outages and dead reckoning. Where the bus joins the shape
// (the first fixes, after an outage or a detour) is map_match.cpp's; the stop events it says
// are stop_sequence.cpp's.
#include "daemon/tracking/tracker.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>

#include "daemon/tracking/map_match.hpp"
#include "daemon/tracking/trip_line.hpp"
#include "routes/geo.hpp"

namespace stopcall::tracking {

using routes::geo::XY;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kMotionLookAheadM = 15.0;      // the route's directions from this far behind...
constexpr std::size_t kMaxMotionSegments = 64;  // ...to 30 m ahead, at most this many segments
constexpr double kStandMinVarM2 = 1.0;  // a standing bus's place keeps following its fixes slowly
constexpr double kMaxIntervalS = 10.0;  // fix interval estimate is capped at this
constexpr double kLostTimeoutIntervals = 2.2;  // the lost timeout is at least this many intervals

// The covariance (p00, p01, p11) of a two-state Kalman filter: a value and its rate of change,
// the rate driven by white noise of spectral density q. Both of the tracker's filters are of this
// kind: (distance, speed) and (speed, acceleration).
void predict_covariance(double& p00, double& p01, double& p11, double dt, double q) {
  p00 += dt * (2 * p01 + dt * p11) + q * dt * dt * dt / 3;
  p01 += dt * p11 + q * dt * dt / 2;
  p11 += q * dt;
}

struct Gains {
  double k0, k1;
};

// A measurement of the first state with variance r: the gains, and the covariance updated.
Gains measure_value(double& p00, double& p01, double& p11, double r) {
  const double sv = p00 + r, k0 = p00 / sv, k1 = p01 / sv;
  p11 -= k1 * p01;
  p01 -= k0 * p01;
  p00 -= k0 * p00;
  return {k0, k1};
}

// A measurement of the second state (the rate) with variance r.
Gains measure_rate(double& p00, double& p01, double& p11, double r) {
  const double sv = p11 + r, k0 = p01 / sv, k1 = p11 / sv;
  p00 -= k0 * p01;
  p01 -= k0 * p11;
  p11 -= k1 * p11;
  return {k0, k1};
}

}  // namespace

std::string_view state_name(TrackerState state) {
  switch (state) {
    case TrackerState::waiting:
      return "waiting";
    case TrackerState::tracking:
      return "tracking";
    case TrackerState::degraded:
      return "degraded";
    case TrackerState::off_route:
      return "off_route";
    case TrackerState::ended:
      return "ended";
  }
  return "unknown";
}

Tracker::Tracker(const routes::Trip& trip, TrackerConfig config)
    : cfg_(config),
      trip_id_(trip.id),
      motion_(config.motion),
      noise_(config.default_eph_m / 2),
      dr_(config.typical_accel_mps2, config.typical_cruise_mps) {
  TripLine trip_line(trip);  // throws for a trip that cannot be followed
  halt_end_ = trip_line.halt_ends(cfg_.same_halt_m);
  geo_ = std::make_unique<ShapeMatcher>(std::move(trip_line.line));
  stop_d_ = std::move(trip_line.stop_distances_m);

  stop_ids_.reserve(trip.stops.size());
  stop_seq_.reserve(trip.stops.size());
  for (const auto& ts : trip.stops) {
    stop_ids_.push_back(ts.stop.id);
    stop_seq_.push_back(ts.stop_sequence);
  }
  said_with_previous_.assign(halt_end_.size(), false);
  halt_stop_.resize(halt_end_.size());
  for (std::size_t i = 0; i < halt_end_.size(); ++i)
    halt_stop_[i] = halt_end_[i] >= 0 ? static_cast<int>(i) : halt_stop_[i - 1];
}

Tracker::~Tracker() = default;
Tracker::Tracker(Tracker&&) noexcept = default;
Tracker& Tracker::operator=(Tracker&&) noexcept = default;

double Tracker::length_m() const {
  return geo_->length();
}

std::optional<int> Tracker::next_stop_index() const {
  const int n = static_cast<int>(stop_d_.size());
  if (state_ == TrackerState::ended || state_ == TrackerState::waiting) return std::nullopt;
  int next = phase_ == Phase::at_stop ? halt_end_[target_] + 1 : target_;
  return next < n ? std::optional<int>(next) : std::nullopt;
}

std::optional<int> Tracker::at_stop_index() const {
  if (state_ == TrackerState::ended || state_ == TrackerState::waiting || phase_ != Phase::at_stop)
    return std::nullopt;
  return target_;
}

Tracker::Announced Tracker::announced() const {
  if (state_ == TrackerState::ended || state_ == TrackerState::waiting ||
      state_ == TrackerState::off_route || phase_ != Phase::en_route)
    return {};
  return {target_, next_said_, approach_said_};
}

double Tracker::dead_reckoned(Time now) const {
  double dt = std::clamp(seconds_between(now, t_accepted_), 0.0, cfg_.dead_reckoning_max_s);
  int next = phase_ == Phase::at_stop ? halt_end_[target_] + 1 : halt_end_[target_];
  double cap = next < static_cast<int>(stop_d_.size())
                   ? stop_d_[next] + cfg_.dead_reckoning_stop_margin_m
                   : length_m();
  const bool odometer = motion_.vehicle_speed(now).has_value();
  double s = std::min(odometer ? odometer_m_ : s_ + v_ * dt, std::max(cap, s_));
  return std::max(progress_, std::min(s, length_m()));
}

double Tracker::progress_m() const {
  return state_ == TrackerState::degraded ? dead_reckoned(t_seen_) : progress_;
}

double Tracker::uncertainty_m() const {
  switch (state_) {
    case TrackerState::tracking:
    case TrackerState::ended:
      return std::sqrt(p00_);
    case TrackerState::degraded:
      return std::sqrt(p00_) + cfg_.dead_reckoning_speed_error_mps *
                                   std::max(0.0, seconds_between(t_seen_, t_accepted_));
    case TrackerState::waiting:
    case TrackerState::off_route:
      return kInf;
  }
  return kInf;
}

double Tracker::confidence() const {
  double u = uncertainty_m();
  if (!std::isfinite(u)) return 0;
  return std::clamp(1.0 - u / (2 * cfg_.position_uncertain_m), 0.0, 1.0);
}

void Tracker::emit(std::vector<StopEvent>& out, StopEvent::Type type, Time t,
                   std::optional<int> stop) {
  StopEvent e;
  e.type = type;
  e.time = t;
  e.trip_id = trip_id_;
  if (stop) {
    e.stop_id = stop_ids_[*stop];
    e.stop_sequence = stop_seq_[*stop];
    e.stop_index = *stop;
  }
  e.distance_m = state_ == TrackerState::degraded ? dead_reckoned(t) : progress_;
  e.uncertain = state_ == TrackerState::degraded;
  out.push_back(std::move(e));
}

std::vector<StopEvent> Tracker::on_fix(const Fix& fix) {
  std::vector<StopEvent> out;
  on_fix(fix, out);
  return out;
}

std::vector<StopEvent> Tracker::on_tick(Time now) {
  std::vector<StopEvent> out;
  on_tick(now, out);
  return out;
}

void Tracker::on_tick(Time now, std::vector<StopEvent>& out) {
  if (now <= t_seen_) return;
  step_time(now, out);
  approach_if_fix_overdue(now, out);
}

void Tracker::on_fix(const Fix& fix, std::vector<StopEvent>& out) {
  if (state_ == TrackerState::ended) return;
  if (have_fix_ && fix.time <= t_fix_) return;  // duplicate or out of order
  if (have_fix_) {
    // The receiver's interval: the median of the last few, so a sparse receiver is known from
    // its first gap and a missing fix or two do not make it look sparser than it is.
    intervals_[n_intervals_++ % intervals_.size()] =
        std::min(seconds_between(fix.time, t_fix_), kMaxIntervalS);
    std::array<double, kIntervals> recent = intervals_;
    const auto n = std::min<std::size_t>(static_cast<std::size_t>(n_intervals_), recent.size());
    std::nth_element(recent.begin(), recent.begin() + n / 2, recent.begin() + n);
    fix_interval_s_ = recent[n / 2];
  }
  have_fix_ = true;
  t_fix_ = fix.time;
  step_time(fix.time, out);
  if (!fix.usable()) {
    approach_if_fix_overdue(fix.time, out);
    return;
  }
  if (state_ == TrackerState::ended) return;
  double eph = fix.horizontal_error_m().value_or(cfg_.default_eph_m);
  if (state_ != TrackerState::waiting) update_motion(fix);
  switch (state_) {
    case TrackerState::waiting:
      acquire(fix, eph, out);
      break;
    case TrackerState::tracking:
      t_usable_ = fix.time;
      track(fix, eph, out);
      break;
    case TrackerState::degraded:
      t_usable_ = fix.time;
      restore(fix, eph, out);
      break;
    case TrackerState::off_route:
      t_usable_ = fix.time;
      rejoin(fix, eph, out);
      break;
    case TrackerState::ended:
      break;
  }
  approach_if_fix_overdue(fix.time, out);
}

double Tracker::lost_timeout_s() const {
  return std::max(cfg_.gps_lost_timeout_s, kLostTimeoutIntervals * fix_interval_s_);
}

void Tracker::step_time(Time now, std::vector<StopEvent>& out) {
  if (state_ == TrackerState::waiting || state_ == TrackerState::ended) return;
  if (now > t_seen_) t_seen_ = now;
  if (state_ == TrackerState::off_route) return;
  const double timeout = lost_timeout_s();
  const double since_usable = seconds_between(now, t_usable_);
  const double since_accepted = seconds_between(now, t_accepted_);
  if (state_ == TrackerState::tracking) {
    if (since_usable > timeout) {
      state_ = TrackerState::degraded;
      lost_said_ = true;
      emit(out, StopEvent::Type::gps_lost, now, std::nullopt);
    } else if (since_accepted > timeout && !off_pending_.active) {
      state_ = TrackerState::degraded;
      uncertain_said_ = true;
      emit(out, StopEvent::Type::position_uncertain, now, std::nullopt);
    }
    if (state_ == TrackerState::degraded) {
      pending_ = {};
      stopped_since_.reset();
      odometer_m_ = s_;  // the vehicle's speed signal, if it gives one, goes on from here
      t_odometer_ = t_accepted_;
    }
  }
  if (state_ != TrackerState::degraded) return;
  if (!lost_said_ && since_usable > timeout) {
    lost_said_ = true;
    emit(out, StopEvent::Type::gps_lost, now, std::nullopt);
  }
  const double unc = std::sqrt(p00_) + cfg_.dead_reckoning_speed_error_mps * since_accepted;
  if (!uncertain_said_ &&
      (unc > cfg_.position_uncertain_m || since_accepted > cfg_.dead_reckoning_max_s)) {
    uncertain_said_ = true;
    emit(out, StopEvent::Type::position_uncertain, now, std::nullopt);
  }
  dead_reckon(now, out);
}

void Tracker::dead_reckon(Time now, std::vector<StopEvent>& out) {
  const double since = seconds_between(now, t_accepted_);
  if (since > cfg_.dead_reckoning_max_s) return;
  if (auto v = motion_.vehicle_speed(now)) {
    // The vehicle's own speed: an odometer, and the stops as on fixes (the events marked
    // uncertain). The doors and the speed tell standing from moving.
    odometer_m_ =
        std::min(length_m(), odometer_m_ + *v * std::max(0.0, seconds_between(now, t_odometer_)));
    t_odometer_ = now;
    progress_ = std::max(progress_, odometer_m_);
    if (standing(now)) {
      if (!stopped_since_) stopped_since_ = now;
    } else {
      stopped_since_.reset();
    }
    last_dt_ = 0;
    run_stops(now, out);
    return;
  }
  // Without it: as a bus of this trip drives on from its last speed (dead_reckoning.hpp).
  const double s_now = s_ + dr_.distance_m(v_, since);
  if (phase_ == Phase::at_stop) {
    // Pulling away when the fixes stopped: departed once the bus would be clear of the halt.
    const int k = target_;
    if (standing(t_accepted_) || v_ < cfg_.motion.go_speed_mps ||
        s_now < stop_d_[halt_end_[k]] + cfg_.departure_moving_m)
      return;
    emit(out, StopEvent::Type::departed, now, k);
    if (leave_halt(k, now, out)) announce(out, StopEvent::Type::next_stop, now);
    return;
  }
  if (!next_said_ || approach_said_) return;
  const double d = stop_d_[target_];
  if (s_now < d && s_ + dr_.distance_m(v_, since + cfg_.approach_lead_s) >= d)
    announce(out, StopEvent::Type::approaching, now);
}

namespace {

std::optional<double> speed_of(const Fix& fix) {
  if (fix.speed_mps && std::isfinite(*fix.speed_mps) && *fix.speed_mps >= 0) return fix.speed_mps;
  return std::nullopt;
}

}  // namespace

void Tracker::update_motion(const Fix& fix) {
  // The route's directions from just behind the bus to just ahead of where it would be now
  // driving on: it may pull away into a turn, and a sparse receiver's bus may have turned a
  // corner since the last fix. Every segment there counts, short ones in a turn too.
  const double ahead = v_ * std::max(0.0, seconds_between(fix.time, t_accepted_));
  const std::size_t first = geo_->segment_at(s_ - kMotionLookAheadM);
  const std::size_t last =
      std::min(geo_->segment_at(s_ + ahead + 2 * kMotionLookAheadM), first + kMaxMotionSegments);
  auto& route = route_scratch_;
  route.clear();
  for (std::size_t seg = first; seg <= last; ++seg)
    if (const XY d = geo_->direction(seg); d.x != 0 || d.y != 0) route.push_back({d.x, d.y});
  motion_.on_fix(fix.time, speed_of(fix), fix.track_deg, route, fix_interval_s_);
}

bool Tracker::standing(Time now) const {
  return motion_.known(now) ? !motion_.moving(now) : v_ <= cfg_.stopped_speed_mps;
}

void Tracker::relock(const Fix& fix, double along) {
  double sigma = noise_.sigma_m(fix.horizontal_error_m());
  s_ = std::max(along, progress_ - cfg_.backward_tolerance_m);
  progress_ = std::max(progress_, along);
  p00_ = sigma * sigma;
  p01_ = 0;
  auto speed = speed_of(fix);
  if (speed) {
    v_ = *speed;
  } else if (pending_.active && pending_.last > pending_.first) {
    v_ = std::max(0.0, (pending_.along - pending_.first_along) /
                           seconds_between(pending_.last, pending_.first));
  } else {
    v_ = 0;
  }
  p11_ = speed ? cfg_.speed_error_mps * cfg_.speed_error_mps : 4.0;
  a_ = 0;
  accel_active_ = false;
  t_accepted_ = t_usable_ = fix.time;
  last_dt_ = 0;
  // Moving only on a clear Doppler speed: one noisy report from a canyon says up to 3 m/s of a
  // bus standing at its first stop.
  motion_.reset(v_ >= cfg_.motion.go_speed_sparse_mps);
  if (v_ <= cfg_.stopped_speed_mps)
    stopped_since_ = fix.time;
  else
    stopped_since_.reset();
  state_ = TrackerState::tracking;
  lost_said_ = uncertain_said_ = false;
  pending_ = {};
  off_pending_ = {};
}

void Tracker::track(const Fix& fix, double eph, std::vector<StopEvent>& out) {
  const Time t = fix.time;
  const double dt = seconds_between(t, t_accepted_);
  const XY p = geo_->line().projection.to_xy(*fix.position);
  const auto speed = speed_of(fix);
  const auto heading = heading_of(fix, v_, cfg_.heading_check_speed_mps);
  // Predict with the mean of the old and the new Doppler speed (exact for constant acceleration).
  const double v_mean = speed ? 0.5 * (v_ + *speed) : v_;
  const double pred = std::min(s_ + v_mean * dt, length_m());
  const ShapeMatcher::Match m = match_in(p, window_ahead(dt), pred, heading);
  if (m.min_offset > cfg_.off_route_distance_m) {
    count_off_route(t, out);
    return;
  }
  if (m.offset <= cfg_.accept_lateral_m) off_pending_ = {};
  if (!m.found || m.offset > cfg_.accept_lateral_m || eph > cfg_.max_eph_m)
    return;  // implausible: does not move the bus (a long run of these -> position_uncertain)

  // Kalman filter on (distance, speed) along the shape, constant speed with white acceleration
  // noise; the Doppler speed and the matched distance are its two measurements. The lateral
  // distance inflates the distance measurement's noise.
  const double q = cfg_.accel_noise_mps2 * cfg_.accel_noise_mps2;
  // Standing (Doppler or the vehicle say so): the bus does not move, whatever the positions say.
  const bool stand = motion_.known(t) && !motion_.moving(t);
  double s = stand ? s_ : s_ + v_ * dt, v = stand ? 0 : v_;
  double p00 = p00_, p01 = p01_, p11 = p11_;
  if (!stand) predict_covariance(p00, p01, p11, dt, q);
  if (!stand && stopped_since_ && motion_.known(t)) {
    // Pulling away, seen only once the speed along the route has grown: the bus has been
    // speeding up from rest for some seconds, and covered about v^2 / 2a meanwhile.
    const double va = std::max(0.0, motion_.along_speed_mps());
    const double covered = va * va / (2 * cfg_.typical_accel_mps2);
    s = s_ + covered;
    v = va;
    p00 += covered * covered / 4;
    p01 = 0;
    p11 = cfg_.speed_error_mps * cfg_.speed_error_mps;
  }
  double along_speed = 0;
  if (speed && !stand) {
    // Doppler speed along the shape: the component along the matched segment when the course is
    // known; at a crawl (where the course is not checked against the shape) the motion
    // detector's, against the route's directions here and just ahead.
    along_speed = *speed;
    if (heading)
      along_speed *= std::clamp(
          geo_->direction(m.segment).x * heading->x + geo_->direction(m.segment).y * heading->y,
          0.0, 1.0);
    else if (fix.track_deg)
      along_speed = std::clamp(motion_.along_speed_mps(), 0.0, *speed);
    const double y = along_speed - v;
    const Gains k = measure_rate(p00, p01, p11, cfg_.speed_error_mps * cfg_.speed_error_mps);
    s += k.k0 * y;
    v += k.k1 * y;
  }
  // The receiver's scatter, learnt from the fixes; eph only says how much worse this one is.
  const auto fix_eph = fix.horizontal_error_m();
  const double sigma = noise_.sigma_m(fix_eph);
  const double lat = m.offset / std::max(cfg_.lateral_soft_m, 2 * noise_.sigma_m());
  const double r_s = sigma * sigma * (1 + lat * lat);
  const double innovation = m.along - s;
  const double spread = std::sqrt(p00 + r_s);
  if (std::abs(innovation) > cfg_.along_gate_m + 3 * spread) return;  // a jump no bus makes
  noise_.on_fix(m.offset, fix_eph);

  if (stand) {
    // The fixes only tell where it stands: their mean, which wander does not creep forward.
    // Just halted: the braking since the last fix was not seen, so where it halted is as
    // uncertain as the distance it covered meanwhile (0.2 Hz: the filter ran on past the halt).
    double p = std::max(p00, kStandMinVarM2);
    if (!stopped_since_) p += 0.25 * v_ * v_ * dt * dt;
    const double k = p / (p + r_s);
    s += k * std::clamp(innovation, -3 * spread, 3 * spread);
    p00 = p - k * p;
    p01 = 0;
    p11 = cfg_.speed_error_mps * cfg_.speed_error_mps;
  } else {
    const double y = std::clamp(innovation, -3 * spread, 3 * spread);
    const Gains k = measure_value(p00, p01, p11, r_s);
    s += k.k0 * y;
    v += k.k1 * y;
  }
  v = std::clamp(v, 0.0, cfg_.max_speed_mps);
  if (!speed && v <= cfg_.stopped_speed_mps && std::abs(innovation) < std::max(10.0, 2 * sigma))
    s = s_;  // no Doppler: a dead band while the estimated speed is ~0
  // The estimate may go back a little (progress never); a bus found standing, as far as the
  // filter may have run on past its unseen halt.
  const double back =
      stand ? std::max(cfg_.backward_tolerance_m, cfg_.standing_back_m) : cfg_.backward_tolerance_m;
  s = std::clamp(s, std::max(0.0, progress_ - back), length_m());

  if (speed)
    update_acceleration(along_speed, t);
  else if (dt > 0)
    a_ += dt / (cfg_.accel_time_constant_s + dt) * ((v - v_) / dt - a_);
  s_ = s;
  v_ = v;
  p00_ = p00;
  p01_ = p01;
  p11_ = p11;
  progress_ = std::max(progress_, s_);
  t_accepted_ = t;
  last_dt_ = dt;
  if (!stand) dr_.learn_speed(v_);
  if (standing(t)) {
    if (!stopped_since_) stopped_since_ = t;
  } else {
    stopped_since_.reset();
  }
  run_stops(t, out);
}

void Tracker::update_acceleration(double doppler_along_mps, Time t) {
  // Constant acceleration driven by white jerk noise; the Doppler speed is the measurement.
  const double r = cfg_.speed_error_mps * cfg_.speed_error_mps;
  const double dt =
      seconds_between(t, t_accel_);  // since its last Doppler speed, fixes without between
  t_accel_ = t;
  if (!accel_active_ || dt > lost_timeout_s()) {  // (re)started: nothing known of it
    accel_active_ = true;
    dv_ = doppler_along_mps;
    a_ = 0;
    q00_ = r;
    q01_ = 0;
    q11_ = 1.0;  // a bus's acceleration: within about +-1 m/s^2
    return;
  }
  dv_ += a_ * dt;
  predict_covariance(q00_, q01_, q11_, dt, cfg_.accel_jerk_noise);
  const double y = doppler_along_mps - dv_;
  const Gains k = measure_value(q00_, q01_, q11_, r);
  dv_ += k.k0 * y;
  a_ += k.k1 * y;
}

}  // namespace stopcall::tracking
