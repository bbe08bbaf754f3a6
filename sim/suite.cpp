#include "sim/suite.hpp"

#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <ostream>
#include <sstream>
#include <stdexcept>

#include "daemon/gps/trace.hpp"
#include "daemon/run.hpp"
#include "routes/bundle.hpp"
#include "routes/sqlite.hpp"
#include "sim/geojson.hpp"
#include "sim/trace_io.hpp"

namespace stopcall::sim {

namespace {

namespace fs = std::filesystem;

std::uint64_t splitmix(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// A scratch folder removed at the end (unless it was given).
class Scratch {
 public:
  explicit Scratch(const std::string& given) {
    if (!given.empty()) {
      path_ = given;
      fs::create_directories(path_);
      return;
    }
    path_ = fs::temp_directory_path() / ("stopcall-scenario-" + std::to_string(::getpid()));
    fs::remove_all(path_);
    fs::create_directories(path_);
    owned_ = true;
  }
  ~Scratch() {
    std::error_code ec;
    if (owned_) fs::remove_all(path_, ec);
  }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
  bool owned_ = false;
};

// Trip ids may hold any character; file names get a safe version.
std::string file_safe(const std::string& s) {
  std::string out;
  for (char c : s)
    out +=
        (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.') ? c : '_';
  return out;
}

std::string percent(int part, int whole) {
  char buf[32];
  if (whole == 0) return "-";
  std::snprintf(buf, sizeof buf, "%.2f %%", 100.0 * part / whole);
  return buf;
}

}  // namespace

std::uint64_t run_seed(std::uint64_t first_seed, int trip_rank, int seed_rank) {
  // Small numbers people can type: the first seed plus 1000 per trip plus the seed's rank.
  return first_seed + 1000 * static_cast<std::uint64_t>(trip_rank) +
         static_cast<std::uint64_t>(seed_rank);
}

std::uint64_t noise_seed(std::uint64_t seed, NoiseModel model) {
  return splitmix(splitmix(seed) ^ (static_cast<std::uint64_t>(model) + 1));
}

ModelTotals& ModelTotals::operator+=(const RunResult& run) {
  ++runs;
  fixes += run.fixes;
  failed_runs += !run.tracker.perfect();
  tracker += run.tracker;
  geofence += run.geofence;
  return *this;
}

std::vector<std::string> pick_trips(const std::string& bundle, int count) {
  routes::Bundle::open(bundle);  // checks it is a bundle of the right version
  routes::sql::Db db(bundle, routes::sql::Db::Mode::read_only);
  auto q = db.prepare("SELECT trip_id, pattern_id FROM trips ORDER BY first_departure_s, trip_id");
  std::map<std::int64_t, std::vector<std::string>> by_pattern;
  std::vector<std::int64_t> pattern_order;
  while (q.step()) {
    auto pattern = q.int64(1);
    auto& list = by_pattern[pattern];
    if (list.empty()) pattern_order.push_back(pattern);
    list.push_back(q.text(0));
  }
  std::vector<std::string> picked;
  for (std::size_t round = 0; static_cast<int>(picked.size()) < count; ++round) {
    bool any = false;
    for (auto pattern : pattern_order) {
      const auto& list = by_pattern[pattern];
      if (round < list.size() && static_cast<int>(picked.size()) < count) {
        picked.push_back(list[round]);
        any = true;
      }
    }
    if (!any) break;
  }
  return picked;
}

SuiteResult run_suite(const SuiteOptions& options, const RunListener& listener) {
  const auto started = std::chrono::steady_clock::now();
  SuiteResult result;
  result.bundle = options.bundle;
  result.seeds = options.seeds;
  result.trip_ids =
      options.trip_ids.empty() ? pick_trips(options.bundle, options.trips) : options.trip_ids;
  for (NoiseModel m : options.models) {
    ModelTotals row;
    row.model = m;
    result.models.push_back(row);
  }
  auto bundle = routes::Bundle::open(options.bundle);
  Scratch scratch(options.work_dir);
  const std::string trace_path = (scratch.path() / "trace.jsonl").string();
  if (!options.failures_dir.empty()) fs::create_directories(options.failures_dir);
  int written = 0;

  for (std::size_t t = 0; t < result.trip_ids.size(); ++t) {
    const auto& trip_id = result.trip_ids[t];
    const routes::Trip trip = bundle.load_trip(trip_id);
    if (trip.stops.size() < 2) continue;  // nothing to announce
    for (int s = 0; s < options.seeds; ++s) {
      const std::uint64_t seed = run_seed(options.first_seed, static_cast<int>(t), s);
      const Simulation sim = simulate(trip, options.sim, seed);
      for (std::size_t m = 0; m < options.models.size(); ++m) {
        const NoiseModel model = options.models[m];
        const NoisyTrace noisy = add_noise(sim, model, noise_seed(seed, model));
        Truth truth = sim.truth;
        truth.noise_model = std::string(noise_model_name(model));
        truth.outages = noisy.outages;
        {
          std::ofstream trace(trace_path, std::ios::trunc);
          write_gpsd_json(noisy.fixes, trace);
          if (!trace.flush()) throw std::runtime_error("cannot write " + trace_path);
        }

        // The tracker, through stopcalld's replay.
        daemon::RunOptions replay;
        replay.bundle = options.bundle;
        replay.source = daemon::TraceSource{trace_path};
        replay.pipeline.trip_id = trip_id;
        replay.pipeline.follow_block = false;
        replay.pipeline.tracker = options.tracker;
        std::stringstream events_text, quiet;
        daemon::run(replay, events_text, quiet);
        AnnouncerRun ours{"tracker", read_events(events_text), {}};

        // The baseline, on the same fixes as libgps decodes them.
        AnnouncerRun naive{"geofence", {}, {}};
        std::vector<tracking::Fix> decoded;
        {
          gps::TraceReader reader(trace_path);
          GeofenceBaseline geofence(trip, options.geofence);
          while (auto fix = reader.next()) {
            geofence.on_fix(*fix, naive.events);
            decoded.push_back(*fix);
          }
        }
        ours.score = score(trip, truth, ours.events, options.rules);
        naive.score = score(trip, truth, naive.events, options.rules);

        RunResult run;
        run.trip_id = trip_id;
        run.model = model;
        run.seed = seed;
        run.fixes = static_cast<long>(decoded.size());
        run.tracker = ours.score;
        run.geofence = naive.score;
        if (!ours.score.perfect() && !options.failures_dir.empty() &&
            written < options.max_failures_written) {
          ++written;
          const fs::path base =
              fs::path(options.failures_dir) / (std::string(noise_model_name(model)) + "-" +
                                                file_safe(trip_id) + "-" + std::to_string(seed));
          run.picture = base.string() + ".geojson";
          std::ofstream picture(run.picture);
          write_geojson(picture, trip, truth, decoded, {ours, naive});
          std::ofstream truth_file(base.string() + ".truth.jsonl");
          write_truth(truth, truth_file);
          std::ofstream events_file(base.string() + ".events.jsonl");
          for (const auto& e : ours.events)
            events_file << tracking::to_json_line(e) << '\n';
          fs::copy_file(trace_path, base.string() + ".trace.jsonl",
                        fs::copy_options::overwrite_existing);
        }
        result.models[m] += run;
        result.total += run;
        if (!run.tracker.perfect()) result.failures.push_back(run);
        if (listener) listener(run);
      }
    }
  }
  result.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return result;
}

void print_table(const SuiteResult& r, std::ostream& out) {
  char line[256];
  out << "scenario suite on " << r.bundle << ": " << r.trip_ids.size() << " trip(s) x "
      << r.models.size() << " noise model(s) x " << r.seeds << " seed(s) = " << r.total.runs
      << " runs, " << r.total.fixes << " fixes, " << static_cast<long>(r.seconds) << " s\n";
  std::snprintf(line, sizeof line, "%-16s %5s %6s  %9s %9s  %-15s %-15s\n", "noise model", "runs",
                "stops", "tracker", "geofence", "tracker dup/ooo", "geofence dup/ooo");
  out << line;
  auto row = [&](const std::string& name, const ModelTotals& m) {
    char a[32], b[32];
    std::snprintf(a, sizeof a, "%d/%d/%d", m.tracker.duplicates, m.tracker.out_of_order,
                  m.tracker.extra);
    std::snprintf(b, sizeof b, "%d/%d/%d", m.geofence.duplicates, m.geofence.out_of_order,
                  m.geofence.extra);
    std::snprintf(line, sizeof line, "%-16s %5d %6d  %9s %9s  %-15s %-15s\n", name.c_str(), m.runs,
                  m.tracker.scored, percent(m.tracker.correct, m.tracker.scored).c_str(),
                  percent(m.geofence.correct, m.geofence.scored).c_str(), a, b);
    out << line;
  };
  for (const auto& m : r.models)
    row(std::string(noise_model_name(m.model)), m);
  row("all", r.total);
  out << "(dup/ooo: duplicate / out-of-order / extra announcements)\n";

  out << "\ntracker's wrong stops by cause (a stop may have several):\n";
  std::snprintf(line, sizeof line, "%-16s %6s  %-23s %-23s\n", "noise model", "wrong",
                "next_stop miss/early/late", "approaching miss/early/late");
  out << line;
  auto causes = [&](const std::string& name, const Score& s) {
    char a[32], b[32];
    std::snprintf(a, sizeof a, "%d/%d/%d", s.next_stop_missing, s.next_stop_early,
                  s.next_stop_late);
    std::snprintf(b, sizeof b, "%d/%d/%d", s.approaching_missing, s.approaching_early,
                  s.approaching_late);
    std::snprintf(line, sizeof line, "%-16s %6d  %-23s %-23s\n", name.c_str(), s.scored - s.correct,
                  a, b);
    out << line;
  };
  for (const auto& m : r.models)
    causes(std::string(noise_model_name(m.model)), m.tracker.scored ? m.tracker : Score{});
  causes("all", r.total.tracker);
}

void write_counts(const SuiteResult& r, std::ostream& out) {
  out << "model\truns\tstops\ttracker_correct\tgeofence_correct\ttracker_duplicates\t"
         "tracker_out_of_order\ttracker_extra\tgeofence_duplicates\tgeofence_out_of_order\t"
         "fixes\n";
  for (const auto& m : r.models) {
    out << noise_model_name(m.model) << '\t' << m.runs << '\t' << m.tracker.scored << '\t'
        << m.tracker.correct << '\t' << m.geofence.correct << '\t' << m.tracker.duplicates << '\t'
        << m.tracker.out_of_order << '\t' << m.tracker.extra << '\t' << m.geofence.duplicates
        << '\t' << m.geofence.out_of_order << '\t' << m.fixes << '\n';
  }
}

}  // namespace stopcall::sim
