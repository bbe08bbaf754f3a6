// The event log's records other than stop events (those are tracking::StopEvent, written by
// tracking::to_json_line): one struct per "type", one encoder and one decoder. The daemon writes
// these lines and the depot's report reads them, so both go through here.
//
// encode() gives one JSON object, no newline, with the keys in the order of the struct's fields
// ("type" and "time" first); an optional field that is empty is left out. decode() reads one line
// back: a line that is not a JSON object, has no string "type" or "time", names a type not here,
// holds a field of the wrong type or lacks a number or flag that is not optional decodes to
// nullopt. A missing text, list or optional field decodes as empty, so logs from daemons that
// wrote fewer fields still read. It never throws.
//
// Times are the log's text ("2026-03-02T08:00:30.020Z", tracking::format_time), kept as written;
// values from other modules' vocabularies (outputs, outcomes, priorities, kinds) are their names.
// Pure: no I/O, no adapter.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace stopcall::log {

// "announcement": what the daemon submitted to the voice, when it decided it.
struct Announcement {
  std::string time;
  std::string id;
  std::string kind;                  // "next_stop", "approaching", "exterior_route", "repeat", ...
  std::string priority;              // media::to_string(Priority)
  std::vector<std::string> outputs;  // "interior", "exterior"
  std::vector<std::string> languages;  // in the order spoken
  std::vector<std::string> segments;   // media::to_string(SegmentKind), one per segment
  // What is said, per language, in the order spoken (the languages' order).
  std::vector<std::pair<std::string, std::string>> text;
  std::optional<std::string> trip_id;  // the trip when it was decided
  std::optional<double> distance_m;    // how far along it the bus was
  std::optional<std::string> form;     // a stop announcement's form: "full", "brief", ... (fit.hpp)
  friend bool operator==(const Announcement&, const Announcement&) = default;
};

// "announcement_result": how an announcement ended on one output.
struct AnnouncementResult {
  std::string time;
  std::string id;
  std::string output;   // "interior", "exterior"
  std::string outcome;  // media::to_string(Result::Outcome): "finished", "expired", ...
  friend bool operator==(const AnnouncementResult&, const AnnouncementResult&) = default;
};

// "sound": an announcement was first heard on one output.
struct Sound {
  std::string time;
  std::string id;
  std::string output;
  std::optional<double> after_ms;       // from submission to the first sample played
  std::optional<std::int64_t> mono_ns;  // CLOCK_MONOTONIC when it was heard
  friend bool operator==(const Sound&, const Sound&) = default;
};

// "time_zone": the service's zone and its offset, at start and whenever the offset changes.
struct TimeZone {
  std::string time;
  std::string time_zone;  // "Asia/Shanghai"
  int utc_offset_min = 0;
  friend bool operator==(const TimeZone&, const TimeZone&) = default;
};

// "fault": something the depot must put right, or a sensor not believed.
struct Fault {
  std::string time;
  std::string kind;  // "gpio_unavailable", "door_open_while_moving", ...
  std::optional<int> door;
  std::optional<double> kmh;
  std::string message;
  std::optional<double> moved_s;  // gps_clock_jumped_back: how far the receiver's clock went back
                                  // (written before the message)
  friend bool operator==(const Fault&, const Fault&) = default;
};

// "held": a stop announcement held while the ramp is out or an emergency is on, or dropped after
// it was.
struct Held {
  std::string time;
  std::string id;
  std::string why;
  friend bool operator==(const Held&, const Held&) = default;
};

// "prompt": a prompt put up or taken down on the passenger displays or the driver console.
struct Prompt {
  std::string time;
  std::string to;    // "passenger", "driver"
  std::string kind;  // "ramp_moving_alarm", "wheelchair_request", ...
  std::string id;
  bool active = false;
  std::optional<std::string> stop_id;
  std::map<std::string, std::string> text;  // per language; left out when empty
  friend bool operator==(const Prompt&, const Prompt&) = default;
};

// "gps_waiting": no fix yet; the time is the system clock's.
struct GpsWaiting {
  std::string time;
  std::string clock;  // "system"
  std::string message;
  friend bool operator==(const GpsWaiting&, const GpsWaiting&) = default;
};

// "gps_first_fix": the first fix; from here on times are the GPS's.
struct GpsFirstFix {
  std::string time;
  friend bool operator==(const GpsFirstFix&, const GpsFirstFix&) = default;
};

