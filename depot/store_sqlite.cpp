// The fleet store in one SQLite file (WAL, so `stopcall-fleet buses` reads while `serve` writes,
// and two collectors on one host take turns as the one writer, waiting up to 10 s for it).
#include <sqlite3.h>

#include "depot/store_backend.hpp"
#include "routes/sqlite.hpp"

namespace stopcall::depot {

namespace {

using routes::sql::Db;

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS events (
  vehicle TEXT NOT NULL,
  seq INTEGER NOT NULL,
  time TEXT,
  type TEXT,
  line TEXT NOT NULL,
  received_ms INTEGER,
  PRIMARY KEY (vehicle, seq)
) WITHOUT ROWID;
)sql";

class SqliteStore final : public StoreBackend {
 public:
  SqliteStore(const std::string& path, bool read_only)
      : db_(path, read_only ? Db::Mode::read_only : Db::Mode::create) {
    sqlite3_busy_timeout(db_.handle(), 10000);
    if (read_only) return;
    db_.exec("PRAGMA journal_mode = WAL");
    db_.exec("PRAGMA synchronous = NORMAL");
    db_.exec("BEGIN IMMEDIATE");
    try {
      db_.exec(kSchema);
      db_.exec(kCommonTables);
      // A store made before events had received_ms gets the column (NULL for the old rows).
      bool has_received = false;
      auto cols = db_.prepare("SELECT name FROM pragma_table_info('events')");
      while (cols.step())
        has_received = has_received || cols.text(0) == "received_ms";
      if (!has_received) db_.exec("ALTER TABLE events ADD COLUMN received_ms INTEGER");
      db_.exec("COMMIT");
    } catch (...) {
      db_.exec("ROLLBACK");
      throw;
    }
  }

  int insert_event(const EventRow& e) override {
    auto stmt = db_.prepare(
        "INSERT INTO events(vehicle, seq, time, type, line, received_ms) VALUES(?,?,?,?,?,?) "
        "ON CONFLICT DO NOTHING");
    stmt.bind(1, e.vehicle).bind(2, e.seq);
    e.time.empty() ? stmt.bind_null(3) : stmt.bind(3, e.time);
    e.type.empty() ? stmt.bind_null(4) : stmt.bind(4, e.type);
    stmt.bind(5, e.line).bind(6, e.received_ms).run();
    return sqlite3_changes(db_.handle());
  }

  std::int64_t event_count(std::string_view vehicle) override {
    auto stmt = db_.prepare(vehicle.empty() ? "SELECT count(*) FROM events"
                                            : "SELECT count(*) FROM events WHERE vehicle = ?");
    if (!vehicle.empty()) stmt.bind(1, vehicle);
    return stmt.step() ? stmt.int64(0) : 0;
  }

  std::vector<std::string> event_vehicles() override {
    std::vector<std::string> out;
    auto stmt = db_.prepare("SELECT DISTINCT vehicle FROM events ORDER BY vehicle");
    while (stmt.step())
      out.push_back(stmt.text(0));
    return out;
  }

  void for_each_event(
      std::string_view vehicle,
      const std::function<void(std::int64_t, const std::string&, std::int64_t)>& each) override {
    auto stmt = db_.prepare(
        "SELECT seq, line, coalesce(received_ms, 0) FROM events WHERE vehicle = ? ORDER BY seq");
    stmt.bind(1, vehicle);
    while (stmt.step())
      each(stmt.int64(0), stmt.text(1), stmt.int64(2));
  }

  std::map<std::string, std::string> trip_routes() override {
    std::map<std::string, std::string> out;
    auto stmt = db_.prepare("SELECT trip_id, route_id FROM trips");
    while (stmt.step())
      out.emplace(stmt.text(0), stmt.text(1));
    return out;
  }

  std::optional<std::string> status_text(std::string_view vehicle) override {
    auto stmt = db_.prepare("SELECT status FROM statuses WHERE vehicle = ?");
    stmt.bind(1, vehicle);
    if (!stmt.step()) return std::nullopt;
    return stmt.text(0);
  }

  void put_status(const StatusRow& r) override {
    if (!r.trip_id.empty() && !r.route_id.empty())
      db_.prepare("INSERT OR REPLACE INTO trips(trip_id, route_id) VALUES(?,?)")
          .bind(1, r.trip_id)
          .bind(2, r.route_id)
          .run();
    db_.prepare(
           "INSERT OR REPLACE INTO statuses(vehicle, online, route_id, trip_id, next_stop, gps, "
           "faults, status, received) VALUES(?,?,?,?,?,?,?,?,?)")
        .bind(1, r.vehicle)
        .bind(2, r.online ? 1 : 0)
        .bind(3, r.route_id)
        .bind(4, r.trip_id)
        .bind(5, r.next_stop)
        .bind(6, r.gps)
        .bind(7, r.faults)
        .bind(8, r.status)
        .bind(9, r.received)
        .run();
  }

  std::vector<BusRowText> buses() override {
    std::vector<BusRowText> out;
    auto stmt = db_.prepare(
        "SELECT s.status, s.received, (SELECT count(*) FROM events e WHERE e.vehicle = "
        "s.vehicle) FROM statuses s ORDER BY s.vehicle");
    while (stmt.step())
      out.push_back({stmt.text(0), stmt.text(1), stmt.int64(2)});
    return out;
  }

  void put_booking(std::string_view id, std::string_view state, std::string_view vehicle,
                   std::string_view record, std::string_view updated) override {
    db_.prepare(
           "INSERT OR REPLACE INTO bookings(booking_id, state, vehicle, record, updated) "
           "VALUES(?,?,?,?,?)")
        .bind(1, id)
        .bind(2, state)
        .bind(3, vehicle)
        .bind(4, record)
        .bind(5, updated)
        .run();
  }

  std::optional<std::string> booking_record(std::string_view id) override {
    auto stmt = db_.prepare("SELECT record FROM bookings WHERE booking_id = ?");
    stmt.bind(1, id);
    if (!stmt.step()) return std::nullopt;
    return stmt.text(0);
  }

  std::vector<std::string> open_booking_records() override {
    std::vector<std::string> out;
    auto stmt = db_.prepare("SELECT record FROM bookings WHERE " + open_bookings_condition() +
                            " ORDER BY booking_id");
    while (stmt.step())
      out.push_back(stmt.text(0));
    return out;
  }

  void booking_transaction(std::string_view, const std::function<void()>& body) override {
    db_.exec("BEGIN IMMEDIATE");
    try {
      body();
    } catch (...) {
      db_.exec("ROLLBACK");
      throw;
    }
    db_.exec("COMMIT");
  }

 private:
  Db db_;
};

}  // namespace

std::unique_ptr<StoreBackend> open_sqlite_store(const std::string& path, bool read_only) {
  return std::make_unique<SqliteStore>(path, read_only);
}

}  // namespace stopcall::depot
