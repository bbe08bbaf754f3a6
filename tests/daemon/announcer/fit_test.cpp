// Announcements that fit the stretch: which form a rider hears, from the time the bus needs to the
// stop, on the demo route (stop 4, 车公庙 / Chegongmiao, has a transfer hint).
#include "daemon/announcer/fit.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "daemon/announcer/announcer.hpp"
#include "tests/daemon/demo_trip.hpp"

namespace stopcall::daemon {
namespace {

using Type = tracking::StopEvent::Type;
using namespace std::chrono_literals;

class FitAnnouncer : public testing::DemoTrip {
 protected:
  // "Next stop" for a bus covering `metres` to the stop at `kmh`: until "arriving at" is due,
  // 10 s before the bus is there.
  static FitTiming driving(double metres, double kmh) {
    return {milliseconds{static_cast<long>(metres / (kmh / 3.6) * 1000)} - 10s, 0ms};
  }
  static std::vector<std::string> spoken(const media::Announcement& a) {
    std::vector<std::string> out;
    for (const auto& s : a.segments) {
      if (s.kind == media::SegmentKind::speech) {
        out.push_back(s.lang + ": " + (s.spoken.empty() ? s.text : s.spoken));
      }
    }
    return out;
  }
  static bool has_chime(const media::Announcement& a) {
    return !a.segments.empty() && a.segments.front().kind == media::SegmentKind::chime;
  }
  static inline const SegmentLength unknown = [](const media::Segment&) {
    return std::optional<milliseconds>{};
  };
};

TEST_F(FitAnnouncer, ALongStretchGetsTheFullForm) {
  Announcer announcer;
  // 800 m at 40 km/h: 72 s to the stop, over a minute before "arriving at" is due.
  const Fitted f = announcer.fit(*trip_, event(Type::next_stop, 4), driving(800, 40), unknown);
  EXPECT_EQ(f.form, Form::full);
  ASSERT_EQ(f.announcements.size(), 1u);
  const auto& a = f.announcements[0];
  EXPECT_TRUE(has_chime(a));
  EXPECT_THAT(spoken(a), ::testing::ElementsAre(
                             "zh-Hans: 下一站，车公庙。可换乘地铁1号线、7号线、9号线、11号线",
                             "yue: 下一站，車公廟。可轉乘地鐵1號線、7號線、9號線、11號線",
                             "en: Next stop: Chegongmiao. Transfer to Metro Lines 1, 7, 9 and 11"));
  EXPECT_EQ(f.announcements[0].segments.size(),
            announcer.on_event(*trip_, event(Type::next_stop, 4))[0].segments.size());
}

TEST_F(FitAnnouncer, AShortStretchDropsTheExtrasButEveryLanguageHearsTheName) {
  Announcer announcer;
  // 150 m at 40 km/h: 13.5 s to the stop, 3.5 s before "arriving at" is due.
  const Fitted f = announcer.fit(*trip_, event(Type::next_stop, 4), driving(150, 40), unknown);
  EXPECT_EQ(f.form, Form::brief);
  ASSERT_EQ(f.announcements.size(), 1u);
  const auto& a = f.announcements[0];
  EXPECT_FALSE(has_chime(a));
  EXPECT_THAT(spoken(a),
              ::testing::ElementsAre("zh-Hans: 车公庙", "yue: 車公廟", "en: Chegongmiao"));
  EXPECT_LE(f.length, 3500ms) << "over before \"arriving at\" is due";
}

TEST_F(FitAnnouncer, AMiddleStretchDropsOnlyTheTransferHint) {
  Announcer announcer;
  const auto e = event(Type::next_stop, 4);
  const auto full = announcer.fit(*trip_, e, driving(800, 40), unknown).length;
  const auto no_hint =
      length_of(announcer.on_event(*trip_, e, Form::no_transfer)[0], SegmentLength{});
  ASSERT_LT(no_hint, full);
  const Fitted f = announcer.fit(*trip_, e, {no_hint, 0ms}, unknown);
  EXPECT_EQ(f.form, Form::no_transfer);
  EXPECT_TRUE(has_chime(f.announcements[0]));
  EXPECT_THAT(spoken(f.announcements[0]),
              ::testing::ElementsAre("zh-Hans: 下一站，车公庙", "yue: 下一站，車公廟",
                                     "en: Next stop: Chegongmiao"));
}

TEST_F(FitAnnouncer, TheSubtitleIsTheFullTextInEveryForm) {
  Announcer announcer;
  for (Type type : {Type::next_stop, Type::approaching}) {
    const auto e = event(type, 4);
    const auto full = captions(announcer.on_event(*trip_, e)[0]);
    for (Form form : {Form::no_transfer, Form::no_chime, Form::brief}) {
      EXPECT_EQ(captions(announcer.on_event(*trip_, e, form)[0]), full) << form_name(form);
    }
    const auto two = captions(announcer.on_event(*trip_, e, Form::fewer_languages, 2)[0]);
    EXPECT_THAT(two, ::testing::ElementsAre(full[0], full[1]));
  }
}

TEST_F(FitAnnouncer, AStopNameThatWouldNotFinishIsNeverStarted) {
  Announcer announcer;
  // Lengths as rendered: each name 900 ms, the pauses 300 ms.
  const SegmentLength rendered = [](const media::Segment& s) -> std::optional<milliseconds> {
    if (s.kind == media::SegmentKind::speech) return 900ms;
    return std::nullopt;
  };
  // "Next stop" with 2.5 s before "arriving at" is due: not all three names fit, so none is
  // started; "arriving at" follows with the name in every language.
  const Fitted next = announcer.fit(*trip_, event(Type::next_stop, 4), {2500ms, 0ms}, rendered);
  EXPECT_EQ(next.form, Form::skipped);
  EXPECT_TRUE(next.announcements.empty());
  // "Arriving at" with 2.5 s before the bus may have left the stop ("next stop" said the name):
  // Mandarin ends at 0.9 s, Cantonese at 2.1 s, English would end at 3.3 s: not started.
  const Fitted arriving =
      announcer.fit(*trip_, event(Type::approaching, 4), {2500ms, 0ms}, rendered);
  EXPECT_EQ(arriving.form, Form::fewer_languages);
  EXPECT_EQ(arriving.languages, 2u);
  EXPECT_THAT(spoken(arriving.announcements[0]),
              ::testing::ElementsAre("zh-Hans: 车公庙", "yue: 車公廟"));
  EXPECT_EQ(arriving.length, 2100ms);
  // No time left at all: the name is still said once, in the first language.
  const Fitted last = announcer.fit(*trip_, event(Type::approaching, 4), {0ms, 0ms}, rendered);
  EXPECT_EQ(last.form, Form::fewer_languages);
  EXPECT_THAT(spoken(last.announcements[0]), ::testing::ElementsAre("zh-Hans: 车公庙"));
}

TEST_F(FitAnnouncer, AnAnnouncementStillPlayingLeavesLessTime) {
  Announcer announcer;
  const SegmentLength none = unknown;
  auto first = event(Type::next_stop, 4);
  first.time = tracking::Time{} + 1000s;
  // 20 s until "arriving at" is due: the full form (about 16 s estimated) fits.
  const Fitted a = announcer.on_event(*trip_, first, 20s, none);
  EXPECT_EQ(a.form, Form::full);
  // A stop close after it, said right after it: it has only what is left, so it is brief.
  auto then = event(Type::next_stop, 5);
  then.time = first.time;
  then.with_previous = true;
  const Fitted b = announcer.on_event(*trip_, then, 20s, none);
  EXPECT_NE(b.form, Form::full);
  EXPECT_LE(a.length + b.length, 20s);
}

TEST_F(FitAnnouncer, WhenNextStopWasSkippedArrivingAtSaysTheNameInEveryLanguage) {
  const SegmentLength rendered = [](const media::Segment& s) -> std::optional<milliseconds> {
    if (s.kind == media::SegmentKind::speech) return 900ms;
    return std::nullopt;
  };
  auto next = event(Type::next_stop, 4);
  auto arriving = event(Type::approaching, 4);
  next.time = tracking::Time{} + 1000s;
  arriving.time = next.time + 10s;
  // "Next stop" had no time: "arriving at" is the rider's only chance to hear the name, so every
  // language says it, though the third may end only as the bus leaves a stop it drives through.
  Announcer skipped;
  EXPECT_EQ(skipped.on_event(*trip_, next, 0ms, rendered).form, Form::skipped);
  const Fitted only = skipped.on_event(*trip_, arriving, 2500ms, rendered);
  EXPECT_EQ(only.form, Form::brief);
  EXPECT_THAT(spoken(only.announcements[0]),
              ::testing::ElementsAre("zh-Hans: 车公庙", "yue: 車公廟", "en: Chegongmiao"));
  // "Next stop" said the name in every language: "arriving at" keeps to its time.
  Announcer said;
  EXPECT_EQ(said.on_event(*trip_, next, 20s, rendered).form, Form::full);
  const Fitted again = said.on_event(*trip_, arriving, 2500ms, rendered);
  EXPECT_EQ(again.form, Form::fewer_languages);
  EXPECT_EQ(again.languages, 2u);
}

TEST_F(FitAnnouncer, UnknownLengthsAreEstimatedFromTheText) {
  EXPECT_EQ(estimated_length(media::Segment::speech("车公庙", "zh-Hans")), 900ms);
  EXPECT_EQ(estimated_length(media::Segment::speech("下一站，车公庙", "zh-Hans")), 1950ms);
  EXPECT_EQ(estimated_length(media::Segment::speech("Chegongmiao", "en")), 825ms);
  EXPECT_EQ(estimated_length(media::Segment::silence(300ms)), 300ms);
  EXPECT_EQ(estimated_length(media::Segment::chime()), 800ms);
  auto named = media::Segment::speech("下一站，车公庙", "zh-Hans");
  named.spoken = "车公庙";
  EXPECT_EQ(estimated_length(named), 900ms) << "what is spoken, not the caption";
  // A length the engine knows wins; what it does not know is estimated.
  const SegmentLength chime_known = [](const media::Segment& s) -> std::optional<milliseconds> {
    if (s.kind == media::SegmentKind::chime) return 1200ms;
    return std::nullopt;
  };
  media::Announcement a;
  a.segments = {media::Segment::chime(), media::Segment::speech("车公庙", "zh-Hans")};
  EXPECT_EQ(length_of(a, chime_known), 2100ms);
  EXPECT_EQ(length_of(a, SegmentLength{}), 1700ms);
  // Without a prediction of the time to the stop, the full form as before.
  Announcer announcer;
  EXPECT_EQ(announcer.fit(*trip_, event(Type::next_stop, 4), {}, unknown).form, Form::full);
}

}  // namespace
}  // namespace stopcall::daemon
