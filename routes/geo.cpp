#include "routes/geo.hpp"

#include <algorithm>
#include <limits>

namespace stopcall::routes::geo {

double distance_m(LatLon a, LatLon b) {
  double dlat = (b.lat - a.lat) * kDegToRad, dlon = (b.lon - a.lon) * kDegToRad;
  double h = std::sin(dlat / 2) * std::sin(dlat / 2) + std::cos(a.lat * kDegToRad) *
                                                           std::cos(b.lat * kDegToRad) *
                                                           std::sin(dlon / 2) * std::sin(dlon / 2);
  return 2 * kEarthRadiusM * std::asin(std::min(1.0, std::sqrt(h)));
}

SegmentProjection project_on_segment(XY p, XY a, XY b, double a_along, std::size_t segment) {
  double dx = b.x - a.x, dy = b.y - a.y;
  double len2 = dx * dx + dy * dy;
  double t = len2 > 0 ? ((p.x - a.x) * dx + (p.y - a.y) * dy) / len2 : 0;
  t = std::clamp(t, 0.0, 1.0);
  double cx = a.x + t * dx, cy = a.y + t * dy;
  return {a_along + t * std::sqrt(len2), std::hypot(p.x - cx, p.y - cy), segment};
}

Polyline Polyline::from_latlon(const std::vector<LatLon>& pts) {
  Polyline line;
  if (pts.empty()) return line;
  line.projection = LocalProjection(pts.front());
  line.points.reserve(pts.size());
  line.along.reserve(pts.size());
  double total = 0;
  for (std::size_t i = 0; i < pts.size(); ++i) {
    XY xy = line.projection.to_xy(pts[i]);
    if (i > 0) total += std::hypot(xy.x - line.points.back().x, xy.y - line.points.back().y);
    line.points.push_back(xy);
    line.along.push_back(total);
  }
  return line;
}

namespace {

// Candidate positions of one stop: the closest point of each stretch of the line that comes near
// it (local minima of the distance along the line), plus the overall closest.
std::vector<SegmentProjection> candidates(const Polyline& line, XY p) {
  std::vector<SegmentProjection> all;
  if (line.points.size() == 1) {
    all.push_back({0, std::hypot(p.x - line.points[0].x, p.y - line.points[0].y), 0});
    return all;
  }
  double best = std::numeric_limits<double>::infinity();
  std::vector<SegmentProjection> per_segment;
  per_segment.reserve(line.points.size() - 1);
  for (std::size_t i = 0; i + 1 < line.points.size(); ++i) {
    per_segment.push_back(
        project_on_segment(p, line.points[i], line.points[i + 1], line.along[i], i));
    best = std::min(best, per_segment.back().offset_m);
  }
  // Keep local minima that are not much worse than the best: other passes of a loop qualify,
  // a far-away stretch of the same line does not.
  const double keep_within = std::max(best * 3, best + 100.0);
  for (std::size_t i = 0; i < per_segment.size(); ++i) {
    double here = per_segment[i].offset_m;
    bool left_ok = i == 0 || here <= per_segment[i - 1].offset_m;
    bool right_ok = i + 1 == per_segment.size() || here < per_segment[i + 1].offset_m;
    if (left_ok && right_ok && here <= keep_within) all.push_back(per_segment[i]);
  }
  if (all.empty()) {
    all.push_back(*std::min_element(per_segment.begin(), per_segment.end(),
                                    [](auto& a, auto& b) { return a.offset_m < b.offset_m; }));
  }
  return all;
}

}  // namespace

std::vector<SegmentProjection> place_stops_in_order(const Polyline& line,
                                                    const std::vector<LatLon>& stops) {
  std::vector<SegmentProjection> out(stops.size());
  if (stops.empty() || line.points.empty()) return out;
  // Dynamic programming over candidates: cost = sum of offsets, with along_m non-decreasing.
  // A stop that cannot be placed after its predecessor falls back to the predecessor's position.
  std::vector<std::vector<SegmentProjection>> cand(stops.size());
  std::vector<std::vector<double>> cost(stops.size());
  std::vector<std::vector<int>> back(stops.size());
  constexpr double kInf = std::numeric_limits<double>::infinity();
  for (std::size_t s = 0; s < stops.size(); ++s) {
    cand[s] = candidates(line, line.projection.to_xy(stops[s]));
    cost[s].assign(cand[s].size(), kInf);
    back[s].assign(cand[s].size(), -1);
    for (std::size_t c = 0; c < cand[s].size(); ++c) {
      if (s == 0) {
        cost[s][c] = cand[s][c].offset_m;
        continue;
      }
      for (std::size_t p = 0; p < cand[s - 1].size(); ++p) {
        if (cost[s - 1][p] == kInf || cand[s - 1][p].along_m > cand[s][c].along_m + 1e-6) continue;
        double total = cost[s - 1][p] + cand[s][c].offset_m;
        if (total < cost[s][c]) {
          cost[s][c] = total;
          back[s][c] = static_cast<int>(p);
        }
      }
    }
    if (std::all_of(cost[s].begin(), cost[s].end(), [](double v) { return v == kInf; })) {
      // No ordered placement exists (the feed's stop order contradicts the shape): pin this stop
      // at the best predecessor's position so the trip stays monotone, and go on.
      std::size_t p =
          std::min_element(cost[s - 1].begin(), cost[s - 1].end()) - cost[s - 1].begin();
      SegmentProjection pinned = cand[s - 1][p];
      XY xy = line.projection.to_xy(stops[s]);
      XY at = line.points[pinned.segment];
      pinned.offset_m = std::hypot(xy.x - at.x, xy.y - at.y);
      cand[s] = {pinned};
      cost[s] = {cost[s - 1][p] + pinned.offset_m};
      back[s] = {static_cast<int>(p)};
    }
  }
  std::size_t s = stops.size() - 1;
  int c = static_cast<int>(std::min_element(cost[s].begin(), cost[s].end()) - cost[s].begin());
  for (;; --s) {
    out[s] = cand[s][c];
    if (s == 0) break;
    c = back[s][c];
  }
  return out;
}

}  // namespace stopcall::routes::geo
