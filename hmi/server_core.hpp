// What the screens' connections share, private to hmi/: the config, the State, the broadcast
// sequence, the open screens and their places, and who may connect (the console token's
// throttle, the names the bus is reached by). Everything on the io_context's thread; no locks.
//
//   server.cpp        listening, accepting, publishing to every screen, stopping
//   admission.cpp     who may connect: the bus's names, places per kind, wrong console tokens
//   http_session.cpp  one TCP connection: the pages (static files), the WebSocket upgrade
//   ws_session.cpp    one screen's WebSocket: its bounded queue, sign-in, driver actions
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "hmi/auth_throttle.hpp"
#include "hmi/protocol.hpp"
#include "hmi/server.hpp"

namespace stopcall::hmi::detail {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

using Payload = std::shared_ptr<const std::string>;

inline Payload make_payload(std::string text) {
  return std::make_shared<const std::string>(std::move(text));
}

inline constexpr std::string_view kServerName = "stopcall-hmi";

class WsSession;
class HttpSession;

class ServerCore : public std::enable_shared_from_this<ServerCore> {
 public:
  ServerCore(asio::io_context& io, HmiConfig config)
      : io_(io), config_(std::move(config)), throttle_(config_.auth_throttle) {
    if (!config_.clock) config_.clock = [] { return std::chrono::system_clock::now(); };
  }

  asio::io_context& io() { return io_; }
  const HmiConfig& config() const { return config_; }
  HmiStats& stats() { return stats_; }
  const HmiStats& stats() const { return stats_; }
  const State& state() const { return state_; }
  bool running() const { return running_; }
  const HmiServer::ActionHandler& handler() const { return handler_; }
  void set_handler(HmiServer::ActionHandler handler) { handler_ = std::move(handler); }

  EpochMs now_ms() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(config_.clock().time_since_epoch())
        .count();
  }

  void log(LogLevel level, std::string_view text) const {
    if (config_.log) config_.log(level, text);
  }

  void start();
  void stop();
  std::vector<std::uint16_t> ports() const { return ports_; }

  void publish_state(State state) {
    state_ = std::move(state);
    broadcast(make_payload(encode_state(state_, ++seq_, now_ms())));
  }
  void publish(const Message& message) {
    apply(state_, message);
    broadcast(make_payload(encode_message(message, ++seq_, now_ms())));
  }
  // The whole state as a screen connecting now must see it. Encoded per connection so that its
  // server_time_ms is fresh (the pages estimate the clock offset from it).
  Payload state_for_new_client() const {
    return make_payload(encode_state(state_, seq_, now_ms()));
  }

  std::size_t client_count() const { return clients_.size(); }
  void add_client(const std::shared_ptr<WsSession>& session);
  void remove_client(WsSession* session) { clients_.erase(session); }
  // WebSocket connections by kind: passenger displays, signed-in consoles, consoles not yet
  // signed in. Each kind has its own places, so displays can never take the console's.
  struct Places {
    std::size_t passengers = 0;
    std::size_t drivers = 0;
    std::size_t pending = 0;
  };
  Places places() const;
  // Closes the oldest driver connection of that kind (signed in or not) except `keep`.
  void close_oldest_driver(bool authenticated, const WsSession* keep, const std::string& why);

  AuthThrottle& throttle() { return throttle_; }
  // A wrong console token from `peer`: logged, and shown on the console.
  void wrong_token(const std::string& peer, const std::string& source);
  // The Host of a WebSocket handshake, and its Origin when it has one (see HmiConfig).
  bool host_allowed(std::string_view host);
  bool origin_allowed(std::string_view origin);
  void add_http(const std::shared_ptr<HttpSession>& session);
  void remove_http(HttpSession* session) { http_sessions_.erase(session); }

 private:
  struct Acceptor {
    Acceptor(asio::io_context& io, Roles r) : acceptor(io), retry(io), roles(r) {}
    tcp::acceptor acceptor;
    asio::steady_timer retry;
    Roles roles;
    bool failing = false;  // said once per run of failures, not every 100 ms
  };

  void accept(Acceptor& acceptor);
  void broadcast(const Payload& payload);
  void collect_allowed_hosts();

  asio::io_context& io_;
  HmiConfig config_;
  HmiServer::ActionHandler handler_;
  State state_;
  std::uint64_t seq_ = 0;
  std::vector<std::unique_ptr<Acceptor>> acceptors_;
  std::vector<std::uint16_t> ports_;
  std::map<WsSession*, std::weak_ptr<WsSession>> clients_;
  std::map<HttpSession*, std::weak_ptr<HttpSession>> http_sessions_;
  bool running_ = false;
  bool stopped_ = false;  // pending accepts refer to acceptors_, so no second start()
  HmiStats stats_;
  AuthThrottle throttle_;
  std::set<std::string> allowed_hosts_;  // host_part() forms
  bool any_address_ = false;             // a listener on 0.0.0.0 or ::
  std::chrono::steady_clock::time_point hosts_collected_{};
  std::chrono::steady_clock::time_point last_guess_status_{};
};

}  // namespace stopcall::hmi::detail
