#include "daemon/fleet/bench/process.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace stopcall::fleet_bench {

namespace {

long status_kb(const std::string& file, const char* key) {
  std::ifstream in(file);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(key, 0) == 0) return std::atol(line.c_str() + std::strlen(key));
  }
  return 0;
}

bool accepts(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

ProcSample sample(pid_t pid) {
  const std::string base = pid == 0 ? "/proc/self" : "/proc/" + std::to_string(pid);
  ProcSample s;
  std::ifstream stat(base + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  // After the command's closing parenthesis: state is field 3, utime and stime fields 14 and 15.
  const auto close = text.rfind(')');
  if (close != std::string::npos) {
    std::istringstream fields(text.substr(close + 2));
    std::string field;
    double ticks = 0;
    for (int i = 3; i <= 15 && fields >> field; ++i) {
      if (i >= 14) ticks += std::atof(field.c_str());
    }
    s.cpu_s = ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
  }
  s.rss_kb = status_kb(base + "/status", "VmRSS:");
  s.hwm_kb = status_kb(base + "/status", "VmHWM:");
  return s;
}

long raise_nofile() {
  rlimit limit{};
  ::getrlimit(RLIMIT_NOFILE, &limit);
  limit.rlim_cur = limit.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &limit);
  ::getrlimit(RLIMIT_NOFILE, &limit);
  return static_cast<long>(limit.rlim_cur);
}

int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    ::close(fd);
    throw std::runtime_error(std::string("no free port: ") + std::strerror(errno));
  }
  ::close(fd);
  return ntohs(a.sin_port);
}

Broker::Broker(std::string program, const std::string& prefix)
    : program_(std::move(program)), port_(free_port()) {
  std::string templ = (std::filesystem::temp_directory_path() / "fleet-load.XXXXXX").string();
  if (!::mkdtemp(templ.data())) throw std::runtime_error("cannot make a folder for mosquitto");
  dir_ = templ;
  std::ofstream(dir_ / "acl") << "user depot\ntopic readwrite " << prefix
                              << "/#\nuser depot-collector\ntopic readwrite "
                              << prefix
                              // the depot service's collector (tools/bench.d/fleet.sh)
                              << "/#\nuser depot-store\ntopic readwrite " << prefix
                              << "/#\n\npattern write " << prefix
                              << "/bus/%u/status\npattern write " << prefix
                              << "/bus/%u/events\npattern write " << prefix
                              << "/bus/%u/requests/ack\npattern read " << prefix
                              << "/bus/%u/requests\npattern read " << prefix
                              << "/fleet/requests\npattern read " << prefix
                              << "/route/+/requests\n";
  std::ofstream(dir_ / "mosquitto.conf")
      // As root, mosquitto would drop to its own user, which may not read this folder.
      << "user root\nper_listener_settings false\nallow_anonymous true\nacl_file "
      << (dir_ / "acl").string() << "\npersistence true\npersistence_location " << dir_.string()
      << "/\nautosave_interval 5\nmax_queued_messages 100000\nlog_type error\nlog_type warning\n"
      << "listener " << port_ << " 127.0.0.1\nmax_connections -1\nuse_username_as_clientid true\n";
}

Broker::~Broker() {
  kill();
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

void Broker::start() {
  const std::string conf = (dir_ / "mosquitto.conf").string();
  const std::string log = log_file();
  const int log_fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  pid_ = ::fork();
  if (pid_ == 0) {
    ::dup2(log_fd, 1);
    ::dup2(log_fd, 2);
    // Not the buses' sockets: a broker holding them would keep their connections half open.
    ::close_range(3, ~0u, 0);
    ::execl(program_.c_str(), program_.c_str(), "-c", conf.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(log_fd);
  for (int i = 0; i < 500; ++i) {
    if (accepts(port_)) return;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::ifstream in(log);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  kill();
  throw std::runtime_error(program_ + " did not start on port " + std::to_string(port_) + ":\n" +
                           text);
}

void Broker::stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  for (int i = 0; i < 3000; ++i) {
    if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
      pid_ = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  kill();
}

void Broker::kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

}  // namespace stopcall::fleet_bench
