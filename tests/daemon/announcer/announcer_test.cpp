// What riders hear, from stop events on the demo route.
#include "daemon/announcer/announcer.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "routes/bundle.hpp"
#include "routes/importer.hpp"
#include "tests/daemon/demo_trip.hpp"

namespace stopcall::daemon {
namespace {

using Type = tracking::StopEvent::Type;

class DemoAnnouncer : public testing::DemoTrip {};

TEST_F(DemoAnnouncer, NextStopInThreeLanguagesWithTheTransferHintInside) {
  Announcer announcer;
  auto out = announcer.on_event(*trip_, event(Type::next_stop, 4));  // 车公庙
  ASSERT_EQ(out.size(), 1u);
  const auto& a = out[0];
  EXPECT_EQ(a.priority, media::Priority::stop);
  EXPECT_TRUE(a.outputs.interior);
  EXPECT_FALSE(a.outputs.exterior);
  EXPECT_EQ(a.segments.front().kind, media::SegmentKind::chime);
  EXPECT_THAT(
      captions(a),
      ::testing::ElementsAre("zh-Hans: 下一站，车公庙。可换乘地铁1号线、7号线、9号线、11号线",
                             "yue: 下一站，車公廟。可轉乘地鐵1號線、7號線、9號線、11號線",
                             "en: Next stop: Chegongmiao. Transfer to Metro Lines 1, 7, 9 and 11"));
}

// A stop close after the one just announced (say 15 m on, another name) is said right after it,
// as one sentence would: "Next stop: A." "Then: B." -- no chime between.
TEST_F(DemoAnnouncer, AStopSaidWithTheOneBeforeFollowsIt) {
  Announcer announcer;
  auto e = event(Type::next_stop, 5);
  e.with_previous = true;
  auto out = announcer.on_event(*trip_, e);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_NE(out[0].segments.front().kind, media::SegmentKind::chime);
  const auto said = captions(out[0]);
  ASSERT_EQ(said.size(), 3u);
  EXPECT_EQ(said[0].rfind("zh-Hans: 随后，", 0), 0u) << said[0];
  EXPECT_EQ(said[1].rfind("yue: 之後，", 0), 0u) << said[1];
  EXPECT_EQ(said[2].rfind("en: Then: ", 0), 0u) << said[2];
}

TEST_F(DemoAnnouncer, ArrivingIsShortAndSaysThePronunciationWhereTheFeedGivesOne) {
  Announcer announcer;
  auto out = announcer.on_event(*trip_, event(Type::approaching, 9));  // 岗厦
  ASSERT_EQ(out.size(), 1u);
  EXPECT_THAT(captions(out[0]), ::testing::ElementsAre("zh-Hans: 即将到达岗厦", "yue: 即將到達崗廈",
                                                       "en: Arriving at Gangxia"));
  // The caption shows the real name; the voice reads the feed's pronunciation (厦 as xià).
  EXPECT_EQ(out[0].segments[1].spoken, "即将到达岗夏");
}

TEST_F(DemoAnnouncer, ArrivalTellsPeopleOutsideWhichBusThisIs) {
  Announcer announcer;
  auto out = announcer.on_event(*trip_, event(Type::arrived, 4));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(out[0].outputs.exterior);
  EXPECT_FALSE(out[0].outputs.interior);
  EXPECT_THAT(captions(out[0]),
              ::testing::ElementsAre("zh-Hans: 101路，开往大剧院", "yue: 101號巴士，開往大劇院",
                                     "en: Route 101 to Grand Theater"));
}

TEST_F(DemoAnnouncer, OtherEventsSayNothingAndIdsAreDistinct) {
  Announcer announcer;
  for (auto type : {Type::departed, Type::passed, Type::gps_lost, Type::trip_started}) {
    EXPECT_TRUE(announcer.on_event(*trip_, event(type, 3)).empty());
  }
  auto next = announcer.on_event(*trip_, event(Type::next_stop, 3));
  auto arriving = announcer.on_event(*trip_, event(Type::approaching, 3));
  EXPECT_NE(next[0].id, arriving[0].id);
}

TEST_F(DemoAnnouncer, LanguagesAndOrderFollowTheConfiguration) {
  AnnouncerConfig config;
  config.languages = {"en", "zh-Hans"};
  config.chime = false;
  Announcer announcer(config);
  auto out = announcer.on_event(*trip_, event(Type::approaching, 1));
  EXPECT_THAT(captions(out[0]),
              ::testing::ElementsAre("en: Arriving at OCT", "zh-Hans: 即将到达华侨城"));
  EXPECT_EQ(out[0].segments.front().kind, media::SegmentKind::speech);
}

TEST(NameIn, FallsBackToTheClosestLanguage) {
  routes::Names names{{"zh-Hans", "车公庙"}, {"en", "Chegongmiao"}};
  EXPECT_EQ(name_in(names, "en"), "Chegongmiao");
  EXPECT_EQ(name_in(names, "yue"), "车公庙") << "characters before an English name";
  EXPECT_EQ(name_in(names, "zh-Hant"), "车公庙");
  EXPECT_EQ(name_in(names, "fr"), "Chegongmiao");  // the first the feed has
  EXPECT_EQ(name_in({}, "en"), "");
}

}  // namespace
}  // namespace stopcall::daemon
