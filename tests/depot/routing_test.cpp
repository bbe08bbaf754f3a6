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

// The depot's clock for the bookings with an expiry: 07:50 in Shenzhen.
const tracking::Time kNow = *daemon::vehicle::parse_iso_time("2026-03-02T07:50:00+08:00");

Booking at_c() {
  return {"b-1", "wheelchair", "7", "C", ""};
}

TEST(Routing, TheBusThatReachesTheStopSoonestGetsIt) {
  // bus-far is at A (10 min from C), bus-near at B (5 min), bus-past beyond C.
  const auto c = choose_bus(
      at_c(), {bus("bus-far", "T1", 0), bus("bus-near", "T2", 1), bus("bus-past", "T3", 3)},
      trips(), {}, kNow);
  EXPECT_EQ(c.vehicle, "bus-near");
  EXPECT_EQ(c.eta_s, 300);
}

TEST(Routing, ABusWhoseNextStopIsTheStopItselfStillServesIt) {
  EXPECT_EQ(choose_bus(at_c(), {bus("bus-1", "T1", 2)}, trips(), {}, kNow).vehicle, "bus-1");
}

TEST(Routing, OfflineTriedAndOtherRoutesAreLeftOut) {
  auto other = bus("bus-other", "T1", 1);
  other.route_id = "8";
  const auto c = choose_bus(
      at_c(),
      {bus("bus-off", "T1", 1, false), bus("bus-tried", "T2", 1), other, bus("bus-late", "T3", 0)},
      trips(), {"bus-tried"}, kNow);
  EXPECT_EQ(c.vehicle, "bus-late");
}

TEST(Routing, NoBusSaysWhy) {
  EXPECT_EQ(choose_bus(at_c(), {}, trips(), {}, kNow).reason, "no bus of route 7 is known");
  const auto past = choose_bus(at_c(), {bus("bus-past", "T1", 3)}, trips(), {}, kNow);
  EXPECT_TRUE(past.vehicle.empty());
  EXPECT_EQ(past.reason, "no bus of route 7 still to reach stop C");
}

// With an expiry, a bus is due at the stop at the depot's clock plus its timetable time from its
// next stop (the status tells no more of how late it runs). By that rule the bus soonest there is
// also the soonest in time: when it is too late, every bus is.
Booking at_c_before(const std::string& expires) {
  Booking b = at_c();
  b.expires = expires;
  return b;
}

TEST(Routing, NoBusBeforeTheExpiryFailsTheBookingAtOnceWithTheReason) {
  // At 07:50 bus-near (at B) is due at C at 07:55, bus-far (at A) at 08:00; the rider waits to
  // 07:53.
  BookingState s;
  s.booking = at_c_before("2026-03-02T07:53:00+08:00");
  route(s, {bus("bus-far", "T1", 0), bus("bus-near", "T2", 1)}, trips(), kNow);
  EXPECT_EQ(s.state, "failed");
  EXPECT_TRUE(s.vehicle.empty());
  EXPECT_EQ(s.sends, 0);  // no bus was asked
  EXPECT_EQ(s.message, "no bus of route 7 reaches C before 07:53 (the next at 07:55)");

  // Said on the clock the booking came with; a bus due at 07:55:30 is there at 07:56.
  const auto utc = choose_bus(at_c_before("2026-03-01T23:53:00Z"), {bus("bus-near", "T2", 1)},
                              trips(), {}, kNow + std::chrono::seconds(30));
  EXPECT_EQ(utc.reason, "no bus of route 7 reaches C before 23:53 (the next at 23:56)");
}

TEST(Routing, ABusInTimeGetsItAndTheOneAfterItOnlyIfInTimeToo) {
  const std::vector<StatusRecord> fleet{bus("bus-far", "T1", 0), bus("bus-near", "T2", 1)};
  BookingState s;
  s.booking = at_c_before("2026-03-02T07:58:00+08:00");
  route(s, fleet, trips(), kNow);
  EXPECT_EQ(s.state, "sent");
  EXPECT_EQ(s.vehicle, "bus-near");  // 07:55
  // bus-near refuses; bus-far would come at 08:00: failed rather than sent to a bus too late.
  EXPECT_TRUE(
      on_ack(s, {"bus-near", "b-1-1", "b-1", false, "too_many", "full", ""}, fleet, trips(), kNow));
  EXPECT_EQ(s.state, "failed");
  EXPECT_EQ(s.sends, 1);
  EXPECT_EQ(s.message,
            "bus-near refused it (too_many: full); no bus of route 7 reaches C before 07:58 (the "
            "next at 08:00; tried: bus-near)");
}

TEST(Routing, ABookingWithoutExpiryGoesToTheSoonestBusHoweverFar) {
  const auto c = choose_bus(at_c(), {bus("bus-far", "T1", 0)}, trips(), {}, kNow);
  EXPECT_EQ(c.vehicle, "bus-far");
  EXPECT_EQ(c.eta_s, 600);
}

