#include "depot/store.hpp"

#include <chrono>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "depot/store_backend.hpp"

namespace stopcall::depot {

namespace {

using json = nlohmann::json;
using daemon::fleet::StatusRecord;

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

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

bool is_postgres_uri(std::string_view where) {
  return where.starts_with("postgresql://") || where.starts_with("postgres://");
}

std::string store_name(std::string_view where) {
  const std::string uri(where);
  const auto scheme = uri.find("://");
  const auto at = uri.find('@');
  if (!is_postgres_uri(uri) || at == std::string::npos) return uri;
  const auto colon = uri.find(':', scheme + 3);
  if (colon == std::string::npos || colon > at) return uri;
  return uri.substr(0, colon) + ":***" + uri.substr(at);
}

FleetStore::FleetStore(const std::string& where, bool read_only)
    : backend_(is_postgres_uri(where) ? open_pg_store(where, read_only)
                                      : open_sqlite_store(where, read_only)) {}

FleetStore::~FleetStore() = default;

int FleetStore::add_event(std::string_view topic_vehicle, std::string_view payload,
                          std::optional<std::int64_t> received_ms) {
  const json j = json::parse(payload, nullptr, false);
  if (!j.is_object()) throw std::invalid_argument("an event is one JSON object");
  if (text_or_empty(j, "vehicle") != topic_vehicle)
    throw std::invalid_argument("\"vehicle\" is not the topic's bus " + std::string(topic_vehicle));
  auto seq = j.find("seq");
  if (seq == j.end() || !seq->is_number_integer())
    throw std::invalid_argument("\"seq\" must be an integer");
  EventRow row;
  row.vehicle = topic_vehicle;
  row.seq = seq->get<std::int64_t>();
  row.received_ms = received_ms.value_or(now_ms());
  if (auto e = j.find("event"); e != j.end() && e->is_object()) {
    row.line = e->dump();
    row.time = text_or_empty(*e, "time");
    row.type = text_or_empty(*e, "type");
  } else if (auto l = j.find("line"); l != j.end() && l->is_string()) {
    row.line = l->get<std::string>();
  } else {
    throw std::invalid_argument("an event has \"event\" (an object) or \"line\" (a string)");
  }
  return backend_->insert_event(row);
}

std::int64_t FleetStore::event_count(std::string_view vehicle) {
  return backend_->event_count(vehicle);
}

std::vector<std::string> FleetStore::event_vehicles() {
  return backend_->event_vehicles();
}

void FleetStore::for_each_event(std::string_view vehicle,
                                const std::function<void(std::int64_t, const std::string&)>& each) {
  backend_->for_each_event(
      vehicle, [&](std::int64_t seq, const std::string& line, std::int64_t) { each(seq, line); });
}

void FleetStore::for_each_received(
    std::string_view vehicle,
    const std::function<void(std::int64_t, const std::string&, std::int64_t)>& each) {
  backend_->for_each_event(vehicle, each);
}

std::map<std::string, std::string> FleetStore::trip_routes() {
  return backend_->trip_routes();
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
    if (auto prev = backend_->status_text(s.vehicle)) {
      const auto last = loaded(*prev);
      s.route_id = last.route_id;
      s.trip_id = last.trip_id;
      s.next_stop = last.next_stop;
    }
  }
  backend_->put_status({s.vehicle, s.online, s.route_id, s.trip_id,
                        s.next_stop ? s.next_stop->stop_id : std::string(), s.gps,
                        json(s.faults).dump(), stored(s).dump(), std::string(received)});
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
  for (const auto& r : backend_->buses()) {
    BusRow row;
    row.status = loaded(r.status);
    row.received = r.received;
    row.events = r.events;
    out.push_back(std::move(row));
  }
  return out;
}

void FleetStore::put_booking(const BookingState& s, std::string_view updated) {
  backend_->put_booking(s.booking.booking_id, s.state, s.vehicle, encode_state(s), updated);
}

std::optional<BookingState> FleetStore::booking(std::string_view booking_id) {
  auto record = backend_->booking_record(booking_id);
  if (!record) return std::nullopt;
  return decode_state(*record);
}

std::vector<BookingState> FleetStore::open_bookings() {
  std::vector<BookingState> out;
  for (const auto& record : backend_->open_booking_records()) {
    if (auto s = decode_state(record)) out.push_back(std::move(*s));
  }
  return out;
}

std::optional<BookingState> FleetStore::change_booking(
    std::string_view id, std::string_view updated,
    const std::function<bool(std::optional<BookingState>&)>& change) {
  std::optional<BookingState> result;
  backend_->booking_transaction(id, [&] {
    std::optional<BookingState> s = booking(id);
    if (!change(s) || !s) return;
    put_booking(*s, updated);
    result = std::move(s);
  });
  return result;
}

}  // namespace stopcall::depot
