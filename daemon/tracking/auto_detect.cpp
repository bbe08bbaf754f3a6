#include "daemon/tracking/auto_detect.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace stopcall::tracking {

namespace geo = routes::geo;

AutoDetector::AutoDetector(std::vector<PatternCandidate> candidates, AutoDetectConfig config)
    : config_(config) {
  for (auto& c : candidates) {
    Hypothesis h;
    std::vector<routes::LatLon> points;
    for (const auto& p : c.representative.shape)
      points.push_back(p.position);
    if (points.size() < 2) {
      for (const auto& s : c.representative.stops)
        points.push_back(s.stop.position);
    }
    h.line = geo::Polyline::from_latlon(points);
    h.pattern = std::move(c);
    hypotheses_.push_back(std::move(h));
  }
}

int AutoDetector::alive() const {
  return static_cast<int>(
      std::count_if(hypotheses_.begin(), hypotheses_.end(), [](auto& h) { return h.alive; }));
}

void AutoDetector::on_fix(const Fix& fix, int service_seconds) {
  if (detection_ || !fix.usable()) return;
  for (auto& h : hypotheses_) {
    if (!h.alive || h.line.points.size() < 2) continue;
    geo::XY p = h.line.projection.to_xy(*fix.position);
    // Search the whole shape for the first fix, then a window around the last progress, so a
    // shape that passes a street twice does not flip between passes.
    double lo = -std::numeric_limits<double>::infinity(), hi = -lo;
    if (h.started) {
      double dt = std::max(1.0, std::chrono::duration<double>(fix.time - h.last_time).count());
      lo = h.last_along - config_.backward_tolerance_m - 50;
      hi = h.last_along + config_.max_speed_mps * dt + 100;
    }
    geo::SegmentProjection best{0, std::numeric_limits<double>::infinity(), 0};
    for (std::size_t i = 0; i + 1 < h.line.points.size(); ++i) {
      if (h.line.along[i + 1] < lo || h.line.along[i] > hi) continue;
      auto proj =
          geo::project_on_segment(p, h.line.points[i], h.line.points[i + 1], h.line.along[i], i);
      if (proj.offset_m < best.offset_m) best = proj;
    }
    ++h.fixes;
    h.last_time = fix.time;
    if (best.offset_m > config_.max_lateral_m) {
      ++h.misses;
    } else if (!h.started) {
      h.started = true;
      h.first_along = h.last_along = h.max_along = best.along_m;
    } else {
      if (best.along_m < h.max_along - config_.backward_tolerance_m) {
        h.alive = false;  // driving against this pattern's direction
        continue;
      }
      h.last_along = best.along_m;
      h.max_along = std::max(h.max_along, best.along_m);
    }
    if (h.fixes >= config_.min_fixes &&
        h.misses > config_.max_miss_share * static_cast<double>(h.fixes)) {
      h.alive = false;
    }
  }
  decide(service_seconds);
}

void AutoDetector::decide(int service_seconds) {
  const Hypothesis* only = nullptr;
  for (const auto& h : hypotheses_) {
    if (!h.alive) continue;
    if (only) return;  // still more than one: wait
    only = &h;
  }
  if (!only || only->fixes < config_.min_fixes ||
      only->max_along - only->first_along < config_.min_travel_m) {
    return;
  }
  // Which of the pattern's trips: the one whose timetable puts it here now.
  double share = only->line.length() > 0 ? only->last_along / only->line.length() : 0;
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
  detection_ = Detection{best->trip_id, best->pattern_id, only->last_along};
}

}  // namespace stopcall::tracking
