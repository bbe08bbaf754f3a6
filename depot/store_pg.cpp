// The fleet store in PostgreSQL through libpq: the tables of the SQLite store (store_sqlite.cpp),
// for collectors on several hosts writing one store. Every statement is parametrised
// (PQexecParams, text values); each call is its own transaction but booking_transaction().
#include <libpq-fe.h>

#include <stdexcept>

#include "depot/store.hpp"
#include "depot/store_backend.hpp"

namespace stopcall::depot {

namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS events (
  vehicle TEXT NOT NULL,
  seq BIGINT NOT NULL,
  time TEXT,
  type TEXT,
  line TEXT NOT NULL,
  received_ms BIGINT,
  PRIMARY KEY (vehicle, seq)
);
ALTER TABLE events ADD COLUMN IF NOT EXISTS received_ms BIGINT;
)sql";

// Any number for the advisory lock that serialises the schema's creation between collectors.
constexpr const char* kSchemaLock = "7301001";

// A value for a parameter: text, or NULL.
using Param = std::optional<std::string>;

class Result {
 public:
  explicit Result(PGresult* r) : r_(r) {}
  ~Result() { PQclear(r_); }
  Result(const Result&) = delete;
  Result& operator=(const Result&) = delete;
  int rows() const { return PQntuples(r_); }
  std::string text(int row, int col) const { return PQgetvalue(r_, row, col); }
  std::int64_t int64(int row, int col) const {
    return PQgetisnull(r_, row, col) ? 0 : std::stoll(PQgetvalue(r_, row, col));
  }
  int changes() const {
    const char* n = PQcmdTuples(r_);
    return *n ? std::stoi(n) : 0;
  }

 private:
  PGresult* r_;
};

class PgStore final : public StoreBackend {
 public:
  PgStore(const std::string& uri, bool read_only) : conn_(PQconnectdb(uri.c_str())) {
    if (!conn_ || PQstatus(conn_) != CONNECTION_OK) {
      const std::string why = conn_ ? PQerrorMessage(conn_) : "out of memory";
      PQfinish(conn_);
      throw std::runtime_error("cannot open the fleet store " + store_name(uri) + ": " + trim(why));
    }
    try {
      prepare(uri, read_only);
    } catch (...) {
      PQfinish(conn_);  // the destructor does not run for a constructor that throws
      throw;
    }
  }
  ~PgStore() override { PQfinish(conn_); }
  PgStore(const PgStore&) = delete;
  PgStore& operator=(const PgStore&) = delete;

  int insert_event(const EventRow& e) override {
    return run("INSERT INTO events(vehicle, seq, time, type, line, received_ms) "
               "VALUES($1,$2,$3,$4,$5,$6) ON CONFLICT DO NOTHING",
               {e.vehicle, std::to_string(e.seq), or_null(e.time), or_null(e.type), e.line,
                std::to_string(e.received_ms)})
        ->changes();
  }

  std::int64_t event_count(std::string_view vehicle) override {
    auto r = vehicle.empty()
                 ? run("SELECT count(*) FROM events")
                 : run("SELECT count(*) FROM events WHERE vehicle = $1", {std::string(vehicle)});
    return r->int64(0, 0);
  }

  std::vector<std::string> event_vehicles() override {
    auto r = run("SELECT DISTINCT vehicle COLLATE \"C\" FROM events ORDER BY 1");
    std::vector<std::string> out;
    for (int i = 0; i < r->rows(); ++i)
      out.push_back(r->text(i, 0));
    return out;
  }

  void for_each_event(
      std::string_view vehicle,
      const std::function<void(std::int64_t, const std::string&, std::int64_t)>& each) override {
    auto r = run(
        "SELECT seq, line, coalesce(received_ms, 0) FROM events WHERE vehicle = $1 ORDER BY seq",
        {std::string(vehicle)});
    for (int i = 0; i < r->rows(); ++i)
      each(r->int64(i, 0), r->text(i, 1), r->int64(i, 2));
  }

  std::map<std::string, std::string> trip_routes() override {
    auto r = run("SELECT trip_id, route_id FROM trips");
    std::map<std::string, std::string> out;
    for (int i = 0; i < r->rows(); ++i)
      out.emplace(r->text(i, 0), r->text(i, 1));
    return out;
  }

  std::optional<std::string> status_text(std::string_view vehicle) override {
    auto r = run("SELECT status FROM statuses WHERE vehicle = $1", {std::string(vehicle)});
    if (r->rows() == 0) return std::nullopt;
    return r->text(0, 0);
  }

  void put_status(const StatusRow& s) override {
    if (!s.trip_id.empty() && !s.route_id.empty())
      run("INSERT INTO trips(trip_id, route_id) VALUES($1,$2) "
          "ON CONFLICT (trip_id) DO UPDATE SET route_id = EXCLUDED.route_id",
          {s.trip_id, s.route_id});
    run("INSERT INTO statuses(vehicle, online, route_id, trip_id, next_stop, gps, faults, status, "
        "received) VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9) ON CONFLICT (vehicle) DO UPDATE SET "
        "online = EXCLUDED.online, route_id = EXCLUDED.route_id, trip_id = EXCLUDED.trip_id, "
        "next_stop = EXCLUDED.next_stop, gps = EXCLUDED.gps, faults = EXCLUDED.faults, "
        "status = EXCLUDED.status, received = EXCLUDED.received",
        {s.vehicle, s.online ? "1" : "0", s.route_id, s.trip_id, s.next_stop, s.gps, s.faults,
         s.status, s.received});
  }

