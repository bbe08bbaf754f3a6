// Several collectors: two `stopcall-fleet serve` processes in one shared subscription group
// (`--shared`), each with its own broker login, writing one PostgreSQL store (a server the test
// starts), against a real mosquitto with clients playing buses on route 101 of the demo route data.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "daemon/fleet/command.hpp"
#include "depot/commands.hpp"
#include "depot/serve.hpp"
#include "depot/store.hpp"
#include "tests/daemon/fleet/broker.hpp"
#include "tests/depot/fleet_process.hpp"
#include "tests/depot/postgres.hpp"

namespace stopcall::depot {
namespace {

using json = nlohmann::json;
using routes::testing::TempDir;
using routes::testing::write_file;
using testing::depot::FleetProcess;
using testing::depot::Postgres;
using testing::fleet::Broker;
using testing::fleet::Message;
using testing::fleet::Peer;
using namespace std::chrono_literals;

const std::string kPrefix = "stopcall/v1";

class Shared : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    bundle_dir_ = new TempDir;
    ASSERT_TRUE(routes::testing::import_demo(*bundle_dir_ / "demo.db"));
  }
  static void TearDownTestSuite() { delete bundle_dir_; }

  Shared()
      : broker_({{"depot", "depot-pw"},
                 {"depot-2", "depot2-pw"},
                 {"control", "control-pw"},
                 {"bus-1", "b1"},
                 {"bus-2", "b2"},
                 {"bus-3", "b3"},
                 {"bus-4", "b4"}},
                false,
                // The second collector's login reads and writes what the first's does.
                "\nuser depot-2\ntopic readwrite stopcall/#\n" + control_access(kPrefix)),
        keys_(routes::generate_keypair(dir_ / "control.secret", dir_ / "control.public")) {
    write_file(dir_ / "depot.password", "depot-pw\n");
    write_file(dir_ / "depot-2.password", "depot2-pw\n");
  }

  void SetUp() override {
    if (!Postgres::available())
      GTEST_SKIP() << "PostgreSQL 15 is not installed (/usr/lib/postgresql/15/bin): tools/setup "
                      "installs postgresql-15";
    store_ = Postgres::shared().fresh_database();
  }

  // Collector `login` (depot or depot-2) of the group "collectors".
  std::unique_ptr<FleetProcess> collector(const std::string& login) {
    auto p = std::make_unique<FleetProcess>(
        std::vector<std::string>{"serve", "--broker", "127.0.0.1:" + std::to_string(broker_.port()),
                                 "--user", login, "--password-file", dir_ / (login + ".password"),
                                 "--store", store_, "--bundle", *bundle_dir_ / "demo.db", "--key",
                                 dir_ / "control.secret", "--shared", "collectors"},
        dir_ / (login + ".log"));
    EXPECT_TRUE(p->wait_log("connected to", 1, 30s)) << p->log();
    return p;
  }

  std::unique_ptr<Peer> bus(const std::string& id, const std::string& password) {
    auto p = std::make_unique<Peer>(broker_.port(), id, password,
                                    std::vector<std::string>{kPrefix + "/bus/" + id + "/requests"});
    EXPECT_EQ(p->wait_ready(), 0);
    return p;
  }

  static std::string event(const std::string& vehicle, int seq) {
    return testing::depot::bus_event(
        vehicle, seq,
        {{"type", "arrived"}, {"time", "2026-03-02T06:41:00Z"}, {"stop_id", "HQC-E"}});
  }
  static std::string status(const std::string& vehicle, const std::string& trip, int index,
                            const std::string& stop) {
    return testing::depot::bus_status(vehicle, trip, index, stop);
  }

  std::int64_t stored_events() {
    FleetStore store(store_, true);
    return store.event_count();
  }
  bool wait_events(std::int64_t n) {
    for (int i = 0; i < 400; ++i) {
      if (stored_events() >= n) return true;
      std::this_thread::sleep_for(50ms);
    }
    return false;
  }
  // How many of the buses' events the broker handed to collector `login`.
  int handed_to(const std::string& login) {
    const std::string log = broker_.log();
    const std::string what = "Sending PUBLISH to " + login + " (";
    int n = 0;
    for (auto at = log.find(what); at != std::string::npos; at = log.find(what, at + 1)) {
      const auto end = log.find('\n', at);
      if (log.substr(at, end - at).find("/events'") != std::string::npos) ++n;
    }
    return n;
  }

