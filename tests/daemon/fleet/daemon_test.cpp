// The fleet link in the real daemon: `stopcalld run` (no gpsd: it keeps retrying, as on a bus
// whose receiver is starting) with [events] store and [fleet], against a real mosquitto.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/daemon/daemon_process.hpp"
#include "tests/daemon/fleet/broker.hpp"

namespace stopcall::testing::fleet {
namespace {

using json = nlohmann::json;

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
  Peer depot(broker.port(), "depot", "depot-secret", {"stopcall/v1/bus/bus-7/#"});
  ASSERT_EQ(depot.wait_ready(), 0);
  DaemonOptions options;
  options.extra_config =
      "[events]\nstore = \"" + (dir / "events.db") +
      "\"\n[fleet]\nhost = \"127.0.0.1\"\nport = " + std::to_string(broker.port()) +
      "\nvehicle = \"bus-7\"\npassword_file = \"" + (dir / "password") +
      "\"\nreconnect_min_ms = 200\n";
  DaemonProcess daemon(options);
  ASSERT_TRUE(daemon.wait_log("fleet: connected to 127.0.0.1")) << daemon.log();

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
                            R"({"id":"b1","cmd":"request","kind":"blind","route_id":"101",)"
                            R"("stop_id":"CGM-E","request_id":"booking-1"})"));
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
                            R"({"id":"b2","cmd":"request","kind":"blind","route_id":"101",)"
                            R"("stop_id":"NOWHERE"})"));
  ASSERT_TRUE(depot.wait([](const auto& m) { return on(m, "/requests/ack").size() == 2; }));
  EXPECT_EQ(on(depot.messages(), "/requests/ack")[1]["error"], "unknown_stop");

  // The control centre's typhoon notice for this bus: a preset of its route data, said and
  // shown as one from the driver would be, and logged as from the fleet.
  ASSERT_TRUE(depot.publish("stopcall/v1/bus/bus-7/requests",
                            R"({"id":"t1","cmd":"message","preset":"typhoon",)"
                            R"("message_id":"typhoon-8"})"));
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
}

}  // namespace
}  // namespace stopcall::testing::fleet
