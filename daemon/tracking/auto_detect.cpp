#include "daemon/tracking/auto_detect.hpp"

#include <algorithm>
#include <cmath>
#include <deque>
#include <limits>
#include <utility>

#include "daemon/tracking/trip_line.hpp"

namespace stopcall::tracking {

namespace geo = routes::geo;

struct AutoDetector::Hypothesis {
  PatternCandidate pattern;
  geo::Polyline line;
  std::vector<std::string> stop_ids;
  std::unique_ptr<Tracker> tracker;
  bool alive = true;
  int fixes = 0, misses = 0;
  int against = 0;          // moving fixes in a row against the pattern's direction
  double first_along = -1;  // progress when its tracker first found the bus
  std::deque<std::pair<Time, double>> laterals;  // distance from its shape, the last window_s
  double median_lateral = 0;                     // of those, once they span the window
  bool judged = false;                           // median_lateral is meaningful
};

AutoDetector::AutoDetector(std::vector<PatternCandidate> candidates, AutoDetectConfig config,
                           TrackerConfig tracker)
    : config_(config) {
  for (auto& c : candidates) {
    auto h = std::make_unique<Hypothesis>();
    try {
      h->tracker = std::make_unique<Tracker>(c.representative, tracker);
    } catch (const std::invalid_argument&) {
      continue;  // a trip that cannot be followed (no stops, no length) is no candidate
    }
    h->line = TripLine(c.representative).line;
    for (const auto& s : c.representative.stops)
      h->stop_ids.push_back(s.stop.id);
    h->pattern = std::move(c);
    hypotheses_.push_back(std::move(h));
  }
}

AutoDetector::~AutoDetector() = default;
AutoDetector::AutoDetector(AutoDetector&&) noexcept = default;
AutoDetector& AutoDetector::operator=(AutoDetector&&) noexcept = default;

int AutoDetector::alive() const {
  return static_cast<int>(std::count_if(hypotheses_.begin(), hypotheses_.end(),
                                        [](const auto& h) { return h->alive; }));
}

AutoDetector::Hypothesis* AutoDetector::provisional() {
  return const_cast<Hypothesis*>(std::as_const(*this).provisional());
}

const AutoDetector::Hypothesis* AutoDetector::provisional() const {
  // The one whose announcements were last agreed on (the punctual one where the timetable told
  // them apart), so that the trip the events name is the trip the bus shows and speaks.
  if (preferred_ && preferred_->alive) return preferred_;
  for (const auto& h : hypotheses_)
    if (h->alive) return h.get();
  return nullptr;
}

const routes::Trip* AutoDetector::provisional_trip() const {
  const auto* h = provisional();
  return h ? &h->pattern.representative : nullptr;
}

const Tracker* AutoDetector::provisional_tracker() const {
  const auto* h = provisional();
  return h ? h->tracker.get() : nullptr;
}

void AutoDetector::on_fix(const Fix& fix, int service_seconds, std::vector<StopEvent>& out) {
  if (detection_) return;
  bool any_found = false;
  for (auto& h : hypotheses_) {
    if (!h->alive) continue;
    scratch_.clear();
    h->tracker->on_fix(fix, scratch_);  // silent: only what all agree on is said
    if (fix.usable()) judge(*h, fix);
    any_found = any_found || (h->alive && h->first_along >= 0);
  }
  // A pattern whose shape the bus was never found on while another's it was: not this one.
  // Nor one the bus keeps well away from while it keeps close to another's (a parallel street,
  // a side street where the other route has its stop): judged on the median over a window, so
  // that a multipath burst or wander at a standstill decides nothing.
  double best = std::numeric_limits<double>::infinity();
  for (auto& h : hypotheses_) {
    if (h->alive && any_found && h->first_along < 0 && h->fixes >= config_.acquire_fixes)
      h->alive = false;
    if (h->alive && h->judged) best = std::min(best, h->median_lateral);
  }
  for (auto& h : hypotheses_) {
    if (h->alive && h->judged &&
        h->median_lateral > std::max(config_.far_lateral_m, config_.far_ratio * best + 5))
      h->alive = false;
  }
  if (fix.usable()) service_seconds_ = service_seconds;
  agree(fix.time, out);
  if (fix.usable()) decide(service_seconds);
}

void AutoDetector::on_tick(Time now, std::vector<StopEvent>& out) {
  if (detection_) return;
  for (auto& h : hypotheses_) {
    if (!h->alive) continue;
    scratch_.clear();
    h->tracker->on_tick(now, scratch_);
  }
  agree(now, out);
}

void AutoDetector::on_vehicle(const VehicleMotion& vehicle) {
  for (auto& h : hypotheses_)
    h->tracker->on_vehicle(vehicle);
}

void AutoDetector::judge(Hypothesis& h, const Fix& fix) {
  const Tracker& tr = *h.tracker;
  ++h.fixes;
  if (tr.state() == TrackerState::off_route || tr.state() == TrackerState::ended) {
    h.alive = false;  // off its route, or at its end while the bus goes on
    return;
  }
  if (tr.state() != TrackerState::waiting && h.first_along < 0) h.first_along = tr.progress_m();
  if (tr.lateral_m() > config_.max_lateral_m) ++h.misses;
  if (h.first_along >= 0 && std::isfinite(tr.lateral_m())) {
    h.laterals.emplace_back(fix.time, tr.lateral_m());
    while (std::chrono::duration<double>(fix.time - h.laterals.front().first).count() >
           config_.window_s)
      h.laterals.pop_front();
    const double span =
        std::chrono::duration<double>(h.laterals.back().first - h.laterals.front().first).count();
    h.judged = span >= config_.window_s * 2 / 3 && h.laterals.size() >= 5;
    if (h.judged) {
      std::vector<double> v;
      for (const auto& [t, d] : h.laterals)
        v.push_back(d);
      std::nth_element(v.begin(), v.begin() + static_cast<long>(v.size() / 2), v.end());
      h.median_lateral = v[v.size() / 2];
    }
  }
  if (h.fixes >= config_.min_fixes &&
      h.misses > config_.max_miss_share * static_cast<double>(h.fixes)) {
    h.alive = false;
    return;
  }
  // Driving against the pattern's direction (the other direction on the same street): the
  // course over ground says so within seconds, where positions alone take a long stretch.
  if (h.first_along < 0 || !fix.track_deg || !fix.speed_mps ||
      *fix.speed_mps < config_.against_min_speed_mps || h.line.points.size() < 2) {
    return;
  }
  const double d = tr.progress_m();
  auto it = std::upper_bound(h.line.along.begin(), h.line.along.end(), d);
  std::size_t i =
      it == h.line.along.begin() ? 0 : static_cast<std::size_t>(it - h.line.along.begin() - 1);
  i = std::min(i, h.line.points.size() - 2);
  const geo::XY& a = h.line.points[i];
  const geo::XY& b = h.line.points[i + 1];
  const double len = std::hypot(b.x - a.x, b.y - a.y);
  if (len <= 0) return;
  const double rad = *fix.track_deg * geo::kDegToRad;
  const double cos_diff = (std::sin(rad) * (b.x - a.x) + std::cos(rad) * (b.y - a.y)) / len;
  if (cos_diff < std::cos(config_.against_course_deg * geo::kDegToRad)) {
    if (++h.against >= config_.against_fixes) h.alive = false;
  } else {
    h.against = 0;
  }
}

void AutoDetector::agree(Time t, std::vector<StopEvent>& out) {
  const Hypothesis* lead = provisional();
  if (!lead) return;
  // The punctual ones, when the timetable tells them from the rest (see AutoDetectConfig).
  std::vector<const Hypothesis*> heard;
  for (const auto& h : hypotheses_)
    if (h->alive) heard.push_back(h.get());
  auto near_start = [&](const Hypothesis* h) {
    return h->tracker->progress_m() - h->tracker->stop_distances_m().front() <=
           config_.timetable_zone_m;
  };
  if (config_.timetable_valid && service_seconds_ && heard.size() > 1) {
    std::vector<double> gaps;
    for (const auto* h : heard)
      gaps.push_back(schedule_gap(*h, *service_seconds_));
    double best = std::numeric_limits<double>::infinity();
    for (double g : gaps)
      best = std::min(best, std::abs(g));
    bool apart = best <= config_.on_time_s;
    for (std::size_t i = 0; i < gaps.size(); ++i) {
      const double g = gaps[i];
      // (The punctual ones must be starting their trips: see timetable_zone_m.)
      if (std::abs(g) <= config_.on_time_s) {
        apart = apart && near_start(heard[i]);
        continue;
      }
      // The others must not be due yet: a bus runs late far more often than early, so one whose
      // trip left long ago may be this bus, late.
      apart = apart && g >= std::max(config_.off_time_s, config_.off_ratio * best);
    }
    if (apart) {
      std::vector<const Hypothesis*> punctual;
      for (std::size_t i = 0; i < heard.size(); ++i)
        if (std::abs(gaps[i]) <= config_.on_time_s) punctual.push_back(heard[i]);
      heard = std::move(punctual);
    }
  }
  preferred_ = heard.front();
  // Every hypothesis heard must have found the bus and be heading for the same stop.
  std::string stop_id;
  bool next = true, approaching = true;
  for (const auto* h : heard) {
    const auto a = h->tracker->announced();
    if (a.stop < 0 || !on_it(*h)) return;
    const std::string& id = h->stop_ids[static_cast<std::size_t>(a.stop)];
    if (stop_id.empty()) stop_id = id;
    if (id != stop_id) return;
    next = next && a.next;
    approaching = approaching && a.approaching;
  }
  lead = preferred_;
  const int index = lead->tracker->announced().stop;
  const auto& trip = lead->pattern.representative;
  auto say = [&](StopEvent::Type type) {
    StopEvent e;
    e.type = type;
    e.time = t;
    e.trip_id = trip.id;
    e.stop_id = stop_id;
    e.stop_sequence = trip.stops[static_cast<std::size_t>(index)].stop_sequence;
    e.stop_index = index;
    e.distance_m = lead->tracker->progress_m();
    e.uncertain = lead->tracker->state() == TrackerState::degraded;
    out.push_back(std::move(e));
  };
  if (next && said_next_ != stop_id) {
    said_next_ = stop_id;
    said_approaching_.clear();
    say(StopEvent::Type::next_stop);
  }
  if (approaching && said_next_ == stop_id && said_approaching_ != stop_id) {
    said_approaching_ = stop_id;
    say(StopEvent::Type::approaching);
  }
}

bool AutoDetector::on_it(const Hypothesis& h) const {
  // Found at its first stop, or seen driving along it: a pattern the bus merely stands on (the
  // end of another route at this terminus) or was placed on by a few fixes is no evidence yet.
  if (h.first_along < 0) return false;
  const Tracker& tr = *h.tracker;
  return h.first_along <= tr.stop_distances_m().front() + tr.config().start_zone_m ||
         tr.progress_m() - h.first_along >= config_.agree_travel_m;
}

double AutoDetector::schedule_gap(const Hypothesis& h, int service_seconds) const {
  const double length = h.line.length();
  const double share = length > 0 ? std::clamp(h.tracker->progress_m() / length, 0.0, 1.0) : 0;
  double gap = std::numeric_limits<double>::infinity();
  for (const auto& t : h.pattern.trips) {
    const double scheduled =
        t.first_departure_s + share * static_cast<double>(t.last_arrival_s - t.first_departure_s);
    if (std::abs(scheduled - service_seconds) < std::abs(gap)) gap = scheduled - service_seconds;
  }
  return gap;
}

void AutoDetector::decide(int service_seconds) {
  const Hypothesis* only = provisional();
  if (!only) return;
  for (const auto& h : hypotheses_) {
    // Several left: decided only when they all serve the same stops in the same order.
    if (h->alive && h->stop_ids != only->stop_ids) return;
  }
  const double along = only->tracker->progress_m();
  if (only->fixes < config_.min_fixes || only->first_along < 0 ||
      along - only->first_along < config_.min_travel_m) {
    return;
  }
  // Which of the pattern's trips: the one whose timetable puts it here now.
  const double length = only->line.length();
  const double share = length > 0 ? std::clamp(along / length, 0.0, 1.0) : 0;
  const routes::TripCandidate* best = nullptr;
  double best_gap = std::numeric_limits<double>::infinity();
  for (const auto& t : only->pattern.trips) {
    double scheduled =
        t.first_departure_s + share * static_cast<double>(t.last_arrival_s - t.first_departure_s);
    double gap = std::abs(scheduled - service_seconds);
    if (gap < best_gap) {
      best_gap = gap;
      best = &t;
    }
  }
  if (!best) return;
  detection_ = Detection{best->trip_id, best->pattern_id, along};
}

}  // namespace stopcall::tracking