  std::unique_ptr<Peer> platform(const std::string& booking_id) {
    auto p =
        std::make_unique<Peer>(broker_.port(), "control", "control-pw",
                               std::vector<std::string>{kPrefix + "/depot/bookings/" + booking_id});
    EXPECT_EQ(p->wait_ready(), 0);
    return p;
  }
  static bool has_state(const std::vector<Message>& ms, const std::string& state) {
    for (const auto& m : ms)
      if (json::parse(m.payload).value("state", "") == state) return true;
    return false;
  }
  json command_for(const std::string& vehicle, const std::string& payload) {
    daemon::fleet::CommandGate gate(keys_.public_key, vehicle);
    const auto now =
        std::chrono::floor<std::chrono::milliseconds>(std::chrono::system_clock::now());
    const auto check =
        gate.check(payload, {daemon::fleet::Audience::Kind::bus, vehicle}, "101", now);
    EXPECT_TRUE(check.command) << check.error << ": " << check.message;
    return check.command ? json::parse(check.command->command) : json();
  }

  static inline TempDir* bundle_dir_ = nullptr;
  TempDir dir_;
  Broker broker_;
  routes::KeyPair keys_;
  std::string store_;
};

TEST_F(Shared, EventsFromSeveralBusesAreStoredOnceAndSplitBetweenTheCollectors) {
  auto a = collector("depot");
  auto b = collector("depot-2");
  std::vector<std::unique_ptr<Peer>> buses;
  for (int i = 1; i <= 4; ++i)
    buses.push_back(bus("bus-" + std::to_string(i), "b" + std::to_string(i)));
  // 25 events each, and the first 5 of each again (QoS 1: the bus did not see the ack).
  for (int i = 0; i < 4; ++i) {
    const std::string v = "bus-" + std::to_string(i + 1);
    for (int seq = 1; seq <= 25; ++seq)
      ASSERT_TRUE(buses[i]->publish(kPrefix + "/bus/" + v + "/events", event(v, seq)));
    for (int seq = 1; seq <= 5; ++seq)
      ASSERT_TRUE(buses[i]->publish(kPrefix + "/bus/" + v + "/events", event(v, seq)));
  }
  ASSERT_TRUE(wait_events(100)) << stored_events() << "\n" << a->log() << b->log();
  std::this_thread::sleep_for(500ms);  // nothing more comes: the copies were kept once
  FleetStore store(store_, true);
  for (int i = 1; i <= 4; ++i)
    EXPECT_EQ(store.event_count("bus-" + std::to_string(i)), 25);
  // Both collectors took a share of the 120 publishes (none took them all).
  const int to_a = handed_to("depot"), to_b = handed_to("depot-2");
  EXPECT_EQ(to_a + to_b, 120);
  EXPECT_GT(to_a, 0);
  EXPECT_GT(to_b, 0);
  EXPECT_EQ(a->finish(), 0) << a->log();
  EXPECT_EQ(b->finish(), 0) << b->log();
}

TEST_F(Shared, ACollectorKilledLosesNothing) {
  auto a = collector("depot");
  auto b = collector("depot-2");
  auto bus1 = bus("bus-1", "b1");
  auto bus2 = bus("bus-2", "b2");
  for (int seq = 1; seq <= 10; ++seq) {
    ASSERT_TRUE(bus1->publish(kPrefix + "/bus/bus-1/events", event("bus-1", seq)));
    ASSERT_TRUE(bus2->publish(kPrefix + "/bus/bus-2/events", event("bus-2", seq)));
  }
  ASSERT_TRUE(wait_events(20));
  a.reset();  // SIGKILL: no clean disconnect
  const int before = handed_to("depot-2");

  // Published while it is dead: the other collector stores what the broker gives it; Mosquitto
  // keeps handing the dead one its turn, queued in its persistent session until it is back (as
  // systemd restarts it).
  for (int seq = 11; seq <= 30; ++seq) {
    ASSERT_TRUE(bus1->publish(kPrefix + "/bus/bus-1/events", event("bus-1", seq)));
    ASSERT_TRUE(bus2->publish(kPrefix + "/bus/bus-2/events", event("bus-2", seq)));
  }
  for (int i = 0; i < 100 && handed_to("depot-2") == before; ++i)
    std::this_thread::sleep_for(50ms);
  EXPECT_GT(handed_to("depot-2"), before);
  std::this_thread::sleep_for(1s);
  const auto while_dead = stored_events();
  EXPECT_GT(while_dead, 20);
  EXPECT_LE(while_dead, 60);

  a = collector("depot");
  ASSERT_TRUE(wait_events(60)) << stored_events() << "\n" << a->log() << b->log();
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(stored_events(), 60) << "while one was dead: " << while_dead - 20 << " of 40";
  EXPECT_EQ(a->finish(), 0) << a->log();
  EXPECT_EQ(b->finish(), 0) << b->log();
}

