// hmi_bench: the screens under load, on the real daemon. Prints figures, never gates.
//
//   hmi_bench --daemon stopcalld --routes BUNDLE --gps TRACE [--speed 20] [--window 60] ...
//
// Runs `stopcalld replay --auto --realtime --speed S --http 127.0.0.1:PORT --audio "fakesink
// sync=true"` twice on the same trace: once with no screen connected, once with 50 WebSocket
// passenger displays connected from this process (49 that read everything, 1 stalled). Over the
// same window of each run (from --settle s after the daemon started, for --window s) it reads the
// daemon's CPU (utime + stime of /proc/PID/stat, as % of one core) and its memory (VmRSS every
// second, VmHWM; /proc/PID/status). This process's own CPU is not in the figure. The run without
// displays is stopped after its window; the one with displays goes on to the end of the trace
// (memory still sampled every second), so the trace should last the window and a little more.
//
// The readers check that they all get the same messages: every `seq` after the first `state`
// exactly one more than the one before, the same bytes for the same `seq` on every display, and
// each display's last `seq` the last one published (the trace ends, the daemon lingers, then
// closes every screen with "going away").
//
// The stalled display connects with a small SO_RCVBUF and never reads. By default it sends
// nothing either (a hung display); with --stalled-ping S it sends a protocol `ping` every S
// seconds as the pages do, which keeps the server's idle timeout from dropping it. A drop is seen
// from outside, in /proc/net/tcp: the daemon's end of that connection leaves ESTABLISHED (its send
// queue there is the kernel's share of the backlog). The display then reads what had reached its
// socket (a prefix of the stream, checked like the readers'), connects and stalls again, until a
// second before the trace ends.
#include <signal.h>
#include <stdlib.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "hmi/bench/options.hpp"
#include "hmi/bench/phase.hpp"
#include "hmi/bench/process.hpp"

namespace {

using namespace stopcall::hmi::bench;

double mb(long kb) {
  return static_cast<double>(kb) * 1024 / 1e6;
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto i = static_cast<std::size_t>(std::ceil(p / 100 * static_cast<double>(v.size()))) - 1;
  return v[std::min(i, v.size() - 1)];
}

std::string fixed(double v, int decimals) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", decimals, v);
  return text;
}

