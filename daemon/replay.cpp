#include "daemon/replay.hpp"

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <ostream>
#include <stdexcept>

#include "daemon/announcer/announcer.hpp"
#include "daemon/gps/trace.hpp"
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
  stats.undated = trace.stats().undated;
  stats.time_glitches = pipeline.time_glitches();
}

}  // namespace

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
    feed(pipeline, *fix, last, out, flush);
  }
  events.flush();
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
  std::unique_ptr<Screens> screens;
  if (realtime.screens) {
    screens = std::make_unique<Screens>(io, *realtime.screens, bundle.timezone());
    screens->start();
    log << "info: passenger display http://" << realtime.screens->address << ":" << screens->port()
        << "/  driver console http://" << realtime.screens->address << ":" << screens->port()
        << "/driver\n";
  }
  // The voice: announcements from the events, subtitles from what media really plays.
  std::unique_ptr<media::Engine> voice;
  Announcer announcer;
  // Stops reached (arrived or passed) so far: an announcement for one of them is stale.
  auto reached = std::make_shared<std::atomic<int>>(0);
  if (!realtime.audio_sink.empty()) {
    media::EngineConfig config;
    config.interior.sink = realtime.audio_sink;
    config.exterior.sink = realtime.audio_sink;
    media::Callbacks callbacks;
    callbacks.on_cue = [&io, &screens](media::Cue cue) {
      asio::post(io, [&screens, cue = std::move(cue)] {
        if (screens) screens->subtitle(cue);
      });
    };
    callbacks.on_problem = [&io, &log](media::Problem problem) {
      asio::post(io, [&log, problem = std::move(problem)] {
        log << "warning: media: " << problem.message << "\n";
      });
    };
    voice = std::make_unique<media::Engine>(std::move(config), std::move(callbacks));
  }
  std::vector<tracking::StopEvent> out;
  auto speak = [&] {
    for (const auto& e : out) {
      if (e.type == tracking::StopEvent::Type::trip_started ||
          e.type == tracking::StopEvent::Type::trip_detected) {
        reached->store(0);
      }
      if ((e.type == tracking::StopEvent::Type::arrived ||
           e.type == tracking::StopEvent::Type::passed) &&
          e.stop_index) {
        reached->store(*e.stop_index + 1);
      }
      if (e.trip_id != pipeline.trip()->id) continue;
      for (auto& a : announcer.on_event(*pipeline.trip(), e)) {
        if (e.type != tracking::StopEvent::Type::arrived && e.stop_index) {
          // "Next stop X" / "arriving at X" is dropped once the bus has reached X.
          a.still_valid = [reached, index = *e.stop_index] { return reached->load() <= index; };
        }
        voice->submit(std::move(a));
      }
    }
  };
  auto flush = [&] {
    for (const auto& e : out)
      events << tracking::to_json_line(e) << '\n';
    events.flush();
    stats.events += static_cast<long>(out.size());
    if (screens) screens->update(pipeline, out);
    if (voice && pipeline.trip()) speak();
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
      feed(pipeline, fix, last, out, flush);
      pending = trace.next();
      step();
    });
  };
  step();
  io.run();
  if (voice) voice->stop();
  finish(stats, started, pipeline, trace);
  return stats;
}

}  // namespace stopcall::daemon
