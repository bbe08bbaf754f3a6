// HmiServer: Beast HTTP sessions for the pages, Beast WebSocket sessions for the screens.
//
// Shape (after Beast's advanced server and chat examples, plus the bound the chat example lacks):
//   acceptor per listener -> HttpSession per TCP connection (static files, keep-alive)
//                         -> on an Upgrade to /ws: WsSession (takes the TCP stream over)
// ServerCore holds what they share: the config, the State, the broadcast sequence and the set of
// open screens. Everything runs on the one io_context thread; no locks.
#include "hmi/server.hpp"

#include <ifaddrs.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <cstring>
#include <deque>
#include <exception>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <system_error>

#include "hmi/auth_throttle.hpp"
#include "hmi/static_files.hpp"

namespace stopcall::hmi {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

namespace detail {

using Payload = std::shared_ptr<const std::string>;

class WsSession;
class HttpSession;

namespace {

constexpr std::size_t kReadChunk = 4096;
constexpr int kMaxFailedAuths = 5;
// WebSocket close code (application range) for a console that did not sign in in time.
constexpr std::uint16_t kSignInTimeoutCode = 4401;
constexpr std::string_view kServerName = "stopcall-hmi";

Payload make_payload(std::string text) {
  return std::make_shared<const std::string>(std::move(text));
}

// Compares in time independent of where the first difference is.
bool token_matches(std::string_view expected, std::string_view given) {
  if (expected.empty()) return false;
  unsigned diff = expected.size() != given.size() ? 1u : 0u;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const char g = i < given.size() ? given[i] : '\0';
    diff |= static_cast<unsigned char>(expected[i] ^ g);
  }
  return diff == 0;
}

std::string endpoint_text(const tcp::socket& socket) {
  beast::error_code ec;
  auto endpoint = socket.remote_endpoint(ec);
  if (ec) return "?";
  return endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
}

std::string address_text(const tcp::socket& socket) {
  beast::error_code ec;
  auto endpoint = socket.remote_endpoint(ec);
  if (ec) return "?";
  return endpoint.address().to_string();
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The host of "host", "host:port", "[v6]" or "[v6]:port", lower case, without a trailing dot;
// an IP address in its usual text form. nullopt when it is none of these.
std::optional<std::string> host_part(std::string_view text) {
  std::string_view host = text;
  if (!host.empty() && host.front() == '[') {
    const auto close = host.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    const std::string_view rest = host.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') return std::nullopt;
    host = host.substr(1, close - 1);
  } else if (host.find(':') != std::string_view::npos) {
    if (host.find(':') != host.rfind(':')) return std::nullopt;  // a bare IPv6 address
    host = host.substr(0, host.find(':'));
  }
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);
  if (host.empty()) return std::nullopt;
  beast::error_code ec;
  const auto address = asio::ip::make_address(std::string(host), ec);
  if (!ec) return address.to_string();
  return lower(host);
}

// The value of `key` in a query string "a=1&b=2", percent-decoded; nullopt when absent.
std::optional<std::string> query_value(std::string_view query, std::string_view key) {
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    auto eq = pair.find('=');
    if (pair.substr(0, eq) == key) {
      std::string value;
      std::string_view raw =
          eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
      std::string plus_as_space(raw);
      std::replace(plus_as_space.begin(), plus_as_space.end(), '+', ' ');
      if (!percent_decode(plus_as_space, value)) return std::string{};
      return value;
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

}  // namespace

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

// One screen's WebSocket.
class WsSession : public std::enable_shared_from_this<WsSession> {
 public:
  WsSession(std::shared_ptr<ServerCore> core, beast::tcp_stream stream, Role role,
            bool authenticated, std::string peer, std::string source)
      : core_(std::move(core)),
        ws_(std::move(stream)),
        role_(role),
        authenticated_(authenticated),
        peer_(std::move(peer)),
        source_(std::move(source)),
        sign_in_timer_(core_->io()),
        check_timer_(core_->io()),
        since_(std::chrono::steady_clock::now()) {}

  Role role() const { return role_; }
  bool authenticated() const { return authenticated_; }
  std::chrono::steady_clock::time_point since() const { return since_; }

  // Takes its place among the screens (counted from the handshake on), then answers it.
  void start(http::request<http::string_body> request) {
    registered_ = true;
    core_->add_client(shared_from_this());
    request_ = std::move(request);
    const auto& config = core_->config();
    websocket::stream_base::timeout timeout{};
    timeout.handshake_timeout = config.http_timeout;
    timeout.idle_timeout = config.idle_timeout;
    timeout.keep_alive_pings = true;
    ws_.set_option(timeout);
    ws_.set_option(websocket::stream_base::decorator([](websocket::response_type& response) {
      response.set(http::field::server, kServerName);
    }));
    ws_.read_message_max(config.max_client_frame_total);
    ws_.async_accept(request_,
                     beast::bind_front_handler(&WsSession::on_accept, shared_from_this()));
  }

  // Queues one message; drops this screen when its queue is full.
  void send(const Payload& payload) {
    if (!open_) return;
    const auto& config = core_->config();
    const std::size_t messages = queue_.size() + (in_flight_ ? 1 : 0) + 1;
    const std::size_t bytes = queued_bytes_ + payload->size();
    if (messages > 1 && (messages > config.queue_max_messages || bytes > config.queue_max_bytes)) {
      drop("send queue full (" + std::to_string(messages - 1) + " messages, " +
           std::to_string(queued_bytes_) + " bytes waiting)");
      return;
    }
    queue_.push_back(payload);
    queued_bytes_ = bytes;
    auto& stats = core_->stats();
    stats.max_queue_bytes = std::max(stats.max_queue_bytes, queued_bytes_);
    stats.max_queue_messages = std::max(stats.max_queue_messages, messages);
    if (!in_flight_) write_next();
  }

  // Closes the connection at once: the screen stopped reading.
  void drop(const std::string& why) {
    if (!open_) return;
    ++core_->stats().dropped;
    core_->log(LogLevel::warning,
               "hmi: screen " + peer_ + " (" + std::string(to_string(role_)) + ") dropped: " + why);
    unregister();
    beast::get_lowest_layer(ws_).close();
  }

  // Closes with a close frame saying why (or at once while a write is in flight, or before the
  // handshake is done).
  void close_with(websocket::close_reason reason, const std::string& why) {
    if (!registered_) return;
    core_->log(LogLevel::info,
               "hmi: screen " + peer_ + " (" + std::string(to_string(role_)) + ") closed: " + why);
    const bool was_open = open_;
    unregister();
    if (!was_open || in_flight_) {
      beast::get_lowest_layer(ws_).close();
      return;
    }
    ws_.async_close(reason, [self = shared_from_this()](beast::error_code) {});
  }

  // Server stopping: says "going away" and closes. A screen still behind with a write is closed
  // at once instead: its close handshake could hold the shutdown for the handshake timeout.
  void close() {
    if (!registered_) return;
    if (!open_) {
      unregister();
      beast::get_lowest_layer(ws_).close();
      return;
    }
    unregister();
    if (in_flight_) {
      beast::get_lowest_layer(ws_).close();
      return;
    }
    ws_.async_close(websocket::close_code::going_away,
                    [self = shared_from_this()](beast::error_code) {});
  }

 private:
  void on_accept(beast::error_code ec) {
    if (ec) {
      core_->log(LogLevel::debug,
                 "hmi: WebSocket handshake with " + peer_ + " failed: " + ec.message());
      unregister();
      return;
    }
    if (!core_->running() || !registered_) return;
    open_ = true;
    core_->log(LogLevel::info, "hmi: screen " + peer_ + " connected as " +
                                   std::string(to_string(role_)) +
                                   (authenticated_ ? " (authenticated)" : ""));
    send(make_payload(encode_hello(role_, authenticated_, core_->now_ms())));
    send(core_->state_for_new_client());
    if (role_ == Role::driver && !authenticated_)
      arm_sign_in_timeout(core_->config().driver_auth_timeout);
    read();
  }

  // A console that has not signed in within the time is closed: anonymous sockets cannot hold
  // the console's places. (A sign-in still being checked is let finish.)
  void arm_sign_in_timeout(std::chrono::milliseconds after) {
    sign_in_timer_.expires_after(after);
    sign_in_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec || !self->open_ || self->authenticated_) return;
      if (self->checking_) {
        self->arm_sign_in_timeout(std::chrono::milliseconds(500));
        return;
      }
      self->close_with(websocket::close_reason(
                           static_cast<websocket::close_code>(kSignInTimeoutCode), "sign in first"),
                       "not signed in within " +
                           std::to_string(self->core_->config().driver_auth_timeout.count()) +
                           " ms");
    });
  }

