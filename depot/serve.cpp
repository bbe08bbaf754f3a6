#include "depot/serve.hpp"

#include <chrono>
#include <ctime>
#include <iostream>
#include <nlohmann/json.hpp>

#include "daemon/fleet/backoff.hpp"
#include "daemon/fleet/command.hpp"
#include "depot/commands.hpp"

namespace stopcall::depot {

namespace {

using json = nlohmann::json;
using daemon::fleet::StatusRecord;

void say(const std::string& line) {
  std::cerr << "stopcall-fleet: " << line << "\n" << std::flush;
}

std::string now_iso() {
  const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// "<prefix>/bus/<vehicle>/<leaf>" into vehicle and leaf; false for any other topic.
bool bus_topic(std::string_view topic, std::string_view prefix, std::string& vehicle,
               std::string& leaf) {
  const std::string head = std::string(prefix) + "/bus/";
  if (!topic.starts_with(head)) return false;
  topic.remove_prefix(head.size());
  const auto slash = topic.find('/');
  if (slash == std::string_view::npos) return false;
  vehicle = std::string(topic.substr(0, slash));
  leaf = std::string(topic.substr(slash + 1));
  return daemon::fleet::valid_vehicle_id(vehicle);
}

std::string describe(const StatusRecord& s) {
  std::string out = "bus " + s.vehicle + (s.online ? " online" : " offline");
  std::string where;
  if (!s.trip_id.empty()) where = "route " + s.route_id + " trip " + s.trip_id;
  if (s.next_stop) where += ", next stop " + s.next_stop->stop_id;
  if (!where.empty()) out += s.online ? ", " + where : " (last known: " + where + ")";
  if (s.online && !s.faults.empty()) {
    out += ", faults:";
    for (const auto& f : s.faults)
      out += " " + f;
  }
  return out;
}

}  // namespace

Depot::Depot(FleetStore& store, routes::Bundle& bundle, routes::SecretKey key, std::string prefix,
             Publish publish)
    : store_(store),
      bundle_(bundle),
      key_(key),
      prefix_(std::move(prefix)),
      publish_(std::move(publish)) {}

void Depot::on_message(const std::string& topic, const std::string& payload) {
  if (topic == prefix_ + "/depot/bookings") return on_booking(payload);
  std::string vehicle, leaf;
  if (!bus_topic(topic, prefix_, vehicle, leaf)) return;
  try {
    if (leaf == "status") return on_status(vehicle, payload);
    if (leaf == "events") return on_event(vehicle, payload);
    if (leaf == "requests/ack") return on_ack(vehicle, payload);
  } catch (const std::invalid_argument& e) {
    say("ignored " + leaf + " from " + vehicle + ": " + e.what());
  }
}

void Depot::on_status(const std::string& vehicle, const std::string& payload) {
  const StatusRecord s = store_.put_status(vehicle, payload, now_iso());
  auto [it, fresh] = online_.try_emplace(vehicle, s.online);
  if (fresh || it->second != s.online) say(describe(s));
  it->second = s.online;
  // A booking sent to a bus that went away before answering is routed again; one waiting for a
  // bus goes to the first able to reach its stop (PROTOCOL.md, "A bus away").
  std::vector<BookingState> open;
  for (auto& b : store_.open_bookings()) {
    if (s.online ? b.state == "routing" && !b.waiting_for.empty()
                 : b.state == "sent" && b.vehicle == vehicle)
      open.push_back(std::move(b));
  }
  for (const auto& b : open) {
    // Looked at again under the booking's lock: another collector may have moved it meanwhile.
    change(b.booking.booking_id, [&](BookingState& current) {
      if (s.online ? current.state != "routing" || current.waiting_for.empty()
                   : current.state != "sent" || current.vehicle != vehicle)
        return false;
      const auto statuses = store_.statuses();
      return s.online
                 ? depot::on_online(current, vehicle, statuses, timetables(statuses), system_now())
                 : depot::on_offline(current, vehicle, statuses, timetables(statuses),
                                     system_now());
    });
  }
}

void Depot::on_event(const std::string& vehicle, const std::string& payload) {
  if (store_.add_event(vehicle, payload) == 0) return;  // seen before: acted on then
  const json j = json::parse(payload);
  auto e = j.find("event");
  if (e == j.end() || !e->is_object() || e->value("type", "") != "request") return;
  const std::string id = e->value("id", "");
  if (!store_.booking(id)) return;
  change(id, [&](BookingState& b) {
    const auto statuses = store_.statuses();
    return on_fate(b, vehicle, e->value("fate", ""), e->value("why", ""), statuses,
                   timetables(statuses), system_now());
  });
}

void Depot::on_ack(const std::string& vehicle, const std::string& payload) {
  daemon::fleet::RequestAck ack;
  try {
    const json j = json::parse(payload);
    // A request's fate told on the ack topic (no "accepted"): the booking learns it from the
    // event line that went up right after it (on_event), once; taking it here too would hand a
    // missed booking on twice.
    if (j.is_object() && j.contains("fate") && !j.contains("accepted")) return;
    ack = j.get<daemon::fleet::RequestAck>();
  } catch (const json::exception& e) {
    throw std::invalid_argument(std::string("not an ack: ") + e.what());
  }
  if (ack.vehicle != vehicle) throw std::invalid_argument("an ack for another bus");
  // The booking: the request_id echoed, else from the command's id "<booking>-<n>" (any
  // collector of a shared group may get the ack of a command another one sent).
  std::string booking_id = ack.request_id;
  if (booking_id.empty()) {
    const auto dash = ack.id.rfind('-');
    if (dash != std::string::npos && dash > 0 && dash + 1 < ack.id.size() &&
        ack.id.find_first_not_of("0123456789", dash + 1) == std::string::npos)
      booking_id = ack.id.substr(0, dash);
  }
  if (booking_id.empty() || !store_.booking(booking_id)) return;
  change(booking_id, [&](BookingState& b) {
    const auto statuses = store_.statuses();
    return depot::on_ack(b, ack, statuses, timetables(statuses), system_now());
  });
}

void Depot::on_booking(const std::string& payload) {
  std::string error;
  auto booking = parse_booking(payload, error);
  if (!booking) {
    // Published on the booking's topic when it names one, so its sender hears why.
    const json j = json::parse(payload, nullptr, false);
    const std::string id = j.is_object() ? j.value("booking_id", "") : "";
    say("refused a booking" + (id.empty() ? "" : " " + id) + ": " + error);
    if (daemon::fleet::valid_vehicle_id(id)) {
      BookingState s;
      s.booking.booking_id = id;
      s.state = "failed";
      s.message = "malformed booking: " + error;
      const auto stored = store_.change_booking(id, now_iso(), [&](std::optional<BookingState>& b) {
        if (b) return false;
        b = s;
        return true;
      });
      if (stored) publish_(prefix_ + "/depot/bookings/" + id, encode_state(s), true);
    }
    return;
  }
  // Under the booking's lock: the same booking sent twice may reach two collectors at once.
  std::string known;
  const auto stored =
      store_.change_booking(booking->booking_id, now_iso(), [&](std::optional<BookingState>& b) {
        if (b) {
          known = b->state;
          return false;
        }
        b.emplace();
        b->booking = *booking;
        // One that comes already past its expiry ends here and asks no bus; one no bus reaches
        // in time fails (route).
        const auto t = system_now();
        if (!expire_if_due(*b, t)) {
          const auto statuses = store_.statuses();
          route(*b, statuses, timetables(statuses), t);
          send(*b);
        }
        return true;
      });
  if (stored) return announce(*stored);
  say("booking " + booking->booking_id + " is known already (" + known + "): ignored");
}

void Depot::tick() {
  const auto t = system_now();
  for (const auto& b : store_.open_bookings())
    change(b.booking.booking_id, [&](BookingState& s) { return expire_if_due(s, t); });
}

void Depot::change(const std::string& booking_id, const std::function<bool(BookingState&)>& f) {
  const auto stored =
      store_.change_booking(booking_id, now_iso(), [&](std::optional<BookingState>& b) {
        if (!b || !f(*b)) return false;
        send(*b);
        return true;
      });
  if (stored) announce(*stored);
}

void Depot::send(BookingState& s) {
  if (s.state == "sent") {
    const std::string id = s.booking.booking_id + "-" + std::to_string(s.sends);
    const std::string envelope = daemon::fleet::sign_command(
        key_, {daemon::fleet::Audience::Kind::bus, s.vehicle}, system_now(), request_line(s, id));
    if (!publish_(prefix_ + "/bus/" + s.vehicle + "/requests", envelope, false))
      s.message += " (not published: the broker is away)";
  }
}

void Depot::announce(const BookingState& s) {
  publish_(prefix_ + "/depot/bookings/" + s.booking.booking_id, encode_state(s), true);
  say("booking " + s.booking.booking_id + " " + s.state + ": " + s.message);
}

const Timetables& Depot::timetables(const std::vector<StatusRecord>& statuses) {
  for (const auto& s : statuses) {
    if (s.trip_id.empty() || trips_.contains(s.trip_id)) continue;
    std::vector<ScheduledStop> stops;
    try {
      const routes::Trip trip = bundle_.load_trip(s.trip_id);
      for (const auto& t : trip.stops)
        stops.push_back(
            {t.stop.id, t.stop.parent_station, t.arrival_s.value_or(t.departure_s.value_or(0))});
    } catch (const std::exception& e) {
      say("bus " + s.vehicle + " runs trip " + s.trip_id + ", not in the route data: " + e.what());
    }
    trips_.emplace(s.trip_id, std::move(stops));
  }
  return trips_;
}

std::vector<std::string> serve_topics(const std::string& prefix, const std::string& shared_group) {
  if (!shared_group.empty() && !daemon::fleet::valid_vehicle_id(shared_group))
    throw std::invalid_argument("--shared \"" + shared_group +
                                "\" is not 1 to 64 of A-Z a-z 0-9 - _ .");
  std::vector<std::string> out;
  for (const char* t : {"/bus/+/status", "/bus/+/events", "/bus/+/requests/ack", "/depot/bookings"})
    out.push_back((shared_group.empty() ? "" : "$share/" + shared_group + "/") + prefix + t);
  return out;
}

int serve(ServeOptions options, const std::atomic<bool>& stop) {
  const auto topics = serve_topics(options.prefix, options.shared_group);
  FleetStore store(options.store);
  routes::Bundle bundle = routes::Bundle::open(options.bundle);
  const routes::SecretKey key = routes::load_secret_key(options.key);
  options.broker.clean_session = false;
  if (options.broker.client_id.empty()) options.broker.client_id = "stopcall-fleet-serve";
  const std::string& p = options.prefix;
  Link* link_ptr = nullptr;
  Depot depot(store, bundle, key, p, [&](const std::string& t, const std::string& m, bool r) {
    return link_ptr && link_ptr->publish(t, m, r);
  });
  Link link(options.broker, topics, [&](const std::string& topic, const std::string& payload) {
    try {
      depot.on_message(topic, payload);
    } catch (const std::exception& e) {
      say("could not handle a message on " + topic + ": " + e.what());
    }
  });
  link_ptr = &link;
  const std::string where = options.broker.host + ":" + std::to_string(options.broker.port);
  daemon::fleet::Backoff backoff(
      std::chrono::seconds(1), std::chrono::seconds(60),
      static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()));
  say("collecting into " + store_name(options.store) + ", routing bookings with " + options.bundle +
      (options.shared_group.empty() ? ""
                                    : " (one of the shared group " + options.shared_group + ")"));
  auto next_try = std::chrono::steady_clock::now();
  auto next_tick = next_try;
  bool attempting = false, was_connected = false;
  while (!stop) {
    if (!attempting && std::chrono::steady_clock::now() >= next_try) {
      attempting = link.connect();
      if (!attempting) {
        const auto wait = backoff.next();
        say("cannot reach the broker at " + where + " (" + link.error() + "); again in " +
            std::to_string(wait.count()) + " ms");
        next_try = std::chrono::steady_clock::now() + wait;
      }
    }
    link.poll(std::chrono::milliseconds(100));
    if (link.connected() && std::chrono::steady_clock::now() >= next_tick) {
      // Bookings past their expiry that no bus took end here (published, so only when connected).
      next_tick = std::chrono::steady_clock::now() + std::chrono::seconds(1);
      depot.tick();
    }
    if (link.connected() && !was_connected) {
      was_connected = true;
      backoff.reset();
      say("connected to " + where + " as " + options.broker.user + " (session " +
          options.broker.client_id + ")");
    }
    if (attempting && link.down()) {
      attempting = false;
      const auto wait = backoff.next();
      say((was_connected ? "lost the broker at " : "the broker at ") + where + " (" + link.error() +
          "); reconnecting in " + std::to_string(wait.count()) + " ms");
      was_connected = false;
      next_try = std::chrono::steady_clock::now() + wait;
    }
  }
  link.disconnect();
  say("stopped");
  return 0;
}

}  // namespace stopcall::depot
