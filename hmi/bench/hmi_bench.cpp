// hmi_bench: the screens under load, on the real daemon. Prints figures, never gates.
//
//   hmi_bench --daemon stopcalld --routes BUNDLE --gps TRACE [--speed 20] [--window 60] ...
//
// Runs `stopcalld replay --auto --realtime --speed S --http 127.0.0.1:PORT --audio "fakesink
// sync=true"` twice on the same trace: once with no screen connected, once with 50 WebSocket
// passenger displays connected from this process (49 that read everything, 1 stalled). Over the
// same window of each run (from --settle s after the daemon started, for --window s) it reads the
// daemon's CPU (utime + stime of /proc/PID/stat, as % of one core) and its memory (VmRSS every
// second, VmHWM; /proc/PID/status). This process's own CPU is not in the figure. The run without
// displays is stopped after its window; the one with displays goes on to the end of the trace
// (memory still sampled every second), so the trace should last the window and a little more.
//
// The readers check that they all get the same messages: every `seq` after the first `state`
// exactly one more than the one before, the same bytes for the same `seq` on every display, and
// each display's last `seq` the last one published (the trace ends, the daemon lingers, then
// closes every screen with "going away").
//
// The stalled display connects with a small SO_RCVBUF and never reads. By default it sends
// nothing either (a hung display); with --stalled-ping S it sends a protocol `ping` every S
// seconds as the pages do, which keeps the server's idle timeout from dropping it. A drop is seen
// from outside, in /proc/net/tcp: the daemon's end of that connection leaves ESTABLISHED (its send
// queue there is the kernel's share of the backlog). The display then reads what had reached its
// socket (a prefix of the stream, checked like the readers'), connects and stalls again, until a
// second before the trace ends.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace fs = std::filesystem;
using tcp = asio::ip::tcp;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

struct Options {
  std::string daemon;
  std::string routes;
  std::string gps;
  std::string web = STOPCALL_SOURCE_DIR "/hmi/web";
  std::string audio = "fakesink sync=true";
  std::string work;
  std::string figures;
  double speed = 20;
  double window_s = 60;
  double settle_s = 5;
  double linger_s = 3;
  int displays = 50;  // the stalled one included
  int stalled_rcvbuf = 4096;
  double stalled_ping_s = 0;
};

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

double mb(long kb) {
  return static_cast<double>(kb) * 1024 / 1e6;
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto i = static_cast<std::size_t>(std::ceil(p / 100 * static_cast<double>(v.size()))) - 1;
  return v[std::min(i, v.size() - 1)];
}

std::int64_t now_epoch_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// ---- the trace: how long the replay lasts ------------------------------------------------------

// Seconds of the ISO 8601 UTC time "2026-03-01T22:29:44.000Z" since the epoch.
std::optional<double> parse_utc(const std::string& text) {
  std::tm tm{};
  double seconds = 0;
  if (std::sscanf(text.c_str(), "%d-%d-%dT%d:%d:%lf", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &seconds) != 6) {
    return std::nullopt;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<double>(timegm(&tm)) + seconds;
}

// The time span of a gpsd JSON trace (first to last TPV with a time), in trace seconds.
double trace_span_s(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::optional<double> first, last;
  std::string line;
  while (std::getline(in, line)) {
    const auto j = json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("time") || !j["time"].is_string()) {
      continue;
    }
    if (auto t = parse_utc(j["time"].get<std::string>())) {
      if (!first) first = t;
      last = t;
    }
  }
  if (!first) {
    throw std::runtime_error(path +
                             ": no timed fix; --gps wants gpsd JSON lines (stopcall-scenario "
                             "generate --out-trace)");
  }
  return *last - *first;
}

// ---- the daemon process -------------------------------------------------------------------------

class Daemon {
 public:
  Daemon(const std::vector<std::string>& argv, const fs::path& log) {
    const int log_fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (log_fd < 0) throw std::runtime_error("cannot write " + log.string());
    std::vector<char*> args;
    for (const auto& a : argv)
      args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGTERM);  // no daemon left behind if the bench dies
      const int null = ::open("/dev/null", O_RDWR);
      ::dup2(null, 0);
      ::dup2(null, 1);
      ::dup2(log_fd, 2);
      ::execv(args[0], args.data());
      std::fprintf(stderr, "hmi_bench: cannot run %s: %s\n", args[0], std::strerror(errno));
      ::_exit(127);
    }
    ::close(log_fd);
    if (pid_ < 0) throw std::runtime_error("fork failed");
  }
  ~Daemon() { terminate(); }
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  pid_t pid() const { return pid_; }

  bool running() {
    if (exited_) return false;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      exited_ = true;
      status_ = status;
    }
    return !exited_;
  }

  // True when it exited by the deadline.
  bool wait_exit(Clock::time_point deadline) {
    while (running()) {
      if (Clock::now() >= deadline) return false;
      std::this_thread::sleep_for(50ms);
    }
    return true;
  }

  void terminate() {
    if (!running()) return;
    ::kill(pid_, SIGTERM);
    if (!wait_exit(Clock::now() + 5s)) {
      ::kill(pid_, SIGKILL);
      wait_exit(Clock::now() + 5s);
    }
  }

  std::string exit_text() const {
    if (!exited_) return "running";
    if (WIFEXITED(status_)) return "exit " + std::to_string(WEXITSTATUS(status_));
    if (WIFSIGNALED(status_)) return "signal " + std::to_string(WTERMSIG(status_));
    return "?";
  }
  bool exited_ok() const { return exited_ && WIFEXITED(status_) && WEXITSTATUS(status_) == 0; }

 private:
  pid_t pid_ = -1;
  bool exited_ = false;
  int status_ = 0;
};

