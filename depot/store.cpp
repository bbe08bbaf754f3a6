#include "depot/store.hpp"

#include <nlohmann/json.hpp>
#include <stdexcept>

namespace stopcall::depot {

namespace {

using json = nlohmann::json;
using daemon::fleet::StatusRecord;
using routes::sql::Db;

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS events (
  vehicle TEXT NOT NULL,
  seq INTEGER NOT NULL,
  time TEXT,
  type TEXT,
  line TEXT NOT NULL,
  PRIMARY KEY (vehicle, seq)
) WITHOUT ROWID;
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

std::string text_or_empty(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// A status as the store keeps it: the wire form drops everything but the vehicle when offline
// (protocol.hpp), the store keeps an offline bus's last place too.
json stored(const StatusRecord& s) {
  StatusRecord as_online = s;
  as_online.online = true;
  json j = as_online;
  j["online"] = s.online;
  return j;
}
StatusRecord loaded(std::string_view text) {
  json j = json::parse(text);
  const bool online = j.at("online").get<bool>();
  j["online"] = true;
  auto s = j.get<StatusRecord>();
  s.online = online;
  return s;
}

}  // namespace

FleetStore::FleetStore(const std::string& path, bool read_only)
    : db_(path, read_only ? Db::Mode::read_only : Db::Mode::create) {
  if (read_only) return;
  db_.exec("PRAGMA journal_mode = WAL");
  db_.exec("PRAGMA synchronous = NORMAL");
  db_.exec(kSchema);
}

int FleetStore::add_event(std::string_view topic_vehicle, std::string_view payload) {
  const json j = json::parse(payload, nullptr, false);
  if (!j.is_object()) throw std::invalid_argument("an event is one JSON object");
  if (text_or_empty(j, "vehicle") != topic_vehicle)
    throw std::invalid_argument("\"vehicle\" is not the topic's bus " + std::string(topic_vehicle));
  auto seq = j.find("seq");
  if (seq == j.end() || !seq->is_number_integer())
    throw std::invalid_argument("\"seq\" must be an integer");
  std::string line, time, type;
  if (auto e = j.find("event"); e != j.end() && e->is_object()) {
    line = e->dump();
    time = text_or_empty(*e, "time");
    type = text_or_empty(*e, "type");
  } else if (auto l = j.find("line"); l != j.end() && l->is_string()) {
    line = l->get<std::string>();
  } else {
    throw std::invalid_argument("an event has \"event\" (an object) or \"line\" (a string)");
  }
  auto stmt =
      db_.prepare("INSERT OR IGNORE INTO events(vehicle, seq, time, type, line) VALUES(?,?,?,?,?)");
  stmt.bind(1, topic_vehicle).bind(2, seq->get<std::int64_t>());
  time.empty() ? stmt.bind_null(3) : stmt.bind(3, time);
  type.empty() ? stmt.bind_null(4) : stmt.bind(4, type);
  stmt.bind(5, line).run();
  return sqlite3_changes(db_.handle());
}

std::int64_t FleetStore::event_count(std::string_view vehicle) {
  auto stmt = db_.prepare(vehicle.empty() ? "SELECT count(*) FROM events"
                                          : "SELECT count(*) FROM events WHERE vehicle = ?");
  if (!vehicle.empty()) stmt.bind(1, vehicle);
  return stmt.step() ? stmt.int64(0) : 0;
}

std::vector<std::string> FleetStore::event_vehicles() {
  std::vector<std::string> out;
  auto stmt = db_.prepare("SELECT DISTINCT vehicle FROM events ORDER BY vehicle");
  while (stmt.step())
    out.push_back(stmt.text(0));
  return out;
}

void FleetStore::for_each_event(std::string_view vehicle,
                                const std::function<void(std::int64_t, const std::string&)>& each) {
  auto stmt = db_.prepare("SELECT seq, line FROM events WHERE vehicle = ? ORDER BY seq");
  stmt.bind(1, vehicle);
  while (stmt.step())
    each(stmt.int64(0), stmt.text(1));
}

std::map<std::string, std::string> FleetStore::trip_routes() {
  std::map<std::string, std::string> out;
  auto stmt = db_.prepare("SELECT trip_id, route_id FROM trips");
  while (stmt.step())
    out.emplace(stmt.text(0), stmt.text(1));
  return out;
}

StatusRecord FleetStore::put_status(std::string_view topic_vehicle, std::string_view payload,
                                    std::string_view received) {
  const json j = json::parse(payload, nullptr, false);
  StatusRecord s;
  try {
    s = j.get<StatusRecord>();
  } catch (const json::exception& e) {
    throw std::invalid_argument(std::string("not a status: ") + e.what());
  }
  if (s.vehicle != topic_vehicle)
    throw std::invalid_argument("\"vehicle\" is not the topic's bus " + std::string(topic_vehicle));
  // An offline status (the last will) says nothing of where the bus was: its last route, trip
  // and next stop are kept, for `buses` and the controllers.
  if (!s.online && s.trip_id.empty()) {
    auto prev = db_.prepare("SELECT status FROM statuses WHERE vehicle = ?");
    prev.bind(1, s.vehicle);
    if (prev.step()) {
      const auto last = loaded(prev.text(0));
      s.route_id = last.route_id;
      s.trip_id = last.trip_id;
      s.next_stop = last.next_stop;
    }
  }
  if (!s.trip_id.empty() && !s.route_id.empty())
    db_.prepare("INSERT OR REPLACE INTO trips(trip_id, route_id) VALUES(?,?)")
        .bind(1, s.trip_id)
        .bind(2, s.route_id)
        .run();
  db_.prepare(
         "INSERT OR REPLACE INTO statuses(vehicle, online, route_id, trip_id, next_stop, gps, "
         "faults, status, received) VALUES(?,?,?,?,?,?,?,?,?)")
      .bind(1, s.vehicle)
      .bind(2, s.online ? 1 : 0)
      .bind(3, s.route_id)
      .bind(4, s.trip_id)
      .bind(5, s.next_stop ? s.next_stop->stop_id : std::string())
      .bind(6, s.gps)
      .bind(7, json(s.faults).dump())
      .bind(8, stored(s).dump())
      .bind(9, received)
      .run();
  return s;
}

std::vector<StatusRecord> FleetStore::statuses() {
  std::vector<StatusRecord> out;
  for (const auto& row : buses())
    out.push_back(row.status);
  return out;
}

std::vector<BusRow> FleetStore::buses() {
  std::vector<BusRow> out;
  auto stmt = db_.prepare(
      "SELECT s.status, s.received, (SELECT count(*) FROM events e WHERE e.vehicle = s.vehicle) "
      "FROM statuses s ORDER BY s.vehicle");
  while (stmt.step()) {
    BusRow row;
    row.status = loaded(stmt.text(0));
    row.received = stmt.text(1);
    row.events = stmt.int64(2);
    out.push_back(std::move(row));
  }
  return out;
}

void FleetStore::put_booking(const BookingState& s, std::string_view updated) {
  db_.prepare(
         "INSERT OR REPLACE INTO bookings(booking_id, state, vehicle, record, updated) "
         "VALUES(?,?,?,?,?)")
      .bind(1, s.booking.booking_id)
      .bind(2, s.state)
      .bind(3, s.vehicle)
      .bind(4, encode_state(s))
      .bind(5, updated)
      .run();
}

std::optional<BookingState> FleetStore::booking(std::string_view booking_id) {
  auto stmt = db_.prepare("SELECT record FROM bookings WHERE booking_id = ?");
  stmt.bind(1, booking_id);
  if (!stmt.step()) return std::nullopt;
  return decode_state(stmt.text(0));
}

std::vector<BookingState> FleetStore::open_bookings() {
  std::vector<BookingState> out;
  auto stmt = db_.prepare(
      "SELECT record FROM bookings WHERE state NOT IN ('served', 'expired', 'failed') "
      "ORDER BY booking_id");
  while (stmt.step()) {
    if (auto s = decode_state(stmt.text(0))) out.push_back(std::move(*s));
  }
  return out;
}

}  // namespace stopcall::depot
