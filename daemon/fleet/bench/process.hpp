// The fleet load bench's processes: a private mosquitto it starts, stops (SIGTERM, as a depot
// restarts it, or SIGKILL, as a crash) and starts again on the same port, and what /proc says of a
// process's CPU time and memory.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>

namespace stopcall::fleet_bench {

// CPU time (user + system) and memory of one process, from /proc/<pid>/stat and status.
struct ProcSample {
  double cpu_s = 0;
  long rss_kb = 0;
  long hwm_kb = 0;  // peak RSS
};
// pid 0: this process.
ProcSample sample(pid_t pid);

// Raises RLIMIT_NOFILE to its hard limit; returns the new soft limit.
long raise_nofile();

// A free TCP port on 127.0.0.1 (bound, read, released).
int free_port();

// mosquitto on 127.0.0.1 and a free port, in a folder of its own (removed at the end), with the
// access file of PROTOCOL.md for `prefix` (plus read on the fleet's and routes' request topics),
// anonymous logins with a user name (no passwords: their check costs the broker at each
// connection only), persistence in its folder as PROTOCOL.md recommends for the depot's broker
// (saved every 5 s and at a clean stop), no connection limit.
class Broker {
 public:
  Broker(std::string program, const std::string& prefix);
  ~Broker();
  Broker(const Broker&) = delete;
  Broker& operator=(const Broker&) = delete;

  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  std::string log_file() const { return (dir_ / "mosquitto.log").string(); }

  // Starts it and waits until it accepts connections; throws when it does not within 5 s.
  void start();
  // SIGTERM, as a depot restarts it: mosquitto saves its sessions and queued messages, then
  // exits. Waits for it (SIGKILL after 30 s).
  void stop();
  // SIGKILL: every connection cut, nothing saved since the last autosave.
  void kill();

 private:
  std::string program_;
  std::filesystem::path dir_;
  int port_;
  pid_t pid_ = -1;
};

}  // namespace stopcall::fleet_bench