// utime + stime of every thread of the process, in seconds.
std::optional<double> cpu_seconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto paren = text.rfind(')');
  if (paren == std::string::npos) return std::nullopt;
  std::istringstream fields(text.substr(paren + 2));
  std::string field;
  // Field 3 (state) comes first; utime and stime are fields 14 and 15.
  std::vector<std::string> all;
  while (fields >> field)
    all.push_back(field);
  if (all.size() < 13) return std::nullopt;
  const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  return (std::stod(all[11]) + std::stod(all[12])) / ticks;
}

struct Memory {
  long rss_kb = 0;
  long hwm_kb = 0;
};

std::optional<Memory> memory_of(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  if (!in) return std::nullopt;
  Memory m;
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with("VmRSS:")) m.rss_kb = std::stol(line.substr(6));
    if (line.starts_with("VmHWM:")) m.hwm_kb = std::stol(line.substr(6));
  }
  if (m.rss_kb == 0) return std::nullopt;
  return m;
}

double self_cpu_seconds() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  auto s = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return s(usage.ru_utime) + s(usage.ru_stime);
}

std::uint16_t free_port() {
  asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  return acceptor.local_endpoint().port();
}

tcp::endpoint local(std::uint16_t port) {
  return {asio::ip::make_address("127.0.0.1"), port};
}

// The daemon's end of a connection in /proc/net/tcp: its TCP state and send queue.
struct ServerSide {
  bool found = false;
  int state = 0;  // 1 ESTABLISHED, 4 FIN_WAIT1, ...
  long tx_queue = 0;
};

ServerSide server_side(std::uint16_t server_port, std::uint16_t client_port) {
  char local_key[32], remote_key[32];
  std::snprintf(local_key, sizeof local_key, "0100007F:%04X", server_port);
  std::snprintf(remote_key, sizeof remote_key, "0100007F:%04X", client_port);
  std::ifstream in("/proc/net/tcp");
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string slot, local_address, remote_address, state, queues;
    fields >> slot >> local_address >> remote_address >> state >> queues;
    if (local_address != local_key || remote_address != remote_key) continue;
    ServerSide side;
    side.found = true;
    side.state = std::stoi(state, nullptr, 16);
    side.tx_queue = std::stol(queues.substr(0, queues.find(':')), nullptr, 16);
    return side;
  }
  return {};
}

// ---- the displays -------------------------------------------------------------------------------

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
  std::optional<std::uint64_t> add(const json& j) {
    ++messages;
    if (!j.is_object()) {
      ++malformed;
      return std::nullopt;
    }
    const std::string type = j.value("type", "");
    const auto seq_field = j.find("seq");
    if (seq_field == j.end() || !seq_field->is_number_unsigned()) {
      if (type == "hello") ++hellos;
      if (type == "reply") ++replies;
      return std::nullopt;
    }
    const auto seq = seq_field->get<std::uint64_t>();
    if (!last_seq) {
      if (type != "state") ++malformed;
      first_seq = last_seq = seq;
      return std::nullopt;
    }
    if (seq == *last_seq + 1) {
      last_seq = seq;
    } else if (seq <= *last_seq) {
      ++out_of_order;
    } else {
      gaps += seq - *last_seq - 1;
      last_seq = seq;
    }
    ++broadcasts;
    ++types[type];
    return seq;
  }
  bool in_order() const { return gaps == 0 && out_of_order == 0 && malformed == 0; }
};

// A display that reads everything, on the shared io_context.
class Reader : public std::enable_shared_from_this<Reader> {
 public:
  Reader(asio::io_context& io, Shared& shared) : ws_(io), shared_(shared) {}

  void connect(std::uint16_t port) {
    beast::get_lowest_layer(ws_).connect(local(port));
    ws_.handshake("127.0.0.1:" + std::to_string(port), "/ws?role=passenger");
  }
  void start() { read(); }
  void close_now() { beast::get_lowest_layer(ws_).close(); }

  SeqCheck check;
  std::vector<std::pair<std::uint64_t, std::size_t>> hashes;  // seq, hash of the bytes
  std::vector<double> latency_ms;  // receipt - server_time_ms, for broadcasts
  bool closed_by_server = false;   // a close frame ("going away")
  std::string end;                 // how the connection ended

 private:
  void read() {
    ws_.async_read(buffer_, beast::bind_front_handler(&Reader::on_read, shared_from_this()));
  }

