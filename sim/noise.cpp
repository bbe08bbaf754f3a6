#include "sim/noise.hpp"

#include <algorithm>
#include <cmath>
#include <random>

namespace stopcall::sim {

namespace {

// What a receiver of one kind does. Sigmas are per axis; eph is what it reports (about 95 %).
struct Receiver {
  double rate_hz = 1;
  double sigma_m = 2;
  double correlated_share = 0.7;  // share of the error variance that is correlated in time
  double correlation_s = 20;      // its time constant
  double speed_sigma_mps = 0.1;   // Doppler speed error while moving
  double standing_speed_sigma_mps = 0.03;
  // Standing in a street canyon the Doppler speed is mostly standing_speed_min..max, now and then
  // up to standing_speed_peak, in any direction (the course is then reported at random).
  double standing_speed_min_mps = 0, standing_speed_max_mps = 0, standing_speed_peak_mps = 0;
  double track_sigma_deg = 1;
  double eph_m = 5;  // what gpsd makes of the receiver's HDOP (19 m x HDOP)
  // Multipath bursts: fixes thrown sideways, up to burst_angle_deg off the perpendicular (so
  // partly along the road), the Doppler speed up to burst_speed_mps too high.
  double burst_every_s = 0;
  double burst_min_s = 3, burst_max_s = 10;
  double burst_min_m = 15, burst_max_m = 80;
  double burst_angle_deg = 0;
  double burst_speed_mps = 0;
  // Single outliers far off.
  double outlier_share = 0;
  double outlier_min_m = 100, outlier_max_m = 500;
  // Standstill wander.
  double wander_sigma_m = 0;
  double wander_s = 30;
  // Missing fixes (half without a report, half a report without a fix).
  double missing_share = 0;
  bool tunnels = false;
};

Receiver receiver_of(NoiseModel model) {
  Receiver r;
  switch (model) {
    case NoiseModel::clean:
      r.sigma_m = 2;
      r.eph_m = 4;
      break;
    case NoiseModel::urban_multipath:
      r.sigma_m = 5;
      r.correlation_s = 15;
      r.speed_sigma_mps = 0.2;
      r.standing_speed_sigma_mps = 0.05;
      r.track_sigma_deg = 2;
      r.eph_m = 25;  // HDOP about 1.3
      r.burst_every_s = 60;
      r.burst_min_s = 5;
      r.burst_max_s = 15;
      r.burst_max_m = 50;
      r.burst_angle_deg = 25;
      r.burst_speed_mps = 1.5;
      r.missing_share = 0.03;
      break;
    case NoiseModel::urban_canyon:
      r.sigma_m = 8;
      r.correlation_s = 10;
      r.speed_sigma_mps = 0.3;
      r.standing_speed_sigma_mps = 0.2;
      r.standing_speed_min_mps = 0.3;
      r.standing_speed_max_mps = 1.3;
      r.standing_speed_peak_mps = 3.0;
      r.track_sigma_deg = 4;
      r.eph_m = 45;  // HDOP about 2.4
      r.burst_every_s = 60;
      r.burst_min_s = 5;
      r.burst_max_s = 15;
      r.burst_min_m = 30;
      r.burst_max_m = 80;
      r.burst_angle_deg = 25;
      r.burst_speed_mps = 1.5;
      r.outlier_share = 1.0 / 80;
      r.wander_sigma_m = 7;  // up to some 15 m
      r.missing_share = 0.03;
      break;
    case NoiseModel::tunnel:
      r = receiver_of(NoiseModel::urban_multipath);  // a city receiver, and tunnels
      r.tunnels = true;
      break;
    case NoiseModel::sparse:
      r = receiver_of(NoiseModel::urban_multipath);  // a city receiver reporting every 5 s
      r.rate_hz = 0.2;
      break;
    case NoiseModel::hz10:
      r.rate_hz = 10;
      r.sigma_m = 3;
      r.correlated_share = 0.85;
      r.correlation_s = 10;
      r.eph_m = 5;
      break;
  }
  return r;
}

class Draw {
 public:
  explicit Draw(std::uint64_t seed) : rng_(seed) {}
  double uniform(double lo, double hi) {
    if (!(hi > lo)) return lo;
    return std::uniform_real_distribution<double>(lo, hi)(rng_);
  }
  double normal(double sigma) {
    return sigma > 0 ? std::normal_distribution<double>(0, sigma)(rng_) : 0.0;
  }
  bool chance(double p) { return p > 0 && uniform(0, 1) < p; }
  double exponential(double mean) { return std::exponential_distribution<double>(1 / mean)(rng_); }

