#include "daemon/replay.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <ostream>
#include <sstream>
#include <stdexcept>

#include "daemon/gps/trace.hpp"
#include "daemon/log/event_store.hpp"
#include "daemon/onboard.hpp"
#include "daemon/pipeline.hpp"
#include "media/engine.hpp"
#include "routes/bundle.hpp"

namespace stopcall::daemon {

namespace {

// One fix of a trace into the pipeline. The live daemon ticks the pipeline every second; between
// sparse fixes replay does the same on the trace's own timeline, so outages are noticed when they
// would be on the bus. `flush` takes the events after each step.
template <typename Flush>
void feed(Pipeline& pipeline, const tracking::Fix& fix, tracking::Time& last,
          std::vector<tracking::StopEvent>& out, Flush&& flush) {
  if (last != tracking::Time{} && fix.time > last) {
    for (auto t = last + std::chrono::seconds(1); t < fix.time; t += std::chrono::seconds(1)) {
      pipeline.on_tick(t, out);
      flush();
    }
  }
  if (fix.time > last) last = fix.time;
  pipeline.on_fix(fix, out);
  flush();
}

void finish(ReplayStats& stats, std::chrono::steady_clock::time_point started,
            const Pipeline& pipeline, const gps::TraceReader& trace) {
  stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  stats.trips = pipeline.trips_started();
  stats.rejected = trace.stats().rejected;
  stats.rejected_examples = trace.stats().rejected_examples;
  stats.fixes_with_position = trace.stats().fixes_with_position;
  stats.undated = trace.stats().undated;
  stats.time_glitches = pipeline.time_glitches();
}

}  // namespace

std::string describe(const ReplayStats& stats) {
  std::ostringstream s;
  s << "replayed " << stats.fixes << " fixes on " << stats.trips << " trip(s): " << stats.events
    << " events in " << stats.seconds << " s ("
    << (stats.seconds > 0 ? static_cast<long>(static_cast<double>(stats.fixes) / stats.seconds) : 0)
    << " fixes/s)";
  if (stats.rejected) {
    s << "; " << stats.rejected << " unreadable line(s) skipped (";
    for (std::size_t i = 0; i < stats.rejected_examples.size(); ++i) {
      const auto& [line, why] = stats.rejected_examples[i];
      s << (i ? ", " : "") << "line " << line << ": " << why;
    }
    if (stats.rejected > static_cast<long>(stats.rejected_examples.size())) s << ", ...";
    s << ")";
  }
  if (stats.time_glitches)
    s << "; " << stats.time_glitches << " fix(es) with a glitched time dropped";
  if (stats.undated) s << "; " << stats.undated << " fix(es) without a time";
  return s.str();
}

ReplayStats replay(const ReplayOptions& options, std::ostream& events) {
  using namespace std::chrono;
  ReplayStats stats;
  auto bundle = routes::Bundle::open(options.bundle);
  Pipeline pipeline(bundle, options.pipeline);
  gps::TraceReader trace(options.trace);

  std::unique_ptr<log::EventStore> store;
  if (!options.event_store.empty()) store = std::make_unique<log::EventStore>(options.event_store);
  std::vector<tracking::StopEvent> out;
  out.reserve(16);
  auto flush = [&] {
    for (const auto& e : out) {
      auto line = tracking::to_json_line(e);
      if (store) store->append(line);
      events << line << '\n';
    }
    stats.events += static_cast<long>(out.size());
    out.clear();
  };
  const auto started = steady_clock::now();
  tracking::Time last{};
  while (auto fix = trace.next()) {
    ++stats.fixes;
    feed(pipeline, *fix, last, out, flush);
  }
  events.flush();
  if (store) store->flush();
  finish(stats, started, pipeline, trace);
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

  // The bus's clock: the trace's time, advancing at the replay's speed between fixes, so signals
  // sent between two fixes carry the time they stand for.
  tracking::Time first{}, last{};
  steady_clock::time_point last_at = steady_clock::now();
  auto clock = [&]() -> tracking::Time {
    if (last == tracking::Time{}) return time_point_cast<milliseconds>(system_clock::now());
    return last + duration_cast<milliseconds>((steady_clock::now() - last_at) * realtime.speed);
  };
  OnboardOptions onboard_options;
  onboard_options.screens = realtime.screens;
  onboard_options.control_socket = realtime.control_socket;
  onboard_options.assist = realtime.assist;
  onboard_options.door_signals = realtime.door_signals;
  onboard_options.state_file = realtime.state_file;
  onboard_options.event_store = realtime.event_store;
  if (!realtime.audio_sink.empty()) {
    media::EngineConfig config;
    config.interior.sink = realtime.audio_sink;
    config.exterior.sink = realtime.audio_sink;
    onboard_options.media = config;
  }
  Onboard onboard(io, bundle, pipeline, onboard_options, clock, events, log);
  onboard.start();

  std::vector<tracking::StopEvent> out;
  auto flush = [&] {
    stats.events += static_cast<long>(out.size());
    onboard.step(pipeline, out);
    out.clear();
  };
  asio::steady_timer timer(io), ticker(io);
  const auto started = steady_clock::now();
  // About once a second of bus time: the workflows' repetitions and expiries.
  std::function<void()> tick = [&] {
    ticker.expires_after(
        duration_cast<steady_clock::duration>(duration<double>(1.0 / realtime.speed)));
    ticker.async_wait([&](const boost::system::error_code& ec) {
      if (ec) return;
      onboard.tick(pipeline);
      tick();
    });
  };
  tick();
  std::optional<tracking::Fix> pending = trace.next();
  std::function<void()> step = [&] {
    if (!pending) {
      timer.expires_after(
          duration_cast<steady_clock::duration>(duration<double>(realtime.linger_s)));
      timer.async_wait([&](const boost::system::error_code&) {
        ticker.cancel();
        onboard.stop();
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
      last_at = steady_clock::now();
      feed(pipeline, fix, last, out, flush);
      pending = trace.next();
      step();
    });
  };
  step();
  io.run();
  onboard.stop();
  events.flush();
  finish(stats, started, pipeline, trace);
  return stats;
}

}  // namespace stopcall::daemon
