#include "depot/mqtt.hpp"

#include <mosquitto.h>

#include <cstring>
#include <fstream>
#include <stdexcept>
#include <thread>

namespace stopcall::depot {

void parse_broker(std::string_view text, BrokerOptions& options) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == text.size())
    throw std::invalid_argument("--broker is HOST:PORT, not \"" + std::string(text) + "\"");
  int port = 0;
  for (char c : text.substr(colon + 1)) {
    if (c < '0' || c > '9' || port > 65535)
      throw std::invalid_argument("--broker: bad port in \"" + std::string(text) + "\"");
    port = port * 10 + (c - '0');
  }
  if (port < 1 || port > 65535)
    throw std::invalid_argument("--broker: bad port in \"" + std::string(text) + "\"");
  options.host = std::string(text.substr(0, colon));
  options.port = port;
}

std::string read_password_file(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line) || line.empty())
    throw std::runtime_error(path + ": cannot read a password from its first line");
  if (line.back() == '\r') line.pop_back();
  return line;
}

Link::Link(BrokerOptions options, std::vector<std::string> subscriptions, OnMessage on_message)
    : options_(std::move(options)),
      subscriptions_(std::move(subscriptions)),
      on_message_(std::move(on_message)) {
  mosquitto_lib_init();
  mosq_ = mosquitto_new(options_.client_id.empty() ? nullptr : options_.client_id.c_str(),
                        options_.clean_session, this);
  if (!mosq_) throw std::runtime_error("cannot make an MQTT client");
  mosquitto_username_pw_set(mosq_, options_.user.c_str(), options_.password.c_str());
  if (!options_.ca_file.empty() &&
      mosquitto_tls_set(mosq_, options_.ca_file.c_str(), nullptr, nullptr, nullptr, nullptr) !=
          MOSQ_ERR_SUCCESS) {
    mosquitto_destroy(mosq_);
    throw std::runtime_error(options_.ca_file + ": cannot use it as the broker's CA");
  }
  mosquitto_connect_callback_set(mosq_, [](mosquitto* m, void* self, int rc) {
    auto* link = static_cast<Link*>(self);
    if (rc != 0) {
      link->error_ = std::string("refused: ") + mosquitto_connack_string(rc);
      link->down_ = true;
      return;
    }
    link->connected_ = true;
    link->subscribed_ = 0;
    for (const auto& topic : link->subscriptions_)
      mosquitto_subscribe(m, nullptr, topic.c_str(), 1);
  });
  mosquitto_disconnect_callback_set(mosq_, [](mosquitto*, void* self, int rc) {
    auto* link = static_cast<Link*>(self);
    link->connected_ = false;
    if (rc != 0) {
      link->down_ = true;
      if (link->error_.empty()) link->error_ = "connection lost";
    }
  });
  mosquitto_subscribe_callback_set(mosq_, [](mosquitto*, void* self, int, int, const int*) {
    ++static_cast<Link*>(self)->subscribed_;
  });
  mosquitto_publish_callback_set(
      mosq_, [](mosquitto*, void* self, int) { ++static_cast<Link*>(self)->acked_; });
  mosquitto_message_callback_set(mosq_, [](mosquitto*, void* self, const mosquitto_message* m) {
    auto* link = static_cast<Link*>(self);
    link->retained_ = m->retain;
    link->on_message_(m->topic, std::string(static_cast<const char*>(m->payload),
                                            static_cast<std::size_t>(m->payloadlen)));
  });
}

Link::~Link() {
  mosquitto_destroy(mosq_);
  mosquitto_lib_cleanup();
}

bool Link::connect() {
  down_ = false;
  connected_ = false;
  error_.clear();
  const int rc =
      mosquitto_connect(mosq_, options_.host.c_str(), options_.port, options_.keepalive_s);
  if (rc != MOSQ_ERR_SUCCESS) {
    error_ = rc == MOSQ_ERR_ERRNO ? std::string(strerror(errno)) : mosquitto_strerror(rc);
    down_ = true;
    return false;
  }
  return true;
}

void Link::poll(std::chrono::milliseconds timeout) {
  const int rc = mosquitto_loop(mosq_, static_cast<int>(timeout.count()), 1);
  if (rc == MOSQ_ERR_SUCCESS) return;
  if (connected_ || !down_) {
    connected_ = false;
    down_ = true;
    if (error_.empty())
      error_ = rc == MOSQ_ERR_ERRNO ? std::string(strerror(errno)) : mosquitto_strerror(rc);
  }
  std::this_thread::sleep_for(timeout);
}

bool Link::publish(const std::string& topic, std::string_view payload, bool retain) {
  if (!connected_) return false;
  return mosquitto_publish(mosq_, nullptr, topic.c_str(), static_cast<int>(payload.size()),
                           payload.data(), 1, retain) == MOSQ_ERR_SUCCESS;
}

bool Link::publish_acked(const std::string& topic, std::string_view payload, bool retain,
                         std::chrono::milliseconds timeout) {
  const long before = acked_;
  if (!publish(topic, payload, retain)) return false;
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (acked_ == before && connected_ && std::chrono::steady_clock::now() < until)
    poll(std::chrono::milliseconds(50));
  return acked_ > before;
}

bool Link::connect_and_wait(std::chrono::milliseconds timeout) {
  if (!connect()) return false;
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (!down_ && std::chrono::steady_clock::now() < until) {
    if (connected_ && subscribed_ >= subscriptions_.size()) return true;
    poll(std::chrono::milliseconds(50));
  }
  if (error_.empty()) error_ = "no answer from the broker";
  return false;
}

void Link::disconnect() {
  if (!connected_) return;
  mosquitto_disconnect(mosq_);
  for (int i = 0; i < 10 && connected_; ++i)
    poll(std::chrono::milliseconds(20));
  connected_ = false;
}

}  // namespace stopcall::depot