  void on_read(beast::error_code ec, std::size_t) {
    if (ec) {
      if (ec == websocket::error::closed) {
        closed_by_server = true;
        end = "close frame " + std::to_string(ws_.reason().code);
      } else {
        end = ec.message();
      }
      return;
    }
    const std::int64_t received_ms = now_epoch_ms();
    const std::string text = beast::buffers_to_string(buffer_.data());
    buffer_.consume(buffer_.size());
    const auto j = json::parse(text, nullptr, false);
    if (auto seq = check.add(j.is_discarded() ? json() : j)) {
      hashes.emplace_back(*seq, std::hash<std::string>{}(text));
      if (auto t = j.find("server_time_ms"); t != j.end() && t->is_number_integer()) {
        latency_ms.push_back(static_cast<double>(received_ms - t->get<std::int64_t>()));
      }
      auto latest = shared_.latest_seq.load();
      while (*seq > latest && !shared_.latest_seq.compare_exchange_weak(latest, *seq)) {
      }
    }
    read();
  }

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

// The display that stops reading: raw TCP with a small receive buffer, a hand-written handshake
// and frames, so nothing reads behind its back.
class Stalled {
 public:
  Stalled(std::uint16_t port, const Options& options, Shared& shared)
      : port_(port), options_(options), shared_(shared) {}
  ~Stalled() { stop(); }

  void start() {
    thread_ = std::thread([this] {
      try {
        run();
      } catch (const std::exception& e) {
        error = e.what();
      }
    });
  }
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }

  std::vector<Drop> drops;
  int connections = 0;
  // At the end of the window, the connection it was on (not dropped yet).
  bool open_at_end = false;
  double open_at_end_s = 0;
  std::uint64_t open_at_end_published = 0;
  long open_at_end_tx_queue = 0;
  std::string error;

 private:
  void run() {
    while (!stop_) {
      asio::io_context io;
      tcp::socket socket(io);
      socket.open(tcp::v4());
      socket.set_option(asio::socket_base::receive_buffer_size(options_.stalled_rcvbuf));
      socket.connect(local(port_));
      const std::string request =
          "GET /ws?role=passenger HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port_) +
          "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
      asio::write(socket, asio::buffer(request));
      std::string received;
      const auto header_end = asio::read_until(socket, asio::dynamic_buffer(received), "\r\n\r\n");
      if (received.compare(0, 12, "HTTP/1.1 101") != 0) {
        throw std::runtime_error("stalled display refused: " +
                                 received.substr(0, received.find("\r\n")));
      }
      received.erase(0, header_end);  // what read_until took beyond the headers: frames
      ++connections;
      const auto connected = Clock::now();
      const auto published_before = shared_.latest_seq.load();
      const std::uint16_t client_port = socket.local_endpoint().port();

      Drop drop;
      bool seen = false, dropped = false;
      auto next_ping = connected + std::chrono::duration_cast<Clock::duration>(
                                       std::chrono::duration<double>(options_.stalled_ping_s));
      while (!stop_) {
        const auto side = server_side(port_, client_port);
        if (side.found) seen = true;
        if (side.found && side.state == 1) {
          drop.max_tx_queue = std::max(drop.max_tx_queue, side.tx_queue);
        }
        if (seen && (!side.found || side.state != 1)) {
          dropped = true;
          break;
        }
        if (options_.stalled_ping_s > 0 && Clock::now() >= next_ping) {
          if (!send_ping(socket, drop.pings)) {
            dropped = true;
            break;
          }
          next_ping += std::chrono::duration_cast<Clock::duration>(
              std::chrono::duration<double>(options_.stalled_ping_s));
        }
        std::this_thread::sleep_for(100ms);
      }
      const auto published = shared_.latest_seq.load() - published_before;
      if (!dropped) {
        open_at_end = true;
        open_at_end_s = seconds_since(connected);
        open_at_end_published = published;
        open_at_end_tx_queue = drop.max_tx_queue;
        return;  // the socket closes with its unread data
      }
      drop.after_s = seconds_since(connected);
      drop.readers_seq = shared_.latest_seq.load();
      drain(socket, received, drop);
      drops.push_back(drop);
    }
  }

  // A protocol ping in a masked text frame; false when the connection is gone.
  static bool send_ping(tcp::socket& socket, int& pings) {
    const std::string payload =
        R"({"type":"ping","id":"stalled-)" + std::to_string(++pings) + R"("})";
    const unsigned char mask[4] = {0x12, 0x34, 0x56, 0x78};
    std::string frame;
    frame += static_cast<char>(0x81);
    frame += static_cast<char>(0x80 | payload.size());  // short: < 126 bytes
    frame.append(reinterpret_cast<const char*>(mask), 4);
    for (std::size_t i = 0; i < payload.size(); ++i)
      frame += static_cast<char>(payload[i] ^ static_cast<char>(mask[i % 4]));
    beast::error_code ec;
    asio::write(socket, asio::buffer(frame), ec);
    return !ec;
  }

