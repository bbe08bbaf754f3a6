// Everything on the bus around the decision pipeline, on one io_context: the announcer and the
// accessibility workflows decide, the media engine speaks, the screens show, the control socket
// and the driver console bring signals and actions in, and one event log (JSON lines) records
// stop events, announcements, prompts, signals, request fates and faults as they happen.
// The one run loop (run.hpp) drives it for `stopcalld run`, `replay --realtime` and fast `replay`;
// they differ only in where the fixes and the bus's clock come from (a fast replay has no voice and
// no screens).
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <iosfwd>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "daemon/announcer/announcer.hpp"
#include "daemon/announcer/policy.hpp"
#include "daemon/assist/assist.hpp"
#include "daemon/log/event_store.hpp"
#include "daemon/log/records.hpp"
#include "daemon/messages/board.hpp"
#include "daemon/pipeline.hpp"
#include "daemon/screens.hpp"
#include "daemon/service/state_store.hpp"
#include "daemon/vehicle/control_socket.hpp"
#include "daemon/vehicle/gpio.hpp"
#include "media/types.hpp"
#include "routes/bundle.hpp"

namespace stopcall::media {
class Engine;
}

namespace stopcall::daemon {

struct OnboardOptions {
  AnnouncerConfig announcer;
  AssistConfig assist;
  std::optional<ScreensOptions> screens;        // serve the pages
  std::optional<media::EngineConfig> media;     // speak; unset: no voice (events are still logged)
  std::string control_socket;                   // empty: none
  vehicle::ControlSocketLimits control_limits;  // connections, idle timeout, unread answers
  std::vector<vehicle::GpioLine> gpio;          // signals from GPIO lines ([[gpio]])
  std::string state_file;   // saved at each stop event, for resuming after a restart; empty: none
  std::string event_store;  // every event log line also into this SQLite store; empty: none
  // The bus reports its doors: the exterior route announcement is made when they open. Without
  // door signals it is made on arrival (and switches to the doors at the first door signal).
  bool door_signals = false;
  // Emergency and service messages: repeats, lifetimes (languages: the announcer's).
  messages::BoardConfig messages;
  // The route data's preset an `emergency` vehicle signal starts (fire system, panic switch).
  std::string emergency_preset = "evacuate";
};

class Onboard final : private AssistPort {
 public:
  // `clock`: the bus's time now (GPS time advanced by the steady clock between fixes) for signals
  // and actions that arrive between steps. `events`: the event log. `log`: messages for people.
  // `pipeline`: the one the caller steps; the console's trip login changes its trip.
  Onboard(boost::asio::io_context& io, const routes::Bundle& bundle, Pipeline& pipeline,
          OnboardOptions options, std::function<tracking::Time()> clock, std::ostream& events,
          std::ostream& log);
  ~Onboard() override;
  Onboard(const Onboard&) = delete;
  Onboard& operator=(const Onboard&) = delete;

  // Starts the screens and the control socket (throws when one cannot be bound). The time zone
  // is recorded with the first event (or gps_waiting), at the bus's time.
  void start();
  // Stops accepting; ends the voice (a file output gets its header). Idempotent.
  void stop();
  unsigned short http_port() const;  // 0 without screens

  // After each pipeline step, with the events it produced: logs them, announces, updates screens.
  void step(const Pipeline& pipeline, const std::vector<tracking::StopEvent>& events);
  // About once a second.
  void tick(const Pipeline& pipeline);

  // The daemon started and waits for its first fix (`now` from the system clock: there is no GPS
  // time yet): logged as `gps_waiting` after the city's time zone, and the screens say so. Not an
  // outage: nothing was being tracked. Then the first fix: logged as `gps_first_fix` at its GPS
  // time.
  void gps_waiting(tracking::Time system_now);
  void gps_first_fix(tracking::Time gps_time);
  // The receiver's clock went back and stays there; its fixes are placed after the last one,
  // moved by `moved` (gps::TimeFilter): logged as a `fault`, for the depot to know why.
  void gps_clock_jumped_back(tracking::Time now, std::chrono::milliseconds moved);

  // A signal, button or request from a GPIO line or another source than the control socket.
  vehicle::Reply command(const vehicle::Command& command);

  long announcements() const { return announcements_; }

