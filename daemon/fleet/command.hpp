// Signed fleet commands (PROTOCOL.md, "Signed commands"): what the control centre sends to buses
// -- boarding requests, emergency and service messages -- signed with its Ed25519 key, with the
// audience, the time of issue and a one-time id inside the signature. A bus acts on a command only
// when the signature is the control centre's, the command is addressed to it (or its route, or the
// fleet) on the topic it came by, it is fresh, and its id has not been seen. So a stolen broker
// login can publish, but cannot make a bus announce anything, and a recorded command cannot be
// played again (to this bus or another one).
//
// The envelope on the wire (one JSON object):
//
//   {"v":1,"to":"route:101","issued_ms":1772437800000,"nonce":"9f1c…","command":"{…}",
//    "key_id":"1a2b3c4d5e6f7a8b","sig":"<base64>"}
//
// `command` is the control-protocol line as a string (the control socket's `request` or
// `message`), exactly the bytes that were signed. The signature covers
//
//   "stopcall-fleet-command-v1\n" to "\n" issued_ms "\n" nonce "\n" command
//
// (`to` and `nonce` contain no newline, so no two envelopes sign alike). `key_id` is not signed:
// it only explains a failure.
//
// No clock and no I/O here: the caller gives the time. libsodium does the cryptography.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/tracking/fix.hpp"
#include "routes/signing.hpp"

namespace stopcall::daemon::fleet {

// Who a command is for: one bus ("bus:bus-1234"), the buses on one route ("route:101"), or every
// bus ("fleet").
struct Audience {
  enum class Kind { bus, route, fleet };
  Kind kind = Kind::fleet;
  std::string name;  // the vehicle or route id; empty for the fleet
  std::string text() const;
  // nullopt when not "fleet", "bus:<id>" or "route:<id>" with an id of 1 to 64 bytes of
  // A-Z a-z 0-9 - _ . (one topic level).
  static std::optional<Audience> parse(std::string_view text);
  bool operator==(const Audience&) const = default;
};

// The requests topic a command for `to` goes by: <prefix>/bus/<vehicle>/requests,
// <prefix>/route/<route>/requests or <prefix>/fleet/requests.
std::string requests_topic(std::string_view prefix, const Audience& to);

struct SignedCommand {
  Audience to;
  tracking::Time issued{};
  std::string nonce;    // 8 to 64 bytes of A-Z a-z 0-9 - _ .; unique per command
  std::string command;  // the control-protocol line
  std::string key_id;
  std::string signature;  // base64 of 64 bytes
};

// The envelope for `command`, signed with `key`. A random nonce when `nonce` is empty.
std::string sign_command(const routes::SecretKey& key, const Audience& to, tracking::Time issued,
                         std::string_view command, std::string nonce = {});

// Why a command was refused: the ack's `error` (PROTOCOL.md).
//   unsigned        not an envelope (a bare control line, or fields missing or malformed)
//   bad_signature   not signed by the control centre's key, or changed after signing
//   not_addressed   for another bus or route, or it came by a topic its audience does not match
//   stale           issued longer ago than the freshness window
//   from_the_future issued further ahead of this bus's clock than the allowed skew
//   replayed        its nonce was seen before
struct CommandCheck {
  std::optional<SignedCommand> command;  // set: act on command->command
  std::string error;
  std::string message;  // for a person: what was wrong, with the times or ids concerned
};

struct GateOptions {
  std::chrono::seconds max_age{300};   // a command older than this is stale
  std::chrono::seconds max_ahead{30};  // clocks may differ by this much
};

// The bus's check of each fleet command. Remembers the nonces of accepted commands until they
// could no longer be fresh, so it holds at most what the fleet sends in max_age + max_ahead.
class CommandGate {
 public:
  CommandGate(routes::PublicKey key, std::string vehicle, GateOptions options = {});

  // `arrived_on`: the audience of the topic the payload came by (the bus's own, its route's or
  // the fleet's). `route`: the route of the bus's trip now (empty: none). `now`: the bus's clock.
  // On success the nonce is remembered.
  CommandCheck check(std::string_view payload, const Audience& arrived_on, std::string_view route,
                     tracking::Time now);

  // What a restart must keep (the daemon stores them with its state): nonce and time of issue.
  std::vector<std::pair<std::string, tracking::Time>> remembered() const;
  void remember(const std::string& nonce, tracking::Time issued);
  // Forgets nonces too old to be accepted again anyway.
  void forget_before(tracking::Time now);

 private:
  routes::PublicKey key_;
  std::string vehicle_;
  GateOptions options_;
  std::map<std::string, tracking::Time> seen_;
};

}  // namespace stopcall::daemon::fleet
