// The daemon under measurement as a process, what /proc says about it, and the trace it replays.
#pragma once

#include <sys/types.h>

#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace stopcall::hmi::bench {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

inline double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// Milliseconds since the epoch on the system clock (as server_time_ms).
std::int64_t now_epoch_ms();

// The time span of a gpsd JSON trace (first to last TPV with a time), in trace seconds.
double trace_span_s(const std::string& path);

// stopcalld started with `argv`, its stderr to `log`; terminated when destroyed.
class Daemon {
 public:
  Daemon(const std::vector<std::string>& argv, const fs::path& log);
  ~Daemon() { terminate(); }
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  pid_t pid() const { return pid_; }
  bool running();

  // True when it exited by the deadline.
  bool wait_exit(Clock::time_point deadline);
  void terminate();
  std::string exit_text() const;

 private:
  pid_t pid_ = -1;
  bool exited_ = false;
  int status_ = 0;
};

// utime + stime of every thread of the process, in seconds.
std::optional<double> cpu_seconds(pid_t pid);

struct Memory {
  long rss_kb = 0;
  long hwm_kb = 0;
};

std::optional<Memory> memory_of(pid_t pid);
double self_cpu_seconds();

// A port on 127.0.0.1 free now, and an endpoint there.
std::uint16_t free_port();
boost::asio::ip::tcp::endpoint local(std::uint16_t port);

// The daemon's end of a connection in /proc/net/tcp: its TCP state and send queue.
struct ServerSide {
  bool found = false;
  int state = 0;  // 1 ESTABLISHED, 4 FIN_WAIT1, ...
  long tx_queue = 0;
};
ServerSide server_side(std::uint16_t server_port, std::uint16_t client_port);

// The last line of a file that is not empty (the daemon's log).
std::string last_line(const fs::path& path);

}  // namespace stopcall::hmi::bench
