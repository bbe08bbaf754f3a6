// stopcall-scenario: simulated bus runs for the tracker. `generate` writes one run's GPS trace and
// ground truth, `score` judges the stop events stopcalld wrote for it, `suite` does both for many
// trips x noise models x seeds with the real tracker and the geofence baseline side by side;
// `geofence` runs the baseline over any recorded trace (the road test's, for its tables).
#include <CLI/CLI.hpp>
#include <algorithm>
#include <fstream>
#include <iostream>
#include <sstream>

#include "daemon/gps/trace.hpp"
#include "daemon/service_time.hpp"
#include "routes/bundle.hpp"
#include "sim/geofence.hpp"
#include "sim/geojson.hpp"
#include "sim/noise.hpp"
#include "sim/score.hpp"
#include "sim/simulate.hpp"
#include "sim/suite.hpp"
#include "sim/trace_io.hpp"

namespace {

using namespace stopcall;
using namespace stopcall::sim;

std::ofstream open_out(const std::string& path) {
  std::ofstream out(path);
  if (!out) throw std::runtime_error("cannot write " + path);
  return out;
}

std::ifstream open_in(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path);
  return in;
}

NoiseModel model_named(const std::string& name) {
  auto m = parse_noise_model(name);
  if (!m) throw std::runtime_error("no noise model \"" + name + "\"");
  return *m;
}

struct GenerateArgs {
  std::string bundle, trip, noise = "clean", trace, nmea, truth;
  std::uint64_t seed = 1;
  bool follow_block = false;
  double hours = 12;
};

int generate(const GenerateArgs& a) {
  const NoiseModel model = model_named(a.noise);
  auto bundle = routes::Bundle::open(a.bundle);
  std::ofstream trace = open_out(a.trace);
  std::ofstream nmea, truth;
  if (!a.nmea.empty()) nmea = open_out(a.nmea);
  if (!a.truth.empty()) truth = open_out(a.truth);
  std::string trip_id = a.trip;
  // The trace's GPS times are UTC; the timetable is in the agencies' local time.
  const daemon::ServiceClock clock(bundle.timezone());
  const Time noon{std::chrono::sys_days{std::chrono::year{2026} / 3 / 2} + std::chrono::hours(12)};
  const std::chrono::seconds utc_offset(clock.at(noon).seconds - 12 * 3600);
  std::optional<Time> next_start;
  Time first_start{};
  long fixes = 0;
  int trips = 0;
  double covered_s = 0;
  for (std::uint64_t seed = a.seed; !trip_id.empty(); ++seed) {
    const routes::Trip trip = bundle.load_trip(trip_id);
    SimOptions options;
    options.utc_offset = utc_offset;
    if (next_start) {
      // The next trip of the block starts where the last one ended, after its layover.
      options.start = *next_start;
      const auto& first = trip.stops.front();
      const int scheduled = first.departure_s.value_or(first.arrival_s.value_or(0));
      // The service day's midnight, local, expressed in UTC.
      const Time service_day =
          std::chrono::floor<std::chrono::days>(*next_start + utc_offset) - utc_offset;
      options.layover_s = std::clamp(
          seconds_between(*next_start, service_day + std::chrono::seconds(scheduled)) - 30, 0.0,
          1800.0);
    }
    Simulation sim = simulate(trip, options, seed);
    NoisyTrace noisy = add_noise(sim, model, noise_seed(seed, model));
    sim.truth.noise_model = std::string(noise_model_name(model));
    sim.truth.outages = noisy.outages;
    write_gpsd_json(noisy.fixes, trace);
    if (nmea.is_open()) write_nmea(noisy.fixes, nmea);
    if (truth.is_open()) write_truth(sim.truth, truth);
    if (trips == 0) first_start = sim.truth.start;
    fixes += static_cast<long>(noisy.fixes.size());
    ++trips;
    covered_s = seconds_between(first_start, sim.truth.end);
    next_start = add_seconds(sim.truth.end, 1);
    if (!a.follow_block || covered_s >= a.hours * 3600) break;
    trip_id = bundle.next_trip_in_block(trip_id);
  }
  if (!trace.flush() || (nmea.is_open() && !nmea.flush()) || (truth.is_open() && !truth.flush()))
    throw std::runtime_error("writing the output failed");
  std::cerr << "generated " << trips << " trip(s), " << fixes << " fixes over "
            << static_cast<long>(covered_s) << " s (noise " << a.noise << ")\n";
  return 0;
}

