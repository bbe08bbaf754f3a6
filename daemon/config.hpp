// stopcalld's configuration: one TOML file (default /etc/stopcall/stopcall.toml). Every key is
// documented with its default in daemon/stopcall.example.toml; unknown keys and bad values are
// refused at start with the file, line and reason, so a typo never silently means a default.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "daemon/assist/assist.hpp"
#include "daemon/fleet/client.hpp"
#include "daemon/gps/gpsd_client.hpp"
#include "daemon/messages/board.hpp"
#include "daemon/pipeline.hpp"
#include "daemon/vehicle/control_socket.hpp"
#include "daemon/vehicle/gpio.hpp"

namespace stopcall::daemon {

struct Config {
  std::string bundle = "/var/lib/stopcall/bundles/active.db";
  std::string events_log;   // append stop events as JSON lines here; empty: none
  std::string event_store;  // [events] store: the same lines in SQLite, for stopcall-report
  std::string state_file;   // [state] file: the trip's progress, for resuming after a restart
  gps::GpsdOptions gpsd;
  PipelineOptions pipeline;

  // [audio]: GStreamer sink descriptions; empty: no such output.
  std::string audio_interior = "autoaudiosink";
  std::string audio_exterior;
  double interior_gain_db = 0;
  double exterior_gain_db = 0;
  std::vector<std::string> languages{"zh-Hans", "yue", "en"};
  // The cabin microphone for automatic gain (a GStreamer source); empty: fixed gains.
  std::string ambient_source;
  double ambient_target_above_db = 10;
  double ambient_floor_db = -10;
  double ambient_ceiling_db = 12;
  double ambient_speech_reference_db = -30;

  // [screens]: "ADDRESS:PORT" for the pages; empty: no screens. With driver_listen set, `listen`
  // serves only passenger displays and driver_listen only the console.
  std::string screens_listen;
  std::string screens_driver_listen;
  std::string web_root = "/usr/share/stopcall/hmi/web";
  std::string driver_token;
  std::vector<std::string> screens_allowed_hosts;  // [screens] allowed_hosts

  // [vehicle]
  std::string control_socket;
  vehicle::ControlSocketLimits control_limits;  // control_max_connections, control_idle_timeout_s
  bool door_signals = false;
  AssistConfig assist;
  std::vector<vehicle::GpioLine> gpio;  // [[gpio]]: one table per line

  // [messages]: emergency and service messages (the languages are [audio] languages).
  messages::BoardConfig messages;
  std::string emergency_preset = "evacuate";  // what the emergency input starts

  // [fleet]: the link to the depot's MQTT broker; absent: none. Needs [events] store.
  std::optional<fleet::Options> fleet;
};

struct ConfigProblem {
  std::string file;
  long line = 0;  // 0 when the problem has no line (a missing file)
  std::string message;
  std::string to_string() const;  // "stopcall.toml:12: tracking.approach_lead_s: must be ..."
};

class ConfigError : public std::runtime_error {
 public:
  explicit ConfigError(std::vector<ConfigProblem> problems);
  const std::vector<ConfigProblem>& problems() const { return problems_; }

 private:
  std::vector<ConfigProblem> problems_;
};

// Reads and checks the file; throws ConfigError listing every problem found.
Config load_config(const std::string& path);

}  // namespace stopcall::daemon
