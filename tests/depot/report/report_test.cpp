#include "depot/report/report.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

#include "daemon/log/event_store.hpp"
#include "tests/depot/report/two_trips.hpp"
#include "tests/routes/test_feed.hpp"

namespace stopcall::depot::report {
namespace {

using routes::testing::TempDir;
using routes::testing::write_file;

using ::stopcall::testing::report::kLog;

std::vector<std::string> log_lines(const std::string& log = kLog) {
  std::vector<std::string> out;
  std::istringstream in(log);
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) out.push_back(line);
  return out;
}

Report report_of(const std::string& log, Options options = {}) {
  Builder builder(options);
  std::size_t n = 0;
  for (const auto& line : log_lines(log))
    builder.add(line, ++n);
  return builder.finish();
}

const TripReport& trip(const Report& r, const std::string& id) {
  for (const auto& t : r.trips)
    if (t.trip_id == id) return t;
  throw std::runtime_error("no trip " + id);
}

void expect_total(const Figures& f) {
  EXPECT_EQ(f.stops, 6);
  EXPECT_EQ(f.next_stop_ok, 4);
  EXPECT_EQ(f.approaching_ok, 3);
  EXPECT_EQ(f.next_stop_late, 0);
  EXPECT_EQ(f.approaching_late, 0);
  EXPECT_EQ(f.next_stop_cut, 0);
  EXPECT_EQ(f.approaching_cut, 0);
  EXPECT_EQ(f.exterior_stops, 2);
  EXPECT_EQ(f.exterior_heard, 2);
  const KindFigures all = f.all_kinds();
  EXPECT_EQ(all.expired, 1);
  EXPECT_EQ(all.interrupted, 1);
  EXPECT_EQ(all.cancelled, 0);
  EXPECT_EQ(all.failed, 1);
  EXPECT_EQ(all.never_heard, 2);
  EXPECT_EQ(f.ramp_cycles, 1);
  EXPECT_EQ(f.ramp_alarms, 1);
  EXPECT_EQ(f.requests_served, 1);
  EXPECT_EQ(f.requests_missed, 1);
  EXPECT_EQ(f.requests_expired, 0);
  EXPECT_EQ(f.requests_dismissed, 0);
  EXPECT_EQ(f.requests_open, 0);
  EXPECT_DOUBLE_EQ(f.gps_outage_s, 65.5);
}

TEST(Report, FiguresPerTripAndInTotalAreTheHandCountedOnes) {
  const Report r = report_of(kLog);
  EXPECT_EQ(r.lines, log_lines().size());
  EXPECT_EQ(r.in_window, log_lines().size());
  EXPECT_EQ(r.unreadable, 0u);
  ASSERT_EQ(r.trips.size(), 2u);  // no "(no trip)" row: every line belongs to a trip
  EXPECT_EQ(r.trips[0].trip_id, "T1");
  EXPECT_EQ(r.trips[1].trip_id, "T2");

  const Figures& t1 = trip(r, "T1").figures;
  EXPECT_EQ(trip(r, "T1").day, "2026-03-02");
  EXPECT_EQ(t1.stops, 3);
  EXPECT_EQ(t1.next_stop_ok, 3);
  EXPECT_EQ(t1.approaching_ok, 2);
  EXPECT_EQ(t1.exterior_stops, 2);
  EXPECT_EQ(t1.exterior_heard, 2);
  EXPECT_EQ(t1.kinds.at("approaching").expired, 1);
  EXPECT_EQ(t1.kinds.at("approaching").never_heard, 1);
  EXPECT_EQ(t1.all_kinds().failures(), 1);
  EXPECT_EQ(t1.ramp_cycles, 1);
  EXPECT_EQ(t1.ramp_alarms, 1);
  EXPECT_EQ(t1.requests_served, 1);
  EXPECT_EQ(t1.requests_missed, 0);
  EXPECT_DOUBLE_EQ(t1.gps_outage_s, 45.5);

  const Figures& t2 = trip(r, "T2").figures;
  EXPECT_EQ(t2.stops, 3);
  EXPECT_EQ(t2.next_stop_ok, 1);
  EXPECT_EQ(t2.approaching_ok, 1);
  EXPECT_EQ(t2.exterior_stops, 0);
  EXPECT_EQ(t2.kinds.at("next_stop").interrupted, 1);
  EXPECT_EQ(t2.kinds.at("next_stop").never_heard, 1);
  EXPECT_EQ(t2.kinds.at("approaching").failed, 1);
  EXPECT_EQ(t2.kinds.at("repeat").announced, 1);
  EXPECT_EQ(t2.kinds.at("repeat").heard, 1);
  EXPECT_EQ(t2.ramp_cycles, 0);
  EXPECT_EQ(t2.requests_missed, 1);
  EXPECT_DOUBLE_EQ(t2.gps_outage_s, 20.0);

  expect_total(r.total);
  EXPECT_EQ(r.total.kinds.at("next_stop").announced, 5);
  EXPECT_EQ(r.total.kinds.at("next_stop").heard, 4);
  EXPECT_EQ(r.total.kinds.at("approaching").announced, 5);
  EXPECT_EQ(r.total.kinds.at("approaching").heard, 4);
  EXPECT_EQ(r.total.kinds.at("exterior_route").heard, 2);
  ASSERT_EQ(r.days.size(), 1u);
  EXPECT_EQ(r.days[0].day, "2026-03-02");
  EXPECT_EQ(r.days[0].trips, 2);
  EXPECT_EQ(r.days[0].figures.stops, 6);

  // The stops not heard, and why: T1 #2 arriving expired; T2 #1 next stop never heard;
  // T2 #2 arriving failed; T2 #3 neither announced.
  const auto& p1 = trip(r, "T1").problems;
  ASSERT_EQ(p1.size(), 1u);
  EXPECT_EQ(p1[0].stop_index, 2);
  EXPECT_EQ(p1[0].stop_id, "S2");
  EXPECT_TRUE(p1[0].next_stop_ok);
  EXPECT_EQ(p1[0].approaching_why, "expired");
  EXPECT_EQ(p1[0].text, "Next stop: Bravo <Market>");
  const auto& p2 = trip(r, "T2").problems;
  ASSERT_EQ(p2.size(), 3u);
  EXPECT_EQ(p2[0].next_stop_why, "never heard");
  EXPECT_TRUE(p2[0].approaching_ok);
  EXPECT_TRUE(p2[1].next_stop_ok);
  EXPECT_EQ(p2[1].approaching_why, "failed");
  EXPECT_EQ(p2[2].next_stop_why, "not announced");
  EXPECT_EQ(p2[2].approaching_why, "not announced");
}

TEST(Report, ServiceDaysFollowTheCitysOffset) {
  // 08:00Z is 18:00 in UTC+10 and 23:00 on 1 March in UTC-9.
  Options east;
  east.utc_offset_min = 600;
  EXPECT_EQ(report_of(kLog, east).trips[0].day, "2026-03-02");
  Options west;
  west.utc_offset_min = -9 * 60;
  const Report r = report_of(kLog, west);
  EXPECT_EQ(r.trips[0].day, "2026-03-01");
  ASSERT_EQ(r.days.size(), 1u);
  EXPECT_EQ(r.days[0].day, "2026-03-01");
}

// A Shenzhen trip at 06:30 local time is 22:30 UTC the evening before: the bus's log records its
// time zone, and the report's service day is the Shenzhen date unless told otherwise.
constexpr const char* kShenzhenMorning = R"(
{"type":"time_zone","time":"2026-03-01T20:00:00.000Z","time_zone":"Asia/Shanghai","utc_offset_min":480}
{"type":"gps_waiting","time":"2026-03-01T20:00:00.100Z","clock":"system","message":"waiting for the first fix from gpsd"}
{"type":"trip_started","time":"2026-03-01T22:30:00.000Z","trip_id":"101-WD-E-0630","stop_id":"SJZC-E","stop_sequence":1,"stop_index":0,"distance_m":0.0}
{"type":"departed","time":"2026-03-01T22:31:00.000Z","trip_id":"101-WD-E-0630","stop_id":"SJZC-E","stop_sequence":1,"stop_index":0,"distance_m":20.0}
{"type":"trip_ended","time":"2026-03-01T23:30:00.000Z","trip_id":"101-WD-E-0630","distance_m":9000.0}
)";