struct ScoreArgs {
  std::string bundle, trip, truth, events, geojson, trace;
};

void print_score(const std::string& who, const Score& s, bool per_stop) {
  if (per_stop) {
    for (const auto& st : s.stops)
      std::cout << "  " << (st.correct() ? "ok    " : "WRONG ") << st.describe() << "\n";
  }
  std::cout << who << ": " << s.correct << " of " << s.scored << " stops correct; next_stop "
            << s.next_stop_missing << " missing, " << s.next_stop_early << " early, "
            << s.next_stop_late << " late; approaching " << s.approaching_missing << " missing, "
            << s.approaching_early << " early, " << s.approaching_late << " late; " << s.duplicates
            << " duplicate(s), " << s.out_of_order << " out of order, " << s.extra << " extra\n";
}

int score_run(const ScoreArgs& a) {
  auto bundle = routes::Bundle::open(a.bundle);
  const routes::Trip trip = bundle.load_trip(a.trip);
  auto truth_in = open_in(a.truth);
  const Truth truth = read_truth(truth_in);
  auto events_in = open_in(a.events);
  AnnouncerRun ours{"tracker", read_events(events_in), {}};
  ours.score = score(trip, truth, ours.events);
  print_score("tracker", ours.score, true);
  if (a.trace.empty()) return 0;
  // With the trace: the geofence baseline side by side, and the picture.
  AnnouncerRun naive{"geofence", {}, {}};
  std::vector<tracking::Fix> fixes;
  gps::TraceReader reader(a.trace);
  GeofenceBaseline geofence(trip);
  while (auto fix = reader.next()) {
    geofence.on_fix(*fix, naive.events);
    fixes.push_back(*fix);
  }
  naive.score = score(trip, truth, naive.events);
  print_score("geofence baseline", naive.score, false);
  if (!a.geojson.empty()) {
    auto out = open_out(a.geojson);
    write_geojson(out, trip, truth, fixes, {ours, naive});
    std::cout << "picture: " << a.geojson << "\n";
  }
  return 0;
}

