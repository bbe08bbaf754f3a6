// `stopcalld run` as a child process for tests that attack it over its real sockets: the demo
// bundle, the screens on an ephemeral port, the control socket, the event log; no gpsd (it is
// retried, as on a bus whose receiver is still starting). Also the raw clients the attacks need:
// Unix and TCP sockets, and what the kernel says about the daemon (RSS, CPU time).
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "daemon/vehicle/control_socket.hpp"
#include "tests/routes/test_feed.hpp"

extern char** environ;

#include "tests/daemon/free_port.hpp"

namespace stopcall::testing {

using namespace std::chrono_literals;

struct DaemonOptions {
  std::string screens_extra;  // more keys in [screens]
  std::string vehicle_extra;  // more keys in [vehicle]
  std::string extra_config;   // more TOML, appended
  long max_files = 0;         // > 0: RLIMIT_NOFILE for the daemon (as LimitNOFILE= would)
  std::string token = "console-secret";
  std::string bundle;                 // [routes] bundle; empty: the demo, imported here
  int gpsd_port = 0;                  // 0: a port nobody listens on (gpsd is retried)
  std::vector<std::string> run_args;  // more arguments after `run` (--trip, …)
};

class DaemonProcess {
 public:
  using Options = DaemonOptions;

  explicit DaemonProcess(Options options = {}) : options_(std::move(options)) {
    bundle_ = options_.bundle.empty() ? std::string(dir_ / "demo.db") : options_.bundle;
    if (options_.bundle.empty() && !routes::testing::import_demo(bundle_))
      throw std::runtime_error("demo import failed");
    socket_ = dir_ / "control.sock";
    config_ = dir_ / "stopcall.toml";
    log_ = dir_ / "stderr.txt";
    events_ = dir_ / "events.jsonl";
    // A port nobody listens on for gpsd: bind one and close it again.
    const int gpsd_port = options_.gpsd_port > 0 ? options_.gpsd_port : free_port();
    routes::testing::write_file(
        config_, "[routes]\nbundle = \"" + bundle_ + "\"\n[audio]\ninterior = \"\"\n" +
                     "[screens]\nlisten = \"127.0.0.1:0\"\nweb_root = \"" + STOPCALL_SOURCE_DIR +
                     "/hmi/web\"\ndriver_token = \"" + options_.token + "\"\n" +
                     options_.screens_extra + "\n[vehicle]\ncontrol_socket = \"" + socket_ +
                     "\"\n" + options_.vehicle_extra +
                     "\n[gps]\nport = " + std::to_string(gpsd_port) + "\n" + options_.extra_config);
    start();
  }
  ~DaemonProcess() { stop(); }
  DaemonProcess(const DaemonProcess&) = delete;
  DaemonProcess& operator=(const DaemonProcess&) = delete;

  pid_t pid() const { return pid_; }
  const std::string& control_socket() const { return socket_; }
  std::uint16_t http_port() const { return http_port_; }
  std::string log() const { return routes::testing::read_bytes(log_); }
  std::string events() const { return routes::testing::read_bytes(events_); }
  const std::string& token() const { return options_.token; }

  // SIGTERM, and the exit status (0: a clean stop). Idempotent.
  int stop() {
    if (pid_ <= 0) return status_;
    ::kill(pid_, SIGTERM);
    for (int i = 0; i < 400; ++i) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        return status_;
      }
      std::this_thread::sleep_for(50ms);
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
    status_ = 137;
    return status_;
  }

