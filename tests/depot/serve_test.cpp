// `stopcall-fleet serve` against a real mosquitto, with clients playing buses on route 101 of the
// demo route data and a booking platform.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "daemon/fleet/command.hpp"
#include "daemon/tracking/events.hpp"
#include "depot/commands.hpp"
#include "depot/store.hpp"
#include "tests/daemon/fleet/broker.hpp"
#include "tests/depot/fleet_process.hpp"

namespace stopcall::depot {
namespace {

using json = nlohmann::json;
using routes::testing::TempDir;
using routes::testing::write_file;
using testing::depot::FleetProcess;
using testing::depot::run_fleet;
using testing::fleet::Broker;
using testing::fleet::Message;
using testing::fleet::Peer;
using namespace std::chrono_literals;

const std::string kPrefix = "stopcall/v1";

class Serve : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    bundle_dir_ = new TempDir;
    ASSERT_TRUE(routes::testing::import_demo(*bundle_dir_ / "demo.db"));
  }
  static void TearDownTestSuite() { delete bundle_dir_; }

  Serve()
      : broker_(
            {{"depot", "depot-pw"}, {"control", "control-pw"}, {"bus-1", "b1"}, {"bus-2", "b2"}},
            false, control_access(kPrefix)),
        keys_(routes::generate_keypair(dir_ / "control.secret", dir_ / "control.public")) {
    write_file(dir_ / "depot.password", "depot-pw\n");
  }

  std::unique_ptr<FleetProcess> start_serve() {
    auto p = std::make_unique<FleetProcess>(
        std::vector<std::string>{"serve", "--broker", "127.0.0.1:" + std::to_string(broker_.port()),
                                 "--password-file", dir_ / "depot.password", "--store",
                                 dir_ / "fleet.db", "--bundle", *bundle_dir_ / "demo.db", "--key",
                                 dir_ / "control.secret"},
        dir_ / "serve.log");
    return p;
  }

  std::unique_ptr<Peer> bus(const std::string& id, const std::string& password) {
    auto p = std::make_unique<Peer>(broker_.port(), id, password,
                                    std::vector<std::string>{kPrefix + "/bus/" + id + "/requests"});
    EXPECT_EQ(p->wait_ready(), 0);
    return p;
  }

  // A bus of route 101 the depot has seen online on `trip`, its next stop `stop` (`index`).
  std::unique_ptr<Peer> online_bus(FleetProcess& serve, const std::string& id,
                                   const std::string& password, const std::string& trip, int index,
                                   const std::string& stop) {
    auto p = bus(id, password);
    if (!p->publish(kPrefix + "/bus/" + id + "/status", status(id, trip, index, stop), true) ||
        !serve.wait_log("bus " + id + " online"))
      return nullptr;
    return p;
  }
  // `vehicle` accepts the request `cmd` of booking `booking_id`.
  static bool accept(Peer& bus, const std::string& vehicle, const json& cmd,
                     const std::string& booking_id) {
    return bus.publish(kPrefix + "/bus/" + vehicle + "/requests/ack",
                       json{{"vehicle", vehicle},
                            {"accepted", true},
                            {"id", cmd["id"]},
                            {"request_id", booking_id},
                            {"message", "ok"}}
                           .dump());
  }

  static std::string status(const std::string& vehicle, const std::string& trip, int index,
                            const std::string& stop) {
    return testing::depot::bus_status(vehicle, trip, index, stop);
  }

  static std::string event(const std::string& vehicle, int seq, const json& e) {
    return testing::depot::bus_event(vehicle, seq, e);
  }

  std::int64_t stored_events() {
    FleetStore store(dir_ / "fleet.db", true);
    return store.event_count();
  }
  bool wait_events(std::int64_t n) {
    for (int i = 0; i < 200; ++i) {
      if (stored_events() >= n) return true;
      std::this_thread::sleep_for(50ms);
    }
    return false;
  }

  // The booking platform: publishes bookings and reads their states.
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
  static json last_state(Peer& p) { return json::parse(p.messages().back().payload); }

