#include "routes/bench/city.hpp"

#include <algorithm>
#include <cmath>
#include <set>
#include <stdexcept>

namespace stopcall::routes::bench {

namespace {

// Plane geometry in metres.
XY operator+(XY a, XY b) {
  return {a.x + b.x, a.y + b.y};
}
XY operator-(XY a, XY b) {
  return {a.x - b.x, a.y - b.y};
}
XY operator*(XY a, double k) {
  return {a.x * k, a.y * k};
}
double dot(XY a, XY b) {
  return a.x * b.x + a.y * b.y;
}
double norm(XY a) {
  return std::hypot(a.x, a.y);
}
XY unit(XY a) {
  double n = norm(a);
  return n > 0 ? a * (1 / n) : XY{1, 0};
}
XY right_of(XY direction) {  // x east, y north: the right-hand normal
  return {direction.y, -direction.x};
}

constexpr double kMaxBlockM = 700;    // a smaller feed gets a smaller city, not longer blocks
constexpr double kJitterM = 60;       // crossings move up to this far from the regular grid
constexpr double kLaneM = 5;          // the bus lane, right of the street's centre line
constexpr double kKerbM = 8;          // the stop, right of the centre line: 3 m from the lane
constexpr double kShapeStepM = 80;    // at most this far between shape points
constexpr double kShapeMarginM = 20;  // a shape starts this far before its first stop

long slots_for(long nx, long ny) {
  return 2 * ((nx - 1) * ny + nx * (ny - 1));
}

}  // namespace

City build_city(Rng& rng, long stop_count, double width_m, double height_m) {
  City city;
  double aspect = width_m / height_m;
  long ny = std::max(2L, static_cast<long>(std::sqrt(stop_count / (4 * aspect))));
  long nx = std::max(2L, static_cast<long>(ny * aspect));
  while (slots_for(nx, ny) < stop_count) {
    if (nx < ny * aspect)
      ++nx;
    else
      ++ny;
  }
  city.nx = static_cast<int>(nx);
  city.ny = static_cast<int>(ny);
  city.block_m = std::min({kMaxBlockM, width_m / (nx - 1), height_m / (ny - 1)});
  double x0 = -(nx - 1) * city.block_m / 2, y0 = -(ny - 1) * city.block_m / 2;
  for (long j = 0; j < ny; ++j) {
    for (long i = 0; i < nx; ++i) {
      city.crossings.push_back({x0 + i * city.block_m + rng.uniform(-kJitterM, kJitterM),
                                y0 + j * city.block_m + rng.uniform(-kJitterM, kJitterM)});
    }
  }
  city.h_segments = (nx - 1) * ny;

  // Keep stop_count of the slots, chosen at random, numbered in slot order.
  long slots = 2 * city.segments();
  std::vector<long> order(slots);
  for (long s = 0; s < slots; ++s)
    order[s] = s;
  for (long k = 0; k < stop_count; ++k)
    std::swap(order[k], order[k + rng.below(slots - k)]);
  std::vector<char> kept(slots, 0);
  for (long k = 0; k < stop_count; ++k)
    kept[order[k]] = 1;
  city.slot_stop.assign(slots, -1);
  for (long slot = 0; slot < slots; ++slot) {
    double t = rng.uniform(0.35, 0.65);  // drawn for every slot: the layout does not shift
    if (!kept[slot]) continue;
    auto [low, high] = city.ends(slot / 2);
    XY from = city.crossings[slot % 2 == 0 ? low : high];
    XY to = city.crossings[slot % 2 == 0 ? high : low];
    XY d = unit(to - from);
    city.slot_stop[slot] = static_cast<long>(city.stop_xy.size());
    city.stop_xy.push_back(from + (to - from) * t + right_of(d) * kKerbM);
  }
  return city;
}

std::vector<long> random_walk(const City& city, Rng& rng, long target) {
  std::vector<long> best;
  long best_stops = -1;
  std::set<long> used;
  for (int attempt = 0; attempt < 40 && best_stops < target; ++attempt) {
    std::vector<long> walk = {rng.below(static_cast<long>(city.crossings.size()))};
    used.clear();
    int heading = static_cast<int>(rng.below(4));
    long stops = 0;
    while (stops < target) {
      // Straight on 6 times in 10, left or right 2 times each.
      int options[3] = {heading, (heading + 1) % 4, (heading + 3) % 4};
      double weights[3] = {6, 2, 2};
      long next[3], slots[3];
      double total = 0;
      for (int k = 0; k < 3; ++k) {
        next[k] = city.neighbour(walk.back(), options[k], slots[k]);
        if (next[k] < 0 || used.contains(slots[k] / 2)) weights[k] = 0;
        total += weights[k];
      }
      if (total == 0) break;
      double pick = rng.uniform(0, total);
      int k = 0;
      while (k < 2 && (pick >= weights[k] || weights[k] == 0)) {
        pick -= weights[k];
        ++k;
      }
      if (weights[k] == 0) {  // rounding at the very end of the range
        k = 2;
        while (weights[k] == 0)
          --k;
      }
      heading = options[k];
      used.insert(slots[k] / 2);
      walk.push_back(next[k]);
      if (city.slot_stop[slots[k]] >= 0) ++stops;
    }
    if (stops > best_stops) {
      best_stops = stops;
      best = std::move(walk);
    }
  }
  return best;
}

Pattern make_pattern(const City& city, const std::vector<long>& walk) {
  std::size_t k = walk.size() - 1;  // blocks
  std::vector<XY> centre(walk.size()), lane(walk.size());
  for (std::size_t i = 0; i < walk.size(); ++i)
    centre[i] = city.crossings[walk[i]];
  std::vector<XY> normal(k);
  for (std::size_t i = 0; i < k; ++i)
    normal[i] = right_of(unit(centre[i + 1] - centre[i]));
  // The lane keeps kLaneM right of the centre line; at a turn it goes through the mitre point.
  lane[0] = centre[0] + normal[0] * kLaneM;
  lane[k] = centre[k] + normal[k - 1] * kLaneM;
  for (std::size_t i = 1; i < k; ++i) {
    XY n = normal[i - 1] + normal[i];
    lane[i] = centre[i] + n * (kLaneM / (1 + dot(normal[i - 1], normal[i])));
  }
  std::vector<XY> dense;
  std::vector<double> along;
  std::vector<double> lane_start(k);
  for (std::size_t i = 0; i < k; ++i) {
    XY d = lane[i + 1] - lane[i];
    int pieces = std::max(1, static_cast<int>(std::ceil(norm(d) / kShapeStepM)));
    for (int q = 0; q < pieces; ++q) {
      XY p = lane[i] + d * (static_cast<double>(q) / pieces);
      along.push_back(dense.empty() ? 0 : along.back() + norm(p - dense.back()));
      dense.push_back(p);
      if (q == 0) lane_start[i] = along.back();
    }
  }
  along.push_back(along.back() + norm(lane[k] - dense.back()));
  dense.push_back(lane[k]);

  Pattern pattern;
  for (std::size_t i = 0; i < k; ++i) {
    long stop = city.slot_stop[city.slot_between(walk[i], walk[i + 1])];
    if (stop < 0) continue;
    XY d = lane[i + 1] - lane[i];
    double on = std::clamp(dot(city.stop_xy[stop] - lane[i], unit(d)), 0.0, norm(d));
    pattern.stops.push_back(stop);
    pattern.stop_along.push_back(lane_start[i] + on);
  }
  if (pattern.stops.size() < 2) return pattern;

  // The shape runs from just before the first stop to just after the last.
  double a = std::max(0.0, pattern.stop_along.front() - kShapeMarginM);
  double b = std::min(along.back(), pattern.stop_along.back() + kShapeMarginM);
  auto at = [&](double s) {
    std::size_t i = std::upper_bound(along.begin(), along.end(), s) - along.begin();
    i = std::clamp<std::size_t>(i, 1, along.size() - 1);
    double len = along[i] - along[i - 1];
    double t = len > 0 ? (s - along[i - 1]) / len : 0;
    return dense[i - 1] + (dense[i] - dense[i - 1]) * t;
  };
  pattern.shape.push_back(at(a));
  for (std::size_t i = 0; i < dense.size(); ++i) {
    if (along[i] > a + 25 && along[i] < b - 25) pattern.shape.push_back(dense[i]);
  }
  pattern.shape.push_back(at(b));
  pattern.shape_along.push_back(0);
  for (std::size_t i = 1; i < pattern.shape.size(); ++i) {
    pattern.shape_along.push_back(pattern.shape_along.back() +
                                  norm(pattern.shape[i] - pattern.shape[i - 1]));
  }
  for (auto& s : pattern.stop_along)
    s -= a;
  return pattern;
}

}  // namespace stopcall::routes::bench
