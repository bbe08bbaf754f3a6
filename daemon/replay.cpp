#include "daemon/replay.hpp"

#include <chrono>
#include <ostream>
#include <stdexcept>

#include "daemon/gps/time_filter.hpp"
#include "daemon/gps/trace.hpp"
#include "routes/bundle.hpp"

namespace stopcall::daemon {

ReplayStats replay(const ReplayOptions& options, std::ostream& events) {
  using namespace std::chrono;
  ReplayStats stats;
  auto bundle = routes::Bundle::open(options.bundle);
  if (options.trip_id.empty()) throw std::runtime_error("replay needs a trip: --trip TRIP_ID");
  auto trip = bundle.load_trip(options.trip_id);
  auto tracker = std::make_unique<tracking::Tracker>(trip, options.tracker);
  stats.trips = 1;
  gps::TraceReader trace(options.trace);

  std::vector<tracking::StopEvent> out;
  out.reserve(16);
  auto flush = [&] {
    for (const auto& e : out) {
      events << tracking::to_json_line(e) << '\n';
      ++stats.events;
    }
  };
  const auto started = steady_clock::now();
  tracking::Time last{};
  gps::TimeFilter time_filter;
  while (auto fix = trace.next()) {
    ++stats.fixes;
    if (!time_filter.accept(*fix)) continue;
    // The live daemon ticks the tracker every second; between sparse fixes replay does the same
    // on the trace's own timeline, so outages are noticed when they would be on the bus.
    if (last != tracking::Time{}) {
      for (auto t = last + seconds(1); t < fix->time; t += seconds(1)) {
        out.clear();
        tracker->on_tick(t, out);
        flush();
      }
    }
    if (fix->time > last) last = fix->time;
    out.clear();
    tracker->on_fix(*fix, out);
    flush();
    bool ended = false;
    for (const auto& e : out)
      ended |= e.type == tracking::StopEvent::Type::trip_ended;
    if (ended && options.follow_block) {
      auto next = bundle.next_trip_in_block(trip.id);
      if (!next.empty()) {
        trip = bundle.load_trip(next);
        tracker = std::make_unique<tracking::Tracker>(trip, options.tracker);
        ++stats.trips;
      }
    }
  }
  events.flush();
  stats.seconds = duration<double>(steady_clock::now() - started).count();
  stats.rejected = trace.stats().rejected;
  stats.undated = trace.stats().undated;
  stats.time_glitches = time_filter.dropped();
  return stats;
}

}  // namespace stopcall::daemon