  // SIGKILL, as a power cut or a crash ends it; start() then starts it again on the same files.
  void kill_hard() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
    status_ = 137;
  }

  // Starts it (again, after stop() or kill_hard()): its messages go on in the same log.
  void start() {
    const std::string bin = std::string(STOPCALL_BINARY_DIR) + "/daemon/stopcalld";
    std::vector<std::string> args = {bin,        "--config", config_,        "run",
                                     "--events", events_,    "--exit-after", "600"};
    args.insert(args.end(), options_.run_args.begin(), options_.run_args.end());
    std::vector<char*> argv;
    for (auto& a : args)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    const long max_files = options_.max_files;
    // Out of descriptors the sanitizers' own runtime cannot open the pipe it checks memory with,
    // and reports every virtual call's object as invalid: not the daemon's fault, so suppressed.
    std::vector<std::string> env;
    for (char** e = environ; *e; ++e) {
      if (max_files <= 0 || std::string_view(*e).rfind("UBSAN_OPTIONS=", 0) != 0) env.push_back(*e);
    }
    if (max_files > 0) {
      const std::string suppressions = dir_ / "ubsan.supp";
      routes::testing::write_file(suppressions, "vptr_check:*\n");
      const char* ubsan = std::getenv("UBSAN_OPTIONS");
      env.push_back(std::string("UBSAN_OPTIONS=") + (ubsan ? std::string(ubsan) + ":" : "") +
                    "suppressions=" + suppressions);
    }
    std::vector<char*> envp;
    for (auto& e : env)
      envp.push_back(e.data());
    envp.push_back(nullptr);
    const std::size_t log_before = log().size();
    const int log_fd = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    pid_ = ::fork();
    if (pid_ == 0) {
      // Only async-signal-safe calls between fork and exec.
      ::dup2(log_fd, 2);
      if (max_files > 0) {
        rlimit limit{static_cast<rlim_t>(max_files), static_cast<rlim_t>(max_files)};
        ::setrlimit(RLIMIT_NOFILE, &limit);
      }
      ::execve(argv[0], argv.data(), envp.data());
      ::_exit(127);
    }
    ::close(log_fd);
    // Ready once both the screens and the control socket are there.
    const std::regex listening(R"(passenger display http://127\.0\.0\.1:(\d+)/)");
    for (int i = 0; i < 600; ++i) {
      std::smatch m;
      const std::string text = log().substr(log_before);
      if (std::regex_search(text, m, listening) && std::filesystem::exists(socket_)) {
        http_port_ = static_cast<std::uint16_t>(std::stoi(m[1]));
        return;
      }
      if (!running()) break;
      std::this_thread::sleep_for(50ms);
    }
    throw std::runtime_error("stopcalld did not start:\n" + log());
  }

  bool running() {
    if (pid_ <= 0) return false;
    int status = 0;
    return ::waitpid(pid_, &status, WNOHANG) == 0;
  }

  // Resident memory, KiB (VmRSS in /proc/PID/status).
  long rss_kb() const { return proc_status_kb("VmRSS:"); }
  // CPU time the daemon has used (user + system), seconds.
  double cpu_s() const {
    std::ifstream in("/proc/" + std::to_string(pid_) + "/stat");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::istringstream fields(text.substr(text.rfind(')') + 2));
    std::string field;
    long utime = 0, stime = 0;
    for (int i = 3; fields >> field; ++i) {  // field 3 is the state; utime 14, stime 15
      if (i == 14) utime = std::stol(field);
      if (i == 15) stime = std::stol(field);
    }
    return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
  }
  // Open file descriptors of the daemon.
  long open_files() const {
    long n = 0;
    std::error_code ec;
    for (auto it = std::filesystem::directory_iterator("/proc/" + std::to_string(pid_) + "/fd", ec);
         !ec && it != std::filesystem::directory_iterator(); it.increment(ec))
      ++n;
    return n;
  }

  // One command as stopcallctl sends it.
  daemon::vehicle::Reply command(const std::string& line, int timeout_ms = 10000) const {
    return daemon::vehicle::send_command(socket_, line, timeout_ms);
  }

  // Waits until `pattern` appears in the daemon's messages.
  bool wait_log(const std::string& pattern, std::chrono::milliseconds timeout = 20s) const {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (log().find(pattern) != std::string::npos) return true;
      std::this_thread::sleep_for(50ms);
    }
    return false;
  }

  static int free_port() { return free_tcp_port(); }

 private:
  long proc_status_kb(const std::string& key) const {
    std::ifstream in("/proc/" + std::to_string(pid_) + "/status");
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind(key, 0) == 0) return std::stol(line.substr(key.size()));
    }
    return -1;
  }

  Options options_;
  routes::testing::TempDir dir_;
  std::string bundle_, socket_, config_, log_, events_;
  pid_t pid_ = -1;
  int status_ = -1;
  std::uint16_t http_port_ = 0;
};

// A raw client socket (Unix or TCP), closed at destruction.
class RawSocket {
 public:
  static RawSocket unix_stream(const std::string& path) {
    RawSocket s(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
    if (::connect(s.fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) s.reset();
    return s;
  }
  static RawSocket tcp(std::uint16_t port) {
    RawSocket s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(s.fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) s.reset();
    return s;
  }
  RawSocket(RawSocket&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  RawSocket& operator=(RawSocket&& o) noexcept {
    std::swap(fd_, o.fd_);
    return *this;
  }
  ~RawSocket() { reset(); }
  bool ok() const { return fd_ >= 0; }
  int fd() const { return fd_; }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  bool send_all(const std::string& bytes) {
    for (std::size_t sent = 0; sent < bytes.size();) {
      auto n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return false;
      sent += static_cast<std::size_t>(n);
    }
    return true;
  }
  // Reads what comes within `timeout`, until the peer closes (then `closed` is set) or a newline
  // when `line` is set.
  std::string read(std::chrono::milliseconds timeout, bool line = true) {
    std::string out;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    char buffer[4096];
    while (!line || out.find('\n') == std::string::npos) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
      auto n = ::recv(fd_, buffer, sizeof buffer, 0);
      if (n <= 0) {
        closed = true;
        break;
      }
      out.append(buffer, static_cast<std::size_t>(n));
    }
    return out;
  }
  // True when the peer closed the connection within `timeout` (what it sent before is skipped).
  bool closed_by_peer(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!closed && std::chrono::steady_clock::now() < deadline)
      read(std::chrono::duration_cast<std::chrono::milliseconds>(deadline -
                                                                 std::chrono::steady_clock::now()),
           false);
    return closed;
  }

  bool closed = false;

 private:
  explicit RawSocket(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace stopcall::testing
