// The report's messages section: what a controller reads about the emergency and service
// messages a bus gave, from an event log written the way the daemon writes it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include "depot/report/report.hpp"
#include "tests/routes/test_feed.hpp"

namespace stopcall::depot::report {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// One trip. At 08:00:40 the driver sends the "evacuate" emergency from the console: the stop
// announcement in the voice is held, the emergency is said (tone, then words), heard inside after
// 0.3 s and outside after 1.5 s, said again at 08:01:15, acknowledged by the driver at 08:01:30,
// cancelled from the control socket at 08:02:00. At 08:03:00 the control socket sends a service
// message (a detour) in Mandarin and English only (no Cantonese), inside only: heard after 2.5 s,
// said again at the next departure, expired at 08:33:00. At 08:04:00 the console asks for a
// preset the route data lacks: refused.
constexpr const char* kLog = R"(
{"type":"trip_started","time":"2026-03-02T08:00:00.000Z","trip_id":"T1","stop_id":"S0","stop_sequence":1,"stop_index":0,"distance_m":0.0}
{"type":"departed","time":"2026-03-02T08:00:30.000Z","trip_id":"T1","stop_id":"S0","stop_sequence":1,"stop_index":0,"distance_m":10.0}
{"type":"next_stop","time":"2026-03-02T08:00:30.000Z","trip_id":"T1","stop_id":"S1","stop_sequence":2,"stop_index":1,"distance_m":10.0}
{"type":"announcement","time":"2026-03-02T08:00:30.020Z","id":"T1:1:next_stop","kind":"next_stop","priority":"stop","outputs":["interior"],"languages":["en"],"segments":["chime","speech"],"text":{"en":"Next stop: Alpha"}}
{"type":"message","time":"2026-03-02T08:00:40.000Z","id":"evacuate-1","event":"sent","kind":"emergency","source":"console","preset":"evacuate","languages":["zh-Hans","yue","en"]}
{"type":"held","time":"2026-03-02T08:00:40.000Z","id":"T1:1:next_stop","why":"an emergency message is on"}
{"type":"announcement","time":"2026-03-02T08:00:40.000Z","id":"msg:evacuate-1:1:tone","kind":"emergency_message","priority":"safety","outputs":["interior","exterior"],"segments":["chime","chime"],"trip_id":"T1"}
{"type":"announcement","time":"2026-03-02T08:00:40.000Z","id":"msg:evacuate-1:1","kind":"emergency_message","priority":"safety","outputs":["interior","exterior"],"languages":["zh-Hans","yue","en"],"segments":["speech","silence","speech","silence","speech"],"text":{"zh-Hans":"请立即下车","yue":"請即落車","en":"Please leave the bus <now>"},"trip_id":"T1"}
{"type":"message","time":"2026-03-02T08:00:40.000Z","id":"evacuate-1","event":"said","kind":"emergency","source":"console","preset":"evacuate","times":1}
{"type":"sound","time":"2026-03-02T08:00:40.300Z","id":"msg:evacuate-1:1:tone","output":"interior","after_ms":300.0}
{"type":"message","time":"2026-03-02T08:00:40.300Z","id":"evacuate-1","event":"heard","kind":"emergency","source":"console","preset":"evacuate","output":"interior"}
{"type":"sound","time":"2026-03-02T08:00:41.500Z","id":"msg:evacuate-1:1:tone","output":"exterior","after_ms":1500.0}
{"type":"message","time":"2026-03-02T08:00:41.500Z","id":"evacuate-1","event":"heard","kind":"emergency","source":"console","preset":"evacuate","output":"exterior"}
{"type":"announcement_result","time":"2026-03-02T08:00:45.000Z","id":"msg:evacuate-1:1","output":"interior","outcome":"finished"}
{"type":"announcement_result","time":"2026-03-02T08:00:45.000Z","id":"msg:evacuate-1:1","output":"exterior","outcome":"finished"}
{"type":"announcement","time":"2026-03-02T08:01:15.000Z","id":"msg:evacuate-1:2:tone","kind":"emergency_message","priority":"safety","outputs":["interior","exterior"],"segments":["chime","chime"],"trip_id":"T1"}
{"type":"announcement","time":"2026-03-02T08:01:15.000Z","id":"msg:evacuate-1:2","kind":"emergency_message","priority":"safety","outputs":["interior","exterior"],"languages":["zh-Hans","yue","en"],"segments":["speech","silence","speech","silence","speech"],"text":{"zh-Hans":"请立即下车","yue":"請即落車","en":"Please leave the bus <now>"},"trip_id":"T1"}
{"type":"message","time":"2026-03-02T08:01:15.000Z","id":"evacuate-1","event":"said","kind":"emergency","source":"console","preset":"evacuate","times":2}
{"type":"approaching","time":"2026-03-02T08:01:20.000Z","trip_id":"T1","stop_id":"S1","stop_sequence":2,"stop_index":1,"distance_m":480.0}
{"type":"held","time":"2026-03-02T08:01:20.000Z","id":"T1:1:approaching","why":"an emergency message is on"}
{"type":"message","time":"2026-03-02T08:01:30.000Z","id":"evacuate-1","event":"acknowledged","kind":"emergency","source":"console","preset":"evacuate","note":"console"}
{"type":"message","time":"2026-03-02T08:02:00.000Z","id":"evacuate-1","event":"cancelled","kind":"emergency","source":"console","preset":"evacuate","note":"control"}
{"type":"arrived","time":"2026-03-02T08:02:30.000Z","trip_id":"T1","stop_id":"S1","stop_sequence":2,"stop_index":1,"distance_m":500.0}
{"type":"held","time":"2026-03-02T08:02:40.000Z","id":"T1:1:next_stop:repeat1","why":"the ramp is out"}
{"type":"message","time":"2026-03-02T08:03:00.000Z","id":"detour-7","event":"sent","kind":"service","source":"control","languages":["zh-Hans","en"],"missing":["yue"]}
{"type":"announcement","time":"2026-03-02T08:03:00.000Z","id":"msg:detour-7:1","kind":"service_message","priority":"information","outputs":["interior"],"languages":["zh-Hans","en"],"segments":["speech","silence","speech"],"text":{"zh-Hans":"本车改道","en":"This bus is on a detour"},"trip_id":"T1"}
{"type":"message","time":"2026-03-02T08:03:00.000Z","id":"detour-7","event":"said","kind":"service","source":"control","times":1}
{"type":"sound","time":"2026-03-02T08:03:02.500Z","id":"msg:detour-7:1","output":"interior","after_ms":2500.0}
{"type":"message","time":"2026-03-02T08:03:02.500Z","id":"detour-7","event":"heard","kind":"service","source":"control","output":"interior"}
{"type":"message","time":"2026-03-02T08:04:00.000Z","id":"","event":"refused","kind":"","source":"console","preset":"flood","note":"no such preset in the route data"}
{"type":"departed","time":"2026-03-02T08:05:00.000Z","trip_id":"T1","stop_id":"S1","stop_sequence":2,"stop_index":1,"distance_m":510.0}
{"type":"announcement","time":"2026-03-02T08:05:00.000Z","id":"msg:detour-7:2","kind":"service_message","priority":"information","outputs":["interior"],"languages":["zh-Hans","en"],"segments":["speech","silence","speech"],"text":{"zh-Hans":"本车改道","en":"This bus is on a detour"},"trip_id":"T1"}
{"type":"message","time":"2026-03-02T08:05:00.000Z","id":"detour-7","event":"said","kind":"service","source":"control","times":2}
{"type":"message","time":"2026-03-02T08:33:00.000Z","id":"detour-7","event":"expired","kind":"service","source":"control"}
)";

