// The announcement policy: what becomes of an announcement once it is made. It owns
//   - staleness: "next stop X" is no longer true once the bus has reached X, "arriving at X" once
//     it has left X (it is still true while the bus stands there), and words for the people at a
//     stop (the route outside, a boarding request's answer) once the bus has left that stop;
//   - holding: no stop announcement over an emergency message (the next stop is said again when
//     it ends), and no "next stop" while the ramp is out (it waits until the ramp is stowed, and
//     is dropped if the bus reached the stop meanwhile);
//   - the route outside at arrival: only on a bus without door signals (with them, the workflows
//     say it when the doors open: assist.hpp).
//
// Pure: no clock, no I/O, no threads. Stop events and announcements in; typed effects out, which
// the daemon carries out (onboard.hpp): say it, expire one already handed to the voice, log why
// one was held or dropped. Staleness is data, evaluated here on the daemon's own thread at each
// stop event: the voice is told (media::Engine::expire), it never calls back into the daemon.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "daemon/announcer/announcer.hpp"
#include "daemon/log/records.hpp"
#include "daemon/tracking/events.hpp"
#include "media/types.hpp"

namespace stopcall::daemon {

// When an announcement stops being true.
struct Staleness {
  enum class When : std::uint8_t {
    never,         // ramp warnings, messages, confirmations
    stop_reached,  // "next stop X": once the bus has reached X (arrived at or passed it)
    stop_left,     // "arriving at X": once the bus has left X (departed, passed, or beyond it)
    bus_departed,  // words for the people at this stop: once the bus departs from it
  };
  When when = When::never;
  int stop_index = 0;   // stop_reached, stop_left: the stop's index in the trip
  long departures = 0;  // bus_departed: the departures counted when it was made
  friend bool operator==(const Staleness&, const Staleness&) = default;
};

namespace policy {

// Hand it to the voice and log it (`form`: a stop announcement's form, announcer.hpp).
struct Say {
  std::string kind;  // "next_stop", "approaching", "exterior_route", "ramp_assist", ...
  media::Announcement announcement;
  std::optional<std::string> form;
};
// It was handed to the voice and is no longer true: media::Engine::expire.
struct Expire {
  std::string announcement_id;
};
using Effect = std::variant<Say, Expire, log::Held>;

}  // namespace policy

// What holds stop announcements back now.
struct Holds {
  bool emergency = false;      // an emergency message is on (messages::Board::holding_stops)
  bool ramp_deployed = false;  // the ramp is out (Assist::hold_departure_announcements)
};

class AnnouncementPolicy {
 public:
  // `door_signals`: the bus reports its doors (then the route outside is said when they open).
  explicit AnnouncementPolicy(bool door_signals = false) : door_signals_(door_signals) {}

  // A stop event: where the bus is now. Expires the announcements it made untrue; a new trip
  // drops a held "next stop" of the last one.
  std::vector<policy::Effect> on_event(const tracking::StopEvent& event);

  // The announcer's announcements for `event` (Announcer::on_event): said, held or dropped.
  std::vector<policy::Effect> stop_announcements(const tracking::StopEvent& event, Fitted fitted,
                                                 Holds holds);

  // "Next stop" for stop `stop_index` said again after an emergency message ended (the
  // announcer's full form for a next_stop event), at `now`.
  std::vector<policy::Effect> next_stop_again(std::vector<media::Announcement> announcements,
                                              int stop_index, tracking::Time now, Holds holds);

  // An announcement of the workflows or of a message (`kind` as in the event log): words for the
  // people at this stop ("exterior_route", "boarding_request") are stale once the bus leaves it.
  std::vector<policy::Effect> other(std::string_view kind, media::Announcement announcement);

  // The ramp was stowed: the held "next stop" is said, or dropped if the bus reached the stop.
  std::vector<policy::Effect> ramp_stowed(tracking::Time now);
  // An emergency message began: a held "next stop" is dropped (the next stop is said again when
  // the emergency ends: next_stop_again).
  void emergency_began() { held_.clear(); }
  // The bus reported a door: from now on the doors say when to tell people outside.
  void doors_seen() { doors_seen_ = true; }

  // The driver's "repeat": the last stop announcement again, its id + `id_suffix`, as stale as
  // the original. Nothing when there is none.
  std::vector<policy::Effect> repeat_last(std::string_view id_suffix);

  // The voice reported it over on every output: no longer watched.
  void finished(const std::string& announcement_id) { live_.erase(announcement_id); }

  // Whether an announcement with `staleness` is still true (for tests and the wiring).
  bool still_true(const Staleness& staleness) const;
  // Announcements handed to the voice and watched for staleness.
  std::size_t watched() const { return live_.size(); }

 private:
  struct Pending {
    media::Announcement announcement;
    Staleness staleness;
  };
  // A Say, watched for staleness (an Expire with it when it is untrue already).
  void say(std::vector<policy::Effect>& effects, std::string kind, media::Announcement a,
           Staleness staleness, std::optional<std::string> form = std::nullopt);

  bool door_signals_;
  bool doors_seen_ = false;
  // Stops reached (arrived or passed) on the current trip.
  int reached_ = 0;
  // Stops left (departed or passed, or a later one reached).
  int left_ = 0;
  // Departures (departed or passed) so far, on every trip.
  long departures_ = 0;
  std::vector<Pending> held_;              // "next stop" held while the ramp is out
  std::optional<Pending> last_stop_;       // for "repeat"
  std::map<std::string, Staleness> live_;  // handed to the voice, not yet over or stale
};

}  // namespace stopcall::daemon
