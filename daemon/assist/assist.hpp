// The accessibility workflows: ramp assist, the on-board accessible stop request, boarding-assist
// requests from stops, the exterior route announcement when the doors open, and the interlocks
// around them. Vehicle signals, buttons, requests and the bus's position in; announcements,
// prompts for the passenger displays and the driver console, and log records out (AssistPort).
//
// Pure logic: no clock (every call carries the bus's time, GPS time as the tracker uses it), no
// I/O, no threads. The daemon (onboard.hpp) feeds it and carries out what it asks for.
//
// clang-format off
//   ramp-assist pressed (bus standing)  -> "ramp deploying, please stand clear" inside and outside
//                                          (accessibility priority), "ramp" prompt on the displays
//   ramp deployed                       -> exterior warning tone every ramp_warning_every
//   ramp deployed while moving          -> alarm on the driver console, logged
//   ramp stowed                         -> prompts cleared; held "next stop" announcement released
//   wheelchair stop request (on board)  -> confirmation tone + "ramp requested at X — the driver
//                                          has been told"; "ramp needed at X" on the console until
//                                          the ramp cycle at X or the driver dismisses it
//   boarding request (stop S, route R)  -> on the console from show_within_stops before S; for a
//                                          blind rider the exterior speaker repeats route and
//                                          destination approaching and standing at S
//   doors open at a stop                -> exterior route and destination (once per stop visit)
//   doors open while moving fast        -> a fault, logged, not acted on
// clang-format on
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/announcer/announcer.hpp"
#include "daemon/log/records.hpp"
#include "daemon/tracking/events.hpp"
#include "daemon/vehicle/control.hpp"
#include "hmi/protocol.hpp"
#include "media/types.hpp"
#include "routes/model.hpp"

namespace stopcall::daemon {

using tracking::Time;

struct AssistConfig {
  std::vector<std::string> languages{"zh-Hans", "yue", "en"};  // spoken and shown in this order
  std::chrono::milliseconds pause_between_languages{300};
  // Above this the bus is moving: ramp assist is refused, a deployed ramp raises the alarm.
  double moving_kmh = 5;
  // Doors reported open above this speed: a fault (a bad sensor or wiring), logged, not acted on.
  double door_fault_kmh = 15;
  // The same button again within this is a bounce (or an impatient second press): one action.
  std::chrono::milliseconds debounce{2000};
  // The ramp announcement is not repeated within this (the driver's press, then the ramp sensor).
  std::chrono::seconds ramp_announcement_guard{30};
  // The driver pressing ramp assist again within this gets "just announced", not a repeat.
  std::chrono::milliseconds ramp_repeat_guard{5000};
  // The ramp is out and the bus has advanced this far along the trip: it is moving.
  double ramp_advance_m = 20;
  std::chrono::seconds ramp_warning_every{5};    // exterior warning tone while the ramp is out
  std::chrono::seconds ramp_prompt_timeout{90};  // ramp assist pressed, ramp never deployed
  // Exterior route and destination for a blind rider: repeated this often approaching and
  // standing at their stop, until the doors open.
  std::chrono::seconds blind_repeat_every{12};
  int exterior_times = 1;     // the door-open exterior announcement is said this many times
  int show_within_stops = 5;  // boarding requests appear on the console this many stops ahead
  std::chrono::minutes request_lifetime{30};  // when a request names no expiry
  // Open boarding requests (wheelchair, blind) for one stop, and on the bus in all: one more is
  // refused with the reason, so that a sender in a loop cannot bury the console (or the state).
  int max_requests_per_stop = 4;
  int max_requests = 32;
  // A signal-derived speed is trusted this long; after that the GPS speed is used.
  std::chrono::seconds vehicle_speed_valid{3};
};

// Where the bus is, from the tracker, after each step.
struct BusPosition {
  const routes::Trip* trip = nullptr;  // null: no trip (not detected yet, or ended)
  std::optional<int> next_stop;        // index into trip->stops
  std::optional<int> at_stop;          // standing at this stop
  double progress_m = 0;               // along the trip
  double gps_speed_mps = 0;
  // For each stop, the stop whose halt serves it (Tracker::halt_stops(): berths of one station
  // are served at the first); empty when every stop is its own halt.
  std::vector<int> halt_stops;
};

// What the workflows ask the daemon to do. Every call is also a record for the event log: the
// daemon logs announcements and prompts as it carries them out, and `record` lines verbatim.
class AssistPort {
 public:
  virtual ~AssistPort() = default;
  // `kind`: "ramp_assist", "ramp_warning", "wheelchair_request", "exterior_route", ...
  virtual void announce(std::string_view kind, media::Announcement announcement) = 0;
  // A prompt for the passenger displays (`to` "passenger", shown as hmi::Prompt) or the driver
  // console (`to` "driver": alarms as the "ramp" status line). `prompt.active` false takes it
  // down.
  virtual void prompt(std::string_view to, std::string_view kind, const std::string& stop_id,
                      const hmi::Prompt& prompt) = 0;
  virtual void driver_status(const hmi::Status& status) = 0;
  // The console's list of boarding requests (whole).
  virtual void requests(std::vector<hmi::BoardingRequest> list) = 0;
  // The ramp was stowed: announcements held while it was out may go now.
  virtual void ramp_stowed() = 0;
  // A record for the event log: signals, request fates, faults.
  virtual void record(const log::Record& record) = 0;
};

class Assist {
 public:
  Assist(AssistConfig config, AssistPort& port);

