// A PostgreSQL server of the test's own (Debian's postgresql-15): `initdb` in a temporary folder
// and `postgres` on a free port of 127.0.0.1, with its socket in that folder. postgres refuses to
// run as root, so when the test runs as root the server runs as the `postgres` user, in a folder
// it owns. One server per test process, started at the first use and stopped (fast shutdown) at
// its end; each test gets a database of its own (fresh_database()).
#pragma once

#include <fcntl.h>
#include <grp.h>
#include <libpq-fe.h>
#include <pwd.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "tests/daemon/free_port.hpp"
#include "tests/routes/test_feed.hpp"

namespace stopcall::testing::depot {

class Postgres {
 public:
  static std::string bin(const std::string& name) { return "/usr/lib/postgresql/15/bin/" + name; }
  // The server's programs are installed (tools/setup); a test without them is skipped.
  static bool available() {
    return std::filesystem::exists(bin("initdb")) && std::filesystem::exists(bin("postgres"));
  }

  // The process's server, started on first use. Throws when it cannot start.
  static Postgres& shared() {
    static std::unique_ptr<Postgres> server(new Postgres);
    return *server;
  }

  ~Postgres() {
    if (pid_ > 0) {
      ::kill(pid_, SIGINT);  // fast shutdown
      ::waitpid(pid_, nullptr, 0);
    }
  }
  Postgres(const Postgres&) = delete;
  Postgres& operator=(const Postgres&) = delete;

  int port() const { return port_; }
  std::string uri(const std::string& database) const {
    return "postgresql://stopcall@127.0.0.1:" + std::to_string(port_) + "/" + database;
  }
  // A new empty database; its URI.
  std::string fresh_database() {
    const std::string name = "fleet_" + std::to_string(++databases_);
    PGconn* c = PQconnectdb(uri("postgres").c_str());
    PGresult* r = PQexec(c, ("CREATE DATABASE " + name).c_str());
    const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    const std::string why = PQerrorMessage(c);
    PQclear(r);
    PQfinish(c);
    if (!ok) throw std::runtime_error("CREATE DATABASE " + name + ": " + why);
    return uri(name);
  }
  std::string log() const { return routes::testing::read_bytes(dir_ / "postgres.log"); }

 private:
  Postgres() : port_(free_tcp_port()) {
    const std::string data = dir_ / "data";
    const bool root = ::geteuid() == 0;
    if (root) {
      const passwd* pw = ::getpwnam("postgres");
      if (!pw) throw std::runtime_error("running as root and there is no postgres user");
      uid_ = pw->pw_uid;
      gid_ = pw->pw_gid;
      if (::chown(dir_.path().c_str(), uid_, gid_) != 0)
        throw std::runtime_error("cannot give " + dir_.path().string() + " to postgres");
    }
    const pid_t init = spawn({bin("initdb"), "-D", data, "-U", "stopcall", "-A", "trust", "-E",
                              "UTF8", "--locale=C", "--no-sync"},
                             dir_ / "initdb.log");
    int status = 0;
    ::waitpid(init, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
      throw std::runtime_error("initdb failed: " +
                               routes::testing::read_bytes(dir_ / "initdb.log"));
    pid_ = spawn({bin("postgres"), "-D", data, "-p", std::to_string(port_), "-k",
                  dir_.path().string(), "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c",
                  "synchronous_commit=off", "-c", "full_page_writes=off"},
                 dir_ / "postgres.log");
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (PQping(uri("postgres").c_str()) != PQPING_OK) {
      int st = 0;
      if (::waitpid(pid_, &st, WNOHANG) == pid_) {
        pid_ = -1;
        throw std::runtime_error("postgres ended: " + log());
      }
      if (std::chrono::steady_clock::now() > until)
        throw std::runtime_error("postgres did not start: " + log());
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }

  // Runs `args` (as postgres when root) with its output into `log`.
  pid_t spawn(std::vector<std::string> args, const std::string& log) {
    const pid_t pid = ::fork();
    if (pid == 0) {
      const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (fd >= 0) {
        ::dup2(fd, 1);
        ::dup2(fd, 2);
      }
      if (uid_ != 0 && (::setgroups(0, nullptr) != 0 || ::setgid(gid_) != 0 || ::setuid(uid_) != 0))
        ::_exit(126);
      std::vector<char*> argv;
      for (auto& a : args)
        argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    return pid;
  }

  routes::testing::TempDir dir_;
  int port_;
  uid_t uid_ = 0;
  gid_t gid_ = 0;
  pid_t pid_ = -1;
  int databases_ = 0;
};

// The fleet store's two backends, for parametrised tests.
enum class Backend { sqlite, postgresql };

inline std::string backend_name(const ::testing::TestParamInfo<Backend>& info) {
  return info.param == Backend::sqlite ? "SQLite" : "PostgreSQL";
}

}  // namespace stopcall::testing::depot

// In a test of `backend`: skips it, saying why, when PostgreSQL's programs are missing.
#define STOPCALL_NEED_BACKEND(backend)                                                \
  do {                                                                                \
    if ((backend) == ::stopcall::testing::depot::Backend::postgresql &&               \
        !::stopcall::testing::depot::Postgres::available())                           \
      GTEST_SKIP() << "PostgreSQL 15 is not installed (/usr/lib/postgresql/15/bin): " \
                      "tools/setup installs postgresql-15";                           \
  } while (0)
