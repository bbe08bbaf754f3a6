// fleet_load: the depot's broker under a whole fleet. One process simulates N buses (default
// 3,000), each its own MQTT connection doing what a bus's fleet link does (buses.hpp), on one
// real mosquitto, and prints in one table:
//
//  - the connection ramp: every bus connected and subscribed (first tries jittered over --ramp);
//  - fleet message fan-out: K messages (default 10) published on <prefix>/fleet/requests by a
//    depot client, each with its send time (with --command-key SECRET: signed messages for the
//    whole fleet, with a text per language, as the control centre sends them, so that real buses
//    on the same broker announce them: odd k an emergency, cancelled --cancel-after seconds
//    later (default 4) by a signed fleet-wide cancel so that buses go back to normal, even k a
//    service message; its k and send time ride beside the signed fields). In pairs, one pair per
//    K/2 of the window: the emergency at 5 % of the pair's time, the service message 8 s after
//    its cancel (past the next stop said again when the emergency ends; the pair's time must
//    hold that and the service message's saying; unsigned, evenly spread). p50/p99/max latency
//    to the buses over all buses and messages (both classes; the cancels carry no k), and how
//    many buses got each (all N expected);
//  - events per second the broker acknowledged, the broker's CPU and RSS (when started here) and
//    this program's, over the --seconds window (default 90);
//  - with --restart-broker: the broker stopped as a depot restarts it (SIGTERM: it saves its
//    sessions and queued messages, persistence being on) or, with --crash-broker, killed (SIGKILL),
//    started again on the same port, and the time until every bus is connected and subscribed
//    again (target: within 60 s);
//  - with --collector-sub: one client subscribed to <prefix>/bus/+/events as the depot's
//    collector would be; event latency p50/p99 from the bus's publish, and the (vehicle, seq)
//    acknowledged to a bus but never received (lost) or received twice (doubled).
//
//   fleet_load [--buses N] [--seconds S] [--ramp S] [--fanout K] [--threads T] [--seed N]
//              (--mosquitto PATH [--restart-broker [--crash-broker]] | --host H --port P)
//              [--prefix P] [--cancel-after S]
//              [--collector-sub] [--start-after FILE] [--acked-out FILE] [--command-key SECRET]
//              [--sent-out FILE] [--end-after FILE] [--check]
//
// --start-after FILE: once the broker is up, says "fleet_load: broker at HOST:PORT" on standard
// error and starts the buses only when FILE exists (another collector, e.g. `stopcall-fleet
// serve`, connects meanwhile); if FILE holds a process id (that collector's), its CPU and RSS are
// measured over the window like the broker's; --acked-out FILE: at the end, "<vehicle> <events
// acknowledged>" per bus (the events with seq 1 to that number reached the broker), for that
// collector's losses. --sent-out FILE: "<k> <CLOCK_MONOTONIC ns> <class>" per fan-out message as
// it was published (a bus's "sound" log line carries the same clock: when it was heard there);
// class is emergency, service or unsigned (without --command-key).
// --end-after FILE: with the table printed, says "fleet_load: done" on standard error and keeps
// the broker up until FILE exists (up to 300 s), so that other clients finish what they send.
//
// --mosquitto starts a private broker on a free port of 127.0.0.1 (process.hpp); --check exits
// 1 unless every bus connected, got every fan-out message, came back after the restart, and (with
// --collector-sub, without a restart) no event was lost. Ends with a RESULT line of key=value;
// with a restart it gives, as microseconds of the system clock (the events' sent_us), when the
// broker was stopped (broker_stop_us), up again (broker_up_us) and every bus back (all_back_us,
// or when the wait for them gave up).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "daemon/fleet/bench/buses.hpp"
#include "daemon/fleet/bench/probe.hpp"
#include "daemon/fleet/bench/process.hpp"
#include "daemon/fleet/command.hpp"
#include "routes/signing.hpp"

