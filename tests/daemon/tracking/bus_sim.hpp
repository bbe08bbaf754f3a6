// A small deterministic bus simulator for tracker tests: tiny routes drawn in metres, a bus that
// accelerates, cruises and brakes to halt at stops and red lights, and seeded GPS noise.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "daemon/tracking/events.hpp"
#include "daemon/tracking/fix.hpp"
#include "routes/geo.hpp"
#include "routes/model.hpp"

namespace stopcall::tracking::sim {

using routes::geo::XY;
using namespace std::chrono_literals;

inline constexpr routes::LatLon kOrigin{48.2082, 16.3738};
inline const Time kT0{std::chrono::sys_days{std::chrono::year{2026} / 3 / 1} + 8h};

inline double since_t0(Time t) {
  return std::chrono::duration<double>(t - kT0).count();
}
inline Time at_s(double s) {
  return kT0 + std::chrono::milliseconds(static_cast<long long>(std::llround(s * 1000)));
}

// A polyline in metres (x east, y north) with cumulative distances.
struct Path {
  std::vector<XY> pts;
  std::vector<double> along;

  explicit Path(std::vector<XY> points) : pts(std::move(points)) {
    double total = 0;
    for (std::size_t i = 0; i < pts.size(); ++i) {
      if (i > 0) total += std::hypot(pts[i].x - pts[i - 1].x, pts[i].y - pts[i - 1].y);
      along.push_back(total);
    }
  }
  double length() const { return along.back(); }
  std::size_t segment(double d) const {
    auto it = std::upper_bound(along.begin(), along.end(), d);
    std::size_t i = it == along.begin() ? 0 : static_cast<std::size_t>(it - along.begin() - 1);
    return std::min(i, pts.size() - 2);
  }
  XY at(double d) const {
    std::size_t i = segment(d);
    double len = along[i + 1] - along[i];
    double t = len > 0 ? std::clamp((d - along[i]) / len, 0.0, 1.0) : 0;
    return {pts[i].x + t * (pts[i + 1].x - pts[i].x), pts[i].y + t * (pts[i + 1].y - pts[i].y)};
  }
  XY direction(double d) const {  // unit vector
    std::size_t i = segment(d);
    double len = along[i + 1] - along[i];
    return {(pts[i + 1].x - pts[i].x) / len, (pts[i + 1].y - pts[i].y) / len};
  }
};

// A trip whose shape is `shape` (first point must be (0, 0): the tracker's projection origin is
// the shape's first point) with stops at the given distances along it.
// The shape gets a point every `step_m` (as real GTFS shapes do, so that the tracker's R-tree is
// exercised) and one duplicated point (a zero-length segment, as feeds have).
inline routes::Trip make_trip(const Path& shape, const std::vector<double>& stop_distances,
                              double step_m = 8) {
  routes::geo::LocalProjection proj(kOrigin);
  routes::Trip trip;
  trip.id = "T1";
  trip.shape_id = "SH1";
  for (std::size_t i = 0; i + 1 < shape.pts.size(); ++i) {
    double len = shape.along[i + 1] - shape.along[i];
    int pieces = std::max(1, static_cast<int>(std::ceil(len / step_m)));
    for (int k = 0; k < pieces; ++k) {
      double d = shape.along[i] + len * k / pieces;
      trip.shape.push_back({proj.to_latlon(shape.at(d)), d});
      if (i == 0 && k == 1) trip.shape.push_back(trip.shape.back());
    }
  }
  trip.shape.push_back({proj.to_latlon(shape.pts.back()), shape.length()});
  for (std::size_t i = 0; i < stop_distances.size(); ++i) {
    routes::TripStop ts;
    ts.stop_sequence = static_cast<int>(i + 1) * 10;  // GTFS values need not be contiguous
    ts.stop.id = "S" + std::to_string(i);
    ts.stop.names = {{"en", "Stop " + std::to_string(i)}};
    ts.stop.position = proj.to_latlon(shape.at(stop_distances[i]));
    ts.distance_m = stop_distances[i];
    trip.stops.push_back(ts);
  }
  return trip;
}

// Makes stop i a berth of the same station as the stop before it (the same name).
inline void make_berth_of_previous(routes::Trip& trip, std::size_t i) {
  trip.stops.at(i).stop.names = trip.stops.at(i - 1).stop.names;
}

struct Halt {
  double at = 0;       // along the driven path
  double dwell_s = 0;  // standing time
};

struct Motion {
  double cruise_mps = 12;  // 43 km/h
  double accel_mps2 = 1.0;
  double decel_mps2 = 1.0;
};

// Piecewise constant acceleration along a driven path: from a standstill at `start`, to each
// halt in turn (halting exactly there for its dwell).
class Bus {
 public:
  struct HaltTimes {
    double at = 0, arrive_s = 0, leave_s = 0;
  };

