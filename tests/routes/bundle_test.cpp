// The daemon's read API over the demo bundle: what the bus asks at trip start and while driving.
#include "routes/bundle.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

#include "routes/importer.hpp"
#include "routes/sqlite.hpp"
#include "test_feed.hpp"

namespace stopcall::routes {
namespace {

using namespace stopcall::routes::testing;
using ::testing::Contains;
using ::testing::Each;
using ::testing::Field;

class DemoBundle : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir;
    const std::string demo_bundle = *dir_ / "demo.db";
    ASSERT_TRUE(import_demo(demo_bundle));
  }
  static void TearDownTestSuite() { delete dir_; }
  Bundle open() { return Bundle::open(*dir_ / "demo.db"); }
  static TempDir* dir_;
};
TempDir* DemoBundle::dir_ = nullptr;

TEST_F(DemoBundle, CandidateTripsOnAWeekdayMorningAreWeekdayTripsUnderWay) {
  auto bundle = open();
  // Monday 2 March 2026, 08:00, with 10 minutes of slack either side.
  auto trips = bundle.candidate_trips("20260302", 8 * 3600, 600);
  ASSERT_FALSE(trips.empty());
  for (const auto& t : trips) {
    EXPECT_THAT(t.trip_id, ::testing::StartsWith("101-WD-"));
    EXPECT_LE(t.first_departure_s, 8 * 3600 + 600) << t.trip_id;
    EXPECT_GE(t.last_arrival_s, 8 * 3600 - 600) << t.trip_id;
  }
  // Both directions run at that time.
  EXPECT_THAT(trips, Contains(Field(&TripCandidate::direction_id, 0)));
  EXPECT_THAT(trips, Contains(Field(&TripCandidate::direction_id, 1)));
  EXPECT_THAT(trips, Each(Field(&TripCandidate::route_short_name, "101")));
}

TEST_F(DemoBundle, CandidateTripsNearAPointServeAStopThere) {
  auto bundle = open();
  auto all = bundle.candidate_trips("20260302", 8 * 3600, 600);
  auto near = bundle.candidate_trips("20260302", 8 * 3600, 600,
                                     Bundle::NearPoint{{22.540313, 114.055580}, 300});
  EXPECT_EQ(near.size(), all.size()) << "route 101 serves Civic Center both ways";
  auto far =
      bundle.candidate_trips("20260302", 8 * 3600, 600, Bundle::NearPoint{{22.60, 114.20}, 300});
  EXPECT_TRUE(far.empty()) << "no stop of route 101 within 300 m of that point";
  std::set<long> patterns;
  for (const auto& t : near)
    patterns.insert(t.pattern_id);
  EXPECT_EQ(patterns.size(), 2u) << "one pattern per direction";
}

TEST_F(DemoBundle, NationalDayRunsTheWeekendTimetable) {
  auto bundle = open();
  // Thursday 1 October 2026: calendar_dates removes the weekday service and adds the weekend one.
  auto trips = bundle.candidate_trips("20261001", 8 * 3600, 600);
  ASSERT_FALSE(trips.empty());
  for (const auto& t : trips)
    EXPECT_THAT(t.trip_id, ::testing::StartsWith("101-WE-"));
  EXPECT_TRUE(bundle.candidate_trips("20300101", 8 * 3600, 600).empty())
      << "outside the calendar's dates nothing runs";
}

TEST_F(DemoBundle, NextTripInBlockTurnsTheBusAround) {
  auto bundle = open();
  EXPECT_EQ(bundle.next_trip_in_block("101-WD-E-0630"), "101-WD-W-0720");
  auto next = bundle.load_trip("101-WD-W-0720");
  EXPECT_EQ(next.headsigns.at("en"), "Window of the World");
}

TEST_F(DemoBundle, StopsNearAPointAreTheNearestPlatformsFirst) {
  auto bundle = open();
  auto near = bundle.stops_near({22.540313, 114.055580}, 60);
  ASSERT_GE(near.size(), 2u);
  EXPECT_EQ(near[0].stop_id, "SMZX-E");
  EXPECT_LT(near[0].distance_m, 1.0);
  EXPECT_EQ(near[0].names.at("en"), "Civic Center");
  for (std::size_t i = 1; i < near.size(); ++i) {
    EXPECT_GE(near[i].distance_m, near[i - 1].distance_m);
    EXPECT_LE(near[i].distance_m, 60);
  }
  EXPECT_TRUE(bundle.stops_near({22.0, 113.0}, 500).empty());
}

TEST_F(DemoBundle, TripCarriesEverythingTheAnnouncerNeeds) {
  auto bundle = open();
  auto trip = bundle.load_trip("101-WD-W-0720");
  EXPECT_EQ(trip.stops.size(), 14u);
  EXPECT_EQ(trip.stops.front().stop.id, "DJY-W");
  EXPECT_EQ(trip.stops.front().stop_sequence, 1);
  EXPECT_EQ(trip.route.exterior_texts.at("yue"), "101號巴士，開往{headsign}");
  EXPECT_EQ(trip.route.long_names.at("en"), "Window of the World – Grand Theater");
  const auto& gx = trip.stops[4].stop;  // 岗厦, whose 厦 espeak misreads
  EXPECT_EQ(gx.id, "GX-W");
  EXPECT_EQ(gx.tts_names.at("zh-Hans"), "岗夏");
  EXPECT_EQ(trip.stops[5].stop.wheelchair, Wheelchair::accessible);
  bool not_accessible_seen = false;
  for (const auto& ts : trip.stops) {
    not_accessible_seen |= ts.stop.wheelchair == Wheelchair::not_accessible;
  }
  EXPECT_TRUE(not_accessible_seen) << "SHBG-W is marked not accessible in the demo";
}

TEST_F(DemoBundle, UnknownTripIsAClearError) {
  auto bundle = open();
  try {
    bundle.load_trip("no-such-trip");
    FAIL();
  } catch (const RouteError& e) {
    EXPECT_EQ(e.code(), Errc::trip_not_found);
    EXPECT_THAT(e.what(), ::testing::HasSubstr("no-such-trip"));
  }
}

TEST(Bundle, RefusesFilesThatAreNotBundlesOrFromAnotherVersion) {
  TempDir dir;
  write_file(dir.path() / "junk.db", "not sqlite at all");
  EXPECT_THROW(Bundle::open(dir / "junk.db"), RouteError);
  EXPECT_THROW(Bundle::open(dir / "missing.db"), RouteError);
  write_feed(dir.path() / "feed", small_feed());
  ImportOptions options;
  options.feed = dir / "feed";
  options.output = dir / "b.db";
  ASSERT_TRUE(import_feed(options).written);
  {
    sql::Db db(dir / "b.db", sql::Db::Mode::read_write);
    db.exec("PRAGMA user_version=99");
  }
  try {
    Bundle::open(dir / "b.db");
    FAIL();
  } catch (const RouteError& e) {
    EXPECT_EQ(e.code(), Errc::bundle_wrong_version);
  }
}

}  // namespace
}  // namespace stopcall::routes
