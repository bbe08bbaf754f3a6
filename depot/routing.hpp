// Booking routing (PROTOCOL.md, "The depot service"): which bus of a route gets a booking, and what
// each answer and fate from the buses does to it. Pure: no I/O, no clock; the statuses and the
// trips' timetables come in with each call.
#pragma once

#include <algorithm>
#include <array>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/fleet/protocol.hpp"
#include "daemon/tracking/fix.hpp"

namespace stopcall::depot {

// A booking from the booking platform: somebody at `stop_id` needs help boarding a bus of
// `route_id` before `expires`.
struct Booking {
  std::string booking_id;
  std::string kind;  // "wheelchair", "blind"
  std::string route_id;
  std::string stop_id;
  std::string expires;  // ISO 8601 with a zone; empty: the bus's default (30 minutes)
};

// A booking from its JSON payload; nullopt and `error` set when malformed.
std::optional<Booking> parse_booking(std::string_view payload, std::string& error);

// A booking in one of these states changes no more: served, dismissed (the driver dealt with it),
// expired, failed.
inline constexpr std::array<std::string_view, 4> kFinalStates{"served", "dismissed", "expired",
                                                              "failed"};
inline bool final_state(std::string_view state) {
  return std::find(kFinalStates.begin(), kFinalStates.end(), state) != kFinalStates.end();
}

// What became of a booking so far. `final()` states change no more.
struct BookingState {
  Booking booking;
  // routing, sent, accepted, shown; then one of the final states
  std::string state = "routing";
  std::string vehicle;             // the bus it is with (sent and after)
  std::vector<std::string> tried;  // buses that refused or missed it
  std::string message;             // for a person
  // routing: the bus that went offline with it before answering, when no other bus could take
  // it; it goes to the first bus able to reach the stop, that one again included.
  std::string waiting_for;
  int sends = 0;  // requests sent so far (names each command: "<booking>-<sends>")
  bool final() const { return final_state(state); }
};
// {"booking_id","kind","route_id","stop_id","expires","state","vehicle","tried","message",
//  "waiting_for","sends"}
std::string encode_state(const BookingState& s);
std::optional<BookingState> decode_state(std::string_view json);

// One stop of a trip as the timetable has it.
struct ScheduledStop {
  std::string stop_id;
  std::string parent_station;  // may be empty
  int arrival_s = 0;           // seconds of the service day
};
// Trip id -> its stops in order. The wiring fills it from the route bundle.
using Timetables = std::map<std::string, std::vector<ScheduledStop>>;

struct Choice {
  std::string vehicle;  // empty: no bus (reason says why)
  int eta_s = 0;        // scheduled seconds from the bus's next stop to the booking's stop
  std::string reason;
};

// The bus of the booking's route, online, not in `tried`, whose trip serves the stop at or after
// its next stop, that will reach it soonest by the timetable (ties: the lower vehicle id). With
// an `expires`, a bus reaches the stop at `now` plus its timetable time from its next stop at the
// earliest (the status says nothing of how late it runs beyond where it is); one that would come
// at or after `expires` is no candidate: the bus drops a request when its expiry comes.
Choice choose_bus(const Booking& booking, const std::vector<daemon::fleet::StatusRecord>& statuses,
                  const Timetables& trips, const std::vector<std::string>& tried,
                  tracking::Time now);

// Routes (or routes again) `s`: sent to the chosen bus, or failed with the reason (also when buses
// would reach the stop, but none before `expires`). `now`: the depot's clock, for the expiry.
void route(BookingState& s, const std::vector<daemon::fleet::StatusRecord>& statuses,
           const Timetables& trips, tracking::Time now);

// What one answer or fate from `vehicle` does to the booking. Returns true when `s` changed.
// Answers from a bus the booking is not with are ignored. A refusal or `missed` moves the bus to
// `tried` and routes the booking again; served and expired end it; shown is noted.
bool on_ack(BookingState& s, const daemon::fleet::RequestAck& ack,
            const std::vector<daemon::fleet::StatusRecord>& statuses, const Timetables& trips,
            tracking::Time now);
bool on_fate(BookingState& s, std::string_view vehicle, std::string_view fate, std::string_view why,
             const std::vector<daemon::fleet::StatusRecord>& statuses, const Timetables& trips,
             tracking::Time now);

// `vehicle` went offline. A booking sent to it and not answered yet goes to another bus of the
// route; with none (or none before `expires`), it waits for one (routing, `waiting_for` the bus).
// Not moved to `tried`: the bus may come back before the stop, and in time. An accepted booking
// stays (the bus keeps its requests). Returns true when `s` changed.
bool on_offline(BookingState& s, std::string_view vehicle,
                const std::vector<daemon::fleet::StatusRecord>& statuses, const Timetables& trips,
                tracking::Time now);
// A bus reported itself online (`vehicle`): a waiting booking goes to the bus now able to reach
// the stop soonest (before `expires`); when none is and `vehicle` is the bus it waited for (back,
// but past the stop or too late for it), it fails with the reason. Returns true when `s` changed.
bool on_online(BookingState& s, std::string_view vehicle,
               const std::vector<daemon::fleet::StatusRecord>& statuses, const Timetables& trips,
               tracking::Time now);

// A booking no bus has taken yet (routing, or sent and not answered) whose `expires` has come by
// `now` ends `expired` here: no bus will act on it any more, and the booking platform hears so
// without waiting for a bus. An accepted booking is its bus's to expire (the bus logs the fate).
// Returns true when `s` changed.
bool expire_if_due(BookingState& s, tracking::Time now);

// The control-protocol `request` line sent to the bus for booking `s` (CONTROL.md), with `id`.
std::string request_line(const BookingState& s, std::string_view id);

}  // namespace stopcall::depot
