// The fleet client's connection (libmosquitto's socket on the io_context, reconnecting with
// backoff) and its status, and the Client itself. The event upload is in client_events.cpp, the
// commands and route data that come in are in client_commands.cpp.
#include "daemon/fleet/client.hpp"

#include <unistd.h>

#include <boost/asio/post.hpp>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "daemon/fleet/client_impl.hpp"
#include "daemon/tracking/events.hpp"

namespace stopcall::daemon::fleet {

namespace asio = boost::asio;
using SteadyClock = std::chrono::steady_clock;
using namespace std::chrono_literals;

std::uint64_t backoff_seed(std::string_view vehicle) {
  // FNV-1a of the id, mixed with the time the process started: two runs of one bus differ too.
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : vehicle) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h ^ static_cast<std::uint64_t>(SteadyClock::now().time_since_epoch().count());
}

namespace {

void init_library() {
  static std::once_flag once;
  std::call_once(once, [] { mosquitto_lib_init(); });
}

std::string read_password(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("fleet: cannot read the password file " + path);
  std::string line;
  std::getline(in, line);
  while (!line.empty() && (line.back() == '\r' || line.back() == ' '))
    line.pop_back();
  if (line.empty()) throw std::runtime_error("fleet: the password file " + path + " is empty");
  return line;
}

}  // namespace

Client::Impl::Impl(asio::io_context& io, Options o, std::string store, Clock c, StatusSource s,
                   RequestHandler r, Log l)
    : io(io),
      options(std::move(o)),
      topics(Topics::of(options.topic_prefix, options.vehicle)),
      event_store(std::move(store)),
      clock(std::move(c)),
      status_source(std::move(s)),
      handler(std::move(r)),
      log(std::move(l)),
      socket(io),
      misc(io),
      retry(io),
      pump_timer(io),
      write_later(io),
      backoff(options.reconnect_min, options.reconnect_max, backoff_seed(options.vehicle)) {}

void Client::Impl::start() {
  if (!valid_vehicle_id(options.vehicle)) {
    throw std::runtime_error("fleet: vehicle \"" + options.vehicle +
                             "\" must be 1 to 64 letters, digits, '-', '_' or '.'");
  }
  if (!options.password_file.empty()) password = read_password(options.password_file);
  if (!options.ca_file.empty() && !std::ifstream(options.ca_file)) {
    throw std::runtime_error("fleet: cannot read the CA file " + options.ca_file);
  }
  start_inbox();
  start_receiver();
  init_library();
  if (!event_store.empty()) {
    try {
      outbox = std::make_unique<Outbox>(event_store);
      stats.acked_seq = outbox->mark();
    } catch (const std::exception& e) {
      // Status and requests still work; the events stay in the store for a later run.
      say(true, std::string(e.what()) + "; no events are sent to the fleet");
    }
  }
  running = true;
  connect();
  tick();
}

void Client::Impl::stop() {
  if (!running) return;
  running = false;
  if (mosq && connected) {
    // A clean goodbye: the will is not sent on DISCONNECT, so say offline ourselves.
    publish_status(offline_status(options.vehicle));
    mosquitto_disconnect(mosq);
    mosquitto_loop_write(mosq, 100);
  }
  if (outbox) outbox->save_pending();
  tear_down();
  misc.cancel();
  retry.cancel();
}

void Client::Impl::tear_down() {
  ++generation;
  if (socket.is_open()) {
    boost::system::error_code ignored;
    socket.close(ignored);  // our duplicate; mosquitto closes its own
  }
  if (mosq) {
    mosquitto_destroy(mosq);
    mosq = nullptr;
  }
  connected = up = reading = writing = pumping = false;
  route.clear();
  route_mid = -1;
  stats.route.clear();
  inflight.clear();
  mid_seq.clear();
  if (outbox) queued_up_to = outbox->mark();
  pump_timer.cancel();
  write_later.cancel();
}

