// What becomes of an announcement once it is made, on the demo route: a rider never hears a stop
// that is no longer true, never hears it over an emergency or with the ramp out, and hears it
// when the hold ends.
#include "daemon/announcer/policy.hpp"

#include <gtest/gtest.h>

#include "tests/daemon/demo_trip.hpp"

namespace stopcall::daemon {
namespace {

using policy::Effect;

class Policy : public testing::DemoTrip {
 protected:
  // The announcer's full form for `e`.
  Fitted fitted(const tracking::StopEvent& e) const {
    Fitted f;
    f.announcements = announcer_.on_event(*trip_, e);
    return f;
  }
  // What the policy says about `e` and its announcements, as a rider or the depot sees it.
  std::vector<Effect> on(const tracking::StopEvent& e, Holds holds = {}) {
    auto effects = policy_.on_event(e);
    auto said = policy_.stop_announcements(e, fitted(e), holds);
    effects.insert(effects.end(), std::make_move_iterator(said.begin()),
                   std::make_move_iterator(said.end()));
    return effects;
  }
  // The bus moves on; what that makes untrue, without announcing anything for it.
  std::vector<Effect> move(const tracking::StopEvent& e) { return policy_.on_event(e); }
  static std::vector<std::string> said(const std::vector<Effect>& effects) {
    std::vector<std::string> out;
    for (const auto& e : effects) {
      if (const auto* s = std::get_if<policy::Say>(&e))
        out.push_back(s->kind + " " + s->announcement.id);
    }
    return out;
  }
  static std::vector<std::string> expired(const std::vector<Effect>& effects) {
    std::vector<std::string> out;
    for (const auto& e : effects) {
      if (const auto* x = std::get_if<policy::Expire>(&e)) out.push_back(x->announcement_id);
    }
    return out;
  }
  static std::vector<std::string> held(const std::vector<Effect>& effects) {
    std::vector<std::string> out;
    for (const auto& e : effects) {
      if (const auto* h = std::get_if<log::Held>(&e)) out.push_back(h->id + ": " + h->why);
    }
    return out;
  }
  static std::string id_of(const std::vector<Effect>& effects) {
    return std::get<policy::Say>(effects.at(0)).announcement.id;
  }

