// A real gpsd fed by gpsfake (Debian gpsd + python3-gps), replaying a receiver log on a local port.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace stopcall::testing {

class GpsFake {
 public:
  // cycle: seconds between sentence cycles (gpsfake -c); once: stop at the end of the log (-1).
  GpsFake(const std::string& log, int port, double cycle = 0.05, bool once = true) {
    std::vector<std::string> args = {
        "gpsfake", "-q", "-P", std::to_string(port), "-c", std::to_string(cycle)};
    if (once) args.push_back("-1");
    args.push_back(log);
    std::vector<char*> argv;
    for (auto& a : args)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);  // its gpsd joins the group
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    if (posix_spawnp(&pid_, "gpsfake", &actions, &attr, argv.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
  }
  ~GpsFake() { kill(); }
  bool started() const { return pid_ > 0; }
  void kill() {
    if (pid_ <= 0) return;
    ::kill(-pid_, SIGKILL);
    int status;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }

 private:
  pid_t pid_ = -1;
};

// A port for this test process, away from gpsd's 2947 and from other test processes.
inline int test_port(int offset = 0) {
  return 20000 + (::getpid() % 20000) + offset;
}

}  // namespace stopcall::testing
