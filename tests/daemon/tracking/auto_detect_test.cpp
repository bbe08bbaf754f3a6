// Auto-detection where routes part: two routes leave the same first stop together and part at a
// corner 500 m on, each to a stop of its own. Until the bus turns, positions cannot tell them
// apart; the timetable can, when only one of them has a trip leaving now.
#include <gtest/gtest.h>

#include <sstream>

#include "daemon/tracking/auto_detect.hpp"
#include "tests/daemon/tracking/bus_sim.hpp"

namespace stopcall::tracking {
namespace {

using sim::Bus;
using sim::Logged;
using sim::Path;
using T = StopEvent::Type;

// 08:00 on the service day's clock is sim::kT0.
constexpr int kT0Seconds = 8 * 3600;

// The pure detector as the trace replayer drives a tracker: the fix's service-day time from kT0.
struct Detector {
  AutoDetector detector;
  void on_fix(const Fix& fix, std::vector<StopEvent>& out) {
    detector.on_fix(fix, kT0Seconds + static_cast<int>(sim::since_t0(fix.time)), out);
  }
  void on_tick(Time now, std::vector<StopEvent>& out) { detector.on_tick(now, out); }
};

// Route `name` along `path`: the shared first stop S0, then its own stop `second_m` on. One
// trip, leaving S0 at 08:00 + `leaves_s`, taking 10 minutes.
PatternCandidate route(const std::string& name, const Path& path, long pattern, int leaves_s,
                       double second_m = 900) {
  PatternCandidate c;
  c.representative = sim::make_trip(path, {0, second_m});
  c.representative.id = name;
  c.representative.stops[1].stop.id = name + "-" + std::to_string(static_cast<int>(second_m));
  routes::TripCandidate t;
  t.trip_id = name;
  t.pattern_id = pattern;
  t.first_departure_s = kT0Seconds + leaves_s;
  t.last_arrival_s = t.first_departure_s + 600;
  c.trips.push_back(t);
  return c;
}

std::string describe(const std::vector<Logged>& log) {
  std::ostringstream os;
  for (const auto& l : log)
    os << "  t=" << l.t << " " << to_json_line(l.event) << "\n";
  return os.str();
}

const Logged* find(const std::vector<Logged>& log, T type, const std::string& stop_id) {
  for (const auto& l : log)
    if (l.event.type == type && l.event.stop_id == stop_id) return &l;
  return nullptr;
}

class RoutesPart : public ::testing::Test {
 protected:
  Path straight{{{0, 0}, {1200, 0}}};
  Path turning{{{0, 0}, {500, 0}, {500, 700}}};
  // The bus drives the straight route, leaving S0 at 08:00:20.
  Bus bus{0, 20, {{900, 20}}};

  std::vector<Logged> drive(int straight_leaves_s, int turning_leaves_s) {
    Detector d{AutoDetector({route("straight", straight, 1, straight_leaves_s),
                             route("turning", turning, 2, turning_leaves_s)})};
    sim::TraceOptions o;
    return sim::replay<Detector>(d, sim::make_trace(straight, bus, o));
  }
};

// The turning route's next trip is not due for 20 minutes: the bus leaving S0 now is the
// straight route's, and its next stop is said as the bus leaves S0, long before the corner
// shows it.
TEST_F(RoutesPart, OnlyOneRouteDueNowIsAnnouncedBeforeTheyPart) {
  auto log = drive(20, 1200);
  const auto* next = find(log, T::next_stop, "straight-900");
  ASSERT_NE(next, nullptr) << describe(log);
  EXPECT_LE(next->t, bus.halts()[0].leave_s + 20) << describe(log);
  EXPECT_EQ(find(log, T::next_stop, "turning-900"), nullptr) << describe(log);
}

// Whichever order the candidates come in, every agreed event names the trip the detector offers
// as the bus's (the one the daemon then shows and speaks them for): an event naming another is
// not spoken at all.
TEST_F(RoutesPart, TheEventsNameTheTripTheBusShows) {
  Detector d{
      AutoDetector({route("turning", turning, 2, 1200), route("straight", straight, 1, 20)})};
  int said = 0;
  auto log = sim::replay<Detector>(
      d, sim::make_trace(straight, bus, sim::TraceOptions{}),
      [&](const sim::Sample&, const Detector& det, const std::vector<StopEvent>& out) {
        for (const auto& e : out) {
          if (e.type != T::next_stop && e.type != T::approaching) continue;
          ++said;
          ASSERT_NE(det.detector.provisional_trip(), nullptr);
          EXPECT_EQ(e.trip_id, det.detector.provisional_trip()->id) << to_json_line(e);
        }
      });
  EXPECT_GT(said, 0) << describe(log);
  EXPECT_EQ(find(log, T::next_stop, "turning-900"), nullptr) << describe(log);
}

// The turning route's trip left 20 minutes ago: this may be that bus, running late. Nothing is
// said until the corner shows the way.
TEST_F(RoutesPart, AnotherRoutesTripThatLeftLongAgoMayBeThisBusLate) {
  auto log = drive(20, -1200);
  const auto* next = find(log, T::next_stop, "straight-900");
  ASSERT_NE(next, nullptr) << describe(log);
  EXPECT_GT(next->t, bus.time_at(500)) << describe(log);
}

// Both routes leave now: the timetable cannot tell them apart, so no next stop is said before
// the corner (500 m on, reached about 50 s after leaving S0); the right one after it.
TEST_F(RoutesPart, BothDueNowNothingIsSaidUntilTheyPart) {
  auto log = drive(20, 60);
  EXPECT_EQ(find(log, T::next_stop, "turning-900"), nullptr) << describe(log);
  const auto* next = find(log, T::next_stop, "straight-900");
  ASSERT_NE(next, nullptr) << describe(log);
  EXPECT_GT(next->t, bus.time_at(500)) << describe(log);
}

// Route data out of date: the timetable ranks nothing, so nothing is said before the corner.
TEST_F(RoutesPart, WithoutAValidTimetableNothingIsSaidUntilTheyPart) {
  AutoDetectConfig config;
  config.timetable_valid = false;
  Detector d{AutoDetector({route("straight", straight, 1, 20), route("turning", turning, 2, -1200)},
                          config)};
  auto log = sim::replay<Detector>(d, sim::make_trace(straight, bus, sim::TraceOptions{}));
  const auto* next = find(log, T::next_stop, "straight-900");
  ASSERT_NE(next, nullptr) << describe(log);
  EXPECT_GT(next->t, bus.time_at(500)) << describe(log);
}

// Routes that share 2.5 km part at a corner; the bus (the straight route's) runs 12 minutes
// late, while the turning route has a trip due. It is not told the turning route's stop:
// nothing is said until the corner shows the way.
TEST(RoutesPartLate, ABusRunningLateIsNotGivenAnotherRoutesStop) {
  Path straight({{0, 0}, {3500, 0}});
  Path turning({{0, 0}, {2500, 0}, {2500, 900}});
  Bus bus(0, 20, {{2900, 20}});
  Detector d{AutoDetector(
      {route("straight", straight, 1, 20 - 720, 2900), route("turning", turning, 2, 20, 2900)})};
  auto log = sim::replay<Detector>(d, sim::make_trace(straight, bus, sim::TraceOptions{}));
  EXPECT_EQ(find(log, T::next_stop, "turning-2900"), nullptr) << describe(log);
  const auto* next = find(log, T::next_stop, "straight-2900");
  ASSERT_NE(next, nullptr) << describe(log);
  EXPECT_GT(next->t, bus.time_at(2500)) << describe(log);
}

}  // namespace
}  // namespace stopcall::tracking
