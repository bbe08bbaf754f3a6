#include "daemon/run.hpp"

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <filesystem>
#include <functional>
#include <memory>
#include <ostream>
#include <sstream>

#include "daemon/gps/trace.hpp"
#include "daemon/service/notify.hpp"
#include "routes/bundle.hpp"
#include "routes/install.hpp"

namespace stopcall::daemon {

namespace asio = boost::asio;
using namespace std::chrono;
using SteadyClock = steady_clock;

void BusClock::on_fix(tracking::Time gps_time) {
  if (gps_time <= last_) return;
  last_ = gps_time;
  last_at_ = SteadyClock::now();
}

tracking::Time BusClock::now() const {
  if (last_ == tracking::Time{}) return time_point_cast<milliseconds>(system_clock::now());
  return last_ + duration_cast<milliseconds>((SteadyClock::now() - last_at_) * speed_);
}

std::string describe(const RunStats& stats) {
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

namespace {

void count_trace(RunStats& stats, const gps::TraceReader& trace) {
  stats.rejected = trace.stats().rejected;
  stats.rejected_examples = trace.stats().rejected_examples;
  stats.fixes_with_position = trace.stats().fixes_with_position;
  stats.undated = trace.stats().undated;
}

void count_pipeline(RunStats& stats, const Pipeline& pipeline, SteadyClock::time_point started) {
  stats.seconds = duration<double>(SteadyClock::now() - started).count();
  stats.trips = pipeline.trips_started();
  stats.time_glitches = pipeline.time_glitches();
}

// A trace straight through, on its own clock: before each fix, a tick at every second of the
// trace's time since the last one, as the bus's timer would tick. Only a fix the pipeline takes
// moves the time, at its place on the pipeline's timeline: one glitched fix a day ahead must not
// tick the tracker through a day.
void run_through(gps::TraceReader& trace, Pipeline& pipeline, BusClock& clock,
                 const std::function<void(const tracking::Fix&)>& on_fix,
                 const std::function<void(tracking::Time)>& on_tick) {
  tracking::Time last{};
  while (auto fix = trace.next()) {
    tracking::Time at{};
    if (pipeline.time_filter().peek(*fix, at)) {
      if (last != tracking::Time{} && at > last) {
        for (auto t = last + seconds(1); t < at; t += seconds(1)) {
          clock.on_fix(t);
          on_tick(t);
        }
      }
      if (at > last) last = at;
    }
    on_fix(*fix);
  }
}

// The one run loop, on one io_context: fixes from the source into the pipeline, the pipeline
// ticked every second of bus time (whatever the fixes do: an outage is noticed), its events to
// everything on board (the event log, the announcer and its policy, the workflows; the voice, the
// screens and the control socket when configured). gpsd and a paced trace run on the io_context's
// timers and the bus clock follows the steady clock between fixes; a fast trace is read straight
// through on the trace's own clock (ticks at each second of its time between fixes), so that the
// same trace always gives the same event log, announcements included.
RunStats run_loop(const routes::Bundle& bundle, Pipeline& pipeline, const RunOptions& options,
                  std::ostream& events, std::ostream& log) {
  RunStats stats;
  asio::io_context io;
  const auto* gpsd_source = std::get_if<GpsdSource>(&options.source);
  const auto* trace_source = std::get_if<TraceSource>(&options.source);
  const bool fast = trace_source && trace_source->speed <= 0;
  const double speed = trace_source && !fast ? trace_source->speed : 1;
  BusClock clock(fast ? 0 : speed);  // fast: the time of the last fix or tick, exactly
  std::string gps_state = gpsd_source ? "waiting" : "replay";  // for the fleet's status
  Onboard onboard(
      io, bundle, pipeline, options.onboard, [&clock] { return clock.now(); }, events, log);
  std::vector<tracking::StopEvent> out;
  std::vector<double> latencies;
  std::unique_ptr<fleet::Client> fleet_link;
  auto emit = [&] {
    stats.events += static_cast<long>(out.size());
    // At a terminus, between trips: route data waiting for it is installed now.
    if (fleet_link && std::any_of(out.begin(), out.end(), [](const tracking::StopEvent& e) {
          return e.type == tracking::StopEvent::Type::trip_ended;
        })) {
      fleet_link->trip_ended();
    }
    onboard.step(pipeline, out);
    out.clear();
  };
  bool first_fix = false;  // the first usable fix with a time has come
  auto on_fix = [&](const tracking::Fix& fix) {
    const auto received = SteadyClock::now();
    ++stats.fixes;
    if (gpsd_source) gps_state = fix.usable() ? "fix" : "no_fix";
    if (!first_fix && fix.usable() && fix.time != tracking::Time{}) {
      first_fix = true;
      if (gpsd_source) onboard.gps_first_fix(fix.time);
    }
    const long jumps_back = pipeline.time_filter().jumps_back();
    pipeline.on_fix(fix, out);
    // The bus's clock goes on from the fixes the pipeline took, at their place on its timeline:
    // never from one it dropped (one glitched fix a day ahead would leave it there for good, every
    // tick then a day after the last fix: "GPS lost" each second).
    clock.on_fix(pipeline.time_filter().last());
    if (pipeline.time_filter().jumps_back() > jumps_back) {
      const auto moved = pipeline.time_filter().jumped_back();
      log << "warning: gps: the receiver's clock went back " << duration<double>(moved).count()
          << " s and stays there: its fixes go on from the last one, moved by that\n";
      onboard.gps_clock_jumped_back(pipeline.time_filter().last(), moved);
    }
    if (out.empty()) return;
    emit();
    // The live path's latency; a fast trace has none to measure (RunStats says gpsd's only).
    if (gpsd_source) {
      latencies.push_back(duration<double, std::micro>(SteadyClock::now() - received).count());
    }
  };

  // The source.
  std::unique_ptr<ServiceNotifier> notifier;
  std::unique_ptr<gps::GpsdClient> gpsd;
  std::unique_ptr<gps::TraceReader> trace;
  asio::steady_timer pace(io), ticker(io), stop_timer(io);
  const auto started = SteadyClock::now();
  auto finish = [&] {
    if (fleet_link) fleet_link->stop();  // says offline while the io_context still runs
    ticker.cancel();
    stop_timer.cancel();
    onboard.stop();
    io.stop();
  };
  std::optional<tracking::Fix> pending;
  tracking::Time first_time{};
  std::function<void()> next_fix = [&] {
    if (!pending) {
      pace.expires_after(
          duration_cast<SteadyClock::duration>(duration<double>(trace_source->linger_s)));
      pace.async_wait([&](const boost::system::error_code& ec) {
        if (!ec) finish();
      });
      return;
    }
    if (first_time == tracking::Time{}) first_time = pending->time;
    // When this fix is due on the wall clock, at the chosen speed.
    pace.expires_at(started + duration_cast<SteadyClock::duration>(
                                  duration<double>(pending->time - first_time) / speed));
    pace.async_wait([&](const boost::system::error_code& ec) {
      if (ec) return;
      const tracking::Fix fix = *pending;
      on_fix(fix);
      pending = trace->next();
      next_fix();
    });
  };
  if (gpsd_source) {
    notifier = std::make_unique<ServiceNotifier>(io);
    gpsd = std::make_unique<gps::GpsdClient>(
        io, gpsd_source->gpsd, on_fix, [&](gps::GpsdState state, const std::string& detail) {
          gps_state = "gpsd " + std::string(gps::to_string(state));
          if (fleet_link) fleet_link->status_changed();
          log << (state == gps::GpsdState::connected ? "info: " : "warning: ") << "gpsd "
              << gps::to_string(state) << ": " << detail << "\n";
          notifier->status("gpsd " + std::string(gps::to_string(state)) + ": " + detail);
        });
  } else {
    trace = std::make_unique<gps::TraceReader>(trace_source->path);
    if (!fast) pending = trace->next();
    if (pending) {
      // Where the trace's timeline sits on the machine's monotonic clock (the "sound" lines'
      // mono_ns): a fix at trace time t is due at this + (t - first) / speed. A bench compares
      // when each announcement was heard against it, run against run.
      log << "info: real time: the trace's first fix (" << tracking::format_time(pending->time)
          << ") is due at monotonic "
          << duration_cast<nanoseconds>(started.time_since_epoch()).count() << " ns, speed "
          << speed << "\n";
    }
  }

  // About once a second of bus time: the tracker notices an outage without fixes; the workflows
  // repeat and expire.
  std::function<void()> tick = [&] {
    ticker.expires_after(duration_cast<SteadyClock::duration>(duration<double>(1.0 / speed)));
    ticker.async_wait([&](const boost::system::error_code& ec) {
      if (ec) return;
      if (clock.has_gps_time()) {
        pipeline.on_tick(clock.now(), out);
        if (!out.empty()) emit();
      }
      onboard.tick(pipeline);
      tick();
    });
  };
  if (fast) {
    onboard.start();
    run_through(*trace, pipeline, clock, on_fix, [&](tracking::Time t) {
      pipeline.on_tick(t, out);
      if (!out.empty()) emit();
      onboard.tick(pipeline);
    });
    onboard.stop();
    events.flush();
    count_trace(stats, *trace);
    count_pipeline(stats, pipeline, started);
    return stats;
  }
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int) {
    if (!ec) finish();
  });
  if (options.exit_after_s > 0) {
    stop_timer.expires_after(
        duration_cast<SteadyClock::duration>(duration<double>(options.exit_after_s)));
    stop_timer.async_wait([&](const boost::system::error_code& ec) {
      if (!ec) finish();
    });
  }

  const std::string doing = options.pipeline.trip_id.empty()
                                ? "detecting the trip"
                                : "tracking trip " + options.pipeline.trip_id;
  if (gpsd) {
    // The route data by its feed version: after new route data came, which one this process runs.
    log << "info: " << doing << " on route data " << bundle.summary().feed_version << " ("
        << options.bundle << "), gpsd at " << gpsd_source->gpsd.host << ":"
        << gpsd_source->gpsd.port << "\n";
    gpsd->start();
  }
  onboard.start();  // screens and control socket: a port or socket that cannot be had stops here
  if (options.fleet) {
    fleet::Options fleet_options = *options.fleet;
    fleet_options.software = STOPCALL_VERSION;
    const std::string bundle_version = bundle.summary().feed_version;
    auto status = [&, bundle_version] {
      fleet::StatusRecord s;
      s.bundle = bundle_version;
      s.gps = gps_state;
      if (const routes::Trip* trip = pipeline.trip()) {
        s.trip_id = trip->id;
        s.route_id = trip->route.id;
        const auto* tracker = pipeline.tracker();
        if (auto next = tracker ? tracker->next_stop_index() : std::nullopt;
            next && *next >= 0 && *next < static_cast<int>(trip->stops.size())) {
          const auto& stop = trip->stops[static_cast<std::size_t>(*next)].stop;
          const auto& languages = options.onboard.announcer.languages;
          s.next_stop = fleet::NextStop{
              stop.id, name_in(stop.names, languages.empty() ? "en" : languages.front()), *next};
        }
      }
      return s;
    };
    fleet_link = std::make_unique<fleet::Client>(
        io, fleet_options, options.onboard.event_store, [&clock] { return clock.now(); }, status,
        [&onboard](const vehicle::Command& c) { return onboard.command(c); },
        [&log](bool warning, std::string_view text) {
          log << (warning ? "warning: " : "info: ") << text << "\n";
        });
    fleet::Client::CommandHooks hooks;
    // Commands are fresh by the system clock (on a bus, chrony keeps it on GPS time), also when a
    // recorded trace is replayed.
    hooks.system_clock = [] { return time_point_cast<milliseconds>(system_clock::now()); };
    hooks.record = [&onboard](const log::Record& r) { onboard.log_record(r); };
    hooks.load_nonces = [&onboard] { return onboard.fleet_nonces(); };
    hooks.save_nonces = [&onboard](const fleet::Nonces& n) { onboard.save_fleet_nonces(n); };
    fleet_link->set_command_hooks(std::move(hooks));
    // Route data from the depot goes into the directory of the bundle, when that is an install
    // directory's active.db (routes/install.hpp); the daemon then starts again on the new one.
    fleet::Client::BundleHooks bundle_hooks;
    if (std::filesystem::path(options.bundle).filename() == routes::kActiveBundleName) {
      bundle_hooks.install_dir = std::filesystem::path(options.bundle).parent_path().string();
    }
    bundle_hooks.active = bundle_version;
    bundle_hooks.trip_running = [&pipeline] { return pipeline.trip() != nullptr; };
    bundle_hooks.installed = [&] {
      if (!gpsd_source) {
        // A replay would start its trace over: it ends on the bundle it began with.
        log << "info: fleet: new route data installed; a replay keeps its bundle to the end\n";
        return;
      }
      // Not from inside the link's own callback: it is stopped by finish().
      asio::post(io, [&] {
        log << "info: fleet: new route data installed; starting again on it\n";
        stats.switch_bundle = true;
        finish();
      });
    };
    fleet_link->set_bundle_hooks(std::move(bundle_hooks));
    try {
      fleet_link->start();
    } catch (const std::exception& e) {
      // The bus announces without the depot rather than not at all.
      log << "error: " << e.what() << "; running without the fleet link\n";
      fleet_link.reset();
    }
  }
  if (notifier) {
    // Ready: the bundle is loaded and gpsd is connected or being retried.
    notifier->ready(doing);
    notifier->start_watchdog();
    onboard.gps_waiting(time_point_cast<milliseconds>(system_clock::now()));
  } else {
    next_fix();
  }
  tick();
  io.run();
  if (fleet_link) fleet_link->stop();
  if (notifier && !stats.switch_bundle) notifier->stopping();
  if (notifier && stats.switch_bundle) notifier->status("starting again on new route data");
  if (gpsd) gpsd->stop();
  onboard.stop();
  events.flush();

  if (trace) count_trace(stats, *trace);
  count_pipeline(stats, pipeline, started);
  if (gpsd) stats.reconnects = gpsd->reconnects();
  if (!latencies.empty()) {
    std::sort(latencies.begin(), latencies.end());
    auto at = [&](double q) {
      return latencies[std::min(
          latencies.size() - 1,
          static_cast<std::size_t>(q * static_cast<double>(latencies.size())))];
    };
    stats.latency_p50_us = at(0.5);
    stats.latency_p99_us = at(0.99);
    stats.latency_max_us = latencies.back();
  }
  return stats;
}

}  // namespace

RunStats run(const RunOptions& options, std::ostream& events, std::ostream& log) {
  auto bundle = routes::Bundle::open(options.bundle);
  Pipeline pipeline(bundle, options.pipeline);
  return run_loop(bundle, pipeline, options, events, log);
}

}  // namespace stopcall::daemon