namespace {

using namespace stopcall::fleet_bench;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// A fan-out pair's service message goes this long after the emergency's cancel: the bus says the
// next stop again when the emergency ends (about 7 s in three languages), and a service message
// would wait for that. Then it is said, about 4 s.
constexpr std::chrono::seconds kSaidAgain{8}, kServiceSaying{4};

std::string format(const char* f, auto... args) {
  char text[256];
  std::snprintf(text, sizeof text, f, args...);
  return text;
}

struct Args {
  int buses = 3000, fanout = 10, threads = 2;
  double seconds = 90, ramp = -1, cancel_after = 4;
  std::uint64_t seed = 1;
  std::string mosquitto, host = "127.0.0.1", prefix = "stopcall/v1", start_after, acked_out,
                         command_key, sent_out, end_after;
  int port = 0;
  bool restart = false, crash = false, collector = false, check = false;
};

[[noreturn]] void usage(const std::string& why) {
  std::fprintf(stderr,
               "fleet_load: %s\nusage: fleet_load [--buses N] [--seconds S] [--ramp S] "
               "[--fanout K] [--threads T] [--seed N]\n"
               "                  (--mosquitto PATH [--restart-broker [--crash-broker]] | "
               "--host H --port P) [--prefix P] [--cancel-after S] [--collector-sub] "
               "[--start-after FILE] [--acked-out FILE] "
               "[--command-key SECRET] [--sent-out FILE] [--end-after FILE] [--check]\n",
               why.c_str());
  std::exit(2);
}

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string o = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(o + " needs a value");
      return argv[++i];
    };
    auto number = [&](double low) {
      const std::string v = value();
      char* end = nullptr;
      const double d = std::strtod(v.c_str(), &end);
      if (v.empty() || *end != '\0' || !(d >= low) || d > 1e9) usage(o + ": bad value '" + v + "'");
      return d;
    };
    if (o == "--buses")
      a.buses = static_cast<int>(number(1));
    else if (o == "--seconds")
      a.seconds = number(1);
    else if (o == "--ramp")
      a.ramp = number(0);
    else if (o == "--fanout")
      a.fanout = static_cast<int>(number(0));
    else if (o == "--cancel-after")
      a.cancel_after = number(0);
    else if (o == "--threads")
      a.threads = static_cast<int>(number(1));
    else if (o == "--seed")
      a.seed = static_cast<std::uint64_t>(number(0));
    else if (o == "--mosquitto")
      a.mosquitto = value();
    else if (o == "--host")
      a.host = value();
    else if (o == "--port")
      a.port = static_cast<int>(number(1));
    else if (o == "--prefix")
      a.prefix = value();
    else if (o == "--restart-broker")
      a.restart = true;
    else if (o == "--crash-broker")
      a.crash = true;
    else if (o == "--collector-sub")
      a.collector = true;
    else if (o == "--check")
      a.check = true;
    else if (o == "--start-after")
      a.start_after = value();
    else if (o == "--end-after")
      a.end_after = value();
    else if (o == "--sent-out")
      a.sent_out = value();
    else if (o == "--command-key")
      a.command_key = value();
    else if (o == "--acked-out")
      a.acked_out = value();
    else
      usage("unknown option " + o);
  }
  if (a.mosquitto.empty() && a.port == 0) usage("give --mosquitto PATH or --host and --port");
  if (!a.mosquitto.empty() && a.port != 0) usage("--mosquitto starts its own broker: no --port");
  if (a.restart && a.mosquitto.empty()) usage("--restart-broker needs the broker started here");
  if (a.crash && !a.restart) usage("--crash-broker goes with --restart-broker");
  if (a.ramp < 0) a.ramp = std::max(1.0, a.buses / 200.0);  // 200 new connections a second
  // Signed, each emergency and service pair: its emergency at 5 % of its time, the cancel, the
  // next stop said again, the service message's saying, all before the next pair's emergency.
  const double pair_s = a.fanout > 0 ? a.seconds / ((a.fanout + 1) / 2) : a.seconds;
  const double needed_s =
      static_cast<double>((kSaidAgain + kServiceSaying).count()) + a.cancel_after;
  if (!a.command_key.empty() && a.fanout >= 2 && pair_s * 0.95 < needed_s) {
    usage(
        format("%d fan-out messages in %.0f s give each emergency and service pair %.1f s; it "
               "needs %.1f s (--seconds, --fanout, --cancel-after)",
               a.fanout, a.seconds, pair_s, needed_s / 0.95));
  }
  return a;
}

// Waits until `done` holds or `limit` passes; true if it held.
template <typename F>
bool wait_until(F done, Clock::duration limit) {
  const auto until = Clock::now() + limit;
  while (!done()) {
    if (Clock::now() >= until) return false;
    std::this_thread::sleep_for(20ms);
  }
  return true;
}