  void read() {
    ws_.async_read_some(in_.prepare(kReadChunk),
                        beast::bind_front_handler(&WsSession::on_read, shared_from_this()));
  }

  void on_read(beast::error_code ec, std::size_t bytes) {
    if (ec) {
      if (open_) {
        core_->log(LogLevel::info, "hmi: screen " + peer_ + " disconnected: " + ec.message());
        unregister();
      }
      return;
    }
    if (!open_) return;
    in_.commit(bytes);
    message_bytes_ += bytes;
    // An oversized message is read to its end but not kept: memory stays bounded, the screen
    // gets its error reply, and the connection goes on.
    if (message_bytes_ > core_->config().max_client_message) {
      oversized_ = true;
      in_.consume(in_.size());
    }
    if (ws_.is_message_done()) {
      on_message();
      in_.consume(in_.size());
      message_bytes_ = 0;
      oversized_ = false;
    }
    // While a sign-in waits for the throttle, what the console sends after it waits too: each
    // message is handled (and answered) in the order it came.
    if (open_ && !checking_) read();
  }

  void on_message() {
    if (oversized_) {
      refuse({}, {},
             Reply::failure(Errc::too_large,
                            "messages are limited to " +
                                std::to_string(core_->config().max_client_message) + " bytes"));
      return;
    }
    if (!ws_.got_text()) {
      refuse({}, {}, Reply::failure(Errc::malformed, "binary frames are not part of the protocol"));
      return;
    }
    const auto data = in_.cdata();
    ClientMessage message =
        parse_client_message({static_cast<const char*>(data.data()), data.size()});
    if (!message.body) {
      refuse(message.id, message.type, message.error);
      return;
    }
    if (const auto* auth = std::get_if<Auth>(&*message.body)) {
      on_auth(message, *auth);
      return;
    }
    if (std::holds_alternative<Ping>(*message.body)) {
      send(make_payload(encode_reply(message.id, message.type, Reply::success(), core_->now_ms())));
      return;
    }
    const auto& action = std::get<Action>(*message.body);
    if (role_ != Role::driver) {
      refuse(message.id, message.type,
             Reply::failure(Errc::not_authorized, "this is a passenger display: it is read-only"));
      return;
    }
    if (!authenticated_) {
      refuse(message.id, message.type,
             Reply::failure(Errc::not_authorized, "send auth with the console token first"));
      return;
    }
    if (!core_->handler()) {
      refuse(message.id, message.type, Reply::failure(Errc::unavailable));
      return;
    }
    ++core_->stats().actions;
    Reply reply;
    try {
      // Copied: the handler may replace itself (on_driver_action) while it runs.
      auto handler = core_->handler();
      reply = handler(DriverAction{message.id, action});
    } catch (const std::exception& e) {
      core_->log(LogLevel::error, std::string("hmi: driver action handler threw: ") + e.what());
      reply = Reply::failure(Errc::rejected, "internal error");
    }
    if (!reply.ok()) ++core_->stats().refused;
    core_->log(LogLevel::info, "hmi: driver action " + std::string(action_name(action)) + " from " +
                                   peer_ + ": " + (reply.ok() ? "ok" : reply.error.message()));
    send(make_payload(encode_reply(message.id, message.type, reply, core_->now_ms())));
  }

