// The bus's fleet client against a real mosquitto (broker.hpp): the client on its own io_context
// thread as in the daemon, a real event store, and the depot played by a plain MQTT client.
#include "daemon/fleet/client.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <filesystem>
#include <future>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>

#include "daemon/fleet/command.hpp"
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

// The control centre's signing key, made once per test folder; its public half is what the buses
// are configured with (centre.pub).
routes::SecretKey centre_key(const std::string& dir) {
  const std::string secret = dir + "/centre.key";
  if (std::filesystem::exists(secret)) return routes::load_secret_key(secret);
  return routes::generate_keypair(secret, dir + "/centre.pub").secret;
}

tracking::Time system_now() {
  return std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
}

const Audience kBusA{Audience::Kind::bus, "bus-A"};

std::string event_line(int i) {
  return json{{"type", "arrived"}, {"time", "2026-03-01T22:30:00.000Z"}, {"n", i}}.dump();
}

// One bus: the event store, the fleet client on an io_context thread, a status that the test sets.
class Bus {
 public:
  Bus(const std::string& store_path, int port, const std::string& dir, StatusRecord initial = {},
      const std::function<void(Options&)>& tweak = {})
      : status_(std::move(initial)) {
    log::EventStore::Options store_options;
    store_options.batch_interval = 20ms;
    store_ = std::make_unique<log::EventStore>(store_path, store_options);
    Options o;
    o.host = "127.0.0.1";
    o.port = port;
    o.vehicle = "bus-A";
    o.software = "test";
    o.reconnect_min = 200ms;
    o.reconnect_max = 1000ms;
    o.poll_interval = 50ms;
    o.status_interval = 10s;
    centre_key(dir);
    o.command_key = dir + "/centre.pub";
    if (tweak) tweak(o);
    // bus-A's password is secret-A (kUsers).
    o.password_file = dir + "/" + o.vehicle + ".password";
    routes::testing::write_file(o.password_file, "secret-" + o.vehicle.substr(4) + "\n");
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
    Client::CommandHooks hooks;
    hooks.record = [this](const log::Record& r) {
      std::lock_guard lock(mutex_);
      records_.push_back(json::parse(log::encode(r)));
    };
    client_->set_command_hooks(std::move(hooks));
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
  void set_route(const std::string& route) {
    {
      std::lock_guard lock(mutex_);
      status_.route_id = route;
    }
    client_->status_changed();
  }
  // The event log's lines the client wrote (fleet_command, fault).
  std::vector<json> records() {
    std::lock_guard lock(mutex_);
    return records_;
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
  std::vector<json> records_;
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
  const auto resent = static_cast<std::size_t>(3000 - at_crash.acked_seq);
  ASSERT_TRUE(depot.wait(
      [&](const auto& m) {
        // Checked on every message the depot takes, under its lock: parse them all only once
        // there can be enough (parsing ~3,000 each time held the depot's acknowledgements back
        // for longer than the wait in a sanitizer build).
        if (m.size() < resent) return false;
        std::set<std::int64_t> got;
        for (auto s : seqs(m))
          if (s > at_crash.acked_seq) got.insert(s);
        return got.size() == resent;
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
  const auto centre = centre_key(dir.path());
  ASSERT_TRUE(bus.wait_stats([](const ClientStats& s) { return s.connected; }));
  Peer depot(broker.port(), "depot", "depot-secret", {"stopcall/v1/bus/bus-A/requests/ack"});
  ASSERT_EQ(depot.wait_ready(), 0);
  const std::string topic = "stopcall/v1/bus/bus-A/requests";
  auto to_bus = [&](const std::string& line) {
    return sign_command(centre, kBusA, system_now(), line);
  };
  const std::string first = to_bus(R"({"id":"m1","cmd":"request","kind":"blind",)"
                                   R"("stop_id":"CGM-E","route_id":"101","request_id":"r1"})");
  ASSERT_TRUE(depot.publish(topic, first));
  ASSERT_TRUE(depot.wait([](const auto& m) { return on(m, "/ack").size() == 1; }));
  auto ack = on(depot.messages(), "/ack").back().get<RequestAck>();
  EXPECT_TRUE(ack.accepted);
  EXPECT_EQ(ack.id, "m1");
  EXPECT_EQ(ack.request_id, "r1");
  EXPECT_EQ(ack.vehicle, "bus-A");
  EXPECT_EQ(ack.nonce, json::parse(first)["nonce"]);
  const auto commands = bus.commands();
  ASSERT_EQ(commands.size(), 1u);
  const auto& request = std::get<vehicle::BoardingRequestIn>(commands[0]);
  EXPECT_EQ(request.stop_id, "CGM-E");
  EXPECT_EQ(request.source, "fleet");

  // The bus's refusal goes back with its reason.
  bus.set_reply(vehicle::Reply::failure("unknown_stop", "no stop \"X\" in the route data"));
  ASSERT_TRUE(depot.publish(topic, to_bus(R"({"id":"m2","cmd":"request","kind":"wheelchair",)"
                                          R"("stop_id":"X","route_id":"101"})")));
  // A door signal is not the fleet's to give: refused without reaching the bus.
  ASSERT_TRUE(
      depot.publish(topic, to_bus(R"({"id":"m3","cmd":"signal","signal":"door","state":"open"})")));
  ASSERT_TRUE(depot.wait([](const auto& m) { return on(m, "/ack").size() == 3; }));
  const auto acks = on(depot.messages(), "/ack");
  EXPECT_EQ(acks[1]["accepted"], false);
  EXPECT_EQ(acks[1]["error"], "unknown_stop");
  EXPECT_EQ(acks[2]["accepted"], false);
  EXPECT_EQ(acks[2]["error"], "not_a_request");
  EXPECT_EQ(acks[2]["id"], "m3");
  EXPECT_EQ(bus.commands().size(), 2u);
}

// What a stolen broker login, a recording or a slip of the depot could send: refused, answered
// with the reason, logged, and nothing reaches the bus's workflows.
TEST(FleetClient, OnlyFreshCommandsTheControlCentreSignedForThisBusAreTaken) {
  Broker broker(kUsers);
  routes::testing::TempDir dir;
  Bus bus(dir / "events.db", broker.port(), dir.path());
  const auto centre = centre_key(dir.path());
  const auto thief = routes::generate_keypair(dir / "thief.key", dir / "thief.pub").secret;
  ASSERT_TRUE(bus.wait_stats([](const ClientStats& s) { return s.connected; }));
  Peer depot(broker.port(), "depot", "depot-secret", {"stopcall/v1/bus/bus-A/requests/ack"});
  ASSERT_EQ(depot.wait_ready(), 0);
  const std::string topic = "stopcall/v1/bus/bus-A/requests";
  const std::string typhoon = R"({"id":"t1","cmd":"message","preset":"typhoon","message_id":"t8"})";
  const std::string good = sign_command(centre, kBusA, system_now(), typhoon, "nonce-good");
  ASSERT_TRUE(depot.publish(topic, good));
  ASSERT_TRUE(depot.wait([](const auto& m) { return on(m, "/ack").size() == 1; }));
  EXPECT_EQ(on(depot.messages(), "/ack")[0]["accepted"], true);
  ASSERT_EQ(bus.commands().size(), 1u);

  const Audience bus_b{Audience::Kind::bus, "bus-B"};
  const std::vector<std::pair<std::string, std::string>> attempts = {
      {sign_command(thief, kBusA, system_now(), typhoon, "nonce-forged"), "bad_signature"},
      {sign_command(centre, kBusA, system_now() - 301s, typhoon, "nonce-stale"), "stale"},
      {sign_command(centre, kBusA, system_now() + 1h, typhoon, "nonce-future"), "from_the_future"},
      {good, "replayed"},
      {sign_command(centre, bus_b, system_now(), typhoon, "nonce-for-b"), "not_addressed"},
      {typhoon, "unsigned"},
  };
  for (const auto& [payload, error] : attempts)
    ASSERT_TRUE(depot.publish(topic, payload));
  const std::size_t all = 1 + attempts.size();
  ASSERT_TRUE(depot.wait([&](const auto& m) { return on(m, "/ack").size() == all; }));
  const auto acks = on(depot.messages(), "/ack");
  std::vector<json> lines;
  for (const auto& r : bus.records())
    if (r["type"] == "fleet_command") lines.push_back(r);
  ASSERT_EQ(lines.size(), all);
  EXPECT_EQ(lines[0]["accepted"], true);
  EXPECT_EQ(lines[0]["to"], "bus:bus-A");
  EXPECT_EQ(lines[0]["nonce"], "nonce-good");
  for (std::size_t i = 0; i < attempts.size(); ++i) {
    const auto& ack = acks[i + 1];
    const auto& error = attempts[i].second;
    EXPECT_EQ(ack["accepted"], false) << ack.dump();
    EXPECT_EQ(ack["error"], error) << ack.dump();
    EXPECT_EQ(lines[i + 1]["accepted"], false) << lines[i + 1].dump();
    EXPECT_EQ(lines[i + 1]["error"], error) << lines[i + 1].dump();
    EXPECT_FALSE(lines[i + 1]["message"].get<std::string>().empty());
  }
  // Signed by the centre but refused: the depot is told which of its commands it was.
  EXPECT_EQ(acks[4]["id"], "t1");
  EXPECT_EQ(acks[4]["nonce"], "nonce-good");
  EXPECT_EQ(acks[2]["id"], "t1");
  EXPECT_EQ(acks[2]["nonce"], "nonce-stale");
  EXPECT_EQ(lines[5]["to"], "bus:bus-B");
  // A forgery's inner id is not believed.
  EXPECT_FALSE(acks[1].contains("id"));
  EXPECT_EQ(bus.commands().size(), 1u) << "a refused command reached the bus";
  EXPECT_EQ(bus.stats().commands_refused, static_cast<long>(attempts.size()));
}

// A bus without the control centre's key takes nothing from the fleet, and says so at start.
TEST(FleetClient, WithoutACommandKeyNoCommandIsTaken) {
  Broker broker(kUsers);
  routes::testing::TempDir dir;
  Bus bus(dir / "events.db", broker.port(), dir.path(), {},
          [](Options& o) { o.command_key.clear(); });
  const auto centre = centre_key(dir.path());
  ASSERT_TRUE(bus.wait_stats([](const ClientStats& s) { return s.connected; }));
  const auto start = bus.records();
  ASSERT_EQ(start.size(), 1u);
  EXPECT_EQ(start[0]["type"], "fault");
  EXPECT_EQ(start[0]["kind"], "no_command_key");
  Peer depot(broker.port(), "depot", "depot-secret", {"stopcall/v1/bus/bus-A/requests/ack"});
  ASSERT_EQ(depot.wait_ready(), 0);
  ASSERT_TRUE(depot.publish(
      "stopcall/v1/bus/bus-A/requests",
      sign_command(centre, kBusA, system_now(), R"({"cmd":"message","preset":"typhoon"})")));
  ASSERT_TRUE(depot.wait([](const auto& m) { return on(m, "/ack").size() == 1; }));
  EXPECT_EQ(on(depot.messages(), "/ack")[0]["error"], "no_command_key");
  EXPECT_TRUE(bus.commands().empty());
  EXPECT_EQ(bus.records().back()["error"], "no_command_key");
}

// A key file that is not a key stops the link at start with the file named (the bus announces on
// without it: run.cpp).
TEST(FleetClient, AnUnreadableCommandKeyIsAnErrorAtStart) {
  routes::testing::TempDir dir;
  routes::testing::write_file(dir / "centre.pub", "not a key\n");
  asio::io_context io;
  Options o;
  o.vehicle = "bus-A";
  o.command_key = dir / "centre.pub";
  Client client(io, o, {}, {}, {}, {}, {});
  try {
    client.start();
    ADD_FAILURE() << "started with a bad key";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr("command_key"));
    EXPECT_THAT(e.what(), ::testing::HasSubstr("centre.pub"));
  }
  o.command_key = dir / "missing.pub";
  Client missing(io, o, {}, {}, {}, {}, {});
  EXPECT_THROW(missing.start(), std::runtime_error);
}

// The broker fans a route's command out to the buses running that route, and the fleet's to
// every bus; a bus follows its trip's route, also after the route changes.
TEST(FleetClient, ARouteCommandReachesTheBusesOfThatRouteAndAFleetCommandEveryBus) {
  Broker broker(kUsers);
  routes::testing::TempDir dir;
  StatusRecord on_101, on_202;
  on_101.route_id = "101";
  on_202.route_id = "202";
  Bus a(dir / "a.db", broker.port(), dir.path(), on_101);
  Bus b(dir / "b.db", broker.port(), dir.path(), on_202, [](Options& o) { o.vehicle = "bus-B"; });
  const auto centre = centre_key(dir.path());
  ASSERT_TRUE(a.wait_stats([](const ClientStats& s) { return s.route == "101"; })) << a.log();
  ASSERT_TRUE(b.wait_stats([](const ClientStats& s) { return s.route == "202"; })) << b.log();
  Peer depot(broker.port(), "depot", "depot-secret", {"stopcall/v1/bus/+/requests/ack"});
  ASSERT_EQ(depot.wait_ready(), 0);
  const Audience route_101{Audience::Kind::route, "101"};
  auto message = [](const std::string& id) {
    return R"({"cmd":"message","preset":"typhoon","message_id":")" + id + R"("})";
  };
  auto acks_of = [](const std::vector<Message>& m, const std::string& vehicle) {
    return on(m, "/bus/" + vehicle + "/requests/ack");
  };

  ASSERT_TRUE(depot.publish("stopcall/v1/route/101/requests",
                            sign_command(centre, route_101, system_now(), message("r1"))));
  ASSERT_TRUE(depot.wait([&](const auto& m) { return acks_of(m, "bus-A").size() == 1; }));
  EXPECT_EQ(acks_of(depot.messages(), "bus-A")[0]["accepted"], true);
  ASSERT_TRUE(depot.publish("stopcall/v1/fleet/requests",
                            sign_command(centre, Audience{}, system_now(), message("f1"))));
  ASSERT_TRUE(depot.wait([&](const auto& m) {
    return acks_of(m, "bus-A").size() == 2 && acks_of(m, "bus-B").size() == 1;
  }));
  EXPECT_EQ(acks_of(depot.messages(), "bus-A")[1]["accepted"], true);
  EXPECT_EQ(acks_of(depot.messages(), "bus-B")[0]["accepted"], true);
  EXPECT_EQ(a.commands().size(), 2u);
  ASSERT_EQ(b.commands().size(), 1u) << "route 101's command reached the bus on route 202";
  EXPECT_EQ(std::get<vehicle::MessageIn>(b.commands()[0]).message_id, "f1");

  // A route's command copied to the fleet's topic is refused by every bus.
  ASSERT_TRUE(depot.publish("stopcall/v1/fleet/requests",
                            sign_command(centre, route_101, system_now(), message("r2"))));
  ASSERT_TRUE(depot.wait([&](const auto& m) {
    return acks_of(m, "bus-A").size() == 3 && acks_of(m, "bus-B").size() == 2;
  }));
  EXPECT_EQ(acks_of(depot.messages(), "bus-A")[2]["error"], "not_addressed");
  EXPECT_EQ(acks_of(depot.messages(), "bus-B")[1]["error"], "not_addressed");

  // Bus B changes to route 101: it now hears 101's commands, and no more 202's.
  b.set_route("101");
  ASSERT_TRUE(b.wait_stats([](const ClientStats& s) { return s.route == "101"; })) << b.log();
  ASSERT_TRUE(depot.publish(
      "stopcall/v1/route/202/requests",
      sign_command(centre, Audience{Audience::Kind::route, "202"}, system_now(), message("x"))));
  ASSERT_TRUE(depot.publish("stopcall/v1/route/101/requests",
                            sign_command(centre, route_101, system_now(), message("r3"))));
  ASSERT_TRUE(depot.wait([&](const auto& m) {
    return acks_of(m, "bus-A").size() == 4 && acks_of(m, "bus-B").size() == 3;
  }));
  EXPECT_EQ(acks_of(depot.messages(), "bus-B")[2]["accepted"], true);
  ASSERT_EQ(b.commands().size(), 2u);
  EXPECT_EQ(std::get<vehicle::MessageIn>(b.commands()[1]).message_id, "r3");
  EXPECT_EQ(b.stats().requests, 3) << "route 202's topic was still heard";

  // The broker restarts (a clean session: no subscription kept): the bus asks for its route's
  // topic again on the new connection.
  broker.kill();
  ASSERT_TRUE(b.wait_stats([](const ClientStats& s) { return !s.connected; }));
  broker.start();
  ASSERT_TRUE(b.wait_stats([](const ClientStats& s) {
    return s.connects == 2 && s.route == "101";
  })) << b.log();
  Peer later(broker.port(), "depot", "depot-secret", {"stopcall/v1/bus/bus-B/requests/ack"});
  ASSERT_EQ(later.wait_ready(), 0);
  ASSERT_TRUE(later.publish("stopcall/v1/route/101/requests",
                            sign_command(centre, route_101, system_now(), message("r4"))));
  ASSERT_TRUE(later.wait([](const auto& m) { return on(m, "/ack").size() == 1; })) << b.log();
  EXPECT_EQ(on(later.messages(), "/ack")[0]["accepted"], true);
  EXPECT_EQ(b.commands().size(), 3u);
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
