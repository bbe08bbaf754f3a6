#include "daemon/replay.hpp"

#include <chrono>
#include <ostream>
#include <stdexcept>

#include "daemon/gps/trace.hpp"
#include "daemon/pipeline.hpp"
#include "routes/bundle.hpp"

namespace stopcall::daemon {

ReplayStats replay(const ReplayOptions& options, std::ostream& events) {
  using namespace std::chrono;
  ReplayStats stats;
  auto bundle = routes::Bundle::open(options.bundle);
  Pipeline pipeline(bundle, options.pipeline);
  gps::TraceReader trace(options.trace);

  std::vector<tracking::StopEvent> out;
  out.reserve(16);
  auto flush = [&] {
    for (const auto& e : out)
      events << tracking::to_json_line(e) << '\n';
    stats.events += static_cast<long>(out.size());
    out.clear();
  };
  const auto started = steady_clock::now();
  tracking::Time last{};
  while (auto fix = trace.next()) {
    ++stats.fixes;
    // The live daemon ticks the pipeline every second; between sparse fixes replay does the same
    // on the trace's own timeline, so outages are noticed when they would be on the bus.
    if (last != tracking::Time{} && fix->time > last) {
      for (auto t = last + seconds(1); t < fix->time; t += seconds(1)) {
        pipeline.on_tick(t, out);
        flush();
      }
    }
    if (fix->time > last) last = fix->time;
    pipeline.on_fix(*fix, out);
    flush();
  }
  events.flush();
  stats.seconds = duration<double>(steady_clock::now() - started).count();
  stats.trips = pipeline.trips_started();
  stats.rejected = trace.stats().rejected;
  stats.undated = trace.stats().undated;
  stats.time_glitches = pipeline.time_glitches();
  return stats;
}

}  // namespace stopcall::daemon