  void on_auth(const ClientMessage& message, const Auth& auth) {
    if (role_ != Role::driver) {
      refuse(
          message.id, message.type,
          Reply::failure(Errc::not_authorized,
                         "this is a passenger display; the console connects to /ws?role=driver"));
      return;
    }
    if (failed_auths_ >= kMaxFailedAuths) {
      refuse(message.id, message.type,
             Reply::failure(Errc::not_authorized, "too many wrong tokens; reconnect"));
      return;
    }
    if (checking_) {
      refuse(message.id, message.type,
             Reply::failure(Errc::not_authorized, "a sign-in is being checked; one at a time"));
      return;
    }
    // Answered after the throttle's delay, the same for a right and a wrong token.
    const auto at = core_->throttle().schedule(source_, std::chrono::steady_clock::now());
    if (!at) {
      refuse(message.id, message.type,
             Reply::failure(Errc::not_authorized,
                            "too many sign-in attempts from this address; wait a few seconds"));
      return;
    }
    checking_ = true;
    check_timer_.expires_at(*at);
    check_timer_.async_wait([self = shared_from_this(), id = message.id, type = message.type,
                             token = auth.token](beast::error_code ec) {
      self->checking_ = false;
      if (ec || !self->open_) return;
      self->check_token(id, type, token);
      if (self->open_) self->read();
    });
  }

