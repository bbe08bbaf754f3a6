// The scenario suite: for many trips x noise models x seeds, simulate the run, write its trace as
// gpsd JSON, run the real tracker on it exactly as `stopcalld replay` does (daemon::replay: libgps
// decoding, the time filter, ticks between fixes), run the geofence baseline on the same fixes,
// score both, and tabulate per noise model. A failing run is written out for a look: its GeoJSON,
// trace, truth and events.
#pragma once

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

#include "daemon/tracking/tracker.hpp"
#include "sim/geofence.hpp"
#include "sim/noise.hpp"
#include "sim/score.hpp"
#include "sim/simulate.hpp"

namespace stopcall::sim {

struct SuiteOptions {
  std::string bundle;
  std::vector<std::string> trip_ids;  // when empty, `trips` trips picked by pick_trips
  int trips = 4;
  int seeds = 2;
  std::uint64_t first_seed = 1;
  std::vector<NoiseModel> models{std::begin(kAllNoiseModels), std::end(kAllNoiseModels)};
  std::string failures_dir;  // when set: <model>-<trip>-<seed>.{geojson,trace.jsonl,truth.jsonl,
                             // events.jsonl} for every run the tracker does not get all right...
  int max_failures_written = 100;  // ...up to this many runs (a 10 Hz picture is ~5 MB)
  std::string work_dir;            // scratch folder for the traces (default: a fresh temporary one)
  SimOptions sim;
  tracking::TrackerConfig tracker;
  GeofenceOptions geofence;
  ScoringRules rules;
};

struct RunResult {
  std::string trip_id;
  NoiseModel model = NoiseModel::clean;
  std::uint64_t seed = 0;  // `stopcall-scenario generate --seed` reproduces the run with it
  long fixes = 0;
  Score tracker;
  Score geofence;
  std::string picture;  // the GeoJSON written for it, if any
};

struct ModelTotals {
  NoiseModel model = NoiseModel::clean;
  int runs = 0;
  long fixes = 0;
  int failed_runs = 0;  // runs in which the tracker got a stop wrong (or announced an extra one)
  Score tracker;
  Score geofence;
  ModelTotals& operator+=(const RunResult& run);
};

struct SuiteResult {
  std::string bundle;
  std::vector<std::string> trip_ids;
  int seeds = 0;
  std::vector<ModelTotals> models;  // in the order asked
  ModelTotals total;
  std::vector<RunResult> failures;  // the tracker's failing runs
  double seconds = 0;
};

// Called after each run (progress).
using RunListener = std::function<void(const RunResult&)>;

SuiteResult run_suite(const SuiteOptions& options, const RunListener& listener = {});

// The seed of one run of the suite, from the suite's first seed, the trip's and the seed's rank.
std::uint64_t run_seed(std::uint64_t first_seed, int trip_rank, int seed_rank);
// The noise's seed for a run seed and a model (generate and the suite agree on it).
std::uint64_t noise_seed(std::uint64_t run_seed, NoiseModel model);

// `count` trips of the bundle spread over its distinct stop patterns (shape and stop list): the
// first trip of each pattern, then the second of each, ..., in order of first departure.
std::vector<std::string> pick_trips(const std::string& bundle, int count);

// The side-by-side table: per noise model, the stops scored, the tracker's and the baseline's
// share of correct stops, duplicates, out-of-order and extra announcements; then the total and
// what went wrong with the tracker's failing stops.
void print_table(const SuiteResult& result, std::ostream& out);

// The same figures as tab-separated counts, one line per noise model and a header, for scripts
// that add up several suites (tools/bench):
// model runs stops tracker_correct geofence_correct tracker_duplicates tracker_out_of_order
// tracker_extra geofence_duplicates geofence_out_of_order fixes
void write_counts(const SuiteResult& result, std::ostream& out);

}  // namespace stopcall::sim