  Bus(double start, double initial_dwell_s, const std::vector<Halt>& halts, Motion m = {}) {
    double t = 0, s = start;
    add(t, s, 0, 0, initial_dwell_s);
    times_.push_back({start, 0, initial_dwell_s});
    t += initial_dwell_s;
    for (const Halt& h : halts) {
      double dist = h.at - s;
      if (dist <= 0) continue;
      double a = m.accel_mps2, b = m.decel_mps2, v = m.cruise_mps;
      double d_acc = v * v / (2 * a), d_dec = v * v / (2 * b);
      if (d_acc + d_dec > dist) {
        v = std::sqrt(2 * dist * a * b / (a + b));
        d_acc = v * v / (2 * a);
        d_dec = v * v / (2 * b);
      }
      add(t, s, 0, a, v / a);
      t += v / a;
      s += d_acc;
      double cruise = (dist - d_acc - d_dec) / v;
      if (cruise > 0) {
        add(t, s, v, 0, cruise);
        t += cruise;
        s += v * cruise;
      }
      add(t, s, v, -b, v / b);
      t += v / b;
      s = h.at;
      add(t, s, 0, 0, h.dwell_s);
      times_.push_back({h.at, t, t + h.dwell_s});
      t += h.dwell_s;
    }
    end_ = t;
  }

  double end_s() const { return end_; }
  const std::vector<HaltTimes>& halts() const { return times_; }
  // The time from `from` to `to` during which the bus moves (halts do not count).
  double moving_time(double from, double to) const {
    double standing = 0;
    for (const auto& h : times_)
      standing += std::max(0.0, std::min(to, h.leave_s) - std::max(from, h.arrive_s));
    return to - from - standing;
  }
  // Arrival/leave times of the halt at `at` (along the driven path).
  const HaltTimes& halt_at(double at) const {
    for (const auto& h : times_)
      if (std::abs(h.at - at) < 0.01) return h;
    throw std::runtime_error("no halt there");
  }
  double s(double t) const {
    const auto& p = phase(t);
    double dt = t - p.t0;
    return p.s0 + p.v0 * dt + 0.5 * p.a * dt * dt;
  }
  double v(double t) const {
    const auto& p = phase(t);
    return std::max(0.0, p.v0 + p.a * (t - p.t0));
  }
  // First time the bus is at or beyond `d`.
  double time_at(double d) const {
    double lo = 0, hi = end_;
    for (int i = 0; i < 60; ++i) {
      double mid = (lo + hi) / 2;
      (s(mid) >= d ? hi : lo) = mid;
    }
    return hi;
  }

