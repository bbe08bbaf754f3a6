// Rider-visible facts about the tracker, on tiny routes drawn in code and a simulated bus with
// seeded GPS noise, at 10 Hz, 1 Hz and 0.2 Hz. On failure each test writes a GeoJSON picture of
// its trace and events to <build>/tracking-failures/.
#include "daemon/tracking/tracker.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <optional>
#include <sstream>

#include "tests/daemon/tracking/bus_sim.hpp"

namespace stopcall::tracking {
namespace {

using sim::Bus;
using sim::Halt;
using sim::Logged;
using sim::Path;
using sim::Sample;
using sim::TraceOptions;
using sim::XY;
using T = StopEvent::Type;

bool about_stop(T t) {
  return t == T::next_stop || t == T::approaching || t == T::arrived || t == T::passed ||
         t == T::departed;
}

int count(const std::vector<Logged>& log, T type, std::optional<int> stop = std::nullopt) {
  int n = 0;
  for (const auto& l : log)
    n += l.event.type == type && (!stop || l.event.stop_index == stop);
  return n;
}

std::optional<double> when(const std::vector<Logged>& log, T type, std::optional<int> stop = {}) {
  for (const auto& l : log)
    if (l.event.type == type && (!stop || l.event.stop_index == stop)) return l.t;
  return std::nullopt;
}

std::string describe(const std::vector<Logged>& log) {
  std::ostringstream os;
  for (const auto& l : log)
    os << "  t=" << l.t << " " << to_json_line(l.event) << "\n";
  return os.str();
}

// True of every run: no stop event twice, stop events never go back to an earlier stop, per stop
// next_stop < approaching < arrived < departed, and passed never together with arrived.
void expect_invariants(const std::vector<Logged>& log, int n_stops) {
  std::map<std::pair<int, int>, int> seen;
  int last_stop = -1;
  bool ended = false;
  for (const auto& l : log) {
    EXPECT_FALSE(ended) << "event after trip_ended\n" << describe(log);
    if (l.event.type == T::trip_ended) ended = true;
    if (!about_stop(l.event.type)) continue;
    ASSERT_TRUE(l.event.stop_index);
    int stop = *l.event.stop_index;
    EXPECT_GE(stop, last_stop) << "went back to an earlier stop\n" << describe(log);
    last_stop = std::max(last_stop, stop);
    int times = ++seen[std::make_pair(stop, static_cast<int>(l.event.type))];
    EXPECT_EQ(times, 1) << type_name(l.event.type) << " twice for stop " << stop << "\n"
                        << describe(log);
  }
  for (int i = 0; i < n_stops; ++i) {
    EXPECT_LE(count(log, T::arrived, i) + count(log, T::passed, i), 1) << describe(log);
    auto next = when(log, T::next_stop, i), appr = when(log, T::approaching, i),
         arr = when(log, T::arrived, i), dep = when(log, T::departed, i);
    if (next && appr) {
      EXPECT_LE(*next, *appr);
    }
    if (appr && arr) {
      EXPECT_LE(*appr, *arr);
    }
    if (arr && dep) {
      EXPECT_LT(*arr, *dep);
    }
    if (dep) {
      EXPECT_TRUE(arr || i == 0) << "departed without arrived at stop " << i;
    }
  }
}

// A stop the bus really halted at, announced as the rider needs it.
void expect_announced(const std::vector<Logged>& log, const Bus& bus, int stop,
                      const Bus::HaltTimes& halt, const Bus::HaltTimes& previous, bool last) {
  SCOPED_TRACE("stop " + std::to_string(stop));
  EXPECT_EQ(count(log, T::next_stop, stop), 1) << describe(log);
  EXPECT_EQ(count(log, T::approaching, stop), 1) << describe(log);
  EXPECT_EQ(count(log, T::arrived, stop), 1) << describe(log);
  EXPECT_EQ(count(log, T::passed, stop), 0) << describe(log);
  EXPECT_EQ(count(log, T::departed, stop), last ? 0 : 1) << describe(log);
  if (auto t = when(log, T::next_stop, stop)) {
    EXPECT_GE(*t, previous.leave_s) << "next_stop before leaving the previous stop";
  }
  if (auto t = when(log, T::approaching, stop)) {
    // Early only by the time the bus then moves: waiting at a red light short of the stop after
    // "arriving at" was said is not early.
    EXPECT_LE(bus.moving_time(*t, halt.arrive_s), 30) << "approaching too early";
    EXPECT_LE(*t, halt.arrive_s - 4) << "approaching too late";
  }
  if (auto t = when(log, T::arrived, stop)) {
    // The last second of braking is below walking pace, and with the Doppler's noise the last
    // second and a half may be reported so: a sparse fix there may count.
    EXPECT_GE(*t, halt.arrive_s - 1.5) << "arrived before the bus stopped";
    EXPECT_LE(*t, halt.leave_s) << "arrived after the bus left";
  }
  if (auto t = when(log, T::departed, stop)) {
    EXPECT_GE(*t, halt.leave_s) << "departed before the bus left";
  }
}

std::string rate_name(const ::testing::TestParamInfo<double>& info) {
  return info.param >= 1 ? std::to_string(static_cast<int>(info.param)) + "Hz" : "0_2Hz";
}

class TrackerAtRate : public ::testing::TestWithParam<double> {
 protected:
  // The parameter's fix rate, and the noise seed (STOPCALL_TRACK_SEED=n explores other seeds).
  TraceOptions at_rate(TraceOptions options) const {
    options.rate_hz = GetParam();
    if (const char* seed = std::getenv("STOPCALL_TRACK_SEED"))
      options.seed = static_cast<unsigned>(std::strtoul(seed, nullptr, 10));
    return options;
  }

