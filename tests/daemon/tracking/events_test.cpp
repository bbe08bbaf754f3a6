#include "daemon/tracking/events.hpp"

#include <gtest/gtest.h>

namespace stopcall::tracking {
namespace {

using namespace std::chrono;

Time at(int h, int m, int s, int ms) {
  return Time{sys_days{2026y / March / 1} + hours(h) + minutes(m) + seconds(s) + milliseconds(ms)};
}

TEST(StopEvent, JsonLineHasOneObjectWithTheStopFields) {
  StopEvent e;
  e.type = StopEvent::Type::next_stop;
  e.time = at(8, 0, 5, 0);
  e.trip_id = "T1";
  e.stop_id = "S2";
  e.stop_sequence = 2;
  e.stop_index = 1;
  e.distance_m = 250.04;
  EXPECT_EQ(to_json_line(e),
            R"({"type":"next_stop","time":"2026-03-01T08:00:05.000Z","trip_id":"T1",)"
            R"("stop_id":"S2","stop_sequence":2,"stop_index":1,"distance_m":250.0})");
}

TEST(StopEvent, JsonLineLeavesOutAbsentStopAndEscapesStrings) {
  StopEvent e;
  e.type = StopEvent::Type::gps_lost;
  e.time = at(23, 59, 59, 999);
  e.trip_id = "a\"b\\c\nd\x01\xc3\xa9";  // quote, backslash, newline, control, UTF-8 é
  e.distance_m = 12.25;
  EXPECT_EQ(to_json_line(e),
            "{\"type\":\"gps_lost\",\"time\":\"2026-03-01T23:59:59.999Z\","
            "\"trip_id\":\"a\\\"b\\\\c\\nd\\u0001\xc3\xa9\",\"distance_m\":12.2}");
}

TEST(StopEvent, EveryTypeHasAName) {
  EXPECT_EQ(type_name(StopEvent::Type::trip_started), "trip_started");
  EXPECT_EQ(type_name(StopEvent::Type::approaching), "approaching");
  EXPECT_EQ(type_name(StopEvent::Type::position_uncertain), "position_uncertain");
  EXPECT_EQ(type_name(StopEvent::Type::gps_restored), "gps_restored");
  // Every type, up to the last, reads back from its name (a replayed trace, a saved state).
  const auto last = static_cast<int>(StopEvent::Type::route_data_not_valid);
  for (int i = 0; i <= last; ++i) {
    const auto type = static_cast<StopEvent::Type>(i);
    EXPECT_NE(type_name(type), "unknown") << i;
    EXPECT_EQ(type_from_name(type_name(type)), type) << i;
  }
  EXPECT_EQ(type_from_name("next stop"), std::nullopt);
  EXPECT_EQ(type_from_name("unknown"), std::nullopt);
}

TEST(StopEvent, TimesBeforeTheEpochFormatCorrectly) {
  EXPECT_EQ(format_time(Time{sys_days{1969y / December / 31} + hours(23) + milliseconds(1)}),
            "1969-12-31T23:00:00.001Z");
}

TEST(Fix, UsableNeedsAPositionAFixAndFiniteValues) {
  Fix f;
  EXPECT_FALSE(f.usable());
  f.mode = Fix::Mode::fix_2d;
  EXPECT_FALSE(f.usable());
  f.position = routes::LatLon{48.2, 16.37};
  EXPECT_TRUE(f.usable());
  f.mode = Fix::Mode::no_fix;
  EXPECT_FALSE(f.usable());
  f.mode = Fix::Mode::fix_3d;
  f.position->lat = std::numeric_limits<double>::quiet_NaN();
  EXPECT_FALSE(f.usable());
  f.position->lat = 48.2;
  f.status = Fix::Status::time_only;
  EXPECT_FALSE(f.usable());
}

TEST(Fix, HorizontalErrorFromEphOrEpxEpy) {
  Fix f;
  EXPECT_FALSE(f.horizontal_error_m());
  f.epx_m = 3;
  f.epy_m = 4;
  EXPECT_DOUBLE_EQ(*f.horizontal_error_m(), 5);
  f.eph_m = 7;
  EXPECT_DOUBLE_EQ(*f.horizontal_error_m(), 7);
}

}  // namespace
}  // namespace stopcall::tracking
