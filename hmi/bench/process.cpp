#include "hmi/bench/process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace stopcall::hmi::bench {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using json = nlohmann::json;
using namespace std::chrono_literals;

namespace {

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

}  // namespace

std::int64_t now_epoch_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
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

Daemon::Daemon(const std::vector<std::string>& argv, const fs::path& log) {
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

bool Daemon::running() {
  if (exited_) return false;
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) == pid_) {
    exited_ = true;
    status_ = status;
  }
  return !exited_;
}

bool Daemon::wait_exit(Clock::time_point deadline) {
  while (running()) {
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(50ms);
  }
  return true;
}

void Daemon::terminate() {
  if (!running()) return;
  ::kill(pid_, SIGTERM);
  if (!wait_exit(Clock::now() + 5s)) {
    ::kill(pid_, SIGKILL);
    wait_exit(Clock::now() + 5s);
  }
}

std::string Daemon::exit_text() const {
  if (!exited_) return "running";
  if (WIFEXITED(status_)) return "exit " + std::to_string(WEXITSTATUS(status_));
  if (WIFSIGNALED(status_)) return "signal " + std::to_string(WTERMSIG(status_));
  return "?";
}

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

std::string last_line(const fs::path& path) {
  std::ifstream in(path);
  std::string line, last;
  while (std::getline(in, line))
    if (!line.empty()) last = line;
  return last;
}

}  // namespace stopcall::hmi::bench
