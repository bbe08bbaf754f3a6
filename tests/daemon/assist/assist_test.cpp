// The accessibility workflows on the demo trip, driven step by step: what riders hear, what the
// displays and the driver console show, and what the log keeps.
#include "daemon/assist/assist.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <random>

#include "routes/bundle.hpp"
#include "tests/daemon/demo_trip.hpp"

namespace stopcall::daemon {
namespace {

using namespace std::chrono_literals;
using Type = tracking::StopEvent::Type;
using nlohmann::json;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::SizeIs;

// Everything the workflows asked for, in order.
struct Recorder final : AssistPort {
  struct Said {
    std::string kind;
    media::Announcement announcement;
  };
  struct Shown {
    std::string to, kind, stop_id;
    hmi::Prompt prompt;
  };
  std::vector<Said> said;
  std::vector<Shown> shown;
  std::vector<hmi::Status> statuses;
  std::vector<hmi::BoardingRequest> requests_now;
  std::vector<json> log;
  int stowed = 0;

  void announce(std::string_view kind, media::Announcement a) override {
    said.push_back({std::string(kind), std::move(a)});
  }
  void prompt(std::string_view to, std::string_view kind, const std::string& stop_id,
              const hmi::Prompt& p) override {
    shown.push_back({std::string(to), std::string(kind), stop_id, p});
  }
  void driver_status(const hmi::Status& s) override { statuses.push_back(s); }
  void requests(std::vector<hmi::BoardingRequest> list) override { requests_now = std::move(list); }
  void ramp_stowed() override { ++stowed; }
  void record(const log::Record& r) override { log.push_back(json::parse(log::encode(r))); }

  std::vector<std::string> kinds() const {
    std::vector<std::string> out;
    for (const auto& s : said)
      out.push_back(s.kind);
    return out;
  }
  std::vector<std::string> fates(const std::string& id) const {
    std::vector<std::string> out;
    for (const auto& j : log) {
      if (j["type"] == "request" && j["id"] == id) out.push_back(j["fate"]);
    }
    return out;
  }
  // The passenger prompt `id` is up now.
  bool passenger_prompt(const std::string& id) const {
    bool up = false;
    for (const auto& s : shown) {
      if (s.to == "passenger" && s.prompt.id == id) up = s.prompt.active;
    }
    return up;
  }
};

class AssistTest : public testing::DemoTrip {
 protected:
  // The bus standing at stop `index` (the tracker then names the following stop as next).
  void stand_at(int index, std::vector<tracking::StopEvent> events = {}) {
    pos_.trip = trip_;
    pos_.at_stop = index;
    pos_.next_stop = index + 1;
    pos_.progress_m = stop_m(index);
    pos_.gps_speed_mps = 0;
    assist_.on_step(events, pos_, now_);
  }
  // The bus driving at `kmh`, `metres` before stop `index`.
  void drive_to(int index, double metres, double kmh,
                std::vector<tracking::StopEvent> events = {}) {
    pos_.trip = trip_;
    pos_.at_stop.reset();
    pos_.next_stop = index;
    pos_.progress_m = stop_m(index) - metres;
    pos_.gps_speed_mps = kmh / 3.6;
    assist_.on_step(events, pos_, now_);
  }
  static double stop_m(int index) {
    return trip_->stops[static_cast<std::size_t>(index)].distance_m;
  }
  static std::string stop_id(int index) {
    return trip_->stops[static_cast<std::size_t>(index)].stop.id;
  }
  vehicle::Reply signal(vehicle::SignalName name, bool active, int door = 1) {
    vehicle::Signal s;
    s.name = name;
    s.active = active;
    s.door = door;
    s.source = "test";
    return assist_.on_signal(s, now_);
  }
  vehicle::Reply press(vehicle::Button b) { return assist_.on_button({b, "test"}, now_); }
  vehicle::Reply request(vehicle::RequestKind kind, std::string stop, std::string route = "101") {
    vehicle::BoardingRequestIn r;
    r.kind = kind;
    r.stop_id = std::move(stop);
    r.route_id = std::move(route);
    return assist_.on_request(r, now_, [](const std::string& id) { return id != "NOWHERE"; });
  }
  void pass(std::chrono::milliseconds d) {
    now_ += d;
    assist_.on_tick(now_);
  }

