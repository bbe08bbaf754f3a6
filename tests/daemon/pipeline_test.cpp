// The decision pipeline on the demo route: a given trip, a trip found by auto-detection, and the
// block going on into its next trip.
#include "daemon/pipeline.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "drive.hpp"
#include "routes/importer.hpp"
#include "tests/routes/test_feed.hpp"

namespace stopcall::daemon {
namespace {

using tracking::StopEvent;
using Type = StopEvent::Type;
using namespace std::chrono;

class DemoPipeline : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new routes::testing::TempDir;
    const std::string demo_bundle = *dir_ / "demo.db";
    ASSERT_TRUE(routes::testing::import_demo(demo_bundle));
    bundle_ = new routes::Bundle(routes::Bundle::open(demo_bundle));
  }
  static void TearDownTestSuite() {
    delete bundle_;
    delete dir_;
  }

  // Local 06:30 on Monday 2 March 2026 in Shenzhen (UTC+8) is 22:30 UTC the day before.
  static tracking::Time local(int h, int m) {
    return tracking::Time(sys_days{year{2026} / 3 / 2} + hours(h - 8) + minutes(m));
  }

  std::vector<StopEvent> run(Pipeline& p, const std::vector<tracking::Fix>& fixes) {
    std::vector<StopEvent> out;
    for (const auto& f : fixes)
      p.on_fix(f, out);
    return out;
  }

  static int count(const std::vector<StopEvent>& events, Type type, const std::string& stop = {}) {
    return static_cast<int>(std::count_if(events.begin(), events.end(), [&](const StopEvent& e) {
      return e.type == type && (stop.empty() || e.stop_id == stop);
    }));
  }
  // Every stop announcement names a stop of the trip the bus drives, each at most once: before the
  // trip is known too (what every candidate agrees on), and after.
  static void expect_only_stops_of(const routes::Trip& trip, const std::vector<StopEvent>& events) {
    for (const auto& e : events) {
      if (e.type == Type::trip_ended) break;  // the block goes on with its next trip
      if (e.type != Type::next_stop && e.type != Type::approaching) continue;
      bool served = false;
      for (const auto& s : trip.stops)
        served = served || s.stop.id == e.stop_id;
      EXPECT_TRUE(served) << "a stop the bus does not serve: " << tracking::to_json_line(e);
    }
    for (std::size_t i = 1; i < trip.stops.size(); ++i) {
      EXPECT_LE(count(events, Type::next_stop, trip.stops[i].stop.id), 1) << i;
      EXPECT_LE(count(events, Type::approaching, trip.stops[i].stop.id), 1) << i;
    }
  }

  static routes::testing::TempDir* dir_;
  static routes::Bundle* bundle_;
};
routes::testing::TempDir* DemoPipeline::dir_ = nullptr;
routes::Bundle* DemoPipeline::bundle_ = nullptr;

TEST_F(DemoPipeline, GivenTripAnnouncesEveryStopOnceInOrder) {
  PipelineOptions options;
  options.trip_id = "101-WD-E-0630";
  Pipeline pipeline(*bundle_, options);
  auto trip = bundle_->load_trip(options.trip_id);
  auto events = run(pipeline, testing::drive(trip, local(6, 30)));
  for (std::size_t i = 1; i < trip.stops.size(); ++i) {
    const auto& stop = trip.stops[i].stop.id;
    EXPECT_EQ(count(events, Type::next_stop, stop), 1) << stop;
    EXPECT_EQ(count(events, Type::approaching, stop), 1) << stop;
    EXPECT_EQ(count(events, Type::arrived, stop), 1) << stop;
  }
  EXPECT_EQ(count(events, Type::trip_ended), 1);
  // In order: each next_stop comes after the one before.
  int last_index = 0;
  for (const auto& e : events) {
    if (e.type != Type::next_stop) continue;
    EXPECT_EQ(*e.stop_index, last_index + 1);
    last_index = *e.stop_index;
  }
}

