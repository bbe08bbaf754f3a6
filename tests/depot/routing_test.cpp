// Which bus gets a booking, and what the buses' answers do to it: pure, with a small timetable.
#include "depot/routing.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "daemon/vehicle/control.hpp"

namespace stopcall::depot {
namespace {

using daemon::fleet::NextStop;
using daemon::fleet::RequestAck;
using daemon::fleet::StatusRecord;

// Route 7 eastbound: A (08:00), B (08:05), C (08:10), D (08:15); trips T1 and T2 alike.
Timetables trips() {
  std::vector<ScheduledStop> stops{{"A", "", 8 * 3600},
                                   {"B", "", 8 * 3600 + 300},
                                   {"C", "", 8 * 3600 + 600},
                                   {"D", "", 8 * 3600 + 900}};
  return {{"T1", stops}, {"T2", stops}, {"T3", stops}};
}

StatusRecord bus(std::string vehicle, std::string trip, int next_index, bool online = true) {
  StatusRecord s;
  s.vehicle = std::move(vehicle);
  s.online = online;
  s.route_id = "7";
  s.trip_id = std::move(trip);
  const char* ids[] = {"A", "B", "C", "D"};
  s.next_stop = NextStop{ids[next_index], ids[next_index], next_index};
  return s;
}

Booking at_c() {
  return {"b-1", "wheelchair", "7", "C", ""};
}

TEST(Routing, TheBusThatReachesTheStopSoonestGetsIt) {
  // bus-far is at A (10 min from C), bus-near at B (5 min), bus-past beyond C.
  const auto c = choose_bus(
      at_c(), {bus("bus-far", "T1", 0), bus("bus-near", "T2", 1), bus("bus-past", "T3", 3)},
      trips(), {});
  EXPECT_EQ(c.vehicle, "bus-near");
  EXPECT_EQ(c.eta_s, 300);
}

TEST(Routing, ABusWhoseNextStopIsTheStopItselfStillServesIt) {
  EXPECT_EQ(choose_bus(at_c(), {bus("bus-1", "T1", 2)}, trips(), {}).vehicle, "bus-1");
}

TEST(Routing, OfflineTriedAndOtherRoutesAreLeftOut) {
  auto other = bus("bus-other", "T1", 1);
  other.route_id = "8";
  const auto c = choose_bus(
      at_c(),
      {bus("bus-off", "T1", 1, false), bus("bus-tried", "T2", 1), other, bus("bus-late", "T3", 0)},
      trips(), {"bus-tried"});
  EXPECT_EQ(c.vehicle, "bus-late");
}

TEST(Routing, NoBusSaysWhy) {
  EXPECT_EQ(choose_bus(at_c(), {}, trips(), {}).reason, "no bus of route 7 is known");
  const auto past = choose_bus(at_c(), {bus("bus-past", "T1", 3)}, trips(), {});
  EXPECT_TRUE(past.vehicle.empty());
  EXPECT_EQ(past.reason, "no bus of route 7 still to reach stop C");
}

TEST(Routing, ARefusalGoesToTheNextBusAndAcceptanceIsNoted) {
  const std::vector<StatusRecord> fleet{bus("bus-1", "T1", 1), bus("bus-2", "T2", 0)};
  BookingState s;
  s.booking = at_c();
  route(s, fleet, trips());
  EXPECT_EQ(s.state, "sent");
  EXPECT_EQ(s.vehicle, "bus-1");

  RequestAck no{"bus-1", "b-1-1", "b-1", false, "too_many", "4 requests at this stop", ""};
  EXPECT_TRUE(on_ack(s, no, fleet, trips()));
  EXPECT_EQ(s.state, "sent");
  EXPECT_EQ(s.vehicle, "bus-2");
  EXPECT_EQ(s.tried, std::vector<std::string>{"bus-1"});

  // A late answer from the bus that refused changes nothing.
  RequestAck late{"bus-1", "b-1-1", "b-1", true, "", "", ""};
  EXPECT_FALSE(on_ack(s, late, fleet, trips()));
  RequestAck yes{"bus-2", "b-1-2", "b-1", true, "", "request taken", ""};
  EXPECT_TRUE(on_ack(s, yes, fleet, trips()));
  EXPECT_EQ(s.state, "accepted");
}

TEST(Routing, FatesFromTheBus) {
  const std::vector<StatusRecord> fleet{bus("bus-1", "T1", 1), bus("bus-2", "T2", 0)};
  BookingState s;
  s.booking = at_c();
  route(s, fleet, trips());
  EXPECT_TRUE(on_fate(s, "bus-1", "shown", "", fleet, trips()));
  EXPECT_EQ(s.state, "shown");
  EXPECT_FALSE(on_fate(s, "bus-1", "pending", "", fleet, trips()));
  EXPECT_TRUE(on_fate(s, "bus-1", "missed", "the bus did not stop", fleet, trips()));
  EXPECT_EQ(s.vehicle, "bus-2");
  EXPECT_EQ(s.state, "sent");
  EXPECT_TRUE(on_fate(s, "bus-2", "served", "", fleet, trips()));
  EXPECT_EQ(s.state, "served");
  EXPECT_TRUE(s.final());
  EXPECT_FALSE(on_fate(s, "bus-2", "expired", "", fleet, trips()));

  BookingState last;
  last.booking = at_c();
  route(last, {bus("bus-1", "T1", 1)}, trips());
  EXPECT_TRUE(on_fate(last, "bus-1", "missed", "", {bus("bus-1", "T1", 3)}, trips()));
  EXPECT_EQ(last.state, "failed");
  EXPECT_NE(last.message.find("bus-1 missed it"), std::string::npos) << last.message;
}

TEST(Routing, ABusGoneOfflineBeforeAnsweringHandsTheBookingToAnother) {
  BookingState s;
  s.booking = at_c();
  route(s, {bus("bus-1", "T1", 1), bus("bus-2", "T2", 0)}, trips());
  ASSERT_EQ(s.vehicle, "bus-1");
  // Not this bus: nothing.
  EXPECT_FALSE(
      on_offline(s, "bus-2", {bus("bus-1", "T1", 1), bus("bus-2", "T2", 0, false)}, trips()));
  EXPECT_TRUE(
      on_offline(s, "bus-1", {bus("bus-1", "T1", 1, false), bus("bus-2", "T2", 0)}, trips()));
  EXPECT_EQ(s.state, "sent");
  EXPECT_EQ(s.vehicle, "bus-2");
  EXPECT_TRUE(s.tried.empty());  // it may come back before the stop
  EXPECT_EQ(s.sends, 2);
  EXPECT_NE(s.message.find("bus-1 went offline before answering"), std::string::npos) << s.message;
}

TEST(Routing, WithNoOtherBusTheBookingWaitsForTheOneThatWentAway) {
  BookingState s;
  s.booking = at_c();
  route(s, {bus("bus-1", "T1", 1)}, trips());
  EXPECT_TRUE(on_offline(s, "bus-1", {bus("bus-1", "T1", 1, false)}, trips()));
  EXPECT_EQ(s.state, "routing");
  EXPECT_EQ(s.waiting_for, "bus-1");
  EXPECT_FALSE(s.final());
  // Back, still before C: sent to it again.
  EXPECT_TRUE(on_online(s, "bus-1", {bus("bus-1", "T1", 2)}, trips()));
  EXPECT_EQ(s.state, "sent");
  EXPECT_EQ(s.vehicle, "bus-1");
  EXPECT_TRUE(s.waiting_for.empty());
  EXPECT_EQ(s.sends, 2);

  // Away again, and back past C: failed, with why.
  EXPECT_TRUE(on_offline(s, "bus-1", {bus("bus-1", "T1", 2, false)}, trips()));
  auto other = bus("bus-9", "T2", 0);
  other.route_id = "8";
  EXPECT_FALSE(on_online(s, "bus-9", {bus("bus-1", "T1", 2, false), other}, trips()));
  EXPECT_EQ(s.state, "routing");
  EXPECT_TRUE(on_online(s, "bus-1", {bus("bus-1", "T1", 3), other}, trips()));
  EXPECT_EQ(s.state, "failed");
  EXPECT_NE(s.message.find("bus-1 came back online; no bus of route 7 still to reach stop C"),
            std::string::npos)
      << s.message;
}

TEST(Routing, AnAcceptedBookingStaysWithABusThatGoesAway) {
  BookingState s;
  s.booking = at_c();
  const std::vector<StatusRecord> fleet{bus("bus-1", "T1", 1), bus("bus-2", "T2", 0)};
  route(s, fleet, trips());
  ASSERT_TRUE(on_ack(s, {"bus-1", "b-1-1", "b-1", true, "", "", ""}, fleet, trips()));
  EXPECT_FALSE(
      on_offline(s, "bus-1", {bus("bus-1", "T1", 1, false), bus("bus-2", "T2", 0)}, trips()));
  EXPECT_FALSE(on_online(s, "bus-1", fleet, trips()));
  EXPECT_EQ(s.state, "accepted");
  EXPECT_EQ(s.vehicle, "bus-1");
  auto back = decode_state(encode_state(s));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->sends, 1);
}

TEST(Routing, BookingsAreCheckedAndTheRequestLineIsTheControlProtocols) {
  std::string error;
  EXPECT_FALSE(
      parse_booking(R"({"booking_id":"b/1","kind":"blind","route_id":"7","stop_id":"C"})", error));
  EXPECT_NE(error.find("booking_id"), std::string::npos);
  EXPECT_FALSE(
      parse_booking(R"({"booking_id":"b1","kind":"pram","route_id":"7","stop_id":"C"})", error));
  EXPECT_EQ(error, "\"kind\" is wheelchair or blind");
  EXPECT_FALSE(parse_booking(R"({"booking_id":"b1","kind":"blind","stop_id":"C"})", error));
  EXPECT_EQ(error, "\"route_id\" is missing");
  auto b = parse_booking(
      R"({"booking_id":"b1","kind":"blind","route_id":"7","stop_id":"C","expires":"2026-03-02T07:30:00+08:00"})",
      error);
  ASSERT_TRUE(b);
  BookingState s;
  s.booking = *b;
  EXPECT_EQ(
      nlohmann::json::parse(request_line(s, "b1-1")),
      nlohmann::json::parse(
          R"({"id":"b1-1","cmd":"request","kind":"blind","stop_id":"C","route_id":"7","request_id":"b1","expires":"2026-03-02T07:30:00+08:00"})"));
  auto back = decode_state(encode_state(s));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->booking.expires, s.booking.expires);
}