 private:
  struct Phase {
    double t0, s0, v0, a, dur;
  };
  void add(double t0, double s0, double v0, double a, double dur) {
    if (dur > 0) phases_.push_back({t0, s0, v0, a, dur});
  }
  const Phase& phase(double t) const {
    for (const auto& p : phases_)
      if (t < p.t0 + p.dur) return p;
    return phases_.back();
  }
  std::vector<Phase> phases_;
  std::vector<HaltTimes> times_;
  double end_ = 0;
};

struct TraceOptions {
  double rate_hz = 1;
  double sigma_m = 3;        // Gaussian noise per axis
  double speed_sigma = 0.1;  // Doppler speed noise
  double eph_m = 8;
  bool doppler = true;
  unsigned seed = 42;
  double extra_s = 5;  // keep sending fixes this long after the bus's last halt ends
  // Optional: moves a sample's position (index, time, true XY, direction) -> displaced XY.
  std::function<XY(std::size_t, double, XY, XY)> disturb;
  std::vector<std::pair<double, double>> outages;  // [from, to) seconds: no fix at all
  // A receiver standing in a street canyon: the fix wanders (a slow random walk of this size)
  // and the Doppler speed is reported up to this fast, in a random direction.
  double standing_wander_m = 0;
  double standing_speed_max_mps = 0;
};

struct Sample {
  double t = 0;
  double true_s = 0;
  Fix fix;
};

inline std::vector<Sample> make_trace(const Path& driven, const Bus& bus, const TraceOptions& o) {
  std::mt19937 rng(o.seed);
  std::normal_distribution<double> noise(0, o.sigma_m);
  std::normal_distribution<double> speed_noise(0, o.speed_sigma);
  std::normal_distribution<double> track_noise(0, 2.0);
  routes::geo::LocalProjection proj(kOrigin);
  std::vector<Sample> out;
  const double step = 1 / o.rate_hz;
  XY wander{0, 0};
  const double end = bus.end_s() + o.extra_s;
  for (std::size_t i = 0;; ++i) {
    double t = static_cast<double>(i) * step;
    if (t > end) break;
    double nx = noise(rng), ny = noise(rng), nv = speed_noise(rng), nt = track_noise(rng);
    const double stand_speed = std::uniform_real_distribution<double>(0, 1)(rng);
    const double stand_course = std::uniform_real_distribution<double>(0, 360)(rng);
    const double wx = noise(rng), wy = noise(rng);
    bool out_of_service = false;
    for (auto [from, to] : o.outages)
      out_of_service = out_of_service || (t >= from && t < to);
    if (out_of_service) continue;
    double s = std::min(bus.s(t), driven.length());
    XY p = driven.at(s);
    XY dir = driven.direction(s);
    p.x += nx;
    p.y += ny;
    const bool standing = bus.v(t) <= 0;
    if (standing && o.standing_wander_m > 0 && o.sigma_m > 0) {
      // A random walk, pulled back within about standing_wander_m.
      wander.x = 0.9 * wander.x + wx / o.sigma_m * o.standing_wander_m * 0.4;
      wander.y = 0.9 * wander.y + wy / o.sigma_m * o.standing_wander_m * 0.4;
    } else {
      wander = {0, 0};
    }
    p.x += wander.x;
    p.y += wander.y;
    if (o.disturb) p = o.disturb(i, t, p, dir);
    Sample smp;
    smp.t = t;
    smp.true_s = s;
    Fix& f = smp.fix;
    f.time = at_s(t);
    f.mode = Fix::Mode::fix_3d;
    f.status = Fix::Status::normal;
    f.position = proj.to_latlon(p);
    f.eph_m = o.eph_m;
    double v = bus.v(t);
    if (o.doppler) {
      f.speed_mps = std::abs(v + nv);
      if (v > 0.5) {
        double deg = std::atan2(dir.x, dir.y) / routes::geo::kDegToRad + nt;
        f.track_deg = std::fmod(deg + 360, 360);
      } else if (standing && o.standing_speed_max_mps > 0) {
        f.speed_mps = stand_speed * o.standing_speed_max_mps;
        f.track_deg = stand_course;
      }
    }
    out.push_back(smp);
  }
  return out;
}

struct Logged {
  StopEvent event;
  double t = 0;  // seconds since kT0
};

// Feeds the trace, with a tick every second in between fixes (as the daemon's timer would; none
// when `ticks` is false). `after_fix` sees the tracker after each fix.
template <typename TrackerT>
std::vector<Logged> replay(TrackerT& tracker, const std::vector<Sample>& trace,
                           const std::function<void(const Sample&, const TrackerT&,
                                                    const std::vector<StopEvent>&)>& after_fix = {},
                           bool ticks = true) {
  std::vector<Logged> log;
  std::vector<StopEvent> out;
  double next_tick = 0.5;
  for (const Sample& s : trace) {
    for (; ticks && next_tick < s.t; next_tick += 1) {
      out.clear();
      tracker.on_tick(at_s(next_tick), out);
      for (auto& e : out)
        log.push_back({e, since_t0(e.time)});
    }
    out.clear();
    tracker.on_fix(s.fix, out);
    for (auto& e : out)
      log.push_back({e, since_t0(e.time)});
    if (after_fix) after_fix(s, tracker, out);
  }
  return log;
}

// A picture on failure: the trace and the events as GeoJSON (open it in geojson.io or QGIS).
inline void dump_geojson(const std::string& path, const std::vector<Sample>& trace,
                         const std::vector<Logged>& log) {
  std::ofstream f(path);
  f << "{\"type\":\"FeatureCollection\",\"features\":[\n";
  f << "{\"type\":\"Feature\",\"properties\":{\"name\":\"fixes\"},\"geometry\":{\"type\":"
       "\"MultiPoint\",\"coordinates\":[";
  for (std::size_t i = 0; i < trace.size(); ++i) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%s[%.7f,%.7f]", i ? "," : "", trace[i].fix.position->lon,
                  trace[i].fix.position->lat);
    f << buf;
  }
  f << "]}}";
  for (const auto& l : log) {
    // Place each event at the fix closest in time.
    auto it = std::min_element(trace.begin(), trace.end(), [&](const Sample& a, const Sample& b) {
      return std::abs(a.t - l.t) < std::abs(b.t - l.t);
    });
    if (it == trace.end()) continue;
    char buf[96];
    std::snprintf(buf, sizeof buf, "[%.7f,%.7f]", it->fix.position->lon, it->fix.position->lat);
    f << ",\n{\"type\":\"Feature\",\"properties\":" << to_json_line(l.event)
      << ",\"geometry\":{\"type\":\"Point\",\"coordinates\":" << buf << "}}";
  }
  f << "\n]}\n";
}

}  // namespace stopcall::tracking::sim
