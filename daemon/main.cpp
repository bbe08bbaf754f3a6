// stopcalld: the stopcall daemon. `stopcalld replay` runs the decision pipeline on a recorded
// GPS trace; the live service (GPS from gpsd, voice, screens) grows around the same pipeline.
#include <CLI/CLI.hpp>
#include <fstream>
#include <iostream>

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
  cmd->add_option("--trip", replay.trip_id, "the trip the bus runs")->required();
  cmd->add_option("--events", events_path, "write stop events here (JSON lines; default stdout)");
  cmd->add_flag("!--no-block", replay.follow_block,
                "stop at the end of the trip instead of going on with the block's next trip");

  CLI11_PARSE(app, argc, argv);
  try {
    if (*cmd) {
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
  } catch (const std::exception& e) {
    std::cerr << "stopcalld: " << e.what() << "\n";
    return 1;
  }
  return 2;
}