  std::vector<BusRowText> buses() override {
    auto r =
        run("SELECT s.status, s.received, (SELECT count(*) FROM events e WHERE e.vehicle = "
            "s.vehicle) FROM statuses s ORDER BY s.vehicle COLLATE \"C\"");
    std::vector<BusRowText> out;
    for (int i = 0; i < r->rows(); ++i)
      out.push_back({r->text(i, 0), r->text(i, 1), r->int64(i, 2)});
    return out;
  }

  void put_booking(std::string_view id, std::string_view state, std::string_view vehicle,
                   std::string_view record, std::string_view updated) override {
    run("INSERT INTO bookings(booking_id, state, vehicle, record, updated) VALUES($1,$2,$3,$4,$5) "
        "ON CONFLICT (booking_id) DO UPDATE SET state = EXCLUDED.state, vehicle = "
        "EXCLUDED.vehicle, record = EXCLUDED.record, updated = EXCLUDED.updated",
        {std::string(id), std::string(state), std::string(vehicle), std::string(record),
         std::string(updated)});
  }

  std::optional<std::string> booking_record(std::string_view id) override {
    auto r = run("SELECT record FROM bookings WHERE booking_id = $1", {std::string(id)});
    if (r->rows() == 0) return std::nullopt;
    return r->text(0, 0);
  }

  std::vector<std::string> open_booking_records() override {
    auto r = run("SELECT record FROM bookings WHERE " + open_bookings_condition() +
                 " ORDER BY booking_id COLLATE \"C\"");
    std::vector<std::string> out;
    for (int i = 0; i < r->rows(); ++i)
      out.push_back(r->text(i, 0));
    return out;
  }

  void booking_transaction(std::string_view id, const std::function<void()>& body) override {
    run("BEGIN");
    try {
      // Held until COMMIT or ROLLBACK; a row lock would not cover a booking not stored yet.
      run("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", {std::string(id)});
      body();
    } catch (...) {
      PQclear(PQexec(conn_, "ROLLBACK"));
      throw;
    }
    run("COMMIT");
  }

 private:
  void prepare(const std::string& uri, bool read_only) {
    // The session's text in UTF-8 whatever the server's default, so bytes go in and out as is.
    run("SET client_encoding = 'UTF8'");
    run("SET client_min_messages = warning");
    if (read_only) {
      run("SET default_transaction_read_only = on");
      if (run("SELECT to_regclass('events') IS NOT NULL AND to_regclass('statuses') IS NOT NULL")
              ->text(0, 0) != "t")
        throw std::runtime_error(store_name(uri) +
                                 ": no fleet store in this database (serve makes it)");
      return;
    }
    // Two collectors starting together would both create the tables: one at a time.
    run("SELECT pg_advisory_lock(" + std::string(kSchemaLock) + ")");
    try {
      run(kSchema);
      run(kCommonTables);
    } catch (...) {
      run("SELECT pg_advisory_unlock(" + std::string(kSchemaLock) + ")");
      throw;
    }
    run("SELECT pg_advisory_unlock(" + std::string(kSchemaLock) + ")");
  }

  static Param or_null(const std::string& s) { return s.empty() ? Param() : Param(s); }
  // libpq's message on one line.
  static std::string trim(const std::string& s) {
    std::string out;
    for (const char c : s) {
      if (c == '\n' || c == '\t') {
        if (!out.empty() && out.back() != ' ') out += ' ';
      } else {
        out += c;
      }
    }
    while (!out.empty() && out.back() == ' ')
      out.pop_back();
    return out;
  }
  std::unique_ptr<Result> run(const std::string& sql, const std::vector<Param>& params = {}) {
    std::vector<const char*> values;
    for (const auto& p : params)
      values.push_back(p ? p->c_str() : nullptr);
    PGresult* r = params.empty() ? PQexec(conn_, sql.c_str())
                                 : PQexecParams(conn_, sql.c_str(), static_cast<int>(values.size()),
                                                nullptr, values.data(), nullptr, nullptr, 0);
    const auto status = PQresultStatus(r);
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
      const std::string why = r ? PQresultErrorMessage(r) : PQerrorMessage(conn_);
      PQclear(r);
      throw std::runtime_error("fleet store (PostgreSQL): " + trim(why));
    }
    return std::make_unique<Result>(r);
  }

  PGconn* conn_;
};

}  // namespace

std::unique_ptr<StoreBackend> open_pg_store(const std::string& uri, bool read_only) {
  return std::make_unique<PgStore>(uri, read_only);
}

}  // namespace stopcall::depot