TEST(Report, ServiceDaysAreInTheTimeZoneTheBusRecorded) {
  EXPECT_EQ(report_of(kShenzhenMorning).trips.at(0).day, "2026-03-02");
  EXPECT_EQ(report_of(kShenzhenMorning).total.gps_outage_s, 0) << "waiting is not an outage";
  Options utc;
  utc.utc_offset_min = 0;  // told otherwise: the option wins
  EXPECT_EQ(report_of(kShenzhenMorning, utc).trips.at(0).day, "2026-03-01");
  EXPECT_NE(to_text(report_of(kShenzhenMorning)).find("Asia/Shanghai (UTC+08:00)"),
            std::string::npos);

  // From the store, with a window that starts long after the line that named the zone; and the
  // command's --from without a zone is Shenzhen time too.
  TempDir dir;
  const std::string store_path = dir / "events.db";
  {
    log::EventStore store(store_path);
    std::istringstream in(std::string(kShenzhenMorning).substr(1));
    for (std::string line; std::getline(in, line);)
      store.append(line);
  }
  Options window;
  window.from = parse_time("2026-03-02T06:00:00+08:00");
  EXPECT_EQ(build_report(store_path, window).trips.at(0).day, "2026-03-02");
  const std::string out = dir / "report.csv";
  const std::string command = std::string(STOPCALL_BINARY_DIR) + "/depot/report/stopcall-report '" +
                              store_path + "' --from 2026-03-02 --to 2026-03-03 --csv -o '" + out +
                              "'";
  ASSERT_EQ(std::system(command.c_str()), 0) << command;
  EXPECT_NE(routes::testing::read_bytes(out).find("\n101-WD-E-0630,2026-03-02,"), std::string::npos)
      << routes::testing::read_bytes(out);
}