  // The request command a bus received, checked as the bus checks it.
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
};

TEST_F(Serve, EventsPublishedWhileItIsStoppedAreStoredOnceWhenItComesBack) {
  auto serve = start_serve();
  ASSERT_TRUE(serve->wait_log("connected to")) << serve->log();
  auto bus1 = bus("bus-1", "b1");
  const json arrived{{"type", "arrived"}, {"time", "2026-03-02T06:41:00Z"}, {"stop_id", "HQC-E"}};
  for (int seq = 1; seq <= 3; ++seq)
    ASSERT_TRUE(bus1->publish(kPrefix + "/bus/bus-1/events", event("bus-1", seq, arrived)));
  ASSERT_TRUE(wait_events(3));
  ASSERT_EQ(serve->finish(), 0) << serve->log();
  ASSERT_TRUE(serve->log().find("stopped") != std::string::npos);

  // While it is away: two new events and one sent again (QoS 1: the bus did not see the ack).
  for (int seq : {3, 4, 5})
    ASSERT_TRUE(bus1->publish(kPrefix + "/bus/bus-1/events", event("bus-1", seq, arrived)));
  serve = start_serve();
  ASSERT_TRUE(wait_events(5)) << serve->log();
  ASSERT_TRUE(bus1->publish(kPrefix + "/bus/bus-1/events", event("bus-1", 5, arrived)));
  ASSERT_TRUE(bus1->publish(kPrefix + "/bus/bus-1/events", event("bus-1", 6, arrived)));
  ASSERT_TRUE(wait_events(6));
  EXPECT_EQ(stored_events(), 6);
  EXPECT_EQ(serve->finish(), 0);
}

TEST_F(Serve, ABookingGoesSignedToTheBusStillToReachTheStop) {
  auto serve = start_serve();
  ASSERT_TRUE(serve->wait_log("connected to")) << serve->log();
  // bus-1 has passed Chegongmiao (next: Xiangmihu); bus-2 is two stops before it.
  auto bus1 = online_bus(*serve, "bus-1", "b1", "101-WD-E-0630", 5, "XMH-E");
  auto bus2 = online_bus(*serve, "bus-2", "b2", "101-WD-E-0640", 2, "QCD-E");
  ASSERT_TRUE(bus1 && bus2) << serve->log();

  auto booking = platform("b-42");
  // Two hours from now: a booking already past its expiry would end `expired` at the depot.
  const std::string expires = tracking::format_time(
      std::chrono::floor<std::chrono::milliseconds>(std::chrono::system_clock::now()) +
      std::chrono::hours(2));
  ASSERT_TRUE(booking->publish(kPrefix + "/depot/bookings", json{{"booking_id", "b-42"},
                                                                 {"kind", "blind"},
                                                                 {"route_id", "101"},
                                                                 {"stop_id", "CGM-E"},
                                                                 {"expires", expires}}
                                                                .dump()));
  ASSERT_TRUE(bus2->wait([](const auto& ms) { return !ms.empty(); })) << serve->log();
  const json cmd = command_for("bus-2", bus2->messages()[0].payload);
  EXPECT_EQ(cmd["cmd"], "request");
  EXPECT_EQ(cmd["request_id"], "b-42");
  EXPECT_EQ(cmd["stop_id"], "CGM-E");
  EXPECT_EQ(cmd["kind"], "blind");
  EXPECT_EQ(cmd["expires"], expires);
  ASSERT_TRUE(booking->wait([](const auto& ms) { return has_state(ms, "sent"); }));
  EXPECT_EQ(last_state(*booking)["vehicle"], "bus-2");

  ASSERT_TRUE(accept(*bus2, "bus-2", cmd, "b-42"));
  ASSERT_TRUE(booking->wait([](const auto& ms) { return has_state(ms, "accepted"); }));
  ASSERT_TRUE(bus2->publish(kPrefix + "/bus/bus-2/events", event("bus-2", 1,
                                                                 {{"type", "request"},
                                                                  {"time", "2026-03-02T06:47:00Z"},
                                                                  {"id", "b-42"},
                                                                  {"kind", "blind"},
                                                                  {"stop_id", "CGM-E"},
                                                                  {"fate", "served"}})));
  ASSERT_TRUE(booking->wait([](const auto& ms) { return has_state(ms, "served"); }));
  EXPECT_TRUE(bus1->messages().empty());  // the bus that passed the stop heard nothing

  // The state stays retained for a platform that asks later (the same login: the first goes).
  booking.reset();
  auto later = platform("b-42");
  ASSERT_TRUE(later->wait([](const auto& ms) { return has_state(ms, "served"); }));
  EXPECT_TRUE(later->messages().back().retain);
  EXPECT_EQ(serve->finish(), 0);
}

