#include "daemon/live.hpp"

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <ostream>

#include "daemon/service/notify.hpp"
#include "routes/bundle.hpp"

namespace stopcall::daemon {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

LiveStats run_live(const LiveOptions& options, std::ostream& events, std::ostream& log) {
  auto bundle = routes::Bundle::open(options.bundle);
  Pipeline pipeline(bundle, options.pipeline);

  asio::io_context io;
  ServiceNotifier notifier(io);
  LiveStats stats;
  std::vector<double> latencies;
  std::vector<tracking::StopEvent> out;
  // The tracker's clock is GPS time. Between fixes it advances with the steady clock from the
  // last fix, so ticks during an outage carry the GPS time they stand for.
  tracking::Time last_fix_time{};
  Clock::time_point last_fix_at{};
  bool first_fix = false;  // the first usable fix with a time has come

  // The bus's clock for signals and actions between fixes: GPS time advanced by the steady clock.
  auto clock = [&]() -> tracking::Time {
    if (last_fix_time == tracking::Time{}) {
      return std::chrono::time_point_cast<std::chrono::milliseconds>(
          std::chrono::system_clock::now());
    }
    return last_fix_time +
           std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - last_fix_at);
  };
  Onboard onboard(io, bundle, pipeline, options.onboard, clock, events, log);
  auto emit = [&] {
    stats.events += static_cast<long>(out.size());
    onboard.step(pipeline, out);
    out.clear();
  };

  gps::GpsdClient gpsd(
      io, options.gpsd,
      [&](const tracking::Fix& fix) {
        auto received = Clock::now();
        ++stats.fixes;
        if (fix.time > last_fix_time) {
          last_fix_time = fix.time;
          last_fix_at = received;
        }
        if (!first_fix && fix.usable() && fix.time != tracking::Time{}) {
          first_fix = true;
          onboard.gps_first_fix(fix.time);
        }
        pipeline.on_fix(fix, out);
        if (!out.empty()) {
          emit();
          latencies.push_back(
              std::chrono::duration<double, std::micro>(Clock::now() - received).count());
        }
      },
      [&](gps::GpsdState state, const std::string& detail) {
        log << (state == gps::GpsdState::connected ? "info: " : "warning: ") << "gpsd "
            << gps::to_string(state) << ": " << detail << "\n";
        notifier.status("gpsd " + std::string(gps::to_string(state)) + ": " + detail);
      });

  asio::steady_timer tick(io);
  std::function<void()> schedule_tick = [&] {
    tick.expires_after(std::chrono::seconds(1));
    tick.async_wait([&](const boost::system::error_code& ec) {
      if (ec) return;
      if (last_fix_time != tracking::Time{}) {
        auto now = last_fix_time + std::chrono::duration_cast<std::chrono::milliseconds>(
                                       Clock::now() - last_fix_at);
        pipeline.on_tick(now, out);
        if (!out.empty()) emit();
      }
      onboard.tick(pipeline);
      schedule_tick();
    });
  };
  schedule_tick();

  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int) {
    if (!ec) io.stop();
  });
  asio::steady_timer stop_timer(io);
  if (options.exit_after_s > 0) {
    stop_timer.expires_after(std::chrono::duration_cast<Clock::duration>(
        std::chrono::duration<double>(options.exit_after_s)));
    stop_timer.async_wait([&](const boost::system::error_code& ec) {
      if (!ec) io.stop();
    });
  }

  log << "info: "
      << (options.pipeline.trip_id.empty() ? "detecting the trip"
                                           : "tracking trip " + options.pipeline.trip_id)
      << ", gpsd at " << options.gpsd.host << ":" << options.gpsd.port << "\n";
  gpsd.start();
  onboard.start();  // screens and control socket: a port or socket that cannot be had stops here
  // Ready: the bundle is loaded and gpsd is connected or being retried.
  notifier.ready(options.pipeline.trip_id.empty() ? "detecting the trip"
                                                  : "tracking trip " + options.pipeline.trip_id);
  notifier.start_watchdog();
  onboard.gps_waiting(
      std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now()));
  io.run();
  notifier.stopping();
  gpsd.stop();
  onboard.stop();

  stats.reconnects = gpsd.reconnects();
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

}  // namespace stopcall::daemon
