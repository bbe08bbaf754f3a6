// HmiServer: Beast HTTP sessions for the pages, Beast WebSocket sessions for the screens.
//
// Shape (after Beast's advanced server and chat examples, plus the bound the chat example lacks):
//   acceptor per listener -> HttpSession per TCP connection (static files, keep-alive)
//                         -> on an Upgrade to /ws: WsSession (takes the TCP stream over)
// ServerCore (server_core.hpp) holds what they share: the config, the State, the broadcast
// sequence and the set of open screens. This file listens, accepts, publishes and stops.
// Everything runs on the one io_context thread; no locks.
#include "hmi/server.hpp"

#include <stdexcept>
#include <system_error>
#include <utility>

#include "hmi/http_session.hpp"
#include "hmi/server_core.hpp"
#include "hmi/ws_session.hpp"

namespace stopcall::hmi {

namespace detail {

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

HmiServer::HmiServer(boost::asio::io_context& io, HmiConfig config)
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
