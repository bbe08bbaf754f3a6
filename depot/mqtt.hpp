// The depot's MQTT connection: libmosquitto driven from the caller's thread (poll()), so every
// callback runs where the caller runs. The depot tools are plain programs, not an event loop.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

struct mosquitto;

namespace stopcall::depot {

struct BrokerOptions {
  std::string host = "127.0.0.1";
  int port = 1883;
  std::string user = "depot";
  std::string password;
  std::string ca_file;  // empty: no TLS
  std::string client_id;
  bool clean_session = true;
  int keepalive_s = 30;
};

// "HOST:PORT" into host and port; throws std::invalid_argument when malformed.
void parse_broker(std::string_view text, BrokerOptions& options);
// The first line of a password file, without the newline; throws std::runtime_error.
std::string read_password_file(const std::string& path);

class Link {
 public:
  using OnMessage = std::function<void(const std::string& topic, const std::string& payload)>;
  Link(BrokerOptions options, std::vector<std::string> subscriptions, OnMessage on_message);
  ~Link();
  Link(const Link&) = delete;
  Link& operator=(const Link&) = delete;

  // Starts a connection attempt; the outcome comes through poll(). False when it failed at once
  // (error() says why).
  bool connect();
  // Runs the connection for up to `timeout`: reads, writes, keep-alive, callbacks.
  void poll(std::chrono::milliseconds timeout);
  bool connected() const { return connected_; }
  // Set when the connection was lost or refused since the last connect().
  bool down() const { return down_; }
  const std::string& error() const { return error_; }
  // In OnMessage: whether the message came from the broker's store because we subscribed (a
  // retained one: what was true before), not as it was published.
  bool retained() const { return retained_; }

  // Publishes QoS 1; false when not connected.
  bool publish(const std::string& topic, std::string_view payload, bool retain = false);
  // Publishes and polls until the broker acknowledged it; false on timeout.
  bool publish_acked(const std::string& topic, std::string_view payload, bool retain,
                     std::chrono::milliseconds timeout);
  // connect() and poll until connected and subscribed, or refused, or the timeout.
  bool connect_and_wait(std::chrono::milliseconds timeout);
  void disconnect();

 private:
  BrokerOptions options_;
  std::vector<std::string> subscriptions_;
  OnMessage on_message_;
  mosquitto* mosq_ = nullptr;
  bool connected_ = false;
  bool down_ = false;
  bool retained_ = false;
  std::size_t subscribed_ = 0;
  long acked_ = 0;
  std::string error_;
};

}  // namespace stopcall::depot