  // Reads what reached the socket before the drop (until the daemon's FIN, or 5 s of nothing)
  // and checks it is an in-order prefix of the stream.
  static void drain(tcp::socket& socket, std::string& data, Drop& drop) {
    std::array<char, 65536> chunk;
    for (;;) {
      pollfd fd{socket.native_handle(), POLLIN, 0};
      if (::poll(&fd, 1, 5000) <= 0) break;
      beast::error_code ec;
      const auto n = socket.read_some(asio::buffer(chunk), ec);
      data.append(chunk.data(), n);
      if (ec) break;
    }
    SeqCheck check;
    std::string message;
    std::size_t at = 0;
    for (;;) {
      if (data.size() - at < 2) break;
      const auto b0 = static_cast<unsigned char>(data[at]);
      const auto b1 = static_cast<unsigned char>(data[at + 1]);
      std::size_t header = 2;
      std::uint64_t length = b1 & 0x7f;
      if (length == 126 || length == 127) {
        const std::size_t bytes = length == 126 ? 2 : 8;
        if (data.size() - at < 2 + bytes) break;
        length = 0;
        for (std::size_t i = 0; i < bytes; ++i)
          length = (length << 8) | static_cast<unsigned char>(data[at + 2 + i]);
        header += bytes;
      }
      if (data.size() - at < header + length) break;
      const int opcode = b0 & 0x0f;
      const std::string_view payload(data.data() + at + header, length);
      at += header + length;
      if (opcode == 8) {
        drop.close_frame = true;
        continue;
      }
      if (opcode != 1 && opcode != 0) continue;  // ping, pong
      message.append(payload);
      if (b0 & 0x80) {
        check.add(json::parse(message, nullptr, false));
        message.clear();
      }
    }
    drop.partial_frame = at < data.size();
    drop.reached = check.messages;
    drop.state_seq = check.first_seq.value_or(0);
    drop.last_seq = check.last_seq.value_or(0);
    drop.prefix_in_order = check.in_order();
  }

  std::uint16_t port_;
  const Options& options_;
  Shared& shared_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// The 49 readers and the stalled display.
class Displays {
 public:
  Displays(std::uint16_t port, const Options& options) : stalled_(port, options, shared_) {
    for (int i = 0; i + 1 < options.displays; ++i) {
      auto reader = std::make_shared<Reader>(io_, shared_);
      reader->connect(port);
      readers_.push_back(std::move(reader));
    }
    for (auto& reader : readers_)
      reader->start();
    thread_ = std::thread([this] {
      io_.run();
      done_ = true;
    });
    if (options.displays > 0) stalled_.start();
  }
  ~Displays() {
    stalled_.stop();
    asio::post(io_, [this] {
      for (auto& reader : readers_)
        reader->close_now();
    });
    if (thread_.joinable()) thread_.join();
  }

  void stop_stalling() { stalled_.stop(); }

  // Waits for the daemon to have closed every reader; closes the rest after `timeout`.
  bool finish(std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (!done_ && Clock::now() < deadline)
      std::this_thread::sleep_for(20ms);
    const bool all_closed = done_;
    asio::post(io_, [this] {
      for (auto& reader : readers_)
        reader->close_now();
    });
    thread_.join();
    return all_closed;
  }

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

// ---- one run of the daemon ----------------------------------------------------------------------

struct Phase {
  int displays = 0;
  double ready_s = 0;      // daemon start to its port accepting
  double connected_s = 0;  // daemon start to every display connected
  double window_s = 0;
  double cpu_s = 0;
  double cpu_pct = 0;
  double self_cpu_pct = 0;  // this process over the same window (not in the figure)
  Memory start, end;
  long peak_rss_kb = 0;  // the highest VmRSS sampled in the window
  // With displays, from the window's start to the end of the trace (the stalled display's time).
  double run_s = 0;
  long run_peak_rss_kb = 0;
  Memory run_end;
  std::string daemon_exit;
  std::string daemon_summary;  // its last log line ("replayed N fixes ...")

  // With displays:
  std::size_t readers = 0;
  std::uint64_t broadcasts = 0;  // seqs published while every reader was connected
  std::uint64_t first_seq = 0, last_seq = 0;
  std::uint64_t messages_min = 0, messages_max = 0;
  std::size_t readers_in_order = 0, readers_complete = 0, readers_closed_by_server = 0;
  std::uint64_t mismatches = 0;  // a seq with different bytes on two displays
  std::vector<double> latency_ms;
  std::map<std::string, std::uint64_t> types;  // what the first reader got, by type
  bool all_closed = false;
  std::vector<Drop> drops;
  int stalled_connections = 0;
  bool stalled_open_at_end = false;
  double stalled_open_s = 0;
  std::uint64_t stalled_open_published = 0;
  long stalled_open_tx_queue = 0;
  std::string stalled_error;