  void check_token(const std::string& id, const std::string& type, const std::string& token) {
    if (!token_matches(core_->config().driver_token, token)) {
      ++failed_auths_;
      core_->wrong_token(peer_, source_);
      refuse(id, type, Reply::failure(Errc::not_authorized, "wrong token"));
      return;
    }
    core_->throttle().succeeded(source_);
    authenticated_ = true;
    sign_in_timer_.cancel();
    // One console more than there are places: the oldest one gives way (a stale tab).
    if (core_->places().drivers > core_->config().max_drivers) {
      core_->close_oldest_driver(true, this, "a newer console signed in");
    }
    send(make_payload(encode_reply(id, type, Reply::success(), core_->now_ms())));
  }

  void refuse(std::string_view id, std::string_view type, const Reply& reply) {
    ++core_->stats().refused;
    send(make_payload(encode_reply(id, type, reply, core_->now_ms())));
  }

  void write_next() {
    in_flight_ = std::move(queue_.front());
    queue_.pop_front();
    ws_.text(true);
    ws_.async_write(asio::buffer(*in_flight_),
                    beast::bind_front_handler(&WsSession::on_write, shared_from_this()));
  }

  void on_write(beast::error_code ec, std::size_t) {
    queued_bytes_ -= in_flight_->size();
    in_flight_.reset();  // the buffer Beast wrote from is released only now
    if (ec) {
      if (open_) {
        core_->log(LogLevel::info, "hmi: writing to screen " + peer_ + " failed: " + ec.message());
        unregister();
        beast::get_lowest_layer(ws_).close();
      }
      return;
    }
    if (open_ && !queue_.empty()) write_next();
  }

  void unregister() {
    open_ = false;
    registered_ = false;
    sign_in_timer_.cancel();
    check_timer_.cancel();
    core_->remove_client(this);
    queue_.clear();  // what is not in flight is freed now
    queued_bytes_ = in_flight_ ? in_flight_->size() : 0;
  }

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

// One TCP connection before (or instead of) a WebSocket upgrade: static files, keep-alive.
class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(std::shared_ptr<ServerCore> core, tcp::socket socket, Roles roles)
      : core_(std::move(core)),
        stream_(std::move(socket)),
        roles_(roles),
        check_timer_(core_->io()) {
    peer_ = endpoint_text(stream_.socket());
    source_ = AuthThrottle::source_of(address_text(stream_.socket()));
  }

  void start() { read(); }

  void close() {
    closed_ = true;
    check_timer_.cancel();
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.close();
  }

