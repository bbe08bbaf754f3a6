// `stopcall-fleet message` and `credentials`, run as the controllers run them, against a real
// mosquitto.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "daemon/fleet/command.hpp"
#include "depot/commands.hpp"
#include "tests/daemon/fleet/broker.hpp"
#include "tests/depot/fleet_process.hpp"

namespace stopcall::depot {
namespace {

using json = nlohmann::json;
using routes::testing::read_bytes;
using routes::testing::TempDir;
using routes::testing::write_file;
using testing::depot::FleetProcess;
using testing::depot::run_fleet;
using testing::fleet::Broker;
using testing::fleet::Peer;
using namespace std::chrono_literals;
using daemon::fleet::Audience;

TEST(Message, ARouteMessageIsSignedForThatRouteOnly) {
  TempDir dir;
  Broker broker({{"depot", "d"}, {"control", "c"}}, false, control_access("stopcall/v1"));
  const auto keys = routes::generate_keypair(dir / "control.secret", dir / "control.public");
  write_file(dir / "control.password", "c\n");
  Peer watcher(broker.port(), "depot", "d",
               {"stopcall/v1/route/101/requests", "stopcall/v1/route/102/requests"});
  ASSERT_EQ(watcher.wait_ready(), 0);
  const std::vector<std::string> common{
      "--broker",        "127.0.0.1:" + std::to_string(broker.port()),
      "--password-file", dir / "control.password",
      "--key",           dir / "control.secret"};
  auto args = [&](std::vector<std::string> more) {
    more.insert(more.begin(), common.begin(), common.end());
    more.insert(more.begin(), "message");
    return more;
  };
  // Two audiences at once: refused, nothing sent.
  EXPECT_EQ(
      run_fleet(args({"--route", "101", "--bus", "bus-1", "--preset", "typhoon"}), dir / "bad.log"),
      2);
  EXPECT_NE(read_bytes(dir / "bad.log").find("one of --bus, --route, --fleet"), std::string::npos);
  ASSERT_EQ(run_fleet(args({"--route", "101", "--preset", "typhoon", "--id", "typhoon-8"}),
                      dir / "ok.log"),
            0)
      << read_bytes(dir / "ok.log");
  ASSERT_TRUE(watcher.wait([](const auto& ms) { return !ms.empty(); }));
  const auto m = watcher.messages()[0];
  EXPECT_EQ(m.topic, "stopcall/v1/route/101/requests");
  EXPECT_FALSE(m.retain);

  const auto now = std::chrono::floor<std::chrono::milliseconds>(std::chrono::system_clock::now());
  daemon::fleet::CommandGate on_101(keys.public_key, "bus-1");
  const auto ok = on_101.check(m.payload, {Audience::Kind::route, "101"}, "101", now);
  ASSERT_TRUE(ok.command) << ok.message;
  EXPECT_EQ(json::parse(ok.command->command),
            json::parse(R"({"cmd":"message","preset":"typhoon","message_id":"typhoon-8"})"));
  daemon::fleet::CommandGate on_102(keys.public_key, "bus-2");
  EXPECT_EQ(on_102.check(m.payload, {Audience::Kind::route, "101"}, "102", now).error,
            "not_addressed");
  daemon::fleet::CommandGate copied(keys.public_key, "bus-2");
  EXPECT_EQ(copied.check(m.payload, {Audience::Kind::route, "102"}, "102", now).error,
            "not_addressed");
  EXPECT_EQ(watcher.messages().size(), 1u);
}

// A mosquitto with exactly the files `credentials` wrote.
class OwnBroker {
 public:
  OwnBroker(const std::string& dir) : port_(testing::free_tcp_port()) {
    write_file(dir + "/mosquitto.conf",
               "user root\nper_listener_settings false\n"
               "allow_anonymous false\npassword_file " +
                   dir + "/stopcall.passwd\nacl_file " + dir + "/stopcall.acl\nlistener " +
                   std::to_string(port_) + " 127.0.0.1\nuse_username_as_clientid true\n");
    const std::string conf = dir + "/mosquitto.conf", log = dir + "/mosquitto.log";
    pid_ = ::fork();
    if (pid_ == 0) {
      const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      ::execl(testing::fleet::kMosquitto, testing::fleet::kMosquitto, "-c", conf.c_str(),
              static_cast<char*>(nullptr));
      ::_exit(127);
    }
    for (int i = 0; i < 200 && !testing::fleet::accepts(port_); ++i)
      std::this_thread::sleep_for(25ms);
  }
  ~OwnBroker() {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  int port() const { return port_; }

 private:
  int port_;
  pid_t pid_ = -1;
};

std::string password(const std::string& file) {
  std::string p = read_bytes(file);
  return p.substr(0, p.find('\n'));
}

TEST(Credentials, ABusLogsInWithItsPasswordAndCannotPublishAsAnother) {
  TempDir dir;
  const std::string out = dir / "creds";
  ASSERT_EQ(run_fleet({"credentials", "--out", out, "--bus", "bus-1", "bus-2", "--routes",
                       "bus-1=101,102"},
                      dir / "creds.log"),
            0)
      << read_bytes(dir / "creds.log");
  struct ::stat st {};
  ASSERT_EQ(::stat((out + "/bus-1.password").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  const std::string acl = read_bytes(out + "/stopcall.acl");
  EXPECT_NE(acl.find("user bus-1\ntopic read stopcall/v1/route/101/requests\n"
                     "topic read stopcall/v1/route/102/requests\n"),
            std::string::npos)
      << acl;
  EXPECT_NE(acl.find("pattern read stopcall/v1/fleet/requests"), std::string::npos);

  OwnBroker broker(out);
  Peer depot(broker.port(), "depot", password(out + "/depot.password"), {"stopcall/v1/#"});
  ASSERT_EQ(depot.wait_ready(), 0);
  Peer wrong(broker.port(), "bus-1", "not-the-password");
  EXPECT_EQ(wrong.wait_ready(), 5);  // not authorised
  Peer bus1(broker.port(), "bus-1", password(out + "/bus-1.password"));
  ASSERT_EQ(bus1.wait_ready(), 0);
  ASSERT_TRUE(
      bus1.publish("stopcall/v1/bus/bus-2/status", R"({"vehicle":"bus-2","online":false})"));
  ASSERT_TRUE(bus1.publish("stopcall/v1/bus/bus-1/status", R"({"vehicle":"bus-1","online":true})"));
  ASSERT_TRUE(depot.wait([](const auto& ms) {
    return !ms.empty() && ms.back().topic == "stopcall/v1/bus/bus-1/status";
  }));
  for (const auto& m : depot.messages())
    EXPECT_NE(m.topic, "stopcall/v1/bus/bus-2/status");

  // Run again on the same folder: nothing is overwritten.
  const std::string before = read_bytes(out + "/bus-1.password");
  EXPECT_EQ(run_fleet({"credentials", "--out", out, "--bus", "bus-1"}, dir / "again.log"), 1);
  EXPECT_NE(read_bytes(dir / "again.log").find("exists: not overwritten"), std::string::npos);
  EXPECT_EQ(read_bytes(out + "/bus-1.password"), before);
}

}  // namespace
}  // namespace stopcall::depot
