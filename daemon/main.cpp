// stopcalld: the stopcall daemon. `stopcalld replay` runs the decision pipeline on a recorded
// GPS trace; the live service (GPS from gpsd, voice, screens) grows around the same pipeline.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <string_view>

#include "daemon/config.hpp"
#include "daemon/run.hpp"
#include "daemon/service/journal.hpp"
#include "media/render.hpp"
#include "media/types.hpp"
#include "routes/problem.hpp"

namespace {

// New route data was installed between trips (daemon/fleet/PROTOCOL.md, "Route data"): the
// daemon, stopped cleanly, starts again as itself with the same arguments and the same process
// id (systemd keeps it as the service's main process; READY comes again), on the new bundle.
int start_again(char** argv) {
  std::cerr << "stopcalld: starting again on the new route data\n";
  std::cerr.flush();
  std::cout.flush();
  ::execv("/proc/self/exe", argv);
  std::cerr << "stopcalld: cannot start again: " << std::strerror(errno) << "\n";
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  // `stopcalld render`: the media engine's own command line (media/README.md).
  if (argc > 1 && std::string_view(argv[1]) == "render") {
    return stopcall::media::render_main(argc - 1, argv + 1);
  }
  CLI::App app{"stopcalld: stop announcements for accessible buses"};
  app.require_subcommand(0, 1);

  stopcall::daemon::RunOptions replay;
  stopcall::daemon::TraceSource trace;
  std::string events_path;
  auto* cmd = app.add_subcommand("replay", "run the decision pipeline on a recorded GPS trace");
  cmd->add_option("--routes", replay.bundle, "route bundle")->required();
  cmd->add_option("--gps", trace.path, "trace: gpsd JSON lines or NMEA 0183")->required();
  auto* replay_trip = cmd->add_option("--trip", replay.pipeline.trip_id, "the trip the bus runs");
  bool replay_auto_flag = false;
  auto* replay_auto =
      cmd->add_flag("--auto", replay_auto_flag, "find the trip from the fixes and the timetable");
  replay_trip->excludes(replay_auto);
  replay_auto->excludes(replay_trip);
  cmd->add_option("--events", events_path, "write the event log here (JSON lines; default stdout)");
  bool realtime = false;
  double speed = 1;
  std::string http, web_root = STOPCALL_WEB_ROOT, driver_token, replay_audio;
  auto& on_board = replay.onboard;
  cmd->add_flag("--realtime", realtime, "replay at the trace's own pace");
  cmd->add_option("--speed", speed, "with --realtime: this many times faster")
      ->check(CLI::Range(0.01, 1000.0));
  cmd->add_option("--http", http, "with --realtime: serve the screens on ADDRESS:PORT");
  cmd->add_option("--web", web_root, "the pages' folder")->capture_default_str();
  cmd->add_option("--driver-token", driver_token, "the driver console's credential");
  cmd->add_option("--audio", replay_audio,
                  "with --realtime: speak through this GStreamer sink (autoaudiosink, ...)");
  cmd->add_option("--control", on_board.control_socket,
                  "with --realtime: take vehicle signals and requests on this Unix socket "
                  "(stopcallctl --socket PATH)");
  cmd->add_option("--store", on_board.event_store,
                  "also write the event log into this SQLite store (as run's [events] store)");
  std::string replay_fleet_config;
  cmd->add_option("--fleet-config", replay_fleet_config,
                  "with --realtime and --store: the fleet link as in this configuration file's "
                  "[fleet] section");
  cmd->add_option("--state", on_board.state_file,
                  "with --realtime: save the trip's progress here and resume from it");
  cmd->add_flag("--door-signals", on_board.door_signals,
                "the exterior route announcement waits for a door to open (not arrival)");
  cmd->add_option("--linger", trace.linger_s,
                  "with --http: keep serving this many seconds after the trace ends");
  cmd->add_flag("!--no-block", replay.pipeline.follow_block,
                "stop at the end of the trip instead of going on with the block's next trip");

  // Live: the configuration file, with command-line overrides for a bench or a test.
  std::string config_path = "/etc/stopcall/stopcall.toml";
  bool check_config = false;
  app.add_option("--config", config_path, "configuration file")->capture_default_str();
  app.add_flag("--check-config", check_config, "check the configuration file and exit");
  stopcall::daemon::RunOptions live;
  std::string live_bundle, live_trip, live_events, gpsd_address;
  auto* run = app.add_subcommand("run", "track the bus live from gpsd (the service)");
  run->add_option("--routes", live_bundle, "route bundle (overrides routes.bundle)");
  run->add_option("--trip", live_trip, "the trip the bus runs (overrides routes.trip)");
  run->add_option("--gpsd", gpsd_address, "gpsd HOST:PORT (overrides [gps])");
  run->add_option("--events", live_events, "append stop events here (overrides events.log)");
  run->add_option("--exit-after", live.exit_after_s, "stop after this many seconds (tests)");
  // Under systemd (JOURNAL_STREAM set) messages go to the journal with priorities and fields.
  std::string log_to = std::getenv("JOURNAL_STREAM") ? "journal" : "stderr";
  run->add_option("--log", log_to, "journal or stderr")
      ->check(CLI::IsMember({"journal", "stderr"}))
      ->capture_default_str();
  std::string run_audio, run_http, run_control, run_web, run_token;
  run->add_option("--audio", run_audio, "speak through this GStreamer sink (overrides [audio])");
  run->add_option("--http", run_http, "serve the screens on ADDRESS:PORT (overrides [screens])");
  run->add_option("--web", run_web, "the pages' folder (overrides screens.web_root)");
  run->add_option("--driver-token", run_token, "the console's credential");
  run->add_option("--control", run_control, "control socket (overrides vehicle.control_socket)");

  CLI11_PARSE(app, argc, argv);
  try {
    if (check_config) {
      auto config = stopcall::daemon::load_config(config_path);
      std::cout << config_path << ": ok (bundle " << config.bundle << ", gpsd " << config.gpsd.host
                << ":" << config.gpsd.port << ", trip "
                << (config.pipeline.trip_id.empty() ? "detected" : config.pipeline.trip_id)
                << ")\n";
      return 0;
    }
    if (*cmd) {
      if (replay.pipeline.trip_id.empty() && !replay_auto_flag) {
        throw std::runtime_error("replay needs --trip TRIP_ID or --auto");
      }
      std::ofstream file;
      if (!events_path.empty()) {
        file.open(events_path);
        if (!file) throw std::runtime_error("cannot write " + events_path);
      }
      if (!http.empty()) {
        if (!realtime) throw std::runtime_error("--http needs --realtime");
        stopcall::daemon::ScreensOptions screens;
        std::tie(screens.address, screens.port) = stopcall::daemon::parse_listen(http);
        screens.web_root = web_root;
        screens.driver_token = driver_token;
        on_board.screens = screens;
      }
      if (!realtime && (!on_board.control_socket.empty() || !replay_audio.empty() ||
                        !on_board.state_file.empty())) {
        throw std::runtime_error("--control, --audio and --state need --realtime");
      }
      if (!replay_audio.empty()) {
        stopcall::media::EngineConfig media;
        media.interior.sink = replay_audio;
        media.exterior.sink = replay_audio;
        on_board.media = media;
      }
      if (!replay_fleet_config.empty()) {
        if (!realtime || on_board.event_store.empty()) {
          throw std::runtime_error("--fleet-config needs --realtime and --store");
        }
        auto fleet_config = stopcall::daemon::load_config(replay_fleet_config);
        if (!fleet_config.fleet) {
          throw std::runtime_error(replay_fleet_config + ": no [fleet] section");
        }
        replay.fleet = fleet_config.fleet;
      }
      if (!on_board.state_file.empty()) {
        replay.pipeline.resume = stopcall::daemon::load_saved_state(on_board.state_file, std::cerr);
      }
      trace.speed = realtime ? speed : 0;
      replay.source = trace;
      auto& out = events_path.empty() ? std::cout : static_cast<std::ostream&>(file);
      auto stats = stopcall::daemon::run(replay, out, std::cerr);
      std::cerr << stopcall::daemon::describe(stats) << "\n";
      if (!stopcall::daemon::usable(stats)) {
        std::cerr << "stopcalld: error: " << trace.path
                  << ": no usable fix (a position report gpsd would give) in the trace\n";
        return 1;
      }
      return 0;
    }
    if (*run) {
      // The default file may be absent (defaults apply); a file named on the command line may not.
      stopcall::daemon::Config config;
      if (std::filesystem::exists(config_path) || app.count("--config") > 0) {
        config = stopcall::daemon::load_config(config_path);
      }
      live.bundle = live_bundle.empty() ? config.bundle : live_bundle;
      live.pipeline = config.pipeline;
      if (!live_trip.empty()) live.pipeline.trip_id = live_trip;
      stopcall::daemon::GpsdSource gpsd{config.gpsd};
      if (!gpsd_address.empty()) {
        unsigned short port = 0;
        std::tie(gpsd.gpsd.host, port) = stopcall::daemon::parse_listen(gpsd_address);
        gpsd.gpsd.port = std::to_string(port);
      }
      live.source = gpsd;
      if (live_events.empty()) live_events = config.events_log;
      auto& onboard = live.onboard;
      onboard.state_file = config.state_file;
      onboard.event_store = config.event_store;
      live.fleet = config.fleet;
      if (!config.state_file.empty()) {
        live.pipeline.resume = stopcall::daemon::load_saved_state(config.state_file, std::cerr);
      }
      onboard.announcer.languages = config.languages;
      onboard.assist = config.assist;
      onboard.door_signals = config.door_signals;
      onboard.messages = config.messages;
      onboard.emergency_preset = config.emergency_preset;
      onboard.gpio = config.gpio;
      onboard.control_socket = run_control.empty() ? config.control_socket : run_control;
      onboard.control_limits = config.control_limits;
      stopcall::media::EngineConfig media;
      media.interior.sink = run_audio.empty() ? config.audio_interior : run_audio;
      media.exterior.sink = run_audio.empty() ? config.audio_exterior : run_audio;
      media.interior.gain_db = config.interior_gain_db;
      media.exterior.gain_db = config.exterior_gain_db;
      if (!config.ambient_source.empty()) {
        stopcall::media::AmbientConfig ambient;
        ambient.source = config.ambient_source;
        ambient.target_above_db = config.ambient_target_above_db;
        ambient.floor_db = config.ambient_floor_db;
        ambient.ceiling_db = config.ambient_ceiling_db;
        ambient.speech_reference_db = config.ambient_speech_reference_db;
        media.ambient = ambient;
      }
      if (!media.interior.sink.empty() || !media.exterior.sink.empty()) onboard.media = media;
      const std::string listen = run_http.empty() ? config.screens_listen : run_http;
      if (!listen.empty()) {
        stopcall::daemon::ScreensOptions screens;
        std::tie(screens.address, screens.port) = stopcall::daemon::parse_listen(listen);
        if (!config.screens_driver_listen.empty()) {
          screens.driver_listener = stopcall::daemon::parse_listen(config.screens_driver_listen);
        }
        screens.web_root = !run_web.empty()                           ? run_web
                           : std::filesystem::exists(config.web_root) ? config.web_root
                                                                      : STOPCALL_WEB_ROOT;
        screens.driver_token = run_token.empty() ? config.driver_token : run_token;
        screens.allowed_hosts = config.screens_allowed_hosts;
        onboard.screens = screens;
      }
      std::ofstream file;
      if (!live_events.empty()) {
        file.open(live_events, std::ios::app);
        if (!file) throw std::runtime_error("cannot write " + live_events);
      }
      std::unique_ptr<stopcall::daemon::JournalBuf> journal;
      std::ostream journal_log(nullptr);
      if (log_to == "journal") {
        journal = std::make_unique<stopcall::daemon::JournalBuf>(std::cerr);
        journal_log.rdbuf(journal.get());
      }
      auto stats = stopcall::daemon::run(live, live_events.empty() ? std::cout : file,
                                         journal ? journal_log : std::cerr);
      std::cerr << "stopped: " << stats.fixes << " fixes, " << stats.events << " events, "
                << stats.reconnects << " reconnects to gpsd; fix-to-event latency p50 "
                << stats.latency_p50_us << " us, p99 " << stats.latency_p99_us << " us, max "
                << stats.latency_max_us << " us\n";
      if (stats.switch_bundle) {
        file.close();
        return start_again(argv);
      }
      return 0;
    }
  } catch (const std::exception& e) {
    std::cerr << "stopcalld: " << e.what() << "\n";
    return 1;
  }
  std::cerr << app.help();
  return 2;
}