void Client::Impl::connect() {
  tear_down();
  mosq = mosquitto_new(options.vehicle.c_str(), true, this);
  if (!mosq) {
    // Out of memory: not worth stopping the bus for; tried again later.
    say(true, "fleet: cannot make an MQTT client (out of memory)");
    failed();
    return;
  }
  // Small packets (PUBLISH, PUBACK) must not wait for Nagle's algorithm: the events of hours
  // offline go up at hundreds a second, not a few dozen.
  mosquitto_int_option(mosq, MOSQ_OPT_TCP_NODELAY, 1);
  // The window of unacknowledged events is ours (max_inflight): the library must not hold
  // messages back in a queue of its own.
  mosquitto_max_inflight_messages_set(mosq, 0);
  const std::string user = options.username.empty() ? options.vehicle : options.username;
  mosquitto_username_pw_set(mosq, user.c_str(), password.empty() ? nullptr : password.c_str());
  const std::string will = nlohmann::json(offline_status(options.vehicle)).dump();
  mosquitto_will_set(mosq, topics.status.c_str(), static_cast<int>(will.size()), will.data(), 1,
                     true);
  if (!options.ca_file.empty()) {
    const int rc =
        mosquitto_tls_set(mosq, options.ca_file.c_str(), nullptr, nullptr, nullptr, nullptr);
    if (rc != MOSQ_ERR_SUCCESS) {
      say(true, std::string("fleet: TLS: ") + mosquitto_strerror(rc));
      failed();
      return;
    }
  }
  mosquitto_connect_callback_set(
      mosq, [](mosquitto*, void* self, int rc) { static_cast<Impl*>(self)->on_connect(rc); });
  mosquitto_disconnect_callback_set(
      mosq, [](mosquitto*, void* self, int) { static_cast<Impl*>(self)->connected = false; });
  mosquitto_publish_callback_set(
      mosq, [](mosquitto*, void* self, int mid) { static_cast<Impl*>(self)->on_puback(mid); });
  mosquitto_message_callback_set(mosq, [](mosquitto*, void* self, const mosquitto_message* m) {
    static_cast<Impl*>(self)->on_message(*m);
  });
  mosquitto_subscribe_callback_set(mosq, [](mosquitto*, void* self, int mid, int, const int*) {
    static_cast<Impl*>(self)->on_suback(mid);
  });
  // Non-blocking: the TCP connection and CONNECT complete on the io_context. (The host name is
  // resolved here, synchronously: give an address or a name the bus resolves locally.)
  const int rc =
      mosquitto_connect_async(mosq, options.host.c_str(), options.port, options.keepalive_s);
  if (rc != MOSQ_ERR_SUCCESS) {
    say(true, "fleet: cannot reach the broker " + options.host + ":" +
                  std::to_string(options.port) + ": " + mosquitto_strerror(rc));
    failed();
    return;
  }
  connect_started = SteadyClock::now();
  // asio watches a duplicate of the library's descriptor: when libmosquitto closes its own (a
  // keep-alive timeout in mosquitto_loop_misc), the number may be reused at once by another
  // part of the daemon, and asio must never act on that one.
  const int watched = ::dup(mosquitto_socket(mosq));
  if (watched < 0) {
    say(true, std::string("fleet: ") + std::strerror(errno));
    failed();
    return;
  }
  socket.assign(watched);
  wait_read();
  wait_write();
}

// A connection failed or was lost: wait, then try again.
void Client::Impl::failed() {
  const bool was_connected = up;
  tear_down();
  if (!was_connected) ++stats.connect_failures;
  if (!running) return;
  const auto wait = backoff.next();
  retry.expires_after(wait);
  retry.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (ec || !self->running) return;
    self->connect();
  });
}

void Client::Impl::lost(int rc) {
  if (up) {
    say(true, std::string("fleet: lost the broker: ") +
                  (rc == MOSQ_ERR_KEEPALIVE ? "no answer to keep-alive" : mosquitto_strerror(rc)) +
                  "; events wait in the store");
  }
  failed();
}

void Client::Impl::wait_read() {
  if (!mosq || reading) return;
  reading = true;
  socket.async_wait(asio::posix::stream_descriptor::wait_read,
                    [self = shared_from_this(), gen = generation](boost::system::error_code ec) {
                      if (gen != self->generation) return;
                      self->reading = false;
                      if (ec) return;
                      self->read_now();
                    });
}

// Reads what has come. asio's epoll reactor is edge-triggered, and mosquitto_loop_read may
// stop after one packet (it looks at a stale errno): bytes left in the socket would never be
// reported again, and the PUBACKs in them never read. So read until the socket is empty, and
// go on in a posted handler (not a wait) while it is not. (Bytes TLS has decrypted and kept
// are not seen here: once a second on_tick reads too.)
void Client::Impl::read_now() {
  for (int round = 0; round < 32; ++round) {
    const int rc = mosquitto_loop_read(mosq, 100);
    if (rc != MOSQ_ERR_SUCCESS) return lost(rc);
    boost::system::error_code ec;
    asio::posix::stream_descriptor::bytes_readable waiting;
    socket.io_control(waiting, ec);
    if (ec || waiting.get() == 0) {
      after_io();
      return wait_read();
    }
  }
  after_io();
  asio::post(io, [self = shared_from_this(), gen = generation] {
    if (gen == self->generation && self->mosq) self->read_now();
  });
}

void Client::Impl::wait_write() {
  if (!mosq || writing || !mosquitto_want_write(mosq)) return;
  writing = true;
  socket.async_wait(
      asio::posix::stream_descriptor::wait_write,
      [self = shared_from_this(), gen = generation](boost::system::error_code ec) {
        if (gen != self->generation) return;
        self->writing = false;
        if (ec) return;
        const int rc = mosquitto_loop_write(self->mosq, 100);
        if (rc != MOSQ_ERR_SUCCESS) return self->lost(rc);
        if (self->up) return self->wait_write();
        // Connecting over TLS, the library wants to write but waits for the
        // handshake (which moves on reads): look again shortly, not in a spin.
        self->write_later.expires_after(5ms);
        self->write_later.async_wait([self, gen](const boost::system::error_code& ec) {
          if (!ec && gen == self->generation) self->wait_write();
        });
      });
}

