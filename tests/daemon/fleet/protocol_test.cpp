#include "daemon/fleet/protocol.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>

#include "daemon/fleet/backoff.hpp"
#include "daemon/fleet/client.hpp"
#include "daemon/log/records.hpp"

namespace stopcall::daemon::fleet {
namespace {

using ::testing::HasSubstr;
using json = nlohmann::json;

TEST(FleetProtocol, TopicsAreVersionedAndPerVehicle) {
  const auto t = Topics::of("stopcall/v1", "bus-1234");
  EXPECT_EQ(t.status, "stopcall/v1/bus/bus-1234/status");
  EXPECT_EQ(t.events, "stopcall/v1/bus/bus-1234/events");
  EXPECT_EQ(t.requests, "stopcall/v1/bus/bus-1234/requests");
  EXPECT_EQ(t.requests_ack, "stopcall/v1/bus/bus-1234/requests/ack");
  EXPECT_EQ(t.fleet_requests, "stopcall/v1/fleet/requests");
  EXPECT_EQ(t.route_requests("101"), "stopcall/v1/route/101/requests");
  EXPECT_TRUE(valid_vehicle_id("SZ-B.12_34"));
  for (const char* bad : {"", "a/b", "+", "#", "bus 1", "bus\n"})
    EXPECT_FALSE(valid_vehicle_id(bad)) << bad;
  EXPECT_FALSE(valid_vehicle_id(std::string(65, 'a')));
}

TEST(FleetProtocol, StatusRoundTripsAndComparesWithoutItsTime) {
  StatusRecord s;
  s.vehicle = "bus-1";
  s.software = "0.1.0";
  s.bundle = "2026-03-01";
  s.trip_id = "101-WD-E-0630";
  s.route_id = "101";
  s.next_stop = NextStop{"CGM-E", "Chegongmiao", 3};
  s.gps = "fix";
  s.faults = {"gpio_unavailable"};
  s.time = "2026-03-01T22:30:26.028Z";
  const json j = s;
  EXPECT_EQ(j["next_stop"]["stop_id"], "CGM-E");
  EXPECT_EQ(j["online"], true);
  const auto back = j.get<StatusRecord>();
  EXPECT_TRUE(back.same_as(s));
  EXPECT_EQ(back.time, s.time);
  StatusRecord later = s;
  later.time = "2026-03-01T22:30:27.000Z";
  EXPECT_TRUE(later.same_as(s)) << "only the time differs: nothing to tell";
  later.next_stop->index = 4;
  EXPECT_FALSE(later.same_as(s));
  const json off = offline_status("bus-1");
  EXPECT_EQ(off, json::parse(R"({"vehicle":"bus-1","online":false})"));
}

TEST(FleetProtocol, AnEventCarriesItsSeqAndTheLineAsJson) {
  auto j = json::parse(encode_event({"bus-1", 42, R"({"type":"arrived","stop_id":"CGM-E"})"}));
  EXPECT_EQ(j["vehicle"], "bus-1");
  EXPECT_EQ(j["seq"], 42);
  EXPECT_EQ(j["event"]["type"], "arrived");
  // A line that is not JSON goes as it was written, so the depot can count it.
  j = json::parse(encode_event({"bus-1", 43, "not json {"}));
  EXPECT_EQ(j["line"], "not json {");
  EXPECT_FALSE(j.contains("event"));
}

TEST(FleetProtocol, RequestsAreTheControlSocketsRequestAndNothingElse) {
  auto p = parse_request(
      R"({"id":"m1","cmd":"request","kind":"blind","stop_id":"CGM-E","route_id":"101",)"
      R"("request_id":"r-7","expires":"2026-03-02T07:30:00+08:00"})",
      "bus-1");
  ASSERT_TRUE(p.request);
  EXPECT_EQ(p.id, "m1");
  const auto& r = std::get<vehicle::BoardingRequestIn>(*p.request);
  EXPECT_EQ(r.id, "r-7");
  EXPECT_EQ(r.kind, vehicle::RequestKind::blind);
  EXPECT_EQ(r.stop_id, "CGM-E");
  EXPECT_EQ(r.route_id, "101");
  EXPECT_TRUE(r.expires);
  EXPECT_EQ(r.source, "fleet");

  // The control centre's emergency and service messages, and their ends, are taken too.
  p = parse_request(R"({"id":"m3","cmd":"message","preset":"typhoon","message_id":"t8"})", "bus-1");
  ASSERT_TRUE(p.request);
  EXPECT_EQ(std::get<vehicle::MessageIn>(*p.request).preset, "typhoon");
  EXPECT_EQ(std::get<vehicle::MessageIn>(*p.request).source, "fleet");
  EXPECT_EQ(p.refusal.request_id, "t8");
  p = parse_request(R"({"id":"m4","cmd":"message","cancel":"t8"})", "bus-1");
  ASSERT_TRUE(p.request);
  EXPECT_EQ(std::get<vehicle::MessageEnd>(*p.request).source, "fleet");

  // Signals and buttons are the vehicle's own: never from the fleet.
  p = parse_request(R"({"id":"m2","cmd":"signal","signal":"door","state":"open"})", "bus-1");
  EXPECT_FALSE(p.request);
  EXPECT_EQ(p.refusal.error, "not_a_request");
  EXPECT_EQ(p.refusal.id, "m2");
  // The control socket's checks and answers, as they are.
  p = parse_request(R"({"cmd":"request","kind":"taxi","stop_id":"CGM-E","route_id":"101"})",
                    "bus-1");
  EXPECT_FALSE(p.request);
  EXPECT_EQ(p.refusal.error, "bad_request");
  p = parse_request("{not json", "bus-1");
  EXPECT_EQ(p.refusal.error, "bad_request");
  p = parse_request(std::string(5000, ' '), "bus-1");
  EXPECT_EQ(p.refusal.error, "too_large");

  RequestAck ack{"bus-1", "m1", "r-7", false, "unknown_stop", "no stop", "9f1c2a7e5b3d4c6f"};
  const json j = ack;
  EXPECT_EQ(j["error"], "unknown_stop");
  EXPECT_EQ(j.get<RequestAck>().request_id, "r-7");
  EXPECT_EQ(j.get<RequestAck>().nonce, "9f1c2a7e5b3d4c6f");
  EXPECT_FALSE(json(RequestAck{"bus-1", {}, {}, true, {}, "ok", {}}).contains("nonce"));
}

// 3,000 buses lose the broker at once: their tries must not come back in the same second.
TEST(FleetBackoff, ThreeThousandBusesSpreadTheirReconnects) {
  using ms = std::chrono::milliseconds;
  std::vector<Backoff> buses;
  for (int i = 0; i < 3000; ++i)
    buses.emplace_back(ms(1000), ms(60000), backoff_seed("bus-" + std::to_string(i)));
  for (int attempt = 0; attempt < 8; ++attempt) {
    std::map<long, int> per_second;
    ms low = ms::max(), high = ms::zero();
    for (auto& b : buses) {
      const ms wait = b.next();
      low = std::min(low, wait);
      high = std::max(high, wait);
      ++per_second[static_cast<long>(wait.count() / 1000)];
    }
    int busiest = 0;
    for (const auto& [second, n] : per_second)
      busiest = std::max(busiest, n);
    EXPECT_GE(low, ms(1000)) << "attempt " << attempt;
    EXPECT_LE(high, ms(60000)) << "attempt " << attempt;
    // The first retry spreads over 3 s, each next over twice as long (up to a minute).
    EXPECT_LT(busiest, 1300) << "attempt " << attempt;
    if (attempt >= 3) {
      EXPECT_LT(busiest, 300) << "attempt " << attempt;
    }
  }
  buses.front().reset();
  EXPECT_LE(buses.front().next(), ms(4000));
}

// The request lines as the bus logs them (log/records.hpp).
std::string request_line(const std::string& fate, const std::string& source,
                         const std::string& why = "") {
  log::Request r{
      "2026-03-02T07:12:40.500Z", "booking-42", "blind", "CGM-E", fate, {}, {}, {}, {}, {}};
  if (!source.empty()) r.source = source;
  if (!why.empty()) r.why = why;
  return log::encode(r);
}

TEST(FleetProtocol, AFleetRequestsFateIsToldOnTheAckTopicWithItsOwnTime) {
  const auto served = fate_of("bus-7", request_line("served", "fleet", "ramp cycle at the stop"));
  ASSERT_TRUE(served);
  EXPECT_EQ(json(*served), json::parse(R"({"vehicle":"bus-7","request_id":"booking-42",)"
                                       R"("fate":"served","time":"2026-03-02T07:12:40.500Z",)"
                                       R"("why":"ramp cycle at the stop"})"));
  // No "accepted": a reader tells a fate from an answer.
  EXPECT_FALSE(json(*served).contains("accepted"));
  for (const char* fate : {"shown", "missed", "expired", "dismissed"}) {
    const auto f = fate_of("bus-7", request_line(fate, "fleet"));
    ASSERT_TRUE(f) << fate;
    EXPECT_EQ(f->fate, fate);
    EXPECT_EQ(f->request_id, "booking-42");
    EXPECT_FALSE(json(*f).contains("why"));
  }
}

TEST(FleetProtocol, OnlyAFleetRequestsSettledLinesYieldAFate) {
  // Pending: the ack already said it was taken. Carried: an on-board request, not a booking.
  EXPECT_FALSE(fate_of("bus-7", request_line("pending", "fleet")));
  EXPECT_FALSE(fate_of("bus-7", request_line("carried", "fleet")));
  // A request from the control socket or the console, or from a daemon that did not say.
  EXPECT_FALSE(fate_of("bus-7", request_line("served", "control")));
  EXPECT_FALSE(fate_of("bus-7", request_line("served", "console")));
  EXPECT_FALSE(fate_of("bus-7", request_line("served", "")));
  // Other lines, and lines that are not a record.
  EXPECT_FALSE(fate_of("bus-7", R"({"type":"message","time":"2026-03-02T07:12:40.500Z",)"
                                R"("id":"typhoon-8","event":"expired","kind":"service",)"
                                R"("source":"fleet"})"));
  EXPECT_FALSE(fate_of("bus-7", R"({"type":"request","fate":"served","source":"fleet")"));
  EXPECT_FALSE(fate_of("bus-7", R"({"type":"request","time":1,"fate":"served","source":"fleet"})"));
  EXPECT_FALSE(fate_of("bus-7", "not json"));
}

}  // namespace
}  // namespace stopcall::daemon::fleet
