// A real Eclipse Mosquitto broker (Debian's /usr/sbin/mosquitto) for the fleet tests: its own
// folder, a free port on 127.0.0.1, a password file made with mosquitto_passwd and the access file
// of PROTOCOL.md (a bus publishes only under its own name and reads only its requests; "depot"
// reads and writes everything). Killed (SIGKILL) and started again on the same port on demand;
// it saves its state every second or two (autosave_interval 1), and wait_saved() waits for a save
// to be on disk, so a depot's persistent session survives the crash as it would on a depot's
// broker.
// Also `Peer`: a plain libmosquitto client (its own thread) playing the depot, or a bus gone bad.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <mosquitto.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "tests/daemon/free_port.hpp"
#include "tests/routes/test_feed.hpp"

namespace stopcall::testing::fleet {

using namespace std::chrono_literals;

inline constexpr const char* kMosquitto = "/usr/sbin/mosquitto";

// The access file the depot gives the broker (PROTOCOL.md, "Access"): every bus (every user but
// the depot) reads the routes' and the fleet's requests, under its own user line.
inline std::string access_file(const std::vector<std::pair<std::string, std::string>>& users) {
  std::string file =
      "user depot\n"
      "topic readwrite stopcall/#\n"
      "\n";
  for (const auto& [user, password] : users) {
    if (user == "depot") continue;
    file += "user " + user +
            "\n"
            "topic read stopcall/v1/route/+/requests\n"
            "topic read stopcall/v1/fleet/requests\n"
            "\n";
  }
  return file +
         "pattern write stopcall/v1/bus/%u/status\n"
         "pattern write stopcall/v1/bus/%u/events\n"
         "pattern write stopcall/v1/bus/%u/requests/ack\n"
         "pattern read stopcall/v1/bus/%u/requests\n"
         "pattern write stopcall/v1/bus/%u/bundle/get\n"
         "pattern read stopcall/v1/bus/%u/bundle/chunk\n";
}

using ::stopcall::testing::free_tcp_port;

inline bool accepts(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

class Broker {
 public:
  // users: name and password each.
  // tls: the listener takes TLS only, with a server certificate for 127.0.0.1 from a CA made
  // here (ca_file()); other_ca_file() is a CA that did not sign it.
  // extra_access: lines added to the access file (other users' topics).
  explicit Broker(std::vector<std::pair<std::string, std::string>> users, bool tls = false,
                  const std::string& extra_access = {})
      : port_(free_tcp_port()) {
    std::string tls_lines;
    if (tls) {
      make_certificates();
      tls_lines = "cafile " + ca_file() + "\ncertfile " + (dir_ / "server.crt") + "\nkeyfile " +
                  (dir_ / "server.key") + "\n";
    }
    const std::string passwd = dir_ / "passwd";
    routes::testing::write_file(passwd, "");
    for (const auto& [user, password] : users) {
      const std::string cmd =
          "mosquitto_passwd -b " + passwd + " '" + user + "' '" + password + "' 2>&1";
      if (std::system(cmd.c_str()) != 0) throw std::runtime_error("mosquitto_passwd failed");
    }
    routes::testing::write_file(dir_ / "acl", access_file(users) + extra_access);
    routes::testing::write_file(dir_ / "mosquitto.conf",
                                // As root, mosquitto would drop to its own user, which may not
                                // read this folder; as anybody else the line does nothing.
                                "user root\n"
                                "per_listener_settings false\n"
                                "allow_anonymous false\n"
                                "password_file " +
                                    passwd + "\nacl_file " + (dir_ / "acl") +
                                    "\npersistence true\npersistence_location " +
                                    dir_.path().string() +
                                    "/\nautosave_interval 1\n"
                                    // The depot's session keeps what comes while it is away
                                    // (the default, 1000, drops the rest: PROTOCOL.md).
                                    "max_queued_messages 100000\n"
                                    "log_type all\n"
                                    "listener " +
                                    std::to_string(port_) +
                                    " 127.0.0.1\n"
                                    // After `listener`: before one, it would open the default
                                    // port 1883 for it. A bus cannot take another's session.
                                    "use_username_as_clientid true\n" +
                                    tls_lines);
    start();
  }
  ~Broker() { kill(); }
  Broker(const Broker&) = delete;
  Broker& operator=(const Broker&) = delete;

  int port() const { return port_; }
  std::string ca_file() const { return dir_ / "ca.crt"; }
  std::string other_ca_file() const { return dir_ / "other-ca.crt"; }
  std::string log() const { return routes::testing::read_bytes(dir_ / "mosquitto.log"); }

  // Waits until a save begun after this call is on disk: what the broker knows now, a persistent
  // session among it, survives a crash. mosquitto logs "Saving in-memory database" before it
  // writes mosquitto.db.new, fsyncs it and renames it over mosquitto.db; killed before the
  // rename, it starts again from the previous file, or from nothing. So the line alone is not
  // enough: the save is done when mosquitto.db is another file than when its line was seen, or
  // when the next save's line comes (the broker saves one at a time, on its one thread).
  bool wait_saved(std::chrono::milliseconds timeout = 10s) const {
    auto saves = [&] {
      const std::string text = log();
      std::size_t n = 0;
      for (auto at = text.find("Saving in-memory database"); at != std::string::npos;
           at = text.find("Saving in-memory database", at + 1))
        ++n;
      return n;
    };
    const std::string db = dir_ / "mosquitto.db";
    auto inode = [&] {
      struct ::stat st {};
      return ::stat(db.c_str(), &st) == 0 ? st.st_ino : ::ino_t{0};
    };
    const auto until = std::chrono::steady_clock::now() + timeout;
    auto wait_for = [&](const std::function<bool()>& done) {
      while (std::chrono::steady_clock::now() < until) {
        if (done()) return true;
        std::this_thread::sleep_for(50ms);
      }
      return false;
    };
    const std::size_t before = saves();
    if (!wait_for([&] { return saves() > before; })) return false;
    const std::size_t begun = saves();
    const ::ino_t file = inode();
    return wait_for([&] {
      const ::ino_t now = inode();
      return (now != 0 && now != file) || saves() > begun;
    });
  }

  void start() {
    const std::string conf = dir_ / "mosquitto.conf";
    const std::string log = dir_ / "mosquitto.log";
    const int log_fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(log_fd, 1);
      ::dup2(log_fd, 2);
      ::execl(kMosquitto, kMosquitto, "-c", conf.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(log_fd);
    for (int i = 0; i < 200; ++i) {
      if (accepts(port_)) return;
      std::this_thread::sleep_for(25ms);
    }
    throw std::runtime_error("mosquitto did not start:\n" + this->log());
  }

  // As a network that silently drops everything: the connections stay open, nothing answers.
  void pause() { ::kill(pid_, SIGSTOP); }
  void resume() { ::kill(pid_, SIGCONT); }

  // As a crash would: SIGKILL, nothing saved, every connection cut.
  void kill() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::kill(pid_, SIGCONT);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

 private:
  void make_certificates() {
    const std::string d = dir_.path().string();
    const std::string key = " -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
    routes::testing::write_file(dir_ / "san.ext", "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
    const std::string cmd =
        "cd " + d + " && openssl req -x509" + key +
        " -keyout ca.key -out ca.crt -days 2 -subj /CN=stopcall-test-ca && openssl req -x509" +
        key +
        " -keyout other-ca.key -out other-ca.crt -days 2 -subj /CN=another-ca && openssl req" +
        key +
        " -keyout server.key -out server.csr -subj /CN=127.0.0.1 && openssl x509 -req -in "
        "server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt -days 2 -extfile "
        "san.ext";
    if (std::system(("(" + cmd + ") >" + d + "/openssl.log 2>&1").c_str()) != 0) {
      throw std::runtime_error("openssl failed: " +
                               routes::testing::read_bytes(dir_ / "openssl.log"));
    }
  }

  routes::testing::TempDir dir_;
  int port_;
  pid_t pid_ = -1;
};

struct Message {
  std::string topic;
  std::string payload;
  bool retain = false;
};

// A libmosquitto client on its own thread (the test's side: the depot, or a misbehaving bus).
// Subscribes again at each connection; reconnects by itself after a broker restart.
class Peer {
 public:
  // clean false: a persistent session (the broker keeps its subscriptions and QoS 1 messages
  // while it is away, and across a broker restart from its saved state).
  Peer(int port, const std::string& user, const std::string& password,
       std::vector<std::string> subscriptions = {}, bool clean = true,
       const std::string& ca_file = {})
      : subscriptions_(std::move(subscriptions)) {
    mosquitto_lib_init();
    mosq_ = mosquitto_new(user.c_str(), clean, this);
    if (!ca_file.empty())
      mosquitto_tls_set(mosq_, ca_file.c_str(), nullptr, nullptr, nullptr, nullptr);
    mosquitto_username_pw_set(mosq_, user.c_str(), password.c_str());
    mosquitto_reconnect_delay_set(mosq_, 1, 1, false);
    mosquitto_connect_callback_set(mosq_, [](mosquitto* m, void* self, int rc) {
      auto* p = static_cast<Peer*>(self);
      if (rc == 0) {
        for (const auto& topic : p->subscriptions_)
          mosquitto_subscribe(m, nullptr, topic.c_str(), 1);
      }
      std::lock_guard lock(p->mutex_);
      p->connack_ = rc;
      ++p->connects_;
      p->changed_.notify_all();
    });
    mosquitto_subscribe_callback_set(mosq_, [](mosquitto*, void* self, int, int, const int*) {
      auto* p = static_cast<Peer*>(self);
      std::lock_guard lock(p->mutex_);
      ++p->subscribed_;
      p->changed_.notify_all();
    });
    mosquitto_message_callback_set(mosq_, [](mosquitto*, void* self, const mosquitto_message* m) {
      auto* p = static_cast<Peer*>(self);
      std::lock_guard lock(p->mutex_);
      p->messages_.push_back({m->topic,
                              std::string(static_cast<const char*>(m->payload),
                                          static_cast<std::size_t>(m->payloadlen)),
                              m->retain});
      p->changed_.notify_all();
    });
    mosquitto_publish_callback_set(mosq_, [](mosquitto*, void* self, int) {
      auto* p = static_cast<Peer*>(self);
      std::lock_guard lock(p->mutex_);
      ++p->acked_;
      p->changed_.notify_all();
    });
    mosquitto_connect_async(mosq_, "127.0.0.1", port, 10);
    mosquitto_loop_start(mosq_);
  }
  ~Peer() {
    mosquitto_disconnect(mosq_);
    mosquitto_loop_stop(mosq_, true);
    mosquitto_destroy(mosq_);
  }
  Peer(const Peer&) = delete;
  Peer& operator=(const Peer&) = delete;

  // Connected and subscribed to everything asked (or refused: the CONNACK code).
  int wait_ready(std::chrono::milliseconds timeout = 5s) {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, timeout, [&] {
      return (connack_ == 0 && subscribed_ >= subscriptions_.size()) || connack_ > 0;
    });
    return connack_;
  }

  bool publish(const std::string& topic, const std::string& payload, bool retain = false) {
    long before;
    {
      std::lock_guard lock(mutex_);
      before = acked_;
    }
    if (mosquitto_publish(mosq_, nullptr, topic.c_str(), static_cast<int>(payload.size()),
                          payload.data(), 1, retain) != MOSQ_ERR_SUCCESS) {
      return false;
    }
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, 5s, [&] { return acked_ > before; });
  }

  std::vector<Message> messages() const {
    std::lock_guard lock(mutex_);
    return messages_;
  }
  long connects() const {
    std::lock_guard lock(mutex_);
    return connects_;
  }
  std::size_t subscribed() const {
    std::lock_guard lock(mutex_);
    return subscribed_;
  }

  // Waits until `done(messages)` holds.
  bool wait(const std::function<bool(const std::vector<Message>&)>& done,
            std::chrono::milliseconds timeout = 10s) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return done(messages_); });
  }

 private:
  std::vector<std::string> subscriptions_;
  mosquitto* mosq_ = nullptr;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<Message> messages_;
  int connack_ = -1;
  long connects_ = 0;
  std::size_t subscribed_ = 0;
  long acked_ = 0;
};

}  // namespace stopcall::testing::fleet