// Fan-out message k's class: with a key, odd k an emergency and even k a service message.
const char* fanout_class(bool signed_, int k) {
  if (!signed_) return "unsigned";
  return k % 2 == 1 ? "emergency" : "service";
}

// A control line signed for the whole fleet, as the control centre sends it.
std::string signed_for_fleet(const stopcall::routes::SecretKey& key, const std::string& line) {
  const auto now = std::chrono::floor<std::chrono::milliseconds>(std::chrono::system_clock::now());
  return stopcall::daemon::fleet::sign_command(
      key, {stopcall::daemon::fleet::Audience::Kind::fleet, {}}, now, line);
}

std::string fanout_id(int k) {
  return "bench-fanout-" + std::to_string(k);
}

// Fan-out message k: with a key, a signed emergency or service message for the fleet (the bus's
// control line, daemon/vehicle/CONTROL.md), with k and the send time as unsigned fields the bus
// ignores. A service message is said once (no repeats at the next departures: the notices would
// otherwise queue up at each stop); an emergency is cancelled before its first repeat.
std::string fanout_payload(const std::optional<stopcall::routes::SecretKey>& key, int k) {
  const std::string stamp = "\"k\":" + std::to_string(k) + ",\"sent_us\":";
  if (!key) return "{\"bench\":\"fanout\"," + stamp + std::to_string(now_us()) + "}";
  const bool emergency = std::string(fanout_class(true, k)) == "emergency";
  const std::string n = std::to_string(k);
  const std::string line = std::string("{\"cmd\":\"message\",\"kind\":\"") +
                           (emergency ? "emergency\"" : "service\",\"repeats\":0") +
                           ",\"message_id\":\"" + fanout_id(k) + "\",\"text\":{\"zh-Hans\":\"" +
                           (emergency ? "车队紧急通知" : "车队通知") + n + "\",\"yue\":\"" +
                           (emergency ? "车队紧急通知" : "车队通知") + n + "\",\"en\":\"" +
                           (emergency ? "Fleet emergency " : "Fleet notice ") + n + "\"}}";
  std::string envelope = signed_for_fleet(*key, line);
  envelope.pop_back();  // the closing brace
  return envelope + "," + stamp + std::to_string(now_us()) + "}";
}

// The signed fleet-wide cancel of fan-out message k (no k: the simulated buses do not count it).
std::string cancel_payload(const stopcall::routes::SecretKey& key, int k) {
  return signed_for_fleet(key, "{\"cmd\":\"message\",\"cancel\":\"" + fanout_id(k) + "\"}");
}

// What the depot publishes over the window, in time order: fan-out message k (cancel false) or
// the cancel of emergency k, `at` after the window's start. Signed, in pairs, one pair to each
// window / ceil(K / 2): the emergency at 5 % of the pair's time, its cancel cancel_after later,
// the service message kSaidAgain after the cancel. Unsigned (only simulated buses count them),
// evenly spread.
Clock::duration pair_time(int messages, Clock::duration window) {
  return messages <= 0 ? window : window / ((messages + 1) / 2);
}

struct Send {
  Clock::duration at;
  int k;
  bool cancel;
};
std::vector<Send> fanout_schedule(int messages, Clock::duration window,
                                  Clock::duration cancel_after, bool signed_) {
  std::vector<Send> out;
  if (messages <= 0) return out;
  if (!signed_) {
    for (int k = 1; k <= messages; ++k)
      out.push_back({k * (window / (messages + 1)), k, false});
    return out;
  }
  const auto slot = pair_time(messages, window);
  for (int k = 1; k <= messages; ++k) {
    const auto pair = (k - 1) / 2;
    const Clock::duration emergency_at = pair * slot + slot / 20;
    if (k % 2 == 1) {
      out.push_back({emergency_at, k, false});
      out.push_back({emergency_at + cancel_after, k, true});
    } else {
      out.push_back({emergency_at + cancel_after + kSaidAgain, k, false});
    }
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const Send& x, const Send& y) { return x.at < y.at; });
  return out;
}

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// Nearest rank, in milliseconds.
double percentile_ms(std::vector<std::int64_t> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(v.size())));
  return static_cast<double>(v[std::clamp<std::size_t>(rank, 1, v.size()) - 1]) / 1000.0;
}

