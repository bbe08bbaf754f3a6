// The displays hmi_bench connects to the daemon: readers that check every message they get, and
// one display that stalls (and is dropped, and comes back).
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "hmi/bench/options.hpp"

namespace stopcall::hmi::bench {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using json = nlohmann::json;

// What every display's messages are checked against.
struct Shared {
  std::atomic<std::uint64_t> latest_seq{0};  // the highest seq any reader has seen
};

// The order check of one display's stream: `state` first, then every seq one more than the last.
struct SeqCheck {
  std::optional<std::uint64_t> first_seq, last_seq;
  std::uint64_t gaps = 0;          // seqs skipped
  std::uint64_t out_of_order = 0;  // seqs not above the last one
  std::uint64_t malformed = 0;     // not JSON, or a seq before any state
  std::uint64_t messages = 0, hellos = 0, replies = 0, broadcasts = 0;
  std::map<std::string, std::uint64_t> types;  // broadcasts by type

  // Returns the message's seq when it is a broadcast (not the display's first state).
  std::optional<std::uint64_t> add(const json& j);
  bool in_order() const { return gaps == 0 && out_of_order == 0 && malformed == 0; }
};

// A display that reads everything, on the shared io_context.
class Reader : public std::enable_shared_from_this<Reader> {
 public:
  Reader(asio::io_context& io, Shared& shared) : ws_(io), shared_(shared) {}

  void connect(std::uint16_t port);
  void start() { read(); }
  void close_now() { beast::get_lowest_layer(ws_).close(); }

  SeqCheck check;
  std::vector<std::pair<std::uint64_t, std::size_t>> hashes;  // seq, hash of the bytes
  std::vector<double> latency_ms;  // receipt - server_time_ms, for broadcasts
  bool closed_by_server = false;   // a close frame ("going away")
  std::string end;                 // how the connection ended

 private:
  void read();
  void on_read(beast::error_code ec, std::size_t);

  websocket::stream<beast::tcp_stream> ws_;
  beast::flat_buffer buffer_;
  Shared& shared_;
};

// One time the stalled display was dropped.
struct Drop {
  double after_s = 0;             // from its handshake to the drop seen in /proc/net/tcp
  std::uint64_t readers_seq = 0;  // the readers' latest seq when the drop was seen
  int pings = 0;                  // protocol pings it sent (each gets a reply)
  long max_tx_queue = 0;          // most bytes the daemon's socket held for it
  std::uint64_t reached = 0;      // messages that had reached its socket (read after the drop)
  std::uint64_t state_seq = 0, last_seq = 0;  // of its `state` and of the last message reached
  bool prefix_in_order = false;
  bool close_frame = false;  // whether the stream ended with a close frame (it should not)
  bool partial_frame = false;
};

// What became of the stalled display.
struct StalledReport {
  std::vector<Drop> drops;
  int connections = 0;
  // At the end of the window, the connection it was on (not dropped yet).
  bool open_at_end = false;
  double open_at_end_s = 0;
  std::uint64_t open_at_end_published = 0;
  long open_at_end_tx_queue = 0;
  std::string error;

  // The most bytes the daemon's socket held for it, on any of its connections.
  long max_kernel_bytes() const;
};

// The display that stops reading: raw TCP with a small receive buffer, a hand-written handshake
// and frames, so nothing reads behind its back.
class Stalled {
 public:
  Stalled(std::uint16_t port, const Options& options, Shared& shared)
      : port_(port), options_(options), shared_(shared) {}
  ~Stalled() { stop(); }

  void start();
  void stop();

  StalledReport report;  // read after stop()

 private:
  void run();

  // A protocol ping in a masked text frame; false when the connection is gone.
  static bool send_ping(tcp::socket& socket, int& pings);

  // Reads what reached the socket before the drop (until the daemon's FIN, or 5 s of nothing)
  // and checks it is an in-order prefix of the stream.
  static void drain(tcp::socket& socket, std::string& data, Drop& drop);

  std::uint16_t port_;
  const Options& options_;
  Shared& shared_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// The 49 readers and the stalled display.
class Displays {
 public:
  Displays(std::uint16_t port, const Options& options);
  ~Displays();

  void stop_stalling() { stalled_.stop(); }

  // Waits for the daemon to have closed every reader; closes the rest after `timeout`.
  bool finish(std::chrono::milliseconds timeout);

  const std::vector<std::shared_ptr<Reader>>& readers() const { return readers_; }
  const Stalled& stalled() const { return stalled_; }

 private:
  asio::io_context io_;
  Shared shared_;
  std::vector<std::shared_ptr<Reader>> readers_;
  Stalled stalled_;
  std::thread thread_;
  std::atomic<bool> done_{false};
};

}  // namespace stopcall::hmi::bench
