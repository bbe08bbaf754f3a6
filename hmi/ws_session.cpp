#include "hmi/ws_session.hpp"

#include <algorithm>
#include <exception>
#include <utility>

#include "hmi/admission.hpp"

namespace stopcall::hmi::detail {

namespace {

constexpr std::size_t kReadChunk = 4096;
constexpr int kMaxFailedAuths = 5;
// WebSocket close code (application range) for a console that did not sign in in time.
constexpr std::uint16_t kSignInTimeoutCode = 4401;

}  // namespace

WsSession::WsSession(std::shared_ptr<ServerCore> core, beast::tcp_stream stream, Role role,
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

WsSession::~WsSession() = default;

void WsSession::start(http::request<http::string_body> request) {
  registered_ = true;
  core_->add_client(shared_from_this());
  request_ = std::move(request);
  const auto& config = core_->config();
  websocket::stream_base::timeout timeout{};
  timeout.handshake_timeout = config.http_timeout;
  timeout.idle_timeout = config.idle_timeout;
  timeout.keep_alive_pings = true;
  ws_.set_option(timeout);
  ws_.set_option(websocket::stream_base::decorator(
      [](websocket::response_type& response) { response.set(http::field::server, kServerName); }));
  ws_.read_message_max(config.max_client_frame_total);
  ws_.async_accept(request_, beast::bind_front_handler(&WsSession::on_accept, shared_from_this()));
}

void WsSession::send(const Payload& payload) {
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

void WsSession::drop(const std::string& why) {
  if (!open_) return;
  ++core_->stats().dropped;
  core_->log(LogLevel::warning,
             "hmi: screen " + peer_ + " (" + std::string(to_string(role_)) + ") dropped: " + why);
  unregister();
  beast::get_lowest_layer(ws_).close();
}

void WsSession::close_with(websocket::close_reason reason, const std::string& why) {
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

void WsSession::close() {
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

void WsSession::on_accept(beast::error_code ec) {
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

void WsSession::arm_sign_in_timeout(std::chrono::milliseconds after) {
  sign_in_timer_.expires_after(after);
  sign_in_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
    if (ec || !self->open_ || self->authenticated_) return;
    if (self->checking_) {
      self->arm_sign_in_timeout(std::chrono::milliseconds(500));
      return;
    }
    self->close_with(websocket::close_reason(static_cast<websocket::close_code>(kSignInTimeoutCode),
                                             "sign in first"),
                     "not signed in within " +
                         std::to_string(self->core_->config().driver_auth_timeout.count()) + " ms");
  });
}

void WsSession::read() {
  ws_.async_read_some(in_.prepare(kReadChunk),
                      beast::bind_front_handler(&WsSession::on_read, shared_from_this()));
}

void WsSession::on_read(beast::error_code ec, std::size_t bytes) {
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

void WsSession::on_message() {
  if (oversized_) {
    refuse({}, {},
           Reply::failure(Errc::too_large, "messages are limited to " +
                                               std::to_string(core_->config().max_client_message) +
                                               " bytes"));
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

void WsSession::on_auth(const ClientMessage& message, const Auth& auth) {
  if (role_ != Role::driver) {
    refuse(message.id, message.type,
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

void WsSession::check_token(const std::string& id, const std::string& type,
                            const std::string& token) {
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

void WsSession::refuse(std::string_view id, std::string_view type, const Reply& reply) {
  ++core_->stats().refused;
  send(make_payload(encode_reply(id, type, reply, core_->now_ms())));
}

void WsSession::write_next() {
  in_flight_ = std::move(queue_.front());
  queue_.pop_front();
  ws_.text(true);
  ws_.async_write(asio::buffer(*in_flight_),
                  beast::bind_front_handler(&WsSession::on_write, shared_from_this()));
}

void WsSession::on_write(beast::error_code ec, std::size_t) {
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

void WsSession::unregister() {
  open_ = false;
  registered_ = false;
  sign_in_timer_.cancel();
  check_timer_.cancel();
  core_->remove_client(this);
  queue_.clear();  // what is not in flight is freed now
  queued_bytes_ = in_flight_ ? in_flight_->size() : 0;
}

}  // namespace stopcall::hmi::detail
