// routes_bench: the daemon's read API over one route bundle, timed with Google Benchmark.
//
//   STOPCALL_BENCH_BUNDLE=city.db routes_bench [--benchmark_filter=... and the other flags]
//
// Up front it picks 1000 trip ids at random (a fixed seed), a service day the bundle's busiest
// service runs on (or STOPCALL_BENCH_DATE=YYYYMMDD) and 1000 points within the stops' bounding
// box. load_trip also reports the spread of single calls: p50_us, p90_us, p99_us and max_us.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "routes/bundle.hpp"
#include "routes/problem.hpp"
#include "routes/sqlite.hpp"

namespace {

using namespace stopcall::routes;

constexpr std::size_t kSamples = 1000;

std::uint64_t splitmix(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

struct Setup {
  std::string path;
  std::vector<std::string> trip_ids;
  std::string date;
  std::vector<LatLon> points;
};

// The first day on or after the start of the busiest calendar row that the row runs on.
std::string pick_date(sql::Db& db) {
  if (const char* env = std::getenv("STOPCALL_BENCH_DATE"); env && *env) return env;
  auto q = db.prepare(
      "SELECT c.start_date, c.days FROM calendar c JOIN trips t USING(service_id) "
      "WHERE c.days <> 0 GROUP BY c.service_id ORDER BY count(*) DESC LIMIT 1");
  if (q.step()) {
    std::string start = q.text(0);
    int days = q.integer(1);
    std::chrono::year_month_day ymd{std::chrono::year(std::stoi(start.substr(0, 4))),
                                    std::chrono::month(std::stoi(start.substr(4, 2))),
                                    std::chrono::day(std::stoi(start.substr(6, 2)))};
    std::chrono::sys_days day(ymd);
    while (!(days >> (std::chrono::weekday(day).iso_encoding() - 1) & 1))
      day += std::chrono::days(1);
    std::chrono::year_month_day found(day);
    char buf[16];
    std::snprintf(buf, sizeof buf, "%04d%02u%02u", static_cast<int>(found.year()),
                  static_cast<unsigned>(found.month()), static_cast<unsigned>(found.day()));
    return buf;
  }
  auto added = db.prepare(
      "SELECT date FROM calendar_dates WHERE exception_type=1 GROUP BY date "
      "ORDER BY count(*) DESC LIMIT 1");
  return added.step() ? added.text(0) : "20260105";
}

Setup load_setup(const std::string& path) {
  Setup setup;
  setup.path = path;
  sql::Db db(path, sql::Db::Mode::read_only);
  std::vector<std::string> all;
  auto trips = db.prepare("SELECT trip_id FROM trips ORDER BY rowid");
  while (trips.step())
    all.push_back(trips.text(0));
  if (all.empty()) throw RouteError(Errc::bundle_unreadable, path + ": the bundle has no trips");
  std::uint64_t rng = 42;
  if (all.size() >= kSamples) {  // distinct ids: a partial shuffle
    for (std::size_t i = 0; i < kSamples; ++i)
      std::swap(all[i], all[i + splitmix(rng) % (all.size() - i)]);
    setup.trip_ids.assign(all.begin(), all.begin() + kSamples);
  } else {
    for (std::size_t i = 0; i < kSamples; ++i)
      setup.trip_ids.push_back(all[splitmix(rng) % all.size()]);
  }
  setup.date = pick_date(db);
  auto box = db.prepare(
      "SELECT min(lat), max(lat), min(lon), max(lon) FROM stops WHERE location_type=0 AND "
      "lat IS NOT NULL");
  box.step();
  double lat0 = box.real(0), lat1 = box.real(1), lon0 = box.real(2), lon1 = box.real(3);
  for (std::size_t i = 0; i < kSamples; ++i) {
    double u = static_cast<double>(splitmix(rng) >> 11) * 0x1.0p-53;
    double v = static_cast<double>(splitmix(rng) >> 11) * 0x1.0p-53;
    setup.points.push_back({lat0 + (lat1 - lat0) * u, lon0 + (lon1 - lon0) * v});
  }
  return setup;
}

double percentile(std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  std::size_t i = static_cast<std::size_t>(p * static_cast<double>(sorted.size() - 1) + 0.5);
  return sorted[std::min(i, sorted.size() - 1)];
}

void bench_open(benchmark::State& state, const Setup& setup) {
  for (auto _ : state) {
    auto bundle = Bundle::open(setup.path);
    benchmark::DoNotOptimize(bundle);
  }
}

void bench_open_and_load_trip(benchmark::State& state, const Setup& setup) {
  std::size_t next = 0;
  for (auto _ : state) {
    auto bundle = Bundle::open(setup.path);
    auto trip = bundle.load_trip(setup.trip_ids[next++ % setup.trip_ids.size()]);
    benchmark::DoNotOptimize(trip);
  }
}

void bench_load_trip(benchmark::State& state, const Setup& setup) {
  auto bundle = Bundle::open(setup.path);
  std::vector<double> us;
  us.reserve(1 << 16);
  std::size_t next = 0, stops = 0;
  for (auto _ : state) {
    auto start = std::chrono::steady_clock::now();
    auto trip = bundle.load_trip(setup.trip_ids[next++ % setup.trip_ids.size()]);
    auto end = std::chrono::steady_clock::now();
    us.push_back(std::chrono::duration<double, std::micro>(end - start).count());
    stops += trip.stops.size();
    benchmark::DoNotOptimize(trip);
  }
  std::sort(us.begin(), us.end());
  state.counters["p50_us"] = percentile(us, 0.50);
  state.counters["p90_us"] = percentile(us, 0.90);
  state.counters["p99_us"] = percentile(us, 0.99);
  state.counters["max_us"] = us.empty() ? 0 : us.back();
  state.counters["stops"] = us.empty() ? 0 : static_cast<double>(stops) / us.size();
}

void bench_candidate_trips(benchmark::State& state, const Setup& setup) {
  auto bundle = Bundle::open(setup.path);
  std::size_t found = 0;
  for (auto _ : state) {
    auto trips = bundle.candidate_trips(setup.date, 8 * 3600);
    found = trips.size();
    benchmark::DoNotOptimize(trips);
  }
  state.counters["trips"] = static_cast<double>(found);
}

void bench_stops_near(benchmark::State& state, const Setup& setup) {
  auto bundle = Bundle::open(setup.path);
  std::size_t next = 0, found = 0;
  for (auto _ : state) {
    auto stops = bundle.stops_near(setup.points[next++ % setup.points.size()], 500);
    found += stops.size();
    benchmark::DoNotOptimize(stops);
  }
  state.counters["stops"] = next ? static_cast<double>(found) / next : 0;
}

// Runs one benchmark body; a RouteError (a bundle it cannot read) marks the run as failed.
template <typename Fn>
void guarded(benchmark::State& state, const Setup& setup, Fn fn) {
  try {
    fn(state, setup);
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
  }
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  const char* path = std::getenv("STOPCALL_BENCH_BUNDLE");
  if (!path || !*path) {
    std::cerr << "routes_bench: set STOPCALL_BENCH_BUNDLE to a route bundle (tools/bench imports "
                 "a city-scale one)\n";
    return 2;
  }
  Setup setup;
  try {
    setup = load_setup(path);
  } catch (const std::exception& e) {
    std::cerr << "routes_bench: " << path << ": " << e.what() << "\n";
    return 1;
  }
  std::cerr << "routes_bench: " << path << ", " << setup.trip_ids.size()
            << " random trips, service day " << setup.date << "\n";

  auto add = [&](const char* name, void (*fn)(benchmark::State&, const Setup&)) {
    return benchmark::RegisterBenchmark(
               name, [&setup, fn](benchmark::State& state) { guarded(state, setup, fn); })
        ->Unit(benchmark::kMicrosecond)
        ->UseRealTime();
  };
  add("open", bench_open);
  add("open_and_load_trip", bench_open_and_load_trip);
  add("load_trip", bench_load_trip);
  add("candidate_trips_0800", bench_candidate_trips);
  add("stops_near_500m", bench_stops_near);

  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
