// stopcalld: the stopcall daemon. `stopcalld replay` runs the decision pipeline on a recorded
// GPS trace; the live service (GPS from gpsd, voice, screens) grows around the same pipeline.
#include <CLI/CLI.hpp>
#include <fstream>
#include <iostream>

#include "daemon/live.hpp"
#include "daemon/replay.hpp"
#include "routes/problem.hpp"

int main(int argc, char** argv) {
  CLI::App app{"stopcalld: stop announcements for accessible buses"};
  app.require_subcommand(1);

  stopcall::daemon::ReplayOptions replay;
  std::string events_path;
  auto* cmd = app.add_subcommand("replay", "run the decision pipeline on a recorded GPS trace");
  cmd->add_option("--routes", replay.bundle, "route bundle")->required();
  cmd->add_option("--gps", replay.trace, "trace: gpsd JSON lines or NMEA 0183")->required();
  auto* replay_trip = cmd->add_option("--trip", replay.pipeline.trip_id, "the trip the bus runs");
  bool replay_auto_flag = false;
  auto* replay_auto =
      cmd->add_flag("--auto", replay_auto_flag, "find the trip from the fixes and the timetable");
  replay_trip->excludes(replay_auto);
  replay_auto->excludes(replay_trip);
  cmd->add_option("--events", events_path, "write stop events here (JSON lines; default stdout)");
  cmd->add_flag("!--no-block", replay.pipeline.follow_block,
                "stop at the end of the trip instead of going on with the block's next trip");

  stopcall::daemon::LiveOptions live;
  std::string live_events, gpsd_address = "localhost:2947";
  auto* run = app.add_subcommand("run", "track the bus live from gpsd");
  run->add_option("--routes", live.bundle, "route bundle")->required();
  run->add_option("--trip", live.pipeline.trip_id, "the trip the bus runs (default: detect it)");
  run->add_option("--gpsd", gpsd_address, "gpsd HOST:PORT")->capture_default_str();
  run->add_option("--events", live_events, "append stop events here (JSON lines; default stdout)");
  run->add_option("--exit-after", live.exit_after_s, "stop after this many seconds (tests)");

  CLI11_PARSE(app, argc, argv);
  try {
    if (*cmd) {
      if (replay.pipeline.trip_id.empty() && !replay_auto_flag) {
        throw std::runtime_error("replay needs --trip TRIP_ID or --auto");
      }
      std::ofstream file;
      if (!events_path.empty()) {
        file.open(events_path);
        if (!file) throw std::runtime_error("cannot write " + events_path);
      }
      auto stats = stopcall::daemon::replay(replay, events_path.empty() ? std::cout : file);
      std::cerr << "replayed " << stats.fixes << " fixes on " << stats.trips
                << " trip(s): " << stats.events << " events in " << stats.seconds << " s ("
                << (stats.seconds > 0 ? static_cast<long>(stats.fixes / stats.seconds) : 0)
                << " fixes/s)";
      if (stats.rejected) std::cerr << "; " << stats.rejected << " unreadable line(s) skipped";
      if (stats.time_glitches) {
        std::cerr << "; " << stats.time_glitches << " fix(es) with a glitched time dropped";
      }
      if (stats.undated) std::cerr << "; " << stats.undated << " fix(es) without a time";
      std::cerr << "\n";
      return 0;
    }
    if (*run) {
      auto colon = gpsd_address.rfind(':');
      live.gpsd.host = gpsd_address.substr(0, colon);
      if (colon != std::string::npos) live.gpsd.port = gpsd_address.substr(colon + 1);
      std::ofstream file;
      if (!live_events.empty()) {
        file.open(live_events, std::ios::app);
        if (!file) throw std::runtime_error("cannot write " + live_events);
      }
      auto stats =
          stopcall::daemon::run_live(live, live_events.empty() ? std::cout : file, std::cerr);
      std::cerr << "stopped: " << stats.fixes << " fixes, " << stats.events << " events, "
                << stats.reconnects << " reconnects to gpsd; fix-to-event latency p50 "
                << stats.latency_p50_us << " us, p99 " << stats.latency_p99_us << " us, max "
                << stats.latency_max_us << " us\n";
      return 0;
    }
  } catch (const std::exception& e) {
    std::cerr << "stopcalld: " << e.what() << "\n";
    return 1;
  }
  return 2;
}
