// The fleet client's inside (client.hpp), shared by its parts: the connection and the status
// (client.cpp), the event upload from the sent-up-to mark (client_events.cpp), and the commands
// and route data that come in (client_commands.cpp). Everything runs on the daemon's io_context.
#pragma once

#include <mosquitto.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "daemon/fleet/backoff.hpp"
#include "daemon/fleet/client.hpp"
#include "daemon/fleet/outbox.hpp"
#include "daemon/fleet/route_data.hpp"

namespace stopcall::daemon::fleet {

struct Client::Impl : std::enable_shared_from_this<Impl> {
  using SteadyClock = std::chrono::steady_clock;

  Impl(boost::asio::io_context& io, Options o, std::string store, Clock c, StatusSource s,
       RequestHandler r, Log l);
  ~Impl() { tear_down(); }

  boost::asio::io_context& io;
  Options options;
  Topics topics;
  std::string event_store;
  Clock clock;
  StatusSource status_source;
  RequestHandler handler;
  Log log;
  CommandHooks hooks;
  BundleHooks bundle_hooks;
  std::unique_ptr<BundleReceiver> receiver;
  std::string password;
  std::unique_ptr<Inbox> inbox;
  std::string route;  // the route whose requests topic is subscribed (asked for) on this connection
  int route_mid = -1;
  int commands_mid = -1;  // the last of the subscriptions made on connecting

  mosquitto* mosq = nullptr;
  boost::asio::posix::stream_descriptor socket;
  boost::asio::steady_timer misc, retry, pump_timer, write_later;
  Backoff backoff;
  std::unique_ptr<Outbox> outbox;
  unsigned generation = 0;  // one per connection: handlers of an old one do nothing
  bool running = false, connected = false, up = false, reading = false, writing = false,
       pumping = false;
  SteadyClock::time_point connect_started{};

  // Events published and not yet acknowledged, in seq order.
  struct InFlight {
    std::int64_t seq = 0;
    bool acked = false;
  };
  std::deque<InFlight> inflight;
  std::map<int, std::int64_t> mid_seq;
  std::int64_t queued_up_to = 0;

  std::optional<StatusRecord> last_status;
  SteadyClock::time_point last_status_at{};
  ClientStats stats;

  void say(bool warning, const std::string& text) {
    if (log) log(warning, text);
  }
  tracking::Time bus_now() const { return clock ? clock() : tracking::Time{}; }

  // --- the connection (client.cpp)
  void start();
  void stop();
  void tear_down();
  void connect();
  void failed();
  void lost(int rc);
  void wait_read();
  void read_now();
  void wait_write();
  void after_io();
  void tick();
  void on_tick();
  void on_connect(int rc);

  // --- status (client.cpp)
  StatusRecord current_status();
  void check_status(bool force);
  void publish_status(const StatusRecord& s);

  // --- events (client_events.cpp)
  void schedule_pump();
  void pump();
  void on_puback(int mid);

  // --- requests (client_commands.cpp)
  tracking::Time system_now() const;
  void start_inbox();
  void follow_route(const std::string& now);
  void on_suback(int mid);
  std::optional<Audience> audience_of(std::string_view topic) const;
  void on_message(const mosquitto_message& m);

  // --- route data (client_commands.cpp)
  void start_receiver();
  void ask_chunks();
  void on_chunk(const mosquitto_message& m);
  void install_between_trips(bool at_terminus);
  void route_data_tick();
};

}  // namespace stopcall::daemon::fleet