TEST_F(Shared, ABookingIsRoutedAndHandedOnWithTwoCollectors) {
  auto a = collector("depot");
  auto b = collector("depot-2");
  auto bus1 = bus("bus-1", "b1");
  auto bus2 = bus("bus-2", "b2");
  // Both before Chegongmiao: bus-1 one stop before it, bus-2 three.
  ASSERT_TRUE(bus1->publish(kPrefix + "/bus/bus-1/status",
                            status("bus-1", "101-WD-E-0630", 3, "ZZL-E"), true));
  ASSERT_TRUE(bus2->publish(kPrefix + "/bus/bus-2/status",
                            status("bus-2", "101-WD-E-0640", 1, "HQC-E"), true));
  for (int i = 0; i < 200; ++i) {
    FleetStore store(store_, true);
    if (store.statuses().size() == 2) break;
    std::this_thread::sleep_for(50ms);
  }

  auto booking = platform("b-7");
  ASSERT_TRUE(booking->publish(
      kPrefix + "/depot/bookings",
      R"({"booking_id":"b-7","kind":"wheelchair","route_id":"101","stop_id":"CGM-E"})"));
  ASSERT_TRUE(bus1->wait([](const auto& ms) { return !ms.empty(); })) << a->log() << b->log();
  const json first = command_for("bus-1", bus1->messages()[0].payload);
  EXPECT_EQ(first["request_id"], "b-7");
  // bus-1 refuses, without the request_id: the command id alone names the booking, whichever
  // collector gets the answer.
  ASSERT_TRUE(bus1->publish(kPrefix + "/bus/bus-1/requests/ack",
                            json{{"vehicle", "bus-1"},
                                 {"accepted", false},
                                 {"id", first["id"]},
                                 {"error", "too_many"},
                                 {"message", "4 requests at this stop"}}
                                .dump()));
  ASSERT_TRUE(bus2->wait([](const auto& ms) { return !ms.empty(); })) << a->log() << b->log();
  const json second = command_for("bus-2", bus2->messages()[0].payload);
  EXPECT_EQ(second["request_id"], "b-7");
  EXPECT_EQ(second["id"], "b-7-2");
  ASSERT_TRUE(bus2->publish(kPrefix + "/bus/bus-2/requests/ack", json{{"vehicle", "bus-2"},
                                                                      {"accepted", true},
                                                                      {"id", second["id"]},
                                                                      {"request_id", "b-7"},
                                                                      {"message", "ok"}}
                                                                     .dump()));
  ASSERT_TRUE(booking->wait([](const auto& ms) { return has_state(ms, "accepted"); }))
      << a->log() << b->log();
  ASSERT_TRUE(bus2->publish(kPrefix + "/bus/bus-2/events", json{{"vehicle", "bus-2"},
                                                                {"seq", 1},
                                                                {"event",
                                                                 {{"type", "request"},
                                                                  {"time", "2026-03-02T06:58:00Z"},
                                                                  {"id", "b-7"},
                                                                  {"kind", "wheelchair"},
                                                                  {"stop_id", "CGM-E"},
                                                                  {"fate", "served"}}}}
                                                               .dump()));
  ASSERT_TRUE(booking->wait([](const auto& ms) { return has_state(ms, "served"); }))
      << a->log() << b->log();
  FleetStore store(store_, true);
  const auto end = store.booking("b-7");
  ASSERT_TRUE(end);
  EXPECT_EQ(end->state, "served");
  EXPECT_EQ(end->vehicle, "bus-2");
  EXPECT_EQ(end->tried, std::vector<std::string>{"bus-1"});
  EXPECT_EQ(end->sends, 2);  // each bus got one command: no collector sent it twice
  EXPECT_EQ(bus1->messages().size(), 1u);
  EXPECT_EQ(bus2->messages().size(), 1u);
  EXPECT_EQ(a->finish(), 0) << a->log();
  EXPECT_EQ(b->finish(), 0) << b->log();
}

TEST(SharedOptions, AGroupThatIsNotOneTopicLevelIsRefused) {
  EXPECT_THROW(serve_topics(kPrefix, "a/b"), std::invalid_argument);
  EXPECT_THROW(serve_topics(kPrefix, "#"), std::invalid_argument);
  EXPECT_EQ(serve_topics(kPrefix, "g")[1], "$share/g/stopcall/v1/bus/+/events");
  EXPECT_EQ(serve_topics(kPrefix, "")[1], "stopcall/v1/bus/+/events");
}

}  // namespace
}  // namespace stopcall::depot