TEST(Routing, ABusDueExactlyAtTheExpiryIsTooLate) {
  // The bus drops a request when its expiry comes (`expires <= now`): a bus due at 07:55 for a
  // booking that expires at 07:55 would find nothing to serve. One second more, and it is in time.
  const std::vector<StatusRecord> fleet{bus("bus-near", "T2", 1)};
  const auto at = choose_bus(at_c_before("2026-03-02T07:55:00+08:00"), fleet, trips(), {}, kNow);
  EXPECT_TRUE(at.vehicle.empty());
  EXPECT_EQ(at.reason, "no bus of route 7 reaches C before 07:55 (the next at 07:55)");
  EXPECT_EQ(choose_bus(at_c_before("2026-03-02T07:55:01+08:00"), fleet, trips(), {}, kNow).vehicle,
            "bus-near");
}

TEST(Routing, ABookingWaitsForItsBusGoneAwayWhenOnlyLaterBusesAreLeft) {
  BookingState s;
  s.booking = at_c_before("2026-03-02T07:58:00+08:00");
  route(s, {bus("bus-1", "T1", 1), bus("bus-2", "T2", 0)}, trips(), kNow);
  ASSERT_EQ(s.vehicle, "bus-1");
  // bus-2 would come at 08:00: the booking waits for bus-1, which may come back in time.
  EXPECT_TRUE(
      on_offline(s, "bus-1", {bus("bus-1", "T1", 1, false), bus("bus-2", "T2", 0)}, trips(), kNow));
  EXPECT_EQ(s.state, "routing");
  EXPECT_EQ(s.waiting_for, "bus-1");
  EXPECT_NE(s.message.find("no bus of route 7 reaches C before 07:58"), std::string::npos)
      << s.message;
  // Back four minutes later, still at B: due at 07:59, too late for it: failed.
  EXPECT_TRUE(on_online(s, "bus-1", {bus("bus-1", "T1", 1), bus("bus-2", "T2", 0)}, trips(),
                        kNow + std::chrono::minutes(4)));
  EXPECT_EQ(s.state, "failed");
  EXPECT_EQ(s.message,
            "bus-1 came back online; no bus of route 7 reaches C before 07:58 (the next at 07:59)");
}

TEST(Routing, AnAcceptedBookingStaysWithItsBusWhenTheExpiryNears) {
  const std::vector<StatusRecord> fleet{bus("bus-1", "T1", 1)};
  BookingState s;
  s.booking = at_c_before("2026-03-02T07:58:00+08:00");
  route(s, fleet, trips(), kNow);
  ASSERT_TRUE(on_ack(s, {"bus-1", "b-1-1", "b-1", true, "", "", ""}, fleet, trips(), kNow));
  // Away and back too late for the stop: still the bus's (it keeps the request and expires it).
  const auto later = kNow + std::chrono::minutes(6);
  EXPECT_FALSE(on_offline(s, "bus-1", {bus("bus-1", "T1", 1, false)}, trips(), later));
  EXPECT_FALSE(on_online(s, "bus-1", fleet, trips(), later));
  EXPECT_EQ(s.state, "accepted");
  EXPECT_EQ(s.vehicle, "bus-1");
}

TEST(Routing, ARefusalGoesToTheNextBusAndAcceptanceIsNoted) {
  const std::vector<StatusRecord> fleet{bus("bus-1", "T1", 1), bus("bus-2", "T2", 0)};
  BookingState s;
  s.booking = at_c();
  route(s, fleet, trips(), kNow);
  EXPECT_EQ(s.state, "sent");
  EXPECT_EQ(s.vehicle, "bus-1");

  RequestAck no{"bus-1", "b-1-1", "b-1", false, "too_many", "4 requests at this stop", ""};
  EXPECT_TRUE(on_ack(s, no, fleet, trips(), kNow));
  EXPECT_EQ(s.state, "sent");
  EXPECT_EQ(s.vehicle, "bus-2");
  EXPECT_EQ(s.tried, std::vector<std::string>{"bus-1"});

  // A late answer from the bus that refused changes nothing.
  RequestAck late{"bus-1", "b-1-1", "b-1", true, "", "", ""};
  EXPECT_FALSE(on_ack(s, late, fleet, trips(), kNow));
  RequestAck yes{"bus-2", "b-1-2", "b-1", true, "", "request taken", ""};
  EXPECT_TRUE(on_ack(s, yes, fleet, trips(), kNow));
  EXPECT_EQ(s.state, "accepted");
}