TEST_F(Serve, ABookingNoBusAnswersEndsExpiredWhenItsTimeComes) {
  auto serve = start_serve();
  ASSERT_TRUE(serve->wait_log("connected to")) << serve->log();
  // At Chegongmiao's platform already: in time for a rider who needs a bus within 3 s.
  auto bus2 = online_bus(*serve, "bus-2", "b2", "101-WD-E-0640", 4, "CGM-E");
  ASSERT_TRUE(bus2) << serve->log();

  // bus-2 gets the request and never answers.
  auto booking = platform("b-soon");
  const std::string expires = tracking::format_time(
      std::chrono::floor<std::chrono::milliseconds>(std::chrono::system_clock::now()) +
      std::chrono::seconds(3));
  ASSERT_TRUE(booking->publish(kPrefix + "/depot/bookings", json{{"booking_id", "b-soon"},
                                                                 {"kind", "wheelchair"},
                                                                 {"route_id", "101"},
                                                                 {"stop_id", "CGM-E"},
                                                                 {"expires", expires}}
                                                                .dump()));
  ASSERT_TRUE(bus2->wait([](const auto& ms) { return !ms.empty(); })) << serve->log();
  ASSERT_TRUE(booking->wait([](const auto& ms) { return has_state(ms, "expired"); }))
      << serve->log();
  const json end = last_state(*booking);
  EXPECT_EQ(end["vehicle"], "bus-2");
  EXPECT_NE(end["message"].get<std::string>().find("before bus-2 answered"), std::string::npos)
      << end.dump();

  // Already past its expiry when it comes: it ends at once, and no bus is asked.
  auto late = platform("b-late");
  ASSERT_TRUE(late->publish(kPrefix + "/depot/bookings",
                            R"({"booking_id":"b-late","kind":"blind","route_id":"101",)"
                            R"("stop_id":"CGM-E","expires":"2026-03-02T07:30:00+08:00"})"));
  ASSERT_TRUE(late->wait([](const auto& ms) { return has_state(ms, "expired"); })) << serve->log();
  EXPECT_EQ(bus2->messages().size(), 1u);
}