 private:
  void read() {
    parser_.emplace();
    parser_->header_limit(8 * 1024);
    parser_->body_limit(4 * 1024);
    stream_.expires_after(core_->config().http_timeout);
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&HttpSession::on_read, shared_from_this()));
  }

  void on_read(beast::error_code ec, std::size_t) {
    if (closed_) return;
    if (ec) {
      if (ec != http::error::end_of_stream && ec != beast::error::timeout &&
          ec != asio::error::operation_aborted) {
        core_->log(LogLevel::debug, "hmi: bad HTTP request from " + peer_ + ": " + ec.message());
      }
      beast::error_code ignored;
      stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
      core_->remove_http(this);
      return;
    }
    auto request = parser_->release();
    if (websocket::is_upgrade(request)) {
      upgrade(std::move(request));
      return;
    }
    respond(serve(request));
  }

  http::message_generator text_response(const http::request<http::string_body>& request,
                                        http::status status, std::string_view text,
                                        bool keep_alive = true) {
    http::response<http::string_body> response{status, request.version()};
    response.set(http::field::server, kServerName);
    response.set(http::field::content_type, "text/plain; charset=utf-8");
    response.set(http::field::cache_control, "no-store");
    response.set("X-Content-Type-Options", "nosniff");
    response.keep_alive(keep_alive && request.keep_alive());
    if (request.method() != http::verb::head) response.body() = std::string(text) + "\n";
    response.prepare_payload();
    return response;
  }

  http::message_generator serve(const http::request<http::string_body>& request) {
    if (request.method() != http::verb::get && request.method() != http::verb::head) {
      http::response<http::string_body> response{http::status::method_not_allowed,
                                                 request.version()};
      response.set(http::field::server, kServerName);
      response.set(http::field::allow, "GET, HEAD");
      response.set(http::field::content_type, "text/plain; charset=utf-8");
      response.keep_alive(request.keep_alive());
      response.body() = "GET or HEAD\n";
      response.prepare_payload();
      return response;
    }
    const std::string_view target = request.target();
    const std::string_view path = target.substr(0, target.find('?'));
    if (path == "/ws") {
      return text_response(request, http::status::upgrade_required,
                           "/ws is the screens' WebSocket");
    }
    StaticFile file = resolve_static(core_->config().web_root, target);
    if (file.status != 200) {
      core_->log(LogLevel::debug, "hmi: " + std::to_string(file.status) + " for " + peer_ + " " +
                                      std::string(target.substr(0, 200)) + ": " + file.reason);
      return text_response(request, static_cast<http::status>(file.status),
                           file.status == 400 ? "bad request" : "not found");
    }
    beast::error_code ec;
    http::file_body::value_type body;
    body.open(file.path.c_str(), beast::file_mode::scan, ec);
    if (ec) return text_response(request, http::status::not_found, "not found");
    const auto size = body.size();

    auto set_headers = [&](auto& response) {
      response.set(http::field::server, kServerName);
      response.set(http::field::content_type, file.content_type);
      // The bus's pages change with software updates only; revalidate rather than guess.
      response.set(http::field::cache_control, "no-cache");
      response.set("X-Content-Type-Options", "nosniff");
      response.set("Referrer-Policy", "no-referrer");
      if (file.content_type.starts_with("text/html")) {
        response.set("Content-Security-Policy",
                     "default-src 'self'; connect-src 'self'; img-src 'self' data:; "
                     "object-src 'none'; base-uri 'none'; frame-ancestors 'none'");
      }
      response.content_length(size);
      response.keep_alive(request.keep_alive());
    };
    if (request.method() == http::verb::head) {
      http::response<http::empty_body> response{http::status::ok, request.version()};
      set_headers(response);
      return response;
    }
    http::response<http::file_body> response{std::piecewise_construct,
                                             std::make_tuple(std::move(body)),
                                             std::make_tuple(http::status::ok, request.version())};
    set_headers(response);
    return response;
  }

  void respond(http::message_generator message) {
    const bool keep_alive = message.keep_alive();
    beast::async_write(stream_, std::move(message),
                       [self = shared_from_this(), keep_alive](beast::error_code ec, std::size_t) {
                         if (self->closed_) return;
                         if (ec || !keep_alive) {
                           beast::error_code ignored;
                           self->stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
                           self->core_->remove_http(self.get());
                           return;
                         }
                         self->read();
                       });
  }

  void refuse_upgrade(const http::request<http::string_body>& request, http::status status,
                      std::string_view why) {
    core_->log(LogLevel::info, "hmi: WebSocket from " + peer_ + " refused (" +
                                   std::to_string(static_cast<int>(status)) +
                                   "): " + std::string(why));
    respond(text_response(request, status, why, /*keep_alive=*/false));
  }

  void upgrade(http::request<http::string_body> request) {
    const std::string_view target = request.target();
    const auto question = target.find('?');
    const std::string_view path = target.substr(0, question);
    const std::string_view query =
        question == std::string_view::npos ? std::string_view{} : target.substr(question + 1);
    if (path != "/ws") {
      refuse_upgrade(request, http::status::not_found, "the WebSocket is at /ws");
      return;
    }
    // Only under the bus's own names and addresses, and only from its own pages: a page from
    // elsewhere in a rider's browser must not drive the screens' socket, even when it makes its
    // name point at the bus (DNS rebinding: then its Origin and the Host are both its name).
    const std::string_view host = request[http::field::host];
    if (!core_->host_allowed(host)) {
      refuse_upgrade(request, http::status::forbidden,
                     "not a name of this bus: " + std::string(host.substr(0, 100)));
      return;
    }
    if (auto origin = request.find(http::field::origin); origin != request.end()) {
      if (!core_->origin_allowed(origin->value())) {
        refuse_upgrade(request, http::status::forbidden, "cross-origin WebSocket");
        return;
      }
    }
    Role role = roles_.passenger ? Role::passenger : Role::driver;
    if (auto wanted = query_value(query, "role")) {
      if (*wanted == "driver") {
        role = Role::driver;
      } else if (*wanted == "passenger") {
        role = Role::passenger;
      } else {
        refuse_upgrade(request, http::status::bad_request, "role is passenger or driver");
        return;
      }
    }
    if (!roles_.has(role)) {
      refuse_upgrade(request, http::status::forbidden,
                     "this address does not serve the " + std::string(to_string(role)) + " role");
      return;
    }
    if (auto token = query_value(query, "token"); token && role == Role::driver) {
      // Checked when the sign-in throttle says, like an `auth` message.
      const auto at = core_->throttle().schedule(source_, std::chrono::steady_clock::now());
      if (!at) {
        refuse_upgrade(request, http::status::too_many_requests,
                       "too many sign-in attempts from this address; wait a few seconds");
        return;
      }
      check_timer_.expires_at(*at);
      check_timer_.async_wait([self = shared_from_this(), request = std::move(request),
                               token = std::move(*token)](beast::error_code ec) mutable {
        if (ec || self->closed_) return;
        if (!token_matches(self->core_->config().driver_token, token)) {
          self->core_->wrong_token(self->peer_, self->source_);
          self->refuse_upgrade(request, http::status::unauthorized, "wrong console token");
          return;
        }
        self->core_->throttle().succeeded(self->source_);
        self->finish_upgrade(std::move(request), Role::driver, true);
      });
      return;
    }
    finish_upgrade(std::move(request), role, false);
  }

  void finish_upgrade(http::request<http::string_body> request, Role role, bool authenticated) {
    const auto& config = core_->config();
    const auto places = core_->places();
    if (role == Role::passenger && places.passengers >= config.max_clients) {
      refuse_upgrade(request, http::status::service_unavailable, "too many screens");
      return;
    }
    // The console always gets in: the oldest connection of its kind gives way.
    if (role == Role::driver && authenticated && places.drivers >= config.max_drivers) {
      core_->close_oldest_driver(true, nullptr, "a newer console signed in");
    }
    if (role == Role::driver && !authenticated && places.pending >= config.max_pending_drivers) {
      core_->close_oldest_driver(false, nullptr, "more consoles connecting than places");
    }
    stream_.expires_never();  // the WebSocket keeps its own time
    core_->remove_http(this);
    auto session = std::make_shared<WsSession>(core_, std::move(stream_), role, authenticated,
                                               std::move(peer_), source_);
    session->start(std::move(request));
  }

  std::shared_ptr<ServerCore> core_;
  beast::tcp_stream stream_;
  Roles roles_;
  std::string peer_;
  std::string source_;
  asio::steady_timer check_timer_;  // a token in the query is checked when the throttle says
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  bool closed_ = false;
};