TEST_F(DemoPipeline, AutoDetectionAnnouncesWhatTheCandidatesAgreeOnAndFindsTheTrip) {
  Pipeline pipeline(*bundle_, {});
  auto trip = bundle_->load_trip("101-WD-E-0630");
  auto fixes = testing::drive(trip, local(6, 30));
  auto events = run(pipeline, fixes);
  std::vector<StopEvent> first_trip;
  for (const auto& e : events) {
    first_trip.push_back(e);
    if (e.type == Type::trip_ended) break;
  }
  expect_only_stops_of(trip, first_trip);
  auto detected = std::find_if(events.begin(), events.end(),
                               [](const auto& e) { return e.type == Type::trip_detected; });
  ASSERT_NE(detected, events.end());
  EXPECT_EQ(detected->trip_id, "101-WD-E-0630");
  auto detected_after = duration<double>(detected->time - fixes.front().time).count();
  EXPECT_LT(detected_after, 30 /*at the stop*/ + 60 /*of driving*/);
  // From the second stop on, every stop is announced: before the trip was known (the other
  // direction dropped at once) and after.
  for (std::size_t i = 1; i < trip.stops.size(); ++i) {
    EXPECT_EQ(count(first_trip, Type::next_stop, trip.stops[i].stop.id), 1) << i;
    EXPECT_EQ(count(first_trip, Type::approaching, trip.stops[i].stop.id), 1) << i;
  }
  std::cout << "[          ] detected " << detected_after << " s after the first fix (30 s at "
            << "the first stop)\n";
}

TEST_F(DemoPipeline, AutoDetectionTellsTheDirectionsApartOnTheSameRoad) {
  Pipeline pipeline(*bundle_, {});
  auto trip = bundle_->load_trip("101-WD-W-0720");
  auto events = run(pipeline, testing::drive(trip, local(7, 20)));
  expect_only_stops_of(trip, events);
  auto detected = std::find_if(events.begin(), events.end(),
                               [](const auto& e) { return e.type == Type::trip_detected; });
  ASSERT_NE(detected, events.end());
  EXPECT_EQ(detected->trip_id, "101-WD-W-0720");
}

TEST_F(DemoPipeline, OffTimetableOrOffRouteNothingIsDetected) {
  Pipeline pipeline(*bundle_, {});
  auto trip = bundle_->load_trip("101-WD-E-0630");
  // 03:00: no trip of route 101 runs.
  auto events = run(pipeline, testing::drive(trip, local(3, 0)));
  EXPECT_TRUE(events.empty());
}

// The demo's timetable runs to the end of 2027. A bus still on it in 2029 announces as before,
// the trip found from GPS alone (any date's patterns; the time of day ranks them), and says once
// that its route data is out of date.
TEST_F(DemoPipeline, RouteDataOutOfDateStillAnnouncesAndSaysSoOnce) {
  Pipeline pipeline(*bundle_, {});
  auto trip = bundle_->load_trip("101-WD-E-0630");
  const auto in_2029 = local(6, 30) + duration_cast<milliseconds>(days(3 * 364));
  auto events = run(pipeline, testing::drive(trip, in_2029));
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.front().type, Type::route_data_not_valid);
  EXPECT_EQ(events.front().note, "route data not valid today (service ends 2027-12-31)");
  EXPECT_EQ(std::count_if(events.begin(), events.end(),
                          [](const auto& e) { return e.type == Type::route_data_not_valid; }),
            1);
  auto detected = std::find_if(events.begin(), events.end(),
                               [](const auto& e) { return e.type == Type::trip_detected; });
  ASSERT_NE(detected, events.end());
  EXPECT_EQ(bundle_->load_trip(detected->trip_id).stops.front().stop.id, trip.stops[0].stop.id);
  for (std::size_t i = 2; i < trip.stops.size(); ++i)
    EXPECT_EQ(count(events, Type::next_stop, trip.stops[i].stop.id), 1) << i;
}

// A driver's trip on such data is tracked too; the fault is said the same way.
TEST_F(DemoPipeline, AGivenTripOnOutOfDateDataIsTrackedAndTheFaultSaid) {
  PipelineOptions options;
  options.trip_id = "101-WD-E-0630";
  Pipeline pipeline(*bundle_, options);
  auto trip = bundle_->load_trip(options.trip_id);
  auto events =
      run(pipeline, testing::drive(trip, local(6, 30) + duration_cast<milliseconds>(days(1456))));
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.front().type, Type::route_data_not_valid);
  EXPECT_EQ(count(events, Type::trip_ended), 1);
}

