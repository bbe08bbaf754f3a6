#include "sim/simulate.hpp"

#include <algorithm>
#include <cmath>
#include <random>
#include <stdexcept>

#include "daemon/tracking/tracker.hpp"

namespace stopcall::sim {

namespace {

using routes::geo::XY;

constexpr double kGridStepM = 1.0;         // the speed profile is computed every metre
constexpr double kSampleStepS = 0.1;       // the trajectory is sampled at 10 Hz
constexpr double kCurveBaseM = 15.0;       // heading change measured over +-this
constexpr double kRedLightGapM = 30.0;     // a red light is at least this far past the last halt
constexpr double kJunctionClearM = 100.0;  // a junction light is this far from either stop
constexpr double kJunctionMinGapM = 50.0;  // ...and this far from a red light short of a stop
constexpr double kSlowdownMinM = 80.0;
constexpr double kSlowdownMaxM = 300.0;
constexpr double kSlowdownMinMps = 2.0;
constexpr double kSlowdownMaxMps = 5.0;

// Monday 2026-03-02, the service day runs use by default (GTFS times are taken as UTC).
const Time kServiceDay{std::chrono::sys_days{std::chrono::year{2026} / 3 / 2}};

class Draw {
 public:
  explicit Draw(std::uint64_t seed) : rng_(seed) {}
  double uniform(double lo, double hi) {
    if (!(hi > lo)) return lo;
    return std::uniform_real_distribution<double>(lo, hi)(rng_);
  }
  bool chance(double p) { return uniform(0, 1) < p; }

