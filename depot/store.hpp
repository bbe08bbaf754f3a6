// The fleet store: what the depot service collects from the buses and the bookings it routes, in
// one SQLite file (WAL, so `stopcall-fleet buses` reads while `serve` writes).
//
//   events(vehicle, seq, time, type, line)  primary key (vehicle, seq): each event kept once
//   statuses(vehicle, online, route_id, trip_id, next_stop, gps, faults, status, received)
//            an offline status keeps the bus's last route, trip and next stop
//   trips(trip_id, route_id)  every trip a status named, with its route (for the fleet report)
//   bookings(booking_id, state, vehicle, record, updated)  record: the state as published
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/fleet/protocol.hpp"
#include "depot/routing.hpp"
#include "routes/sqlite.hpp"

namespace stopcall::depot {

// One bus as `stopcall-fleet buses` lists it.
struct BusRow {
  daemon::fleet::StatusRecord status;
  std::string received;  // the depot's time when the status came (ISO 8601 UTC)
  std::int64_t events = 0;
};

class FleetStore {
 public:
  // Opens (creating when missing) the store at `path`. Throws routes::sql::Error.
  explicit FleetStore(const std::string& path, bool read_only = false);

  // One event from `payload` ({"vehicle","seq","event"|"line"}); `topic_vehicle` is the bus whose
  // topic it came by (the payload's vehicle must match). Returns 1 when stored, 0 when that
  // (vehicle, seq) was stored before, and throws std::invalid_argument when malformed.
  int add_event(std::string_view topic_vehicle, std::string_view payload);
  std::int64_t event_count(std::string_view vehicle = {});
  // The buses with events stored, in order.
  std::vector<std::string> event_vehicles();
  // Each event line of `vehicle` in seq order: each(seq, line).
  void for_each_event(std::string_view vehicle,
                      const std::function<void(std::int64_t, const std::string&)>& each);
  // Trip id -> route id, of every trip a bus's status named.
  std::map<std::string, std::string> trip_routes();

  // The bus's latest status (replacing the previous one; an offline one without a trip keeps the
  // previous route, trip and next stop, and is returned so). Throws std::invalid_argument when
  // malformed or for another vehicle than the topic's.
  daemon::fleet::StatusRecord put_status(std::string_view topic_vehicle, std::string_view payload,
                                         std::string_view received);
  std::vector<daemon::fleet::StatusRecord> statuses();
  std::vector<BusRow> buses();

  void put_booking(const BookingState& s, std::string_view updated);
  std::optional<BookingState> booking(std::string_view booking_id);
  // Bookings not yet served, expired or failed.
  std::vector<BookingState> open_bookings();

 private:
  routes::sql::Db db_;
};

}  // namespace stopcall::depot