  // The fleet link's lines (`fleet_command`, its fault at start) into the event log.
  void log_record(const log::Record& record) { write(record); }
  // The fleet commands taken lately, with the state file (none without one), so that a restart
  // does not take one again.
  std::vector<std::pair<std::string, tracking::Time>> fleet_nonces();
  void save_fleet_nonces(const std::vector<std::pair<std::string, tracking::Time>>& nonces);

 private:
  // AssistPort
  void announce(std::string_view kind, media::Announcement announcement) override;
  void prompt(std::string_view to, std::string_view kind, const std::string& stop_id,
              const hmi::Prompt& prompt) override;
  void driver_status(const hmi::Status& status) override;
  void requests(std::vector<hmi::BoardingRequest> list) override;
  void ramp_stowed() override;
  void record(const log::Record& record) override;

  hmi::Reply driver_action(const hmi::DriverAction& action);
  // Logs and submits an announcement; `form`: a stop announcement's form (announcer.hpp).
  void say(std::string_view kind, media::Announcement a, std::optional<std::string> form);
  // The announcement policy's effects: say, expire, log why one was held.
  void carry_out(std::vector<policy::Effect> effects);
  Holds holds() const;

  // Emergency and service messages (onboard_messages.cpp): requests in, the board's effects out.
  vehicle::Reply message(const vehicle::MessageIn& in, tracking::Time now);
  vehicle::Reply end_message(const vehicle::MessageEnd& end, tracking::Time now);
  vehicle::Reply emergency_signal(const vehicle::Signal& signal, tracking::Time now);
  hmi::Reply console_message(const hmi::Action& action, tracking::Time now);
  vehicle::Reply message_outcome(messages::Outcome outcome);
  void carry_out(std::vector<messages::Effect> effects);
  void message_result(const media::Result& result);
  void say_next_stop_again(tracking::Time now);
  void publish_message_options();
  // The active messages into the state file, and back after a restart.
  void save_messages();
  void restore_messages();
  BusPosition position(const Pipeline& pipeline) const;
  void write(const log::Record& record);
  void write(const std::string& line);
  void first_sound(const media::Cue& cue);
  void save_state(const tracking::StopEvent& event);
  // A door or speed signal, passed on to the tracker (pipeline).
  void vehicle_motion(const vehicle::Signal& signal, tracking::Time now);

  boost::asio::io_context& io_;
  const routes::Bundle& bundle_;
  Pipeline& pipeline_;
  OnboardOptions options_;
  std::function<tracking::Time()> clock_;
  std::ostream& events_;
  std::ostream& log_;
  Announcer announcer_;
  Assist assist_;
  std::unique_ptr<Screens> screens_;
  std::unique_ptr<media::Engine> voice_;
  std::unique_ptr<vehicle::ControlSocket> control_;
  std::unique_ptr<vehicle::GpioInputs> gpio_;
  std::unique_ptr<StateStore> state_;
  std::unique_ptr<log::EventStore> store_;
  AnnouncementPolicy policy_;  // staleness and holding of what the announcer and workflows say
  std::string trip_id_;
  const routes::Trip* trip_ = nullptr;
  std::set<int> open_doors_;  // for the tracker: any open door means standing
  // Announcements submitted and not yet heard on all their outputs (for the "sound" log line).
  struct Submitted {
    std::chrono::steady_clock::time_point at;
    unsigned wanted = 0;  // output bits: 1 interior, 2 exterior
    unsigned heard = 0;
  };
  std::map<std::string, Submitted> submitted_;
  hmi::Volume volume_;
  std::optional<tracking::Time> options_at_;  // when the console's trip list was last made
  void publish_trip_options(tracking::Time now);
  // A `time_zone` line when the city's offset is not yet recorded or has changed (daylight saving):
  // the depot's report judges service days by it.
  void record_time_zone(tracking::Time now);
  std::optional<int> recorded_offset_min_;
  long announcements_ = 0;
  long repeats_ = 0;
  bool stopped_ = false;
  messages::Board board_;
  long messages_sent_ = 0;  // for the ids of messages sent without one
  // Announcements in the voice and the outputs (bits as in Submitted) yet to report a result:
  // the board's, to know when a saying has ended; the others, to hold them for an emergency.
  struct InVoice {
    unsigned outputs = 0;  // bits as in Submitted
    bool stop = false;     // a stop-priority announcement: it gives way to an emergency
  };
  std::map<std::string, InVoice> in_voice_;
};

}  // namespace stopcall::daemon
