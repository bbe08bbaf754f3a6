// The fleet link in the real daemon: `stopcalld run` (no gpsd: it keeps retrying, as on a bus
// whose receiver is starting) with [events] store and [fleet], against a real mosquitto.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <sstream>

#include "daemon/fleet/command.hpp"
#include "daemon/tracking/events.hpp"
#include "tests/daemon/daemon_process.hpp"
#include "tests/daemon/fleet/broker.hpp"

namespace stopcall::testing::fleet {
namespace {

using json = nlohmann::json;
using daemon::fleet::Audience;
using daemon::fleet::sign_command;

const Audience kBus7{Audience::Kind::bus, "bus-7"};

tracking::Time system_now() {
  return std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
}

// The event log's lines of one type.
std::vector<json> lines_of(const std::string& log, const std::string& type) {
  std::vector<json> out;
  std::istringstream in(log);
  for (std::string line; std::getline(in, line);) {
    const json j = json::parse(line, nullptr, false);
    if (j.is_object() && j.value("type", "") == type) out.push_back(j);
  }
  return out;
}

// Bus 7's configuration: its event store in `dir` and the fleet link to the test's broker, with
// the control centre's public key; `extra` goes before the [fleet] table.
std::string bus7_config(const std::string& dir, int port, const std::string& extra = "") {
  return "[events]\nstore = \"" + dir + "/events.db\"\n" + extra +
         "[fleet]\nhost = \"127.0.0.1\"\nport = " + std::to_string(port) +
         "\nvehicle = \"bus-7\"\npassword_file = \"" + dir +
         "/password\"\nreconnect_min_ms = 200\ncommand_key = \"" + dir + "/centre.pub\"\n";
}

std::vector<json> on(const std::vector<Message>& messages, const std::string& suffix) {
  std::vector<json> out;
  for (const auto& m : messages) {
    if (m.topic.ends_with(suffix)) out.push_back(json::parse(m.payload));
  }
  return out;
}

TEST(FleetDaemon, StatusRequestsEventsAndTheLastWill) {
  Broker broker({{"depot", "depot-secret"}, {"bus-7", "secret-7"}});
  routes::testing::TempDir dir;
  routes::testing::write_file(dir / "password", "secret-7\n");
  const auto centre = routes::generate_keypair(dir / "centre.key", dir / "centre.pub").secret;
  Peer depot(broker.port(), "depot", "depot-secret", {"stopcall/v1/bus/bus-7/#"});
  ASSERT_EQ(depot.wait_ready(), 0);
  DaemonOptions options;
  options.extra_config = bus7_config(dir.path().string(), broker.port());
  auto to_bus = [&](const std::string& line) {
    return sign_command(centre, kBus7, system_now(), line);
  };
  DaemonProcess daemon(options);
  ASSERT_TRUE(daemon.wait_log("fleet: listening for commands")) << daemon.log();

  // The status: retained, the daemon's version, the bundle's, GPS still coming up.
  ASSERT_TRUE(depot.wait([](const auto& m) { return !on(m, "/status").empty(); })) << daemon.log();
  const auto status = on(depot.messages(), "/status").front();
  EXPECT_EQ(status["vehicle"], "bus-7");
  EXPECT_EQ(status["online"], true);
  EXPECT_FALSE(status["software"].get<std::string>().empty());
  EXPECT_FALSE(status["bundle"].get<std::string>().empty());
  EXPECT_THAT(status["gps"].get<std::string>(), ::testing::HasSubstr("gpsd"));
  EXPECT_TRUE(status["trip_id"].is_null());

  // The daemon's own first lines (time zone, waiting for GPS) went up as events.
  ASSERT_TRUE(depot.wait([](const auto& m) { return on(m, "/events").size() >= 2; }))
      << daemon.log();
  EXPECT_EQ(on(depot.messages(), "/events").front()["seq"], 1);

  // A booking from the depot: the same code path as the control socket's `request`.
  ASSERT_TRUE(depot.publish("stopcall/v1/bus/bus-7/requests",
                            to_bus(R"({"id":"b1","cmd":"request","kind":"blind","route_id":"101",)"
                                   R"("stop_id":"CGM-E","request_id":"booking-1"})")));
  ASSERT_TRUE(depot.wait([](const auto& m) { return !on(m, "/requests/ack").empty(); }))
      << daemon.log();
  const auto ack = on(depot.messages(), "/requests/ack").front();
  EXPECT_EQ(ack["accepted"], true) << ack.dump();
  EXPECT_EQ(ack["request_id"], "booking-1");
  // The bus holds it as any other request, and its fate is logged and sent up.
  auto state = daemon.command(R"({"cmd":"state"})");
  ASSERT_TRUE(state.ok);
  EXPECT_THAT(state.data, ::testing::HasSubstr("booking-1"));
  ASSERT_TRUE(depot.wait([](const auto& m) {
    for (const auto& e : on(m, "/events"))
      if (e["event"].value("type", "") == "request" && e["event"].value("id", "") == "booking-1")
        return true;
    return false;
  })) << daemon.log();
  // An unknown stop is refused with the bus's reason.
  ASSERT_TRUE(depot.publish("stopcall/v1/bus/bus-7/requests",
                            to_bus(R"({"id":"b2","cmd":"request","kind":"blind","route_id":"101",)"
                                   R"("stop_id":"NOWHERE"})")));
  ASSERT_TRUE(depot.wait([](const auto& m) { return on(m, "/requests/ack").size() == 2; }));
  EXPECT_EQ(on(depot.messages(), "/requests/ack")[1]["error"], "unknown_stop");

  // The control centre's typhoon notice for this bus: a preset of its route data, said and
  // shown as one from the driver would be, and logged as from the fleet.
  ASSERT_TRUE(depot.publish("stopcall/v1/bus/bus-7/requests",
                            to_bus(R"({"id":"t1","cmd":"message","preset":"typhoon",)"
                                   R"("message_id":"typhoon-8"})")));
  ASSERT_TRUE(depot.wait([](const auto& m) { return on(m, "/requests/ack").size() == 3; }));
  EXPECT_EQ(on(depot.messages(), "/requests/ack")[2]["accepted"], true)
      << on(depot.messages(), "/requests/ack")[2].dump();
  EXPECT_EQ(on(depot.messages(), "/requests/ack")[2]["request_id"], "typhoon-8");
  ASSERT_TRUE(depot.wait([](const auto& m) {
    for (const auto& e : on(m, "/events"))
      if (e["event"].value("type", "") == "message" && e["event"].value("event", "") == "sent" &&
          e["event"].value("source", "") == "fleet" && e["event"].value("id", "") == "typhoon-8")
        return true;
    return false;
  })) << daemon.log();

  // The bus dies without a word: the broker tells the last will, retained.
  ::kill(daemon.pid(), SIGKILL);
  ASSERT_TRUE(depot.wait([](const auto& m) {
    const auto all = on(m, "/status");
    return !all.empty() && all.back() == json::parse(R"({"vehicle":"bus-7","online":false})");
  }));
  EXPECT_TRUE(depot.messages().back().topic.ends_with("/status"));
  daemon.stop();
  Peer later(broker.port(), "depot", "depot-secret", {"stopcall/v1/bus/bus-7/status"});
  ASSERT_EQ(later.wait_ready(), 0);
  ASSERT_TRUE(later.wait([](const auto& m) { return !m.empty(); }));
  EXPECT_TRUE(later.messages().front().retain);
  EXPECT_EQ(json::parse(later.messages().front().payload)["online"], false);
}

// No broker: the daemon runs and announces as before; the link only says it is retrying.
TEST(FleetDaemon, WithoutTheBrokerTheBusRunsAsBefore) {
  routes::testing::TempDir dir;
  DaemonOptions options;
  options.extra_config =
      "[events]\nstore = \"" + (dir / "events.db") +
      "\"\n[fleet]\nhost = \"127.0.0.1\"\nport = " + std::to_string(free_tcp_port()) +
      "\nvehicle = \"bus-8\"\n";
  DaemonProcess daemon(options);
  ASSERT_TRUE(daemon.wait_log("fleet: cannot reach the broker")) << daemon.log();
  auto reply = daemon.command(R"({"cmd":"request","kind":"blind","route_id":"101",)"
                              R"("stop_id":"CGM-E"})");
  EXPECT_TRUE(reply.ok) << reply.message;
  EXPECT_EQ(daemon.stop(), 0) << daemon.log();
  // No command key configured: said once, as a fault the depot sees in the status.
  const auto faults = lines_of(daemon.events(), "fault");
  ASSERT_EQ(faults.size(), 1u) << daemon.events();
  EXPECT_EQ(faults[0]["kind"], "no_command_key");
}

// Through the real daemon: only what the control centre signed for this bus, fresh and new, is
// acted on; the rest is refused, answered, logged and changes nothing -- also a command played
// again after the daemon restarted.
// A booking platform learns from the ack topic alone that the bus took its request and, later,
// what became of it -- here it runs out of time before the bus gets to the stop.
TEST(FleetDaemon, AFleetRequestIsAcceptedAndItsFateFollowsOnTheAckTopicOnce) {
  Broker broker({{"depot", "depot-secret"}, {"bus-7", "secret-7"}});
  routes::testing::TempDir dir;
  routes::testing::write_file(dir / "password", "secret-7\n");
  const auto centre = routes::generate_keypair(dir / "centre.key", dir / "centre.pub").secret;
  Peer depot(broker.port(), "depot", "depot-secret",
             {"stopcall/v1/bus/bus-7/requests/ack", "stopcall/v1/bus/bus-7/events"});
  ASSERT_EQ(depot.wait_ready(), 0);
  DaemonOptions options;
  options.extra_config = bus7_config(dir.path().string(), broker.port());
  DaemonProcess daemon(options);
  ASSERT_TRUE(daemon.wait_log("fleet: listening for commands")) << daemon.log();

  // Without GPS the bus's clock is the system's: both requests end in a few seconds.
  const std::string expires = tracking::format_time(system_now() + std::chrono::seconds(3));
  ASSERT_TRUE(depot.publish(
      "stopcall/v1/bus/bus-7/requests",
      sign_command(centre, kBus7, system_now(),
                   R"({"id":"booking-9-1","cmd":"request","kind":"blind","route_id":"101",)"
                   R"("stop_id":"CGM-E","request_id":"booking-9","expires":")" +
                       expires + R"("})")));
  // One from the control socket at the same time: the bus's own, not told to the fleet.
  ASSERT_TRUE(daemon
                  .command(R"({"cmd":"request","kind":"blind","route_id":"101",)"
                           R"("stop_id":"CGM-E","request_id":"driver-1","expires":")" +
                           expires + R"("})")
                  .ok);
  auto fates = [](const std::vector<Message>& m) {
    std::vector<json> out;
    for (const auto& a : on(m, "/requests/ack"))
      if (a.contains("fate")) out.push_back(a);
    return out;
  };
  auto expired_events = [](const std::vector<Message>& m) {
    int n = 0;
    for (const auto& e : on(m, "/events"))
      if (e["event"].value("type", "") == "request" && e["event"].value("fate", "") == "expired")
        ++n;
    return n;
  };
  ASSERT_TRUE(depot.wait([](const auto& m) { return !on(m, "/requests/ack").empty(); }))
      << daemon.log();
  const auto ack = on(depot.messages(), "/requests/ack").front();
  EXPECT_EQ(ack["accepted"], true) << ack.dump();
  EXPECT_EQ(ack["request_id"], "booking-9");
  EXPECT_FALSE(ack.contains("fate"));

