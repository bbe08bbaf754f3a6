// The fleet client's side of what comes in: signed commands on the request topics (inbox.hpp),
// answered on requests/ack; the route's topic following the trip; route data offers and chunks
// (route_data.hpp), installed between trips.
#include <boost/asio/post.hpp>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "daemon/fleet/client_impl.hpp"
#include "daemon/tracking/events.hpp"
#include "routes/signing.hpp"

namespace stopcall::daemon::fleet {

namespace asio = boost::asio;

// --- requests

tracking::Time Client::Impl::system_now() const {
  if (hooks.system_clock) return hooks.system_clock();
  return std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
}

// The command check (inbox.hpp); a bus without a command key takes no command, and says so.
void Client::Impl::start_inbox() {
  std::optional<routes::PublicKey> key;
  if (!options.command_key.empty()) {
    try {
      key = routes::load_public_key(options.command_key);
    } catch (const std::exception& e) {
      throw std::runtime_error(std::string("fleet: command_key: ") + e.what());
    }
  }
  GateOptions gate;
  gate.max_age = options.command_max_age;
  inbox =
      std::make_unique<Inbox>(options.vehicle, key, gate, handler, hooks.record, hooks.save_nonces);
  if (key) {
    if (hooks.load_nonces) inbox->restore(hooks.load_nonces(), system_now());
    say(false, "fleet: commands signed by key " + key->key_id() + " are taken");
    return;
  }
  const std::string why =
      "no fleet.command_key: no command from the control centre (bookings, messages) is taken";
  say(true, "fleet: " + why);
  if (hooks.record) {
    hooks.record(log::Fault{tracking::format_time(clock ? clock() : tracking::Time{}),
                            "no_command_key",
                            {},
                            {},
                            why,
                            {}});
  }
}

// The route's topic follows the trip: subscribed while the bus runs a trip of that route.
void Client::Impl::follow_route(const std::string& now) {
  const std::string want = valid_vehicle_id(now) ? now : std::string();
  if (want == route || !mosq || !connected) return;
  if (!route.empty()) {
    mosquitto_unsubscribe(mosq, nullptr, topics.route_requests(route).c_str());
    stats.route.clear();
  }
  route = want;
  route_mid = -1;
  if (!route.empty()) {
    mosquitto_subscribe(mosq, &route_mid, topics.route_requests(route).c_str(), 1);
  }
}

// --- route data (route_data.hpp)

void Client::Impl::start_receiver() {
  receiver = std::make_unique<BundleReceiver>(bundle_hooks.install_dir,
                                              load_bundle_key(options.bundle_key),
                                              bundle_hooks.active, hooks.record);
  receiver->resume(bus_now());
  inbox->set_bundle_handler([this](std::string_view line) {
    asio::post(io, [self = shared_from_this()] { self->ask_chunks(); });
    return receiver->offer_line(line, bus_now());
  });
}

void Client::Impl::ask_chunks() {
  if (!receiver || !mosq || !connected) return;
  const auto status = receiver->status();
  for (std::uint64_t k : receiver->to_ask()) {
    const std::string get = encode_chunk_request(status->bundle_id, k);
    mosquitto_publish(mosq, nullptr, topics.bundle_get.c_str(), static_cast<int>(get.size()),
                      get.data(), 1, false);
  }
  wait_write();
}

void Client::Impl::on_chunk(const mosquitto_message& m) {
  const std::string_view payload(static_cast<const char*>(m.payload),
                                 static_cast<std::size_t>(m.payloadlen));
  if (!receiver || !receiver->on_chunk(payload, bus_now())) return;
  if (receiver->waiting_for_terminus()) install_between_trips(false);
  ask_chunks();
}

void Client::Impl::install_between_trips(bool at_terminus) {
  const bool running = !at_terminus && bundle_hooks.trip_running && bundle_hooks.trip_running();
  if (!receiver || !receiver->install_if_between_trips(running, bus_now())) return;
  if (connected) check_status(true);
  if (bundle_hooks.installed) bundle_hooks.installed();
}

void Client::Impl::route_data_tick() {
  if (!receiver) return;
  receiver->tick();
  ask_chunks();
  install_between_trips(false);
}

void Client::Impl::on_suback(int mid) {
  if (mid == route_mid) stats.route = route;
  // The broker answers subscriptions in order: the last one taken means all are. Commands
  // published before this (after "connected") do not reach the bus.
  if (mid == commands_mid)
    say(false,
        "fleet: listening for commands on " + topics.requests + " and " + topics.fleet_requests);
}

// The audience a topic speaks for; nullopt: not one of the request topics.
std::optional<Audience> Client::Impl::audience_of(std::string_view topic) const {
  if (topic == topics.requests) return Audience{Audience::Kind::bus, options.vehicle};
  if (topic == topics.fleet_requests) return Audience{};
  const std::string head = topics.prefix + "/route/";
  constexpr std::string_view tail = "/requests";
  if (topic.size() > head.size() + tail.size() && topic.starts_with(head) &&
      topic.ends_with(tail)) {
    const std::string_view name =
        topic.substr(head.size(), topic.size() - head.size() - tail.size());
    if (valid_vehicle_id(name)) return Audience{Audience::Kind::route, std::string(name)};
  }
  return std::nullopt;
}

void Client::Impl::on_message(const mosquitto_message& m) {
  if (m.topic == nullptr || !inbox) return;
  if (topics.bundle_chunk == m.topic) return on_chunk(m);
  const auto audience = audience_of(m.topic);
  if (!audience) return;
  ++stats.requests;
  Inbound in;
  in.payload =
      std::string_view(static_cast<const char*>(m.payload), static_cast<std::size_t>(m.payloadlen));
  in.retained = m.retain;
  in.arrived_on = *audience;
  // The route of the trip now, not of the last status: the trip may have changed since.
  const std::string trip_route = status_source ? status_source().route_id : std::string();
  in.route = trip_route;
  in.system_now = system_now();
  in.bus_now = clock ? clock() : tracking::Time{};
  const RequestAck ack = inbox->take(in);
  stats.commands_refused = inbox->refused();
  const std::string out = nlohmann::json(ack).dump();
  mosquitto_publish(mosq, nullptr, topics.requests_ack.c_str(), static_cast<int>(out.size()),
                    out.data(), 1, false);
}

}  // namespace stopcall::daemon::fleet