// The demo replays a recorded morning; replayed faster than real time, announcements are cut short
// that a bus would have said whole. The report tells from the sounds' two clocks and says so.
TEST(Report, SaysWhenTheLogWasReplayedFasterThanRealTime) {
  auto sounds = [](int bus_seconds_per_real_second) {
    std::string log;
    for (int i = 0; i < 10; ++i) {
      char line[256];
      std::snprintf(line, sizeof line,
                    R"({"type":"sound","time":"2026-03-02T08:%02d:%02d.000Z","id":"x%d",)"
                    R"("output":"interior","after_ms":10,"mono_ns":%lld})",
                    i * 10 / 60, i * 10 % 60, i,
                    static_cast<long long>(i) * 10'000'000'000LL / bus_seconds_per_real_second);
      log += std::string(line) + "\n";
    }
    return log;
  };
  const Report real = report_of(sounds(1));
  ASSERT_TRUE(real.clock_speed);
  EXPECT_NEAR(*real.clock_speed, 1.0, 0.01);
  EXPECT_EQ(to_text(real).find("faster than real time"), std::string::npos);
  const Report replayed = report_of(sounds(10));
  ASSERT_TRUE(replayed.clock_speed);
  EXPECT_NEAR(*replayed.clock_speed, 10.0, 0.01);
  EXPECT_NE(to_text(replayed).find("replayed about 10 times faster than real time"),
            std::string::npos)
      << to_text(replayed);
  EXPECT_NE(to_html(replayed).find("replayed about 10 times faster"), std::string::npos);
}

TEST(Report, CsvHasTheHeaderOneRowPerTripAndTheTotal) {
  const std::string csv = to_csv(report_of(kLog));
  std::vector<std::string> rows;
  std::istringstream in(csv);
  for (std::string line; std::getline(in, line);)
    rows.push_back(line);
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0],
            "trip_id,day,stops,next_stop_ok,next_stop_share,approaching_ok,approaching_share,"
            "next_stop_late,approaching_late,next_stop_cut,approaching_cut,exterior_stops,"
            "exterior_heard,expired,interrupted,cancelled,failed,never_heard,ramp_cycles,"
            "ramp_alarms,requests_served,requests_missed,requests_expired,requests_dismissed,"
            "alighting_served,gps_outage_s");
  EXPECT_EQ(rows[1], "T1,2026-03-02,3,3,1.000,2,0.667,0,0,0,0,2,2,1,0,0,0,1,1,1,1,0,0,0,0,45.5");
  EXPECT_EQ(rows[2], "T2,2026-03-02,3,1,0.333,1,0.333,0,0,0,0,0,0,0,1,0,1,1,0,0,0,1,0,0,0,20.0");
  EXPECT_EQ(rows[3], "TOTAL,2026-03-02,6,4,0.667,3,0.500,0,0,0,0,2,2,1,1,0,1,2,1,1,1,1,0,0,0,65.5");
}

