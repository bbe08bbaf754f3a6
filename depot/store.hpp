// The fleet store: what the depot service collects from the buses and the bookings it routes.
// Two backends, the same tables and behaviour (store_backend.hpp): one SQLite file (WAL, so
// `stopcall-fleet buses` reads while `serve` writes; the default) or a PostgreSQL database (a
// `postgresql://` URI: collectors on several hosts writing one store).
//
//   events(vehicle, seq, time, type, line, received_ms)  primary key (vehicle, seq): each event
//            kept once; received_ms: the collector's clock when it stored it (ms since 1970)
//   statuses(vehicle, online, route_id, trip_id, next_stop, gps, faults, status, received)
//            an offline status keeps the bus's last route, trip and next stop
//   trips(trip_id, route_id)  every trip a status named, with its route (for the fleet report)
//   bookings(booking_id, state, vehicle, record, updated)  record: the state as published
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/fleet/protocol.hpp"
#include "depot/routing.hpp"

namespace stopcall::depot {

// One bus as `stopcall-fleet buses` lists it.
struct BusRow {
  daemon::fleet::StatusRecord status;
  std::string received;  // the depot's time when the status came (ISO 8601 UTC)
  std::int64_t events = 0;
};

class StoreBackend;

// A `postgresql://` or `postgres://` URI (libpq's), rather than a SQLite file's path.
bool is_postgres_uri(std::string_view where);
// `where` for messages and reports: a URI's password is left out.
std::string store_name(std::string_view where);

class FleetStore {
 public:
  // Opens (creating the tables when missing, unless read-only) the store at `where`: a SQLite
  // file's path or a PostgreSQL URI. Throws std::runtime_error (routes::sql::Error for SQLite).
  explicit FleetStore(const std::string& where, bool read_only = false);
  ~FleetStore();
  FleetStore(const FleetStore&) = delete;
  FleetStore& operator=(const FleetStore&) = delete;

  // One event from `payload` ({"vehicle","seq","event"|"line"}); `topic_vehicle` is the bus whose
  // topic it came by (the payload's vehicle must match); `received_ms` the collector's clock
  // (ms since 1970; default now). Returns 1 when stored, 0 when that (vehicle, seq) was stored
  // before, and throws std::invalid_argument when malformed.
  int add_event(std::string_view topic_vehicle, std::string_view payload,
                std::optional<std::int64_t> received_ms = std::nullopt);
  std::int64_t event_count(std::string_view vehicle = {});
  // The buses with events stored, in order.
  std::vector<std::string> event_vehicles();
  // Each event line of `vehicle` in seq order: each(seq, line).
  void for_each_event(std::string_view vehicle,
                      const std::function<void(std::int64_t, const std::string&)>& each);
  // The same with when each was stored: each(seq, line, received_ms); 0 when not recorded.
  void for_each_received(
      std::string_view vehicle,
      const std::function<void(std::int64_t, const std::string&, std::int64_t)>& each);
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
  // Bookings not yet in a final state (routing.hpp).
  std::vector<BookingState> open_bookings();

  // Changes booking `id` safely when several collectors share the store: `change` gets its
  // stored state (nullopt when unknown) while no other collector can change it, and the state
  // it leaves is stored, with `updated`, in the same transaction when it returns true. Returns
  // what was stored, or nullopt when `change` returned false.
  std::optional<BookingState> change_booking(
      std::string_view id, std::string_view updated,
      const std::function<bool(std::optional<BookingState>&)>& change);

 private:
  std::unique_ptr<StoreBackend> backend_;
};

}  // namespace stopcall::depot