// After callbacks ran inside mosquitto_loop_read: what they queued goes out.
void Client::Impl::after_io() {
  if (outbox) outbox->save_pending();
  if (connected && inflight.size() < options.max_inflight / 2 + 1) pump();
  wait_write();
}

// Once a second: keep-alive, connect timeout, status.
void Client::Impl::tick() {
  misc.expires_after(1s);
  misc.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (ec || !self->running) return;
    self->on_tick();
    self->tick();
  });
}

void Client::Impl::on_tick() {
  if (!mosq) return;
  if (!connected && SteadyClock::now() - connect_started > options.connect_timeout) {
    say(true, "fleet: no answer from the broker " + options.host + ":" +
                  std::to_string(options.port) + " within " +
                  std::to_string(options.connect_timeout.count()) + " ms");
    failed();
    return;
  }
  if (up) {
    const int rc = mosquitto_loop_read(mosq, 100);  // see read_now()
    if (rc != MOSQ_ERR_SUCCESS) return lost(rc);
    after_io();
  }
  const int rc = mosquitto_loop_misc(mosq);
  if (rc != MOSQ_ERR_SUCCESS && rc != MOSQ_ERR_NO_CONN) return lost(rc);
  // The broker stopped answering pings: the library closed the connection.
  if (up && mosquitto_socket(mosq) < 0) return lost(MOSQ_ERR_KEEPALIVE);
  route_data_tick();
  if (connected) check_status(false);
  if (outbox) outbox->save_pending();
  wait_write();
}

void Client::Impl::on_connect(int rc) {
  if (rc != 0) {
    say(true,
        std::string("fleet: the broker refused the connection: ") + mosquitto_connack_string(rc));
    return;  // mosquitto_loop_read returns an error next: failed() waits and tries again
  }
  connected = up = true;
  backoff.reset();
  ++stats.connects;
  say(false, "fleet: connected to " + options.host + ":" + std::to_string(options.port) + " as " +
                 options.vehicle);
  // Its own requests and the fleet's always; its route's from the status on (check_status).
  mosquitto_subscribe(mosq, nullptr, topics.requests.c_str(), 1);
  mosquitto_subscribe(mosq, nullptr, topics.fleet_requests.c_str(), 1);
  mosquitto_subscribe(mosq, &commands_mid, topics.bundle_chunk.c_str(), 1);
  if (receiver) receiver->forget_asked();
  ask_chunks();
  check_status(true);
  if (outbox) queued_up_to = outbox->mark();
  pump();
  schedule_pump();
}

// --- status

StatusRecord Client::Impl::current_status() {
  StatusRecord s = status_source ? status_source() : StatusRecord{};
  s.vehicle = options.vehicle;
  s.online = true;
  s.software = options.software;
  const tracking::Time now = clock ? clock() : tracking::Time{};
  s.time = tracking::format_time(now);
  if (receiver) s.route_data = receiver->status();
  if (outbox) {
    try {
      s.faults = outbox->faults_since(tracking::format_time(now - std::chrono::minutes(10)));
    } catch (const std::exception&) {
      // The store is busy: the faults are told at the next status.
    }
  }
  return s;
}

void Client::Impl::check_status(bool force) {
  StatusRecord s = current_status();
  follow_route(s.route_id);
  const bool due = SteadyClock::now() - last_status_at >= options.status_interval;
  if (!force && !due && last_status && last_status->same_as(s)) return;
  publish_status(s);
}

void Client::Impl::publish_status(const StatusRecord& s) {
  const std::string payload = nlohmann::json(s).dump();
  const int rc = mosquitto_publish(mosq, nullptr, topics.status.c_str(),
                                   static_cast<int>(payload.size()), payload.data(), 1, true);
  if (rc != MOSQ_ERR_SUCCESS) return;
  last_status = s;
  last_status_at = SteadyClock::now();
  ++stats.statuses;
}

Client::Client(asio::io_context& io, Options options, std::string event_store, Clock clock,
               StatusSource status, RequestHandler requests, Log log)
    : impl_(std::make_shared<Impl>(io, std::move(options), std::move(event_store), std::move(clock),
                                   std::move(status), std::move(requests), std::move(log))) {}

Client::~Client() {
  stop();
}

void Client::set_command_hooks(CommandHooks hooks) {
  impl_->hooks = std::move(hooks);
}

void Client::set_bundle_hooks(BundleHooks hooks) {
  impl_->bundle_hooks = std::move(hooks);
}

void Client::trip_ended() {
  asio::post(impl_->io, [self = impl_] {
    if (self->running) self->install_between_trips(true);
  });
}

void Client::start() {
  impl_->start();
}

void Client::stop() {
  impl_->stop();
}

void Client::status_changed() {
  asio::post(impl_->io, [self = impl_] {
    if (self->running && self->connected) {
      self->check_status(false);
      self->wait_write();
    }
  });
}

ClientStats Client::stats() const {
  ClientStats s = impl_->stats;
  s.connected = impl_->connected;
  return s;
}

const Topics& Client::topics() const {
  return impl_->topics;
}

}  // namespace stopcall::daemon::fleet
