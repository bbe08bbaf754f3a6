// The bus's side of the fleet link (PROTOCOL.md): one MQTT connection to the depot's broker,
// driven on the daemon's io_context -- no thread of its own. libmosquitto does the protocol; its
// socket is watched by an asio stream_descriptor (mosquitto_loop_read / _write when it is ready,
// mosquitto_loop_misc once a second for keep-alives).
//
//   status    retained, QoS 1, on change and at least every `status_interval`; the last will
//             (retained) says offline.
//   events    every row of the event store, in order, QoS 1, from the sent-up-to mark on; the mark
//             advances only on PUBACK (outbox.hpp).
//   requests  signed commands in (inbox.hpp) on the bus's own topic, its route's (while it runs a
//             trip of that route) and the fleet's; a command the control centre signed goes on as
//             the control socket's `request` or `message` (same parser, same handler); each is
//             answered on requests/ack, and a fleet request's fate (shown, served, ...) is told
//             there too as its event line goes up.
//
// Offline is normal: the bus announces exactly as without the link. A lost or refused connection
// is tried again after a jittered exponential wait (backoff.hpp). Each connection is a new MQTT
// session (clean session): what was in flight and not acknowledged is sent again from the mark,
// so the depot may see an event twice after a lost connection (it keeps (vehicle, seq) once), but
// never misses one.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "daemon/fleet/inbox.hpp"
#include "daemon/fleet/protocol.hpp"
#include "daemon/log/records.hpp"
#include "daemon/tracking/fix.hpp"
#include "daemon/vehicle/control.hpp"

namespace boost::asio {
class io_context;
}

namespace stopcall::daemon::fleet {

// [fleet] in the configuration (daemon/stopcall.example.toml).
struct Options {
  std::string host = "localhost";
  int port = 1883;
  std::string vehicle;        // the bus's id: one topic level (valid_vehicle_id)
  std::string username;       // empty: the vehicle id
  std::string password_file;  // its first line is the password; empty: no password
  std::string ca_file;        // set: TLS, the broker's certificate checked against this CA
  std::string topic_prefix = "stopcall/v1";
  std::string software;  // stopcalld's version, for the status
  int keepalive_s = 30;
  std::chrono::milliseconds reconnect_min{1000};
  std::chrono::milliseconds reconnect_max{60000};
  std::chrono::milliseconds connect_timeout{10000};
  std::chrono::milliseconds status_interval{10000};
  std::chrono::milliseconds poll_interval{500};  // how often new event rows are looked for
  std::size_t max_inflight = 32;                 // events published and not yet acknowledged
  // The control centre's public key (routes/signing.hpp); empty: no fleet command is taken.
  std::string command_key;
  std::chrono::seconds command_max_age{300};  // a signed command older than this is stale
  // The public key route bundles from the depot must be signed with (PROTOCOL.md, "Route
  // data"); empty: route data offers are refused.
  std::string bundle_key;
};

struct ClientStats {
  bool connected = false;
  long connects = 0;           // connections accepted by the broker
  long connect_failures = 0;   // attempts that failed or were refused
  long events_published = 0;   // including those sent again after a lost connection
  long fates_published = 0;    // fleet requests' fates told on requests/ack (likewise)
  std::int64_t acked_seq = 0;  // the sent-up-to mark
  long statuses = 0;
  long requests = 0;          // requests received (accepted or refused)
  long commands_refused = 0;  // refused before reaching the bus (signature, address, age, ...)
  std::string route;          // the route whose topic the bus is subscribed to; empty: none
};

class Client {
 public:
  // The bus's state for the status (trip, next stop, GPS, bundle); the client fills in the
  // vehicle, software, faults and time.
  using StatusSource = std::function<StatusRecord()>;
  using RequestHandler = std::function<vehicle::Reply(const vehicle::Command&)>;
  using Clock = std::function<tracking::Time()>;
  using Log = std::function<void(bool warning, std::string_view text)>;

  // `event_store`: the bus's event store file (must exist: the daemon opens the store first);
  // empty: no events are sent (status and requests only).
  Client(boost::asio::io_context& io, Options options, std::string event_store, Clock clock,
         StatusSource status, RequestHandler requests, Log log);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // What signed commands need from the daemon; set before start().
  struct CommandHooks {
    Clock system_clock;  // the freshness check's clock; unset: std::chrono::system_clock
    std::function<void(const log::Record&)> record;  // fleet_command lines, the fault at start
    std::function<Nonces()> load_nonces;             // taken before a restart
    std::function<void(const Nonces&)> save_nonces;  // after each command taken
  };
  void set_command_hooks(CommandHooks hooks);

  // What route data needs from the daemon (route_data.hpp); set before start(). Without an
  // install directory, offers are refused.
  struct BundleHooks {
    std::string install_dir;  // the directory of the daemon's active.db
    std::string active;       // the running bundle's feed version
    std::function<bool()> trip_running;
    std::function<void()> installed;  // a new bundle is active: the daemon switches to it
  };
  void set_bundle_hooks(BundleHooks hooks);
  // A trip ended (at its terminus): a verified bundle is installed now.
  void trip_ended();

  // Throws std::runtime_error when the options cannot be used (a bad vehicle id, an unreadable
  // password, CA or command key file). Connecting happens in the background. Without a command
  // key a `no_command_key` fault is recorded: no command will be taken.
  void start();
  // Says offline (retained), disconnects, stops trying. Idempotent.
  void stop();
  // The bus's state changed: the status is looked at now, not at the next second.
  void status_changed();
  ClientStats stats() const;
  const Topics& topics() const;

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

// The jittered reconnect wait's seed for one vehicle: different buses, different waits.
std::uint64_t backoff_seed(std::string_view vehicle);

}  // namespace stopcall::daemon::fleet