Report report_of(const std::string& log, Options options = {}) {
  Builder builder(options);
  std::istringstream in(log);
  std::size_t n = 0;
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) builder.add(line, ++n);
  return builder.finish();
}

const MessageReport& message(const Report& r, const std::string& id) {
  for (const auto& m : r.messages.messages)
    if (m.id == id) return m;
  throw std::runtime_error("no message " + id);
}

TEST(Messages, EachMessageWithWhenItWasHeardAndHowItEnded) {
  const Report r = report_of(kLog);
  EXPECT_EQ(r.unreadable, 0u);
  ASSERT_EQ(r.messages.messages.size(), 2u);

  const MessageReport& evacuate = message(r, "evacuate-1");
  EXPECT_EQ(evacuate.kind, "emergency");
  EXPECT_EQ(evacuate.source, "console");
  EXPECT_EQ(evacuate.preset, "evacuate");
  EXPECT_EQ(evacuate.sent, "2026-03-02T08:00:40.000Z");
  EXPECT_TRUE(evacuate.to_interior);
  EXPECT_TRUE(evacuate.to_exterior);
  ASSERT_TRUE(evacuate.heard_interior_s);
  EXPECT_DOUBLE_EQ(*evacuate.heard_interior_s, 0.3);
  ASSERT_TRUE(evacuate.heard_exterior_s);
  EXPECT_DOUBLE_EQ(*evacuate.heard_exterior_s, 1.5);
  EXPECT_EQ(evacuate.said, 2);
  EXPECT_TRUE(evacuate.acknowledged);
  EXPECT_EQ(evacuate.acknowledged_by, "console");
  EXPECT_DOUBLE_EQ(evacuate.acknowledged_s.value_or(-1), 50.0);
  EXPECT_EQ(evacuate.end, "cancelled");
  EXPECT_EQ(evacuate.ended_by, "control");
  EXPECT_DOUBLE_EQ(evacuate.lasted_s.value_or(-1), 80.0);
  EXPECT_EQ(evacuate.languages, (std::vector<std::string>{"zh-Hans", "yue", "en"}));
  EXPECT_TRUE(evacuate.missing.empty());

  const MessageReport& detour = message(r, "detour-7");
  EXPECT_EQ(detour.kind, "service");
  EXPECT_EQ(detour.source, "control");
  EXPECT_EQ(detour.preset, "");
  EXPECT_TRUE(detour.to_interior);
  EXPECT_FALSE(detour.to_exterior);  // a service message goes inside only
  EXPECT_DOUBLE_EQ(detour.heard_interior_s.value_or(-1), 2.5);
  EXPECT_FALSE(detour.heard_exterior);
  EXPECT_EQ(detour.said, 2);
  EXPECT_FALSE(detour.acknowledged);
  EXPECT_EQ(detour.end, "expired");
  EXPECT_DOUBLE_EQ(detour.lasted_s.value_or(-1), 1800.0);
  EXPECT_EQ(detour.languages, (std::vector<std::string>{"zh-Hans", "en"}));
  EXPECT_EQ(detour.missing, (std::vector<std::string>{"yue"}));
}