void row(const std::string& measure, const std::string& value, const std::string& target = "") {
  std::printf("%-32s %-62s %s\n", measure.c_str(), value.c_str(), target.c_str());
}

int run(const Args& a) {
  const long need = 2L * a.buses + 64;  // a socket and its duplicate per bus
  const long nofile = raise_nofile();
  if (nofile < need) {
    std::fprintf(stderr,
                 "fleet_load: the open-file limit is %ld even raised to its hard limit; %d buses "
                 "need %ld (and a broker started here as many): raise the hard limit (ulimit -Hn, "
                 "LimitNOFILE=)\n",
                 nofile, a.buses, need);
    return 1;
  }
  std::fprintf(stderr, "fleet_load: open-file limit raised to %ld (%ld needed)\n", nofile, need);

  std::optional<stopcall::routes::SecretKey> command_key;
  if (!a.command_key.empty()) command_key = stopcall::routes::load_secret_key(a.command_key);
  std::optional<Broker> broker;
  std::string host = a.host;
  int port = a.port;
  if (!a.mosquitto.empty()) {
    broker.emplace(a.mosquitto, a.prefix);
    broker->start();
    host = "127.0.0.1";
    port = broker->port();
  }
  std::unique_ptr<Collector> collector;
  if (a.collector) {
    collector = std::make_unique<Collector>(host, port, a.prefix);
    if (!collector->wait_ready(10s)) throw std::runtime_error("the collector did not connect");
  }
  Probe depot(host, port, "depot", {});
  pid_t watched = 0;  // the other collector, when --start-after's file names it
  if (!depot.wait_ready(10s)) throw std::runtime_error("the depot client did not connect");
  if (!a.start_after.empty()) {
    std::fprintf(stderr, "fleet_load: broker at %s:%d\n", host.c_str(), port);
    if (!wait_until([&] { return std::filesystem::exists(a.start_after); }, 120s))
      throw std::runtime_error(a.start_after + " did not appear within 120 s");
    std::ifstream(a.start_after) >> watched;
  }

  BusOptions options;
  options.host = host;
  options.port = port;
  options.prefix = a.prefix;
  options.buses = a.buses;
  options.threads = a.threads;
  options.seed = a.seed;
  options.ramp = std::chrono::milliseconds(static_cast<long>(a.ramp * 1000));
  Buses buses(options);

  // 1. The ramp.
  const auto started = Clock::now();
  buses.start();
  std::fprintf(stderr, "fleet_load: %d buses connecting over %.1f s\n", a.buses, a.ramp);
  const bool all_up = wait_until(
      [&] { return buses.ready() == a.buses; },
      std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(a.ramp + 60)));
  const double ramp_s = seconds_since(started);
  const int ready_after_ramp = buses.ready();

  // 2. The window: fan-out, events, CPU and memory.
  std::fprintf(stderr, "fleet_load: %d connected in %.1f s; measuring for %.0f s\n",
               ready_after_ramp, ramp_s, a.seconds);
  const auto window =
      std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(a.seconds));
  const auto w0 = Clock::now();
  const ProcSample broker0 = broker ? sample(broker->pid()) : ProcSample{};
  const ProcSample self0 = sample(0);
  const ProcSample watched0 = watched > 0 ? sample(watched) : ProcSample{};
  const std::int64_t acked0 = buses.events_acked(), status0 = buses.status_sent();
  // Spread over the window: a real bus says a service message after what is playing, so messages
  // closer than one saying (about 4 s in three languages) would measure its queue, not the fleet.
  int fanout_published = 0, cancels_published = 0, cancels = 0;
  std::ofstream sent_out;
  if (!a.sent_out.empty()) sent_out.open(a.sent_out);
  const auto cancel_after =
      std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(a.cancel_after));
  for (const Send& s : fanout_schedule(a.fanout, window, cancel_after, command_key.has_value())) {
    std::this_thread::sleep_until(w0 + s.at);
    if (s.cancel) {
      ++cancels;
      if (depot.publish(a.prefix + "/fleet/requests", cancel_payload(*command_key, s.k), 10s))
        ++cancels_published;
      continue;
    }
    const std::string payload = fanout_payload(command_key, s.k);
    if (sent_out.is_open()) {
      sent_out << s.k << " "
               << std::chrono::duration_cast<std::chrono::nanoseconds>(
                      Clock::now().time_since_epoch())
                      .count()
               << " " << fanout_class(command_key.has_value(), s.k) << std::endl;
    }
    if (depot.publish(a.prefix + "/fleet/requests", payload, 10s)) ++fanout_published;
  }
  std::this_thread::sleep_until(w0 + window);
  const double window_s = seconds_since(w0);
  const ProcSample broker1 = broker ? sample(broker->pid()) : ProcSample{};
  const ProcSample self1 = sample(0);
  const ProcSample watched1 = watched > 0 ? sample(watched) : ProcSample{};
  const std::int64_t acked1 = buses.events_acked(), status1 = buses.status_sent();
  wait_until([&] { return buses.fanout_received() >= std::int64_t{a.buses} * a.fanout; }, 10s);

  // 3. The broker's crash and the fleet's return.
  double broker_back_s = 0, reconnect_s = -1;
  int back = 0;
  std::int64_t broker_stop_us = 0, broker_up_us = 0, all_back_us = 0;
  if (a.restart) {
    std::fprintf(stderr, "fleet_load: %s the broker\n", a.crash ? "killing" : "stopping");
    broker_stop_us = now_us();
    if (a.crash)
      broker->kill();
    else
      broker->stop();
    const auto killed = Clock::now();
    broker->start();
    broker_up_us = now_us();
    broker_back_s = seconds_since(killed);
    wait_until([&] { return buses.ready() == 0; }, 15s);
    if (wait_until([&] { return buses.ready() == a.buses; }, 120s))
      reconnect_s = seconds_since(killed);
    all_back_us = now_us();
    back = buses.ready();
    if (collector) collector->wait_ready(10s);
  }

  // 4. No new events; what was made goes up and reaches the collector.
  buses.set_events(false);
  wait_until([&] { return buses.events_acked() >= buses.events_made(); }, 20s);
  if (collector) std::this_thread::sleep_for(2s);
  const std::int64_t made = buses.events_made(), acked = buses.events_acked();
  buses.stop();

  // The table.
  std::printf("\nfleet load: %d buses on mosquitto %s:%d%s, %d threads, %.0f s window\n", a.buses,
              host.c_str(), port, broker ? " (started here)" : "", a.threads, window_s);
  row("measure", "value", "target");
  row("connection ramp",
      format("%d/%d connected and subscribed in %.1f s (first tries over %.1f s)", ready_after_ramp,
             a.buses, ramp_s, a.ramp),
      "all");
  const auto fan = buses.fanout();
  std::vector<std::int64_t> all;
  std::string got;
  int fanout_min = a.fanout > 0 ? a.buses : 0;
  for (int k = 1; k <= a.fanout; ++k) {
    const auto it = fan.find(k);
    const int n = it == fan.end() ? 0 : static_cast<int>(it->second.size());
    fanout_min = std::min(fanout_min, n);
    got += (got.empty() ? "" : " ") + std::to_string(n);
    if (it != fan.end()) all.insert(all.end(), it->second.begin(), it->second.end());
  }
  const double f50 = percentile_ms(all, 0.5), f99 = percentile_ms(all, 0.99),
               fmax = percentile_ms(all, 1.0);
  row(command_key
          ? format("fleet fan-out (%d emergency, %d service)", (a.fanout + 1) / 2, a.fanout / 2)
          : format("fleet fan-out (%d messages)", a.fanout),
      format("p50 %.1f ms, p99 %.1f ms, max %.1f ms", f50, f99, fmax));
  row("  buses that got each",
      got + format(" (of %d; %lld twice)", a.buses, static_cast<long long>(buses.fanout_doubled())),
      "all");
  const double events_per_s = static_cast<double>(acked1 - acked0) / window_s;
  const double status_per_s = static_cast<double>(status1 - status0) / window_s;
  row("events acknowledged",
      format("%.0f/s (expected %.0f/s), status %.0f/s", events_per_s, a.buses / 5.0, status_per_s));
  const double broker_cpu = broker ? 100 * (broker1.cpu_s - broker0.cpu_s) / window_s : 0;
  const double self_cpu = 100 * (self1.cpu_s - self0.cpu_s) / window_s;
  const double watched_cpu = 100 * (watched1.cpu_s - watched0.cpu_s) / window_s;
  if (broker) {
    row("broker CPU, RSS", format("%.1f %% of a core, %.1f MB (peak %.1f MB)", broker_cpu,
                                  broker1.rss_kb / 1024.0, broker1.hwm_kb / 1024.0));
  }
  row("fleet_load CPU, RSS", format("%.1f %% of a core, %.1f MB (peak %.1f MB)", self_cpu,
                                    self1.rss_kb / 1024.0, self1.hwm_kb / 1024.0));
  if (watched > 0) {
    row("collector process CPU, RSS",
        format("%.1f %% of a core, %.1f MB (peak %.1f MB)", watched_cpu, watched1.rss_kb / 1024.0,
               watched1.hwm_kb / 1024.0));
  }
  if (a.restart) {
    row(a.crash ? "reconnect after broker crash" : "reconnect after broker restart",
        reconnect_s >= 0 ? format("all %d back in %.1f s (broker up again in %.2f s)", a.buses,
                                  reconnect_s, broker_back_s)
                         : format("only %d/%d back after 120 s", back, a.buses),
        "< 60 s");
  }
  CollectorFigures c;
  if (collector) {
    c = collector->figures(buses.acked_by_vehicle());
    row("collector: event latency",
        format("p50 %.1f ms, p99 %.1f ms over %lld received", percentile_ms(c.latency_us, 0.5),
               percentile_ms(c.latency_us, 0.99), static_cast<long long>(c.received)));
    row("collector: lost, doubled",
        format("%lld lost, %lld doubled of %lld acknowledged (%lld made)",
               static_cast<long long>(c.lost), static_cast<long long>(c.doubled),
               static_cast<long long>(acked), static_cast<long long>(made)),
        a.restart ? "0, 0 without a restart" : "0, 0");
  }
  std::printf(
      "RESULT buses=%d ready=%d ramp_s=%.1f fanout_p50_ms=%.1f fanout_p99_ms=%.1f "
      "fanout_max_ms=%.1f fanout_min_buses=%d events_per_s=%.0f broker_cpu_pct=%.1f "
      "broker_rss_mb=%.1f self_cpu_pct=%.1f self_rss_mb=%.1f reconnect_s=%.1f "
      "collector_p50_ms=%.1f collector_p99_ms=%.1f lost=%lld doubled=%lld serve_cpu_pct=%.1f "
      "serve_rss_mb=%.1f serve_peak_mb=%.1f restart=%s fanout=%d cancels=%d cancels_published=%d "
      "broker_stop_us=%lld broker_up_us=%lld all_back_us=%lld\n",
      a.buses, ready_after_ramp, ramp_s, f50, f99, fmax, fanout_min, events_per_s, broker_cpu,
      broker1.rss_kb / 1024.0, self_cpu, self1.rss_kb / 1024.0, reconnect_s,
      percentile_ms(c.latency_us, 0.5), percentile_ms(c.latency_us, 0.99),
      static_cast<long long>(c.lost), static_cast<long long>(c.doubled), watched_cpu,
      watched1.rss_kb / 1024.0, watched1.hwm_kb / 1024.0,
      !a.restart ? "none"
      : a.crash  ? "kill"
                 : "term",
      a.fanout, cancels, cancels_published, static_cast<long long>(broker_stop_us),
      static_cast<long long>(broker_up_us), static_cast<long long>(all_back_us));
  if (!a.acked_out.empty()) {
    std::ofstream out(a.acked_out);
    for (const auto& [vehicle, n] : buses.acked_by_vehicle())
      out << vehicle << " " << n << "\n";
    if (!out) throw std::runtime_error("cannot write " + a.acked_out);
  }
  if (!a.end_after.empty()) {
    std::fflush(stdout);
    std::fprintf(stderr, "fleet_load: done\n");
    wait_until([&] { return std::filesystem::exists(a.end_after); }, 300s);
  }
  if (!a.check) return 0;
  const bool ok = all_up && fanout_published == a.fanout && cancels_published == cancels &&
                  fanout_min == a.buses && acked > 0 && (!a.restart || reconnect_s >= 0) &&
                  (!collector || a.restart || c.lost == 0);
  if (!ok) std::fprintf(stderr, "fleet_load: --check failed\n");
  return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(parse(argc, argv));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fleet_load: %s\n", e.what());
    return 1;
  }
}
