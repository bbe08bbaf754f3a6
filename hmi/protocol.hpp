// The screens' message protocol (PROTOCOL.md) as value types: what the daemon tells the passenger
// displays and the driver console (State, Message), what the console asks for (DriverAction) and
// the answer (Reply). Plain data and pure functions: JSON encoding lives in protocol.cpp
// (nlohmann), nothing here touches a socket, so the rules are testable without one.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <variant>
#include <vector>

#include "hmi/errors.hpp"

namespace stopcall::hmi {

// Bumped on any change a page of the previous version would misread (PROTOCOL.md, "Versions").
inline constexpr int kProtocolVersion = 1;

// Text per language, keyed by BCP 47 tag ("zh-Hans", "yue", "en"): the same type as
// routes::Names, so the route model's names pass straight through.
using Names = std::map<std::string, std::string>;

// Milliseconds since the Unix epoch on the server's clock. Every time on the wire is one of these.
using EpochMs = std::int64_t;

struct RouteView {
  std::string number;      // "101"
  Names names;             // route_long_name per language
  std::string color;       // "0057A8" (GTFS, no '#'); empty: the page's default
  std::string text_color;  // "FFFFFF"
  friend bool operator==(const RouteView&, const RouteView&) = default;
};

struct TripView {
  std::string id;  // "101-WD-E-0630"
  RouteView route;
  Names headsign;  // per language
  std::optional<int> direction;
  std::string block;  // the run ("101-WD-01")
  friend bool operator==(const TripView&, const TripView&) = default;
};

enum class Wheelchair : std::uint8_t { unknown, accessible, not_accessible };

struct StopView {
  std::string id;  // "CGM-E"
  Names names;
  Names phrases;     // e.g. transfer hints "Transfer to Metro Lines 1, 7, 9 and 11"; may be empty
  int sequence = 0;  // GTFS stop_sequence
  int index = 0;     // 0-based position in the trip
  Wheelchair wheelchair = Wheelchair::unknown;
  friend bool operator==(const StopView&, const StopView&) = default;
};

// What is being spoken, shown from `start` until `end` (both on the server's clock), or until a
// Subtitle with the same cue and `withdrawn` arrives.
struct Subtitle {
  std::string cue;  // unique per spoken segment, e.g. "a17/2"
  std::string text;
  std::string lang;
  EpochMs start = 0;
  EpochMs end = 0;
  bool withdrawn = false;
  std::string message;  // the MessagePanel id when this is a message being spoken; else empty
  friend bool operator==(const Subtitle&, const Subtitle&) = default;
};

enum class PromptKind : std::uint8_t {
  stop_requested,  // a passenger pressed the stop button
  ramp_requested,  // a passenger asked for the ramp: "ramp requested, the driver knows"
  ramp_deploying,  // the ramp is moving: keep clear
  doors_opening,
  doors_closing,
  notice,  // anything else the daemon wants on the screens
};

// A message on the screens while it is active; publishing it inactive takes it down.
struct Prompt {
  std::string id;  // one prompt per id; "ramp", "doors", ...
  PromptKind kind = PromptKind::notice;
  Names text;  // per language
  bool active = true;
  friend bool operator==(const Prompt&, const Prompt&) = default;
};

enum class Level : std::uint8_t { unknown, ok, warning, error };

// One line of the console's status panel. Names the pages know: "gps", "audio.interior",
// "audio.exterior", "bundle", "trip"; others are shown as they come.
struct Status {
  std::string name;
  Level level = Level::unknown;
  std::string text;  // for the driver: "3D fix, 9 satellites", "speaker failed, retrying in 4 s"
  friend bool operator==(const Status&, const Status&) = default;
};

// Somebody waiting at a coming stop needs boarding help (ramp, guidance).
struct BoardingRequest {
  std::string id;
  std::string stop_id;
  Names stop_names;
  // "wheelchair" or "blind" (waiting at the stop), "wheelchair_alighting" (a rider on board
  // asked for the ramp to get off there); others are shown as they come.
  std::string kind;
  EpochMs since = 0;
  std::optional<int> stops_to_go;    // 0: the next stop
  std::optional<double> distance_m;  // along the trip, from the bus
  friend bool operator==(const BoardingRequest&, const BoardingRequest&) = default;
};

struct Volume {
  int interior = 70;  // 0-100
  int exterior = 70;
  friend bool operator==(const Volume&, const Volume&) = default;
};

// A trip the driver may log into (the console's list).
struct TripOption {
  std::string trip_id;
  std::string route;  // short name "101"
  Names headsign;
  std::optional<int> direction;
  std::string block;
  std::string departure;  // first departure, "06:30" (may be past 24:00, "24:10")
  friend bool operator==(const TripOption&, const TripOption&) = default;
};

// The trip auto-detection settled on, offered to the driver for one-touch confirmation.
struct DetectedTrip {
  std::string trip_id;
  double confidence = 0;  // 0-1
  friend bool operator==(const DetectedTrip&, const DetectedTrip&) = default;
};

enum class MessageKind : std::uint8_t { emergency, service };

// An emergency or service message, on the screens while active; publishing it inactive takes it
// down. Passenger displays: an emergency covers the screen (every language, the sentence being
// spoken highlighted, a strip with the next stop); a service message is an amber panel beside the
// next stop. The console shows where it was heard and lets the driver acknowledge or cancel it.
struct MessagePanel {
  std::string id;
  MessageKind kind = MessageKind::service;
  Names title;  // a short label per language ("Evacuate"); may be empty
  Names text;   // per language, in State::languages order where it has them
  bool active = true;
  bool acknowledged = false;       // emergency: the driver acknowledged it (no more repeats)
  EpochMs since = 0;               // when it was sent
  std::vector<std::string> heard;  // outputs it has been heard on: "interior", "exterior"
  std::string source;              // "console", "control", "signal", "fleet"
  friend bool operator==(const MessagePanel&, const MessagePanel&) = default;
};

// A prepared message the driver can send from the console (the route data's presets).
struct MessageOption {
  std::string id;
  MessageKind kind = MessageKind::service;
  Names title;
  Names text;
  friend bool operator==(const MessageOption&, const MessageOption&) = default;
};

// Everything a screen shows; sent whole on connect and by publish_state.
struct State {
  int utc_offset_min = 0;  // the clock shown is server time plus this (Asia/Shanghai: 480)
  std::vector<std::string> languages{"zh-Hans", "yue", "en"};  // display order
  std::optional<TripView> trip;                                // unset: not logged in
  std::optional<StopView> next_stop;
  std::vector<StopView> coming;  // the stops after next_stop, nearest first
  std::optional<Subtitle> subtitle;
  std::vector<Prompt> prompts;  // active ones
  std::vector<Status> statuses;
  std::vector<BoardingRequest> requests;
  Volume volume;
  std::vector<TripOption> trip_options;
  std::optional<DetectedTrip> detected_trip;
  std::vector<MessagePanel> messages;  // active ones, oldest first
  std::vector<MessageOption> message_options;
  friend bool operator==(const State&, const State&) = default;
};

// Changes, broadcast as they happen and folded into the State new screens receive.
struct NextStopUpdate {
  std::optional<StopView> next_stop;
  std::vector<StopView> coming;
  friend bool operator==(const NextStopUpdate&, const NextStopUpdate&) = default;
};
struct RequestsUpdate {
  std::vector<BoardingRequest> requests;  // the whole list
  friend bool operator==(const RequestsUpdate&, const RequestsUpdate&) = default;
};
using Message =
    std::variant<NextStopUpdate, Subtitle, Prompt, Status, RequestsUpdate, Volume, MessagePanel>;

// Folds a change into the state: what a screen connecting afterwards must see.
void apply(State& state, const Message& message);

// The wire "type" of a message: "next_stop", "subtitle", "prompt", "status", "requests", "volume",
// "message".
std::string_view type_name(const Message& message);

// ---- client -> server -------------------------------------------------------------------------

enum class Role : std::uint8_t { passenger, driver };
std::string_view to_string(Role role);
std::string_view to_string(MessageKind kind);  // "emergency", "service"

enum class AudioOutput : std::uint8_t { interior, exterior };

struct LoginTrip {
  std::string trip_id;
};
struct ConfirmDetectedTrip {};
struct RampAssist {};
struct RepeatLast {};
struct SetVolume {
  AudioOutput output = AudioOutput::interior;
  int level = 0;  // 0-100
};
struct DismissRequest {
  std::string request_id;  // BoardingRequest::id
};
// Sends a prepared message (MessageOption::id). An emergency is sent only with `confirmed`: the
// console asks "press again to confirm" first.
struct SendMessage {
  std::string preset;
  bool confirmed = false;
};
struct CancelMessage {
  std::string message_id;  // MessagePanel::id
};
struct AckMessage {
  std::string message_id;  // MessagePanel::id: the driver has seen the emergency; repeats stop
};
using Action = std::variant<LoginTrip, ConfirmDetectedTrip, RampAssist, RepeatLast, SetVolume,
                            DismissRequest, SendMessage, CancelMessage, AckMessage>;

// "login_trip", "confirm_detected_trip", "ramp_assist", "repeat_last", "set_volume",
// "dismiss_request", "send_message", "cancel_message", "ack_message".
std::string_view action_name(const Action& action);

struct DriverAction {
  std::string id;  // the console's request id, echoed in the reply
  Action action;
};

// The console's credential, as its first message.
struct Auth {
  std::string token;
};

// Any screen may ask "are you there?" (browsers do not show WebSocket pings to the page); the
// reply says yes. Changes nothing.
struct Ping {};

// The answer to one client message.
struct Reply {
  std::error_code error;  // empty: ok
  std::string message;    // for the screen and the log; may be empty when ok

