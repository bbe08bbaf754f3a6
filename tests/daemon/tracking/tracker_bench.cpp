// Per-fix cost of the tracker on a city-sized trip: 40 km, 120 stops, a shape point every 10 m,
// 1 Hz fixes with noise. Run: build-*/tests/daemon/tracking/tracking_bench
#include <benchmark/benchmark.h>

#include "daemon/tracking/tracker.hpp"
#include "tests/daemon/tracking/bus_sim.hpp"

namespace stopcall::tracking {
namespace {

struct City {
  sim::Path path{{{0, 0}}};
  routes::Trip trip;
  std::vector<sim::Sample> trace;

  City() {
    // Blocks: east 500 m, north 300 m, east 500 m, south 300 m, ... for 40 km.
    std::vector<sim::XY> pts{{0, 0}};
    double x = 0, y = 0;
    for (int i = 0; i < 50; ++i) {
      x += 500;
      pts.push_back({x, y});
      y += (i % 2 == 0) ? 300 : -300;
      pts.push_back({x, y});
    }
    path = sim::Path(pts);
    const int n = 120;
    std::vector<double> stops;
    std::vector<sim::Halt> halts;
    for (int i = 0; i < n; ++i) {
      double d = path.length() * i / (n - 1);
      stops.push_back(d);
      if (i > 0) halts.push_back({d, 15});
    }
    trip = sim::make_trip(path, stops, 10);
    sim::Bus bus(0, 10, halts);
    sim::TraceOptions options;
    trace = sim::make_trace(path, bus, options);
  }
};

const City& city() {
  static const City c;
  return c;
}

void BM_TrackerPerFix(benchmark::State& state) {
  const City& c = city();
  std::vector<StopEvent> out;
  out.reserve(16);
  std::size_t events = 0;
  for (auto _ : state) {
    state.PauseTiming();
    Tracker tracker(c.trip);
    state.ResumeTiming();
    for (const auto& s : c.trace) {
      out.clear();
      tracker.on_fix(s.fix, out);
      events += out.size();
    }
    benchmark::DoNotOptimize(events);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * c.trace.size()));
  state.counters["fixes"] = static_cast<double>(c.trace.size());
  state.counters["events"] = static_cast<double>(events) /
                             static_cast<double>(std::max<std::int64_t>(1, state.iterations()));
  state.counters["ns_per_fix"] =
      benchmark::Counter(static_cast<double>(state.iterations() * c.trace.size()),
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_TrackerPerFix)->Unit(benchmark::kMillisecond);

void BM_TrackerConstruct(benchmark::State& state) {
  const City& c = city();
  for (auto _ : state) {
    Tracker tracker(c.trip);
    benchmark::DoNotOptimize(tracker.length_m());
  }
}
BENCHMARK(BM_TrackerConstruct)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace stopcall::tracking

BENCHMARK_MAIN();
