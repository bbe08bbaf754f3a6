// HmiServer: Beast HTTP sessions for the pages, Beast WebSocket sessions for the screens.
//
// Shape (after Beast's advanced server and chat examples, plus the bound the chat example lacks):
//   acceptor per listener -> HttpSession per TCP connection (static files, keep-alive)
//                         -> on an Upgrade to /ws: WsSession (takes the TCP stream over)
// ServerCore holds what they share: the config, the State, the broadcast sequence and the set of
// open screens. Everything runs on the one io_context thread; no locks.
#include "hmi/server.hpp"

#include <algorithm>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <deque>
#include <exception>
#include <map>
#include <optional>
#include <stdexcept>
#include <system_error>

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
  ServerCore(asio::io_context& io, HmiConfig config) : io_(io), config_(std::move(config)) {
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
};

// One screen's WebSocket.
class WsSession : public std::enable_shared_from_this<WsSession> {
 public:
  WsSession(std::shared_ptr<ServerCore> core, beast::tcp_stream stream, Role role,
            bool authenticated, std::string peer)
      : core_(std::move(core)),
        ws_(std::move(stream)),
        role_(role),
        authenticated_(authenticated),
        peer_(std::move(peer)) {}

  void start(http::request<http::string_body> request) {
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

  // Server stopping: says "going away" and closes. A screen still behind with a write is closed
  // at once instead: its close handshake could hold the shutdown for the handshake timeout.
  void close() {
    if (!open_) return;
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
      return;
    }
    if (!core_->running()) return;
    open_ = true;
    core_->add_client(shared_from_this());
    core_->log(LogLevel::info, "hmi: screen " + peer_ + " connected as " +
                                   std::string(to_string(role_)) +
                                   (authenticated_ ? " (authenticated)" : ""));
    send(make_payload(encode_hello(role_, authenticated_, core_->now_ms())));
    send(core_->state_for_new_client());
    read();
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
    if (open_) read();
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
    if (!token_matches(core_->config().driver_token, auth.token)) {
      ++failed_auths_;
      core_->log(LogLevel::warning, "hmi: wrong console token from " + peer_);
      refuse(message.id, message.type, Reply::failure(Errc::not_authorized, "wrong token"));
      return;
    }
    authenticated_ = true;
    send(make_payload(encode_reply(message.id, message.type, Reply::success(), core_->now_ms())));
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
  bool open_ = false;             // accepted and registered with the core
  int failed_auths_ = 0;
};

// One TCP connection before (or instead of) a WebSocket upgrade: static files, keep-alive.
class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(std::shared_ptr<ServerCore> core, tcp::socket socket, Roles roles)
      : core_(std::move(core)), stream_(std::move(socket)), roles_(roles) {
    peer_ = endpoint_text(stream_.socket());
  }

  void start() { read(); }

  void close() {
    closed_ = true;
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
    // A page from another origin must not drive the screens' socket from a passenger's phone.
    if (auto origin = request.find(http::field::origin); origin != request.end()) {
      const std::string_view host = request[http::field::host];
      const std::string_view value = origin->value();
      if (host.empty() ||
          (value != "http://" + std::string(host) && value != "https://" + std::string(host))) {
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
    bool authenticated = false;
    if (auto token = query_value(query, "token"); token && role == Role::driver) {
      if (!token_matches(core_->config().driver_token, *token)) {
        refuse_upgrade(request, http::status::unauthorized, "wrong console token");
        return;
      }
      authenticated = true;
    }
    if (core_->client_count() >= core_->config().max_clients) {
      refuse_upgrade(request, http::status::service_unavailable, "too many screens");
      return;
    }
    stream_.expires_never();  // the WebSocket keeps its own time
    core_->remove_http(this);
    auto session = std::make_shared<WsSession>(core_, std::move(stream_), role, authenticated,
                                               std::move(peer_));
    session->start(std::move(request));
  }

  std::shared_ptr<ServerCore> core_;
  beast::tcp_stream stream_;
  Roles roles_;
  std::string peer_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  bool closed_ = false;
};

void ServerCore::add_client(const std::shared_ptr<WsSession>& session) {
  clients_[session.get()] = session;
  ++stats_.connections;
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
