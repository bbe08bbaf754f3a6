// What the passenger displays and the driver console show, fed from the decision pipeline: the
// trip, the next stop and the coming ones, GPS and trip status. The pages themselves and the
// server are in hmi/; this is the daemon's side of the wiring.
#pragma once

#include <boost/asio/io_context.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "daemon/pipeline.hpp"
#include "daemon/service_time.hpp"
#include "hmi/protocol.hpp"
#include "hmi/server.hpp"
#include "media/types.hpp"

namespace stopcall::daemon {

struct ScreensOptions {
  std::string address = "127.0.0.1";
  unsigned short port = 8080;
  std::string web_root;      // the pages (hmi/web, installed as share/stopcall/hmi/web)
  std::string driver_token;  // empty: the console cannot act
  // Set: the console is served only here (the cab's interface), the displays only on address.
  std::optional<std::pair<std::string, unsigned short>> driver_listener;
  // The names the screens are reached by (hmi::HmiConfig::allowed_hosts); empty: the defaults.
  std::vector<std::string> allowed_hosts;
};

// "ADDRESS:PORT" -> (address, port); throws std::runtime_error with the text when it is not one.
std::pair<std::string, unsigned short> parse_listen(const std::string& text);

class Screens {
 public:
  // `log`: the server's messages (refused screens, wrong console tokens) for people; may be unset.
  Screens(boost::asio::io_context& io, ScreensOptions options, const std::string& timezone,
          std::function<void(hmi::LogLevel, std::string_view)> log = {});
  ~Screens();
  Screens(const Screens&) = delete;
  Screens& operator=(const Screens&) = delete;

  void start();
  void stop();
  unsigned short port() const;

  // After each pipeline step: what the events mean for the screens.
  void update(const Pipeline& pipeline, const std::vector<tracking::StopEvent>& events);

  // A subtitle, as the media engine really plays it (call on the io_context thread). `message`:
  // the emergency or service message it says, if it is one (its panel highlights the language).
  void subtitle(const media::Cue& cue, const std::string& message = {});

  // Prompts, status lines, the boarding requests and the volumes, as the workflows change them.
  void prompt(const hmi::Prompt& prompt);
  void status(const hmi::Status& status);
  void requests(std::vector<hmi::BoardingRequest> list);
  void volume(const hmi::Volume& volume);
  // The trips the driver may log into, and what detection settled on (whole state: rare).
  void trip_options(std::vector<hmi::TripOption> options);
  void detected_trip(std::optional<hmi::DetectedTrip> detected);
  // An emergency or service message shown, changed or taken down; the presets the console offers.
  void message(const hmi::MessagePanel& panel);
  void message_options(std::vector<hmi::MessageOption> options);
  // The console's actions (ramp assist, repeat, volume, dismiss). Unset: answered "unavailable".
  void on_driver_action(std::function<hmi::Reply(const hmi::DriverAction&)> handler);

 private:
  std::unique_ptr<hmi::HmiServer> server_;
  std::string trip_id_;  // the trip the screens show
  ServiceClock clock_;   // the city's local time, for the pages' clocks
  int utc_offset_min_ = 0;
};

}  // namespace stopcall::daemon
