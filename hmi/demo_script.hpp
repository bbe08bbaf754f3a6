// The scripted ride behind stopcall-hmi-demo: Shenzhen bus 101 (routes/demo) with hard-wired stop
// names, standing in for the daemon until it serves the screens itself. It publishes what the
// daemon would (state, next stops, subtitles timed like spoken segments, prompts, statuses,
// emergency and service messages: demo_messages.hpp) and answers driver actions the way the
// daemon will.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "hmi/server.hpp"

namespace boost::asio {
class io_context;
}

namespace stopcall::hmi::demo {

// The commands a test (or a person) types, one per line, e.g. "next" or "subtitle en 1500 Hello".
inline constexpr std::string_view kCommandHelp = R"(commands (one per line on stdin):
  next                          advance to the next stop and announce it
  goto INDEX                    make stop INDEX (0-based) the next stop and announce it
  announce                      announce the next stop again
  subtitle LANG MS TEXT...      show TEXT as the subtitle for MS milliseconds, starting now
  withdraw                      withdraw the current subtitle
  prompt KIND on|off            KIND: stop_requested ramp_requested ramp_deploying doors_opening
                                doors_closing
  request                       a wheelchair user waits at the stop after next (console list)
  status NAME LEVEL TEXT...     NAME gps|audio.interior|audio.exterior|bundle|trip, LEVEL ok|warning|error
  detect TRIP_ID                offer TRIP_ID as the auto-detected trip
  login TRIP_ID                 log in to TRIP_ID as the console would
  logout                        no trip (the console offers the login list)
  flood COUNT BYTES INTERVAL_MS publish COUNT status messages of about BYTES, one per interval
  message emergency|service PRESET  send a preset (evacuate fire | detour typhoon); prints
                                "ok message ID"
  message end ID                take message ID down
  message say ID LANG MS        say message ID's LANG sentence now (subtitle for MS milliseconds)
  stats                         print the server's counters
)";

class Ride {
 public:
  // `say` receives the lines the demo prints for whoever drives it (driver actions, command
  // results), without newline.
  Ride(boost::asio::io_context& io, HmiServer& server, std::function<void(std::string)> say);
  ~Ride();
  Ride(const Ride&) = delete;
  Ride& operator=(const Ride&) = delete;

  // Publishes the first state: logged in to 101-WD-E-0630 with 华侨城 next, or not logged in.
  void begin(bool logged_in);
  // Advances to the next stop every `seconds` (wrapping at the end of the trip); 0: never.
  void auto_advance(int seconds);
  // Runs one command line; prints its result through `say`.
  void command(std::string_view line);
  // The driver action handler given to HmiServer::on_driver_action.
  Reply on_action(const DriverAction& action);
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace stopcall::hmi::demo
