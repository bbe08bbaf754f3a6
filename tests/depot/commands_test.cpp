// `stopcall-fleet message` and `credentials`, run as the controllers run them, against a real
// mosquitto.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <sstream>

#include <nlohmann/json.hpp>

#include "daemon/fleet/command.hpp"
#include "depot/commands.hpp"
#include "depot/store.hpp"
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

// The line of `table` that starts with `vehicle`.
std::string row_of(const std::string& table, const std::string& vehicle) {
  std::istringstream in(table);
  for (std::string line; std::getline(in, line);)
    if (line.starts_with(vehicle + " ")) return line;
  return {};
}

TEST(Buses, ListsEachBusWithItsRouteNextStopOnlineAndEventsStored) {
  TempDir dir;
  {
    FleetStore store(dir / "fleet.db");
    store.put_status("bus-1",
                     R"({"vehicle":"bus-1","online":true,"trip_id":"101-WD-E-0630","route_id":"101",
                         "next_stop":{"stop_id":"CGM-E","name":"Chegongmiao","index":4},
                         "gps":"fix","faults":[],"time":"t"})",
                     "2026-03-02T06:50:00Z");
    store.put_status("bus-2",
                     R"({"vehicle":"bus-2","online":true,"trip_id":"102-WD-W-0700","route_id":"102",
                         "next_stop":{"stop_id":"XMH-W","name":"Xiangmihu","index":2},
                         "gps":"fix","faults":["gpio_unavailable"],"time":"t"})",
                     "2026-03-02T07:05:00Z");
    // bus-2 then dropped off the network: the broker said so for it.
    store.put_status("bus-2", R"({"vehicle":"bus-2","online":false})", "2026-03-02T07:09:00Z");
    for (int seq = 1; seq <= 3; ++seq)
      store.add_event("bus-1", R"({"vehicle":"bus-1","seq":)" + std::to_string(seq) +
                                   R"(,"event":{"type":"arrived","time":"2026-03-02T06:41:00Z"}})");
    store.add_event("bus-2", R"({"vehicle":"bus-2","seq":1,"line":"x"})");
  }
  ASSERT_EQ(run_fleet({"buses", "--store", dir / "fleet.db"}, dir / "buses.log"), 0)
      << read_bytes(dir / "buses.log");
  const std::string table = read_bytes(dir / "buses.log");
  EXPECT_TRUE(table.starts_with("VEHICLE")) << table;
  const std::string bus1 = row_of(table, "bus-1"), bus2 = row_of(table, "bus-2");
  EXPECT_THAT(bus1,
              ::testing::MatchesRegex("bus-1 +yes +101 +101-WD-E-0630 +CGM-E Chegongmiao +fix +- +"
                                      "2026-03-02T06:50:00Z +3"))
      << table;
  // Offline: where it was last, said as such, and the one event it sent.
  EXPECT_THAT(bus2, ::testing::MatchesRegex(
                        "bus-2 +no +102 +102-WD-W-0700 +XMH-W Xiangmihu \\(last known\\) +- +- +"
                        "2026-03-02T07:09:00Z +1"))
      << table;

  // No store there: a clear error, and none made.
  EXPECT_EQ(run_fleet({"buses", "--store", dir / "none.db"}, dir / "none.log"), 1);
  EXPECT_NE(read_bytes(dir / "none.log").find("no such fleet store"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(dir / "none.db"));
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

TEST(Credentials, EachCollectorOfAGroupHasItsOwnLoginAndBothAreConnectedAtOnce) {
  TempDir dir;
  const std::string out = dir / "creds";
  // A bus may not take a collector's name.
  EXPECT_EQ(run_fleet({"credentials", "--out", out, "--bus", "depot-2", "--collectors", "2"},
                      dir / "refused.log"),
            2);
  EXPECT_NE(read_bytes(dir / "refused.log").find("kept for the depot's own logins"),
            std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(out + "/depot.password"));

  ASSERT_EQ(run_fleet({"credentials", "--out", out, "--bus", "bus-1", "--collectors", "2"},
                      dir / "c.log"),
            0)
      << read_bytes(dir / "c.log");
  const std::string acl = read_bytes(out + "/stopcall.acl");
  EXPECT_NE(acl.find("user depot-2\ntopic readwrite stopcall/#\n"), std::string::npos) << acl;
  OwnBroker broker(out);
  Peer first(broker.port(), "depot", password(out + "/depot.password"), {"stopcall/v1/#"});
  ASSERT_EQ(first.wait_ready(), 0);
  Peer second(broker.port(), "depot-2", password(out + "/depot-2.password"), {"stopcall/v1/#"});
  ASSERT_EQ(second.wait_ready(), 0);
  // Two sessions (the broker names each by its user): a bus's status reaches both.
  Peer bus1(broker.port(), "bus-1", password(out + "/bus-1.password"));
  ASSERT_EQ(bus1.wait_ready(), 0);
  ASSERT_TRUE(bus1.publish("stopcall/v1/bus/bus-1/status", R"({"vehicle":"bus-1","online":true})"));
  ASSERT_TRUE(first.wait([](const auto& ms) { return !ms.empty(); }));
  ASSERT_TRUE(second.wait([](const auto& ms) { return !ms.empty(); }));
}

}  // namespace
}  // namespace stopcall::depot
