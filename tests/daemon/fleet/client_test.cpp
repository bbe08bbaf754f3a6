// The bus's fleet client against a real mosquitto (broker.hpp): the client on its own io_context
// thread as in the daemon, a real event store, and the depot played by a plain MQTT client.
#include "daemon/fleet/client.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <future>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>

#include "daemon/log/event_store.hpp"
#include "tests/daemon/fleet/broker.hpp"

namespace stopcall::daemon::fleet {
namespace {

namespace asio = boost::asio;
using json = nlohmann::json;
using testing::fleet::Broker;
using testing::fleet::Message;
using testing::fleet::Peer;
using namespace std::chrono_literals;

const std::vector<std::pair<std::string, std::string>> kUsers = {
    {"depot", "depot-secret"}, {"bus-A", "secret-A"}, {"bus-B", "secret-B"}};

std::string event_line(int i) {
  return json{{"type", "arrived"}, {"time", "2026-03-01T22:30:00.000Z"}, {"n", i}}.dump();
}

// One bus: the event store, the fleet client on an io_context thread, a status that the test sets.
class Bus {
 public:
  Bus(const std::string& store_path, int port, const std::string& dir, StatusRecord initial = {},
      const std::function<void(Options&)>& tweak = {})
      : status_(std::move(initial)) {
    const std::string vehicle = "bus-A", password = "secret-A";
    log::EventStore::Options store_options;
    store_options.batch_interval = 20ms;
    store_ = std::make_unique<log::EventStore>(store_path, store_options);
    Options o;
    o.host = "127.0.0.1";
    o.port = port;
    o.vehicle = vehicle;
    o.password_file = dir + "/" + vehicle + ".password";
    routes::testing::write_file(o.password_file, password + "\n");
    o.software = "test";
    o.reconnect_min = 200ms;
    o.reconnect_max = 1000ms;
    o.poll_interval = 50ms;
    o.status_interval = 10s;
    if (tweak) tweak(o);
    client_ = std::make_unique<Client>(
        io_, o, store_path, [] { return tracking::Time{} + std::chrono::hours(24 * 20000); },
        [this] {
          std::lock_guard lock(mutex_);
          return status_;
        },
        [this](const vehicle::Command& c) {
          std::lock_guard lock(mutex_);
          commands_.push_back(c);
          return reply_;
        },
        [this](bool warning, std::string_view text) {
          std::lock_guard lock(mutex_);
          log_ += (warning ? "warning: " : "info: ") + std::string(text) + "\n";
        });
    client_->start();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~Bus() { stop(); }

  void append(int from, int to) {
    for (int i = from; i < to; ++i)
      store_->append(event_line(i));
    store_->flush();
  }
  void set_status(const std::string& trip, const std::string& gps) {
    std::lock_guard lock(mutex_);
    status_.trip_id = trip;
    status_.gps = gps;
    status_.bundle = "demo-1";
  }
  void set_reply(vehicle::Reply r) {
    std::lock_guard lock(mutex_);
    reply_ = std::move(r);
  }
  std::vector<vehicle::Command> commands() {
    std::lock_guard lock(mutex_);
    return commands_;
  }
  std::string log() {
    std::lock_guard lock(mutex_);
    return log_;
  }
  ClientStats stats() {
    std::promise<ClientStats> p;
    asio::post(io_, [&] { p.set_value(client_->stats()); });
    return p.get_future().get();
  }
  bool wait_stats(const std::function<bool(const ClientStats&)>& done,
                  std::chrono::milliseconds timeout = 15s) {
    const auto until = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < until) {
      if (done(stats())) return true;
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }
  void stop() {
    if (!thread_.joinable()) return;
    asio::post(io_, [this] { client_->stop(); });
    work_.reset();
    thread_.join();
    client_.reset();
    store_.reset();
  }

 private:
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_{io_.get_executor()};
  std::unique_ptr<log::EventStore> store_;
  std::unique_ptr<Client> client_;
  std::thread thread_;
  std::mutex mutex_;
  StatusRecord status_;
  vehicle::Reply reply_ = vehicle::Reply::success("request accepted");
  std::vector<vehicle::Command> commands_;
  std::string log_;
};

// The seqs of the events received, in the order received.
std::vector<std::int64_t> seqs(const std::vector<Message>& messages) {
  std::vector<std::int64_t> out;
  for (const auto& m : messages) {
    if (m.topic.ends_with("/events")) out.push_back(json::parse(m.payload).at("seq").get<int>());
  }
  return out;
}

std::vector<json> on(const std::vector<Message>& messages, const std::string& suffix) {
  std::vector<json> out;
  for (const auto& m : messages) {
    if (m.topic.ends_with(suffix)) out.push_back(json::parse(m.payload));
  }
  return out;
}

TEST(FleetClient, StatusIsRetainedAndFollowsTheBusAndSaysOfflineAtStop) {
  Broker broker(kUsers);
  routes::testing::TempDir dir;
  StatusRecord initial;
  initial.trip_id = "101-WD-E-0630";
  initial.gps = "fix";
  initial.bundle = "demo-1";
  Bus bus(dir / "events.db", broker.port(), dir.path(), initial);
  ASSERT_TRUE(bus.wait_stats([](const ClientStats& s) { return s.connected; })) << bus.log();

  // The depot comes later: the broker hands it the bus's last status (retained).
  Peer depot(broker.port(), "depot", "depot-secret", {"stopcall/v1/bus/+/status"});
  ASSERT_EQ(depot.wait_ready(), 0);
  ASSERT_TRUE(depot.wait([](const auto& m) { return !m.empty(); })) << broker.log();
  const Message first = depot.messages().front();
  EXPECT_EQ(first.topic, "stopcall/v1/bus/bus-A/status");
  EXPECT_TRUE(first.retain);
  const auto status = json::parse(first.payload).get<StatusRecord>();
  EXPECT_EQ(status.vehicle, "bus-A");
  EXPECT_TRUE(status.online);
  EXPECT_EQ(status.software, "test");
  EXPECT_EQ(status.bundle, "demo-1");
  EXPECT_EQ(status.trip_id, "101-WD-E-0630");
  EXPECT_EQ(status.gps, "fix");

  // A change is told within a second or so, not at the next 10 s.
  bus.set_status("101-WD-E-0630", "no_fix");
  ASSERT_TRUE(depot.wait(
      [](const auto& m) {
        auto all = on(m, "/status");
        return !all.empty() && all.back().value("gps", "") == "no_fix";
      },
      3s));

  // A clean stop says offline (the will is for a bus that vanishes; see the daemon test).
  bus.stop();
  ASSERT_TRUE(depot.wait(
      [](const auto& m) {
        auto all = on(m, "/status");
        return !all.empty() && all.back() == json::parse(R"({"vehicle":"bus-A","online":false})");
      },
      3s));
  Peer later(broker.port(), "depot", "depot-secret", {"stopcall/v1/bus/bus-A/status"});
  ASSERT_EQ(later.wait_ready(), 0);
  ASSERT_TRUE(later.wait([](const auto& m) { return !m.empty(); }));
  EXPECT_EQ(json::parse(later.messages().front().payload).value("online", true), false);
}

// Nothing changes: the status still comes at its interval (the depot sees the bus is alive).
TEST(FleetClient, TheStatusIsRepeatedAtItsIntervalWhenNothingChanges) {
  Broker broker(kUsers);
  routes::testing::TempDir dir;
  Peer depot(broker.port(), "depot", "depot-secret", {"stopcall/v1/bus/+/status"});
  ASSERT_EQ(depot.wait_ready(), 0);
  Bus bus(dir / "events.db", broker.port(), dir.path(), {},
          [](Options& o) { o.status_interval = 1s; });
  ASSERT_TRUE(depot.wait([](const auto& m) { return m.size() >= 3; }, 8s));
  const auto statuses = on(depot.messages(), "/status");
  EXPECT_TRUE(json(statuses[0]).value("online", false));
  EXPECT_EQ(statuses[0]["trip_id"], statuses[2]["trip_id"]);
}

// Events go up in order; the broker dies (SIGKILL) and the bus keeps logging for a while; the
// broker comes back on the same port: everything logged meanwhile goes up, once, in order.
TEST(FleetClient, EventsGoUpInOrderOnceAcrossABrokerCrash) {
  Broker broker(kUsers);
  routes::testing::TempDir dir;
  const std::string store = dir / "events.db";
  {
    log::EventStore early(store);  // logged before the link came up: sent too
    for (int i = 0; i < 40; ++i)
      early.append(event_line(i));
  }
  // The depot's session is persistent, and saved by the broker before the crash: what the bus
  // sends on its return is kept for the depot even if the bus is back first.
  Peer depot(broker.port(), "depot", "depot-secret", {"stopcall/v1/bus/+/events"}, false);
  ASSERT_EQ(depot.wait_ready(), 0);
  Bus bus(store, broker.port(), dir.path());
  bus.append(40, 100);
  ASSERT_TRUE(depot.wait([](const auto& m) { return seqs(m).size() >= 100; })) << bus.log();
  ASSERT_TRUE(bus.wait_stats([](const ClientStats& s) { return s.acked_seq == 100; }));
  ASSERT_TRUE(broker.wait_saved()) << "the depot's session must be on disk before the crash";

  broker.kill();
  ASSERT_TRUE(bus.wait_stats([](const ClientStats& s) { return !s.connected; }));
  bus.append(100, 250);  // offline: they wait in the store
  std::this_thread::sleep_for(1500ms);
  EXPECT_EQ(bus.stats().acked_seq, 100);
  broker.start();
  ASSERT_TRUE(depot.wait([](const auto& m) { return seqs(m).size() >= 250; }, 20s))
      << "got " << seqs(depot.messages()).size() << "\n"
      << bus.log() << broker.log();
  ASSERT_TRUE(bus.wait_stats([](const ClientStats& s) { return s.acked_seq == 250; }));
  std::this_thread::sleep_for(300ms);  // nothing more comes
  const auto got = seqs(depot.messages());
  std::vector<std::int64_t> want;
  for (int i = 1; i <= 250; ++i)
    want.push_back(i);
  EXPECT_EQ(got, want) << "every event once, in order";
  // Each carries its line.
  const auto events = on(depot.messages(), "/events");
  EXPECT_EQ(events.back()["event"]["n"], 249);
  EXPECT_EQ(events.back()["vehicle"], "bus-A");
  EXPECT_GE(bus.stats().connects, 2);
}

// The broker dies while events are in flight: the bus sends again exactly what it had not seen
// acknowledged (from its mark on), and the depot has every event after that. (What the dead
// broker had acknowledged but not yet passed on is the broker's to keep: a depot's broker runs
// with persistence; the depot keeps each (vehicle, seq) once.)
TEST(FleetClient, ABrokerCrashMidStreamResendsOnlyWhatWasNotAcknowledged) {
  Broker broker(kUsers);
  routes::testing::TempDir dir;
  Peer depot(broker.port(), "depot", "depot-secret", {"stopcall/v1/bus/+/events"}, false);
  ASSERT_EQ(depot.wait_ready(), 0);
  ASSERT_TRUE(broker.wait_saved()) << "the depot's session must be on disk before the crash";
  Bus bus(dir / "events.db", broker.port(), dir.path());
  ASSERT_TRUE(bus.wait_stats([](const ClientStats& s) { return s.connected; }));
  bus.append(0, 3000);
  ASSERT_TRUE(bus.wait_stats([](const ClientStats& s) { return s.acked_seq >= 200; }));
  broker.kill();
  ASSERT_TRUE(bus.wait_stats([](const ClientStats& s) { return !s.connected; }));
  const auto at_crash = bus.stats();
  EXPECT_LT(at_crash.acked_seq, 3000) << "the crash came too late to be mid-stream";
  broker.start();
  ASSERT_TRUE(bus.wait_stats([](const ClientStats& s) { return s.acked_seq == 3000; }, 30s))
      << bus.log();
  // Before the crash it had published seq 1..P; after it, from its mark on, each once.
  EXPECT_EQ(bus.stats().events_published, at_crash.events_published + 3000 - at_crash.acked_seq);
  ASSERT_TRUE(depot.wait(
      [&](const auto& m) {
        std::set<std::int64_t> got;
        for (auto s : seqs(m))
          if (s > at_crash.acked_seq) got.insert(s);
        return got.size() == static_cast<std::size_t>(3000 - at_crash.acked_seq);
      },
      20s))
      << "the events the bus had not seen acknowledged did not all reach the depot\n"
      << broker.log();
}

// The broker stops answering without closing anything (a mobile network gone quiet): the bus
// notices by its keep-alive, leaves, and comes back when the broker answers again.
TEST(FleetClient, ABrokerThatStopsAnsweringIsLeftAndFoundAgain) {
  Broker broker(kUsers);
  routes::testing::TempDir dir;
  Bus bus(dir / "events.db", broker.port(), dir.path(), {}, [](Options& o) {
    o.keepalive_s = 5;  // libmosquitto's least
    o.connect_timeout = 2s;
  });
  ASSERT_TRUE(bus.wait_stats([](const ClientStats& s) { return s.connected; }));
  broker.pause();
  bus.append(0, 10);
  ASSERT_TRUE(bus.wait_stats([](const ClientStats& s) { return !s.connected; }, 15s)) << bus.log();
  EXPECT_EQ(bus.stats().acked_seq, 0);
  broker.resume();
  ASSERT_TRUE(bus.wait_stats([](const ClientStats& s) { return s.acked_seq == 10; }, 15s))
      << bus.log();
  EXPECT_GE(bus.stats().connects, 2);
}

// The sent-up-to mark is in the store: a new run of the bus sends only what is new.
TEST(FleetClient, TheSentMarkSurvivesARestartOfTheBus) {
  Broker broker(kUsers);
  routes::testing::TempDir dir;
  const std::string store = dir / "events.db";
  Peer depot(broker.port(), "depot", "depot-secret", {"stopcall/v1/bus/+/events"});
  ASSERT_EQ(depot.wait_ready(), 0);
  {
    Bus bus(store, broker.port(), dir.path());
    bus.append(0, 20);
    ASSERT_TRUE(bus.wait_stats([](const ClientStats& s) { return s.acked_seq == 20; }));
  }
  Bus again(store, broker.port(), dir.path());
  EXPECT_EQ(again.stats().acked_seq, 20);
  again.append(20, 25);
  ASSERT_TRUE(again.wait_stats([](const ClientStats& s) { return s.acked_seq == 25; }));
  std::this_thread::sleep_for(200ms);
  std::vector<std::int64_t> want;
  for (int i = 1; i <= 25; ++i)
    want.push_back(i);
  EXPECT_EQ(seqs(depot.messages()), want);
}

TEST(FleetClient, ARequestReachesTheBusAndIsAnswered) {
  Broker broker(kUsers);
  routes::testing::TempDir dir;
  Bus bus(dir / "events.db", broker.port(), dir.path());
  ASSERT_TRUE(bus.wait_stats([](const ClientStats& s) { return s.connected; }));
  Peer depot(broker.port(), "depot", "depot-secret", {"stopcall/v1/bus/bus-A/requests/ack"});
  ASSERT_EQ(depot.wait_ready(), 0);
  const std::string topic = "stopcall/v1/bus/bus-A/requests";
  ASSERT_TRUE(depot.publish(topic, R"({"id":"m1","cmd":"request","kind":"blind",)"
                                   R"("stop_id":"CGM-E","route_id":"101","request_id":"r1"})"));
  ASSERT_TRUE(depot.wait([](const auto& m) { return on(m, "/ack").size() == 1; }));
  auto ack = on(depot.messages(), "/ack").back().get<RequestAck>();
  EXPECT_TRUE(ack.accepted);
  EXPECT_EQ(ack.id, "m1");
  EXPECT_EQ(ack.request_id, "r1");
  EXPECT_EQ(ack.vehicle, "bus-A");
  const auto commands = bus.commands();
  ASSERT_EQ(commands.size(), 1u);
  const auto& request = std::get<vehicle::BoardingRequestIn>(commands[0]);
  EXPECT_EQ(request.stop_id, "CGM-E");
  EXPECT_EQ(request.source, "fleet");

  // The bus's refusal goes back with its reason.
  bus.set_reply(vehicle::Reply::failure("unknown_stop", "no stop \"X\" in the route data"));
  ASSERT_TRUE(depot.publish(topic, R"({"id":"m2","cmd":"request","kind":"wheelchair",)"
                                   R"("stop_id":"X","route_id":"101"})"));
  // A door signal is not the fleet's to give: refused without reaching the bus.
  ASSERT_TRUE(depot.publish(topic, R"({"id":"m3","cmd":"signal","signal":"door","state":"open"})"));
  ASSERT_TRUE(depot.wait([](const auto& m) { return on(m, "/ack").size() == 3; }));
  const auto acks = on(depot.messages(), "/ack");
  EXPECT_EQ(acks[1]["accepted"], false);
  EXPECT_EQ(acks[1]["error"], "unknown_stop");
  EXPECT_EQ(acks[2]["accepted"], false);
  EXPECT_EQ(acks[2]["error"], "not_a_request");
  EXPECT_EQ(acks[2]["id"], "m3");
  EXPECT_EQ(bus.commands().size(), 2u);
}

// The access file: a bus publishes only under its own name and reads only its own requests; a
// wrong password is refused.
TEST(FleetBroker, ABusCannotPublishOrReadAsAnother) {
  Broker broker(kUsers);
  Peer depot(broker.port(), "depot", "depot-secret", {"stopcall/v1/#"});
  ASSERT_EQ(depot.wait_ready(), 0);
  Peer a(broker.port(), "bus-A", "secret-A", {"stopcall/v1/bus/bus-B/requests"});
  ASSERT_EQ(a.wait_ready(), 0);
  ASSERT_TRUE(
      a.publish("stopcall/v1/bus/bus-B/status", R"({"vehicle":"bus-B","online":false})", true));
  ASSERT_TRUE(a.publish("stopcall/v1/bus/bus-B/events", R"({"vehicle":"bus-B","seq":1})"));
  ASSERT_TRUE(a.publish("stopcall/v1/bus/bus-A/status", R"({"vehicle":"bus-A","online":true})"));
  ASSERT_TRUE(depot.publish("stopcall/v1/bus/bus-B/requests", R"({"cmd":"request"})"));
  ASSERT_TRUE(depot.wait([](const auto& m) {
    for (const auto& x : m)
      if (x.topic == "stopcall/v1/bus/bus-A/status") return true;
    return false;
  }));
  std::this_thread::sleep_for(300ms);
  for (const auto& m : depot.messages()) {
    EXPECT_FALSE(m.topic.starts_with("stopcall/v1/bus/bus-B/status")) << m.payload;
    EXPECT_FALSE(m.topic.starts_with("stopcall/v1/bus/bus-B/events")) << m.payload;
  }
  EXPECT_TRUE(a.messages().empty()) << "bus-A read bus-B's requests";

  Peer wrong(broker.port(), "bus-A", "guess");
  EXPECT_EQ(wrong.wait_ready(), 5);  // not authorised
}

// No broker at all: the client keeps trying, spaced, and says why; nothing else happens.
TEST(FleetClient, WithoutABrokerItRetriesSpacedOut) {
  routes::testing::TempDir dir;
  const int port = testing::fleet::free_tcp_port();  // nobody listens
  Bus bus(dir / "events.db", port, dir.path());
  bus.append(0, 5);
  std::this_thread::sleep_for(2500ms);
  const auto stats = bus.stats();
  EXPECT_FALSE(stats.connected);
  // reconnect_min 200 ms, doubling windows: a handful of tries in 2.5 s, not hundreds.
  EXPECT_GE(stats.connect_failures, 2);
  EXPECT_LE(stats.connect_failures, 10);
  EXPECT_EQ(stats.acked_seq, 0);
}

// TLS: the broker's certificate is checked against the configured CA; another CA's broker is
// never talked to (the password is not sent).
TEST(FleetClient, OverTlsTheBrokerIsCheckedAgainstTheCa) {
  Broker broker(kUsers, true);
  routes::testing::TempDir dir;
  Peer depot(broker.port(), "depot", "depot-secret", {"stopcall/v1/bus/+/events"}, true,
             broker.ca_file());
  ASSERT_EQ(depot.wait_ready(), 0) << broker.log();
  {
    Bus bus(dir / "events.db", broker.port(), dir.path(), {},
            [&](Options& o) { o.ca_file = broker.ca_file(); });
    bus.append(0, 10);
    ASSERT_TRUE(bus.wait_stats([](const ClientStats& s) { return s.acked_seq == 10; }))
        << bus.log() << broker.log();
    ASSERT_TRUE(depot.wait([](const auto& m) { return seqs(m).size() == 10; }));
  }
  Bus wrong(dir / "other.db", broker.port(), dir.path(), {},
            [&](Options& o) { o.ca_file = broker.other_ca_file(); });
  std::this_thread::sleep_for(1500ms);
  const auto stats = wrong.stats();
  EXPECT_FALSE(stats.connected);
  EXPECT_EQ(stats.connects, 0);
  EXPECT_GE(stats.connect_failures, 1) << wrong.log();
}

}  // namespace
}  // namespace stopcall::daemon::fleet