TEST_F(Serve, ABookingNoBusReachesBeforeItsExpiryFailsAtOnceAndNoBusIsAsked) {
  auto serve = start_serve();
  ASSERT_TRUE(serve->wait_log("connected to")) << serve->log();
  // By the timetable bus-1 is 3.5 min from Chegongmiao (next: Zhuzilin), bus-2 over 12 min.
  auto bus1 = online_bus(*serve, "bus-1", "b1", "101-WD-E-0630", 3, "ZZL-E");
  auto bus2 = online_bus(*serve, "bus-2", "b2", "101-WD-E-0640", 1, "HQC-E");
  ASSERT_TRUE(bus1 && bus2) << serve->log();

  // The rider can wait two to three minutes (to a whole minute: the reason says "07:32").
  auto booking = platform("b-soon");
  const auto now = std::chrono::floor<std::chrono::minutes>(std::chrono::system_clock::now());
  const std::string expires = tracking::format_time(now + std::chrono::minutes(3));
  ASSERT_TRUE(booking->publish(kPrefix + "/depot/bookings", json{{"booking_id", "b-soon"},
                                                                 {"kind", "blind"},
                                                                 {"route_id", "101"},
                                                                 {"stop_id", "CGM-E"},
                                                                 {"expires", expires}}
                                                                .dump()));
  ASSERT_TRUE(booking->wait([](const auto& ms) { return has_state(ms, "failed"); }))
      << serve->log();
  const json end = last_state(*booking);
  const std::string reason =
      "no bus of route 101 reaches CGM-E before " + expires.substr(11, 5) + " (the next at ";
  EXPECT_EQ(end["message"].get<std::string>().substr(0, reason.size()), reason) << end.dump();
  EXPECT_FALSE(end.contains("vehicle")) << end.dump();
  EXPECT_TRUE(serve->wait_log("booking b-soon failed: " + reason)) << serve->log();

  // A booking it can serve goes out after it: the first thing either bus hears is that one.
  booking.reset();  // one platform login at a time
  auto later = platform("b-later");
  ASSERT_TRUE(later->publish(
      kPrefix + "/depot/bookings",
      R"({"booking_id":"b-later","kind":"blind","route_id":"101","stop_id":"CGM-E"})"));
  ASSERT_TRUE(bus1->wait([](const auto& ms) { return !ms.empty(); })) << serve->log();
  EXPECT_EQ(command_for("bus-1", bus1->messages()[0].payload)["request_id"], "b-later");
  EXPECT_EQ(bus1->messages().size(), 1u);
  EXPECT_TRUE(bus2->messages().empty());
  EXPECT_EQ(serve->finish(), 0);
}

TEST_F(Serve, ARefusalThenAMissHandTheBookingOnUntilNoBusIsLeft) {
  auto serve = start_serve();
  ASSERT_TRUE(serve->wait_log("connected to")) << serve->log();
  // Both before Chegongmiao: bus-1 one stop before it, bus-2 three.
  auto bus1 = online_bus(*serve, "bus-1", "b1", "101-WD-E-0630", 3, "ZZL-E");
  auto bus2 = online_bus(*serve, "bus-2", "b2", "101-WD-E-0640", 1, "HQC-E");
  ASSERT_TRUE(bus1 && bus2) << serve->log();

  auto booking = platform("b-7");
  ASSERT_TRUE(booking->publish(
      kPrefix + "/depot/bookings",
      R"({"booking_id":"b-7","kind":"wheelchair","route_id":"101","stop_id":"CGM-E"})"));
  ASSERT_TRUE(bus1->wait([](const auto& ms) { return !ms.empty(); })) << serve->log();
  const json first = command_for("bus-1", bus1->messages()[0].payload);
  ASSERT_TRUE(bus1->publish(kPrefix + "/bus/bus-1/requests/ack",
                            json{{"vehicle", "bus-1"},
                                 {"accepted", false},
                                 {"id", first["id"]},
                                 {"request_id", "b-7"},
                                 {"error", "too_many"},
                                 {"message", "4 requests at this stop"}}
                                .dump()));
  ASSERT_TRUE(bus2->wait([](const auto& ms) { return !ms.empty(); })) << serve->log();
  EXPECT_EQ(command_for("bus-2", bus2->messages()[0].payload)["request_id"], "b-7");

  // The bus tells the fate on its ack topic just before the event line (PROTOCOL.md,
  // "requests/ack"): the depot goes by the event, so the miss hands the booking on once.
  ASSERT_TRUE(
      bus2->publish(kPrefix + "/bus/bus-2/requests/ack", json{{"vehicle", "bus-2"},
                                                              {"request_id", "b-7"},
                                                              {"fate", "missed"},
                                                              {"time", "2026-03-02T06:58:00Z"},
                                                              {"why", "the doors did not open"}}
                                                             .dump()));
  ASSERT_TRUE(
      bus2->publish(kPrefix + "/bus/bus-2/events", event("bus-2", 1,
                                                         {{"type", "request"},
                                                          {"time", "2026-03-02T06:58:00Z"},
                                                          {"id", "b-7"},
                                                          {"kind", "wheelchair"},
                                                          {"stop_id", "CGM-E"},
                                                          {"fate", "missed"},
                                                          {"why", "the doors did not open"}})));
  ASSERT_TRUE(booking->wait([](const auto& ms) { return has_state(ms, "failed"); }))
      << serve->log();
  const json end = last_state(*booking);
  EXPECT_EQ(end["tried"], json({"bus-1", "bus-2"}));
  EXPECT_NE(end["message"].get<std::string>().find("bus-2 missed it"), std::string::npos) << end;
  EXPECT_EQ(serve->finish(), 0);
  EXPECT_EQ(serve->log().find("ignored requests/ack"), std::string::npos) << serve->log();
}

