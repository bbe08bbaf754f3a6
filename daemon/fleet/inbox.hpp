// What the bus does with one payload that came by one of its request topics (PROTOCOL.md,
// "requests" and "Signed commands"): its own, its route's or the fleet's. Only a command signed by
// the control centre, addressed to this bus by that topic, fresh and not taken before goes on to
// the control protocol's parser and the bus's handler; everything else is refused with its reason
// and changes nothing. Each decision is one `fleet_command` line (log/records.hpp), and the answer
// goes back on requests/ack.
//
// No clock and no I/O: the caller gives the times and carries out the answer.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "daemon/fleet/command.hpp"
#include "daemon/fleet/protocol.hpp"
#include "daemon/log/records.hpp"
#include "daemon/vehicle/control.hpp"

namespace stopcall::daemon::fleet {

// The nonces of accepted commands and their times of issue (kept with the bus's state).
using Nonces = std::vector<std::pair<std::string, tracking::Time>>;

// The largest envelope taken: the command (at most a control line) escaped inside it, with room.
inline constexpr std::size_t kMaxEnvelope = 3 * vehicle::kMaxLine;

struct Inbound {
  std::string_view payload;
  bool retained = false;
  Audience arrived_on;        // the audience of the topic it came by
  std::string_view route;     // the route of the bus's trip now; empty: none
  tracking::Time system_now;  // the freshness check's clock: the system clock
  tracking::Time bus_now;     // the time of the log line
};

class Inbox {
 public:
  using Handler = std::function<vehicle::Reply(const vehicle::Command&)>;
  using Record = std::function<void(const log::Record&)>;
  using SaveNonces = std::function<void(const Nonces&)>;
  // A signed route data offer ("cmd":"bundle", route_data.hpp): the fleet's own command, not the
  // control socket's, so it goes here rather than to the handler.
  using BundleHandler = std::function<RequestAck(std::string_view line)>;

  // `key`: the control centre's public key; unset: every command is refused (no_command_key).
  Inbox(std::string vehicle, std::optional<routes::PublicKey> key, GateOptions gate,
        Handler handler, Record record, SaveNonces save);

  // At start: the nonces taken before the restart (those too old to matter are forgotten).
  void restore(const Nonces& nonces, tracking::Time system_now);
  // Unset: offers are refused (not_a_request).
  void set_bundle_handler(BundleHandler handler) { bundle_ = std::move(handler); }

  // The answer for requests/ack. The handler runs only for an accepted command.
  RequestAck take(const Inbound& in);
  // Payloads refused before reaching the handler.
  long refused() const { return refused_; }

 private:
  std::string vehicle_;
  std::optional<CommandGate> gate_;
  Handler handler_;
  Record record_;
  SaveNonces save_;
  BundleHandler bundle_;
  long refused_ = 0;
};

}  // namespace stopcall::daemon::fleet
