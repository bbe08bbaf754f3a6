// The scorer on hand-made timelines: what counts as a correct stop, and every way to get one
// wrong.
#include "sim/score.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <sstream>

#include "sim/trace_io.hpp"

namespace stopcall::sim {
namespace {

using namespace std::chrono_literals;
using T = tracking::StopEvent::Type;

const Time kStart{std::chrono::sys_days{std::chrono::year{2026} / 3 / 2} + 8h};

Time at(double s) {
  return add_seconds(kStart, s);
}

// Four stops: S0 (start, leaves at 20 s), S1 (halts 80-110 s), S2 (driven through at 150 s),
// S3 (last, halts at 210 s).
routes::Trip four_stops() {
  routes::Trip trip;
  trip.id = "T1";
  for (int i = 0; i < 4; ++i) {
    routes::TripStop ts;
    ts.stop.id = "S" + std::to_string(i);
    ts.stop_sequence = 10 * (i + 1);
    ts.distance_m = 500.0 * i;
    trip.stops.push_back(ts);
  }
  return trip;
}

Truth truth_of(const routes::Trip& trip) {
  Truth truth;
  truth.trip_id = trip.id;
  truth.start = at(0);
  truth.end = at(240);
  const double arrive[] = {0, 80, 150, 210}, leave[] = {20, 110, 150, 240};
  for (int i = 0; i < 4; ++i) {
    StopTruth s;
    s.index = i;
    s.stop_id = trip.stops[i].stop.id;
    s.stop_sequence = trip.stops[i].stop_sequence;
    s.stopped = i != 2;
    s.arrival = at(arrive[i]);
    s.departure = at(leave[i]);
    truth.stops.push_back(s);
  }
  return truth;
}

tracking::StopEvent event(T type, double t, int stop) {
  tracking::StopEvent e;
  e.type = type;
  e.time = at(t);
  e.trip_id = "T1";
  e.stop_id = "S" + std::to_string(stop);
  e.stop_sequence = 10 * (stop + 1);
  e.stop_index = stop;
  return e;
}

// next_stop 5 s after leaving the stop before, approaching 10 s before reaching the stop.
std::vector<tracking::StopEvent> perfect() {
  return {event(T::trip_started, 0, 0), event(T::departed, 25, 0),     event(T::next_stop, 25, 1),
          event(T::approaching, 70, 1), event(T::arrived, 81, 1),      event(T::departed, 115, 1),
          event(T::next_stop, 115, 2),  event(T::approaching, 140, 2), event(T::passed, 152, 2),
          event(T::next_stop, 152, 3),  event(T::approaching, 200, 3), event(T::arrived, 211, 3),
          event(T::trip_ended, 211, 3)};
}

class Scorer : public ::testing::Test {
 protected:
  Score run(const std::vector<tracking::StopEvent>& events) { return score(trip_, truth_, events); }
  routes::Trip trip_ = four_stops();
  Truth truth_ = truth_of(trip_);
};

TEST_F(Scorer, APerfectEventListScoresEveryStopAfterTheFirst) {
  Score s = run(perfect());
  EXPECT_EQ(s.scored, 3);
  EXPECT_EQ(s.correct, 3);
  EXPECT_TRUE(s.perfect());
  ASSERT_EQ(s.stops.size(), 3u);
  EXPECT_EQ(s.stops[0].index, 1);
  EXPECT_DOUBLE_EQ(s.stops[0].next_stop_after_leaving_s, 5);
  EXPECT_DOUBLE_EQ(s.stops[0].approaching_before_reaching_s, 10);
}

// S2 as a second berth of S1's station: the bus halts once, for both. S2 is right when it is
// never announced on its own; "next stop: S2" as the bus pulls out of the station is a duplicate.
TEST_F(Scorer, ASecondBerthOfOneHaltIsRightWhenNotAnnouncedOnItsOwn) {
  truth_.stops[2].shares_halt_of = 1;
  truth_.stops[2].stopped = true;
  truth_.stops[2].arrival = truth_.stops[1].arrival;
  truth_.stops[2].departure = truth_.stops[1].departure;
  std::vector<tracking::StopEvent> silent = {
      event(T::trip_started, 0, 0), event(T::departed, 25, 0),   event(T::next_stop, 25, 1),
      event(T::approaching, 70, 1), event(T::arrived, 81, 1),    event(T::departed, 115, 1),
      event(T::passed, 115, 2),     event(T::next_stop, 115, 3), event(T::approaching, 200, 3),
      event(T::arrived, 211, 3),    event(T::trip_ended, 211, 3)};
  Score s = run(silent);
  EXPECT_EQ(s.scored, 3);
  EXPECT_EQ(s.correct, 3);
  EXPECT_TRUE(s.perfect());

  auto said = silent;
  said.insert(said.begin() + 6, event(T::next_stop, 115, 2));
  s = run(said);
  EXPECT_FALSE(s.stops[1].correct());
  EXPECT_EQ(s.stops[1].duplicates, 1);
  EXPECT_EQ(s.correct, 2);
  EXPECT_EQ(s.stops[1].describe(),
            "stop 2 (S2): shares the halt of stop 1, announced on its own 1 time(s)");
}

TEST_F(Scorer, ADoubledApproachingIsADuplicate) {
  auto events = perfect();
  events.insert(events.begin() + 4, event(T::approaching, 72, 1));
  Score s = run(events);
  EXPECT_EQ(s.duplicates, 1);
  EXPECT_EQ(s.stops[0].duplicates, 1);
  EXPECT_FALSE(s.stops[0].correct());
  EXPECT_EQ(s.correct, 2);
}

TEST_F(Scorer, ANextStop25SecondsAfterLeavingIsLate) {
  auto events = perfect();
  events[6] = event(T::next_stop, 110 + 25, 2);
  Score s = run(events);
  EXPECT_EQ(s.stops[1].next_stop, Timing::late);
  EXPECT_EQ(s.next_stop_late, 1);
  EXPECT_EQ(s.correct, 2);
}

TEST_F(Scorer, ANextStopUpTo3SecondsBeforeLeavingIsFineButNotEarlier) {
  auto events = perfect();
  events[6] = event(T::next_stop, 110 - 3, 2);
  EXPECT_EQ(run(events).stops[1].next_stop, Timing::correct);
  events[6] = event(T::next_stop, 110 - 5, 2);
  EXPECT_EQ(run(events).stops[1].next_stop, Timing::early);
}

// The second stop's "next stop" may come any time from the start of the trip (the bus stands at
// its first stop, where riders board).
TEST_F(Scorer, TheSecondStopMayBeAnnouncedFromTheStartOfTheTrip) {
  auto events = perfect();
  events[2] = event(T::next_stop, 0, 1);
  EXPECT_EQ(run(events).stops[0].next_stop, Timing::correct);
}

TEST_F(Scorer, ANextStopAfterTheBusReachedTheStopIsLate) {
  // S3 only 15 s after passing S2: a next_stop 16 s after leaving S2 is within 20 s, but the bus
  // is already there.
  truth_.stops[3].arrival = at(165);
  auto events = perfect();
  events[9] = event(T::next_stop, 166, 3);
  events.erase(events.begin() + 10);
  Score s = run(events);
  EXPECT_EQ(s.stops[2].next_stop, Timing::late);
  EXPECT_EQ(s.stops[2].approaching, Timing::missing);
}

TEST_F(Scorer, AnApproaching2SecondsBeforeArrivalIsLate) {
  auto events = perfect();
  events[3] = event(T::approaching, 80 - 2, 1);
  Score s = run(events);
  EXPECT_EQ(s.stops[0].approaching, Timing::late);
  EXPECT_EQ(s.approaching_late, 1);
  EXPECT_NEAR(s.stops[0].approaching_before_reaching_s, 2, 1e-9);
}

TEST_F(Scorer, AnApproachingFortySecondsOfDrivingOutIsEarly) {
  auto events = perfect();
  events[3] = event(T::approaching, 40, 1);  // S1 reached at 80 s, the bus driving all along
  Score s = run(events);
  EXPECT_EQ(s.stops[0].approaching, Timing::early);
  EXPECT_EQ(s.approaching_early, 1);
}

TEST_F(Scorer, WaitingAtARedLightAfterArrivingWasSaidIsNotEarly) {
  // "Arriving at S1" at 31 s, then a wait at a red light short of S1 from 35 s to 70 s: the
  // rider who stood up waits at the door, but only 10 s of driving were left.
  RedLight light;
  light.before_stop = 1;
  light.start = at(35);
  light.end = at(70);
  truth_.red_lights.push_back(light);
  auto events = perfect();
  events[3] = event(T::approaching, 31, 1);
  EXPECT_EQ(run(events).stops[0].approaching, Timing::correct);
}

// S2 put 40 m after S1 (another stop, not a berth): "next stop S2" may come with S1's, and
// "arriving at S2" any time before the bus gets there.
TEST_F(Scorer, AStopCloseAfterTheOneBeforeMayBeSaidWithIt) {
  trip_.stops[2].distance_m = trip_.stops[1].distance_m + 40;
  auto events = perfect();
  events[6] = event(T::next_stop, 25, 2);
  events[7] = event(T::approaching, 149, 2);
  std::sort(events.begin(), events.end(),
            [](const auto& a, const auto& b) { return a.time < b.time; });
  Score s = run(events);
  EXPECT_EQ(s.stops[1].next_stop, Timing::correct);
  EXPECT_EQ(s.stops[1].approaching, Timing::correct);
  EXPECT_EQ(s.out_of_order, 0);
}

// An outage from 100 s to 130 s hid the bus leaving S1 (110 s): "next stop S2" is right until
// 5 s after the fixes came back.
TEST_F(Scorer, AfterAnOutageThatHidTheDepartureNextStopMayComeLate) {
  truth_.outages.push_back({at(100), at(130), -1});
  auto events = perfect();
  events[6] = event(T::next_stop, 134, 2);
  EXPECT_EQ(run(events).stops[1].next_stop, Timing::correct);
  events[6] = event(T::next_stop, 136, 2);
  EXPECT_EQ(run(events).stops[1].next_stop, Timing::late);
}

// An outage from 100 s to 160 s hid both the bus leaving S1 and it reaching S2: S2 is not scored.
TEST_F(Scorer, AStopHiddenByOneOutageFromDepartureToArrivalIsNotScored) {
  truth_.outages.push_back({at(100), at(160), -1});
  auto events = perfect();
  events.erase(events.begin() + 6, events.begin() + 8);  // nothing said of S2
  Score s = run(events);
  EXPECT_TRUE(s.stops[1].blind);
  EXPECT_EQ(s.blind, 1);
  EXPECT_EQ(s.scored, 2);
  EXPECT_EQ(s.correct, 2);
}

TEST_F(Scorer, ApproachingBeforeItsNextStopIsOutOfOrder) {
  auto events = perfect();
  std::swap(events[2], events[3]);  // approaching S1, then next_stop S1
  events[3].time = events[2].time;  // ... at the same time: only the order is wrong
  Score s = run(events);
  EXPECT_EQ(s.out_of_order, 1);
  EXPECT_FALSE(s.stops[0].correct());
}

TEST_F(Scorer, GoingBackToAnEarlierStopIsOutOfOrder) {
  auto events = perfect();
  events.push_back(event(T::next_stop, 212, 2));  // S2 again, after S3
  Score s = run(events);
  EXPECT_EQ(s.stops[1].out_of_order, 1);
  EXPECT_EQ(s.stops[1].duplicates, 1);
  EXPECT_EQ(s.correct, 2);
}

TEST_F(Scorer, TimesGoingBackAreOutOfOrder) {
  auto events = perfect();
  events[10] = event(T::approaching, 150, 3);  // listed after next_stop S3 at 152 s
  Score s = run(events);
  EXPECT_EQ(s.stops[2].out_of_order, 1);
}

TEST_F(Scorer, MissingAnnouncementsAreMissing) {
  auto events = perfect();
  events.erase(events.begin() + 6, events.begin() + 8);  // nothing said for S2
  Score s = run(events);
  EXPECT_EQ(s.stops[1].next_stop, Timing::missing);
  EXPECT_EQ(s.stops[1].approaching, Timing::missing);
  EXPECT_EQ(s.next_stop_missing, 1);
  EXPECT_EQ(s.approaching_missing, 1);
  EXPECT_EQ(s.correct, 2);
}

TEST_F(Scorer, AnnouncementsOfTheFirstStopOrUnknownStopsAreExtra) {
  auto events = perfect();
  events.insert(events.begin() + 1, event(T::next_stop, 1, 0));
  auto stray = event(T::approaching, 30, 1);
  stray.stop_index.reset();
  stray.stop_id = "NOT-ON-THE-TRIP";
  events.push_back(stray);
  Score s = run(events);
  EXPECT_EQ(s.extra, 2);
  EXPECT_EQ(s.correct, 3);
  EXPECT_FALSE(s.perfect());
}

TEST_F(Scorer, EventsWithoutAnIndexAreFoundByStopId) {
  auto events = perfect();
  for (auto& e : events)
    e.stop_index.reset();
  EXPECT_TRUE(run(events).perfect());
}

TEST_F(Scorer, ATruthOfAnotherTripIsRefused) {
  truth_.stops.pop_back();
  EXPECT_THROW(run(perfect()), std::invalid_argument);
}

TEST_F(Scorer, EventsAndTruthSurviveTheirFiles) {
  std::stringstream events_text;
  for (const auto& e : perfect())
    events_text << tracking::to_json_line(e) << '\n';
  auto events = read_events(events_text);
  EXPECT_EQ(events, perfect());

  truth_.red_lights.push_back({1, 440, 60, at(30), at(70)});
  truth_.outages.push_back({at(120), at(160), 2});
  std::stringstream truth_text;
  write_truth(truth_, truth_text);
  Truth back = read_truth(truth_text);
  ASSERT_EQ(back.stops.size(), 4u);
  EXPECT_EQ(back.stops[2].stopped, false);
  EXPECT_EQ(back.stops[1].arrival, at(80));
  EXPECT_EQ(back.stops[1].departure, at(110));
  ASSERT_EQ(back.red_lights.size(), 1u);
  EXPECT_EQ(back.red_lights[0].before_stop, 1);
  EXPECT_EQ(back.red_lights[0].end, at(70));
  ASSERT_EQ(back.outages.size(), 1u);
  EXPECT_EQ(back.outages[0].covers_stop, 2);
  EXPECT_TRUE(score(trip_, back, events).perfect());
}

TEST_F(Scorer, MalformedFilesAreClearErrors) {
  std::stringstream bad_events("{\"type\":\"teleported\",\"time\":\"2026-03-02T08:00:00.000Z\"}\n");
  EXPECT_THROW(read_events(bad_events), std::runtime_error);
  std::stringstream bad_truth("{\"class\":\"stop\"}\n");
  EXPECT_THROW(read_truth(bad_truth), std::runtime_error);
  EXPECT_FALSE(parse_time("yesterday"));
  EXPECT_EQ(parse_time("2026-03-02T08:00:01.500Z"), at(1.5));
}

}  // namespace
}  // namespace stopcall::sim