// What the broker says for a bus gone without a word (its last will).
std::string offline(const std::string& vehicle) {
  return json{{"vehicle", vehicle}, {"online", false}}.dump();
}

TEST_F(Serve, ABookingSentToABusThatGoesOfflineGoesToTheNextBus) {
  auto serve = start_serve();
  ASSERT_TRUE(serve->wait_log("connected to")) << serve->log();
  auto bus1 = online_bus(*serve, "bus-1", "b1", "101-WD-E-0630", 3, "ZZL-E");
  auto bus2 = online_bus(*serve, "bus-2", "b2", "101-WD-E-0640", 1, "HQC-E");
  ASSERT_TRUE(bus1 && bus2) << serve->log();
  auto booking = platform("b-11");
  ASSERT_TRUE(booking->publish(
      kPrefix + "/depot/bookings",
      R"({"booking_id":"b-11","kind":"wheelchair","route_id":"101","stop_id":"CGM-E"})"));
  ASSERT_TRUE(bus1->wait([](const auto& ms) { return !ms.empty(); })) << serve->log();

  // bus-1 drops off the network before it answers: the broker publishes its last will.
  ASSERT_TRUE(bus1->publish(kPrefix + "/bus/bus-1/status", offline("bus-1"), true));
  ASSERT_TRUE(bus2->wait([](const auto& ms) { return !ms.empty(); })) << serve->log();
  const json cmd = command_for("bus-2", bus2->messages()[0].payload);
  EXPECT_EQ(cmd["request_id"], "b-11");
  EXPECT_EQ(cmd["id"], "b-11-2");
  ASSERT_TRUE(booking->wait([](const auto& ms) {
    return !ms.empty() && json::parse(ms.back().payload).value("vehicle", "") == "bus-2";
  }));
  const json now = last_state(*booking);
  EXPECT_EQ(now["state"], "sent");
  EXPECT_NE(now["message"].get<std::string>().find("bus-1 went offline before answering"),
            std::string::npos)
      << now;
  EXPECT_TRUE(serve->wait_log(
      "bus bus-1 offline (last known: route 101 trip 101-WD-E-0630, next stop ZZL-E)"))
      << serve->log();

  // Its place is kept in the store while it is away.
  FleetStore store(dir_ / "fleet.db", true);
  const auto buses = store.buses();
  ASSERT_EQ(buses.size(), 2u);
  EXPECT_FALSE(buses[0].status.online);
  EXPECT_EQ(buses[0].status.trip_id, "101-WD-E-0630");
  EXPECT_EQ(buses[0].status.next_stop->stop_id, "ZZL-E");
  EXPECT_EQ(serve->finish(), 0);
}