void ServerCore::add_client(const std::shared_ptr<WsSession>& session) {
  clients_[session.get()] = session;
  ++stats_.connections;
}

ServerCore::Places ServerCore::places() const {
  Places p;
  for (const auto& [raw, weak] : clients_) {
    if (raw->role() == Role::passenger) {
      ++p.passengers;
    } else if (raw->authenticated()) {
      ++p.drivers;
    } else {
      ++p.pending;
    }
  }
  return p;
}

void ServerCore::close_oldest_driver(bool authenticated, const WsSession* keep,
                                     const std::string& why) {
  std::shared_ptr<WsSession> oldest;
  for (const auto& [raw, weak] : clients_) {
    if (raw == keep || raw->role() != Role::driver || raw->authenticated() != authenticated) {
      continue;
    }
    auto session = weak.lock();
    if (session && (!oldest || session->since() < oldest->since())) oldest = std::move(session);
  }
  if (oldest) oldest->close_with(websocket::close_reason(websocket::close_code::policy_error), why);
}

void ServerCore::wrong_token(const std::string& peer, const std::string& source) {
  const auto now = std::chrono::steady_clock::now();
  throttle_.failed(source, now);
  const std::size_t recent = throttle_.recent_failures(now);
  log(LogLevel::warning,
      "hmi: wrong console token from " + peer + " (" + std::to_string(recent) + " in the last " +
          std::to_string(config_.auth_throttle.window.count() / 60) + " minutes)");
  // The console shows that someone is guessing (at most every few seconds: a guesser must not
  // make every screen busy with status lines).
  if (recent == 1 || now - last_guess_status_ >= std::chrono::seconds(5)) {
    last_guess_status_ = now;
    publish(Status{"console_login", Level::warning,
                   std::to_string(recent) + " wrong console token" + (recent == 1 ? "" : "s") +
                       " in the last " + std::to_string(config_.auth_throttle.window.count() / 60) +
                       " min, the last from " + source});
  }
}