TEST(Report, HtmlIsSelfContainedWithTheChartAndEscapesText) {
  const std::string html = to_html(report_of(kLog));
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(html.find("<svg xmlns=\"http://www.w3.org/2000/svg\""), std::string::npos);
  EXPECT_NE(html.find("</svg>"), std::string::npos);
  EXPECT_NE(html.find("<style>"), std::string::npos);
  // The chart's bars: T1's next stop is 100 % of the 420 px bar, T2's arriving a third of it.
  EXPECT_NE(html.find("width=\"420\" height=\"14\" class=\"next\""), std::string::npos);
  EXPECT_NE(html.find("width=\"140\" height=\"14\" class=\"arr\""), std::string::npos);
  // The stop name with '<' and '>' appears escaped, never raw.
  EXPECT_NE(html.find("Next stop: Bravo &lt;Market&gt;"), std::string::npos);
  EXPECT_EQ(html.find("Bravo <Market>"), std::string::npos);
  // Nothing fetched from elsewhere.
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("<link"), std::string::npos);
  EXPECT_EQ(html.find("src="), std::string::npos);
}

TEST(Report, TextSummaryStatesTheFigures) {
  const std::string text = to_text(report_of(kLog));
  EXPECT_NE(text.find("stops served or passed  6\n"), std::string::npos) << text;
  EXPECT_NE(text.find("next stop heard         4 of 6 (66.7 %)"), std::string::npos) << text;
  EXPECT_NE(text.find("arriving heard          3 of 6 (50.0 %)"), std::string::npos) << text;
  EXPECT_NE(text.find("GPS outage              65.5 s"), std::string::npos) << text;
  EXPECT_NE(text.find("T2 #3 S6: next stop: not announced; arriving: not announced"),
            std::string::npos)
      << text;
}

TEST(Report, TheSameFiguresFromAnEventStore) {
  TempDir dir;
  const std::string store_path = dir / "events.db";
  {
    log::EventStore store(store_path);
    for (const auto& line : log_lines())
      store.append(line);
  }
  const std::string jsonl_path = dir / "events.jsonl";
  write_file(jsonl_path, std::string(kLog).substr(1));

  const Report from_store = build_report(store_path, {});
  const Report from_file = build_report(jsonl_path, {});
  EXPECT_EQ(from_store.format, "event store");
  EXPECT_EQ(from_file.format, "JSON lines");
  expect_total(from_store.total);
  expect_total(from_file.total);
  EXPECT_EQ(to_csv(from_store), to_csv(from_file));

  // The window through SQL: from 08:10 only T2 is left.
  Options options;
  options.from = parse_time("2026-03-02T08:10:00Z");
  const Report late = build_report(store_path, options);
  ASSERT_EQ(late.trips.size(), 1u);
  EXPECT_EQ(late.trips[0].trip_id, "T2");
  EXPECT_EQ(late.total.stops, 3);
}

