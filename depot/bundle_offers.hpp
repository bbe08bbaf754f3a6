// Which buses `stopcall-fleet push-bundle` offers its bundle to again (daemon/fleet/PROTOCOL.md,
// "Route data"). Commands are not retained, so a bus that is offline when the first offer goes
// out never hears it: once it is online, it gets an offer of its own (a new nonce, signed now).
// Pure: no I/O, no clock; each bus's progress and the time come in with each call.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/tracking/fix.hpp"

namespace stopcall::depot {

// No bus is offered the same bundle more often than this.
inline constexpr std::chrono::seconds kReofferGap{60};

// One bus as push-bundle follows it, from its retained status and its answers.
struct BundleProgress {
  bool online = false;
  bool addressed = false;  // the bus, or on the route, or any bus for the fleet
  // For this bundle: empty (no progress shown), accepted (its answer), the status's route_data
  // state (downloading, verifying, waiting_for_terminus), or installed / failed / refused.
  std::string state;
  // The last offer it can have heard: the first one when it was online and addressed as that
  // went out, then each of its own. Unset: it has heard none.
  std::optional<tracking::Time> offered;
};

// installed, failed or refused: the bus is done with this bundle.
bool final_bundle_state(std::string_view state);
// accepted, downloading, verifying or waiting_for_terminus: the bus is on its way.
bool bundle_in_progress(std::string_view state);

struct Reoffer {
  std::string vehicle;
  std::string reason;  // for a person
};

// The buses to send an offer of their own now, in vehicle order: addressed, online, neither done
// nor on their way, and offered nothing they can have heard for `gap` (or nothing at all).
std::vector<Reoffer> due_offers(const std::map<std::string, BundleProgress>& buses,
                                tracking::Time now, std::chrono::seconds gap = kReofferGap);

}  // namespace stopcall::depot