bool ServerCore::host_allowed(std::string_view host) {
  auto h = host_part(host);
  if (!h) return false;
  if (allowed_hosts_.count(*h)) return true;
  // Listening on every interface, an address the machine did not have at start (the saloon
  // network came up later) is asked for: look at the interfaces again, at most every 5 s.
  beast::error_code ec;
  asio::ip::make_address(*h, ec);
  const auto now = std::chrono::steady_clock::now();
  if (ec || !any_address_ || now - hosts_collected_ < std::chrono::seconds(5)) return false;
  collect_allowed_hosts();
  return allowed_hosts_.count(*h) > 0;
}

bool ServerCore::origin_allowed(std::string_view origin) {
  std::string_view rest;
  if (origin.starts_with("http://")) {
    rest = origin.substr(7);
  } else if (origin.starts_with("https://")) {
    rest = origin.substr(8);
  } else {
    return false;  // "null" (a file or a sandboxed frame) and anything else
  }
  return host_allowed(rest.substr(0, rest.find('/')));
}

void ServerCore::collect_allowed_hosts() {
  hosts_collected_ = std::chrono::steady_clock::now();
  allowed_hosts_.clear();
  bool any_address = false;
  for (const Listener& listener : config_.listeners) {
    beast::error_code ec;
    const auto address = asio::ip::make_address(listener.address, ec);
    if (ec) continue;
    if (address.is_unspecified()) {
      any_address = true;
    } else {
      allowed_hosts_.insert(address.to_string());
    }
  }
  any_address_ = any_address;
  if (any_address) {
    // Listening on every interface: each address the machine has now.
    ifaddrs* list = nullptr;
    if (::getifaddrs(&list) == 0) {
      for (ifaddrs* i = list; i; i = i->ifa_next) {
        if (!i->ifa_addr) continue;
        if (i->ifa_addr->sa_family == AF_INET) {
          const auto* in = reinterpret_cast<const sockaddr_in*>(i->ifa_addr);
          asio::ip::address_v4::bytes_type bytes;
          std::memcpy(bytes.data(), &in->sin_addr, bytes.size());
          allowed_hosts_.insert(asio::ip::address_v4(bytes).to_string());
        } else if (i->ifa_addr->sa_family == AF_INET6) {
          const auto* in6 = reinterpret_cast<const sockaddr_in6*>(i->ifa_addr);
          asio::ip::address_v6::bytes_type bytes;
          std::memcpy(bytes.data(), &in6->sin6_addr, bytes.size());
          allowed_hosts_.insert(asio::ip::address_v6(bytes).to_string());
        }
      }
      ::freeifaddrs(list);
    }
  }
  if (!config_.allowed_hosts.empty()) {
    for (const auto& name : config_.allowed_hosts) {
      beast::error_code ec;
      const auto address = asio::ip::make_address(name, ec);  // "::1" has colons, not a port
      if (!ec) {
        allowed_hosts_.insert(address.to_string());
      } else if (auto h = host_part(name)) {
        allowed_hosts_.insert(*h);
      }
    }
    return;
  }
  allowed_hosts_.insert("localhost");
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) == 0 && name[0] != '\0') {
    allowed_hosts_.insert(lower(name));
    allowed_hosts_.insert(lower(name) + ".local");
  }
}

void ServerCore::add_http(const std::shared_ptr<HttpSession>& session) {
  http_sessions_[session.get()] = session;
}

void ServerCore::broadcast(const Payload& payload) {
  ++stats_.broadcasts;
  // A snapshot: send() may drop a screen, which removes it from clients_.
  std::vector<std::shared_ptr<WsSession>> targets;
  targets.reserve(clients_.size());
  for (const auto& [raw, weak] : clients_) {
    if (auto session = weak.lock()) targets.push_back(std::move(session));
  }
  for (const auto& session : targets)
    session->send(payload);
}

