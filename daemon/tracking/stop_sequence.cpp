// The tracker's stop sequence: from the bus's place along the trip (tracker.cpp) to the stop
// events a rider hears -- "next stop", "arriving", arrived, departed, passed -- in order, each
// once; close stops said together; "arriving" predicted through a missing fix.
#include <algorithm>
#include <cmath>

#include "daemon/tracking/tracker.hpp"

namespace stopcall::tracking {

namespace {
constexpr double kOverdueIntervals = 1.5;  // a fix is overdue this many intervals after the last
}  // namespace

void Tracker::approach_if_fix_overdue(Time now, std::vector<StopEvent>& out) {
  // No fix has moved the bus for longer than the fix interval (the first seconds of an outage, a
  // dropped fix, a burst of implausible fixes): predict, as while degraded, so that the approach
  // is not missed while waiting for the lost timeout. (Not between fixes that are on time: a
  // sparse receiver's bus may start braking for a red light unseen.)
  if (state_ != TrackerState::tracking) return;
  const double since_accepted = seconds_between(now, t_accepted_);
  if (since_accepted <= kOverdueIntervals * fix_interval_s_) return;
  approach_by_prediction(
      now, std::sqrt(p00_) + cfg_.dead_reckoning_speed_error_mps * since_accepted, out);
}

void Tracker::approach_by_prediction(Time now, double uncertainty, std::vector<StopEvent>& out) {
  // An `approaching` for a stop the bus certainly has not reached yet. Never for a stop it may
  // already have passed.
  if (phase_ != Phase::en_route || !next_said_ || approach_said_) return;
  double s = dead_reckoned(now);
  double v = v_;
  // A fix or two missing, or fixes that come but are not believed (a multipath burst), leave the
  // bus's last speed and braking as the best guess: it goes on braking as it did, and is judged
  // as on a fix. (Once the GPS is taken to be lost, dead_reckon() judges instead.)
  if (a_ < 0 && v_ > 0) {
    const double dt = std::min(std::max(0.0, seconds_between(now, t_accepted_)), v_ / -a_);
    v = v_ + a_ * dt;
    s = std::max(progress_, std::min(s, s_ + v_ * dt + 0.5 * a_ * dt * dt));
  }
  if (s + uncertainty < stop_d_[target_] - cfg_.arrival_radius_m && approach_due(target_, s, v))
    announce(out, StopEvent::Type::approaching, now);
}

bool Tracker::approach_due(int stop, double s, double v, bool stood) const {
  const double r = stop_d_[stop] - s;
  if (r <= cfg_.approach_min_distance_m) return true;
  if (r > cfg_.approach_max_distance_m) return false;
  // Standing close short of the stop (a red light, a queue): the bus is there within seconds of
  // moving on, however long it waits (and waiting is not early).
  if (stood) return r <= cfg_.approach_standing_m;
  if (v <= cfg_.stopped_speed_mps) return false;
  // Pulling away from rest close to the stop (a red light short of it, a queue): such a bus
  // gets there within seconds, sooner than its lagging acceleration estimate says, so it is taken
  // to speed up briskly and only the last chance counts. Creeping or coming to a halt: only the
  // minimum distance.
  const bool pulling_away = v < cfg_.approach_slow_speed_mps;
  if (pulling_away && a_ <= cfg_.braking_decel_min_mps2) return false;
  // When would the bus be there driving on (accelerating, e.g. away from a red light, sooner)?
  const double speeding_up = std::min(a_, cfg_.max_accel_mps2);
  const double accel =
      pulling_away ? std::max(speeding_up, cfg_.pull_away_accel_mps2) : std::max(0.0, speeding_up);
  auto time_to_stop = [&](double accel_mps2) {
    return accel_mps2 > 1e-3 ? (std::sqrt(v * v + 2 * accel_mps2 * r) - v) / accel_mps2 : r / v;
  };
  // The last chance for a bus driving through the stop: the next fix would come too late. A bus
  // crawling (a slow stretch, a curve) may speed up at any moment before that fix comes.
  const double chance_accel =
      v < cfg_.crawl_speed_mps ? std::max(accel, cfg_.crawl_accel_mps2) : accel;
  const bool last_chance = time_to_stop(chance_accel) - fix_interval_s_ < cfg_.approach_lead_min_s;
  if (pulling_away) return last_chance;
  const double decel = -a_;
  if (decel <= cfg_.braking_decel_min_mps2) {
    // Not braking yet. A bus halting at the stop will brake first, and until it does a red light
    // short of the stop cannot be told from the stop itself: only the last chance counts.
    return last_chance;
  }
  // Braking: where will the bus halt? Well short of the stop (a red light, a queue, farther than
  // approach_standing_m) is not "arriving". The deceleration estimate is smoothed and lags for the
  // first seconds of braking, so the bus is taken to brake at least as hard as a bus halting
  // normally does.
  const double b = std::max(decel, cfg_.halting_decel_mps2);
  const double halt = v * v / (2 * b);
  // Held only while the next fix would still come in time should the bus drive on and halt at
  // the stop after all, braking as late as a bus does.
  const double late_braking = v * v / (2 * cfg_.halting_decel_mps2);
  const double to_stop_s = std::max(0.0, r - late_braking) / v + v / cfg_.halting_decel_mps2;
  if (halt < r - std::max(cfg_.halt_short_m, cfg_.approach_standing_m) &&
      to_stop_s - fix_interval_s_ >= cfg_.approach_lead_min_s)
    return false;
  const double disc = v * v - 2 * b * r;
  const double eta = disc > 0 ? (v - std::sqrt(disc)) / b : v / b;
  return eta <= cfg_.approach_lead_s || last_chance;
}

void Tracker::run_stops(Time t, std::vector<StopEvent>& out) {
  using T = StopEvent::Type;
  const int n = static_cast<int>(stop_d_.size());
  const double s = progress_;
  const bool stopped = standing(t);
  const bool motion_known = motion_.known(t);
  const bool dwelled = stopped && stopped_since_ &&
                       (seconds_between(t, *stopped_since_) >= cfg_.arrival_dwell_s ||
                        last_dt_ > 2 * cfg_.arrival_dwell_s);
  while (state_ != TrackerState::ended) {
    const int k = target_;
    const double d = stop_d_[k];
    const double d_last = stop_d_[halt_end_[k]];  // the halt's last stop (d itself, mostly)
    if (phase_ == Phase::at_stop) {
      // Departed: moving along the route (never by position wander alone) and clear of the halt;
      // by the vehicle's own speed signal (the doors closed) at once.
      const bool vehicle_moving =
          motion_.source(t) == MotionDetector::Source::vehicle && motion_.moving(t);
      // A stop close ahead (another halt within close_stop_m): moving on is leaving this one,
      // however short the hop, and "arriving" for it is said at the first sign of moving off
      // (a hop of a few metres may never look like a departure).
      const int ahead = halt_end_[k] + 1;
      const bool close_ahead = close_to_previous(ahead);
      if (close_ahead && !approach_ahead_said_ && motion_.going()) {
        approach_ahead_said_ = true;
        emit(out, T::approaching, t, ahead);
        out.back().with_previous = true;
      }
      const double clear = close_ahead ? 0.0 : cfg_.departure_moving_m;
      if (!vehicle_moving &&
          (motion_known ? stopped || s < d_last + clear : s < d_last + cfg_.departure_distance_m))
        return;
      emit(out, T::departed, t, k);
      if (!leave_halt(k, t, out)) return;
      continue;
    }
    // Passed: beyond the halt's reach; a standing bus where its fixes place it (the progress may
    // have run on past its unseen halt).
    if ((stopped && motion_known ? std::min(s, s_) : s) > d_last + cfg_.arrival_radius_m) {
      if (!pass(k, t, out)) return;
      continue;
    }
    if (!next_said_) {
      if (s >= d_last && !stopped) {
        // Already beyond the halt and moving on (the halt before was left late, or is close).
        if (!pass(k, t, out)) return;
        continue;
      }
      announce(out, T::next_stop, t);
    }
    // A stop close ahead of this halt (another name, within close_stop_m): a bus braking to halt
    // nearer to it than to this one halts there -- "arriving" for it now -- and a bus standing
    // nearer to it stands there: this one is passed.
    const int ahead = halt_end_[k] + 1;
    if (close_to_previous(ahead) && approach_said_) {
      const double middle = 0.5 * (d_last + stop_d_[ahead]);
      const double b = std::max(-a_, cfg_.halting_decel_mps2);
      // (Judged only from close to this stop on: farther out, the first seconds of braking for
      // it look like braking for a halt beyond.)
      const bool halting_there = !stopped && s >= d_last - cfg_.approach_min_distance_m &&
                                 a_ < -cfg_.braking_decel_min_mps2 &&
                                 s + v_ * v_ / (2 * b) >= middle;
      if (!approach_ahead_said_ && (halting_there || (dwelled && s_ >= middle))) {
        approach_ahead_said_ = true;
        emit(out, T::approaching, t, ahead);
        out.back().with_previous = true;
      }
      if (dwelled && s_ >= middle) {
        if (!pass(k, t, out)) return;
        continue;
      }
    }
    // Standing short of the stop counts as arriving only as close as `approaching` is always due:
    // farther out the bus may be waiting at a red light short of the stop.
    if (s >= d - std::min(cfg_.arrival_radius_m, cfg_.approach_min_distance_m) && dwelled) {
      if (!approach_said_) announce(out, T::approaching, t);  // late, but the rider must hear it
      emit(out, T::arrived, t, k);
      if (halt_end_[k] == n - 1) {
        // The terminus (or a halt the terminus shares): the trip ends here.
        for (int j = k + 1; j < n; ++j)
          emit(out, T::passed, t, j);
        state_ = TrackerState::ended;
        emit(out, T::trip_ended, t, n - 1);
        return;
      }
      phase_ = Phase::at_stop;
      return;
    }
    // A stop close after the one just left: "arriving" as the bus leaves that one.
    if (!approach_said_ && (close_to_previous(k) || approach_due(k, s, v_, dwelled)))
      announce(out, T::approaching, t);
    return;
  }
}

bool Tracker::leave_halt(int k, Time t, std::vector<StopEvent>& out) {
  const int n = static_cast<int>(stop_d_.size());
  const int last = halt_end_[k];
  for (int j = k + 1; j <= last; ++j)
    emit(out, StopEvent::Type::passed, t, j);
  if (last == n - 1) {
    state_ = TrackerState::ended;
    emit(out, StopEvent::Type::trip_ended, t, last);
    return false;
  }
  target_ = last + 1;
  phase_ = Phase::en_route;
  next_said_ = said_with_previous_[target_];
  approach_said_ = approach_ahead_said_;
  approach_ahead_said_ = false;
  return true;
}

bool Tracker::pass(int k, Time t, std::vector<StopEvent>& out) {
  emit(out, StopEvent::Type::passed, t, k);
  return leave_halt(k, t, out);
}

void Tracker::announce(std::vector<StopEvent>& out, StopEvent::Type type, Time t) {
  const bool next = type == StopEvent::Type::next_stop;
  (next ? next_said_ : approach_said_) = true;
  emit(out, type, t, target_);
  // "Next stop" for a stop close after this halt is said with it: the bus reaches it seconds
  // after leaving this one. ("Arriving" for it comes as the bus leaves this one.)
  const int j = halt_end_[target_] + 1;
  if (!next || !close_to_previous(j)) return;
  said_with_previous_[j] = true;
  emit(out, type, t, j);
  out.back().with_previous = true;
}

bool Tracker::close_to_previous(int stop) const {
  return stop > 0 && stop < static_cast<int>(stop_d_.size()) &&
         stop_d_[stop] - stop_d_[stop - 1] < cfg_.close_stop_m;
}

}  // namespace stopcall::tracking