  static Reply success(std::string message = {}) { return {{}, std::move(message)}; }
  static Reply failure(Errc code, std::string message = {}) {
    return {make_error_code(code), std::move(message)};
  }
  bool ok() const { return !error; }
};

// One parsed client message: `body` is set, or `error` says why not. `id` is the message's
// request id when one could be read (it is echoed in the reply either way), `type` its type.
struct ClientMessage {
  std::string id;
  std::string type;
  std::optional<std::variant<Auth, Ping, Action>> body;
  Reply error;
};

// Reads one text frame. Never throws; anything unexpected is an error reply.
ClientMessage parse_client_message(std::string_view text);

// ---- server -> client encoding ----------------------------------------------------------------

// Each returns one JSON object as text (UTF-8, no trailing newline). `seq` numbers the broadcast
// stream (state and changes); `now` stamps server_time_ms.
std::string encode_hello(Role role, bool authenticated, EpochMs now);
std::string encode_state(const State& state, std::uint64_t seq, EpochMs now);
std::string encode_message(const Message& message, std::uint64_t seq, EpochMs now);
// `request_type` is the type of the message answered (may be empty when unreadable).
std::string encode_reply(std::string_view id, std::string_view request_type, const Reply& reply,
                         EpochMs now);

}  // namespace stopcall::hmi
