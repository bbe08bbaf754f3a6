// The depot's one-shot commands (`stopcall-fleet buses|request|message|credentials`): each
// returns the exit status (0 done, 1 refused or failed) and prints what a controller reads.
#pragma once

#include <chrono>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "daemon/fleet/command.hpp"
#include "depot/mqtt.hpp"

namespace stopcall::depot {

// Exactly one of --bus, --route and --fleet as whom a command is for; throws
// std::invalid_argument when not exactly one is given or the id is not one topic level.
daemon::fleet::Audience audience_of(const std::string& bus, const std::string& route, bool fleet);

// A table of the buses the store knows: vehicle, online, route, trip, next stop, gps, faults,
// last seen, events stored.
int list_buses(const std::string& store, std::ostream& out);

struct RequestOptions {
  BrokerOptions broker;
  std::string prefix = "stopcall/v1";
  std::string route_id, stop_id, kind, expires, booking_id;
  std::chrono::seconds wait{60};
};
// Publishes a booking and prints each of its states (one JSON line each) until a final one or
// the wait ends, then one line on standard error with the last state and its message. 0 when it
// was served, dismissed, expired, or still open (sent, accepted, shown) when the wait ended; 1 when
// it failed
// or no state came.
int request_booking(RequestOptions options, std::ostream& out);

struct MessageOptions {
  BrokerOptions broker;
  std::string prefix = "stopcall/v1";
  std::string key;         // the control centre's secret key file
  std::string bus, route;  // neither: the fleet
  bool fleet = false;
  std::string preset, ack, cancel, kind;  // one of preset, text, ack, cancel
  std::map<std::string, std::string> text;
  std::string message_id;
};
// The control line `message` (CONTROL.md) for these options; throws std::invalid_argument.
std::string message_line(const MessageOptions& options);
// Signs it for its audience and publishes it on that audience's requests topic.
int send_message(MessageOptions options, std::ostream& out);

// The depot's clock to the millisecond (the system clock): the time a command is signed with, and
// the time bookings are routed and expired at.
tracking::Time system_now();

// The access-file lines of the controllers' login `control` (bookings and messages: what
// `request` and `message` publish). Its own login, since the broker takes the user name as the
// client id: a second `depot` connection would take over the service's session.
std::string control_access(const std::string& prefix);

struct CredentialsOptions {
  std::string out_dir;
  std::vector<std::string> buses;
  std::map<std::string, std::vector<std::string>> routes;  // bus -> its routes
  std::string prefix = "stopcall/v1";
  int collectors = 1;  // depot, then depot-2 .. depot-N: one login per collector of a group
};
// The collectors' logins: "depot", "depot-2" .. "depot-<n>".
std::vector<std::string> collector_logins(int n);
// DIR/<bus>.password (0600) per bus, DIR/<collector>.password, DIR/control.password,
// DIR/stopcall.passwd (mosquitto_passwd) and DIR/stopcall.acl. Refuses when any of them exists
// (and writes nothing).
int make_credentials(const CredentialsOptions& options, std::ostream& out);

}  // namespace stopcall::depot