TEST(Messages, TheFiguresAControllerReadsFirst) {
  const MessageFigures f = report_of(kLog).messages;
  EXPECT_EQ(f.by_kind.at("emergency").at("console"), 1);
  EXPECT_EQ(f.by_kind.at("service").at("control"), 1);
  EXPECT_EQ(f.emergencies, 1);
  EXPECT_EQ(f.emergencies_heard_both, 1);
  EXPECT_EQ(f.never_heard, 0);
  ASSERT_TRUE(f.slowest_s);
  EXPECT_DOUBLE_EQ(*f.slowest_s, 2.5);
  EXPECT_EQ(f.slowest_id, "detour-7");
  EXPECT_EQ(f.slowest_output, "interior");
  ASSERT_EQ(f.refused.size(), 1u);
  EXPECT_EQ(f.refused[0], (MessageRefusal{"2026-03-02T08:04:00.000Z", "", "", "console", "flood",
                                          "no such preset in the route data"}));
  EXPECT_EQ(f.refused_by_reason.at("no such preset in the route data"), 1);
  EXPECT_EQ(f.stops_held, 2);  // the next stop and the arriving; not the one held for the ramp
}

TEST(Messages, TextHtmlAndCsvSayTheSame) {
  const Report r = report_of(kLog);
  const std::string text = to_text(r);
  EXPECT_THAT(text, HasSubstr("Emergency and service messages\n"));
  EXPECT_THAT(text, HasSubstr("messages sent                             emergency 1 (console 1); "
                              "service 1 (control 1)\n"));
  EXPECT_THAT(text, HasSubstr("emergencies heard inside and outside      1 of 1 (100.0 %)\n"));
  EXPECT_THAT(text,
              HasSubstr("slowest sent -> first heard               2.5 s (detour-7, interior)"));
  EXPECT_THAT(text, HasSubstr("refused                                   1: no such preset in the "
                              "route data (1)"));
  EXPECT_THAT(text, HasSubstr("stop announcements held for an emergency  2\n"));
  EXPECT_THAT(text, HasSubstr("cancelled (control) after 80.0 s"));
  EXPECT_THAT(text, HasSubstr("expired after 1800.0 s"));
  EXPECT_THAT(text, HasSubstr("after 50.0 s (console)"));
  EXPECT_THAT(text, HasSubstr("refused 2026-03-02T08:04:00.000Z (no id) (console, preset flood): "
                              "no such preset in the route data"));

  const std::string html = to_html(r);
  EXPECT_THAT(html, HasSubstr("<h2>Emergency and service messages</h2>"));
  EXPECT_THAT(html, HasSubstr("<td>evacuate-1</td><td>emergency</td><td>console</td>"
                              "<td>evacuate</td><td>2026-03-02T08:00:40.000Z</td><td>0.3 s</td>"
                              "<td>1.5 s</td><td>2</td><td>after 50.0 s (console)</td>"));
  // The detour went inside only: outside is "–", not "not heard".
  EXPECT_THAT(html, HasSubstr("<td>2.5 s</td><td>–</td>"));
  EXPECT_THAT(html, HasSubstr("<td>zh-Hans, en</td><td>yue</td>"));
  EXPECT_THAT(html, HasSubstr("Messages refused"));

  const std::string csv = to_messages_csv(r);
  EXPECT_EQ(csv,
            "message_id,kind,source,preset,sent,heard_interior_s,heard_exterior_s,said,"
            "acknowledged_s,acknowledged_by,end,note,lasted_s,languages,missing\n"
            "evacuate-1,emergency,console,evacuate,2026-03-02T08:00:40.000Z,0.3,1.5,2,50.0,console,"
            "cancelled,control,80.0,zh-Hans yue en,\n"
            "detour-7,service,control,,2026-03-02T08:03:00.000Z,2.5,,2,,,expired,,1800.0,"
            "zh-Hans en,yue\n"
            ",,console,flood,2026-03-02T08:04:00.000Z,,,0,,,refused,"
            "no such preset in the route data,,,\n");
  // The trips' CSV, which the fleet spreadsheet reads, keeps its columns.
  EXPECT_EQ(to_csv(r).rfind("trip_id,day,stops,", 0), 0u);
}