 private:
  std::mt19937_64 rng_;
};

// A halt: the bus comes to a standstill at `at` and waits.
struct Halt {
  double at = 0;
  double wait_s = 0;
  int stop = -1;       // the stop served there, or -1
  int red_light = -1;  // index into Truth::red_lights, or -1
};

// Constant acceleration over [t0, t0 + duration).
struct Phase {
  double t0 = 0, s0 = 0, v0 = 0, accel = 0, duration = 0;
  double s_at(double t) const {
    double dt = std::clamp(t - t0, 0.0, duration);
    return s0 + v0 * dt + 0.5 * accel * dt * dt;
  }
  double v_at(double t) const {
    return std::max(0.0, v0 + accel * std::clamp(t - t0, 0.0, duration));
  }
  // Time at which the phase reaches distance s (s within the phase).
  double time_at(double s) const {
    double ds = s - s0;
    if (ds <= 0) return t0;
    double dt;
    if (std::abs(accel) < 1e-12) {
      dt = v0 > 0 ? ds / v0 : 0;
    } else {
      double disc = std::max(0.0, v0 * v0 + 2 * accel * ds);
      dt = (std::sqrt(disc) - v0) / accel;
    }
    return t0 + std::clamp(dt, 0.0, duration);
  }
};

double wrap_deg(double d) {
  d = std::fmod(d, 360.0);
  if (d > 180) d -= 360;
  if (d < -180) d += 360;
  return d;
}

}  // namespace

double seconds_between(Time a, Time b) {
  return std::chrono::duration<double>(b - a).count();
}

Time add_seconds(Time a, double s) {
  return a + std::chrono::milliseconds(std::llround(s * 1000));
}

XY TripGeometry::point_at(double d) const {
  auto it = std::upper_bound(line.along.begin(), line.along.end(), d);
  std::size_t i =
      it == line.along.begin() ? 0 : static_cast<std::size_t>(it - line.along.begin() - 1);
  i = std::min(i, line.points.size() - 2);
  double len = line.along[i + 1] - line.along[i];
  double t = len > 0 ? std::clamp((d - line.along[i]) / len, 0.0, 1.0) : 0;
  const XY& a = line.points[i];
  const XY& b = line.points[i + 1];
  return {a.x + t * (b.x - a.x), a.y + t * (b.y - a.y)};
}

double TripGeometry::heading_deg_at(double d) const {
  // The direction of the first segment of non-zero length at or after d (or before it, at the
  // end of the line).
  auto it = std::upper_bound(line.along.begin(), line.along.end(), d);
  std::size_t i =
      it == line.along.begin() ? 0 : static_cast<std::size_t>(it - line.along.begin() - 1);
  i = std::min(i, line.points.size() - 2);
  std::size_t j = i;
  while (j + 1 < line.points.size() && line.along[j + 1] - line.along[j] <= 0)
    ++j;
  if (j + 1 >= line.points.size()) {
    j = i;
    while (j > 0 && line.along[j + 1] - line.along[j] <= 0)
      --j;
  }
  const XY& a = line.points[j];
  const XY& b = line.points[j + 1];
  double deg = std::atan2(b.x - a.x, b.y - a.y) / routes::geo::kDegToRad;
  return deg < 0 ? deg + 360 : deg;
}

Simulation simulate(const routes::Trip& trip, const SimOptions& o, std::uint64_t seed) {
  const TripGeometry geo(trip);
  const auto& d = geo.stop_distances_m;
  const int n = static_cast<int>(d.size());
  const double length = geo.line.length();
  Draw draw(seed);

  Simulation sim;
  Truth& truth = sim.truth;
  truth.trip_id = trip.id;
  truth.seed = seed;

  const double accel = o.accel_mps2 * draw.uniform(1 - o.driver_variation, 1 + o.driver_variation);
  const double decel = o.decel_mps2 * draw.uniform(1 - o.driver_variation, 1 + o.driver_variation);

  // --- Which stops the bus serves, where it halts, how long it waits ---
  // A stop sharing the halt of the stop before it (leader[i] != i) is served with that one.
  const std::vector<int> halt_end = geo.halt_ends(o.same_halt_m);
  std::vector<int> leader(n);
  for (int i = 0; i < n; ++i)
    leader[i] = halt_end[i] >= 0 ? i : leader[i - 1];
  std::vector<bool> stopped(n, true);
  std::vector<double> halt_at(n);
  std::vector<double> wait(n, 0);
  double floor = 0;
  for (int i = 0; i < n; ++i) {
    if (leader[i] != i) {
      stopped[i] = stopped[leader[i]];
      halt_at[i] = stopped[i] ? halt_at[leader[i]] : std::max(d[i], floor);
      floor = halt_at[i];
      continue;
    }
    const int last = halt_end[i];
    if (i > 0 && last < n - 1) stopped[i] = !draw.chance(o.pass_probability);
    double jitter = draw.uniform(-o.halt_jitter_m, o.halt_jitter_m);
    double place = draw.uniform(d[i], d[last]);  // (d[i] itself for a halt of one stop)
    halt_at[i] = stopped[i] ? std::clamp(place + jitter, floor, length) : d[i];
    halt_at[i] = std::max(halt_at[i], floor);
    floor = halt_at[i];
    wait[i] = draw.uniform(o.dwell_min_s, o.dwell_max_s);
  }
  double layover = o.layover_s                          ? std::max(0.0, *o.layover_s)
                   : draw.chance(o.layover_probability) ? draw.uniform(0, o.layover_max_s)
                                                        : 0.0;
  wait[0] += layover;
  wait[n - 1] = o.terminal_wait_s;

  std::vector<Halt> halts;
  for (int i = 0; i < n; ++i) {
    if (leader[i] != i) continue;  // served in the halt of the stop before
    if (i > 0) {
      // The stretch from the previous stop to this one: a junction light, a red light short of
      // this stop, a traffic slowdown.
      const double from = halt_at[i - 1], to = halt_at[i];
      double red_at = -1;
      if (draw.chance(o.red_light_probability)) {
        double short_of = draw.uniform(o.red_light_min_m, o.red_light_max_m);
        double at = to - short_of;
        double wait_s = draw.uniform(o.red_light_min_s, o.red_light_max_s);
        if (at > from + kRedLightGapM) {
          red_at = at;
          RedLight light;
          light.before_stop = i;
          light.distance_m = at;
          light.short_of_stop_m = short_of;
          truth.red_lights.push_back(light);
          halts.push_back({at, wait_s, -1, static_cast<int>(truth.red_lights.size()) - 1});
        }
      }
      if (draw.chance(o.junction_light_probability)) {
        double hi = (red_at >= 0 ? red_at - kJunctionMinGapM : to - kJunctionClearM);
        double lo = from + kJunctionClearM;
        double at = draw.uniform(lo, hi);
        double wait_s = draw.uniform(o.junction_light_min_s, o.junction_light_max_s);
        if (hi > lo) {
          RedLight light;
          light.distance_m = at;
          truth.red_lights.push_back(light);
          halts.push_back({at, wait_s, -1, static_cast<int>(truth.red_lights.size()) - 1});
        }
      }
    }
    if (stopped[i]) halts.push_back({halt_at[i], wait[i], i, -1});
  }
  std::stable_sort(halts.begin(), halts.end(),
                   [](const Halt& a, const Halt& b) { return a.at < b.at; });

  // Speed limits per stretch: a cruise speed per stop-to-stop stretch, traffic slowdowns.
  std::vector<double> cruise(n, o.cruise_max_mps);
  struct Slowdown {
    double from, to, speed;
  };
  std::vector<Slowdown> slowdowns;
  for (int i = 1; i < n; ++i) {
    cruise[i] = draw.uniform(o.cruise_min_mps, o.cruise_max_mps);
    double from = halt_at[i - 1], to = halt_at[i];
    if (draw.chance(o.slowdown_probability) && to - from > kSlowdownMinM) {
      double len = draw.uniform(kSlowdownMinM, std::min(kSlowdownMaxM, to - from));
      double start = draw.uniform(from, to - len);
      slowdowns.push_back({start, start + len, draw.uniform(kSlowdownMinMps, kSlowdownMaxMps)});
    }
  }

  // --- The speed profile on a grid along the shape, halts included exactly ---
  const double s_begin = halt_at.front(), s_end = halt_at.back();
  std::vector<double> pos;
  std::vector<int> halt_of;  // index into halts, or -1
  {
    std::size_t h = 0;
    for (double s = s_begin;; s += kGridStepM) {
      double next = std::min(s, s_end);
      while (h < halts.size() && halts[h].at <= next + 1e-9) {
        pos.push_back(halts[h].at);
        halt_of.push_back(static_cast<int>(h));
        ++h;
      }
      if (s >= s_end) break;
      if (pos.empty() || s > pos.back() + 1e-6) {
        pos.push_back(s);
        halt_of.push_back(-1);
      }
    }
    while (h < halts.size()) {  // (only rounding could leave one)
      pos.push_back(halts[h].at);
      halt_of.push_back(static_cast<int>(h++));
    }
  }
  const std::size_t m = pos.size();
  std::vector<double> v(m);
  {
    int seg = 1;
    for (std::size_t j = 0; j < m; ++j) {
      const double s = pos[j];
      while (seg < n - 1 && s >= halt_at[seg])
        ++seg;
      double lim = cruise[std::min(seg, n - 1)];
      for (const auto& sl : slowdowns)
        if (s >= sl.from && s <= sl.to) lim = std::min(lim, sl.speed);
      double turn = std::abs(wrap_deg(geo.heading_deg_at(std::min(s + kCurveBaseM, length)) -
                                      geo.heading_deg_at(std::max(s - kCurveBaseM, 0.0)))) *
                    routes::geo::kDegToRad;
      if (turn > 1e-3) {
        double radius = 2 * kCurveBaseM / turn;
        lim = std::min(lim,
                       std::max(o.curve_min_mps, std::sqrt(o.curve_lateral_accel_mps2 * radius)));
      }
      v[j] = halt_of[j] >= 0 ? 0.0 : lim;
    }
  }
  v.front() = 0;
  v.back() = 0;
  for (std::size_t j = 1; j < m; ++j)
    v[j] = std::min(v[j], std::sqrt(v[j - 1] * v[j - 1] + 2 * accel * (pos[j] - pos[j - 1])));
  for (std::size_t j = m - 1; j-- > 0;)
    v[j] = std::min(v[j], std::sqrt(v[j + 1] * v[j + 1] + 2 * decel * (pos[j + 1] - pos[j])));

  // --- Integrate: phases of constant acceleration, and the halts' times ---
  std::vector<Phase> phases;
  double t = 0;
  std::vector<double> halt_arrival(halts.size()), halt_leave(halts.size());
  for (std::size_t j = 0; j < m; ++j) {
    if (j > 0) {
      const double ds = pos[j] - pos[j - 1];
      const double v0 = v[j - 1], v1 = v[j];
      if (ds > 0) {
        if (v0 + v1 > 1e-9) {
          double dt = 2 * ds / (v0 + v1);
          phases.push_back({t, pos[j - 1], v0, (v1 - v0) / dt, dt});
          t += dt;
        } else {
          // Two halts less than a grid step apart: creep from one to the other.
          double peak = std::sqrt(2 * ds * accel * decel / (accel + decel));
          phases.push_back({t, pos[j - 1], 0, accel, peak / accel});
          t += peak / accel;
          phases.push_back({t, pos[j - 1] + peak * peak / (2 * accel), peak, -decel, peak / decel});
          t += peak / decel;
        }
      }
    }
    if (halt_of[j] >= 0) {
      const Halt& h = halts[halt_of[j]];
      halt_arrival[halt_of[j]] = t;
      phases.push_back({t, pos[j], 0, 0, h.wait_s});
      t += h.wait_s;
      halt_leave[halt_of[j]] = t;
    }
  }
  const double total_s = t;

  // --- The truth ---
  Time start;
  if (o.start) {
    start = std::chrono::floor<std::chrono::seconds>(*o.start);
  } else {
    const auto& first = trip.stops.front();
    int scheduled = first.departure_s.value_or(first.arrival_s.value_or(8 * 3600));
    double before = 0;
    for (std::size_t h = 0; h < halts.size(); ++h)
      if (halts[h].stop == 0) before = halts[h].wait_s;
    start = std::chrono::floor<std::chrono::seconds>(
        add_seconds(kServiceDay + std::chrono::seconds(scheduled) - o.utc_offset, -before));
  }
  truth.start = start;
  truth.end = add_seconds(start, total_s);
  truth.stops.resize(n);
  for (int i = 0; i < n; ++i) {
    StopTruth& st = truth.stops[i];
    st.index = i;
    st.stop_id = trip.stops[i].stop.id;
    st.stop_sequence = trip.stops[i].stop_sequence;
    st.stopped = stopped[i];
    st.distance_m = halt_at[i];
    if (!stopped[i]) {
      auto it = std::find_if(phases.begin(), phases.end(), [&](const Phase& p) {
        return p.duration > 0 && p.s_at(p.t0 + p.duration) >= d[i];
      });
      double when = it == phases.end() ? total_s : it->time_at(d[i]);
      st.arrival = st.departure = add_seconds(start, when);
    }
  }
  for (std::size_t h = 0; h < halts.size(); ++h) {
    if (halts[h].stop >= 0) {
      StopTruth& st = truth.stops[halts[h].stop];
      st.arrival = add_seconds(start, halt_arrival[h]);
      st.departure = add_seconds(start, halt_leave[h]);
    } else {
      RedLight& light = truth.red_lights[halts[h].red_light];
      light.start = add_seconds(start, halt_arrival[h]);
      light.end = add_seconds(start, halt_leave[h]);
    }
  }
  for (int i = 0; i < n; ++i) {
    if (leader[i] == i) continue;
    StopTruth& st = truth.stops[i];
    st.shares_halt_of = leader[i];
    if (stopped[i]) {
      st.arrival = truth.stops[leader[i]].arrival;
      st.departure = truth.stops[leader[i]].departure;
    }
  }
  truth.stops.front().arrival = start;
  truth.stops.back().departure = truth.end;
  std::sort(truth.red_lights.begin(), truth.red_lights.end(),
            [](const RedLight& a, const RedLight& b) { return a.start < b.start; });

  // --- The trajectory, every 100 ms ---
  const auto steps = static_cast<std::size_t>(std::floor(total_s / kSampleStepS + 1e-9)) + 1;
  sim.trajectory.reserve(steps);
  std::size_t p = 0;
  for (std::size_t k = 0; k < steps; ++k) {
    const double tk = static_cast<double>(k) * kSampleStepS;
    while (p + 1 < phases.size() && tk >= phases[p].t0 + phases[p].duration)
      ++p;
    TruePoint pt;
    pt.time = start + std::chrono::milliseconds(100 * static_cast<long long>(k));
    if (phases.empty()) {
      pt.distance_m = s_begin;
    } else {
      pt.distance_m = phases[p].s_at(tk);
      pt.speed_mps = phases[p].v_at(tk);
      if (tk >= phases[p].t0 + phases[p].duration) pt.speed_mps = 0;  // the end
    }
    pt.heading_deg = geo.heading_deg_at(pt.distance_m);
    pt.position = geo.line.projection.to_latlon(geo.point_at(pt.distance_m));
    sim.trajectory.push_back(pt);
  }
  return sim;
}

}  // namespace stopcall::sim
