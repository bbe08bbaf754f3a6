// Judging records without a log: the verdict for one stop and the figures of hand-made records.
#include "depot/report/judge.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

namespace stopcall::depot::report {
namespace {

using std::chrono::seconds;

// 2026-03-02T08:00:00Z
const Time kT0 = *parse_time("2026-03-02T08:00:00Z");

Announcement heard_at(Time t, std::string outcome = "finished") {
  Announcement a;
  a.heard_interior = t;
  a.inside_outcome = std::move(outcome);
  if (a.inside_outcome != "finished") a.outcomes.insert(a.inside_outcome);
  return a;
}

TEST(Judge, NothingMadeIsNotAnnounced) {
  const Verdict v = judge({}, kT0);
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.why, "not announced");
}

TEST(Judge, HeardBeforeTheStopIsOnTimeAfterItIsLate) {
  Announcement early = heard_at(kT0 - seconds(30));
  early.text = "Next stop: Alpha";
  const Verdict on_time = judge({&early}, kT0);
  EXPECT_TRUE(on_time.ok);
  EXPECT_FALSE(on_time.late);
  EXPECT_FALSE(on_time.cut);
  EXPECT_EQ(on_time.text, "Next stop: Alpha");

  const Announcement after = heard_at(kT0 + seconds(2));
  EXPECT_TRUE(judge({&after}, kT0).late);
  // The first copy heard decides: a repeat heard late does not make it late.
  EXPECT_FALSE(judge({&after, &early}, kT0).late);
}

TEST(Judge, EndedShortIsCutUnlessAHeardCopyFinished) {
  const Announcement expired = heard_at(kT0 - seconds(5), "expired");
  const Verdict cut = judge({&expired}, kT0);
  EXPECT_TRUE(cut.ok);
  EXPECT_TRUE(cut.cut);
  const Announcement finished = heard_at(kT0 - seconds(20));
  EXPECT_FALSE(judge({&expired, &finished}, kT0).cut);
}

TEST(Judge, NotHeardSaysWhy) {
  Announcement dropped;
  dropped.outcomes = {"expired", "interrupted"};
  EXPECT_EQ(judge({&dropped}, kT0).why, "expired, interrupted");

  const Announcement silent{};
  EXPECT_EQ(judge({&silent}, kT0).why, "never heard");

  // A sound after a failure inside does not count as heard.
  Announcement failed = heard_at(kT0 - seconds(5));
  failed.failed_inside_first = true;
  const Verdict v = judge({&failed}, kT0);
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.why, "failed");
}

TEST(Judge, RequestsCountByKindAndLastFate) {
  Figures f;
  for (const char* fate : {"served", "missed", "expired", "dismissed", "pending", "shown"})
    count_request(f, {"wheelchair", fate, 0});
  count_request(f, {"wheelchair_alighting", "served", 0});
  count_request(f, {"wheelchair_alighting", "missed", 0});
  count_request(f, {"wheelchair_alighting", "pending", 0});
  EXPECT_EQ(f.requests_served, 1);
  EXPECT_EQ(f.requests_missed, 1);
  EXPECT_EQ(f.requests_expired, 1);
  EXPECT_EQ(f.requests_dismissed, 1);
  EXPECT_EQ(f.requests_open, 2);
  EXPECT_EQ(f.alighting_served, 1);
  EXPECT_EQ(f.alighting_missed, 1);
}

