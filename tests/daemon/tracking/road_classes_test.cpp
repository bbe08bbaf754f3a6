// The failure classes the independent road test found on streets we had not seen, each on a tiny
// route: what a rider would have noticed, and that it no longer happens.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <sstream>

#include "daemon/tracking/tracker.hpp"
#include "tests/daemon/tracking/bus_sim.hpp"

namespace stopcall::tracking {
namespace {

using sim::Bus;
using sim::Logged;
using sim::Path;
using sim::TraceOptions;
using sim::XY;
using T = StopEvent::Type;

std::string describe(const std::vector<Logged>& log) {
  std::ostringstream os;
  for (const auto& l : log)
    os << "  t=" << l.t << " " << to_json_line(l.event) << "\n";
  return os.str();
}

const Logged* find(const std::vector<Logged>& log, T type, int stop) {
  for (const auto& l : log)
    if (l.event.type == type && l.event.stop_index == stop) return &l;
  return nullptr;
}

int count(const std::vector<Logged>& log, T type, int stop) {
  int n = 0;
  for (const auto& l : log)
    n += l.event.type == type && l.event.stop_index == stop;
  return n;
}

// The rider's view of stop `stop`, halted at `halt` after leaving `previous`: "next stop" once,
// from 3 s before the bus leaves the stop before to 20 s after; "arriving" once, at least 4 s
// before the bus gets there and at most 30 s of driving before.
void expect_said_in_time(const std::vector<Logged>& log, const Bus& bus, int stop,
                         const Bus::HaltTimes& halt, const Bus::HaltTimes& previous) {
  SCOPED_TRACE("stop " + std::to_string(stop));
  ASSERT_EQ(count(log, T::next_stop, stop), 1) << describe(log);
  ASSERT_EQ(count(log, T::approaching, stop), 1) << describe(log);
  const double next = find(log, T::next_stop, stop)->t;
  EXPECT_GE(next, previous.leave_s - 3) << "\"next stop\" while the bus still stood\n"
                                        << describe(log);
  EXPECT_LE(next, previous.leave_s + 20) << describe(log);
  const double arriving = find(log, T::approaching, stop)->t;
  EXPECT_LE(arriving, halt.arrive_s - 4) << describe(log);
  EXPECT_LE(bus.moving_time(arriving, halt.arrive_s), 30) << describe(log);
}

// The noise seed: STOPCALL_TRACK_SEED=n explores others.
TraceOptions seeded(TraceOptions options) {
  if (const char* seed = std::getenv("STOPCALL_TRACK_SEED"))
    options.seed = static_cast<unsigned>(std::strtoul(seed, nullptr, 10));
  return options;
}

class RoadClass : public ::testing::TestWithParam<double> {
 protected:
  std::vector<Logged> run(const routes::Trip& trip, const Path& path, const Bus& bus,
                          TraceOptions options) {
    options = seeded(options);
    options.rate_hz = GetParam();
    Tracker tracker(trip);
    return sim::replay<Tracker>(tracker, sim::make_trace(path, bus, options));
  }
};

std::string rate_name(const ::testing::TestParamInfo<double>& info) {
  return info.param >= 1 ? std::to_string(static_cast<int>(info.param)) + "Hz" : "0_2Hz";
}

INSTANTIATE_TEST_SUITE_P(Rates, RoadClass, ::testing::Values(10.0, 1.0, 0.2), rate_name);

// A street canyon: a minute at each stop while the fix wanders 15 m and the receiver reports the
// bus crawling at up to 3 m/s in any direction, with gpsd's eph of 45 m from the canyon's HDOP
// (the scatter is 8 m). The road test heard "next stop" up to 44 s before the bus left.
TEST_P(RoadClass, ACanyonStandstillIsNotADeparture) {
  Path road({{0, 0}, {1600, 0}});
  auto trip = sim::make_trip(road, {0, 500, 1000, 1500});
  Bus bus(0, 60, {{500, 60}, {1000, 60}, {1500, 20}});
  TraceOptions o;
  o.sigma_m = 8;
  o.eph_m = 45;
  o.standing_wander_m = 15;
  o.standing_speed_max_mps = 3;
  auto log = run(trip, road, bus, o);
  for (int i = 1; i <= 3; ++i)
    expect_said_in_time(log, bus, i, bus.halts()[i], bus.halts()[i - 1]);
}

// A queue: the bus crawls from stop to stop at 2 m/s (7 km/h), its receiver's Doppler speed
// scattered by 0.25 m/s around it, so that no two seconds of it all reach the 2 m/s that starts
// a standing bus. Our own suite found a bus taken to stand for 50 s over 110 m of such a crawl:
// the stop it crawled to was never announced. (Not at 0.2 Hz: three sparse fixes along the route
// are too often a canyon's standstill; there a crawl starts on one fix of 3 m/s.)
TEST_P(RoadClass, ACrawlInAQueueIsMovingAndItsStopsAreSaid) {
  if (GetParam() < 1)
    GTEST_SKIP() << "a crawl is told from a standstill on fixes 1 s apart or less";
  Path road({{0, 0}, {400, 0}});
  auto trip = sim::make_trip(road, {0, 110, 220, 330});
  sim::Motion crawl;
  crawl.cruise_mps = 2.0;
  Bus bus(0, 20, {{110, 20}, {220, 20}, {330, 20}}, crawl);
  TraceOptions o;
  o.speed_sigma = 0.25;
  auto log = run(trip, road, bus, o);
  for (int i = 1; i <= 3; ++i) {
    SCOPED_TRACE("stop " + std::to_string(i));
    ASSERT_EQ(count(log, T::next_stop, i), 1) << describe(log);
    ASSERT_EQ(count(log, T::arrived, i), 1) << describe(log);
    // "Next stop" once the bus has left the stop before, not a minute later.
    EXPECT_LE(find(log, T::next_stop, i)->t, bus.halts()[i - 1].leave_s + 20) << describe(log);
    EXPECT_LT(find(log, T::approaching, i)->t, bus.halts()[i].arrive_s) << describe(log);
  }
}

// Multipath bursts throw the fixes 50 m away, 25 degrees off the perpendicular (so 20 m along
// the road), for 10 s at a time, while the receiver says its error is 45 m: the stops are said
// neither early nor late. (Other seeds, STOPCALL_TRACK_SEED: at 0.2 Hz a burst that hides both
// fixes before a stop makes "arriving" come late, in about one run in eight.)
TEST_P(RoadClass, ObliqueBurstsUnderAHighEphMoveNoAnnouncement) {
  Path road({{0, 0}, {1600, 0}});
  auto trip = sim::make_trip(road, {0, 500, 1000, 1500});
  Bus bus(0, 20, {{500, 20}, {1000, 20}, {1500, 20}});
  TraceOptions o;
  o.sigma_m = 8;
  o.eph_m = 45;
  o.disturb = [](std::size_t, double t, XY p, XY dir) {
    if (std::fmod(t, 45) >= 10) return p;
    const double a = 25 * routes::geo::kDegToRad;  // off the perpendicular, forwards
    const double side_x = -dir.y, side_y = dir.x;
    return XY{p.x + 50 * (std::cos(a) * side_x + std::sin(a) * dir.x),
              p.y + 50 * (std::cos(a) * side_y + std::sin(a) * dir.y)};
  };
  auto log = run(trip, road, bus, o);
  for (int i = 1; i <= 3; ++i)
    expect_said_in_time(log, bus, i, bus.halts()[i], bus.halts()[i - 1]);
}

// Porto Alegre: Tres Figueiras, then Petropolis 15 m on, another name. Petropolis is a stop a
// rider may want: "next stop" for it comes with Tres Figueiras' ("next stops: A, then B"), and
// "arriving" at the first sign of the bus moving off for it: at least 4 s before it gets there. (At
// 0.2 Hz the 15 m hop between the two halts falls between fixes: then "arriving" comes late. Not
// tested; see the tracking notes.)
TEST(RoadClassClose, AStopFifteenMetresOnWithAnotherNameIsSaidWithTheOneBefore) {
  Path road({{0, 0}, {1000, 0}});
  auto trip = sim::make_trip(road, {0, 500, 515, 900});
  Bus bus(0, 20, {{500, 20}, {515, 15}, {900, 20}});
  Tracker tracker(trip);
  auto log = sim::replay<Tracker>(tracker, sim::make_trace(road, bus, seeded({})));
  ASSERT_EQ(count(log, T::next_stop, 2), 1) << describe(log);
  const auto* together = find(log, T::next_stop, 2);
  EXPECT_TRUE(together->event.with_previous);
  EXPECT_EQ(together->t, find(log, T::next_stop, 1)->t);
  ASSERT_EQ(count(log, T::approaching, 2), 1) << describe(log);
  const double arriving = find(log, T::approaching, 2)->t;
  EXPECT_GE(arriving, find(log, T::approaching, 1)->t);
  EXPECT_LE(arriving, bus.halt_at(515).arrive_s - 4) << describe(log);
  EXPECT_LE(bus.moving_time(arriving, bus.halt_at(515).arrive_s), 30) << describe(log);
  EXPECT_EQ(count(log, T::arrived, 2), 1) << describe(log);
}

// A viaduct over a stop: no fix for 70 s from 200 m before the stop, over the halt there and
// beyond. "Arriving" is said on the dead-reckoned position, 4 to 30 s of driving before the bus
// gets there, marked uncertain; the stop after is said within seconds of the fixes coming back.
TEST(RoadClassOutage, AStopUnderAViaductIsStillAnnouncedInTime) {
  Path road({{0, 0}, {1600, 0}});
  auto trip = sim::make_trip(road, {0, 500, 1000, 1500});
  Bus bus(0, 20, {{500, 20}, {1000, 20}, {1500, 20}});
  const double dark_from = bus.time_at(800), dark_to = dark_from + 70;
  ASSERT_GT(dark_to, bus.halt_at(1000).leave_s);
  TraceOptions o;
  o.outages = {{dark_from, dark_to}};
  Tracker tracker(trip);
  auto log = sim::replay<Tracker>(tracker, sim::make_trace(road, bus, seeded(o)));
  const auto* arriving = find(log, T::approaching, 2);
  ASSERT_NE(arriving, nullptr) << describe(log);
  EXPECT_TRUE(arriving->event.uncertain);
  const auto& halt = bus.halt_at(1000);
  EXPECT_LE(arriving->t, halt.arrive_s - 4) << describe(log);
  EXPECT_LE(bus.moving_time(arriving->t, halt.arrive_s), 30) << describe(log);
  const auto* next = find(log, T::next_stop, 3);
  ASSERT_NE(next, nullptr) << describe(log);
  EXPECT_LE(next->t, dark_to + 5) << describe(log);
  EXPECT_EQ(count(log, T::next_stop, 2), 1);
}

// The same viaduct with the vehicle's own speed signal (CAN): its odometer carries the stop
// through the outage, which is then arrived at and left as on fixes, each event marked uncertain.
TEST(RoadClassOutage, WithTheVehicleSpeedTheStopInAnOutageIsArrivedAndLeft) {
  Path road({{0, 0}, {1600, 0}});
  auto trip = sim::make_trip(road, {0, 500, 1000, 1500});
  Bus bus(0, 20, {{500, 20}, {1000, 20}, {1500, 20}});
  const double dark_from = bus.time_at(800), dark_to = dark_from + 70;
  TraceOptions o;
  o.outages = {{dark_from, dark_to}};
  const auto trace = sim::make_trace(road, bus, seeded(o));
  Tracker tracker(trip);
  std::vector<Logged> log;
  std::vector<StopEvent> out;
  std::size_t next_fix = 0;
  for (double t = 0; t < bus.end_s(); t += 0.5) {
    VehicleMotion m;
    m.time = sim::at_s(t);
    m.speed_mps = bus.v(t);
    tracker.on_vehicle(m);
    out.clear();
    if (next_fix < trace.size() && trace[next_fix].t <= t) {
      tracker.on_fix(trace[next_fix++].fix, out);
    } else {
      tracker.on_tick(sim::at_s(t), out);
    }
    for (const auto& e : out)
      log.push_back({e, sim::since_t0(e.time)});
  }
  const auto& halt = bus.halt_at(1000);
  const auto* arrived = find(log, T::arrived, 2);
  ASSERT_NE(arrived, nullptr) << describe(log);
  EXPECT_TRUE(arrived->event.uncertain);
  EXPECT_GE(arrived->t, halt.arrive_s - 1);
  EXPECT_LE(arrived->t, halt.arrive_s + 3);
  const auto* departed = find(log, T::departed, 2);
  ASSERT_NE(departed, nullptr) << describe(log);
  EXPECT_GE(departed->t, halt.leave_s);
  EXPECT_LE(departed->t, halt.leave_s + 1.5) << "departed within a second of moving off";
  const auto* next = find(log, T::next_stop, 3);
  ASSERT_NE(next, nullptr);
  EXPECT_LT(next->t, dark_to) << "said in the outage";
  expect_said_in_time(log, bus, 2, halt, bus.halt_at(500));
}

// The doors: while they are open the bus stands, whatever a wandering canyon fix says; doors
// closed and the vehicle's speed above walking pace: departed within a second.
TEST(RoadClassDoors, DoorsClosedAndMovingIsDepartedWithinASecond) {
  Path road({{0, 0}, {1200, 0}});
  auto trip = sim::make_trip(road, {0, 500, 1000});
  Bus bus(0, 20, {{500, 60}, {1000, 20}});
  TraceOptions o;
  o.sigma_m = 8;
  o.eph_m = 45;
  o.standing_wander_m = 15;
  o.standing_speed_max_mps = 3;
  const auto trace = sim::make_trace(road, bus, seeded(o));
  const auto& halt = bus.halt_at(500);
  Tracker tracker(trip);
  std::vector<Logged> log;
  std::vector<StopEvent> out;
  bool open = false;
  for (const auto& s : trace) {
    const bool should_be_open = s.t >= halt.arrive_s + 2 && s.t < halt.leave_s - 3;
    VehicleMotion m;
    m.time = s.fix.time;
    if (should_be_open != open) m.doors_open = open = should_be_open;
    m.speed_mps = bus.v(s.t);
    tracker.on_vehicle(m);
    out.clear();
    tracker.on_fix(s.fix, out);
    for (const auto& e : out)
      log.push_back({e, sim::since_t0(e.time)});
  }
  const auto* departed = find(log, T::departed, 1);
  ASSERT_NE(departed, nullptr) << describe(log);
  EXPECT_GE(departed->t, halt.leave_s) << describe(log);
  // The speed passes walking pace (0.5 m/s) half a second after the bus starts; the next fix
  // (1 Hz) says it.
  EXPECT_LE(departed->t, halt.leave_s + 0.5 + 1.0) << describe(log);
  const auto* next = find(log, T::next_stop, 2);
  ASSERT_NE(next, nullptr);
  EXPECT_EQ(next->t, departed->t);
}

// A receiver reporting every 5 s that drops one fix as the bus pulls away: the gap is not its
// interval, so "arriving" is not said a long way out (the road test heard it 30-80 s early).
TEST(RoadClassSparse, AMissingFixDoesNotMakeArrivingEarly) {
  Path road({{0, 0}, {1200, 0}});
  auto trip = sim::make_trip(road, {0, 400, 1000});
  Bus bus(0, 20, {{400, 20}, {1000, 20}});
  TraceOptions o;
  o.rate_hz = 0.2;
  const double leave = bus.halt_at(400).leave_s;
  o.outages = {{leave + 1, leave + 6}};  // the first fix after pulling away is missing
  Tracker tracker(trip);
  auto log = sim::replay<Tracker>(tracker, sim::make_trace(road, bus, seeded(o)));
  expect_said_in_time(log, bus, 2, bus.halt_at(1000), bus.halt_at(400));
}

}  // namespace
}  // namespace stopcall::tracking
