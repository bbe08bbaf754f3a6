// `stopcall-fleet push-bundle` (daemon/fleet/PROTOCOL.md, "Route data"): offers a signed route
// bundle to a bus, a route's buses or the fleet (a signed command), serves the chunks they ask
// for from the file for as long as it runs, and prints each bus's progress from its status. A bus
// that comes online while it runs, or shows no progress, gets an offer of its own
// (bundle_offers.hpp).
#pragma once

#include <atomic>
#include <chrono>
#include <ostream>
#include <string>

#include "depot/bundle_offers.hpp"
#include "depot/mqtt.hpp"

namespace stopcall::depot {

struct PushOptions {
  BrokerOptions broker;
  std::string prefix = "stopcall/v1";
  std::string key;         // the control centre's secret key file (signs the offer)
  std::string bus, route;  // neither: the fleet
  bool fleet = false;
  std::string bundle;     // the signed route bundle (stopcall-routes import … --key)
  std::string bundle_id;  // empty: the bundle's feed version
  std::chrono::seconds wait{600};
  std::chrono::seconds reoffer_gap = kReofferGap;  // at most one offer per bus in this time
};

// 0 when every addressed bus that answered installed it (or had it already); 1 when one failed
// or refused it, or none answered before the wait ended. It ends early when every addressed bus
// it has heard of (online or gone offline since) is done. One JSON line on `out` per change of a
// bus's route data and per offer sent again; a summary on standard error.
int push_bundle(PushOptions options, std::ostream& out, const std::atomic<bool>& stop);

}  // namespace stopcall::depot