  Announcer announcer_;
  AnnouncementPolicy policy_;
};

TEST_F(Policy, NextStopIsWithdrawnOnceTheBusReachesThatStop) {
  const auto next = on(event(Type::next_stop, 4));
  ASSERT_EQ(said(next).size(), 1u);
  const std::string id = id_of(next);
  EXPECT_TRUE(expired(move(event(Type::departed, 3))).empty()) << "still on its way to stop 4";
  EXPECT_EQ(expired(move(event(Type::arrived, 4))), std::vector<std::string>{id});
  EXPECT_EQ(policy_.watched(), 0u);
}

TEST_F(Policy, ArrivingAtStaysTrueWhileTheBusStandsThereAndGoesWhenItLeaves) {
  const std::string id = id_of(on(event(Type::approaching, 4)));
  EXPECT_TRUE(expired(move(event(Type::arrived, 4))).empty()) << "the rider can still get off";
  EXPECT_EQ(expired(move(event(Type::departed, 4))), std::vector<std::string>{id});

  const std::string through = id_of(on(event(Type::approaching, 5)));
  EXPECT_EQ(expired(move(event(Type::passed, 5))), std::vector<std::string>{through});
}

TEST_F(Policy, TheRouteOutsideIsForThePeopleAtThisStopOnly) {
  const auto arrived = on(event(Type::arrived, 4));
  ASSERT_EQ(said(arrived).size(), 1u);
  EXPECT_EQ(said(arrived)[0].substr(0, 15), "exterior_route ");
  EXPECT_EQ(expired(move(event(Type::departed, 4))), std::vector<std::string>{id_of(arrived)});

  media::Announcement answer;
  answer.id = "request:1";
  EXPECT_EQ(id_of(policy_.other("boarding_request", answer)), "request:1");
  EXPECT_EQ(expired(move(event(Type::passed, 5))), std::vector<std::string>{"request:1"});

  media::Announcement warning;
  warning.id = "ramp:1";
  policy_.other("ramp_assist", warning);
  EXPECT_TRUE(expired(move(event(Type::departed, 6))).empty()) << "a safety warning is never stale";
}

TEST_F(Policy, ABusWithDoorSignalsLeavesTheRouteOutsideToTheDoors) {
  AnnouncementPolicy doors(true);
  EXPECT_TRUE(
      said(doors.stop_announcements(event(Type::arrived, 4), fitted(event(Type::arrived, 4)), {}))
          .empty());
  policy_.doors_seen();  // configured without, but the bus reported a door
  EXPECT_TRUE(said(on(event(Type::arrived, 4))).empty());
}

TEST_F(Policy, NextStopWaitsWhileTheRampIsOutAndIsSaidWhenItIsStowed) {
  const auto out = on(event(Type::next_stop, 4), {.ramp_deployed = true});
  EXPECT_TRUE(said(out).empty());
  ASSERT_EQ(held(out).size(), 1u);
  EXPECT_NE(held(out)[0].find("the ramp is deployed"), std::string::npos);
  EXPECT_EQ(said(on(event(Type::approaching, 3))).size(), 1u) << "arriving at is never held";

  const auto stowed = policy_.ramp_stowed({});
  ASSERT_EQ(said(stowed).size(), 1u);
  EXPECT_EQ(said(stowed)[0].substr(0, 10), "next_stop ");
  EXPECT_TRUE(policy_.ramp_stowed({}).empty()) << "said once";
}

TEST_F(Policy, AHeldNextStopIsDroppedWhenTheBusReachedTheStopMeanwhile) {
  on(event(Type::next_stop, 4), {.ramp_deployed = true});
  on(event(Type::arrived, 4));
  const auto stowed = policy_.ramp_stowed({});
  EXPECT_TRUE(said(stowed).empty());
  ASSERT_EQ(held(stowed).size(), 1u);
  EXPECT_NE(held(stowed)[0].find("dropped: the bus reached the stop meanwhile"), std::string::npos);
}

TEST_F(Policy, NoStopIsSaidOverAnEmergencyAndTheNextStopComesAfter) {
  EXPECT_TRUE(said(on(event(Type::arrived, 3), {.emergency = true})).empty());
  const auto next = on(event(Type::next_stop, 4), {.emergency = true});
  EXPECT_TRUE(said(next).empty());
  EXPECT_EQ(held(next).size(), 1u);

  on(event(Type::departed, 3), {.ramp_deployed = true});
  policy_.emergency_began();  // also drops "next stop" held for the ramp
  EXPECT_TRUE(policy_.ramp_stowed({}).empty());

  const auto again =
      policy_.next_stop_again(announcer_.on_event(*trip_, event(Type::next_stop, 4)), 4, {}, {});
  ASSERT_EQ(said(again).size(), 1u);
  EXPECT_NE(id_of(again).find(":after_emergency"), std::string::npos);
  EXPECT_EQ(expired(move(event(Type::arrived, 4))), std::vector<std::string>{id_of(again)});
}

TEST_F(Policy, RepeatSaysTheLastStopAgainAndNeverOnceItIsUntrue) {
  EXPECT_TRUE(policy_.repeat_last(":repeat1").empty()) << "nothing said yet";
  const std::string id = id_of(on(event(Type::next_stop, 4)));
  const auto again = policy_.repeat_last(":repeat1");
  EXPECT_EQ(said(again), std::vector<std::string>{"repeat " + id + ":repeat1"});
  EXPECT_TRUE(expired(again).empty());

  move(event(Type::arrived, 4));
  const auto late = policy_.repeat_last(":repeat2");
  EXPECT_EQ(expired(late), std::vector<std::string>{id + ":repeat2"}) << "the voice drops it";
}

TEST_F(Policy, WhatTheVoiceHasFinishedIsNoLongerWatched) {
  const std::string id = id_of(on(event(Type::next_stop, 4)));
  EXPECT_EQ(policy_.watched(), 1u);
  policy_.finished(id);
  EXPECT_TRUE(expired(move(event(Type::arrived, 4))).empty());
}

}  // namespace
}  // namespace stopcall::daemon