TEST(Report, TheWindowExcludesLinesOutsideIt) {
  // [08:10, end): T2 only, its 26 lines from trip_started at 08:10:00.000.
  Options from;
  from.from = parse_time("2026-03-02T08:10:00Z");
  const Report late = report_of(kLog, from);
  EXPECT_EQ(late.in_window, 26u);
  EXPECT_EQ(late.lines, log_lines().size());
  ASSERT_EQ(late.trips.size(), 1u);
  EXPECT_EQ(late.trips[0].trip_id, "T2");
  EXPECT_EQ(late.total.stops, 3);
  EXPECT_EQ(late.total.ramp_cycles, 0);
  EXPECT_EQ(late.total.requests_missed, 1);
  EXPECT_DOUBLE_EQ(late.total.gps_outage_s, 20.0);

  // [start, 08:02:30): T1 up to the middle of its GPS outage: stop 1 only (stop 2 was announced
  // but not reached). An outage still open counts up to the last line in the window, which here
  // is gps_lost itself (08:02:10): 0 s.
  Options to;
  to.to = parse_time("2026-03-02T08:02:30Z");
  const Report early = report_of(kLog, to);
  ASSERT_EQ(early.trips.size(), 1u);
  EXPECT_EQ(early.trips[0].trip_id, "T1");
  EXPECT_EQ(early.total.stops, 1);
  EXPECT_EQ(early.total.next_stop_ok, 1);
  EXPECT_EQ(early.total.approaching_ok, 1);
  EXPECT_EQ(early.total.ramp_cycles, 0);
  EXPECT_EQ(early.total.requests_served, 0);
  EXPECT_EQ(early.total.requests_open, 1);  // req-1 was still pending at 08:02:30
  EXPECT_DOUBLE_EQ(early.total.gps_outage_s, 0.0);
}

TEST(Report, GarbageLinesAreCountedAndSkipped) {
  std::string log = kLog;
  log.insert(log.find("{\"type\":\"trip_started\",\"time\":\"2026-03-02T08:10"),
             "this is not JSON \x01\xff\n"
             "{\"type\":\"sound\",\"time\":\"2026-03-02T08:0\n"  // cut off mid-line
             "[1,2,3]\n"
             "{\"type\":\"signal\",\"time\":\"yesterday\"}\n");
  const Report r = report_of(log);
  EXPECT_EQ(r.unreadable, 4u);
  ASSERT_EQ(r.unreadable_examples.size(), 4u);
  EXPECT_EQ(r.unreadable_examples[0].why, "not JSON");
  EXPECT_EQ(r.unreadable_examples[0].excerpt, "this is not JSON ??");  // printable, valid UTF-8
  EXPECT_EQ(r.unreadable_examples[0].number, 48u);  // the line number in the file
  EXPECT_EQ(r.unreadable_examples[1].why, "not JSON");
  EXPECT_EQ(r.unreadable_examples[2].why, "not a JSON object");
  EXPECT_EQ(r.unreadable_examples[3].why, "no readable \"time\"");
  expect_total(r.total);  // the readable lines give the same figures
  EXPECT_NE(to_text(r).find("4 unreadable (skipped)"), std::string::npos);
  EXPECT_NE(to_html(r).find("Unreadable lines"), std::string::npos);
}