  std::vector<Logged> run(const routes::Trip& trip, const Path& driven, const Bus& bus,
                          TraceOptions options = {}, TrackerConfig config = {}) {
    trace_ = sim::make_trace(driven, bus, at_rate(options));
    Tracker tracker(trip, config);
    log_ = sim::replay<Tracker>(tracker, trace_);
    return log_;
  }

  void TearDown() override {
    if (!HasFailure() || trace_.empty()) return;
    auto dir = std::filesystem::path(STOPCALL_BINARY_DIR) / "tracking-failures";
    std::filesystem::create_directories(dir);
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = std::string(info->test_suite_name()) + "." + info->name();
    for (char& c : name)
      if (c == '/') c = '_';
    sim::dump_geojson((dir / (name + ".geojson")).string(), trace_, log_);
  }

  std::vector<Sample> trace_;
  std::vector<Logged> log_;
};

INSTANTIATE_TEST_SUITE_P(Rates, TrackerAtRate, ::testing::Values(10.0, 1.0, 0.2), rate_name);

// A straight 1 km road, 4 stops: the plain case.
TEST_P(TrackerAtRate, StraightRoadAnnouncesEveryStopOnceInOrder) {
  Path road({{0, 0}, {1000, 0}});
  auto trip = sim::make_trip(road, {0, 300, 650, 1000});
  Bus bus(0, 10, {{300, 20}, {650, 20}, {1000, 20}});
  auto log = run(trip, road, bus);

  expect_invariants(log, 4);
  ASSERT_FALSE(log.empty());
  EXPECT_EQ(log.front().event.type, T::trip_started);
  EXPECT_EQ(log.front().event.stop_id, "S0");
  EXPECT_EQ(log.back().event.type, T::trip_ended);
  EXPECT_EQ(count(log, T::departed, 0), 1);
  EXPECT_GE(*when(log, T::departed, 0), bus.halts()[0].leave_s);
  for (int i = 1; i <= 3; ++i)
    expect_announced(log, bus, i, bus.halts()[i], bus.halts()[i - 1], i == 3);
  EXPECT_EQ(count(log, T::gps_lost) + count(log, T::off_route) + count(log, T::position_uncertain),
            0)
      << describe(log);
  // The GTFS stop_sequence travels with the event.
  for (const auto& l : log)
    if (l.event.stop_index) {
      EXPECT_EQ(l.event.stop_sequence, (*l.event.stop_index + 1) * 10);
    }
}

// 8 km of city blocks (a corner every 300-500 m), 25 stops, some of them close to corners.
TEST_P(TrackerAtRate, CityBlocksAnnounceEveryStop) {
  std::vector<XY> pts{{0, 0}};
  double x = 0, y = 0;
  for (int i = 0; i < 10; ++i) {
    x += 500;
    pts.push_back({x, y});
    y += (i % 2 == 0) ? 300 : -300;
    pts.push_back({x, y});
  }
  Path city(pts);
  const int n = 25;
  std::vector<double> stops;
  std::vector<Halt> halts;
  for (int i = 0; i < n; ++i) {
    stops.push_back(city.length() * i / (n - 1));
    if (i > 0) halts.push_back({stops.back(), 15});
  }
  auto trip = sim::make_trip(city, stops);
  Bus bus(0, 10, halts);
  auto log = run(trip, city, bus);

  expect_invariants(log, n);
  for (int i = 1; i < n; ++i)
    expect_announced(log, bus, i, bus.halts()[i], bus.halts()[i - 1], i == n - 1);
  EXPECT_EQ(count(log, T::off_route) + count(log, T::gps_lost) + count(log, T::position_uncertain),
            0)
      << describe(log);
}

// Waiting 30 s at a red light 60 m short of a stop: "arriving" may be said there (the wait does
// not make it early), but the bus has not arrived.
TEST_P(TrackerAtRate, RedLightShortOfAStopIsNotArriving) {
  Path road({{0, 0}, {1000, 0}});
  auto trip = sim::make_trip(road, {0, 400, 800, 1000});
  Bus bus(0, 10, {{400, 20}, {740, 30}, {800, 20}, {1000, 20}});
  auto log = run(trip, road, bus);

  expect_invariants(log, 4);
  const auto& red = bus.halt_at(740);
  expect_announced(log, bus, 1, bus.halt_at(400), bus.halts()[0], false);
  expect_announced(log, bus, 2, bus.halt_at(800), bus.halt_at(400), false);
  expect_announced(log, bus, 3, bus.halt_at(1000), bus.halt_at(800), true);
  for (const auto& l : log) {
    if (l.event.stop_index == 2 && l.event.type != T::next_stop && l.event.type != T::approaching) {
      EXPECT_FALSE(l.t >= red.arrive_s - 5 && l.t <= red.leave_s)
          << "stop event at the red light: " << to_json_line(l.event);
    }
  }
}

// East along a street, round a block, east along the same street again: each pass's stops are
// announced on their own pass only.
TEST_P(TrackerAtRate, LoopAnnouncesSecondPassStopsOnTheSecondPassOnly) {
  Path loop({{0, 0}, {600, 0}, {600, 200}, {200, 200}, {200, 0}, {1000, 0}});
  // S1 (400, 0) first pass; S2 on the northern street; S3 (500, 0) second pass; S4 the end.
  auto trip = sim::make_trip(loop, {0, 400, 1000, 1700, 2200});
  ASSERT_DOUBLE_EQ(loop.length(), 2200);
  Bus bus(0, 10, {{400, 20}, {1000, 20}, {1700, 20}, {2200, 20}});
  auto log = run(trip, loop, bus);

  expect_invariants(log, 5);
  for (int i = 1; i <= 4; ++i)
    expect_announced(log, bus, i, bus.halts()[i], bus.halts()[i - 1], i == 4);
  const double first_pass_ends = bus.time_at(600), second_pass_starts = bus.time_at(1400);
  for (const auto& l : log) {
    if (l.event.stop_index == 1) {
      EXPECT_LT(l.t, first_pass_ends) << to_json_line(l.event);
    }
    if (l.event.stop_index == 3 && l.event.type != T::next_stop) {
      EXPECT_GT(l.t, second_pass_starts) << to_json_line(l.event);
    }
  }
  EXPECT_EQ(count(log, T::passed), 0) << describe(log);
}

// Stops 60 m apart: next_stop for the second right after leaving the first.
TEST_P(TrackerAtRate, StopsSixtyMetresApartAreEachAnnounced) {
  Path road({{0, 0}, {800, 0}});
  auto trip = sim::make_trip(road, {0, 300, 360, 700});
  Bus bus(0, 10, {{300, 20}, {360, 20}, {700, 20}});
  auto log = run(trip, road, bus);

  expect_invariants(log, 4);
  for (int i = 1; i <= 3; ++i)
    expect_announced(log, bus, i, bus.halts()[i], bus.halts()[i - 1], i == 3);
}

// Two berths of one station 25 m apart: the bus halts once. The rider hears the station once,
// at the first berth; the second is `passed` as the bus leaves, never announced on its own.
TEST_P(TrackerAtRate, BerthsOfOneStationAreOneHalt) {
  Path road({{0, 0}, {900, 0}});
  auto trip = sim::make_trip(road, {0, 400, 425, 800});
  sim::make_berth_of_previous(trip, 2);
  Bus bus(0, 10, {{410, 20}, {800, 20}});
  auto log = run(trip, road, bus);

  expect_invariants(log, 4);
  expect_announced(log, bus, 1, bus.halt_at(410), bus.halts()[0], false);
  EXPECT_EQ(count(log, T::next_stop, 2), 0) << describe(log);
  EXPECT_EQ(count(log, T::approaching, 2), 0) << describe(log);
  EXPECT_EQ(count(log, T::arrived, 2), 0) << describe(log);
  ASSERT_EQ(count(log, T::passed, 2), 1) << describe(log);
  EXPECT_GE(*when(log, T::passed, 2), *when(log, T::departed, 1));
  EXPECT_LE(*when(log, T::passed, 2), *when(log, T::next_stop, 3));
  expect_announced(log, bus, 3, bus.halt_at(800), bus.halt_at(410), true);
  // What the workflows learn: a rider waiting at the second berth is served at the first.
  EXPECT_THAT(Tracker(trip).halt_stops(), ::testing::ElementsAre(0, 1, 1, 3));
}

// A trip that ends at a station of two berths ends when the bus halts there.
TEST_P(TrackerAtRate, TripEndsAtAStationOfTwoBerths) {
  Path road({{0, 0}, {700, 0}});
  auto trip = sim::make_trip(road, {0, 400, 600, 612});
  sim::make_berth_of_previous(trip, 3);
  Bus bus(0, 10, {{400, 20}, {606, 30}});
  auto log = run(trip, road, bus);

  expect_invariants(log, 4);
  EXPECT_EQ(count(log, T::arrived, 2), 1) << describe(log);
  EXPECT_EQ(count(log, T::passed, 3), 1) << describe(log);
  EXPECT_EQ(count(log, T::next_stop, 3), 0) << describe(log);
  EXPECT_EQ(count(log, T::trip_ended), 1) << describe(log);
}

// 60 s without any fix while the bus reaches a stop, dwells and leaves: that stop is `passed`
// (recorded, not announced as arrived), nothing is announced for it after the bus got there, and
// the next stop is announced normally.
TEST_P(TrackerAtRate, OutageOverAStopRecordsItAsPassed) {
  Path road({{0, 0}, {1500, 0}});
  auto trip = sim::make_trip(road, {0, 400, 800, 1200, 1500});
  Bus bus(0, 10, {{400, 20}, {800, 20}, {1200, 20}, {1500, 20}});
  const double from = bus.time_at(600), to = from + 60;
  ASSERT_GT(to, bus.halt_at(800).leave_s + 5);
  TraceOptions options;
  options.outages = {{from, to}};
  auto log = run(trip, road, bus, options);

  expect_invariants(log, 5);
  expect_announced(log, bus, 1, bus.halts()[1], bus.halts()[0], false);
  EXPECT_EQ(count(log, T::gps_lost), 1) << describe(log);
  EXPECT_EQ(count(log, T::gps_restored), 1) << describe(log);
  EXPECT_GT(*when(log, T::gps_restored), to - 0.01);
  EXPECT_EQ(count(log, T::passed, 2), 1) << describe(log);
  EXPECT_EQ(count(log, T::arrived, 2), 0);
  EXPECT_GE(*when(log, T::passed, 2), to - 0.01);
  EXPECT_EQ(count(log, T::position_uncertain), 1) << describe(log);
  if (auto t = when(log, T::approaching, 2)) {
    // Dead-reckoned, but only while the bus certainly had not got there.
    EXPECT_LE(*t, bus.halt_at(800).arrive_s - 4) << "approaching for a stop possibly passed";
    EXPECT_GE(*t, bus.halt_at(800).arrive_s - 30);
  }
  for (const auto& l : log)
    if (l.event.stop_index == 3) {
      EXPECT_GT(l.t, to - 0.01) << to_json_line(l.event);
    }
  expect_announced(log, bus, 4, bus.halt_at(1500), bus.halt_at(1200), true);
  // Stop 3 is reached well after the fixes are back.
  expect_announced(log, bus, 3, bus.halt_at(1200), bus.halt_at(800), false);
}

// A 20 s tunnel just before a stop: `approaching` is dead-reckoned in time, the fixes are back
// before the bus gets there, and the stop is arrived at as usual.
TEST_P(TrackerAtRate, ShortTunnelBeforeAStopStillAnnouncesItInTime) {
  Path road({{0, 0}, {1500, 0}});
  auto trip = sim::make_trip(road, {0, 400, 800, 1200, 1500});
  Bus bus(0, 10, {{400, 20}, {800, 20}, {1200, 20}, {1500, 20}});
  const double from = bus.time_at(520), to = from + 20;
  ASSERT_LT(to, bus.halt_at(800).arrive_s - 8);
  TraceOptions options;
  options.outages = {{from, to}};
  auto log = run(trip, road, bus, options);

  expect_invariants(log, 5);
  for (int i = 1; i <= 4; ++i)
    expect_announced(log, bus, i, bus.halts()[i], bus.halts()[i - 1], i == 4);
  EXPECT_LE(count(log, T::gps_lost), 1) << describe(log);
  EXPECT_EQ(count(log, T::gps_lost), count(log, T::gps_restored)) << describe(log);
}

// A loop round the block that drives the first street again, and a bus that waits long at the
// first street's stop inside an outage: when the fixes come back it is still on its first pass,
// although driving on at its last speed would have taken it round the loop to the second. The
// stops of the loop are announced, not passed.
TEST_P(TrackerAtRate, OutageOnAStreetDrivenTwiceKeepsToThePassTheBusIsOn) {
  // East 600 m, north 100, west 300, south 100, then east again over the first street's last
  // 300 m and on: (450, 0) is 450 m along the first pass and 1250 m along the second.
  Path loop({{0, 0}, {600, 0}, {600, 100}, {300, 100}, {300, 0}, {1000, 0}});
  ASSERT_DOUBLE_EQ(loop.length(), 1800);
  auto trip = sim::make_trip(loop, {0, 350, 850, 1500, 1800});
  Bus bus(0, 10, {{350, 45}, {850, 20}, {1500, 20}, {1800, 20}});
  const double from = bus.time_at(250), to = bus.time_at(450);
  ASSERT_GT(to - from, 60);
  TraceOptions options;
  options.outages = {{from, to}};
  auto log = run(trip, loop, bus, options);

  expect_invariants(log, 5);
  EXPECT_EQ(count(log, T::passed), 1) << describe(log);  // stop 1, in the dark
  EXPECT_EQ(count(log, T::passed, 1), 1) << describe(log);
  // Stop 2 is on the northern street: said once the fixes show the bus turning into it.
  EXPECT_EQ(count(log, T::next_stop, 2), 1) << describe(log);
  EXPECT_EQ(count(log, T::arrived, 2), 1) << describe(log);
  if (auto t = when(log, T::approaching, 2)) {
    EXPECT_LE(*t, bus.halt_at(850).arrive_s - 4) << "approaching too late";
  } else {
    ADD_FAILURE() << "no approaching for stop 2\n" << describe(log);
  }
  for (int i = 3; i <= 4; ++i)
    expect_announced(log, bus, i, bus.halts()[i], bus.halts()[i - 1], i == 4);
}

// The same 60 s outage when the daemon sends no ticks: the gap is noticed at the next fix.
TEST_P(TrackerAtRate, OutageWithoutTicksIsNoticedAtTheNextFix) {
  Path road({{0, 0}, {1500, 0}});
  auto trip = sim::make_trip(road, {0, 400, 800, 1200, 1500});
  Bus bus(0, 10, {{400, 20}, {800, 20}, {1200, 20}, {1500, 20}});
  const double from = bus.time_at(600), to = from + 60;
  TraceOptions options;
  options.outages = {{from, to}};
  trace_ = sim::make_trace(road, bus, at_rate(options));
  Tracker tracker(trip);
  log_ = sim::replay<Tracker>(tracker, trace_, {}, false);

  expect_invariants(log_, 5);
  EXPECT_EQ(count(log_, T::gps_lost), 1) << describe(log_);
  EXPECT_GE(*when(log_, T::gps_lost), to - 0.01);
  EXPECT_EQ(count(log_, T::gps_restored), 1) << describe(log_);
  EXPECT_EQ(count(log_, T::passed, 2), 1) << describe(log_);
  EXPECT_EQ(count(log_, T::arrived, 2), 0);
  expect_announced(log_, bus, 3, bus.halt_at(1200), bus.halt_at(800), false);
  expect_announced(log_, bus, 4, bus.halt_at(1500), bus.halt_at(1200), true);
}

// A stop nobody asked for: the bus drives through, the stop is `passed` (after its next_stop and
// approaching), and the next stop follows.
TEST_P(TrackerAtRate, AStopDrivenThroughIsPassed) {
  Path road({{0, 0}, {1200, 0}});
  auto trip = sim::make_trip(road, {0, 300, 650, 1000});
  Bus bus(0, 10, {{300, 20}, {1000, 20}});
  auto log = run(trip, road, bus);

  expect_invariants(log, 4);
  expect_announced(log, bus, 1, bus.halt_at(300), bus.halts()[0], false);
  EXPECT_EQ(count(log, T::next_stop, 2), 1) << describe(log);
  EXPECT_EQ(count(log, T::approaching, 2), 1) << describe(log);
  EXPECT_EQ(count(log, T::passed, 2), 1) << describe(log);
  EXPECT_EQ(count(log, T::arrived, 2) + count(log, T::departed, 2), 0) << describe(log);
  const double through = bus.time_at(650);
  EXPECT_LE(*when(log, T::approaching, 2), through - 4);
  EXPECT_GE(*when(log, T::passed, 2), through);
  EXPECT_LE(*when(log, T::passed, 2), bus.time_at(700) + 6);
  EXPECT_EQ(count(log, T::next_stop, 3), 1);
  EXPECT_EQ(count(log, T::arrived, 3), 1);
}

// Out along a street and back along its other side, 10 m away: the return pass's stops are
// announced on the return only, and the bus never jumps to the other side.
TEST_P(TrackerAtRate, OutAndBackOnTheSameStreetKeepsToItsPass) {
  Path street({{0, 0}, {800, 0}, {800, 10}, {0, 10}});
  // S1 (300, 0) outbound, S2 (810) the turn, S3 (500, 10) and S4 (100, 10) inbound, S5 the end.
  auto trip = sim::make_trip(street, {0, 300, 810, 1110, 1510, 1610});
  Bus bus(0, 10, {{300, 20}, {810, 20}, {1110, 20}, {1510, 20}, {1610, 20}});
  TraceOptions options;
  options.sigma_m = 4;
  double last = 0;
  trace_ = sim::make_trace(street, bus, at_rate(options));
  Tracker tracker(trip);
  log_ = sim::replay<Tracker>(
      tracker, trace_, [&](const Sample& s, const Tracker& tr, const std::vector<StopEvent>&) {
        EXPECT_LT(std::abs(tr.progress_m() - s.true_s), 60) << "lost its pass at " << s.t;
        EXPECT_GE(tr.progress_m(), last);
        last = tr.progress_m();
      });
  expect_invariants(log_, 6);
  for (int i = 1; i <= 5; ++i)
    expect_announced(log_, bus, i, bus.halts()[i], bus.halts()[i - 1], i == 5);
  for (const auto& l : log_) {
    if (l.event.stop_index >= 3) {
      EXPECT_GT(l.t, bus.time_at(810)) << to_json_line(l.event);
    }
  }
}

// A detour round a blocked street: off_route, silence, on_route; the stop on the blocked street
// is `passed`, the following ones announced.
TEST_P(TrackerAtRate, DetourGoesOffRouteSilentlyAndBack) {
  Path road({{0, 0}, {2000, 0}});
  auto trip = sim::make_trip(road, {0, 500, 1000, 1500, 2000});
  Path driven({{0, 0}, {600, 0}, {600, 200}, {1300, 200}, {1300, 0}, {2000, 0}});
  // Driven distances of stops 3 and 4: 600 + 200 + 700 + 200 + (x - 1300).
  Bus bus(0, 10, {{500, 20}, {1900, 20}, {2400, 20}});
  auto log = run(trip, driven, bus);

  expect_invariants(log, 5);
  expect_announced(log, bus, 1, bus.halt_at(500), bus.halts()[0], false);
  ASSERT_EQ(count(log, T::off_route), 1) << describe(log);
  ASSERT_EQ(count(log, T::on_route), 1) << describe(log);
  const double off = *when(log, T::off_route), on = *when(log, T::on_route);
  EXPECT_GT(off, bus.time_at(600));
  EXPECT_LT(off, bus.time_at(1500)) << "detected before the bus is back";
  EXPECT_GT(on, bus.time_at(1500)) << "back on the route only once it is";
  for (const auto& l : log)
    if (about_stop(l.event.type)) {
      EXPECT_FALSE(l.t > off && l.t < on) << "announced off route: " << to_json_line(l.event);
    }
  EXPECT_EQ(count(log, T::passed, 2), 1) << describe(log);
  EXPECT_GE(*when(log, T::passed, 2), on);
  expect_announced(log, bus, 3, bus.halt_at(1900), bus.halt_at(500), false);
  expect_announced(log, bus, 4, bus.halt_at(2400), bus.halt_at(1900), true);
  EXPECT_EQ(count(log, T::gps_lost), 0) << describe(log);
}

// Single wild fixes 500 m off (sideways, or ahead along the road) change nothing.
TEST_P(TrackerAtRate, SingleWildOutliersProduceNoEvent) {
  Path road({{0, 0}, {1000, 0}});
  auto trip = sim::make_trip(road, {0, 300, 650, 1000});
  Bus bus(0, 10, {{300, 20}, {650, 20}, {1000, 20}});
  // Mid-cruise, while dwelling at stop 1, while approaching stop 2 (ahead), during departure.
  const std::vector<double> times = {bus.time_at(150), bus.halt_at(300).arrive_s + 10,
                                     bus.time_at(560), bus.time_at(700)};
  const double rate = GetParam();
  std::vector<std::size_t> hit;
  for (double t : times)
    hit.push_back(static_cast<std::size_t>(std::llround(t * rate)));
  TraceOptions options;
  options.disturb = [&](std::size_t i, double, XY p, XY dir) {
    for (std::size_t k = 0; k < hit.size(); ++k) {
      if (i != hit[k]) continue;
      if (k == 2) return XY{p.x + 500 * dir.x, p.y + 500 * dir.y};  // on the road, 500 m ahead
      return XY{p.x - 500 * dir.y, p.y + 500 * dir.x};              // 500 m to the side
    }
    return p;
  };
  auto clean = run(trip, road, bus);

  trace_ = sim::make_trace(road, bus, at_rate(options));
  Tracker tracker(trip);
  log_ = sim::replay<Tracker>(
      tracker, trace_, [&](const Sample& s, const Tracker&, const std::vector<StopEvent>& out) {
        for (std::size_t k : hit)
          if (std::llround(s.t * rate) == static_cast<long long>(k)) {
            EXPECT_TRUE(out.empty()) << "event from an outlier at " << s.t;
          }
      });
  expect_invariants(log_, 4);
  ASSERT_EQ(log_.size(), clean.size()) << describe(log_);
  for (std::size_t i = 0; i < clean.size(); ++i) {
    EXPECT_EQ(log_[i].event.type, clean[i].event.type);
    EXPECT_EQ(log_[i].event.stop_index, clean[i].event.stop_index);
  }
  for (int i = 1; i <= 3; ++i)
    expect_announced(log_, bus, i, bus.halts()[i], bus.halts()[i - 1], i == 3);
}

// Multipath: bursts of 3 s displaced 15-80 m sideways, while driving, approaching and dwelling.
TEST_P(TrackerAtRate, MultipathBurstsDoNotDisturbTheAnnouncements) {
  Path road({{0, 0}, {1000, 0}});
  auto trip = sim::make_trip(road, {0, 300, 650, 1000});
  Bus bus(0, 10, {{300, 20}, {650, 20}, {1000, 20}});
  struct Burst {
    double from, metres;
  };
  const std::vector<Burst> bursts = {
      {bus.time_at(100), 15}, {bus.time_at(200), 80}, {bus.halt_at(300).arrive_s + 3, 50},
      {bus.time_at(520), 35}, {bus.time_at(600), 25}, {bus.halt_at(650).arrive_s + 8, 80}};
  TraceOptions options;
  options.disturb = [&](std::size_t, double t, XY p, XY dir) {
    for (const auto& b : bursts)
      if (t >= b.from && t < b.from + 3) return XY{p.x - b.metres * dir.y, p.y + b.metres * dir.x};
    return p;
  };
  auto log = run(trip, road, bus, options);

  expect_invariants(log, 4);
  for (int i = 1; i <= 3; ++i)
    expect_announced(log, bus, i, bus.halts()[i], bus.halts()[i - 1], i == 3);
  EXPECT_EQ(count(log, T::off_route), 0) << describe(log);
}

// A burst of fixes thrown 80 m sideways while the bus brakes for a red light 60 m short of the
// stop: the fixes are not believed, but the braking seen before them still holds the announcement
// until the bus has waited at the light and pulls away.
TEST_P(TrackerAtRate, MultipathWhileBrakingForARedLightDoesNotAnnounceEarly) {
  Path road({{0, 0}, {1000, 0}});
  auto trip = sim::make_trip(road, {0, 400, 800, 1000});
  Bus bus(0, 10, {{400, 20}, {740, 40}, {800, 20}, {1000, 20}});
  const double burst = bus.time_at(705);
  TraceOptions options;
  options.disturb = [&](std::size_t, double t, XY p, XY dir) {
    if (t >= burst && t < burst + 6) return XY{p.x - 80 * dir.y, p.y + 80 * dir.x};
    return p;
  };
  auto log = run(trip, road, bus, options);

  expect_invariants(log, 4);
  expect_announced(log, bus, 2, bus.halt_at(800), bus.halt_at(400), false);
  expect_announced(log, bus, 3, bus.halt_at(1000), bus.halt_at(800), true);
}

// Two fixes missing while the bus brakes for a red light 60 m short of the stop: not an outage
// yet, so the braking seen before the gap still holds the announcement.
TEST_P(TrackerAtRate, AMissingFixWhileBrakingForARedLightDoesNotAnnounceEarly) {
  Path road({{0, 0}, {1000, 0}});
  auto trip = sim::make_trip(road, {0, 400, 800, 1000});
  Bus bus(0, 10, {{400, 20}, {740, 40}, {800, 20}, {1000, 20}});
  TraceOptions options;
  options.outages = {{bus.time_at(705), bus.time_at(705) + 2.2}};
  auto log = run(trip, road, bus, options);

  expect_invariants(log, 4);
  expect_announced(log, bus, 2, bus.halt_at(800), bus.halt_at(400), false);
  expect_announced(log, bus, 3, bus.halt_at(1000), bus.halt_at(800), true);
}

// Two minutes at a stop with 5 m noise: progress neither goes back nor creeps forward, and the
// stop is arrived at and departed from once.
TEST_P(TrackerAtRate, StandstillWanderNeitherCreepsNorRepeats) {
  Path road({{0, 0}, {700, 0}});
  auto trip = sim::make_trip(road, {0, 300, 700});
  Bus bus(0, 10, {{300, 120}, {700, 20}});
  TraceOptions options;
  options.sigma_m = 5;
  options.speed_sigma = 0.15;
  trace_ = sim::make_trace(road, bus, at_rate(options));
  Tracker tracker(trip);
  double last = 0;
  const auto& dwell = bus.halt_at(300);
  log_ = sim::replay<Tracker>(
      tracker, trace_, [&](const Sample& s, const Tracker& tr, const std::vector<StopEvent>&) {
        EXPECT_GE(tr.progress_m(), last) << "progress went back at " << s.t;
        last = tr.progress_m();
        if (s.t > dwell.arrive_s + 2 && s.t < dwell.leave_s) {
          EXPECT_LT(tr.progress_m(), 300 + 10) << "crept forward while standing, at " << s.t;
        }
      });
  expect_invariants(log_, 3);
  expect_announced(log_, bus, 1, dwell, bus.halts()[0], false);
  expect_announced(log_, bus, 2, bus.halt_at(700), dwell, true);
}

// A bus first seen half-way (the daemon restarted): the stops behind it are `passed`, the next
// one announced.
TEST_P(TrackerAtRate, JoiningMidTripPassesTheStopsBehind) {
  Path road({{0, 0}, {1000, 0}});
  auto trip = sim::make_trip(road, {0, 300, 650, 1000});
  Bus bus(450, 0, {{650, 20}, {1000, 20}});
  auto log = run(trip, road, bus);

  expect_invariants(log, 4);
  ASSERT_FALSE(log.empty());
  EXPECT_EQ(log[0].event.type, T::trip_started);
  EXPECT_EQ(count(log, T::passed, 0), 1) << describe(log);
  EXPECT_EQ(count(log, T::passed, 1), 1) << describe(log);
  EXPECT_EQ(count(log, T::next_stop, 1), 0);
  EXPECT_EQ(count(log, T::next_stop, 2), 1);
  EXPECT_EQ(count(log, T::arrived, 2), 1);
  expect_announced(log, bus, 3, bus.halt_at(1000), bus.halt_at(650), true);
}

// Fixes without Doppler speed or course (a plain NMEA GGA receiver).
TEST_P(TrackerAtRate, WithoutDopplerSpeedStillAnnouncesEveryStop) {
  Path road({{0, 0}, {1000, 0}});
  auto trip = sim::make_trip(road, {0, 300, 650, 1000});
  Bus bus(0, 10, {{300, 20}, {650, 20}, {1000, 20}});
  TraceOptions options;
  options.doppler = false;
  auto log = run(trip, road, bus, options);

  expect_invariants(log, 4);
  for (int i = 1; i <= 3; ++i)
    expect_announced(log, bus, i, bus.halts()[i], bus.halts()[i - 1], i == 3);
}

TEST(Tracker, RejectsATripWithoutStops) {
  routes::Trip trip;
  trip.id = "T";
  EXPECT_THROW(Tracker{trip}, std::invalid_argument);
}

TEST(Tracker, BuildsItsShapeFromTheStopsWhenThereIsNone) {
  Path road({{0, 0}, {500, 0}, {500, 500}});
  auto trip = sim::make_trip(road, {0, 500, 1000});
  trip.shape.clear();
  Tracker tracker(trip);
  EXPECT_NEAR(tracker.length_m(), 1000, 1);
  ASSERT_EQ(tracker.stop_distances_m().size(), 3u);
  EXPECT_NEAR(tracker.stop_distances_m()[1], 500, 1);
}

TEST(Tracker, IgnoresStaleAndUnusableFixesAndTicksBeforeStart) {
  Path road({{0, 0}, {1000, 0}});
  auto trip = sim::make_trip(road, {0, 300, 1000});
  Tracker tracker(trip);
  EXPECT_TRUE(tracker.on_tick(sim::at_s(0.5)).empty());
  EXPECT_EQ(tracker.state(), TrackerState::waiting);
  EXPECT_EQ(tracker.confidence(), 0);

  Fix fix;
  fix.time = sim::at_s(1);
  fix.mode = Fix::Mode::fix_3d;
  fix.position = trip.stops[0].stop.position;
  fix.speed_mps = 0;
  fix.eph_m = 5;
  auto events = tracker.on_fix(fix);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type, T::trip_started);
  EXPECT_EQ(tracker.state(), TrackerState::tracking);
  EXPECT_EQ(tracker.at_stop_index(), 0);
  EXPECT_EQ(tracker.next_stop_index(), 1);
  EXPECT_GT(tracker.confidence(), 0.9);
  EXPECT_TRUE(tracker.on_fix(fix).empty());  // same time again: ignored

  Fix none;
  none.time = sim::at_s(2);
  EXPECT_TRUE(tracker.on_fix(none).empty());
  EXPECT_EQ(tracker.state(), TrackerState::tracking);
  // Fixes stop: gps_lost after the timeout, once; at a standstill no dead reckoning.
  EXPECT_TRUE(tracker.on_tick(sim::at_s(5)).empty());
  auto lost = tracker.on_tick(sim::at_s(6.5));
  ASSERT_EQ(lost.size(), 1u);
  EXPECT_EQ(lost[0].type, T::gps_lost);
  EXPECT_EQ(tracker.state(), TrackerState::degraded);
  EXPECT_TRUE(tracker.on_tick(sim::at_s(7.5)).empty());
  EXPECT_DOUBLE_EQ(tracker.progress_m(), 0);
}

}  // namespace
}  // namespace stopcall::tracking
