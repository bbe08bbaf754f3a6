// service_bench: the service's start and footprint, as systemd sees them. Prints figures; never
// gates.
//
//   service_bench --stopcalld PATH --routes BUNDLE [--runs N] [--trace TRACE --trip TRIP]
//
//  1. start to READY: exec of `stopcalld run` to its READY=1 on NOTIFY_SOCKET (a datagram socket
//     of ours, as systemd's), N times, with voice (fakesink sync=true outputs), screens and the
//     control socket configured, gpsd absent (READY comes once gpsd is being retried);
//  2. steady-state RSS: the same daemon 10 s after READY (VmRSS, VmHWM), GStreamer included;
//  3. with --trace: peak RSS (VmHWM) of `stopcalld replay --realtime` speaking and serving the
//     screens on that trip at 20x, over its first minute.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

pid_t spawn(std::vector<std::string> args, const std::vector<std::string>& env_extra,
            const std::string& log) {
  std::vector<char*> argv;
  for (auto& a : args)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_store;
  for (char** e = environ; *e; ++e)
    env_store.emplace_back(*e);
  env_store.insert(env_store.end(), env_extra.begin(), env_extra.end());
  std::vector<char*> envp;
  for (auto& e : env_store)
    envp.push_back(e.data());
  envp.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 2, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  pid_t pid = 0;
  if (posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), envp.data()) != 0) return 0;
  return pid;
}

long status_kb(pid_t pid, const char* key) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(key, 0) == 0) return std::atol(line.c_str() + std::strlen(key));
  }
  return 0;
}

void stop(pid_t pid) {
  ::kill(pid, SIGTERM);
  int status = 0;
  ::waitpid(pid, &status, 0);
}

}  // namespace

int main(int argc, char** argv) {
  std::string stopcalld, routes, trace, trip;
  int runs = 10;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--stopcalld") stopcalld = argv[i + 1];
    if (a == "--routes") routes = argv[i + 1];
    if (a == "--runs") runs = std::max(1, std::atoi(argv[i + 1]));
    if (a == "--trace") trace = argv[i + 1];
    if (a == "--trip") trip = argv[i + 1];
  }
  if (stopcalld.empty() || routes.empty()) {
    std::fprintf(stderr, "usage: service_bench --stopcalld PATH --routes BUNDLE [--runs N]\n");
    return 2;
  }
  const fs::path dir = fs::temp_directory_path() / ("service_bench." + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string notify = dir / "notify.sock", log = dir / "daemon.log";
  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::strcpy(a.sun_path, notify.c_str());
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    std::perror("bind");
    return 1;
  }
  {
    std::ofstream config(dir / "stopcall.toml");
    config << "[routes]\nbundle = \"" << routes
           << "\"\n[audio]\ninterior = \"fakesink sync=true\"\nexterior = \"fakesink sync=true\"\n"
           << "[screens]\nlisten = \"127.0.0.1:0\"\nweb_root = \"" << STOPCALL_SOURCE_DIR
           << "/hmi/web\"\n[vehicle]\ncontrol_socket = \"" << (dir / "control.sock").string()
           << "\"\n[state]\nfile = \"" << (dir / "state.db").string() << "\"\n[gps]\nport = 1\n";
  }
  std::vector<double> ready_ms;
  long rss = 0, hwm = 0;
  for (int run = 0; run < runs; ++run) {
    const auto t0 = Clock::now();
    pid_t pid = spawn({stopcalld, "--config", dir / "stopcall.toml", "run", "--log", "stderr"},
                      {"NOTIFY_SOCKET=" + notify}, log);
    if (!pid) {
      std::perror("spawn");
      return 1;
    }
    bool ready = false;
    while (!ready && Clock::now() - t0 < 10s) {
      char buffer[512];
      timeval tv{0, 100000};
      ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      ssize_t n = ::recv(fd, buffer, sizeof buffer - 1, 0);
      if (n <= 0) continue;
      buffer[n] = 0;
      if (std::strstr(buffer, "READY=1")) {
        ready = true;
        ready_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
      }
    }
    if (run == runs - 1 && ready) {
      std::this_thread::sleep_for(10s);  // settled: pipelines playing, caches warm
      rss = status_kb(pid, "VmRSS:");
      hwm = status_kb(pid, "VmHWM:");
    }
    stop(pid);
    if (!ready) {
      std::fprintf(stderr, "no READY within 10 s (see %s)\n", log.c_str());
      return 1;
    }
  }
  std::sort(ready_ms.begin(), ready_ms.end());
  std::printf(
      "start to READY (%d runs, bundle %s, %.0f MB): best %.0f ms, median %.0f ms, worst "
      "%.0f ms\n",
      runs, routes.c_str(), static_cast<double>(fs::file_size(routes)) / 1e6, ready_ms.front(),
      ready_ms[ready_ms.size() / 2], ready_ms.back());
  std::printf("steady-state RSS 10 s after READY: %.1f MB (peak %.1f MB)\n", rss / 1024.0,
              hwm / 1024.0);
  long replay_hwm = 0;
  if (!trace.empty()) {
    pid_t pid = spawn({stopcalld, "replay", "--routes", routes, "--gps", trace, "--trip", trip,
                       "--no-block", "--realtime", "--speed", "20", "--audio", "fakesink sync=true",
                       "--http", "127.0.0.1:0", "--events", dir / "events.jsonl"},
                      {}, log);
    int status = 0;
    const auto until = Clock::now() + 60s;  // a minute of speaking and serving is enough
    while (::waitpid(pid, &status, WNOHANG) == 0) {
      replay_hwm = std::max(replay_hwm, status_kb(pid, "VmHWM:"));
      if (Clock::now() > until) {
        stop(pid);
        break;
      }
      std::this_thread::sleep_for(500ms);
    }
    std::printf("peak RSS speaking and serving a trip (replay --realtime --speed 20): %.1f MB\n",
                replay_hwm / 1024.0);
  }
  std::printf("RESULT ready_median_ms=%.1f ready_worst_ms=%.1f rss_mb=%.1f replay_peak_mb=%.1f\n",
              ready_ms[ready_ms.size() / 2], ready_ms.back(), rss / 1024.0, replay_hwm / 1024.0);
  ::close(fd);
  fs::remove_all(dir);
  return 0;
}
