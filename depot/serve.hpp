// `stopcall-fleet serve` (PROTOCOL.md, "The depot service"): collects the buses' statuses and
// events into the fleet store and routes bookings to buses as signed `request` commands, on one
// persistent MQTT session. The wiring around the pure routing (routing.hpp).
#pragma once

#include <atomic>
#include <map>
#include <string>
#include <string_view>

#include "depot/mqtt.hpp"
#include "depot/routing.hpp"
#include "depot/store.hpp"
#include "routes/bundle.hpp"
#include "routes/signing.hpp"

namespace stopcall::depot {

struct ServeOptions {
  BrokerOptions broker;  // clean_session is forced off; client id "stopcall-fleet-serve" by default
  std::string store;
  std::string bundle;
  std::string key;  // the control centre's secret key file
  std::string prefix = "stopcall/v1";
};

// Runs until `stop` is set. Returns the exit status (0: stopped cleanly). Throws on a store,
// bundle or key it cannot use, before connecting.
int serve(ServeOptions options, const std::atomic<bool>& stop);

// The service's decisions on what comes in, without the connection (the tests and serve()).
class Depot {
 public:
  // publish(topic, payload, retain)
  using Publish = std::function<bool(const std::string&, const std::string&, bool)>;
  Depot(FleetStore& store, routes::Bundle& bundle, routes::SecretKey key, std::string prefix,
        Publish publish);
  void on_message(const std::string& topic, const std::string& payload);
  // Once a second: bookings that no bus took and whose expiry has come end `expired`.
  void tick();

 private:
  void on_status(const std::string& vehicle, const std::string& payload);
  void on_event(const std::string& vehicle, const std::string& payload);
  void on_ack(const std::string& vehicle, const std::string& payload);
  void on_booking(const std::string& payload);
  // Stores and publishes `s`, and sends the request when it was just sent to a bus.
  void changed(BookingState& s);
  const Timetables& timetables(const std::vector<daemon::fleet::StatusRecord>& statuses);

  FleetStore& store_;
  routes::Bundle& bundle_;
  routes::SecretKey key_;
  std::string prefix_;
  Publish publish_;
  Timetables trips_;
  std::map<std::string, bool> online_;          // what was last logged of each bus
  std::map<std::string, std::string> command_;  // command id -> booking id
};

}  // namespace stopcall::depot