  // Inputs. Each returns what the sender is told (stopcallctl prints it).
  vehicle::Reply on_signal(const vehicle::Signal& signal, Time now);
  vehicle::Reply on_button(const vehicle::ButtonPress& press, Time now);
  // `stop_known`: does the route bundle have this stop (or station)? Unknown stops are refused.
  vehicle::Reply on_request(const vehicle::BoardingRequestIn& request, Time now,
                            const std::function<bool(const std::string&)>& stop_known);
  vehicle::Reply dismiss(const std::string& request_id, Time now);

  // After each pipeline step: the events it produced and where the bus is now.
  void on_step(const std::vector<tracking::StopEvent>& events, const BusPosition& position,
               Time now);
  // About once a second, fixes or not: repetitions, expiry, the moving-ramp check.
  void on_tick(Time now);

  // What the workflows may have to say at once (the ramp warning in every language): to be
  // synthesized at start, so the first press is as quick as any.
  std::vector<media::SpeechItem> phrases() const;

  bool ramp_deployed() const { return ramp_deployed_; }
  // Hold "next stop" (departing) announcements: the ramp is out.
  bool hold_departure_announcements() const { return ramp_deployed_; }
  double speed_kmh(Time now) const;
  // The workflows' state as a JSON object (stopcallctl state).
  std::string state_json(Time now) const;

 private:
  enum class Fate { pending, shown, served, expired, dismissed, missed };
  struct Request {
    std::string id;
    std::string kind;  // "wheelchair", "blind", "wheelchair_alighting" (on board)
    std::string stop_id;
    std::string route_id;
    Time since{};
    std::optional<Time> expires;
    Fate fate = Fate::pending;
    std::optional<int> stop_index;  // on the current trip, once placed
    bool doors_opened_at_stop = false;
    bool ramp_out_at_stop = false;
    std::optional<Time> last_exterior;  // blind: the last repetition
    std::string source;
    bool open() const { return fate == Fate::pending || fate == Fate::shown; }
  };

  bool moving(Time now) const;
  void place_requests();
  void publish_requests();
  void settle(Request& request, Fate fate, Time now, std::string_view why);
  void on_door(const vehicle::Signal& signal, Time now);
  void on_ramp(bool deployed, Time now);
  void exterior_route(std::string_view why, Time now, int times);
  void check_moving_ramp(Time now);
  void announce_ramp(Time now);
  bool bounced(vehicle::Button button, Time now);
  std::optional<int> current_stop() const;
  std::string stop_name(int index, const std::string& lang) const;
  hmi::Names stop_names(int index) const;
  // The stop whose halt serves stop `index` (BusPosition::halt_stops), and the first stop of the
  // next halt after it (the trip's stop count when there is none).
  int halt_stop(int index) const;
  int next_halt_after(int index) const;
  void log_signal(const vehicle::Signal& signal, Time now, std::string_view note);
  // One "request" record of the event log: the request, its fate and why (when not empty).
  // Callers that add another field take request_line and write it themselves.
  log::Request request_line(const Request& r, std::string_view fate, Time now) const;
  void record_request(const Request& r, std::string_view fate, Time now, std::string_view why = {});
  // A chime on one output ("stop requested", "ramp requested", the ramp's warning outside).
  void tone(std::string_view kind, std::string_view id_prefix, media::Priority priority,
            media::Output output, Time now);
  void take_down(std::string_view to, std::string_view kind, const std::string& stop_id,
                 std::string id, hmi::PromptKind prompt_kind);
  void show_ramp_request(const Request& r);
  void prune();

  AssistConfig config_;
  AssistPort& port_;
  BusPosition position_;
  std::string trip_id_;
  std::vector<Request> requests_;
  long next_request_ = 1;

  std::map<int, bool> doors_;  // door number -> open
  bool ramp_deployed_ = false;
  bool kneeling_ = false;
  bool ramp_prompt_ = false;
  std::optional<Time> ramp_prompt_since_;
  std::optional<Time> last_ramp_announcement_;
  std::optional<Time> last_ramp_warning_;
  std::optional<double> ramp_progress_m_;  // where along the trip the ramp came out
  bool moving_alarm_ = false;
  std::optional<double> vehicle_speed_kmh_;
  Time vehicle_speed_at_{};
  std::map<vehicle::Button, Time> last_press_;
  std::optional<int> exterior_done_at_;  // the stop visit the door-open announcement was made at
  bool stop_requested_ = false;
  Time now_{};
};

}  // namespace stopcall::daemon