// "volume": the driver set an output's volume (0-100).
struct Volume {
  std::string time;
  std::string output;
  int level = 0;
  friend bool operator==(const Volume&, const Volume&) = default;
};

// "login": the driver logged in to a trip or confirmed the detected one.
struct Login {
  std::string time;
  std::string trip_id;
  std::string source;
  friend bool operator==(const Login&, const Login&) = default;
};

// "request": a boarding or alighting request and what became of it (its fate).
struct Request {
  std::string time;
  std::string id;
  std::string kind;  // "wheelchair", "blind", "wheelchair_alighting", ...
  std::string stop_id;
  std::string fate;                     // "pending", "shown", "carried", "served", "missed", ...
  std::optional<std::string> route_id;  // when it came in
  std::optional<std::string> expires;   // when it came in: its end (a log time)
  std::optional<std::string> why;       // carried or settled: why
  std::optional<int> stops_to_go;       // shown: how many stops before its stop
  // Where it came from: "control", "fleet", "console", ... (on every line of the request, so a
  // fate line says by itself that its request came over the fleet link).
  std::optional<std::string> source;
  friend bool operator==(const Request&, const Request&) = default;
};

// "signal": a vehicle signal or a button press, as received.
struct Signal {
  std::string time;
  std::string signal;                 // vehicle::to_string(SignalName), or "button"
  std::optional<std::string> button;  // "button": which one
  std::string source;                 // "control", "gpio", "console"
  std::optional<int> door;            // "door": which one
  std::optional<std::string> state;   // "open"/"closed", "deployed"/"stowed"
  std::optional<double> kmh;          // "speed"
  std::optional<std::string> note;    // why it was not acted on
  friend bool operator==(const Signal&, const Signal&) = default;
};

// "message": an emergency or service message and each step of its life, one line per step.
struct Message {
  std::string time;
  std::string id;
  std::string event;   // "sent", "refused", "said", "heard", "acknowledged", "cancelled",
                       // "expired", "restored" (active when the daemon stopped, given again)
  std::string kind;    // "emergency", "service"
  std::string source;  // "console", "control", "signal", "fleet"
  std::optional<std::string> preset;   // the route data's preset it came from
  std::vector<std::string> languages;  // sent: the languages it has, in the order spoken
  std::vector<std::string> missing;    // sent: configured languages it lacks (not said in them)
  std::optional<std::string> output;   // heard: where ("interior", "exterior")
  std::optional<int> times;            // said: which time (1 = the first)
  std::optional<std::string> note;     // refused: why; cancelled: by whom
  friend bool operator==(const Message&, const Message&) = default;
};

// "fleet_command": the bus's decision on one signed command from the control centre (taken, or
// refused with its reason), whatever the command then did (its own lines say that).
struct FleetCommand {
  std::string time;
  bool accepted = false;
  std::optional<std::string> error;  // refused: "bad_signature", "stale", "replayed", ...
  std::optional<std::string> to;     // the envelope's audience, once it could be read
  std::optional<std::string> nonce;  // the envelope's nonce, once it could be read
  std::string message;
  friend bool operator==(const FleetCommand&, const FleetCommand&) = default;
};

// "route_data": route data from the depot over the fleet link (fleet/PROTOCOL.md, "Route data"):
// an offer taken, the bundle installed, or the transfer failed (with the reason).
struct RouteData {
  std::string time;
  std::string bundle_id;
  std::string event;                  // "offer_taken", "installed", "failed"
  std::optional<std::string> reason;  // failed: "hash_mismatch", "signature", "install_error", ...
  std::string message;
  friend bool operator==(const RouteData&, const RouteData&) = default;
};

using Record =
    std::variant<Announcement, AnnouncementResult, Sound, TimeZone, Fault, Held, Prompt, GpsWaiting,
                 GpsFirstFix, Volume, Login, Request, Signal, Message, FleetCommand, RouteData>;

// The record's "type" ("announcement", "announcement_result", ...).
std::string_view type_name(const Record& record);
// Whether lines of this "type" are records here (a stop event's type is not).
bool is_record_type(std::string_view type);

// One line of the event log, without the newline. Throws nlohmann's type_error only when a text
// is not valid UTF-8, as writing the line by hand did.
std::string encode(const Record& record);

// The record a line holds; nullopt when it is none (see above).
std::optional<Record> decode(std::string_view line);
// The same from a line already parsed.
std::optional<Record> decode(const nlohmann::ordered_json& object);

}  // namespace stopcall::log
