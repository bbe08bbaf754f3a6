// One screen's WebSocket (private to hmi/): the messages to it through a bounded queue, one write
// in flight; what it sends (sign-in, pings, driver actions) answered in order; closed when it
// stops reading, does not sign in in time as a console, or the server stops.
#pragma once

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <cstddef>
#include <deque>
#include <memory>
#include <string>
#include <string_view>

#include "hmi/protocol.hpp"
#include "hmi/server_core.hpp"

namespace stopcall::hmi::detail {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;

class WsSession : public std::enable_shared_from_this<WsSession> {
 public:
  WsSession(std::shared_ptr<ServerCore> core, beast::tcp_stream stream, Role role,
            bool authenticated, std::string peer, std::string source);
  ~WsSession();

  Role role() const { return role_; }
  bool authenticated() const { return authenticated_; }
  std::chrono::steady_clock::time_point since() const { return since_; }

  // Takes its place among the screens (counted from the handshake on), then answers it.
  void start(http::request<http::string_body> request);

  // Queues one message; drops this screen when its queue is full.
  void send(const Payload& payload);

  // Closes the connection at once: the screen stopped reading.
  void drop(const std::string& why);

  // Closes with a close frame saying why (or at once while a write is in flight, or before the
  // handshake is done).
  void close_with(websocket::close_reason reason, const std::string& why);

  // Server stopping: says "going away" and closes. A screen still behind with a write is closed
  // at once instead: its close handshake could hold the shutdown for the handshake timeout.
  void close();

 private:
  void on_accept(beast::error_code ec);
  // A console that has not signed in within the time is closed: anonymous sockets cannot hold
  // the console's places. (A sign-in still being checked is let finish.)
  void arm_sign_in_timeout(std::chrono::milliseconds after);
  void read();
  void on_read(beast::error_code ec, std::size_t bytes);
  void on_message();
  void on_auth(const ClientMessage& message, const Auth& auth);
  void check_token(const std::string& id, const std::string& type, const std::string& token);
  void refuse(std::string_view id, std::string_view type, const Reply& reply);
  void write_next();
  void on_write(beast::error_code ec, std::size_t);
  void unregister();

  std::shared_ptr<ServerCore> core_;
  websocket::stream<beast::tcp_stream> ws_;
  http::request<http::string_body> request_;
  Role role_;
  bool authenticated_;
  std::string peer_;
  beast::flat_buffer in_;
  std::size_t message_bytes_ = 0;
  bool oversized_ = false;
  std::deque<Payload> queue_;     // waiting, not including in_flight_
  Payload in_flight_;             // being written; kept alive until its write completes
  std::size_t queued_bytes_ = 0;  // queue_ and in_flight_
  bool open_ = false;             // accepted: receives messages
  bool registered_ = false;       // counted among the screens (from the handshake on)
  int failed_auths_ = 0;
  std::string source_;                // for the sign-in throttle (AuthThrottle::source_of)
  asio::steady_timer sign_in_timer_;  // a console not signed in within the time is closed
  asio::steady_timer check_timer_;    // a sign-in is answered when the throttle says
  bool checking_ = false;
  std::chrono::steady_clock::time_point since_;
};

}  // namespace stopcall::hmi::detail