TEST_F(Serve, ABookingWaitsForItsBusToComeBackBeforeTheStopAndAnAcceptedOneStays) {
  auto serve = start_serve();
  ASSERT_TRUE(serve->wait_log("connected to")) << serve->log();
  auto bus2 = online_bus(*serve, "bus-2", "b2", "101-WD-E-0640", 1, "HQC-E");
  ASSERT_TRUE(bus2) << serve->log();
  auto booking = platform("b-12");
  ASSERT_TRUE(booking->publish(
      kPrefix + "/depot/bookings",
      R"({"booking_id":"b-12","kind":"blind","route_id":"101","stop_id":"CGM-E"})"));
  ASSERT_TRUE(bus2->wait([](const auto& ms) { return ms.size() == 1; })) << serve->log();

  // Away before answering, the only bus of the route: the booking waits for it.
  ASSERT_TRUE(bus2->publish(kPrefix + "/bus/bus-2/status", offline("bus-2"), true));
  ASSERT_TRUE(booking->wait([](const auto& ms) { return has_state(ms, "routing"); }))
      << serve->log();
  EXPECT_EQ(last_state(*booking)["waiting_for"], "bus-2");
  // Back two stops on, still before Chegongmiao: sent to it again.
  ASSERT_TRUE(bus2->publish(kPrefix + "/bus/bus-2/status",
                            status("bus-2", "101-WD-E-0640", 2, "QCD-E"), true));
  ASSERT_TRUE(bus2->wait([](const auto& ms) { return ms.size() == 2; })) << serve->log();
  const json again = command_for("bus-2", bus2->messages()[1].payload);
  EXPECT_EQ(again["request_id"], "b-12");
  EXPECT_EQ(again["id"], "b-12-2");
  ASSERT_TRUE(bus2->publish(kPrefix + "/bus/bus-2/requests/ack", json{{"vehicle", "bus-2"},
                                                                      {"accepted", true},
                                                                      {"id", again["id"]},
                                                                      {"request_id", "b-12"},
                                                                      {"message", "ok"}}
                                                                     .dump()));
  ASSERT_TRUE(booking->wait([](const auto& ms) { return has_state(ms, "accepted"); }));

  // Accepted, then away and back: the bus kept its request, nothing is sent again. A later
  // booking's command is the next thing bus-2 hears (the depot's publishes keep their order).
  ASSERT_TRUE(bus2->publish(kPrefix + "/bus/bus-2/status", offline("bus-2"), true));
  ASSERT_TRUE(bus2->publish(kPrefix + "/bus/bus-2/status",
                            status("bus-2", "101-WD-E-0640", 3, "ZZL-E"), true));
  ASSERT_TRUE(serve->wait_log("bus bus-2 online", 3)) << serve->log();
  booking.reset();  // one platform login at a time: the broker takes the user name as client id
  auto later = platform("b-13");
  ASSERT_TRUE(
      later->publish(kPrefix + "/depot/bookings",
                     R"({"booking_id":"b-13","kind":"blind","route_id":"101","stop_id":"XMH-E"})"));
  ASSERT_TRUE(bus2->wait([](const auto& ms) { return ms.size() >= 3; })) << serve->log();
  EXPECT_EQ(command_for("bus-2", bus2->messages()[2].payload)["request_id"], "b-13");
  FleetStore store(dir_ / "fleet.db", true);
  EXPECT_EQ(store.booking("b-12")->state, "accepted");
  EXPECT_EQ(serve->finish(), 0);
}

// `stopcall-fleet request` as a controller runs it, against the running service.
std::vector<std::string> request_args(int port, const std::string& password_file,
                                      const std::string& booking_id, const std::string& wait_s) {
  return {"request",
          "--broker",
          "127.0.0.1:" + std::to_string(port),
          "--password-file",
          password_file,
          "--route",
          "101",
          "--stop",
          "CGM-E",
          "--kind",
          "blind",
          "--booking-id",
          booking_id,
          "--wait",
          wait_s};
}

// The states a request's output printed, in order.
std::vector<std::string> states_in(const std::string& output) {
  std::vector<std::string> out;
  std::istringstream in(output);
  for (std::string line; std::getline(in, line);) {
    const json j = json::parse(line, nullptr, false);
    if (j.is_object() && j.contains("state")) out.push_back(j["state"]);
  }
  return out;
}

