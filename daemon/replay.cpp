#include "daemon/replay.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
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

ReplayStats replay_realtime(const ReplayOptions& options, const RealtimeOptions& realtime,
                            std::ostream& events, std::ostream& log) {
  namespace asio = boost::asio;
  using namespace std::chrono;
  ReplayStats stats;
  auto bundle = routes::Bundle::open(options.bundle);
  Pipeline pipeline(bundle, options.pipeline);
  gps::TraceReader trace(options.trace);
  asio::io_context io;
  std::unique_ptr<Screens> screens;
  if (realtime.screens) {
    screens = std::make_unique<Screens>(io, *realtime.screens, bundle.timezone());
    screens->start();
    log << "info: passenger display http://" << realtime.screens->address << ":" << screens->port()
        << "/  driver console http://" << realtime.screens->address << ":" << screens->port()
        << "/driver\n";
  }
  std::vector<tracking::StopEvent> out;
  auto flush = [&] {
    for (const auto& e : out)
      events << tracking::to_json_line(e) << '\n';
    events.flush();
    stats.events += static_cast<long>(out.size());
    if (screens) screens->update(pipeline, out);
    out.clear();
  };
  asio::steady_timer timer(io);
  const auto started = steady_clock::now();
  tracking::Time first{}, last{};
  std::optional<tracking::Fix> pending = trace.next();
  std::function<void()> step = [&] {
    if (!pending) {
      timer.expires_after(
          duration_cast<steady_clock::duration>(duration<double>(realtime.linger_s)));
      timer.async_wait([&](const boost::system::error_code&) {
        if (screens) screens->stop();
      });
      return;
    }
    const tracking::Fix fix = *pending;
    if (first == tracking::Time{}) first = fix.time;
    // When this fix is due on the wall clock, at the chosen speed.
    auto due = started + duration_cast<steady_clock::duration>(duration<double>(fix.time - first) /
                                                               realtime.speed);
    timer.expires_at(due);
    timer.async_wait([&, fix](const boost::system::error_code& ec) {
      if (ec) return;
      ++stats.fixes;
      if (last != tracking::Time{} && fix.time > last) {
        for (auto t = last + seconds(1); t < fix.time; t += seconds(1)) {
          pipeline.on_tick(t, out);
          flush();
        }
      }
      if (fix.time > last) last = fix.time;
      pipeline.on_fix(fix, out);
      flush();
      pending = trace.next();
      step();
    });
  };
  step();
  io.run();
  stats.seconds = duration<double>(steady_clock::now() - started).count();
  stats.trips = pipeline.trips_started();
  stats.rejected = trace.stats().rejected;
  stats.undated = trace.stats().undated;
  stats.time_glitches = pipeline.time_glitches();
  return stats;
}

}  // namespace stopcall::daemon
