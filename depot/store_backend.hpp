// The fleet store's two backends behind FleetStore (store.hpp): SQLite (store_sqlite.cpp) and
// PostgreSQL through libpq (store_pg.cpp). Same tables, same behaviour; FleetStore parses and
// checks what comes in, a backend only keeps rows.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "depot/routing.hpp"

namespace stopcall::depot {

// The bookings still open: "state NOT IN ('served', ...)" from routing's final states.
inline std::string open_bookings_condition() {
  std::string in;
  for (auto state : kFinalStates)
    in += (in.empty() ? "'" : ", '") + std::string(state) + "'";
  return "state NOT IN (" + in + ")";
}

// The tables both backends make alike (the events table differs: its integer type, and SQLite's
// WITHOUT ROWID). Plain SQL both understand.
inline constexpr const char* kCommonTables = R"sql(
CREATE TABLE IF NOT EXISTS statuses (
  vehicle TEXT PRIMARY KEY,
  online INTEGER NOT NULL,
  route_id TEXT,
  trip_id TEXT,
  next_stop TEXT,
  gps TEXT,
  faults TEXT,
  status TEXT NOT NULL,
  received TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS trips (
  trip_id TEXT PRIMARY KEY,
  route_id TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS bookings (
  booking_id TEXT PRIMARY KEY,
  state TEXT NOT NULL,
  vehicle TEXT,
  record TEXT NOT NULL,
  updated TEXT NOT NULL
);
)sql";

struct EventRow {
  std::string vehicle;
  std::int64_t seq = 0;
  std::string time, type;  // empty: NULL
  std::string line;
  std::int64_t received_ms = 0;
};

struct StatusRow {
  std::string vehicle;
  bool online = false;
  std::string route_id, trip_id, next_stop, gps, faults, status, received;
};

struct BusRowText {
  std::string status, received;
  std::int64_t events = 0;
};

class StoreBackend {
 public:
  virtual ~StoreBackend() = default;

  // 1 when stored, 0 when (vehicle, seq) was there (INSERT ... ON CONFLICT DO NOTHING).
  virtual int insert_event(const EventRow& e) = 0;
  virtual std::int64_t event_count(std::string_view vehicle) = 0;
  virtual std::vector<std::string> event_vehicles() = 0;
  virtual void for_each_event(
      std::string_view vehicle,
      const std::function<void(std::int64_t, const std::string&, std::int64_t)>& each) = 0;
  virtual std::map<std::string, std::string> trip_routes() = 0;

  virtual std::optional<std::string> status_text(std::string_view vehicle) = 0;
  // The status row, and the trip's route when it names both.
  virtual void put_status(const StatusRow& r) = 0;
  virtual std::vector<BusRowText> buses() = 0;

  virtual void put_booking(std::string_view id, std::string_view state, std::string_view vehicle,
                           std::string_view record, std::string_view updated) = 0;
  virtual std::optional<std::string> booking_record(std::string_view id) = 0;
  virtual std::vector<std::string> open_booking_records() = 0;

  // Runs `body` in one transaction during which no other collector changes booking `id`
  // (SQLite: BEGIN IMMEDIATE, the one writer; PostgreSQL: a transaction-scoped advisory lock on
  // the booking id, which also holds for a booking not stored yet). Commits when `body` returns,
  // rolls back when it throws.
  virtual void booking_transaction(std::string_view id, const std::function<void()>& body) = 0;
};

std::unique_ptr<StoreBackend> open_sqlite_store(const std::string& path, bool read_only);
std::unique_ptr<StoreBackend> open_pg_store(const std::string& uri, bool read_only);

}  // namespace stopcall::depot