  // Both expire on the bus; both lines go up; the fleet's fate is told on the ack topic.
  ASSERT_TRUE(depot.wait([&](const auto& m) { return expired_events(m) == 2; })) << daemon.log();
  daemon.stop();  // nothing more to come: anything told twice would be there by now
  const auto told = fates(depot.messages());
  ASSERT_EQ(told.size(), 1u) << daemon.events();
  EXPECT_EQ(told[0]["vehicle"], "bus-7");
  EXPECT_EQ(told[0]["request_id"], "booking-9");
  EXPECT_EQ(told[0]["fate"], "expired");
  EXPECT_FALSE(told[0].contains("accepted"));
  // Its time is the event line's own.
  const auto lines = lines_of(daemon.events(), "request");
  const auto line = std::find_if(lines.begin(), lines.end(), [](const json& l) {
    return l["id"] == "booking-9" && l["fate"] == "expired";
  });
  ASSERT_NE(line, lines.end()) << daemon.events();
  EXPECT_EQ(told[0]["time"], (*line)["time"]);
  EXPECT_EQ((*line)["source"], "fleet");
}

TEST(FleetDaemon, OnlyFreshSignedCommandsAreTakenAlsoAfterARestart) {
  Broker broker({{"depot", "depot-secret"}, {"bus-7", "secret-7"}});
  routes::testing::TempDir dir;
  routes::testing::write_file(dir / "password", "secret-7\n");
  const auto centre = routes::generate_keypair(dir / "centre.key", dir / "centre.pub").secret;
  const auto thief = routes::generate_keypair(dir / "thief.key", dir / "thief.pub").secret;
  Peer depot(broker.port(), "depot", "depot-secret", {"stopcall/v1/bus/bus-7/requests/ack"});
  ASSERT_EQ(depot.wait_ready(), 0);
  DaemonOptions options;
  options.extra_config = bus7_config(dir.path().string(), broker.port(),
                                     "[state]\nfile = \"" + (dir / "state.db") + "\"\n");
  auto notice = [](const std::string& id) {
    return R"({"id":")" + id + R"(","cmd":"message","preset":"typhoon","message_id":")" + id +
           R"("})";
  };
  const std::string topic = "stopcall/v1/bus/bus-7/requests";
  const std::string good = sign_command(centre, kBus7, system_now(), notice("typhoon-8"));
  const std::vector<std::pair<std::string, std::string>> attempts = {
      {sign_command(thief, kBus7, system_now(), notice("forged")), "bad_signature"},
      {sign_command(centre, kBus7, system_now() - std::chrono::minutes(6), notice("stale")),
       "stale"},
      {sign_command(centre, Audience{Audience::Kind::bus, "bus-8"}, system_now(),
                    notice("for-bus-8")),
       "not_addressed"},
      {good, "replayed"},
  };
  {
    DaemonProcess daemon(options);
    ASSERT_TRUE(daemon.wait_log("fleet: listening for commands")) << daemon.log();
    ASSERT_TRUE(depot.publish(topic, good));
    ASSERT_TRUE(depot.wait([](const auto& m) { return on(m, "/ack").size() == 1; }))
        << daemon.log();
    EXPECT_EQ(on(depot.messages(), "/ack")[0]["accepted"], true);
    for (const auto& [payload, error] : attempts)
      ASSERT_TRUE(depot.publish(topic, payload));
    ASSERT_TRUE(depot.wait([&](const auto& m) { return on(m, "/ack").size() == 5; }))
        << daemon.log();
    const auto acks = on(depot.messages(), "/ack");
    for (std::size_t i = 0; i < attempts.size(); ++i) {
      EXPECT_EQ(acks[i + 1]["accepted"], false) << acks[i + 1].dump();
      EXPECT_EQ(acks[i + 1]["error"], attempts[i].second) << acks[i + 1].dump();
    }
    // Only the good one reached the bus: one notice sent, every message line its own.
    int sent = 0;
    for (const auto& m : lines_of(daemon.events(), "message"))
      if (m["event"] == "sent") ++sent;
    EXPECT_EQ(sent, 1) << daemon.events();
    const auto decisions = lines_of(daemon.events(), "fleet_command");
    ASSERT_EQ(decisions.size(), 5u) << daemon.events();
    EXPECT_EQ(decisions[0]["accepted"], true);
    EXPECT_EQ(decisions[0]["to"], "bus:bus-7");
    for (std::size_t i = 0; i < attempts.size(); ++i)
      EXPECT_EQ(decisions[i + 1]["error"], attempts[i].second) << decisions[i + 1].dump();
    for (const auto& m : lines_of(daemon.events(), "message"))
      EXPECT_EQ(m["id"], "typhoon-8") << m.dump();
    EXPECT_EQ(daemon.stop(), 0) << daemon.log();
  }
  // The daemon restarts: the command it took is still known.
  DaemonProcess again(options);
  ASSERT_TRUE(again.wait_log("fleet: listening for commands")) << again.log();
  ASSERT_TRUE(depot.publish(topic, good));
  ASSERT_TRUE(depot.wait([](const auto& m) { return on(m, "/ack").size() == 6; })) << again.log();
  EXPECT_EQ(on(depot.messages(), "/ack")[5]["error"], "replayed");
  const auto decisions = lines_of(again.events(), "fleet_command");
  ASSERT_EQ(decisions.size(), 1u) << again.events();
  EXPECT_EQ(decisions[0]["error"], "replayed");
  for (const auto& fault : lines_of(again.events(), "fault"))
    EXPECT_NE(fault["kind"], "no_command_key") << fault.dump();
}

}  // namespace
}  // namespace stopcall::testing::fleet
