#include "depot/routing.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "daemon/vehicle/control.hpp"

namespace stopcall::depot {

namespace {

using json = nlohmann::json;
using daemon::fleet::StatusRecord;

constexpr std::size_t kMaxGtfsId = 128;

bool contains(const std::vector<std::string>& list, std::string_view x) {
  return std::find(list.begin(), list.end(), x) != list.end();
}

std::string join(const std::vector<std::string>& list) {
  std::string out;
  for (const auto& x : list)
    out += (out.empty() ? "" : ", ") + x;
  return out;
}

// "07:30" (or "07:30:15") of `t` on the clock of the zone `iso` is written in (its "Z" or
// "+08:00"): what the booking platform gave. `round_up`: to the next whole minute, for an arrival
// (a bus due at 07:40:20 is not there at 07:40).
std::string clock_time(tracking::Time t, std::string_view iso, bool round_up) {
  using namespace std::chrono;
  minutes offset{0};
  if (iso.size() >= 6 && (iso[iso.size() - 6] == '+' || iso[iso.size() - 6] == '-')) {
    const auto zone = iso.substr(iso.size() - 6);
    const int m =
        ((zone[1] - '0') * 10 + (zone[2] - '0')) * 60 + (zone[4] - '0') * 10 + (zone[5] - '0');
    offset = minutes(zone[0] == '+' ? m : -m);
  }
  auto local = floor<seconds>(t) + offset;
  if (round_up) local = ceil<minutes>(t + offset);
  const hh_mm_ss clock{local - floor<days>(local)};
  char buf[16];
  if (clock.seconds().count() == 0)
    std::snprintf(buf, sizeof buf, "%02d:%02d", static_cast<int>(clock.hours().count()),
                  static_cast<int>(clock.minutes().count()));
  else
    std::snprintf(buf, sizeof buf, "%02d:%02d:%02d", static_cast<int>(clock.hours().count()),
                  static_cast<int>(clock.minutes().count()),
                  static_cast<int>(clock.seconds().count()));
  return buf;
}

}  // namespace

std::optional<Booking> parse_booking(std::string_view payload, std::string& error) {
  const json j = json::parse(payload, nullptr, false);
  if (!j.is_object()) {
    error = "a booking is one JSON object";
    return std::nullopt;
  }
  auto text = [&](const char* key, bool required) -> std::optional<std::string> {
    auto it = j.find(key);
    if (it == j.end()) {
      if (required) error = std::string("\"") + key + "\" is missing";
      return required ? std::nullopt : std::optional<std::string>(std::string());
    }
    if (!it->is_string()) {
      error = std::string("\"") + key + "\" must be a string";
      return std::nullopt;
    }
    return it->get<std::string>();
  };
  Booking b;
  for (auto [key, field, required] :
       {std::tuple{"booking_id", &b.booking_id, true}, std::tuple{"kind", &b.kind, true},
        std::tuple{"route_id", &b.route_id, true}, std::tuple{"stop_id", &b.stop_id, true},
        std::tuple{"expires", &b.expires, false}}) {
    auto value = text(key, required);
    if (!value) return std::nullopt;
    *field = std::move(*value);
  }
  if (!daemon::fleet::valid_vehicle_id(b.booking_id)) {
    error = "\"booking_id\" is 1 to 64 of A-Z a-z 0-9 - _ .";
    return std::nullopt;
  }
  if (b.kind != "wheelchair" && b.kind != "blind") {
    error = "\"kind\" is wheelchair or blind";
    return std::nullopt;
  }
  if (!b.expires.empty() && !daemon::vehicle::parse_iso_time(b.expires)) {
    error = "\"expires\" is not an ISO 8601 time with a zone (2026-03-02T07:30:00+08:00)";
    return std::nullopt;
  }
  if (b.route_id.empty() || b.route_id.size() > kMaxGtfsId || b.stop_id.empty() ||
      b.stop_id.size() > kMaxGtfsId) {
    error = "\"route_id\" and \"stop_id\" are 1 to 128 bytes";
    return std::nullopt;
  }
  return b;
}

std::string encode_state(const BookingState& s) {
  json j{{"booking_id", s.booking.booking_id},
         {"kind", s.booking.kind},
         {"route_id", s.booking.route_id},
         {"stop_id", s.booking.stop_id},
         {"state", s.state},
         {"tried", s.tried},
         {"message", s.message}};
  if (!s.booking.expires.empty()) j["expires"] = s.booking.expires;
  if (!s.vehicle.empty()) j["vehicle"] = s.vehicle;
  if (!s.waiting_for.empty()) j["waiting_for"] = s.waiting_for;
  if (s.sends > 0) j["sends"] = s.sends;
  return j.dump();
}

std::optional<BookingState> decode_state(std::string_view text) {
  const json j = json::parse(text, nullptr, false);
  if (!j.is_object()) return std::nullopt;
  try {
    BookingState s;
    s.booking.booking_id = j.at("booking_id").get<std::string>();
    s.booking.kind = j.value("kind", "");
    s.booking.route_id = j.value("route_id", "");
    s.booking.stop_id = j.value("stop_id", "");
    s.booking.expires = j.value("expires", "");
    s.state = j.at("state").get<std::string>();
    s.vehicle = j.value("vehicle", "");
    s.tried = j.value("tried", std::vector<std::string>{});
    s.message = j.value("message", "");
    s.waiting_for = j.value("waiting_for", "");
    s.sends = j.value("sends", 0);
    return s;
  } catch (const json::exception&) {
    return std::nullopt;
  }
}

Choice choose_bus(const Booking& booking, const std::vector<StatusRecord>& statuses,
                  const Timetables& trips, const std::vector<std::string>& tried,
                  tracking::Time now) {
  // Checked by parse_booking; a stored state with an unreadable one is routed as without.
  const auto expires =
      booking.expires.empty() ? std::nullopt : daemon::vehicle::parse_iso_time(booking.expires);
  std::optional<Choice> best;
  std::optional<tracking::Time> next_late;  // the earliest arrival at or after `expires`
  int on_route = 0, online = 0;
  for (const auto& s : statuses) {
    if (s.route_id != booking.route_id) continue;
    ++on_route;
    if (!s.online || !s.next_stop || contains(tried, s.vehicle)) continue;
    ++online;
    auto trip = trips.find(s.trip_id);
    if (trip == trips.end()) continue;
    const auto& stops = trip->second;
    const auto from = static_cast<std::size_t>(std::max(0, s.next_stop->index));
    if (from >= stops.size()) continue;
    for (std::size_t i = from; i < stops.size(); ++i) {
      if (stops[i].stop_id != booking.stop_id && stops[i].parent_station != booking.stop_id)
        continue;
      const int eta = stops[i].arrival_s - stops[from].arrival_s;
      // At the expiry the bus drops the request (`expires <= now` on the bus): too late.
      const tracking::Time arrival = now + std::chrono::seconds(eta);
      if (expires && arrival >= *expires) {
        if (!next_late || arrival < *next_late) next_late = arrival;
        break;
      }
      if (!best || eta < best->eta_s || (eta == best->eta_s && s.vehicle < best->vehicle))
        best = Choice{s.vehicle, eta, {}};
      break;
    }
  }
  if (best) return *best;
  Choice none;
  if (on_route == 0) {
    none.reason = "no bus of route " + booking.route_id + " is known";
  } else if (online == 0) {
    none.reason = "no bus of route " + booking.route_id + " is online on a trip" +
                  (tried.empty() ? "" : " that has not refused or missed it (" + join(tried) + ")");
  } else if (next_late) {
    none.reason = "no bus of route " + booking.route_id + " reaches " + booking.stop_id +
                  " before " + clock_time(*expires, booking.expires, false) + " (the next at " +
                  clock_time(*next_late, booking.expires, true) +
                  (tried.empty() ? "" : "; tried: " + join(tried)) + ")";
  } else {
    none.reason = "no bus of route " + booking.route_id + " still to reach stop " +
                  booking.stop_id + (tried.empty() ? "" : " (tried: " + join(tried) + ")");
  }
  return none;
}

void route(BookingState& s, const std::vector<StatusRecord>& statuses, const Timetables& trips,
           tracking::Time now) {
  const Choice c = choose_bus(s.booking, statuses, trips, s.tried, now);
  if (c.vehicle.empty()) {
    s.state = "failed";
    s.vehicle.clear();
    s.message = c.reason;
    return;
  }
  s.state = "sent";
  s.vehicle = c.vehicle;
  s.waiting_for.clear();
  ++s.sends;
  s.message = "sent to " + c.vehicle + ", due at " + s.booking.stop_id + " in " +
              std::to_string(c.eta_s / 60) + " min by the timetable";
}

bool on_ack(BookingState& s, const daemon::fleet::RequestAck& ack,
            const std::vector<StatusRecord>& statuses, const Timetables& trips,
            tracking::Time now) {
  if (s.final() || ack.vehicle != s.vehicle || s.state != "sent") return false;
  if (ack.accepted) {
    s.state = "accepted";
    s.message = ack.vehicle + " accepted it";
    return true;
  }
  s.tried.push_back(ack.vehicle);
  const std::string why = ack.vehicle + " refused it (" + ack.error + ": " + ack.message + ")";
  route(s, statuses, trips, now);
  s.message = why + "; " + s.message;
  return true;
}

bool on_fate(BookingState& s, std::string_view vehicle, std::string_view fate, std::string_view why,
             const std::vector<StatusRecord>& statuses, const Timetables& trips,
             tracking::Time now) {
  if (s.final() || vehicle != s.vehicle) return false;
  const std::string by(vehicle);
  const std::string because = why.empty() ? "" : " (" + std::string(why) + ")";
  if (fate == "shown") {
    if (s.state == "shown") return false;
    s.state = "shown";
    s.message = "shown to the driver of " + by;
  } else if (fate == "served") {
    s.state = "served";
    s.message = by + " served it" + because;
  } else if (fate == "dismissed") {
    s.state = "dismissed";
    s.message = "the driver of " + by + " dealt with it" + because;
  } else if (fate == "expired") {
    s.state = "expired";
    s.message = "it expired on " + by + because;
  } else if (fate == "missed") {
    s.tried.push_back(by);
    route(s, statuses, trips, now);
    s.message = by + " missed it" + because + "; " + s.message;
  } else {
    return false;  // pending, carried, ...: nothing the booking platform needs
  }
  return true;
}

bool on_offline(BookingState& s, std::string_view vehicle,
                const std::vector<StatusRecord>& statuses, const Timetables& trips,
                tracking::Time now) {
  if (s.state != "sent" || vehicle != s.vehicle) return false;
  const std::string by(vehicle);
  const Choice c = choose_bus(s.booking, statuses, trips, s.tried, now);
  if (c.vehicle.empty()) {
    s.state = "routing";
    s.vehicle.clear();
    s.waiting_for = by;
    s.message = by + " went offline before answering; waiting for it or another bus of route " +
                s.booking.route_id + " (" + c.reason + ")";
    return true;
  }
  route(s, statuses, trips, now);
  s.message = by + " went offline before answering; " + s.message;
  return true;
}

bool on_online(BookingState& s, std::string_view vehicle, const std::vector<StatusRecord>& statuses,
               const Timetables& trips, tracking::Time now) {
  if (s.state != "routing" || s.waiting_for.empty()) return false;
  const Choice c = choose_bus(s.booking, statuses, trips, s.tried, now);
  if (c.vehicle.empty() && vehicle != s.waiting_for) return false;
  const std::string away = s.waiting_for;
  route(s, statuses, trips, now);
  if (s.state == "failed") {
    s.waiting_for.clear();
    s.message = away + " came back online; " + s.message;
  } else if (s.vehicle == away) {
    s.message = away + " came back online; " + s.message;
  }
  return true;
}

bool expire_if_due(BookingState& s, tracking::Time now) {
  if (s.state != "routing" && s.state != "sent") return false;
  if (s.booking.expires.empty()) return false;
  const auto expires = daemon::vehicle::parse_iso_time(s.booking.expires);
  if (!expires || now < *expires) return false;
  s.message = "expired at " + s.booking.expires +
              (s.state == "sent" ? " before " + s.vehicle + " answered"
                                 : " before a bus of route " + s.booking.route_id + " took it");
  s.state = "expired";
  s.waiting_for.clear();
  return true;
}

std::string request_line(const BookingState& s, std::string_view id) {
  json j{{"id", id},
         {"cmd", "request"},
         {"kind", s.booking.kind},
         {"stop_id", s.booking.stop_id},
         {"route_id", s.booking.route_id},
         {"request_id", s.booking.booking_id}};
  if (!s.booking.expires.empty()) j["expires"] = s.booking.expires;
  return j.dump();
}

}  // namespace stopcall::depot