TEST_F(DemoPipeline, TheBlockGoesOnIntoItsNextTrip) {
  PipelineOptions options;
  options.trip_id = "101-WD-E-0630";
  Pipeline pipeline(*bundle_, options);
  auto east = bundle_->load_trip("101-WD-E-0630");
  auto west = bundle_->load_trip("101-WD-W-0720");
  auto fixes = testing::drive(east, local(6, 30));
  auto back = testing::drive(west, fixes.back().time + seconds(1));
  fixes.insert(fixes.end(), back.begin(), back.end());
  auto events = run(pipeline, fixes);
  EXPECT_EQ(count(events, Type::trip_ended), 2);
  // East, west, and the block's third trip, waiting at its first stop when the fixes end.
  EXPECT_EQ(pipeline.trips_started(), 3);
  EXPECT_EQ(pipeline.trip()->id, "101-WD-E-0810");
  EXPECT_EQ(count(events, Type::next_stop, west.stops[5].stop.id), 1);
}

// Each stop announcement is given no more time than it has: "next stop X" until "arriving at X"
// comes, "arriving at X" until the bus leaves X -- and that is more than the time to reach X.
TEST_F(DemoPipeline, EachStopAnnouncementIsGivenNoMoreTimeThanItHas) {
  PipelineOptions options;
  options.trip_id = "101-WD-E-0630";
  const auto trip = bundle_->load_trip(options.trip_id);
  const auto every_second = testing::drive(trip, local(6, 30));
  std::vector<tracking::Fix> every_fifth;  // a receiver giving a fix every 5 s
  for (std::size_t i = 0; i < every_second.size(); i += 5)
    every_fifth.push_back(every_second[i]);
  const std::vector<tracking::Fix>* receivers[] = {&every_second, &every_fifth};
  for (const auto* fixes : receivers) {
    SCOPED_TRACE(fixes == &every_second ? "1 Hz" : "0.2 Hz");
    Pipeline pipeline(*bundle_, options);
    struct Said {
      StopEvent event;
      milliseconds time, to_stop;
    };
    std::vector<Said> said;
    std::vector<StopEvent> events;
    for (const auto& f : *fixes) {
      std::vector<StopEvent> out;
      pipeline.on_fix(f, out);
      for (const auto& e : out) {
        if (auto time = pipeline.time_to_say(e))
          said.push_back({e, *time, *pipeline.time_to_stop(e)});
      }
      events.insert(events.end(), out.begin(), out.end());
    }
    auto first = [&](std::initializer_list<Type> types, int stop) -> std::optional<tracking::Time> {
      for (const auto& e : events) {
        if (e.stop_index == stop && std::find(types.begin(), types.end(), e.type) != types.end())
          return e.time;
      }
      return std::nullopt;
    };
    int arriving = 0;
    for (const auto& s : said) {
      const int stop = *s.event.stop_index;
      if (s.event.type == Type::next_stop) {
        const auto due = first({Type::approaching}, stop);
        ASSERT_TRUE(due);
        EXPECT_LE(s.time, *due - s.event.time) << tracking::to_json_line(s.event);
      } else {
        ASSERT_EQ(s.event.type, Type::approaching);
        const auto left = first({Type::departed, Type::passed}, stop);
        if (!left) continue;  // the terminus
        EXPECT_LE(s.time, *left - s.event.time) << tracking::to_json_line(s.event);
        EXPECT_GT(s.time, s.to_stop) << tracking::to_json_line(s.event);
        ++arriving;
      }
    }
    EXPECT_GE(arriving, static_cast<int>(trip.stops.size()) - 2);
  }
}

TEST(TimeToStop, ABusIsTakenToSpeedUpToACitySpeedSoThePredictionErrsShort) {
  // Pulling away from a stop 150 m short of the next: 1 m/s^2 up to 50 km/h, about 18 s.
  EXPECT_NEAR(seconds_to_cover(150, 0, 1.0, 13.9), 13.9 + (150 - 13.9 * 13.9 / 2) / 13.9, 0.01);
  // At 40 km/h it still speeds up: less than the 13.5 s at a constant 40 km/h.
  EXPECT_LT(seconds_to_cover(150, 40 / 3.6, 1.0, 13.9), 13.5);
  // Faster than that: its own speed. A short hop: reached while speeding up.
  EXPECT_NEAR(seconds_to_cover(150, 20, 1.0, 13.9), 7.5, 0.01);
  EXPECT_NEAR(seconds_to_cover(8, 0, 1.0, 13.9), 4.0, 0.01);
  EXPECT_EQ(seconds_to_cover(-3, 10, 1.0, 13.9), 0);
}

}  // namespace
}  // namespace stopcall::daemon