TEST(Messages, AWindowShowsWhatWasSentBeforeItAndWhatIsStillActive) {
  // From 08:01:00: the emergency was sent before the window; until 08:04:00 the detour has not
  // expired yet.
  Options window;
  window.from = parse_time("2026-03-02T08:01:00Z");
  window.to = parse_time("2026-03-02T08:04:00Z");
  const Report r = report_of(kLog, window);
  ASSERT_EQ(r.messages.messages.size(), 2u);
  const MessageReport& evacuate = message(r, "evacuate-1");
  EXPECT_EQ(evacuate.sent, "");
  EXPECT_EQ(evacuate.kind, "emergency");
  EXPECT_EQ(evacuate.said, 2);  // its second saying is the one in the window
  EXPECT_FALSE(evacuate.heard_interior);
  EXPECT_FALSE(evacuate.acknowledged_s);  // acknowledged, but how long after is not known
  EXPECT_TRUE(evacuate.acknowledged);
  EXPECT_EQ(evacuate.end, "cancelled");
  const MessageReport& detour = message(r, "detour-7");
  EXPECT_EQ(detour.end, "active");
  EXPECT_EQ(r.messages.refused.size(), 0u);
  EXPECT_EQ(r.messages.stops_held, 1);
  const std::string text = to_text(r);
  EXPECT_THAT(text, HasSubstr("before the window"));
  EXPECT_THAT(text, HasSubstr("still active at the end of the log"));
}