  bool readers_ok() const {
    return readers > 0 && readers_in_order == readers && readers_complete == readers &&
           mismatches == 0;
  }
};

std::string last_line(const fs::path& path) {
  std::ifstream in(path);
  std::string line, last;
  while (std::getline(in, line))
    if (!line.empty()) last = line;
  return last;
}

Phase run_phase(const Options& o, int displays, double replay_s, const fs::path& work) {
  Phase phase;
  phase.displays = displays;
  const std::uint16_t port = free_port();
  const std::string tag = std::to_string(displays);
  char speed[32], linger[32];
  std::snprintf(speed, sizeof speed, "%g", o.speed);
  std::snprintf(linger, sizeof linger, "%g", o.linger_s);
  std::vector<std::string> argv = {
      o.daemon, "replay",     "--routes",
      o.routes, "--gps",      o.gps,
      "--auto", "--realtime", "--speed",
      speed,    "--http",     "127.0.0.1:" + std::to_string(port),
      "--web",  o.web,        "--linger",
      linger,   "--events",   (work / ("events-" + tag + ".jsonl")).string()};
  if (!o.audio.empty()) {
    argv.push_back("--audio");
    argv.push_back(o.audio);
  }
  const fs::path log = work / ("stopcalld-" + tag + ".log");
  std::printf("\n-- %d display(s): stopcalld on 127.0.0.1:%u (log %s)\n", displays, port,
              log.c_str());
  std::fflush(stdout);

  Daemon daemon(argv, log);
  const auto spawned = Clock::now();
  auto fail = [&](const std::string& what) {
    daemon.terminate();
    throw std::runtime_error(what + " (daemon " + daemon.exit_text() + "; " + log.string() + ": " +
                             last_line(log) + ")");
  };
  // Ready when the port accepts.
  for (;;) {
    asio::io_context io;
    tcp::socket probe(io);
    beast::error_code ec;
    probe.connect(local(port), ec);
    if (!ec) break;
    if (!daemon.running()) fail("stopcalld exited before serving");
    if (seconds_since(spawned) > 30) fail("stopcalld did not listen within 30 s");
    std::this_thread::sleep_for(20ms);
  }
  phase.ready_s = seconds_since(spawned);

  std::unique_ptr<Displays> screens;
  if (displays > 0) {
    screens = std::make_unique<Displays>(port, o);
  }
  phase.connected_s = seconds_since(spawned);

  const auto settle =
      std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.settle_s));
  auto t0 = spawned + settle;
  if (Clock::now() > t0) {
    std::printf("   (connecting took %.1f s, more than --settle: the window starts later)\n",
                phase.connected_s);
    t0 = Clock::now();
  }
  std::this_thread::sleep_until(t0);
  const auto cpu0 = cpu_seconds(daemon.pid());
  const auto mem0 = memory_of(daemon.pid());
  const double self0 = self_cpu_seconds();
  if (!cpu0 || !mem0) fail("cannot read /proc of stopcalld");
  phase.start = *mem0;
  phase.peak_rss_kb = mem0->rss_kb;
  const int samples = static_cast<int>(std::ceil(o.window_s));
  const auto window =
      std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.window_s));
  for (int k = 1; k <= samples; ++k) {
    std::this_thread::sleep_until(std::min(t0 + std::chrono::seconds(k), t0 + window));
    const auto mem = memory_of(daemon.pid());
    if (!mem || !daemon.running()) fail("stopcalld ended inside the window: the trace is short");
    phase.peak_rss_kb = std::max(phase.peak_rss_kb, mem->rss_kb);
    phase.end = *mem;
  }
  const auto cpu1 = cpu_seconds(daemon.pid());
  const double self1 = self_cpu_seconds();
  phase.window_s = seconds_since(t0);
  if (!cpu1) fail("cannot read /proc of stopcalld");
  phase.cpu_s = *cpu1 - *cpu0;
  phase.cpu_pct = 100 * phase.cpu_s / phase.window_s;
  phase.self_cpu_pct = 100 * (self1 - self0) / phase.window_s;
  phase.run_peak_rss_kb = phase.peak_rss_kb;
  phase.run_end = phase.end;

  if (!screens) {
    // Nothing to check after the window: stop it rather than wait for the trace to end.
    daemon.terminate();
    phase.daemon_exit = "stopped after the window";
    return phase;
  }
  // The displays stay until the trace ends, the stalled one stalling (and dropped, and back) all
  // along; memory is sampled every second meanwhile. It stops stalling a second before the trace
  // ends, so that the daemon's closing of every screen is not taken for a drop.
  const auto stall_end = spawned + std::chrono::duration_cast<Clock::duration>(
                                       std::chrono::duration<double>(replay_s - 1));
  for (auto next = t0 + window + 1s; next < stall_end; next += 1s) {
    std::this_thread::sleep_until(next);
    const auto mem = memory_of(daemon.pid());
    if (!mem || !daemon.running()) fail("stopcalld ended before its trace did");
    phase.run_peak_rss_kb = std::max(phase.run_peak_rss_kb, mem->rss_kb);
    phase.run_end = *mem;
  }
  phase.run_s = seconds_since(t0);
  screens->stop_stalling();

  // The linger, then the daemon closes the screens and exits by itself.
  const auto deadline = spawned + std::chrono::duration_cast<Clock::duration>(
                                      std::chrono::duration<double>(replay_s + o.linger_s + 30));
  if (!daemon.wait_exit(deadline)) {
    std::printf("   (stopcalld still running 30 s after its trace and linger: stopped)\n");
    daemon.terminate();
  }
  phase.daemon_exit = daemon.exit_text();
  phase.daemon_summary = last_line(log);

  phase.all_closed = screens->finish(10s);
  const auto& stalled = screens->stalled();
  phase.drops = stalled.drops;
  phase.stalled_connections = stalled.connections;
  phase.stalled_open_at_end = stalled.open_at_end;
  phase.stalled_open_s = stalled.open_at_end_s;
  phase.stalled_open_published = stalled.open_at_end_published;
  phase.stalled_open_tx_queue = stalled.open_at_end_tx_queue;
  phase.stalled_error = stalled.error;

  // Every reader against the others: same bytes per seq, same last seq.
  const auto& readers = screens->readers();
  phase.readers = readers.size();
  std::unordered_map<std::uint64_t, std::size_t> reference;
  std::uint64_t first_max = 0, last_max = 0;
  phase.messages_min = UINT64_MAX;
  for (const auto& r : readers) {
    for (const auto& [seq, hash] : r->hashes) {
      auto [it, inserted] = reference.emplace(seq, hash);
      if (!inserted && it->second != hash) ++phase.mismatches;
    }
    if (r->check.first_seq) first_max = std::max(first_max, *r->check.first_seq);
    if (r->check.last_seq) last_max = std::max(last_max, *r->check.last_seq);
    phase.messages_min = std::min(phase.messages_min, r->check.messages);
    phase.messages_max = std::max(phase.messages_max, r->check.messages);
    phase.latency_ms.insert(phase.latency_ms.end(), r->latency_ms.begin(), r->latency_ms.end());
    if (r->check.in_order()) ++phase.readers_in_order;
    if (r->closed_by_server) ++phase.readers_closed_by_server;
  }
  for (const auto& r : readers) {
    if (r->check.last_seq == last_max && r->closed_by_server) ++phase.readers_complete;
  }
  if (readers.empty()) phase.messages_min = 0;
  if (!readers.empty()) phase.types = readers.front()->check.types;
  phase.first_seq = first_max;
  phase.last_seq = last_max;
  phase.broadcasts = last_max - first_max;
  for (const auto& r : readers) {
    if (!r->check.in_order() || r->check.last_seq != last_max || !r->closed_by_server) {
      std::printf(
          "   display: %llu messages, seq %llu..%llu, %llu skipped, %llu out of order, "
          "ended: %s\n",
          static_cast<unsigned long long>(r->check.messages),
          static_cast<unsigned long long>(r->check.first_seq.value_or(0)),
          static_cast<unsigned long long>(r->check.last_seq.value_or(0)),
          static_cast<unsigned long long>(r->check.gaps),
          static_cast<unsigned long long>(r->check.out_of_order), r->end.c_str());
    }
  }
  return phase;
}