void ServerCore::start() {
  if (running_) return;
  if (stopped_) throw std::logic_error("hmi: a stopped HmiServer cannot be started again");
  std::vector<std::unique_ptr<Acceptor>> acceptors;
  std::vector<std::uint16_t> ports;
  for (const Listener& listener : config_.listeners) {
    auto acceptor = std::make_unique<Acceptor>(io_, listener.roles);
    beast::error_code ec;
    const auto address = asio::ip::make_address(listener.address, ec);
    if (ec) {
      throw std::system_error(ec, "hmi: listener address \"" + listener.address + "\"");
    }
    const tcp::endpoint endpoint{address, listener.port};
    const std::string where = listener.address + ":" + std::to_string(listener.port);
    acceptor->acceptor.open(endpoint.protocol(), ec);
    if (!ec) acceptor->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor->acceptor.bind(endpoint, ec);
    if (!ec) acceptor->acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) throw std::system_error(ec, "hmi: cannot listen on " + where);
    ports.push_back(acceptor->acceptor.local_endpoint().port());
    acceptors.push_back(std::move(acceptor));
  }
  acceptors_ = std::move(acceptors);
  ports_ = std::move(ports);
  collect_allowed_hosts();
  running_ = true;
  for (std::size_t i = 0; i < acceptors_.size(); ++i) {
    const auto& listener = config_.listeners[i];
    log(LogLevel::info, "hmi: listening on " + listener.address + ":" + std::to_string(ports_[i]) +
                            " for" + (listener.roles.passenger ? " passenger" : "") +
                            (listener.roles.driver ? " driver" : ""));
    accept(*acceptors_[i]);
  }
}

void ServerCore::accept(Acceptor& acceptor) {
  acceptor.acceptor.async_accept(
      [self = shared_from_this(), &acceptor](beast::error_code ec, tcp::socket socket) {
        if (!self->running_) return;
        if (ec) {
          // Out of descriptors and the like: try again shortly rather than spin.
          if (!acceptor.failing && self->config_.log) {
            self->log(LogLevel::warning,
                      "hmi: accept failed: " + ec.message() + "; retrying every 100 ms");
          }
          acceptor.failing = true;
          acceptor.retry.expires_after(std::chrono::milliseconds(100));
          acceptor.retry.async_wait([self, &acceptor](beast::error_code wait_ec) {
            if (!wait_ec && self->running_) self->accept(acceptor);
          });
          return;
        }
        if (acceptor.failing) self->log(LogLevel::info, "hmi: accepting connections again");
        acceptor.failing = false;
        beast::error_code ignored;
        socket.set_option(tcp::no_delay(true), ignored);  // subtitles are small and late is wrong
        if (self->config_.socket_send_buffer > 0) {
          socket.set_option(asio::socket_base::send_buffer_size(self->config_.socket_send_buffer),
                            ignored);
        }
        auto session = std::make_shared<HttpSession>(self, std::move(socket), acceptor.roles);
        self->add_http(session);
        session->start();
        self->accept(acceptor);
      });
}

void ServerCore::stop() {
  if (!running_) return;
  running_ = false;
  stopped_ = true;
  for (auto& acceptor : acceptors_) {
    beast::error_code ignored;
    acceptor->acceptor.close(ignored);
    acceptor->retry.cancel();
  }
  auto http_sessions = std::move(http_sessions_);
  http_sessions_.clear();
  for (auto& [raw, weak] : http_sessions) {
    if (auto session = weak.lock()) session->close();
  }
  std::vector<std::shared_ptr<WsSession>> clients;
  for (auto& [raw, weak] : clients_) {
    if (auto session = weak.lock()) clients.push_back(std::move(session));
  }
  for (auto& session : clients)
    session->close();
  clients_.clear();
  log(LogLevel::info, "hmi: stopped");
}

}  // namespace detail

HmiServer::HmiServer(asio::io_context& io, HmiConfig config)
    : core_(std::make_shared<detail::ServerCore>(io, std::move(config))) {}

HmiServer::~HmiServer() {
  core_->stop();
  core_->set_handler(nullptr);
}

void HmiServer::on_driver_action(ActionHandler handler) {
  core_->set_handler(std::move(handler));
}
void HmiServer::start() {
  core_->start();
}
void HmiServer::stop() {
  core_->stop();
}
std::vector<std::uint16_t> HmiServer::ports() const {
  return core_->ports();
}
void HmiServer::publish_state(State state) {
  core_->publish_state(std::move(state));
}
void HmiServer::publish(const Message& message) {
  core_->publish(message);
}
const State& HmiServer::state() const {
  return core_->state();
}
int HmiServer::client_count() const {
  return static_cast<int>(core_->client_count());
}

HmiStats HmiServer::stats() const {
  HmiStats stats = core_->stats();
  stats.clients = core_->client_count();
  return stats;
}

}  // namespace stopcall::hmi