  Recorder port_;
  Assist assist_{AssistConfig{}, port_};
  BusPosition pos_;
  tracking::Time now_{std::chrono::sys_days{std::chrono::year{2026} / 3 / 2} + 1h};
};

TEST_F(AssistTest, RampAssistWarnsInsideAndOutsideInEveryLanguage) {
  stand_at(3);
  auto reply = press(vehicle::Button::ramp_assist);
  EXPECT_TRUE(reply.ok) << reply.message;
  ASSERT_THAT(port_.said, SizeIs(1));
  const auto& a = port_.said[0].announcement;
  EXPECT_EQ(port_.said[0].kind, "ramp_assist");
  EXPECT_EQ(a.priority, media::Priority::accessibility);
  EXPECT_EQ(a.outputs, media::Outputs::both());
  std::vector<std::string> spoken;
  for (const auto& s : a.segments) {
    if (s.kind == media::SegmentKind::speech) spoken.push_back(s.lang + ": " + s.text);
  }
  EXPECT_THAT(spoken,
              ElementsAre("zh-Hans: 坡板正在放下，请勿靠近。", "yue: 斜板正在放下，請勿靠近。",
                          "en: Ramp deploying, please stand clear."));
  EXPECT_TRUE(port_.passenger_prompt("ramp"));
}

TEST_F(AssistTest, TheRampCycleWarnsOutsideWhileDeployedAndClearsWhenStowed) {
  stand_at(3);
  press(vehicle::Button::ramp_assist);
  signal(vehicle::SignalName::ramp, true);
  // The sensor right after the button: no second "ramp deploying".
  EXPECT_THAT(port_.kinds(), ElementsAre("ramp_assist"));
  for (int i = 0; i < 12; ++i)
    pass(1s);
  // A tone outside every 5 s while the ramp is out.
  EXPECT_THAT(port_.kinds(), ElementsAre("ramp_assist", "ramp_warning", "ramp_warning"));
  EXPECT_EQ(port_.said[1].announcement.outputs, media::Outputs::only(media::Output::exterior));
  signal(vehicle::SignalName::ramp, false);
  EXPECT_FALSE(port_.passenger_prompt("ramp"));
  EXPECT_EQ(port_.stowed, 1);
  for (int i = 0; i < 12; ++i)
    pass(1s);
  EXPECT_THAT(port_.said, SizeIs(3)) << "no warning once stowed";
}

TEST_F(AssistTest, RampAssistWhileMovingIsRefused) {
  drive_to(4, 300, 35);
  auto reply = press(vehicle::Button::ramp_assist);
  EXPECT_FALSE(reply.ok);
  EXPECT_THAT(reply.message, ::testing::HasSubstr("moving"));
  EXPECT_THAT(port_.said, IsEmpty());
}

TEST_F(AssistTest, RampDeployedWhileMovingRaisesTheAlarmOnce) {
  stand_at(3);
  signal(vehicle::SignalName::ramp, true);
  EXPECT_TRUE(port_.statuses.empty());
  drive_to(4, 500, 20);
  drive_to(4, 480, 22);
  std::vector<Recorder::Shown> alarms;
  for (const auto& s : port_.shown) {
    if (s.kind == "ramp_moving_alarm" && s.prompt.active) alarms.push_back(s);
  }
  ASSERT_THAT(alarms, SizeIs(1));
  EXPECT_EQ(alarms[0].to, "driver");
  ASSERT_FALSE(port_.statuses.empty());
  EXPECT_EQ(port_.statuses.back().name, "ramp");
  EXPECT_EQ(port_.statuses.back().level, hmi::Level::error);
  signal(vehicle::SignalName::ramp, false);
  EXPECT_EQ(port_.statuses.back().level, hmi::Level::ok);
}

TEST_F(AssistTest, RampOutAndTheBusCreepingForwardIsMovingEvenWithoutSpeed) {
  stand_at(3);
  signal(vehicle::SignalName::ramp, true);
  pos_.at_stop.reset();
  pos_.next_stop = 4;
  pos_.progress_m += 35;  // no speed from GPS (a lost fix), but the position advanced
  assist_.on_step({}, pos_, now_);
  EXPECT_FALSE(port_.statuses.empty());
}

TEST_F(AssistTest, ABouncingButtonMakesOneAnnouncement) {
  stand_at(3);
  for (int i = 0; i < 5; ++i) {
    press(vehicle::Button::ramp_assist);
    now_ += 100ms;
  }
  EXPECT_THAT(port_.kinds(), ElementsAre("ramp_assist"));
  int ignored = 0;
  for (const auto& j : port_.log) {
    if (j.value("note", "").find("ignored") != std::string::npos) ++ignored;
  }
  EXPECT_EQ(ignored, 4) << "every press is logged, the bounces as ignored";
}

TEST_F(AssistTest, DoorsOpeningAtAStopTellPeopleOutsideOnce) {
  stand_at(2, {event(Type::arrived, 2)});
  signal(vehicle::SignalName::door, true, 1);
  signal(vehicle::SignalName::door, false, 1);  // bounce
  signal(vehicle::SignalName::door, true, 1);
  signal(vehicle::SignalName::door, true, 2);  // the rear door too
  ASSERT_THAT(port_.kinds(), ElementsAre("exterior_route"));
  const auto& a = port_.said[0].announcement;
  EXPECT_EQ(a.outputs, media::Outputs::only(media::Output::exterior));
  EXPECT_EQ(a.segments.back().text, "Route 101 to Grand Theater");
  // The next stop's doors: again.
  signal(vehicle::SignalName::door, false, 1);
  signal(vehicle::SignalName::door, false, 2);
  drive_to(3, 200, 30, {event(Type::departed, 2), event(Type::next_stop, 3)});
  stand_at(3, {event(Type::arrived, 3)});
  signal(vehicle::SignalName::door, true, 1);
  EXPECT_THAT(port_.kinds(), ElementsAre("exterior_route", "exterior_route"));
}

TEST_F(AssistTest, DoorOpenAtSpeedIsAFaultNotAnAnnouncement) {
  drive_to(4, 400, 40);
  signal(vehicle::SignalName::door, true, 1);
  EXPECT_THAT(port_.said, IsEmpty());
  EXPECT_FALSE(port_.passenger_prompt("doors"));
  bool fault = false;
  for (const auto& j : port_.log)
    fault |= j["type"] == "fault" && j["kind"] == "door_open_while_moving";
  EXPECT_TRUE(fault);
}

TEST_F(AssistTest, WheelchairStopRequestIsConfirmedAndKeptUntilTheRampCycle) {
  drive_to(5, 600, 30);
  auto reply = press(vehicle::Button::wheelchair_request);
  ASSERT_TRUE(reply.ok) << reply.message;
  EXPECT_THAT(port_.kinds(), ElementsAre("wheelchair_request"));  // the confirmation tone
  ASSERT_TRUE(port_.passenger_prompt("ramp-request"));
  const auto& confirm = port_.shown.front().prompt;
  EXPECT_EQ(confirm.kind, hmi::PromptKind::ramp_requested);
  EXPECT_THAT(confirm.text.at("en"), ::testing::HasSubstr("the driver has been told"));
  ASSERT_THAT(port_.requests_now, SizeIs(1));
  EXPECT_EQ(port_.requests_now[0].kind, "wheelchair_alighting");
  EXPECT_EQ(port_.requests_now[0].stop_id, stop_id(5));
  // Arrived, doors open: still needed until the ramp has been out and back.
  stand_at(5, {event(Type::arrived, 5)});
  signal(vehicle::SignalName::door, true);
  EXPECT_THAT(port_.requests_now, SizeIs(1));
  signal(vehicle::SignalName::ramp, true);
  signal(vehicle::SignalName::ramp, false);
  EXPECT_THAT(port_.requests_now, IsEmpty());
  EXPECT_FALSE(port_.passenger_prompt("ramp-request"));
  EXPECT_THAT(port_.fates("onboard-1"), ElementsAre("shown", "served"));
}

TEST_F(AssistTest, AWheelchairRequestNotServedAtItsStopMovesToTheNext) {
  drive_to(5, 600, 30);
  press(vehicle::Button::wheelchair_request);
  drive_to(6, 500, 30, {event(Type::passed, 5), event(Type::next_stop, 6)});
  ASSERT_THAT(port_.requests_now, SizeIs(1));
  EXPECT_EQ(port_.requests_now[0].stop_id, stop_id(6));
  EXPECT_TRUE(port_.passenger_prompt("ramp-request"));
  // The driver can take it down.
  EXPECT_TRUE(assist_.dismiss("onboard-1", now_).ok);
  EXPECT_THAT(port_.requests_now, IsEmpty());
  EXPECT_THAT(port_.fates("onboard-1"), ElementsAre("shown", "carried", "dismissed"));
}

TEST_F(AssistTest, ABlindRidersStopHearsTheRouteWhileTheBusApproachesAndStands) {
  drive_to(1, 300, 30);
  auto reply = request(vehicle::RequestKind::blind, stop_id(5));
  ASSERT_TRUE(reply.ok) << reply.message;
  // Stops 2-4: no exterior repetitions for the rider at 5.
  for (int stop = 1; stop < 5; ++stop) {
    drive_to(stop, 100, 30, {event(Type::approaching, stop)});
    for (int i = 0; i < 20; ++i)
      pass(1s);
  }
  EXPECT_THAT(port_.said, IsEmpty());
  // On the console from well before.
  ASSERT_THAT(port_.requests_now, SizeIs(1));
  EXPECT_EQ(port_.requests_now[0].kind, "blind");
  EXPECT_EQ(port_.requests_now[0].stops_to_go, 1);
  drive_to(5, 150, 25, {event(Type::next_stop, 5)});
  drive_to(5, 120, 25, {event(Type::approaching, 5)});
  EXPECT_THAT(port_.kinds(), ElementsAre("boarding_request"));
  for (int i = 0; i < 12; ++i)
    pass(1s);  // repeated every 12 s while approaching and standing
  stand_at(5, {event(Type::arrived, 5)});
  for (int i = 0; i < 12; ++i)
    pass(1s);
  EXPECT_THAT(port_.kinds(),
              ElementsAre("boarding_request", "boarding_request", "boarding_request"));
  signal(vehicle::SignalName::door, true);
  EXPECT_EQ(port_.kinds().back(), "exterior_route") << "once more when the doors open";
  const auto said = port_.said.size();
  for (int i = 0; i < 30; ++i)
    pass(1s);
  EXPECT_EQ(port_.said.size(), said) << "no repetition after the doors opened";
  signal(vehicle::SignalName::door, false);
  drive_to(6, 300, 20, {event(Type::departed, 5), event(Type::next_stop, 6)});
  EXPECT_THAT(port_.fates("req-1"), ElementsAre("pending", "shown", "served"));
  EXPECT_THAT(port_.requests_now, IsEmpty());
}

// Stops `first` and `first + 1` as two berths of one station: the tracker serves the second at
// the halt of the first (Tracker::halt_stops()).
std::vector<int> one_station(std::size_t stops, int first) {
  std::vector<int> halts(stops);
  for (std::size_t i = 0; i < stops; ++i)
    halts[i] = static_cast<int>(i);
  halts[static_cast<std::size_t>(first) + 1] = first;
  return halts;
}

TEST_F(AssistTest, ABlindRiderAtTheSecondBerthOfAStationIsServedWhereTheBusHalts) {
  pos_.halt_stops = one_station(trip_->stops.size(), 3);
  drive_to(2, 300, 30);
  ASSERT_TRUE(request(vehicle::RequestKind::blind, stop_id(4)).ok);
  drive_to(3, 150, 25, {event(Type::next_stop, 3)});
  drive_to(3, 120, 25, {event(Type::approaching, 3)});
  EXPECT_THAT(port_.kinds(), ElementsAre("boarding_request"))
      << "the route is called outside as the bus nears the station";
  stand_at(3, {event(Type::arrived, 3)});
  signal(vehicle::SignalName::door, true);
  EXPECT_EQ(port_.kinds().back(), "exterior_route");
  signal(vehicle::SignalName::door, false);
  drive_to(5, 300, 20,
           {event(Type::departed, 3), event(Type::passed, 4), event(Type::next_stop, 5)});
  EXPECT_THAT(port_.fates("req-1"), ElementsAre("pending", "shown", "served"));
}

TEST_F(AssistTest, AWheelchairRequestCarriedOnSkipsTheBerthsOfTheStationJustLeft) {
  pos_.halt_stops = one_station(trip_->stops.size(), 5);
  drive_to(5, 600, 30);
  press(vehicle::Button::wheelchair_request);
  drive_to(7, 500, 30, {event(Type::passed, 5), event(Type::passed, 6), event(Type::next_stop, 7)});
  ASSERT_THAT(port_.requests_now, SizeIs(1));
  EXPECT_EQ(port_.requests_now[0].stop_id, stop_id(7));
  EXPECT_THAT(port_.fates("onboard-1"), ElementsAre("shown", "carried"));
}

TEST_F(AssistTest, RequestsForOtherRoutesOrPassedStopsAreNotShown) {
  drive_to(6, 300, 30);
  EXPECT_TRUE(request(vehicle::RequestKind::wheelchair, stop_id(2)).ok);  // already passed
  EXPECT_TRUE(request(vehicle::RequestKind::wheelchair, stop_id(7), "202").ok);
  EXPECT_THAT(port_.requests_now, IsEmpty());
  auto unknown = request(vehicle::RequestKind::blind, "NOWHERE");
  EXPECT_FALSE(unknown.ok);
  EXPECT_EQ(unknown.error, "unknown_stop");
}

TEST_F(AssistTest, OpenRequestsAreCappedPerStopAndInAll) {
  drive_to(1, 300, 30);
  for (int i = 0; i < 4; ++i)
    EXPECT_TRUE(request(vehicle::RequestKind::blind, stop_id(5)).ok) << i;
  auto fifth = request(vehicle::RequestKind::wheelchair, stop_id(5));
  EXPECT_FALSE(fifth.ok);
  EXPECT_EQ(fifth.error, "too_many");
  EXPECT_THAT(fifth.message, ::testing::HasSubstr(stop_id(5)));
  // Up to the bus's limit over other stops (and other routes' stops: they count too).
  int accepted = 4;
  for (int i = 0; i < 100; ++i) {
    if (request(vehicle::RequestKind::blind, "S" + std::to_string(i % 40), "202").ok) ++accepted;
  }
  EXPECT_EQ(accepted, 32);
  auto full = request(vehicle::RequestKind::blind, stop_id(7));
  EXPECT_EQ(full.error, "too_many");
  EXPECT_THAT(full.message, ::testing::HasSubstr("32 open boarding requests"));
  EXPECT_LT(assist_.state_json(now_).size(), 8u << 10) << "the state stays small";
  // A request dealt with makes room again.
  EXPECT_TRUE(assist_.dismiss("req-1", now_).ok);
  pass(1s);
  EXPECT_TRUE(request(vehicle::RequestKind::blind, stop_id(5)).ok);
}

TEST_F(AssistTest, ARequestExpires) {
  drive_to(1, 300, 30);
  vehicle::BoardingRequestIn r;
  r.kind = vehicle::RequestKind::wheelchair;
  r.stop_id = stop_id(3);
  r.route_id = "101";
  r.expires = now_ + 10s;
  ASSERT_TRUE(assist_.on_request(r, now_, [](const std::string&) { return true; }).ok);
  EXPECT_THAT(port_.requests_now, SizeIs(1));
  for (int i = 0; i < 11; ++i)
    pass(1s);
  EXPECT_THAT(port_.requests_now, IsEmpty());
  EXPECT_THAT(port_.fates("req-1"), ElementsAre("pending", "shown", "expired"));
}

TEST_F(AssistTest, AWheelchairUserAtAStopIsServedByTheRampCycleThere) {
  drive_to(2, 300, 30);
  ASSERT_TRUE(request(vehicle::RequestKind::wheelchair, stop_id(3)).ok);
  stand_at(3, {event(Type::arrived, 3)});
  signal(vehicle::SignalName::door, true);
  press(vehicle::Button::ramp_assist);
  signal(vehicle::SignalName::ramp, true);
  signal(vehicle::SignalName::ramp, false);
  EXPECT_THAT(port_.fates("req-1"), ElementsAre("pending", "shown", "served"));
}

TEST_F(AssistTest, AStopRequestIsShownUntilTheDoorsOpen) {
  drive_to(4, 400, 30);
  press(vehicle::Button::stop_request);
  EXPECT_TRUE(port_.passenger_prompt("stop"));
  EXPECT_THAT(port_.kinds(), ElementsAre("stop_request"));
  stand_at(4, {event(Type::arrived, 4)});
  signal(vehicle::SignalName::door, true);
  EXPECT_FALSE(port_.passenger_prompt("stop"));
}

}  // namespace
}  // namespace stopcall::daemon

