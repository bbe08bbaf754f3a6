// The vehicle's signals and the local control protocol (CONTROL.md): what other vehicle systems,
// GPIO lines and `stopcallctl` tell the daemon — doors, ramp, kneeling, speed, buttons, boarding
// requests — as plain values, with the line-delimited JSON that carries them. Pure: parsing and
// encoding only; the socket is control_socket.hpp, the workflows are assist/.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "daemon/tracking/fix.hpp"

namespace stopcall::daemon::vehicle {

// A level signal of the vehicle: a door (numbered from 1, front first), the ramp, kneeling, the
// vehicle's speed, and an emergency input (the fire-suppression system, a panic switch): becoming
// active starts the configured emergency message.
enum class SignalName { door, ramp, kneel, speed, emergency };

struct Signal {
  SignalName name = SignalName::door;
  int door = 1;          // kind door: which one
  bool active = false;   // door open / ramp deployed / kneeling (bus lowered) / emergency on
  double speed_kmh = 0;  // kind speed: the vehicle's own speed (CAN, tachograph)
  std::string source;    // "control", "gpio", "console": for the log
};

// A momentary input: the driver's ramp-assist button (cab or console) and the passengers'
// stop-request and wheelchair (accessible) stop-request buttons.
enum class Button { ramp_assist, stop_request, wheelchair_request };

struct ButtonPress {
  Button button = Button::stop_request;
  std::string source;
};

// Somebody waiting at a stop needs help boarding: a wheelchair user (ramp) or a blind or
// low-vision rider (the exterior speaker tells them which bus this is).
enum class RequestKind { wheelchair, blind };

struct BoardingRequestIn {
  std::string id;  // the sender's id for it; empty: the daemon makes one
  RequestKind kind = RequestKind::wheelchair;
  std::string stop_id;   // a stop or its parent station
  std::string route_id;  // GTFS route_id
  std::optional<tracking::Time> expires;
  std::string source;
};

// An emergency or service message for the bus to say and show: one of the route data's presets,
// or words sent with it (CONTROL.md, `message`).
struct MessageIn {
  std::string message_id;                     // the sender's id for it; empty: the daemon makes one
  std::string preset;                         // a preset's id; empty: `kind` and `text` say it all
  std::string kind;                           // "emergency" or "service" (without a preset)
  std::map<std::string, std::string> text;    // per language tag
  std::map<std::string, std::string> spoken;  // per language, where the voice says it otherwise
  std::string outputs;                        // "interior", "exterior", "both"; empty: the kind's
  std::optional<int> repeat_every_s;          // emergency
  std::optional<int> repeats;                 // service: after the next stop departures
  std::optional<tracking::Time> expires;
  std::string source;
};

// The end of a message's repeats (acknowledge: the driver has seen the emergency) or of the
// message (cancel).
struct MessageEnd {
  enum class Action { acknowledge, cancel };
  Action action = Action::cancel;
  std::string message_id;
  std::string source;
};

// Asks for the workflows' state (doors, ramp, requests) in the reply: for tests and diagnostics.
struct QueryState {};

using Command =
    std::variant<Signal, ButtonPress, BoardingRequestIn, QueryState, MessageIn, MessageEnd>;

// The answer to one command.
struct Reply {
  bool ok = true;
  std::string error;    // when !ok: "bad_request", "unknown_command", "refused", "no_trip", ...
  std::string message;  // for a person: what happened, or why not
  std::string data;     // a JSON value to include as "data" (QueryState); empty: none

  static Reply success(std::string message) { return {true, {}, std::move(message), {}}; }
  static Reply failure(std::string error, std::string message) {
    return {false, std::move(error), std::move(message), {}};
  }
};

// One command line, parsed: `command` is set, or `error` says why not (as a Reply to send back).
struct Parsed {
  std::string id;  // the line's "id", echoed in the reply (may be empty)
  std::optional<Command> command;
  Reply error;
};

// Reads one line (without its newline). Never throws: anything unexpected is an error.
Parsed parse_command(std::string_view line);

// One JSON object, no newline. encode_command is what stopcallctl sends.
std::string encode_command(const Command& command, std::string_view id = {});
std::string encode_reply(const Reply& reply, std::string_view id);
// The reply line back into a Reply (stopcallctl); a line that is not one is an error Reply.
Reply parse_reply(std::string_view line);

std::string_view to_string(SignalName name);
std::string_view to_string(Button button);  // "ramp-assist", "stop-request", "wheelchair-request"
std::string_view to_string(RequestKind kind);
std::optional<Button> button_from_string(std::string_view text);
std::optional<RequestKind> request_kind_from_string(std::string_view text);

// ISO 8601 with a zone: "2026-03-02T07:30:00Z", "2026-03-02T15:30:00+08:00", fractions allowed.
std::optional<tracking::Time> parse_iso_time(std::string_view text);

// The longest line the daemon reads; longer ones are refused and the connection closed.
inline constexpr std::size_t kMaxLine = 4096;
// The longest "id" and "request_id", and "stop_id" and "route_id" (GTFS ids), in bytes.
inline constexpr std::size_t kMaxId = 64;
inline constexpr std::size_t kMaxFeedId = 128;

}  // namespace stopcall::daemon::vehicle
