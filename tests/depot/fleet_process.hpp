// The real `stopcall-fleet` program (or another of the project's programs), run by the tests: its
// standard output and error kept in a file, stopped with SIGTERM as systemd stops it.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "tests/routes/test_feed.hpp"

namespace stopcall::testing::depot {

inline std::string fleet_binary() {
  return std::string(STOPCALL_BINARY_DIR) + "/depot/stopcall-fleet";
}

// A program (`args[0]`, a path) with its arguments.
class Process {
 public:
  Process(std::vector<std::string> args, std::string log) : log_(std::move(log)) {
    pid_ = ::fork();
    if (pid_ == 0) {
      const int fd = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      std::vector<char*> argv;
      for (auto& a : args)
        argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
  }
  ~Process() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  std::string log() const { return routes::testing::read_bytes(log_); }
  // Waits until its output holds `text` (n times).
  bool wait_log(const std::string& text, int n = 1,
                std::chrono::milliseconds timeout = std::chrono::seconds(15)) const {
    const auto until = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < until) {
      const std::string l = log();
      int found = 0;
      for (auto at = l.find(text); at != std::string::npos; at = l.find(text, at + 1))
        ++found;
      if (found >= n) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }
  // The exit status after SIGTERM (or of its own end when `signal` is false); -1 when killed.
  int finish(bool signal = true) {
    if (pid_ <= 0) return status_;
    if (signal) ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    status_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return status_;
  }
  // Still running (not ended by itself).
  bool running() {
    if (pid_ <= 0) return false;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) != pid_) return true;
    pid_ = -1;
    status_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return false;
  }

 private:
  std::string log_;
  pid_t pid_ = -1;
  int status_ = -1;
};

// stopcall-fleet with its arguments.
class FleetProcess : public Process {
 public:
  FleetProcess(std::vector<std::string> args, std::string log)
      : Process(with_binary(std::move(args)), std::move(log)) {}

 private:
  static std::vector<std::string> with_binary(std::vector<std::string> args) {
    args.insert(args.begin(), fleet_binary());
    return args;
  }
};

// Runs stopcall-fleet to its end; its exit status.
inline int run_fleet(std::vector<std::string> args, const std::string& log) {
  FleetProcess p(std::move(args), log);
  return p.finish(false);
}

// What a bus on route 101 publishes as its status: online on `trip`, its next stop `stop` at
// `index` on the trip.
inline std::string bus_status(const std::string& vehicle, const std::string& trip, int index,
                              const std::string& stop) {
  return nlohmann::json{{"vehicle", vehicle},
                        {"online", true},
                        {"software", "0.1.0"},
                        {"bundle", "demo"},
                        {"trip_id", trip},
                        {"route_id", "101"},
                        {"next_stop", {{"stop_id", stop}, {"name", stop}, {"index", index}}},
                        {"gps", "fix"},
                        {"faults", nlohmann::json::array()},
                        {"time", "2026-03-02T06:40:00.000Z"}}
      .dump();
}

// One event line as a bus sends it up: its row number and the line.
inline std::string bus_event(const std::string& vehicle, int seq, const nlohmann::json& e) {
  return nlohmann::json{{"vehicle", vehicle}, {"seq", seq}, {"event", e}}.dump();
}

// Polls `done` every 50 ms until it holds or `timeout` has passed; its last answer.
inline bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < until) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return done();
}

}  // namespace stopcall::testing::depot