// The geofence baseline over a recorded trace (gpsd JSON or NMEA): the same event lines as
// `stopcalld replay --events`, so any scorer judges both (the road test's too).
int geofence_run(const std::string& bundle_path, const std::string& trip_id,
                 const std::string& trace_path, const std::string& events_path) {
  auto bundle = routes::Bundle::open(bundle_path);
  GeofenceBaseline geofence(bundle.load_trip(trip_id));
  gps::TraceReader trace(trace_path);
  auto out = open_out(events_path);
  std::vector<tracking::StopEvent> events;
  while (auto fix = trace.next()) {
    events.clear();
    geofence.on_fix(*fix, events);
    for (const auto& e : events)
      out << tracking::to_json_line(e) << "\n";
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"stopcall-scenario: simulated bus runs, scored against their ground truth"};
  app.require_subcommand(1);

  GenerateArgs gen;
  auto* generate_cmd =
      app.add_subcommand("generate", "simulate a bus on a trip and write its GPS trace and truth");
  generate_cmd->add_option("--routes", gen.bundle, "route bundle")->required();
  generate_cmd->add_option("--trip", gen.trip, "trip to drive")->required();
  generate_cmd->add_option("--noise", gen.noise,
                           "clean, urban_multipath, urban_canyon, tunnel, sparse or hz10");
  generate_cmd->add_option("--seed", gen.seed, "seed of the run (the suite prints it)");
  generate_cmd->add_option("--out-trace", gen.trace, "gpsd JSON lines to write")->required();
  generate_cmd->add_option("--nmea", gen.nmea, "also write the trace as NMEA 0183");
  generate_cmd->add_option("--out-truth", gen.truth, "ground truth to write (JSON lines)");
  generate_cmd->add_flag("--follow-block", gen.follow_block,
                         "go on with the next trips of the block (one truth run per trip)");
  generate_cmd->add_option("--hours", gen.hours, "with --follow-block: stop after this long");

  ScoreArgs sc;
  auto* score_cmd = app.add_subcommand("score", "judge stop events against a run's ground truth");
  score_cmd->add_option("--routes", sc.bundle, "route bundle")->required();
  score_cmd->add_option("--trip", sc.trip, "the trip of the run")->required();
  score_cmd->add_option("--truth", sc.truth, "ground truth (from generate)")->required();
  score_cmd->add_option("--events", sc.events, "stop events (stopcalld replay --events)")
      ->required();
  score_cmd->add_option("--trace", sc.trace, "the run's trace: adds the geofence baseline");
  score_cmd->add_option("--geojson", sc.geojson, "write a picture of the run (needs --trace)")
      ->needs(score_cmd->get_option("--trace"));

  SuiteOptions suite;
  std::string models = "all";
  auto* suite_cmd =
      app.add_subcommand("suite", "trips x noise models x seeds: the tracker and the baseline");
  suite_cmd->add_option("--routes", suite.bundle, "route bundle")->required();
  suite_cmd->add_option("--trips", suite.trips, "how many trips to pick (spread over patterns)");
  suite_cmd->add_option("--trip", suite.trip_ids, "these trips instead (repeatable)");
  suite_cmd->add_option("--seeds", suite.seeds, "runs per trip and noise model");
  suite_cmd->add_option("--first-seed", suite.first_seed, "seed of the first run");
  suite_cmd->add_option("--models", models, "\"all\" or a comma-separated list");
  suite_cmd->add_option("--failures", suite.failures_dir,
                        "write each run the tracker fails here (GeoJSON, trace, truth, events)");
  suite_cmd->add_option("--max-failures", suite.max_failures_written,
                        "write at most this many failing runs (default 100)");
  bool quiet = false;
  suite_cmd->add_flag("--quiet", quiet, "no line per failing run");
  std::string counts_path;
  suite_cmd->add_option("--counts", counts_path,
                        "also write the figures as tab-separated counts (for tools/bench)");

  std::string fence_bundle, fence_trip, fence_trace, fence_events;
  auto* geofence_cmd = app.add_subcommand(
      "geofence", "the geofence baseline over a recorded trace: stop events as stopcalld writes");
  geofence_cmd->add_option("--routes", fence_bundle, "route bundle")->required();
  geofence_cmd->add_option("--trip", fence_trip, "the trip the bus drives")->required();
  geofence_cmd->add_option("--gps", fence_trace, "gpsd JSON lines or NMEA")->required();
  geofence_cmd->add_option("--events", fence_events, "event lines to write")->required();

  std::string trips_bundle;
  int trips_count = 10;
  auto* trips_cmd =
      app.add_subcommand("trips", "the trips the suite would pick, spread over the patterns");
  trips_cmd->add_option("--routes", trips_bundle, "route bundle")->required();
  trips_cmd->add_option("--count", trips_count, "how many");

  CLI11_PARSE(app, argc, argv);
  try {
    if (*generate_cmd) return generate(gen);
    if (*score_cmd) return score_run(sc);
    if (*suite_cmd) {
      if (models != "all") {
        suite.models.clear();
        std::stringstream list(models);
        for (std::string name; std::getline(list, name, ',');)
          suite.models.push_back(model_named(name));
      }
      auto result = run_suite(suite, [&](const RunResult& run) {
        if (quiet || run.tracker.perfect()) return;
        std::cerr << "tracker wrong: trip " << run.trip_id << ", " << noise_model_name(run.model)
                  << ", seed " << run.seed << ":";
        for (const auto& s : run.tracker.stops)
          if (!s.correct()) std::cerr << "\n  " << s.describe();
        if (run.tracker.extra) std::cerr << "\n  " << run.tracker.extra << " extra announcement(s)";
        if (!run.picture.empty()) std::cerr << "\n  picture: " << run.picture;
        std::cerr << "\n";
      });
      print_table(result, std::cout);
      if (!counts_path.empty()) {
        auto out = open_out(counts_path);
        write_counts(result, out);
      }
      return 0;
    }
    if (*geofence_cmd) return geofence_run(fence_bundle, fence_trip, fence_trace, fence_events);
    if (*trips_cmd) {
      for (const auto& id : pick_trips(trips_bundle, trips_count))
        std::cout << id << "\n";
      return 0;
    }
  } catch (const std::exception& e) {
    std::cerr << "stopcall-scenario: " << e.what() << "\n";
    return 1;
  }
  return 2;
}