TEST_F(Serve, RequestFollowsTheBookingToServedAndExitsZero) {
  auto serve = start_serve();
  ASSERT_TRUE(serve->wait_log("connected to")) << serve->log();
  write_file(dir_ / "control.password", "control-pw\n");
  auto bus2 = online_bus(*serve, "bus-2", "b2", "101-WD-E-0640", 2, "QCD-E");
  ASSERT_TRUE(bus2) << serve->log();

  FleetProcess request(request_args(broker_.port(), dir_ / "control.password", "b-31", "60"),
                       dir_ / "request.log");
  ASSERT_TRUE(bus2->wait([](const auto& ms) { return !ms.empty(); })) << request.log();
  const json cmd = command_for("bus-2", bus2->messages()[0].payload);
  ASSERT_TRUE(accept(*bus2, "bus-2", cmd, "b-31"));
  ASSERT_TRUE(request.wait_log("\"accepted\"")) << request.log();
  ASSERT_TRUE(bus2->publish(kPrefix + "/bus/bus-2/events", event("bus-2", 1,
                                                                 {{"type", "request"},
                                                                  {"time", "2026-03-02T06:47:00Z"},
                                                                  {"id", "b-31"},
                                                                  {"kind", "blind"},
                                                                  {"stop_id", "CGM-E"},
                                                                  {"fate", "served"}})));
  EXPECT_EQ(request.finish(false), 0) << request.log();
  EXPECT_EQ(states_in(request.log()), (std::vector<std::string>{"sent", "accepted", "served"}))
      << request.log();
  EXPECT_NE(request.log().find("booking b-31 served: bus-2 served it"), std::string::npos)
      << request.log();
  EXPECT_EQ(serve->finish(), 0);
}

TEST_F(Serve, RequestExitsZeroWhenTheBookingIsStillAcceptedAtTheEndOfItsWait) {
  auto serve = start_serve();
  ASSERT_TRUE(serve->wait_log("connected to")) << serve->log();
  write_file(dir_ / "control.password", "control-pw\n");
  auto bus2 = online_bus(*serve, "bus-2", "b2", "101-WD-E-0640", 2, "QCD-E");
  ASSERT_TRUE(bus2) << serve->log();
  FleetProcess request(request_args(broker_.port(), dir_ / "control.password", "b-32", "2"),
                       dir_ / "request.log");
  ASSERT_TRUE(bus2->wait([](const auto& ms) { return !ms.empty(); })) << request.log();
  const json cmd = command_for("bus-2", bus2->messages()[0].payload);
  ASSERT_TRUE(accept(*bus2, "bus-2", cmd, "b-32"));
  EXPECT_EQ(request.finish(false), 0) << request.log();
  EXPECT_EQ(states_in(request.log()), (std::vector<std::string>{"sent", "accepted"}))
      << request.log();
  EXPECT_NE(request.log().find("booking b-32 accepted (still open when the wait ended)"),
            std::string::npos)
      << request.log();
  EXPECT_EQ(serve->finish(), 0);
}

TEST_F(Serve, RequestExitsNonZeroWithTheReasonWhenTheBookingFails) {
  auto serve = start_serve();
  ASSERT_TRUE(serve->wait_log("connected to")) << serve->log();
  write_file(dir_ / "control.password", "control-pw\n");
  EXPECT_EQ(run_fleet(request_args(broker_.port(), dir_ / "control.password", "b-33", "60"),
                      dir_ / "request.log"),
            1);
  const std::string out = routes::testing::read_bytes(dir_ / "request.log");
  EXPECT_EQ(states_in(out), std::vector<std::string>{"failed"}) << out;
  EXPECT_NE(out.find("booking b-33 failed: no bus of route 101 is known"), std::string::npos)
      << out;
  EXPECT_EQ(serve->finish(), 0);
}

TEST_F(Serve, NoBusOfTheRouteFailsTheBookingWithTheReason) {
  auto serve = start_serve();
  ASSERT_TRUE(serve->wait_log("connected to")) << serve->log();
  auto booking = platform("b-9");
  ASSERT_TRUE(booking->publish(
      kPrefix + "/depot/bookings",
      R"({"booking_id":"b-9","kind":"blind","route_id":"101","stop_id":"CGM-E"})"));
  ASSERT_TRUE(booking->wait([](const auto& ms) { return has_state(ms, "failed"); }));
  EXPECT_EQ(last_state(*booking)["message"], "no bus of route 101 is known");
  EXPECT_TRUE(serve->wait_log("booking b-9 failed: no bus of route 101 is known"));
  EXPECT_EQ(serve->finish(), 0);
}

}  // namespace
}  // namespace stopcall::depot