std::string fixed(double v, int decimals) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", decimals, v);
  return text;
}

void print_row(const std::string& what, const std::string& idle, const std::string& busy) {
  std::printf("%-46s %-22s %s\n", what.c_str(), idle.c_str(), busy.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  ::signal(SIGPIPE, SIG_IGN);
  Options o;
  CLI::App app{"hmi_bench: the daemon's CPU and memory with 50 passenger displays connected"};
  app.add_option("--daemon", o.daemon, "stopcalld")->required()->check(CLI::ExistingFile);
  app.add_option("--routes", o.routes, "route bundle (the demo route)")
      ->required()
      ->check(CLI::ExistingFile);
  app.add_option("--gps", o.gps, "gpsd JSON trace (stopcall-scenario generate --out-trace)")
      ->required()
      ->check(CLI::ExistingFile);
  app.add_option("--speed", o.speed, "replay this many times faster than recorded")
      ->capture_default_str();
  app.add_option("--window", o.window_s, "seconds measured in each run")->capture_default_str();
  app.add_option("--settle", o.settle_s, "seconds from the daemon's start to the window")
      ->capture_default_str();
  app.add_option("--linger", o.linger_s, "stopcalld --linger")->capture_default_str();
  app.add_option("--displays", o.displays, "displays in the second run, the stalled one included")
      ->capture_default_str()
      ->check(CLI::Range(2, 64));
  app.add_option("--web", o.web, "stopcalld --web")->capture_default_str();
  app.add_option("--audio", o.audio, "stopcalld --audio (empty: no voice, no subtitles)")
      ->capture_default_str();
  app.add_option("--stalled-rcvbuf", o.stalled_rcvbuf, "the stalled display's SO_RCVBUF")
      ->capture_default_str();
  app.add_option("--stalled-ping", o.stalled_ping_s,
                 "seconds between the stalled display's pings (0: silent, the idle timeout "
                 "drops it)")
      ->capture_default_str();
  app.add_option("--work", o.work,
                 "folder for the daemon's logs and events (default: a temporary "
                 "one, removed)");
  app.add_option("--figures", o.figures, "also write the figures here, `key value` per line");
  CLI11_PARSE(app, argc, argv);

  fs::path work;
  bool remove_work = false;
  try {
    if (o.work.empty()) {
      std::string pattern = (fs::temp_directory_path() / "hmi_bench.XXXXXX").string();
      if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
      work = pattern;
      remove_work = true;
    } else {
      work = o.work;
      fs::create_directories(work);
    }
    const double span_s = trace_span_s(o.gps);
    const double replay_s = span_s / o.speed;
    std::printf(
        "hmi_bench: %s, %.0f s of trace at speed %g = %.0f s of replay; window %.0f s from "
        "%.0f s after start; %d displays (1 stalled, SO_RCVBUF %d, %s)\n",
        o.gps.c_str(), span_s, o.speed, replay_s, o.window_s, o.settle_s, o.displays,
        o.stalled_rcvbuf,
        o.stalled_ping_s > 0 ? ("ping every " + fixed(o.stalled_ping_s, 1) + " s").c_str()
                             : "silent");
    if (replay_s < o.settle_s + o.window_s + 2) {
      throw std::runtime_error(
          "the replay is shorter than --settle + --window: generate a longer "
          "trace (stopcall-scenario generate --follow-block --hours H)");
    }

    const Phase idle = run_phase(o, 0, replay_s, work);
    const Phase busy = run_phase(o, o.displays, replay_s, work);

    const std::string busy_title = std::to_string(busy.displays) + " displays (" +
                                   std::to_string(busy.readers) + " + 1 stalled)";
    std::printf(
        "\n== screens: stopcalld replay --speed %g; CPU window %.0f s from %.0f s after "
        "start in both runs\n",
        o.speed, o.window_s, o.settle_s);
    auto plus = [](double v, int decimals) {
      char text[64];
      std::snprintf(text, sizeof text, "%+.*f", decimals, v);
      return std::string(text);
    };
    auto rss = [](const Memory& start, long peak_kb, const Memory& end) {
      return fixed(mb(start.rss_kb), 1) + " / " + fixed(mb(peak_kb), 1) + " / " +
             fixed(mb(end.rss_kb), 1);
    };
    print_row("", "0 displays", busy_title);
    print_row("daemon CPU in the window, % of one core", fixed(idle.cpu_pct, 2) + " %",
              fixed(busy.cpu_pct, 2) + " %  (" + plus(busy.cpu_pct - idle.cpu_pct, 2) + ")");
    print_row("daemon CPU time in the window", fixed(idle.cpu_s, 2) + " s",
              fixed(busy.cpu_s, 2) + " s");
    print_row("RSS in the window: start / peak / end, MB",
              rss(idle.start, idle.peak_rss_kb, idle.end),
              rss(busy.start, busy.peak_rss_kb, busy.end));
    print_row("RSS to the trace's end (" + fixed(busy.run_s, 0) + " s), MB", "-",
              rss(busy.start, busy.run_peak_rss_kb, busy.run_end));
    print_row("RSS growth, peak - start, MB", fixed(mb(idle.peak_rss_kb - idle.start.rss_kb), 1),
              fixed(mb(busy.run_peak_rss_kb - busy.start.rss_kb), 1) + " (to the trace's end)");
    print_row("VmHWM (lifetime peak), MB", fixed(mb(idle.end.hwm_kb), 1),
              fixed(mb(busy.run_end.hwm_kb), 1));
    print_row("messages broadcast while all connected", "-",
              std::to_string(busy.broadcasts) + " (" +
                  fixed(static_cast<double>(busy.broadcasts) / replay_s, 2) + "/s; seq " +
                  std::to_string(busy.first_seq) + ".." + std::to_string(busy.last_seq) + ")");
    std::string by_type;
    for (const auto& [type, count] : busy.types)
      by_type += (by_type.empty() ? "" : ", ") + type + " " + std::to_string(count);
    print_row("  by type (first display)", "-", by_type);
    print_row("messages per reading display, min / max", "-",
              std::to_string(busy.messages_min) + " / " + std::to_string(busy.messages_max));
    print_row(
        "readers in order / complete / same bytes", "-",
        std::to_string(busy.readers_in_order) + " / " + std::to_string(busy.readers_complete) +
            " of " + std::to_string(busy.readers) + " / " +
            (busy.mismatches == 0 ? "yes" : std::to_string(busy.mismatches) + " seqs differ"));
    print_row("all readers got everything", "-", busy.readers_ok() ? "yes" : "NO");
    print_row("delivery latency p50 / p99 / max, ms", "-",
              fixed(percentile(busy.latency_ms, 50), 0) + " / " +
                  fixed(percentile(busy.latency_ms, 99), 0) + " / " +
                  fixed(percentile(busy.latency_ms, 100), 0));
    std::string stalled = busy.drops.empty() ? "no" : "yes";
    if (!busy.drops.empty()) {
      stalled += ", " + std::to_string(busy.drops.size()) + " time(s) in " +
                 std::to_string(busy.stalled_connections) + " connection(s), first after " +
                 fixed(busy.drops.front().after_s, 1) + " s";
    }
    print_row("stalled display dropped", "-", stalled);
    long held = busy.stalled_open_tx_queue;
    for (const auto& d : busy.drops)
      held = std::max(held, d.max_tx_queue);
    print_row("  most bytes its kernel send queue held", "-", std::to_string(held));
    print_row("bench process CPU in the window (not above)", fixed(idle.self_cpu_pct, 2) + " %",
              fixed(busy.self_cpu_pct, 2) + " %");
    print_row("daemon start to listening / all connected, s", fixed(idle.ready_s, 2),
              fixed(busy.ready_s, 2) + " / " + fixed(busy.connected_s, 2));
    print_row("daemon exit", idle.daemon_exit, busy.daemon_exit);
    std::printf("\nstopcalld, %d displays: %s\n", busy.displays, busy.daemon_summary.c_str());
    int i = 0;
    for (const auto& d : busy.drops) {
      std::printf(
          "stalled drop %d: %.1f s after connecting; %llu messages had reached its socket (%s%s%s: "
          "state at seq %llu, then up to seq %llu) when the readers were at seq %llu; the "
          "daemon's socket held up to %ld bytes for it\n",
          ++i, d.after_s, static_cast<unsigned long long>(d.reached),
          d.prefix_in_order ? "in order" : "NOT in order",
          d.close_frame ? ", close frame" : ", no close frame",
          d.partial_frame ? ", cut mid-frame" : "", static_cast<unsigned long long>(d.state_seq),
          static_cast<unsigned long long>(d.last_seq),
          static_cast<unsigned long long>(d.readers_seq), d.max_tx_queue);
    }
    if (busy.stalled_open_at_end) {
      std::printf(
          "stalled display when it stopped, before the trace's end: connected %.1f s, %llu "
          "broadcasts since, not dropped (the daemon's socket held up to %ld bytes for it)\n",
          busy.stalled_open_s, static_cast<unsigned long long>(busy.stalled_open_published),
          busy.stalled_open_tx_queue);
    }
    if (!busy.stalled_error.empty()) {
      std::printf("stalled display failed: %s\n", busy.stalled_error.c_str());
    }
    if (!busy.all_closed)
      std::printf("(some readers were still open 10 s after stopcalld ended)\n");

    if (!o.figures.empty()) {
      std::ofstream out(o.figures);
      auto put = [&](const std::string& key, const std::string& value) {
        out << key << ' ' << value << '\n';
      };
      put("speed", fixed(o.speed, 2));
      put("window_s", fixed(busy.window_s, 1));
      put("displays", std::to_string(busy.displays));
      put("readers", std::to_string(busy.readers));
      put("cpu_pct_0", fixed(idle.cpu_pct, 2));
      put("cpu_pct_n", fixed(busy.cpu_pct, 2));
      put("rss_start_mb_0", fixed(mb(idle.start.rss_kb), 1));
      put("rss_peak_mb_0", fixed(mb(idle.peak_rss_kb), 1));
      put("rss_end_mb_0", fixed(mb(idle.end.rss_kb), 1));
      put("rss_start_mb_n", fixed(mb(busy.start.rss_kb), 1));
      put("rss_peak_mb_n", fixed(mb(busy.peak_rss_kb), 1));
      put("rss_end_mb_n", fixed(mb(busy.end.rss_kb), 1));
      put("rss_run_s", fixed(busy.run_s, 0));
      put("rss_run_peak_mb_n", fixed(mb(busy.run_peak_rss_kb), 1));
      put("rss_run_end_mb_n", fixed(mb(busy.run_end.rss_kb), 1));
      put("rss_growth_mb_n", fixed(mb(busy.run_peak_rss_kb - busy.start.rss_kb), 1));
      put("broadcasts", std::to_string(busy.broadcasts));
      put("messages_min", std::to_string(busy.messages_min));
      put("messages_max", std::to_string(busy.messages_max));
      put("readers_ok", busy.readers_ok() ? "1" : "0");
      put("readers_complete", std::to_string(busy.readers_complete));
      put("stalled_drops", std::to_string(busy.drops.size()));
      put("stalled_connections", std::to_string(busy.stalled_connections));
      put("stalled_first_drop_s", busy.drops.empty() ? "-" : fixed(busy.drops.front().after_s, 1));
      long held = busy.stalled_open_tx_queue;
      for (const auto& d : busy.drops)
        held = std::max(held, d.max_tx_queue);
      put("stalled_max_kernel_bytes", std::to_string(held));
      put("latency_p99_ms", fixed(percentile(busy.latency_ms, 99), 0));
    }
    if (remove_work) fs::remove_all(work);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "hmi_bench: %s\n", e.what());
    if (remove_work && !work.empty()) std::fprintf(stderr, "(logs kept in %s)\n", work.c_str());
    return 1;
  }
  return 0;
}
