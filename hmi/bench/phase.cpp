#include "hmi/bench/phase.hpp"

#include <algorithm>
#include <chrono>
#include <climits>
#include <cmath>
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <thread>
#include <unordered_map>

namespace stopcall::hmi::bench {

using namespace std::chrono_literals;

Phase run_phase(const Options& o, int displays, double replay_s, const fs::path& work) {
  Phase phase;
  phase.displays = displays;
  const std::uint16_t port = free_port();
  const std::string tag = std::to_string(displays);
  char speed[32], linger[32];
  std::snprintf(speed, sizeof speed, "%g", o.speed);
  std::snprintf(linger, sizeof linger, "%g", o.linger_s);
  std::vector<std::string> argv = {
      o.daemon, "replay",     "--routes",
      o.routes, "--gps",      o.gps,
      "--auto", "--realtime", "--speed",
      speed,    "--http",     "127.0.0.1:" + std::to_string(port),
      "--web",  o.web,        "--linger",
      linger,   "--events",   (work / ("events-" + tag + ".jsonl")).string()};
  if (!o.audio.empty()) {
    argv.push_back("--audio");
    argv.push_back(o.audio);
  }
  const fs::path log = work / ("stopcalld-" + tag + ".log");
  std::printf("\n-- %d display(s): stopcalld on 127.0.0.1:%u (log %s)\n", displays, port,
              log.c_str());
  std::fflush(stdout);

  Daemon daemon(argv, log);
  const auto spawned = Clock::now();
  auto fail = [&](const std::string& what) {
    daemon.terminate();
    throw std::runtime_error(what + " (daemon " + daemon.exit_text() + "; " + log.string() + ": " +
                             last_line(log) + ")");
  };
  // Ready when the port accepts.
  for (;;) {
    asio::io_context io;
    tcp::socket probe(io);
    beast::error_code ec;
    probe.connect(local(port), ec);
    if (!ec) break;
    if (!daemon.running()) fail("stopcalld exited before serving");
    if (seconds_since(spawned) > 30) fail("stopcalld did not listen within 30 s");
    std::this_thread::sleep_for(20ms);
  }
  phase.ready_s = seconds_since(spawned);

  std::unique_ptr<Displays> screens;
  if (displays > 0) {
    screens = std::make_unique<Displays>(port, o);
  }
  phase.connected_s = seconds_since(spawned);

  const auto settle =
      std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.settle_s));
  auto t0 = spawned + settle;
  if (Clock::now() > t0) {
    std::printf("   (connecting took %.1f s, more than --settle: the window starts later)\n",
                phase.connected_s);
    t0 = Clock::now();
  }
  std::this_thread::sleep_until(t0);
  const auto cpu0 = cpu_seconds(daemon.pid());
  const auto mem0 = memory_of(daemon.pid());
  const double self0 = self_cpu_seconds();
  if (!cpu0 || !mem0) fail("cannot read /proc of stopcalld");
  phase.start = *mem0;
  phase.peak_rss_kb = mem0->rss_kb;
  const int samples = static_cast<int>(std::ceil(o.window_s));
  const auto window =
      std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.window_s));
  for (int k = 1; k <= samples; ++k) {
    std::this_thread::sleep_until(std::min(t0 + std::chrono::seconds(k), t0 + window));
    const auto mem = memory_of(daemon.pid());
    if (!mem || !daemon.running()) fail("stopcalld ended inside the window: the trace is short");
    phase.peak_rss_kb = std::max(phase.peak_rss_kb, mem->rss_kb);
    phase.end = *mem;
  }
  const auto cpu1 = cpu_seconds(daemon.pid());
  const double self1 = self_cpu_seconds();
  phase.window_s = seconds_since(t0);
  if (!cpu1) fail("cannot read /proc of stopcalld");
  phase.cpu_s = *cpu1 - *cpu0;
  phase.cpu_pct = 100 * phase.cpu_s / phase.window_s;
  phase.self_cpu_pct = 100 * (self1 - self0) / phase.window_s;
  phase.run_peak_rss_kb = phase.peak_rss_kb;
  phase.run_end = phase.end;

  if (!screens) {
    // Nothing to check after the window: stop it rather than wait for the trace to end.
    daemon.terminate();
    phase.daemon_exit = "stopped after the window";
    return phase;
  }
  // The displays stay until the trace ends, the stalled one stalling (and dropped, and back) all
  // along; memory is sampled every second meanwhile. It stops stalling a second before the trace
  // ends, so that the daemon's closing of every screen is not taken for a drop.
  const auto stall_end = spawned + std::chrono::duration_cast<Clock::duration>(
                                       std::chrono::duration<double>(replay_s - 1));
  for (auto next = t0 + window + 1s; next < stall_end; next += 1s) {
    std::this_thread::sleep_until(next);
    const auto mem = memory_of(daemon.pid());
    if (!mem || !daemon.running()) fail("stopcalld ended before its trace did");
    phase.run_peak_rss_kb = std::max(phase.run_peak_rss_kb, mem->rss_kb);
    phase.run_end = *mem;
  }
  phase.run_s = seconds_since(t0);
  screens->stop_stalling();

  // The linger, then the daemon closes the screens and exits by itself.
  const auto deadline = spawned + std::chrono::duration_cast<Clock::duration>(
                                      std::chrono::duration<double>(replay_s + o.linger_s + 30));
  if (!daemon.wait_exit(deadline)) {
    std::printf("   (stopcalld still running 30 s after its trace and linger: stopped)\n");
    daemon.terminate();
  }
  phase.daemon_exit = daemon.exit_text();
  phase.daemon_summary = last_line(log);

  phase.all_closed = screens->finish(10s);
  phase.stalled = screens->stalled().report;

  // Every reader against the others: same bytes per seq, same last seq.
  const auto& readers = screens->readers();
  phase.readers = readers.size();
  std::unordered_map<std::uint64_t, std::size_t> reference;
  std::uint64_t first_max = 0, last_max = 0;
  phase.messages_min = UINT64_MAX;
  for (const auto& r : readers) {
    for (const auto& [seq, hash] : r->hashes) {
      auto [it, inserted] = reference.emplace(seq, hash);
      if (!inserted && it->second != hash) ++phase.mismatches;
    }
    if (r->check.first_seq) first_max = std::max(first_max, *r->check.first_seq);
    if (r->check.last_seq) last_max = std::max(last_max, *r->check.last_seq);
    phase.messages_min = std::min(phase.messages_min, r->check.messages);
    phase.messages_max = std::max(phase.messages_max, r->check.messages);
    phase.latency_ms.insert(phase.latency_ms.end(), r->latency_ms.begin(), r->latency_ms.end());
    if (r->check.in_order()) ++phase.readers_in_order;
    if (r->closed_by_server) ++phase.readers_closed_by_server;
  }
  for (const auto& r : readers) {
    if (r->check.last_seq == last_max && r->closed_by_server) ++phase.readers_complete;
  }
  if (readers.empty()) phase.messages_min = 0;
  if (!readers.empty()) phase.types = readers.front()->check.types;
  phase.first_seq = first_max;
  phase.last_seq = last_max;
  phase.broadcasts = last_max - first_max;
  for (const auto& r : readers) {
    if (!r->check.in_order() || r->check.last_seq != last_max || !r->closed_by_server) {
      std::printf(
          "   display: %llu messages, seq %llu..%llu, %llu skipped, %llu out of order, "
          "ended: %s\n",
          static_cast<unsigned long long>(r->check.messages),
          static_cast<unsigned long long>(r->check.first_seq.value_or(0)),
          static_cast<unsigned long long>(r->check.last_seq.value_or(0)),
          static_cast<unsigned long long>(r->check.gaps),
          static_cast<unsigned long long>(r->check.out_of_order), r->end.c_str());
    }
  }
  return phase;
}

}  // namespace stopcall::hmi::bench