// A line of a kind the daemon writes (daemon/log/records.hpp) with a field of the wrong type is not
// guessed at: it is unreadable, and the rest of the log gives the same figures.
TEST(Report, ARecordWithAFieldOfTheWrongTypeIsUnreadable) {
  std::string log = kLog;
  log += R"({"type":"sound","time":"2026-03-02T08:20:00.000Z","id":7,"output":"interior"})"
         "\n"
         R"({"type":"time_zone","time":"2026-03-02T08:20:01.000Z","time_zone":"Asia/Shanghai"})"
         "\n";
  const Report r = report_of(log);
  EXPECT_EQ(r.unreadable, 2u);
  ASSERT_EQ(r.unreadable_examples.size(), 2u);
  EXPECT_EQ(r.unreadable_examples[0].why, "a field missing or of the wrong type");
  EXPECT_TRUE(r.zones.empty());
  expect_total(r.total);
}

TEST(Report, LateAndCutShortAnnouncementsAreHeardButCountedApart) {
  // Stop 1: the next-stop announcement sounds only after the bus arrived (late); the arriving
  // one sounds, then expires between segments (cut short).
  const std::string log = R"(
{"type":"trip_started","time":"2026-03-02T09:00:00.000Z","trip_id":"T9","stop_id":"A","stop_index":0}
{"type":"next_stop","time":"2026-03-02T09:00:30.000Z","trip_id":"T9","stop_id":"B","stop_index":1}
{"type":"announcement","time":"2026-03-02T09:00:30.010Z","id":"T9:1:next_stop","kind":"next_stop","outputs":["interior"]}
{"type":"announcement","time":"2026-03-02T09:01:00.010Z","id":"T9:1:approaching","kind":"approaching","outputs":["interior"]}
{"type":"sound","time":"2026-03-02T09:01:01.000Z","id":"T9:1:approaching","output":"interior"}
{"type":"announcement_result","time":"2026-03-02T09:01:05.000Z","id":"T9:1:approaching","output":"interior","outcome":"expired"}
{"type":"arrived","time":"2026-03-02T09:01:10.000Z","trip_id":"T9","stop_id":"B","stop_index":1}
{"type":"sound","time":"2026-03-02T09:01:20.000Z","id":"T9:1:next_stop","output":"interior"}
)";
  const Report r = report_of(log);
  const Figures& f = r.total;
  EXPECT_EQ(f.stops, 1);
  EXPECT_EQ(f.next_stop_ok, 1);
  EXPECT_EQ(f.next_stop_late, 1);
  EXPECT_EQ(f.next_stop_cut, 0);
  EXPECT_EQ(f.approaching_ok, 1);
  EXPECT_EQ(f.approaching_late, 0);
  EXPECT_EQ(f.approaching_cut, 1);
  EXPECT_EQ(f.kinds.at("approaching").expired, 1);
  EXPECT_EQ(f.kinds.at("approaching").never_heard, 0);
}

TEST(Report, TheSameTripIdOnTwoDaysIsTwoTrips) {
  std::string next_day;
  for (const auto& line : log_lines()) {
    std::string copy = line;
    for (auto at = copy.find("2026-03-02T"); at != std::string::npos;
         at = copy.find("2026-03-02T", at))
      copy.replace(at, 10, "2026-03-03");
    next_day += copy + "\n";
  }
  const Report r = report_of(std::string(kLog) + next_day);
  ASSERT_EQ(r.trips.size(), 4u);
  EXPECT_EQ(r.trips[2].trip_id, "T1");
  EXPECT_EQ(r.trips[2].day, "2026-03-03");
  ASSERT_EQ(r.days.size(), 2u);
  EXPECT_EQ(r.days[1].figures.stops, 6);
  EXPECT_EQ(r.total.stops, 12);
  EXPECT_EQ(r.total.next_stop_ok, 8);
  // The daemon numbers requests from req-1 again after a restart: a new request, not the old one.
  EXPECT_EQ(r.total.requests_served, 2);
  EXPECT_EQ(r.total.requests_missed, 2);
  EXPECT_DOUBLE_EQ(r.total.gps_outage_s, 131.0);
}

