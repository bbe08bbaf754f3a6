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
  // Non-empty: subscribe as `$share/<group>/<topic>`, so each message goes to one collector of
  // the group (all of them sharing one store). One topic level.
  std::string shared_group;
};

// The topics `serve` subscribes to: the buses' status, events and acks and the bookings, each as
// `$share/<group>/…` when `shared_group` is given. Throws std::invalid_argument for a group that
// is not one topic level of A-Z a-z 0-9 - _ .
std::vector<std::string> serve_topics(const std::string& prefix, const std::string& shared_group);

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
  // Runs `f` on the stored booking under its lock (FleetStore::change_booking); when it changed
  // it, sends the request (when it was just sent to a bus), stores and publishes the state.
  void change(const std::string& booking_id, const std::function<bool(BookingState&)>& f);
  // Signs and publishes the request of a booking just sent to a bus.
  void send(BookingState& s);
  // Publishes the stored state (retained) and says it.
  void announce(const BookingState& s);
  const Timetables& timetables(const std::vector<daemon::fleet::StatusRecord>& statuses);

  FleetStore& store_;
  routes::Bundle& bundle_;
  routes::SecretKey key_;
  std::string prefix_;
  Publish publish_;
  Timetables trips_;
  std::map<std::string, bool> online_;  // what was last logged of each bus
};

}  // namespace stopcall::depot