TEST(Routing, FatesFromTheBus) {
  const std::vector<StatusRecord> fleet{bus("bus-1", "T1", 1), bus("bus-2", "T2", 0)};
  BookingState s;
  s.booking = at_c();
  route(s, fleet, trips(), kNow);
  EXPECT_TRUE(on_fate(s, "bus-1", "shown", "", fleet, trips(), kNow));
  EXPECT_EQ(s.state, "shown");
  EXPECT_FALSE(on_fate(s, "bus-1", "pending", "", fleet, trips(), kNow));
  EXPECT_TRUE(on_fate(s, "bus-1", "missed", "the bus did not stop", fleet, trips(), kNow));
  EXPECT_EQ(s.vehicle, "bus-2");
  EXPECT_EQ(s.state, "sent");
  EXPECT_TRUE(on_fate(s, "bus-2", "served", "", fleet, trips(), kNow));
  EXPECT_EQ(s.state, "served");
  EXPECT_TRUE(s.final());
  EXPECT_FALSE(on_fate(s, "bus-2", "expired", "", fleet, trips(), kNow));

  BookingState dealt;
  dealt.booking = at_c();
  route(dealt, fleet, trips(), kNow);
  EXPECT_TRUE(on_fate(dealt, "bus-1", "dismissed", "", fleet, trips(), kNow));
  EXPECT_EQ(dealt.state, "dismissed");
  EXPECT_TRUE(dealt.final()) << "the driver dealt with it: nothing more is asked of a bus";
  EXPECT_FALSE(on_fate(dealt, "bus-1", "missed", "", fleet, trips(), kNow));

  BookingState last;
  last.booking = at_c();
  route(last, {bus("bus-1", "T1", 1)}, trips(), kNow);
  EXPECT_TRUE(on_fate(last, "bus-1", "missed", "", {bus("bus-1", "T1", 3)}, trips(), kNow));
  EXPECT_EQ(last.state, "failed");
  EXPECT_NE(last.message.find("bus-1 missed it"), std::string::npos) << last.message;
}

TEST(Routing, ABusGoneOfflineBeforeAnsweringHandsTheBookingToAnother) {
  BookingState s;
  s.booking = at_c();
  route(s, {bus("bus-1", "T1", 1), bus("bus-2", "T2", 0)}, trips(), kNow);
  ASSERT_EQ(s.vehicle, "bus-1");
  // Not this bus: nothing.
  EXPECT_FALSE(
      on_offline(s, "bus-2", {bus("bus-1", "T1", 1), bus("bus-2", "T2", 0, false)}, trips(), kNow));
  EXPECT_TRUE(
      on_offline(s, "bus-1", {bus("bus-1", "T1", 1, false), bus("bus-2", "T2", 0)}, trips(), kNow));
  EXPECT_EQ(s.state, "sent");
  EXPECT_EQ(s.vehicle, "bus-2");
  EXPECT_TRUE(s.tried.empty());  // it may come back before the stop
  EXPECT_EQ(s.sends, 2);
  EXPECT_NE(s.message.find("bus-1 went offline before answering"), std::string::npos) << s.message;
}

TEST(Routing, WithNoOtherBusTheBookingWaitsForTheOneThatWentAway) {
  BookingState s;
  s.booking = at_c();
  route(s, {bus("bus-1", "T1", 1)}, trips(), kNow);
  EXPECT_TRUE(on_offline(s, "bus-1", {bus("bus-1", "T1", 1, false)}, trips(), kNow));
  EXPECT_EQ(s.state, "routing");
  EXPECT_EQ(s.waiting_for, "bus-1");
  EXPECT_FALSE(s.final());
  // Back, still before C: sent to it again.
  EXPECT_TRUE(on_online(s, "bus-1", {bus("bus-1", "T1", 2)}, trips(), kNow));
  EXPECT_EQ(s.state, "sent");
  EXPECT_EQ(s.vehicle, "bus-1");
  EXPECT_TRUE(s.waiting_for.empty());
  EXPECT_EQ(s.sends, 2);

  // Away again, and back past C: failed, with why.
  EXPECT_TRUE(on_offline(s, "bus-1", {bus("bus-1", "T1", 2, false)}, trips(), kNow));
  auto other = bus("bus-9", "T2", 0);
  other.route_id = "8";
  EXPECT_FALSE(on_online(s, "bus-9", {bus("bus-1", "T1", 2, false), other}, trips(), kNow));
  EXPECT_EQ(s.state, "routing");
  EXPECT_TRUE(on_online(s, "bus-1", {bus("bus-1", "T1", 3), other}, trips(), kNow));
  EXPECT_EQ(s.state, "failed");
  EXPECT_NE(s.message.find("bus-1 came back online; no bus of route 7 still to reach stop C"),
            std::string::npos)
      << s.message;
}

TEST(Routing, AnAcceptedBookingStaysWithABusThatGoesAway) {
  BookingState s;
  s.booking = at_c();
  const std::vector<StatusRecord> fleet{bus("bus-1", "T1", 1), bus("bus-2", "T2", 0)};
  route(s, fleet, trips(), kNow);
  ASSERT_TRUE(on_ack(s, {"bus-1", "b-1-1", "b-1", true, "", "", ""}, fleet, trips(), kNow));
  EXPECT_FALSE(
      on_offline(s, "bus-1", {bus("bus-1", "T1", 1, false), bus("bus-2", "T2", 0)}, trips(), kNow));
  EXPECT_FALSE(on_online(s, "bus-1", fleet, trips(), kNow));
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