TEST(Routing, ABookingNoBusTookIsExpiredAtTheDepotWhenItsTimeComes) {
  using std::chrono::minutes;
  const auto expiry = *daemon::vehicle::parse_iso_time("2026-03-02T07:30:00+08:00");
  BookingState waiting;
  waiting.booking = at_c();
  waiting.booking.expires = "2026-03-02T07:30:00+08:00";
  waiting.waiting_for = "bus-1";
  EXPECT_FALSE(expire_if_due(waiting, expiry - minutes(1)));
  EXPECT_EQ(waiting.state, "routing");
  ASSERT_TRUE(expire_if_due(waiting, expiry));
  EXPECT_EQ(waiting.state, "expired");
  EXPECT_TRUE(waiting.waiting_for.empty());
  EXPECT_NE(waiting.message.find("before a bus of route 7 took it"), std::string::npos);

  BookingState sent = waiting;
  sent.state = "sent";
  sent.vehicle = "bus-2";
  ASSERT_TRUE(expire_if_due(sent, expiry + minutes(5)));
  EXPECT_NE(sent.message.find("before bus-2 answered"), std::string::npos);

  // Accepted: the bus expires it and says so in its log; the depot does not guess.
  BookingState accepted = sent;
  accepted.state = "accepted";
  EXPECT_FALSE(expire_if_due(accepted, expiry + minutes(5)));
  // No expiry given: the bus's default applies once a bus has it.
  BookingState open = sent;
  open.booking.expires.clear();
  EXPECT_FALSE(expire_if_due(open, expiry + minutes(500)));
}

TEST(Routing, ABookingWhoseExpiryIsNoTimeWithAZoneIsRefused) {
  std::string error;
  EXPECT_FALSE(parse_booking(
      R"({"booking_id":"b1","kind":"blind","route_id":"7","stop_id":"C","expires":"07:30"})",
      error));
  EXPECT_NE(error.find("ISO 8601"), std::string::npos) << error;
}

}  // namespace
}  // namespace stopcall::depot