TEST(Messages, AnIdUsedAgainAfterItEndedIsAnotherMessage) {
  // The emergency input sends "evacuate-signal" each time it comes on.
  const std::string log = R"(
{"type":"message","time":"2026-03-02T08:00:00.000Z","id":"evacuate-signal","event":"sent","kind":"emergency","source":"signal","preset":"evacuate","languages":["en"]}
{"type":"message","time":"2026-03-02T08:00:01.000Z","id":"evacuate-signal","event":"heard","kind":"emergency","source":"signal","preset":"evacuate","output":"interior"}
{"type":"message","time":"2026-03-02T08:00:30.000Z","id":"evacuate-signal","event":"cancelled","kind":"emergency","source":"signal","preset":"evacuate","note":"console"}
{"type":"message","time":"2026-03-02T09:00:00.000Z","id":"evacuate-signal","event":"sent","kind":"emergency","source":"signal","preset":"evacuate","languages":["en"]}
{"type":"message","time":"2026-03-02T09:00:10.000Z","id":"<evacuate-signal>","event":"refused","kind":"emergency","source":"control","note":"message <evacuate-signal> is already active"}
)";
  const Report r = report_of(log);
  ASSERT_EQ(r.messages.messages.size(), 2u);
  EXPECT_EQ(r.messages.messages[0].end, "cancelled");
  EXPECT_EQ(r.messages.messages[1].end, "active");  // the refusal did not touch it
  EXPECT_EQ(r.messages.by_kind.at("emergency").at("signal"), 2);
  EXPECT_EQ(r.messages.emergencies_heard_both, 0);
  EXPECT_EQ(r.messages.never_heard, 1);
  EXPECT_EQ(r.messages.refused.size(), 1u);
  // What a sender chose is escaped in the page, never raw.
  const std::string html = to_html(r);
  EXPECT_THAT(html, HasSubstr("message &lt;evacuate-signal&gt; is already active"));
  EXPECT_THAT(html, Not(HasSubstr("<evacuate-signal>")));
}

TEST(Messages, ALogWithoutMessagesSaysSo) {
  const std::string log =
      R"({"type":"trip_started","time":"2026-03-02T08:00:00.000Z","trip_id":"T1","stop_id":"S0","stop_index":0})"
      "\n";
  const Report r = report_of(log);
  EXPECT_TRUE(r.messages.empty());
  EXPECT_THAT(to_text(r), HasSubstr("Emergency and service messages: none in the window"));
  EXPECT_THAT(to_html(r), HasSubstr("No emergency or service message in the window."));
  EXPECT_THAT(to_text(r), Not(HasSubstr("slowest sent")));
}

// The command writes the messages CSV.
TEST(Messages, TheCommandWritesTheMessagesCsv) {
  routes::testing::TempDir dir;
  const std::string log = dir / "events.jsonl";
  routes::testing::write_file(log, std::string(kLog).substr(1));
  const std::string out = dir / "messages.csv";
  const std::string command = std::string(STOPCALL_BINARY_DIR) + "/depot/report/stopcall-report '" +
                              log + "' --messages-csv -o '" + out + "'";
  ASSERT_EQ(std::system(command.c_str()), 0) << command;
  EXPECT_EQ(routes::testing::read_bytes(out), to_messages_csv(report_of(kLog)));
}

}  // namespace
}  // namespace stopcall::depot::report