// Route data out of date, a GPIO line missing: the depot sees what to put right, in the text and
// the HTML.
TEST(Report, FaultsTheBusLoggedAreListed) {
  const std::string log =
      R"({"type":"route_data_not_valid","time":"2029-03-05T22:30:00.000Z","trip_id":"",)"
      R"x("distance_m":0.0,"note":"route data not valid today (service ends 2027-12-31)"})x"
      "\n"
      R"({"type":"fault","time":"2029-03-05T22:30:01.000Z","kind":"gpio_unavailable",)"
      R"("message":"no gpiochip0"})"
      "\n";
  const Report r = report_of(log);
  ASSERT_EQ(r.fault_count, 2u);
  EXPECT_EQ(r.faults[0], (Fault{"2029-03-05T22:30:00.000Z", "route_data_not_valid",
                                "route data not valid today (service ends 2027-12-31)"}));
  EXPECT_EQ(r.faults[1].kind, "gpio_unavailable");
  EXPECT_THAT(to_text(r),
              ::testing::HasSubstr("route_data_not_valid: route data not valid today (service ends "
                                   "2027-12-31)"));
  EXPECT_THAT(to_html(r), ::testing::HasSubstr("Faults the bus logged"));
}

TEST(Report, ParsesIsoTimes) {
  const auto base = parse_time("2026-03-02T08:10:00.000Z");
  ASSERT_TRUE(base);
  EXPECT_EQ(format_time(*base), "2026-03-02T08:10:00.000Z");
  EXPECT_EQ(parse_time("2026-03-02T08:10Z"), base);
  EXPECT_EQ(parse_time("2026-03-02 08:10:00Z"), base);
  EXPECT_EQ(parse_time("2026-03-02T16:10:00+08:00"), base);
  EXPECT_EQ(parse_time("2026-03-02T16:10:00+0800"), base);
  EXPECT_EQ(parse_time("2026-03-02T16:10", 480), base);  // no zone: local at the offset
  EXPECT_EQ(format_time(*parse_time("2026-03-02T08:10:00.5Z")), "2026-03-02T08:10:00.500Z");
  EXPECT_EQ(format_time(*parse_time("2026-03-02")), "2026-03-02T00:00:00.000Z");
  EXPECT_FALSE(parse_time(""));
  EXPECT_FALSE(parse_time("2026-02-30"));
  EXPECT_FALSE(parse_time("2026-03-02T25:00Z"));
  EXPECT_FALSE(parse_time("2026-03-02T08:10:00Zjunk"));
  EXPECT_FALSE(parse_time("yesterday"));
}

// The command end to end: CSV to a file, the unreadable count on stderr, bad times refused.
TEST(Report, TheCommandWritesCsvAndReportsUnreadableLines) {
  TempDir dir;
  const std::string log = dir / "events.jsonl";
  write_file(log, std::string(kLog).substr(1) + "garbage\n");
  const std::string out = dir / "report.csv";
  const std::string err = dir / "err.txt";
  const std::string command = std::string(STOPCALL_BINARY_DIR) + "/depot/report/stopcall-report '" +
                              log + "' --csv -o '" + out + "' 2>'" + err + "'";
  ASSERT_EQ(std::system(command.c_str()), 0) << command;
  const std::string csv = routes::testing::read_bytes(out);
  EXPECT_EQ(csv.rfind("trip_id,day,stops,", 0), 0u) << csv;
  EXPECT_NE(csv.find("\nTOTAL,2026-03-02,6,4,0.667,"), std::string::npos) << csv;
  EXPECT_NE(routes::testing::read_bytes(err).find("1 unreadable line skipped (first: line 74"),
            std::string::npos)
      << routes::testing::read_bytes(err);

  const std::string bad = std::string(STOPCALL_BINARY_DIR) + "/depot/report/stopcall-report '" +
                          log + "' --from tomorrow 2>/dev/null >/dev/null";
  const int status = std::system(bad.c_str());
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 2) << status;
}

}  // namespace
}  // namespace stopcall::depot::report