void print_row(const std::string& what, const std::string& idle, const std::string& busy) {
  std::printf("%-46s %-22s %s\n", what.c_str(), idle.c_str(), busy.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  ::signal(SIGPIPE, SIG_IGN);
  Options o;
  CLI::App app{"hmi_bench: the daemon's CPU and memory with 50 passenger displays connected"};
  app.add_option("--daemon", o.daemon, "stopcalld")->required()->check(CLI::ExistingFile);
  app.add_option("--routes", o.routes, "route bundle (the demo route)")
      ->required()
      ->check(CLI::ExistingFile);
  app.add_option("--gps", o.gps, "gpsd JSON trace (stopcall-scenario generate --out-trace)")
      ->required()
      ->check(CLI::ExistingFile);
  app.add_option("--speed", o.speed, "replay this many times faster than recorded")
      ->capture_default_str();
  app.add_option("--window", o.window_s, "seconds measured in each run")->capture_default_str();
  app.add_option("--settle", o.settle_s, "seconds from the daemon's start to the window")
      ->capture_default_str();
  app.add_option("--linger", o.linger_s, "stopcalld --linger")->capture_default_str();
  app.add_option("--displays", o.displays, "displays in the second run, the stalled one included")
      ->capture_default_str()
      ->check(CLI::Range(2, 64));
  app.add_option("--web", o.web, "stopcalld --web")->capture_default_str();
  app.add_option("--audio", o.audio, "stopcalld --audio (empty: no voice, no subtitles)")
      ->capture_default_str();
  app.add_option("--stalled-rcvbuf", o.stalled_rcvbuf, "the stalled display's SO_RCVBUF")
      ->capture_default_str();
  app.add_option("--stalled-ping", o.stalled_ping_s,
                 "seconds between the stalled display's pings (0: silent, the idle timeout "
                 "drops it)")
      ->capture_default_str();
  app.add_option("--work", o.work,
                 "folder for the daemon's logs and events (default: a temporary "
                 "one, removed)");
  app.add_option("--figures", o.figures, "also write the figures here, `key value` per line");
  CLI11_PARSE(app, argc, argv);

  fs::path work;
  bool remove_work = false;
  try {
    if (o.work.empty()) {
      std::string pattern = (fs::temp_directory_path() / "hmi_bench.XXXXXX").string();
      if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
      work = pattern;
      remove_work = true;
    } else {
      work = o.work;
      fs::create_directories(work);
    }
    const double span_s = trace_span_s(o.gps);
    const double replay_s = span_s / o.speed;
    std::printf(
        "hmi_bench: %s, %.0f s of trace at speed %g = %.0f s of replay; window %.0f s from "
        "%.0f s after start; %d displays (1 stalled, SO_RCVBUF %d, %s)\n",
        o.gps.c_str(), span_s, o.speed, replay_s, o.window_s, o.settle_s, o.displays,
        o.stalled_rcvbuf,
        o.stalled_ping_s > 0 ? ("ping every " + fixed(o.stalled_ping_s, 1) + " s").c_str()
                             : "silent");
    if (replay_s < o.settle_s + o.window_s + 2) {
      throw std::runtime_error(
          "the replay is shorter than --settle + --window: generate a longer "
          "trace (stopcall-scenario generate --follow-block --hours H)");
    }

    const Phase idle = run_phase(o, 0, replay_s, work);
    const Phase busy = run_phase(o, o.displays, replay_s, work);

    const std::string busy_title = std::to_string(busy.displays) + " displays (" +
                                   std::to_string(busy.readers) + " + 1 stalled)";
    std::printf(
        "\n== screens: stopcalld replay --speed %g; CPU window %.0f s from %.0f s after "
        "start in both runs\n",
        o.speed, o.window_s, o.settle_s);
    auto plus = [](double v, int decimals) {
      char text[64];
      std::snprintf(text, sizeof text, "%+.*f", decimals, v);
      return std::string(text);
    };
    auto rss = [](const Memory& start, long peak_kb, const Memory& end) {
      return fixed(mb(start.rss_kb), 1) + " / " + fixed(mb(peak_kb), 1) + " / " +
             fixed(mb(end.rss_kb), 1);
    };
    print_row("", "0 displays", busy_title);
    print_row("daemon CPU in the window, % of one core", fixed(idle.cpu_pct, 2) + " %",
              fixed(busy.cpu_pct, 2) + " %  (" + plus(busy.cpu_pct - idle.cpu_pct, 2) + ")");
    print_row("daemon CPU time in the window", fixed(idle.cpu_s, 2) + " s",
              fixed(busy.cpu_s, 2) + " s");
    print_row("RSS in the window: start / peak / end, MB",
              rss(idle.start, idle.peak_rss_kb, idle.end),
              rss(busy.start, busy.peak_rss_kb, busy.end));
    print_row("RSS to the trace's end (" + fixed(busy.run_s, 0) + " s), MB", "-",
              rss(busy.start, busy.run_peak_rss_kb, busy.run_end));
    print_row("RSS growth, peak - start, MB", fixed(mb(idle.peak_rss_kb - idle.start.rss_kb), 1),
              fixed(mb(busy.run_peak_rss_kb - busy.start.rss_kb), 1) + " (to the trace's end)");
    print_row("VmHWM (lifetime peak), MB", fixed(mb(idle.end.hwm_kb), 1),
              fixed(mb(busy.run_end.hwm_kb), 1));
    print_row("messages broadcast while all connected", "-",
              std::to_string(busy.broadcasts) + " (" +
                  fixed(static_cast<double>(busy.broadcasts) / replay_s, 2) + "/s; seq " +
                  std::to_string(busy.first_seq) + ".." + std::to_string(busy.last_seq) + ")");
    std::string by_type;
    for (const auto& [type, count] : busy.types)
      by_type += (by_type.empty() ? "" : ", ") + type + " " + std::to_string(count);
    print_row("  by type (first display)", "-", by_type);
    print_row("messages per reading display, min / max", "-",
              std::to_string(busy.messages_min) + " / " + std::to_string(busy.messages_max));
    print_row(
        "readers in order / complete / same bytes", "-",
        std::to_string(busy.readers_in_order) + " / " + std::to_string(busy.readers_complete) +
            " of " + std::to_string(busy.readers) + " / " +
            (busy.mismatches == 0 ? "yes" : std::to_string(busy.mismatches) + " seqs differ"));
    print_row("all readers got everything", "-", busy.readers_ok() ? "yes" : "NO");
    print_row("delivery latency p50 / p99 / max, ms", "-",
              fixed(percentile(busy.latency_ms, 50), 0) + " / " +
                  fixed(percentile(busy.latency_ms, 99), 0) + " / " +
                  fixed(percentile(busy.latency_ms, 100), 0));
    std::string stalled = busy.stalled.drops.empty() ? "no" : "yes";
    if (!busy.stalled.drops.empty()) {
      stalled += ", " + std::to_string(busy.stalled.drops.size()) + " time(s) in " +
                 std::to_string(busy.stalled.connections) + " connection(s), first after " +
                 fixed(busy.stalled.drops.front().after_s, 1) + " s";
    }
    print_row("stalled display dropped", "-", stalled);
    print_row("  most bytes its kernel send queue held", "-",
              std::to_string(busy.stalled.max_kernel_bytes()));
    print_row("bench process CPU in the window (not above)", fixed(idle.self_cpu_pct, 2) + " %",
              fixed(busy.self_cpu_pct, 2) + " %");
    print_row("daemon start to listening / all connected, s", fixed(idle.ready_s, 2),
              fixed(busy.ready_s, 2) + " / " + fixed(busy.connected_s, 2));
    print_row("daemon exit", idle.daemon_exit, busy.daemon_exit);
    std::printf("\nstopcalld, %d displays: %s\n", busy.displays, busy.daemon_summary.c_str());
    int i = 0;
    for (const auto& d : busy.stalled.drops) {
      std::printf(
          "stalled drop %d: %.1f s after connecting; %llu messages had reached its socket (%s%s%s: "
          "state at seq %llu, then up to seq %llu) when the readers were at seq %llu; the "
          "daemon's socket held up to %ld bytes for it\n",
          ++i, d.after_s, static_cast<unsigned long long>(d.reached),
          d.prefix_in_order ? "in order" : "NOT in order",
          d.close_frame ? ", close frame" : ", no close frame",
          d.partial_frame ? ", cut mid-frame" : "", static_cast<unsigned long long>(d.state_seq),
          static_cast<unsigned long long>(d.last_seq),
          static_cast<unsigned long long>(d.readers_seq), d.max_tx_queue);
    }
    if (busy.stalled.open_at_end) {
      std::printf(
          "stalled display when it stopped, before the trace's end: connected %.1f s, %llu "
          "broadcasts since, not dropped (the daemon's socket held up to %ld bytes for it)\n",
          busy.stalled.open_at_end_s,
          static_cast<unsigned long long>(busy.stalled.open_at_end_published),
          busy.stalled.open_at_end_tx_queue);
    }
    if (!busy.stalled.error.empty()) {
      std::printf("stalled display failed: %s\n", busy.stalled.error.c_str());
    }
    if (!busy.all_closed)
      std::printf("(some readers were still open 10 s after stopcalld ended)\n");

    if (!o.figures.empty()) {
      std::ofstream out(o.figures);
      auto put = [&](const std::string& key, const std::string& value) {
        out << key << ' ' << value << '\n';
      };
      put("speed", fixed(o.speed, 2));
      put("window_s", fixed(busy.window_s, 1));
      put("displays", std::to_string(busy.displays));
      put("readers", std::to_string(busy.readers));
      put("cpu_pct_0", fixed(idle.cpu_pct, 2));
      put("cpu_pct_n", fixed(busy.cpu_pct, 2));
      put("rss_start_mb_0", fixed(mb(idle.start.rss_kb), 1));
      put("rss_peak_mb_0", fixed(mb(idle.peak_rss_kb), 1));
      put("rss_end_mb_0", fixed(mb(idle.end.rss_kb), 1));
      put("rss_start_mb_n", fixed(mb(busy.start.rss_kb), 1));
      put("rss_peak_mb_n", fixed(mb(busy.peak_rss_kb), 1));
      put("rss_end_mb_n", fixed(mb(busy.end.rss_kb), 1));
      put("rss_run_s", fixed(busy.run_s, 0));
      put("rss_run_peak_mb_n", fixed(mb(busy.run_peak_rss_kb), 1));
      put("rss_run_end_mb_n", fixed(mb(busy.run_end.rss_kb), 1));
      put("rss_growth_mb_n", fixed(mb(busy.run_peak_rss_kb - busy.start.rss_kb), 1));
      put("broadcasts", std::to_string(busy.broadcasts));
      put("messages_min", std::to_string(busy.messages_min));
      put("messages_max", std::to_string(busy.messages_max));
      put("readers_ok", busy.readers_ok() ? "1" : "0");
      put("readers_complete", std::to_string(busy.readers_complete));
      put("stalled_drops", std::to_string(busy.stalled.drops.size()));
      put("stalled_connections", std::to_string(busy.stalled.connections));
      put("stalled_first_drop_s",
          busy.stalled.drops.empty() ? "-" : fixed(busy.stalled.drops.front().after_s, 1));
      put("stalled_max_kernel_bytes", std::to_string(busy.stalled.max_kernel_bytes()));
      put("latency_p99_ms", fixed(percentile(busy.latency_ms, 99), 0));
    }
    if (remove_work) fs::remove_all(work);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "hmi_bench: %s\n", e.what());
    if (remove_work && !work.empty()) std::fprintf(stderr, "(logs kept in %s)\n", work.c_str());
    return 1;
  }
  return 0;
}
