// The screens' server: HTTP for the pages in the web root and a WebSocket at /ws per screen, on the
// daemon's io_context (Boost.Beast, compiled once in beast_impl.cpp; no Beast or Asio header is
// needed to include this one).
//
// The daemon owns the State and tells the server about it: publish_state() for a new whole state
// (trip login), publish() for each change (next stop, subtitle, prompt, status...). Each is encoded
// once and the same immutable bytes are queued to every screen; a screen that connects gets
// `hello` and the whole current state, then every change in order. Each screen has at most one
// write in flight and a bounded queue: a screen that stops reading is dropped when its queue is
// full (it reconnects and starts again from the whole state), so a stalled display never grows
// the daemon's memory.
//
// Driver actions (PROTOCOL.md) arrive only on driver connections - a listener that serves the
// driver role, /ws?role=driver, authenticated by the console token - and go to the ActionHandler;
// everything else a screen sends gets an error reply and changes nothing.
//
// Threading: every member function must be called on the io_context's thread (or before it runs),
// like everything else in the daemon.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "hmi/auth_throttle.hpp"
#include "hmi/protocol.hpp"

namespace boost::asio {
class io_context;
}

namespace stopcall::hmi {

namespace detail {
class ServerCore;  // server_core.hpp: the state the connections share
}

// The roles one listener serves.
struct Roles {
  bool passenger = true;
  bool driver = false;

  static Roles only(Role role) { return role == Role::driver ? Roles{false, true} : Roles{}; }
  static Roles both() { return {true, true}; }
  bool has(Role role) const { return role == Role::driver ? driver : passenger; }
};

// One address to listen on, e.g. the cab screen's interface for the driver and the saloon
// network's for the passenger displays.
struct Listener {
  std::string address = "127.0.0.1";  // an IP address (v4 or v6), not a host name
  std::uint16_t port = 0;             // 0: the system picks one (HmiServer::ports())
  Roles roles;
};

enum class LogLevel : std::uint8_t { debug, info, warning, error };

struct HmiConfig {
  std::vector<Listener> listeners;
  std::filesystem::path web_root;  // the pages (hmi/web)
  // The console's credential. Empty: no connection can authenticate, so every driver action is
  // refused (a bus without a console).
  std::string driver_token;

  // Places for WebSocket connections, each kind its own, so that displays can never take the
  // console's: passenger displays (one more gets 503), signed-in consoles (one more and the oldest
  // gives way: a stale tab), and consoles not yet signed in (one more and the oldest goes).
  std::size_t max_clients = 64;  // passenger displays
  std::size_t max_drivers = 4;
  std::size_t max_pending_drivers = 8;
  // A console (role=driver) that has not signed in within this is closed (close code 4401).
  std::chrono::milliseconds driver_auth_timeout{5000};
  // How fast the console token may be guessed (auth_throttle.hpp).
  AuthThrottleConfig auth_throttle;
  // The names the screens are reached by: a WebSocket handshake whose Host, or Origin, names
  // anything else is refused (a page elsewhere, or one that points its name at the bus). The
  // listeners' own addresses (every interface's for 0.0.0.0 or ::) always count. Empty: also
  // "localhost" and this machine's host name (with and without ".local").
  std::vector<std::string> allowed_hosts;
  std::size_t queue_max_messages = 64;        // per screen; one more and the screen is dropped
  std::size_t queue_max_bytes = 1 << 20;      // per screen, likewise (a lone message may exceed it)
  std::size_t max_client_message = 16 << 10;  // larger client messages get a too_large reply
  std::size_t max_client_frame_total = 1 << 20;  // beyond this a message closes the connection
  // SO_SNDBUF for every accepted connection: bounds the kernel's memory per screen as the queue
  // bounds ours. 0: the system's default (autotuned, up to megabytes).
  int socket_send_buffer = 0;
  // WebSocket: no data from a screen for half of this and it is pinged; for all of it and it is
  // closed (also bounds how long a stalled write can hold a connection).
  std::chrono::milliseconds idle_timeout{20'000};
  std::chrono::milliseconds http_timeout{15'000};  // one HTTP request, and the WebSocket handshake

  // The server's clock (server_time_ms, subtitle times). Unset: std::chrono::system_clock.
  std::function<std::chrono::system_clock::time_point()> clock;
  // Where connection events go (dropped screens, refused requests). Unset: nowhere.
  std::function<void(LogLevel, std::string_view)> log;
};

struct HmiStats {
  std::size_t clients = 0;             // WebSocket connections open now
  std::uint64_t connections = 0;       // WebSocket connections accepted in total
  std::uint64_t dropped = 0;           // closed because their queue was full
  std::uint64_t broadcasts = 0;        // messages published (state and changes)
  std::uint64_t actions = 0;           // driver actions passed to the handler
  std::uint64_t refused = 0;           // client messages answered with an error
  std::size_t max_queue_bytes = 0;     // the most bytes any one screen had queued
  std::size_t max_queue_messages = 0;  // the most messages any one screen had queued
};

class HmiServer {
 public:
  // Called on the io_context's thread for each authorised driver action; its Reply goes back to
  // the console. Unset: every action is answered `unavailable`.
  using ActionHandler = std::function<Reply(const DriverAction&)>;

  HmiServer(boost::asio::io_context& io, HmiConfig config);
  ~HmiServer();  // stop()s
  HmiServer(const HmiServer&) = delete;
  HmiServer& operator=(const HmiServer&) = delete;

  void on_driver_action(ActionHandler handler);

  // Binds and listens on every listener. Throws std::system_error when one cannot be bound (the
  // listeners bound before it are closed again). Once only: a stopped server stays stopped.
  void start();
  // Stops accepting, closes every connection (WebSockets with "going away"). Idempotent.
  void stop();

  // The bound port of each listener, in HmiConfig::listeners order (after start()).
  std::vector<std::uint16_t> ports() const;

  // Replaces the whole state and sends it to every screen.
  void publish_state(State state);
  // Folds a change into the state (see apply()) and sends it to every screen.
  void publish(const Message& message);
  const State& state() const;

  int client_count() const;
  HmiStats stats() const;

 private:
  // Shared with every connection's pending operations, so it outlives the ones still in flight.
  std::shared_ptr<detail::ServerCore> core_;
};

}  // namespace stopcall::hmi
