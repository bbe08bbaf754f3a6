// The fleet link's messages (PROTOCOL.md): the topics of one bus and the typed records it
// publishes and reads, each to and from JSON. Pure: no network, no clock.
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/vehicle/control.hpp"

namespace stopcall::daemon::fleet {

// "stopcall/v1" + "/bus/<vehicle>/" + leaf. A vehicle id is one topic level: letters, digits,
// '-', '_' and '.', at most 64 bytes (no '/', '+', '#').
struct Topics {
  std::string status;          // retained; the last will says offline
  std::string events;          // the event log, in order, QoS 1
  std::string requests;        // boarding requests in (the control socket's `request`)
  std::string requests_ack;    // the answer to each request
  std::string fleet_requests;  // <prefix>/fleet/requests: signed commands for every bus
  std::string prefix;
  std::string bundle_get;    // route data: the bus asks for a chunk
  std::string bundle_chunk;  // route data: the depot's chunk
  // <prefix>/route/<route_id>/requests: signed commands for the buses on one route.
  std::string route_requests(std::string_view route_id) const;
  static Topics of(std::string_view prefix, std::string_view vehicle);
};

bool valid_vehicle_id(std::string_view id);

struct NextStop {
  std::string stop_id;
  std::string name;  // in the bundle's first language
  int index = 0;     // on the trip, from 0
  bool operator==(const NextStop&) const = default;
};

// Route data on its way to the bus (PROTOCOL.md, "Route data"), in its status.
struct RouteDataStatus {
  std::string bundle_id;
  std::string state;  // downloading, verifying, waiting_for_terminus, installed, failed
  std::uint64_t have = 0;
  std::uint64_t chunks = 0;
  std::string message;
  bool operator==(const RouteDataStatus&) const = default;
};

// What the depot sees of a bus: published retained on change and at least every status interval.
struct StatusRecord {
  std::string vehicle;
  bool online = true;
  std::string software;  // stopcalld's version
  std::string bundle;    // the route data's feed version
  std::string trip_id;   // empty: no trip
  std::string route_id;
  std::optional<NextStop> next_stop;
  std::string gps;                  // "fix", "no_fix", "waiting", "gpsd connecting", "replay", ...
  std::vector<std::string> faults;  // the kinds of the faults logged in the last 10 minutes
  std::optional<RouteDataStatus> route_data;  // unset: no route data in progress
  std::string time;                           // the bus's time when it was made (not compared)
  // Equal but for `time`: nothing to tell the depot.
  bool same_as(const StatusRecord& other) const;
};
void to_json(nlohmann::json& j, const StatusRecord& s);
void from_json(const nlohmann::json& j, StatusRecord& s);
// The last will: what the broker says for a bus that went away without a word.
StatusRecord offline_status(std::string vehicle);

// One event-log line as sent: its row number in the bus's event store (the depot keeps each
// (vehicle, seq) once) and the line itself as a JSON value (a string when it is not JSON).
struct EventRecord {
  std::string vehicle;
  std::int64_t seq = 0;
  std::string line;
};
std::string encode_event(const EventRecord& e);

// The answer to one request on requests/ack.
struct RequestAck {
  std::string vehicle;
  std::string id;          // the message's "id", echoed (may be empty)
  std::string request_id;  // the request's "request_id" (may be empty)
  bool accepted = false;
  std::string
      error;  // when refused: "bad_request", "not_a_request", "unknown_stop", "expired", ...
  std::string message;  // for a person
  std::string nonce;    // the signed command's nonce, echoed (may be empty)
};
void to_json(nlohmann::json& j, const RequestAck& a);
void from_json(const nlohmann::json& j, RequestAck& a);

// What became of a request that came over the fleet link, told on requests/ack as its `request`
// event line goes up (PROTOCOL.md, "requests/ack"). It has no `accepted`: that is how a reader
// tells it from an answer.
struct RequestFate {
  std::string vehicle;
  std::string request_id;  // the request's id on the bus (the `request_id` its command gave)
  std::string fate;        // "shown", "served", "missed", "expired", "dismissed"
  std::string time;        // the event line's own time
  std::string why;         // may be empty
  bool operator==(const RequestFate&) const = default;
};
void to_json(nlohmann::json& j, const RequestFate& f);
// The fate message one event-log line yields: a `request` line with one of the fates above whose
// request came over the fleet link ("source":"fleet"). Anything else (a pending or carried
// request, one from the control socket or the console, another kind of line, a line that is not
// JSON) yields none.
std::optional<RequestFate> fate_of(const std::string& vehicle, std::string_view event_line);

// A request message (a control-protocol line with "cmd":"request" or "cmd":"message") into a
// command, or the ack that refuses it. Boarding requests and emergency and service messages (with
// their acknowledgement and cancellation) are taken from the fleet: signals and buttons are the
// vehicle's own.
struct ParsedRequest {
  std::optional<vehicle::Command> request;  // a BoardingRequestIn, MessageIn or MessageEnd
  RequestAck refusal;                       // when !request
  std::string id;
};
ParsedRequest parse_request(std::string_view payload, const std::string& vehicle);

}  // namespace stopcall::daemon::fleet
