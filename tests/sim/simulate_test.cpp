// The generator: a simulated bus on a real trip of the demo route, its ground truth, the noise
// models, and the files it writes (read back by libgps and gpsd's own decoder).
#include "sim/simulate.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "daemon/gps/gpsd_fix.hpp"
#include "daemon/gps/trace.hpp"
#include "routes/geo.hpp"
#include "sim/geofence.hpp"
#include "sim/geojson.hpp"
#include "sim/noise.hpp"
#include "sim/score.hpp"
#include "sim/trace_io.hpp"
#include "tests/sim/demo_route.hpp"

namespace stopcall::sim {
namespace {

using testing::DemoRoute;

double seconds_of(Time a, Time b) {
  return seconds_between(a, b);
}

std::string truth_text(const Truth& truth) {
  std::stringstream out;
  write_truth(truth, out);
  return out.str();
}

std::string json_text(const std::vector<tracking::Fix>& fixes) {
  std::stringstream out;
  write_gpsd_json(fixes, out);
  return out.str();
}

using Generator = DemoRoute;

TEST_F(Generator, TheSameSeedGivesTheSameRunAndAnotherSeedAnother) {
  const auto trip = DemoRoute::trip();
  const Simulation a = simulate(trip, {}, 7), b = simulate(trip, {}, 7), c = simulate(trip, {}, 8);
  EXPECT_EQ(truth_text(a.truth), truth_text(b.truth));
  ASSERT_EQ(a.trajectory.size(), b.trajectory.size());
  for (std::size_t i = 0; i < a.trajectory.size(); i += 97) {
    EXPECT_EQ(a.trajectory[i].time, b.trajectory[i].time);
    EXPECT_EQ(a.trajectory[i].position, b.trajectory[i].position);
  }
  EXPECT_NE(truth_text(a.truth), truth_text(c.truth));
  for (NoiseModel m : kAllNoiseModels) {
    SCOPED_TRACE(std::string(noise_model_name(m)));
    EXPECT_EQ(json_text(add_noise(a, m, 3).fixes), json_text(add_noise(b, m, 3).fixes));
    EXPECT_NE(json_text(add_noise(a, m, 3).fixes), json_text(add_noise(a, m, 4).fixes));
  }
}

TEST_F(Generator, TheTruthIsPhysicallyConsistent) {
  const auto trip = DemoRoute::trip();
  const SimOptions options;
  int passed = 0, lights_short = 0;
  for (std::uint64_t seed = 1; seed <= 12; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    const Simulation sim = simulate(trip, options, seed);
    const Truth& t = sim.truth;
    ASSERT_EQ(t.stops.size(), trip.stops.size());
    EXPECT_TRUE(t.stops.front().stopped);
    EXPECT_TRUE(t.stops.back().stopped);
    EXPECT_EQ(t.stops.front().arrival, t.start);
    EXPECT_EQ(t.stops.back().departure, t.end);
    for (std::size_t i = 0; i < t.stops.size(); ++i) {
      const auto& s = t.stops[i];
      EXPECT_EQ(s.stop_id, trip.stops[i].stop.id);
      EXPECT_LE(s.arrival, s.departure);
      if (i > 0) {
        EXPECT_LT(t.stops[i - 1].departure, s.arrival) << "stop " << i;
        EXPECT_GE(s.distance_m, t.stops[i - 1].distance_m);
      }
      if (!s.stopped) {
        ++passed;
        EXPECT_EQ(s.arrival, s.departure);
      } else if (i > 0 && i + 1 < t.stops.size()) {
        const double dwell = seconds_of(s.arrival, s.departure);
        EXPECT_GE(dwell, options.dwell_min_s - 0.01) << "stop " << i;
        EXPECT_LE(dwell, options.dwell_max_s + 0.01) << "stop " << i;
      }
    }
    for (const auto& light : t.red_lights) {
      EXPECT_GE(seconds_of(light.start, light.end), 10 - 0.01);
      EXPECT_LE(seconds_of(light.start, light.end), 60 + 0.01);
      if (light.before_stop < 0) continue;
      ++lights_short;
      const auto& stop = t.stops[light.before_stop];
      // Short of a stop: 20-80 m before it, for 20-60 s, then on to the stop.
      EXPECT_GE(light.short_of_stop_m, 20 - 1e-9);
      EXPECT_LE(light.short_of_stop_m, 80 + 1e-9);
      EXPECT_NEAR(stop.distance_m - light.distance_m, light.short_of_stop_m, 1e-6);
      EXPECT_GE(seconds_of(light.start, light.end), 20 - 0.01);
      EXPECT_GT(light.start, t.stops[light.before_stop - 1].departure);
      EXPECT_LT(light.end, stop.arrival);
    }
  }
  EXPECT_GT(passed, 5) << "some stops are driven through";
  EXPECT_GT(lights_short, 5) << "some red lights short of a stop";
}

TEST_F(Generator, TheTrajectoryIsABusThatBrakesAndWaits) {
  const auto trip = DemoRoute::trip();
  const Simulation sim = simulate(trip, {}, 3);
  const auto& path = sim.trajectory;
  ASSERT_GT(path.size(), 1000u);
  EXPECT_EQ(path.front().time, sim.truth.start);
  for (std::size_t i = 1; i < path.size(); ++i) {
    ASSERT_EQ(path[i].time - path[i - 1].time, std::chrono::milliseconds(100));
    ASSERT_GE(path[i].distance_m, path[i - 1].distance_m - 1e-9);
    ASSERT_LE(path[i].speed_mps, 15 + 1e-9);
    const double accel = (path[i].speed_mps - path[i - 1].speed_mps) / 0.1;
    ASSERT_LE(accel, 1.0 * 1.15 + 1e-6) << "at " << i;
    ASSERT_GE(accel, -1.2 * 1.15 - 1e-6) << "at " << i;
  }
  auto point_at = [&](Time t) {
    return path[static_cast<std::size_t>(std::llround(seconds_of(sim.truth.start, t) * 10))];
  };
  for (const auto& s : sim.truth.stops) {
    if (!s.stopped) continue;
    const auto& p = point_at(add_seconds(s.arrival, 1));
    EXPECT_EQ(p.speed_mps, 0) << "standing at stop " << s.index;
    EXPECT_NEAR(p.distance_m, s.distance_m, 0.5);
  }
  for (const auto& l : sim.truth.red_lights) {
    const auto& p = point_at(add_seconds(l.start, 1));
    EXPECT_EQ(p.speed_mps, 0) << "waiting at the red light";
    EXPECT_NEAR(p.distance_m, l.distance_m, 0.5);
  }
  // The true position is on the shape at its distance.
  const TripGeometry geo(trip);
  for (std::size_t i = 0; i < path.size(); i += 500) {
    auto xy = geo.point_at(path[i].distance_m);
    EXPECT_NEAR(routes::geo::distance_m(path[i].position, geo.line.projection.to_latlon(xy)), 0,
                0.01);
  }
}

TEST_F(Generator, WithoutPassingNoStopIsDrivenThrough) {
  SimOptions options;
  options.pass_probability = 0;
  for (std::uint64_t seed = 1; seed <= 5; ++seed)
    for (const auto& s : simulate(DemoRoute::trip(), options, seed).truth.stops)
      EXPECT_TRUE(s.stopped);
}

// Two berths 12 m apart on one trip (like Porto Alegre's corridor stations): the bus halts once,
// somewhere along them, and the second berth's truth is that halt.
TEST_F(Generator, BerthsOfOneStationAreServedInOneHalt) {
  routes::Trip trip = DemoRoute::trip();
  ASSERT_GE(trip.stops.size(), 4u);
  trip.stops[2].distance_m = trip.stops[1].distance_m + 12;
  trip.stops[2].stop.names = trip.stops[1].stop.names;
  const SimOptions options;
  for (std::uint64_t seed = 1; seed <= 10; ++seed) {
    const Truth truth = simulate(trip, options, seed).truth;
    const StopTruth& first = truth.stops[1];
    const StopTruth& second = truth.stops[2];
    EXPECT_EQ(first.shares_halt_of, -1);
    EXPECT_EQ(second.shares_halt_of, 1);
    EXPECT_EQ(second.stopped, first.stopped);
    if (first.stopped) {
      EXPECT_EQ(second.arrival, first.arrival);
      EXPECT_EQ(second.departure, first.departure);
      EXPECT_GE(first.distance_m, trip.stops[1].distance_m - options.halt_jitter_m);
      EXPECT_LE(first.distance_m, trip.stops[2].distance_m + options.halt_jitter_m);
    } else {
      EXPECT_GE(second.arrival, first.departure);
    }
    for (std::size_t i = 3; i < truth.stops.size(); ++i)
      EXPECT_EQ(truth.stops[i].shares_halt_of, -1);
    std::stringstream file;
    write_truth(truth, file);
    EXPECT_EQ(read_truth(file).stops[2].shares_halt_of, 1);
  }
}

TEST_F(Generator, NoiseModelsHaveTheirRateAccuracyAndFaults) {
  const auto trip = DemoRoute::trip();
  const Simulation sim = simulate(trip, {}, 5);
  const double duration = seconds_of(sim.truth.start, sim.truth.end);
  auto true_at = [&](Time t) {
    return sim
        .trajectory[static_cast<std::size_t>(std::llround(seconds_of(sim.truth.start, t) * 10))];
  };
  for (NoiseModel m : kAllNoiseModels) {
    SCOPED_TRACE(std::string(noise_model_name(m)));
    const NoisyTrace trace = add_noise(sim, m, 11);
    const double rate = m == NoiseModel::sparse ? 0.2 : m == NoiseModel::hz10 ? 10 : 1;
    EXPECT_NEAR(static_cast<double>(trace.fixes.size()), duration * rate + 1,
                duration * rate * 0.04);
    std::vector<double> errors;
    int without_position = 0;
    for (const auto& f : trace.fixes) {
      if (!f.position) {
        ++without_position;
        continue;
      }
      EXPECT_TRUE(f.usable());
      EXPECT_TRUE(f.speed_mps && f.eph_m);
      errors.push_back(routes::geo::distance_m(*f.position, true_at(f.time).position));
    }
    std::sort(errors.begin(), errors.end());
    const double median = errors[errors.size() / 2], worst = errors.back();
    switch (m) {
      case NoiseModel::clean:
        EXPECT_LT(median, 3.0);
        EXPECT_LT(worst, 12.0);
        EXPECT_EQ(without_position, 0);
        break;
      case NoiseModel::urban_multipath:
        EXPECT_LT(median, 8.0);
        EXPECT_GT(worst, 15.0) << "bursts shift fixes sideways";
        break;
      case NoiseModel::urban_canyon: {
        EXPECT_GT(worst, 100.0) << "single outliers far off";
        EXPECT_GT(without_position, 0) << "reports without a fix";
        // What the road showed: gpsd's eph from the canyon's HDOP, far above the scatter; and a
        // standing bus reported crawling in any direction, up to 3 m/s.
        std::vector<double> ephs;
        double fastest_standing = 0;
        for (const auto& f : trace.fixes) {
          if (!f.position) continue;
          ephs.push_back(*f.eph_m);
          if (true_at(f.time).speed_mps == 0 && f.track_deg)
            fastest_standing = std::max(fastest_standing, *f.speed_mps);
        }
        std::sort(ephs.begin(), ephs.end());
        EXPECT_GT(ephs[ephs.size() / 2], 35.0);
        EXPECT_GT(ephs[ephs.size() / 2], 3 * median) << "eph far above the real scatter";
        EXPECT_GT(fastest_standing, 1.5);
        EXPECT_LE(fastest_standing, 3.0);
        break;
      }
      case NoiseModel::tunnel: {
        ASSERT_FALSE(trace.outages.empty());
        bool covers_stop = false;
        for (const auto& o : trace.outages) {
          const double len = seconds_of(o.start, o.end);
          EXPECT_GE(len, 30 - 1e-9);
          EXPECT_LE(len, 120 + 1e-9);
          if (o.covers_stop >= 0) {
            covers_stop = true;
            const auto& s = sim.truth.stops[o.covers_stop];
            EXPECT_TRUE(s.stopped);
            EXPECT_LT(o.start, s.arrival);
            EXPECT_GT(o.end, s.departure);
          }
          for (const auto& f : trace.fixes) {
            if (f.time >= o.start && f.time < o.end) {
              EXPECT_FALSE(f.position);
            }
          }
        }
        EXPECT_TRUE(covers_stop) << "one outage holds a stop the bus serves";
        EXPECT_GT(without_position, 30);
        break;
      }
      case NoiseModel::sparse:
        EXPECT_EQ(trace.fixes[1].time - trace.fixes[0].time, std::chrono::seconds(5));
        EXPECT_LT(median, 8.0);  // the urban receiver
        break;
      case NoiseModel::hz10:
        EXPECT_EQ(trace.fixes[1].time - trace.fixes[0].time, std::chrono::milliseconds(100));
        EXPECT_LT(median, 5.0);
        break;
    }
  }
}

TEST_F(Generator, TheGpsdJsonTraceIsWhatLibgpsReads) {
  const Simulation sim = simulate(DemoRoute::trip(), {}, 2);
  const NoisyTrace trace = add_noise(sim, NoiseModel::tunnel, 9);
  const std::string path = DemoRoute::scratch("trace.jsonl");
  {
    std::ofstream out(path);
    write_gpsd_json(trace.fixes, out);
  }
  gps::TraceReader reader(path);
  std::size_t i = 0;
  while (auto fix = reader.next()) {
    ASSERT_LT(i, trace.fixes.size());
    const auto& want = trace.fixes[i++];
    EXPECT_EQ(fix->time, want.time);
    ASSERT_EQ(fix->usable(), want.usable());
    if (!want.position) continue;
    EXPECT_EQ(fix->mode, tracking::Fix::Mode::fix_3d);
    EXPECT_NEAR(fix->position->lat, want.position->lat, 1e-9);
    EXPECT_NEAR(fix->position->lon, want.position->lon, 1e-9);
    EXPECT_NEAR(*fix->speed_mps, *want.speed_mps, 1e-3);
    EXPECT_NEAR(*fix->eph_m, *want.eph_m, 1e-3);
    EXPECT_EQ(fix->track_deg.has_value(), want.track_deg.has_value());
  }
  EXPECT_EQ(i, trace.fixes.size());
  EXPECT_EQ(reader.stats().rejected, 0);
}

TEST_F(Generator, TheNmeaTraceHasValidChecksumsAndGpsdDecodesIt) {
  const Simulation sim = simulate(DemoRoute::trip(), {}, 2);
  const NoisyTrace trace = add_noise(sim, NoiseModel::tunnel, 9);  // with reports without a fix
  const auto n = static_cast<long>(trace.fixes.size());
  const std::string path = DemoRoute::scratch("trace.nmea");
  {
    std::ofstream out(path, std::ios::binary);
    write_nmea(trace.fixes, out);
  }
  std::ifstream in(path, std::ios::binary);
  int sentences = 0;
  for (std::string line; std::getline(in, line);) {
    ASSERT_FALSE(line.empty());
    ASSERT_EQ(line.back(), '\r');
    line.pop_back();
    auto star = line.find('*');
    ASSERT_NE(star, std::string::npos);
    ASSERT_EQ(line, nmea_sentence(line.substr(1, star - 1)));
    ++sentences;
  }
  EXPECT_EQ(sentences, 3 * n - std::count_if(trace.fixes.begin(), trace.fixes.end(),
                                             [](const auto& f) { return !f.position; }));
  EXPECT_EQ(nmea_sentence("GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,"),
            "$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*47");

  if (std::system("command -v gpsdecode >/dev/null 2>&1") != 0)
    GTEST_SKIP() << "gpsdecode (gpsd-clients) is not installed";
  // gpsd's own decoder: the same positions (to 2 cm: minutes with 5 decimals) and times. It
  // reports a cycle when the next one starts, so the first fix may be missing.
  gps::TraceReader reader(path);
  int matched = 0;
  std::size_t j = 0;
  while (auto fix = reader.next()) {
    while (j < trace.fixes.size() && trace.fixes[j].time < fix->time)
      ++j;
    ASSERT_LT(j, trace.fixes.size());
    const auto& want = trace.fixes[j];
    ASSERT_EQ(fix->time, want.time);
    ASSERT_EQ(fix->usable(), want.usable()) << tracking::format_time(fix->time);
    if (!want.position) continue;
    EXPECT_LT(routes::geo::distance_m(*fix->position, *want.position), 0.03);
    EXPECT_NEAR(*fix->speed_mps, *want.speed_mps, 0.01);
    ++matched;
  }
  const auto with_position = std::count_if(trace.fixes.begin(), trace.fixes.end(),
                                           [](const auto& f) { return f.position.has_value(); });
  EXPECT_GT(matched, 0.9 * static_cast<double>(with_position));
}

TEST_F(Generator, TheGeofenceBaselineAnnouncesACleanRunInOrder) {
  const auto trip = DemoRoute::trip();
  const Simulation sim = simulate(trip, {}, 4);
  const NoisyTrace trace = add_noise(sim, NoiseModel::clean, 1);
  GeofenceBaseline geofence(trip);
  std::vector<tracking::StopEvent> events;
  for (const auto& f : trace.fixes)
    geofence.on_fix(f, events);
  EXPECT_TRUE(geofence.ended());
  const Score s = score(trip, sim.truth, events);
  EXPECT_EQ(s.duplicates, 0);
  EXPECT_EQ(s.out_of_order, 0);
  EXPECT_EQ(s.next_stop_missing + s.approaching_missing, 0);
  EXPECT_GT(s.correct, 0);
}

TEST_F(Generator, TheGeojsonPictureHoldsShapeStopsTraceAndEvents) {
  const auto trip = DemoRoute::trip();
  const Simulation sim = simulate(trip, {}, 4);
  const NoisyTrace trace = add_noise(sim, NoiseModel::sparse, 1);
  AnnouncerRun run{"geofence", {}, {}};
  GeofenceBaseline geofence(trip);
  for (const auto& f : trace.fixes)
    geofence.on_fix(f, run.events);
  run.score = score(trip, sim.truth, run.events);
  std::stringstream out;
  write_geojson(out, trip, sim.truth, trace.fixes, {run});
  const auto json = nlohmann::json::parse(out.str());
  EXPECT_EQ(json["type"], "FeatureCollection");
  std::map<std::string, int> kinds;
  for (const auto& f : json["features"]) {
    kinds[f["properties"]["kind"].get<std::string>()]++;
    if (f["properties"]["kind"] == "event") {
      EXPECT_EQ(f["geometry"]["type"], "Point");
      EXPECT_EQ(f["properties"]["announcer"], "geofence");
    }
  }
  EXPECT_EQ(kinds["shape"], 1);
  EXPECT_EQ(kinds["trace"], 1);
  EXPECT_EQ(kinds["stop"], static_cast<int>(trip.stops.size()));
  EXPECT_EQ(kinds["fix"], std::count_if(trace.fixes.begin(), trace.fixes.end(),
                                        [](const auto& f) { return f.usable(); }));
  EXPECT_EQ(kinds["event"], static_cast<int>(run.events.size()));
}

}  // namespace
}  // namespace stopcall::sim