// One trip of three stops: 0 (start), 1 (both announcements heard, doors opened, route heard
// outside), 2 (the terminus: next stop heard, arriving expired unheard).
Records one_trip() {
  Records r;
  Trip trip;
  trip.trip_id = "T1";
  trip.first = kT0;
  trip.last = kT0 + seconds(300);
  trip.ended = true;
  trip.reached = {{1, kT0 + seconds(100)}, {2, kT0 + seconds(300)}};
  trip.stop_ids = {{1, "S1"}, {2, "S2"}};
  trip.visited = {0, 1, 2};
  trip.ended_at = 2;
  trip.outage_since = kT0 + seconds(250);  // still lost at the end of the window
  trip.ramp_cycles = 1;
  r.trips.push_back(trip);

  auto add = [&](std::string kind, std::string what, int index, Announcement a) {
    a.trip = 1;
    a.kind = std::move(kind);
    a.what = std::move(what);
    if (index >= 0) a.stop_index = index;
    r.trips[1].announcements.push_back(r.announcements.size());
    r.announcements.push_back(std::move(a));
  };
  add("next_stop", "next_stop", 1, heard_at(kT0 + seconds(10)));
  add("approaching", "approaching", 1, heard_at(kT0 + seconds(90)));
  Announcement outside;
  outside.at_stop = 1;
  outside.heard_exterior = kT0 + seconds(105);
  add("exterior_route", "", -1, outside);
  add("next_stop", "next_stop", 2, heard_at(kT0 + seconds(150)));
  Announcement expired;
  expired.text = "Arriving at Bravo";
  expired.outcomes = {"expired"};
  add("approaching", "approaching", 2, expired);

  r.requests.push_back({"wheelchair", "served", 1});
  r.last_line = kT0 + seconds(310);
  r.clock_ratios = {1.0, 10.0, 9.0, 11.0, 10.5};
  return r;
}

TEST(Judge, FiguresOfATripFromItsRecords) {
  Report report;
  judge_records(one_trip(), report);
  ASSERT_EQ(report.trips.size(), 1u);  // no lines before the trip: no "(no trip)" row
  const TripReport& t = report.trips[0];
  EXPECT_EQ(t.trip_id, "T1");
  EXPECT_EQ(t.day, "2026-03-02");
  const Figures& f = t.figures;
  EXPECT_EQ(f.stops, 2);
  EXPECT_EQ(f.next_stop_ok, 2);
  EXPECT_EQ(f.approaching_ok, 1);
  EXPECT_EQ(f.exterior_stops, 2);  // stops 0 and 1; not the terminus
  EXPECT_EQ(f.exterior_heard, 1);
  EXPECT_EQ(f.kinds.at("approaching").announced, 2);
  EXPECT_EQ(f.kinds.at("approaching").expired, 1);
  EXPECT_EQ(f.kinds.at("approaching").never_heard, 1);
  EXPECT_EQ(f.ramp_cycles, 1);
  EXPECT_EQ(f.requests_served, 1);
  EXPECT_DOUBLE_EQ(f.gps_outage_s, 60.0);
  ASSERT_EQ(t.problems.size(), 1u);
  EXPECT_EQ(t.problems[0].stop_index, 2);
  EXPECT_EQ(t.problems[0].stop_id, "S2");
  EXPECT_TRUE(t.problems[0].next_stop_ok);
  EXPECT_EQ(t.problems[0].approaching_why, "expired");
  EXPECT_EQ(t.problems[0].text, "Arriving at Bravo");

  EXPECT_EQ(report.total.stops, 2);
  ASSERT_EQ(report.days.size(), 1u);
  EXPECT_EQ(report.days[0].trips, 1);
  ASSERT_TRUE(report.clock_speed);
  EXPECT_DOUBLE_EQ(*report.clock_speed, 10.0);  // the median
}

TEST(Judge, ServiceDayAtTheGivenOffsetElseTheRecordedZone) {
  Records late = one_trip();
  late.trips[1].first = *parse_time("2026-03-02T20:00:00Z");
  Report recorded;
  recorded.zones = {{kT0, "Asia/Shanghai", 480}};
  judge_records(late, recorded);
  EXPECT_EQ(recorded.trips.at(0).day, "2026-03-03");

  Report given;
  given.zones = recorded.zones;
  given.options.utc_offset_min = -300;
  judge_records(late, given);
  EXPECT_EQ(given.trips.at(0).day, "2026-03-02");
}

}  // namespace
}  // namespace stopcall::depot::report
