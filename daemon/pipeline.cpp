#include "daemon/pipeline.hpp"

#include <algorithm>
#include <cmath>
#include <map>

#include "routes/problem.hpp"

namespace stopcall::daemon {

using tracking::StopEvent;

Pipeline::Pipeline(const routes::Bundle& bundle, PipelineOptions options)
    : bundle_(bundle), options_(std::move(options)), clock_(bundle.timezone()) {
  const auto& saved = options_.resume;
  const bool resumable = saved && saved->event != StopEvent::Type::trip_ended &&
                         (options_.trip_id.empty() || options_.trip_id == saved->trip_id);
  if (!options_.trip_id.empty()) {
    start_trip(options_.trip_id);
    resuming_ = resumable;
  } else if (resumable) {
    try {
      start_trip(saved->trip_id);
      resuming_ = true;
    } catch (const routes::RouteError&) {
      // Not in this bundle (a new one was installed meanwhile): detect the trip afresh.
    }
  }
}

const routes::Trip* Pipeline::trip() const {
  if (tracker_) return &trip_;
  return detector_ ? detector_->provisional_trip() : nullptr;
}

const tracking::Tracker* Pipeline::tracker() const {
  if (tracker_) return tracker_.get();
  return detector_ ? detector_->provisional_tracker() : nullptr;
}

double seconds_to_cover(double distance_m, double speed_mps, double accel_mps2, double cruise_mps) {
  if (distance_m <= 0) return 0;
  const double v = std::max(speed_mps, 0.0);
  const double c = std::max(v, cruise_mps);
  if (accel_mps2 <= 0 || c <= v) return c > 0 ? distance_m / c : 0;
  const double t_accel = (c - v) / accel_mps2;
  const double d_accel = v * t_accel + accel_mps2 * t_accel * t_accel / 2;
  if (distance_m <= d_accel)
    return (std::sqrt(v * v + 2 * accel_mps2 * distance_m) - v) / accel_mps2;
  return t_accel + (distance_m - d_accel) / c;
}

std::optional<std::chrono::milliseconds> Pipeline::time_to_stop(const StopEvent& event) const {
  const tracking::Tracker* t = tracker();
  if (!t || !event.stop_index) return std::nullopt;
  int stop = *event.stop_index;
  if (event.with_previous && event.type == StopEvent::Type::next_stop && stop > 0) --stop;
  const auto& stops = t->stop_distances_m();
  if (stop < 0 || static_cast<std::size_t>(stop) >= stops.size()) return std::nullopt;
  const double s =
      seconds_to_cover(stops[static_cast<std::size_t>(stop)] - t->progress_m(), t->speed_mps(),
                       t->config().typical_accel_mps2, options_.eta_cruise_mps);
  return std::chrono::milliseconds{static_cast<long>(s * 1000)};
}

std::optional<std::chrono::milliseconds> Pipeline::time_to_say(const StopEvent& event) const {
  const bool next = event.type == StopEvent::Type::next_stop;
  if (!next && event.type != StopEvent::Type::approaching) return std::nullopt;
  const tracking::Tracker* t = tracker();
  if (!t || !event.stop_index) return std::nullopt;
  int stop = *event.stop_index;
  if (event.with_previous && next && stop > 0) --stop;
  const auto& stops = t->stop_distances_m();
  if (stop < 0 || static_cast<std::size_t>(stop) >= stops.size()) return std::nullopt;
  const auto& cfg = t->config();
  const double v = std::max(t->speed_mps(), 0.0);
  // The tracker's own prediction for its last chance to say `approaching` (Tracker::approach_due):
  // the bus going on speeding up as hard as it now does (up to max_accel_mps2; a crawling bus at
  // least crawl_accel_mps2, one pulling away pull_away_accel_mps2), at no speed limit.
  double accel = std::clamp(t->acceleration_mps2(), 0.0, cfg.max_accel_mps2);
  if (v < cfg.crawl_speed_mps) accel = std::max(accel, cfg.crawl_accel_mps2);
  if (v < cfg.approach_slow_speed_mps) accel = std::max(accel, cfg.pull_away_accel_mps2);
  auto soonest = [&](double distance_m) {
    return distance_m <= 0 ? 0.0 : (std::sqrt(v * v + 2 * accel * distance_m) - v) / accel;
  };
  auto typical = [&](double distance_m) {
    return seconds_to_cover(distance_m, v, cfg.typical_accel_mps2, options_.eta_cruise_mps);
  };
  const double distance = stops[static_cast<std::size_t>(stop)] - t->progress_m();
  double s = 0;
  if (next) {
    // `approaching` comes approach_lead_s before the bus is there, or on the last fix that would
    // come with approach_lead_min_s left by the tracker's own prediction: with fixes 5 s apart,
    // 10 s before the bus would be there speeding up as it does.
    s = std::min(typical(distance) - cfg.approach_lead_s,
                 soonest(distance) - t->fix_interval_s() - cfg.approach_lead_min_s);
  } else {
    // "Arriving at X" holds until the bus leaves X: departed after halting there, or passed,
    // beyond arrival_radius_m. Whether it halts is unknown in advance: taken to drive through.
    const double beyond = distance + cfg.arrival_radius_m;
    s = std::min(typical(beyond), soonest(beyond));
  }
  return std::chrono::milliseconds{static_cast<long>(std::max(s, 0.0) * 1000)};
}

std::chrono::milliseconds Pipeline::approach_lead() const {
  return std::chrono::milliseconds{static_cast<long>(options_.tracker.approach_lead_s * 1000)};
}

void Pipeline::start_trip(const std::string& trip_id) {
  trip_ = bundle_.load_trip(trip_id);
  tracker_ = std::make_unique<tracking::Tracker>(trip_, options_.tracker);
  tracker_->on_vehicle(vehicle_);  // the doors and speed as last said
  ++trips_started_;
}

void Pipeline::login(const std::string& trip_id) {
  auto trip = bundle_.load_trip(trip_id);  // throws before anything changes
  trip_ = std::move(trip);
  tracker_ = std::make_unique<tracking::Tracker>(trip_, options_.tracker);
  tracker_->on_vehicle(vehicle_);
  ++trips_started_;
  detector_.reset();
  detection_fixes_.clear();
}

void Pipeline::start_detection(const tracking::Fix& fix) {
  // Candidates: trips running now (on today's timetable, or yesterday's past midnight) that
  // serve a stop near the bus. One hypothesis per pattern.
  auto today = clock_.at(fix.time);
  auto yesterday = clock_.day_before(fix.time);
  routes::Bundle::NearPoint near{*fix.position, options_.candidates_radius_m};
  std::vector<routes::TripCandidate> trips;
  if (valid_today_) {
    trips = bundle_.candidate_trips(today.date, today.seconds, 1800, near);
    for (auto& t : bundle_.candidate_trips(yesterday.date, yesterday.seconds, 1800, near)) {
      t.first_departure_s -= 24 * 3600;  // on today's clock
      t.last_arrival_s -= 24 * 3600;
      trips.push_back(std::move(t));
    }
  } else {
    // No service today at all: the route data is out of date (or not yet valid). The bus must
    // still announce: every pattern near is a candidate whatever its dates, the timetable only
    // ranks them.
    trips = bundle_.trips_near(near);
  }
  std::map<long, tracking::PatternCandidate> by_pattern;
  for (auto& t : trips) {
    auto& c = by_pattern[t.pattern_id];
    if (c.trips.empty()) c.representative = bundle_.load_trip(t.trip_id);
    c.trips.push_back(std::move(t));
  }
  std::vector<tracking::PatternCandidate> candidates;
  for (auto& [id, c] : by_pattern)
    candidates.push_back(std::move(c));
  auto detect = options_.auto_detect;
  detect.timetable_valid = detect.timetable_valid && valid_today_;
  detector_ =
      std::make_unique<tracking::AutoDetector>(std::move(candidates), detect, options_.tracker);
  detector_->on_vehicle(vehicle_);
  detection_fixes_.clear();
  fixes_since_detection_start_ = 0;
}

void Pipeline::check_validity(const tracking::Fix& fix, std::vector<StopEvent>& out) {
  // Once per start, on the first fix with a time: does the route data run today (or yesterday,
  // past midnight)? A given or logged-in trip is tracked either way; the fault is said.
  validity_checked_ = true;
  const std::string date = clock_.at(fix.time).date;
  valid_today_ =
      bundle_.has_service_on(date) || bundle_.has_service_on(clock_.day_before(fix.time).date);
  if (valid_today_) return;
  auto iso = [](const std::string& d) {
    return d.substr(0, 4) + "-" + d.substr(4, 2) + "-" + d.substr(6, 2);
  };
  StopEvent e;
  e.type = StopEvent::Type::route_data_not_valid;
  e.time = fix.time;
  e.note = "route data has no service today (" + iso(date) + ")";
  if (auto period = bundle_.service_period()) {
    if (date > period->last_date)
      e.note = "route data not valid today (service ends " + iso(period->last_date) + ")";
    else if (date < period->first_date)
      e.note = "route data not valid today (service starts " + iso(period->first_date) + ")";
  }
  out.push_back(std::move(e));
}

void Pipeline::on_vehicle(const tracking::VehicleMotion& vehicle) {
  if (vehicle.speed_mps) vehicle_.speed_mps = vehicle.speed_mps, vehicle_.time = vehicle.time;
  if (vehicle.doors_open) vehicle_.doors_open = vehicle.doors_open;
  if (tracker_) tracker_->on_vehicle(vehicle);
  if (detector_) detector_->on_vehicle(vehicle);
}

void Pipeline::on_fix(const tracking::Fix& received, std::vector<StopEvent>& out) {
  tracking::Fix fix = received;  // its time on the bus's timeline (after a receiver's clock jump)
  if (!time_filter_.take(fix)) return;
  if (!validity_checked_ && fix.usable()) check_validity(fix, out);
  if (resuming_ && !resume_checked_ && fix.usable()) {
    resume_checked_ = true;
    const double age_s = std::chrono::duration<double>(fix.time - options_.resume->time).count();
    if (age_s > options_.resume_max_age_s || age_s < -60) {
      // Stale (yesterday's trip, a clock jump): start as if nothing had been saved.
      resuming_ = false;
      if (options_.trip_id.empty()) tracker_.reset();
    }
  }
  if (!tracker_) {
    if (!detector_ && !fix.usable()) return;
    if (fix.usable() &&
        (!detector_ || (detector_->alive() == 0 &&
                        ++fixes_since_detection_start_ > options_.retry_detection_after_fixes))) {
      start_detection(fix);
    }
    detection_fixes_.push_back(fix);
    detector_->on_fix(fix, clock_.at(fix.time).seconds, out);
    if (auto found = detector_->detection()) detected(*found, fix, out);
    return;
  }
  std::size_t first = out.size();
  tracker_->on_fix(fix, out);
  if (resuming_) filter_resumed(out, first);
  after_events(out, first);
}

void Pipeline::detected(const tracking::Detection& found, const tracking::Fix& fix,
                        std::vector<StopEvent>& out) {
  const std::string said_next = detector_->said_next_stop();
  const std::string said_approaching = detector_->said_approaching();
  start_trip(found.trip_id);
  detector_.reset();
  // Catch up silently: the tracker learns where the bus is and which stops are behind it. What
  // the candidates agreed on was said already; nothing else is said now, late.
  std::vector<StopEvent> silent;
  for (const auto& f : detection_fixes_)
    tracker_->on_fix(f, silent);
  detection_fixes_.clear();
  StopEvent detected;
  detected.type = StopEvent::Type::trip_detected;
  detected.time = fix.time;
  detected.trip_id = trip_.id;
  detected.distance_m = tracker_->progress_m();
  out.push_back(std::move(detected));
  // The stop the bus is heading for is still ahead: what the trip would have said of it and was
  // not said yet is said now rather than not at all -- only that stop, each event at most once,
  // in the usual order.
  const auto a = tracker_->announced();
  if (a.stop < 0) return;
  const std::string& id = trip_.stops[static_cast<std::size_t>(a.stop)].stop.id;
  auto say = [&](StopEvent::Type type) {
    StopEvent e;
    e.type = type;
    e.time = fix.time;
    e.trip_id = trip_.id;
    e.stop_id = id;
    e.stop_sequence = trip_.stops[static_cast<std::size_t>(a.stop)].stop_sequence;
    e.stop_index = a.stop;
    e.distance_m = tracker_->progress_m();
    out.push_back(std::move(e));
  };
  const bool next_said = said_next == id;
  if (a.next && !next_said) say(StopEvent::Type::next_stop);
  if (a.approaching && !(next_said && said_approaching == id)) say(StopEvent::Type::approaching);
}

void Pipeline::on_tick(tracking::Time now, std::vector<StopEvent>& out) {
  if (!tracker_) {
    if (detector_) detector_->on_tick(now, out);
    return;
  }
  std::size_t first = out.size();
  tracker_->on_tick(now, out);
  if (resuming_) filter_resumed(out, first);
  after_events(out, first);
}

namespace {

// How far along a stop an event is: said "next stop", said "arriving", reached, left.
int stage(StopEvent::Type type) {
  switch (type) {
    case StopEvent::Type::next_stop:
      return 1;
    case StopEvent::Type::approaching:
      return 2;
    case StopEvent::Type::arrived:
    case StopEvent::Type::passed:
      return 3;
    case StopEvent::Type::departed:
      return 4;
    default:
      return 0;
  }
}

}  // namespace

void Pipeline::filter_resumed(std::vector<StopEvent>& out, std::size_t first) {
  // The tracker joins the trip where the bus is and reports the stops behind it; everything up to
  // and including what was saved was already said before the restart and is dropped. The first
  // event beyond it ends the resumption: from there on every event counts.
  const auto& saved = *options_.resume;
  const int saved_stage = stage(saved.event);
  std::vector<StopEvent> kept(out.begin(), out.begin() + static_cast<long>(first));
  for (auto& e : std::vector<StopEvent>(out.begin() + static_cast<long>(first), out.end())) {
    if (!resuming_) {
      kept.push_back(std::move(e));
      continue;
    }
    if (e.type == StopEvent::Type::trip_started) {
      e.type = StopEvent::Type::trip_resumed;
      e.stop_id.reset();
      e.stop_sequence.reset();
      e.stop_index.reset();
      kept.push_back(std::move(e));
      continue;
    }
    const int s = stage(e.type);
    if (s > 0 && e.stop_index) {
      const bool said = *e.stop_index < saved.stop_index ||
                        (*e.stop_index == saved.stop_index && s <= saved_stage);
      if (said) continue;
      resuming_ = false;
    } else if (e.type == StopEvent::Type::trip_ended) {
      resuming_ = false;
    }
    kept.push_back(std::move(e));
  }
  out = std::move(kept);
}

void Pipeline::after_events(std::vector<StopEvent>& out, std::size_t first) {
  bool ended =
      std::any_of(out.begin() + static_cast<long>(first), out.end(),
                  [](const StopEvent& e) { return e.type == StopEvent::Type::trip_ended; });
  if (!ended) return;
  auto next = options_.follow_block ? bundle_.next_trip_in_block(trip_.id) : std::string();
  if (!next.empty()) {
    start_trip(next);
  } else if (options_.trip_id.empty()) {
    tracker_.reset();  // auto mode: find the next trip from the fixes again
    detector_.reset();
  }
}

}  // namespace stopcall::daemon