 private:
  std::mt19937_64 rng_;
};

constexpr double kReacquireMinS = 1, kReacquireMaxS = 3;  // a receiver leaving a tunnel
constexpr int kPoorFixesAfterOutage = 3;
constexpr double kPoorFactor = 3;
constexpr double kTunnelStopClearM = 50;   // no other stop this close to a tunnel
constexpr double kTunnelLightClearM = 20;  // no traffic light in or this close to a tunnel
constexpr double kTunnelAfterStopM = 100;  // a tunnel without a stop starts this far past one
constexpr double kOutageMinS = 30, kOutageMaxS = 120;
constexpr double kOutageEveryS = 1800;  // one more outage per half hour of run

// The first trajectory point at or beyond distance s (the trajectory's distance never decreases).
std::size_t point_at_distance(const std::vector<TruePoint>& path, double s) {
  auto it = std::lower_bound(path.begin(), path.end(), s,
                             [](const TruePoint& p, double d) { return p.distance_m < d; });
  return it == path.end() ? path.size() - 1 : static_cast<std::size_t>(it - path.begin());
}

// The last point before leaving distance s (the end of a halt there).
std::size_t point_leaving_distance(const std::vector<TruePoint>& path, double s) {
  auto it = std::upper_bound(path.begin(), path.end(), s,
                             [](double d, const TruePoint& p) { return d < p.distance_m; });
  return it == path.begin() ? 0 : static_cast<std::size_t>(it - path.begin() - 1);
}

bool light_within(const Truth& truth, double from, double to) {
  for (const auto& l : truth.red_lights)
    if (l.distance_m >= from - kTunnelLightClearM && l.distance_m <= to + kTunnelLightClearM)
      return true;
  return false;
}

int stops_within(const Truth& truth, double from, double to) {
  int count = 0;
  for (const auto& s : truth.stops)
    count += s.distance_m >= from && s.distance_m <= to;
  return count;
}

// Tunnels: stretches of road in which the receiver has no fix. One holds a stop the bus serves
// (an underground stop, near the tunnel's exit); the others hold no stop and no traffic light.
std::vector<Outage> tunnels(const Simulation& sim, Draw& draw) {
  const Truth& truth = sim.truth;
  const auto& path = sim.trajectory;
  std::vector<Outage> out;
  if (path.size() < 2) return out;
  auto overlaps = [&](Time a, Time b) {
    for (const auto& o : out)
      if (a < add_seconds(o.end, 10) && b > add_seconds(o.start, -10)) return true;
    return false;
  };
  const int n = static_cast<int>(truth.stops.size());
  std::vector<int> served;
  for (int i = 1; i + 1 < n; ++i)
    if (truth.stops[i].stopped) served.push_back(i);
  const int over_stops = draw.chance(0.5) ? 2 : 1;
  for (int made = 0, attempt = 0; made < over_stops && attempt < 100 && !served.empty();
       ++attempt) {
    const auto& st = truth.stops[served[static_cast<std::size_t>(
        draw.uniform(0, static_cast<double>(served.size()) - 1e-9))]];
    double from = st.distance_m - draw.uniform(60, 250);
    double to = st.distance_m + draw.uniform(20, 70);
    if (stops_within(truth, from - kTunnelStopClearM, to + kTunnelStopClearM) != 1) continue;
    if (light_within(truth, from, to)) continue;
    Time a = path[point_at_distance(path, from)].time;
    Time b = add_seconds(path[point_leaving_distance(path, to)].time,
                         draw.uniform(kReacquireMinS, kReacquireMaxS));
    double len = seconds_between(a, b);
    if (len < kOutageMinS || len > kOutageMaxS || overlaps(a, b)) continue;
    out.push_back({a, b, st.index});
    ++made;
  }
  const int others = 1 + static_cast<int>(seconds_between(truth.start, truth.end) / kOutageEveryS);
  const double first = truth.stops.front().distance_m, last = truth.stops.back().distance_m;
  for (int made = 0, attempt = 0; made < others && attempt < 200; ++attempt) {
    double from = draw.uniform(first + kTunnelAfterStopM, last);
    std::size_t i = point_at_distance(path, from);
    Time a = path[i].time;
    Time b = add_seconds(a, draw.uniform(kOutageMinS, kOutageMaxS));
    if (b >= truth.end) continue;
    auto j = static_cast<std::size_t>(std::min<double>(
        static_cast<double>(path.size() - 1), static_cast<double>(i) + seconds_between(a, b) * 10));
    double to = path[j].distance_m;
    if (stops_within(truth, from - kTunnelAfterStopM, to + kTunnelStopClearM) != 0) continue;
    if (light_within(truth, from, to)) continue;
    // No halt inside either (a queue behind a stop just outside the tunnel).
    bool halted = false;
    for (std::size_t k = i; k <= j && !halted; ++k)
      halted = path[k].speed_mps == 0;
    if (halted || overlaps(a, b)) continue;
    out.push_back({a, b, -1});
    ++made;
  }
  std::sort(out.begin(), out.end(),
            [](const Outage& x, const Outage& y) { return x.start < y.start; });
  return out;
}

// Moves a position by (east, north) metres.
routes::LatLon offset(routes::LatLon p, double east, double north) {
  constexpr double kMetresPerDeg = routes::geo::kEarthRadiusM * routes::geo::kDegToRad;
  return {p.lat + north / kMetresPerDeg,
          p.lon + east / (kMetresPerDeg * std::cos(p.lat * routes::geo::kDegToRad))};
}

struct Burst {
  Time start, end;
  double sideways_m;
  double angle_rad;  // off the perpendicular, towards the course
  double speed_mps;  // added to the Doppler speed
};

}  // namespace

std::string_view noise_model_name(NoiseModel model) {
  switch (model) {
    case NoiseModel::clean:
      return "clean";
    case NoiseModel::urban_multipath:
      return "urban_multipath";
    case NoiseModel::urban_canyon:
      return "urban_canyon";
    case NoiseModel::tunnel:
      return "tunnel";
    case NoiseModel::sparse:
      return "sparse";
    case NoiseModel::hz10:
      return "hz10";
  }
  return "unknown";
}

std::optional<NoiseModel> parse_noise_model(std::string_view name) {
  for (NoiseModel m : kAllNoiseModels)
    if (noise_model_name(m) == name) return m;
  return std::nullopt;
}

NoisyTrace add_noise(const Simulation& sim, NoiseModel model, std::uint64_t seed) {
  const Receiver r = receiver_of(model);
  Draw draw(seed);
  NoisyTrace trace;
  const auto& path = sim.trajectory;
  if (path.empty()) return trace;
  if (r.tunnels) trace.outages = tunnels(sim, draw);

  std::vector<Burst> bursts;
  if (r.burst_every_s > 0) {
    for (Time t = add_seconds(sim.truth.start, draw.exponential(r.burst_every_s));
         t < sim.truth.end; t = add_seconds(t, draw.exponential(r.burst_every_s))) {
      double len = draw.uniform(r.burst_min_s, r.burst_max_s);
      double side = draw.uniform(r.burst_min_m, r.burst_max_m) * (draw.chance(0.5) ? 1 : -1);
      double angle = draw.uniform(-r.burst_angle_deg, r.burst_angle_deg) * routes::geo::kDegToRad;
      bursts.push_back({t, add_seconds(t, len), side, angle, draw.uniform(0, r.burst_speed_mps)});
      t = add_seconds(t, len);
    }
  }

  const auto every = static_cast<std::size_t>(std::lround(10 / r.rate_hz));  // 10 Hz path
  const double dt = 1 / r.rate_hz;
  const double rho = std::exp(-dt / r.correlation_s);
  const double sigma_c = r.sigma_m * std::sqrt(r.correlated_share);
  const double sigma_w = r.sigma_m * std::sqrt(1 - r.correlated_share);
  const double wander_rho = std::exp(-dt / r.wander_s);
  double ce = draw.normal(sigma_c), cn = draw.normal(sigma_c);  // correlated error
  double we = 0, wn = 0;                                        // standstill wander
  std::size_t burst = 0, outage = 0;
  int poor_left = 0;
  bool in_outage = false;
  trace.fixes.reserve(path.size() / every + 1);
  for (std::size_t k = 0; k < path.size(); k += every) {
    const TruePoint& p = path[k];
    // Draw every random number of this epoch whatever happens to the fix, so that the noise of
    // one epoch does not depend on the faults before it.
    ce = rho * ce + std::sqrt(1 - rho * rho) * draw.normal(sigma_c);
    cn = rho * cn + std::sqrt(1 - rho * rho) * draw.normal(sigma_c);
    const double white_e = draw.normal(sigma_w), white_n = draw.normal(sigma_w);
    const double speed_error = draw.normal(r.speed_sigma_mps);
    double standing_speed = std::abs(draw.normal(r.standing_speed_sigma_mps));
    if (r.standing_speed_max_mps > 0) {
      standing_speed = draw.chance(0.1)
                           ? draw.uniform(r.standing_speed_min_mps, r.standing_speed_peak_mps)
                           : draw.uniform(r.standing_speed_min_mps, r.standing_speed_max_mps);
    }
    const double standing_course = draw.uniform(0, 360);
    const double track_error = draw.normal(r.track_sigma_deg);
    const double eph_factor = draw.uniform(0.8, 1.25);
    const double wander_e = draw.normal(r.wander_sigma_m), wander_n = draw.normal(r.wander_sigma_m);
    const bool outlier = draw.chance(r.outlier_share);
    const double outlier_m = draw.uniform(r.outlier_min_m, r.outlier_max_m);
    const double outlier_dir = draw.uniform(0, 2 * M_PI);
    const bool missing = draw.chance(r.missing_share);
    const bool silent = draw.chance(0.5);

    const bool standing = p.speed_mps == 0;
    if (standing && r.wander_sigma_m > 0) {
      we = wander_rho * we + std::sqrt(1 - wander_rho * wander_rho) * wander_e;
      wn = wander_rho * wn + std::sqrt(1 - wander_rho * wander_rho) * wander_n;
    } else {
      we *= std::exp(-dt / 2);  // the wander fades within seconds of driving off
      wn *= std::exp(-dt / 2);
    }

    tracking::Fix fix;
    fix.time = p.time;
    while (outage < trace.outages.size() && trace.outages[outage].end <= p.time)
      ++outage;
    const bool dark = outage < trace.outages.size() && trace.outages[outage].start <= p.time;
    if (dark) {
      in_outage = true;
      trace.fixes.push_back(fix);  // a report without a fix
      continue;
    }
    if (in_outage) {
      in_outage = false;
      poor_left = kPoorFixesAfterOutage;
    }
    if (missing) {
      if (!silent) trace.fixes.push_back(fix);
      continue;
    }
    double factor = 1;
    if (poor_left > 0) {
      --poor_left;
      factor = kPoorFactor;
    }
    double east = factor * (ce + white_e) + we;
    double north = factor * (cn + white_n) + wn;
    double eph = r.eph_m * eph_factor * factor;
    while (burst < bursts.size() && bursts[burst].end <= p.time)
      ++burst;
    double burst_speed = 0;
    if (burst < bursts.size() && bursts[burst].start <= p.time) {
      // Perpendicular to the course, turned by the burst's angle (partly along the road).
      const double h = p.heading_deg * routes::geo::kDegToRad + bursts[burst].angle_rad;
      east += bursts[burst].sideways_m * std::cos(h);
      north -= bursts[burst].sideways_m * std::sin(h);
      burst_speed = bursts[burst].speed_mps;
      eph *= 1.5;
    }
    if (outlier) {
      east += outlier_m * std::sin(outlier_dir);
      north += outlier_m * std::cos(outlier_dir);
    }
    fix.mode = tracking::Fix::Mode::fix_3d;
    fix.status = tracking::Fix::Status::normal;
    fix.position = offset(p.position, east, north);
    fix.eph_m = eph;
    fix.speed_mps =
        standing ? standing_speed : std::max(0.0, p.speed_mps + speed_error + burst_speed);
    if (p.speed_mps > 1.0) {
      double track = std::fmod(p.heading_deg + track_error + 360.0, 360.0);
      fix.track_deg = track;
    } else if (standing && r.standing_speed_max_mps > 0) {
      fix.track_deg = standing_course;  // what a receiver says of a wandering standstill
    }
    trace.fixes.push_back(fix);
  }
  return trace;
}

}  // namespace stopcall::sim
