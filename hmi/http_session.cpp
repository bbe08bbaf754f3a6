#include "hmi/http_session.hpp"

#include <boost/beast/websocket.hpp>
#include <utility>

#include "hmi/admission.hpp"
#include "hmi/static_files.hpp"
#include "hmi/ws_session.hpp"

namespace stopcall::hmi::detail {

namespace websocket = beast::websocket;

namespace {

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

}  // namespace

HttpSession::HttpSession(std::shared_ptr<ServerCore> core, tcp::socket socket, Roles roles)
    : core_(std::move(core)), stream_(std::move(socket)), roles_(roles), check_timer_(core_->io()) {
  peer_ = endpoint_text(stream_.socket());
  source_ = AuthThrottle::source_of(address_text(stream_.socket()));
}

HttpSession::~HttpSession() = default;

void HttpSession::close() {
  closed_ = true;
  check_timer_.cancel();
  beast::error_code ec;
  stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
  stream_.close();
}

void HttpSession::read() {
  parser_.emplace();
  parser_->header_limit(8 * 1024);
  parser_->body_limit(4 * 1024);
  stream_.expires_after(core_->config().http_timeout);
  http::async_read(stream_, buffer_, *parser_,
                   beast::bind_front_handler(&HttpSession::on_read, shared_from_this()));
}

void HttpSession::on_read(beast::error_code ec, std::size_t) {
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

http::message_generator HttpSession::text_response(const http::request<http::string_body>& request,
                                                   http::status status, std::string_view text,
                                                   bool keep_alive) {
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

http::message_generator HttpSession::serve(const http::request<http::string_body>& request) {
  if (request.method() != http::verb::get && request.method() != http::verb::head) {
    http::response<http::string_body> response{http::status::method_not_allowed, request.version()};
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
    return text_response(request, http::status::upgrade_required, "/ws is the screens' WebSocket");
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

void HttpSession::respond(http::message_generator message) {
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

void HttpSession::refuse_upgrade(const http::request<http::string_body>& request,
                                 http::status status, std::string_view why) {
  core_->log(LogLevel::info, "hmi: WebSocket from " + peer_ + " refused (" +
                                 std::to_string(static_cast<int>(status)) +
                                 "): " + std::string(why));
  respond(text_response(request, status, why, /*keep_alive=*/false));
}

void HttpSession::upgrade(http::request<http::string_body> request) {
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

void HttpSession::finish_upgrade(http::request<http::string_body> request, Role role,
                                 bool authenticated) {
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

}  // namespace stopcall::hmi::detail