namespace stopcall::daemon {
namespace {

// 100 randomized request patterns on whole trips: every request for a stop ahead on this route
// reaches the driver's console before the bus gets there and is served there; none for another
// route or a stop already passed is ever shown. (The target: zero missed prompts.)
TEST_F(AssistTest, NoPromptIsMissedOverOneHundredRandomizedRequestPatterns) {
  const int n = static_cast<int>(trip_->stops.size());
  int valid_total = 0;
  for (unsigned seed = 1; seed <= 100; ++seed) {
    std::mt19937 random(seed);
    Recorder port;
    Assist assist(AssistConfig{}, port);
    BusPosition pos;
    pos.trip = trip_;
    tracking::Time now = now_;
    // Requests: when sent (before which stop), for which stop and route, and what kind.
    struct Planned {
      int sent_before;
      int stop;
      bool this_route;
      vehicle::RequestKind kind;
      std::string id;
      bool valid() const { return this_route && stop >= sent_before; }
    };
    std::vector<Planned> plan;
    const int count = 1 + static_cast<int>(random() % 4);
    for (int i = 0; i < count; ++i) {
      Planned p;
      p.sent_before = 1 + static_cast<int>(random() % static_cast<unsigned>(n - 2));
      p.stop = 1 + static_cast<int>(random() % static_cast<unsigned>(n - 1));
      p.this_route = random() % 5 != 0;
      p.kind = random() % 2 ? vehicle::RequestKind::blind : vehicle::RequestKind::wheelchair;
      p.id = "r" + std::to_string(i);
      // One request per stop and kind: two at once are one rider for the console.
      plan.push_back(p);
    }
    std::map<std::string, bool> shown_before_stop;
    auto step = [&](std::vector<tracking::StopEvent> events) { assist.on_step(events, pos, now); };
    for (int stop = 1; stop < n; ++stop) {
      for (const auto& p : plan) {
        if (p.sent_before != stop) continue;
        vehicle::BoardingRequestIn r;
        r.id = p.id;
        r.kind = p.kind;
        r.stop_id = AssistTest::stop_id(p.stop);
        r.route_id = p.this_route ? "101" : "202";
        ASSERT_TRUE(assist.on_request(r, now, [](const std::string&) { return true; }).ok);
      }
      // Driving to `stop`: next_stop, approaching, arriving.
      pos.at_stop.reset();
      pos.next_stop = stop;
      pos.gps_speed_mps = 30 / 3.6;
      pos.progress_m = stop_m(stop) - 400;
      step({event(Type::next_stop, stop)});
      for (int s = 0; s < 20; ++s) {
        now += 1s;
        pos.progress_m += 15;
        assist.on_tick(now);
        step({});
      }
      step({event(Type::approaching, stop)});
      for (const auto& p : plan) {
        if (p.stop == stop) {
          shown_before_stop[p.id] = !port.fates(p.id).empty() && port.fates(p.id).size() >= 2 &&
                                    port.fates(p.id)[1] == "shown";
        }
      }
      pos.at_stop = stop;
      pos.next_stop = stop + 1 < n ? std::optional<int>(stop + 1) : std::nullopt;
      pos.progress_m = stop_m(stop);
      pos.gps_speed_mps = 0;
      step({event(Type::arrived, stop)});
      // The driver serves whoever waits here: doors open; the ramp for a wheelchair user.
      vehicle::Signal door{vehicle::SignalName::door, 1, true, 0, "test"};
      assist.on_signal(door, now);
      for (const auto& p : plan) {
        if (p.stop == stop && p.valid() && p.kind == vehicle::RequestKind::wheelchair) {
          assist.on_signal({vehicle::SignalName::ramp, 1, true, 0, "test"}, now);
          now += 20s;
          assist.on_signal({vehicle::SignalName::ramp, 1, false, 0, "test"}, now);
        }
      }
      now += 10s;
      assist.on_tick(now);
      door.active = false;
      assist.on_signal(door, now);
      step({event(Type::departed, stop)});
    }
    for (const auto& p : plan) {
      auto fates = port.fates(p.id);
      const bool shown = std::find(fates.begin(), fates.end(), "shown") != fates.end();
      if (p.valid()) {
        ++valid_total;
        EXPECT_TRUE(shown_before_stop[p.id]) << "seed " << seed << " " << p.id << " at stop "
                                             << p.stop << " sent before " << p.sent_before;
        EXPECT_EQ(fates.empty() ? "" : fates.back(), "served") << "seed " << seed << " " << p.id;
      } else {
        EXPECT_FALSE(shown) << "seed " << seed << " " << p.id;
      }
    }
  }
  EXPECT_GT(valid_total, 100) << "the patterns should mostly be requests the bus can serve";
}

}  // namespace
}  // namespace stopcall::daemon
