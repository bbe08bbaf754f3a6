// Test helpers for the screens' server: the server on its own io_context thread, and Beast
// clients (HTTP, WebSocket) with timeouts, all over real sockets on 127.0.0.1.
#pragma once

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <future>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>

#include "hmi/server.hpp"

namespace stopcall::hmi::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using json = nlohmann::json;
using namespace std::chrono_literals;

// The server, running on its own thread as in the daemon. Calls into it go through on_io().
class ServerThread {
 public:
  explicit ServerThread(HmiConfig config) : server_(std::make_unique<HmiServer>(io_, config)) {}
  ~ServerThread() { shutdown(); }

  void start() {
    server_->start();
    thread_ = std::thread([this] { io_.run(); });
  }

  // Runs `f` on the io_context's thread and returns its result.
  template <class F>
  auto on_io(F f) -> decltype(f()) {
    std::packaged_task<decltype(f())()> task(std::move(f));
    auto result = task.get_future();
    asio::post(io_, [&task] { task(); });
    return result.get();
  }

  HmiServer& server() { return *server_; }
  std::uint16_t port(std::size_t listener = 0) { return server_->ports().at(listener); }

  void shutdown() {
    if (!thread_.joinable()) return;
    on_io([this] { server_->stop(); });
    guard_.reset();
    io_.stop();
    thread_.join();
  }

 private:
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> guard_ = asio::make_work_guard(io_);
  std::unique_ptr<HmiServer> server_;
  std::thread thread_;
};

inline HmiConfig local_config(std::filesystem::path web_root, Roles roles = Roles::both()) {
  HmiConfig config;
  config.listeners.push_back({"127.0.0.1", 0, roles});
  config.web_root = std::move(web_root);
  config.driver_token = "s3cret-console-token";
  config.http_timeout = 3s;
  config.driver_auth_timeout = 30s;  // the tests that sign in late are not about that
  return config;
}

inline std::filesystem::path web_dir() {
  return std::filesystem::path(STOPCALL_SOURCE_DIR) / "hmi" / "web";
}

// One HTTP request on a fresh connection; the target is sent exactly as given.
inline http::response<http::string_body> http_request(std::uint16_t port, http::verb verb,
                                                      std::string target, std::string origin = {}) {
  asio::io_context ioc;
  beast::tcp_stream stream(ioc);
  stream.expires_after(5s);
  stream.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  http::request<http::empty_body> request{verb, target, 11};
  request.set(http::field::host, "127.0.0.1:" + std::to_string(port));
  if (!origin.empty()) request.set(http::field::origin, origin);
  http::write(stream, request);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  if (verb == http::verb::head) parser.skip(true);
  http::read(stream, buffer, parser);
  return parser.release();
}

// A WebSocket screen. Reads wait at most `timeout` and return nullopt on timeout or close.
class WsClient {
 public:
  explicit WsClient(std::uint16_t port, std::string target = "/ws") : ws_(ioc_) {
    beast::get_lowest_layer(ws_).expires_after(5s);
    beast::get_lowest_layer(ws_).connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    beast::get_lowest_layer(ws_).expires_never();
    ws_.handshake(response_, "127.0.0.1:" + std::to_string(port), target);
  }

  // Connects and returns the HTTP status of a refused handshake (or 101).
  static int handshake_status(std::uint16_t port, const std::string& target,
                              const std::string& origin = {}) {
    asio::io_context ioc;
    websocket::stream<beast::tcp_stream> ws(ioc);
    beast::get_lowest_layer(ws).expires_after(5s);
    beast::get_lowest_layer(ws).connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    if (!origin.empty()) {
      ws.set_option(websocket::stream_base::decorator([origin](websocket::request_type& request) {
        request.set(http::field::origin, origin);
      }));
    }
    websocket::response_type response;
    beast::error_code ec;
    ws.handshake(response, "127.0.0.1:" + std::to_string(port), target, ec);
    return static_cast<int>(response.result_int());
  }

  std::optional<std::string> read_text(std::chrono::milliseconds timeout = 5s) {
    beast::flat_buffer buffer;
    std::optional<beast::error_code> result;
    ws_.async_read(buffer, [&](beast::error_code ec, std::size_t) { result = ec; });
    ioc_.restart();
    ioc_.run_for(timeout);
    if (!result) {
      beast::get_lowest_layer(ws_).cancel();
      ioc_.restart();
      ioc_.run();
      return std::nullopt;
    }
    if (*result) return std::nullopt;
    return beast::buffers_to_string(buffer.data());
  }

  std::optional<json> read(std::chrono::milliseconds timeout = 5s) {
    auto text = read_text(timeout);
    if (!text) return std::nullopt;
    return json::parse(*text);
  }

  // Reads messages until one of `type` arrives (others are skipped).
  std::optional<json> read_type(const std::string& type, std::chrono::milliseconds timeout = 5s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      auto message = read(std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now()));
      if (!message) return std::nullopt;
      if ((*message)["type"] == type) return message;
    }
    return std::nullopt;
  }

  void send_text(const std::string& text) {
    ws_.text(true);
    ws_.write(asio::buffer(text));
  }
  void send_binary(const std::string& bytes) {
    ws_.binary(true);
    ws_.write(asio::buffer(bytes));
  }
  void send(const json& message) { send_text(message.dump()); }

  // Sends a request and returns its reply.
  std::optional<json> request(const json& message, std::chrono::milliseconds timeout = 5s) {
    send(message);
    return read_type("reply", timeout);
  }

 private:
  asio::io_context ioc_;
  websocket::stream<beast::tcp_stream> ws_;
  websocket::response_type response_;
};

}  // namespace stopcall::hmi::test
