#include "daemon/log/records.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace stopcall::log {
namespace {

// One record of every kind, each optional field set (a line written today), and a few with the
// optional fields empty.
std::vector<Record> every_kind() {
  const std::string t = "2026-03-02T08:00:30.020Z";
  return {
      Announcement{t,
                   "T1:1:next_stop",
                   "next_stop",
                   "stop",
                   {"interior", "exterior"},
                   {"zh-Hans", "en"},
                   {"chime", "speech", "pause", "speech"},
                   {{"zh-Hans", "下一站，甲站"}, {"en", "Next stop: Alpha"}},
                   "T1",
                   512.5,
                   "brief"},
      Announcement{t, "ramp:1", "ramp_assist", "ramp", {"exterior"}, {}, {"clip"}, {}, {}, {}, {}},
      AnnouncementResult{t, "T1:1:next_stop", "interior", "finished"},
      Sound{t, "T1:1:next_stop", "interior", 80.25, 123456789012345},
      Sound{t, "T1:1:next_stop", "exterior", {}, {}},
      TimeZone{t, "Asia/Shanghai", 480},
      TimeZone{t, "America/St_Johns", -150},
      Fault{t,
            "door_open_while_moving",
            2,
            31.0,
            "door 2 reported open at 31 km/h: not acted on",
            {}},
      Fault{t, "gpio_unavailable", {}, {}, "no gpiochip0", {}},
      Fault{t, "gps_clock_jumped_back", {}, {}, "the GPS receiver's clock went back 18 s", 18.0},
      Held{t, "T1:2:next_stop", "the ramp is deployed"},
      Prompt{t,
             "driver",
             "ramp_moving_alarm",
             "ramp-alarm",
             true,
             "S1",
             {{"en", "RAMP DEPLOYED"}, {"zh-Hans", "坡道"}}},
      Prompt{t, "passenger", "wheelchair_request", "ramp-request", false, {}, {}},
      GpsWaiting{t, "system", "waiting for the first fix from gpsd"},
      GpsFirstFix{t},
      Volume{t, "exterior", 85},
      Login{t, "101-WD-E-0630", "console"},
      Request{
          t, "req-1", "wheelchair", "S2", "pending", "101", "2026-03-02T09:00:30.020Z", {}, {}, {}},
      Request{t, "req-1", "wheelchair", "S2", "shown", {}, {}, {}, 2, {}},
      Request{t, "req-1", "wheelchair", "S2", "served", {}, {}, "ramp cycle at the stop", {}, {}},
      Request{
          t, "booking-42", "blind", "CGM-E", "expired", {}, {}, "its time ran out", {}, "fleet"},
      Signal{t, "door", {}, "control", 1, "open", {}, {}},
      Signal{t, "speed", {}, "control", {}, {}, 42.5, {}},
      Signal{t, "button", "ramp_assist", "console", {}, {}, {}, "ignored: pressed again"},
      FleetCommand{t, true, {}, "route:101", "9f1c2a7e5b3d4c6f", "taken"},
      FleetCommand{t, false, "unsigned", {}, {}, "fleet commands must be signed"},
      RouteData{t, "2026-03-09", "failed", "hash_mismatch", "the bundle's BLAKE2b differs"},
  };
}

TEST(Records, EveryKindRoundTrips) {
  for (const Record& r : every_kind()) {
    const std::string line = encode(r);
    EXPECT_EQ(line.find('\n'), std::string::npos);
    const auto back = decode(line);
    ASSERT_TRUE(back) << line;
    EXPECT_EQ(*back, r) << line;
    EXPECT_EQ(encode(*back), line);
    EXPECT_NE(line.find("{\"type\":\"" + std::string(type_name(r)) + "\",\"time\":"),
              std::string::npos)
        << line;
  }
}

// The lines as the daemon has always written them: keys in this order, empty optionals left out.
TEST(Records, EncodesTheLinesTheDaemonWrites) {
  const std::string t = "2026-03-02T08:00:30.020Z";
  EXPECT_EQ(encode(Announcement{t,
                                "T1:1:next_stop",
                                "next_stop",
                                "stop",
                                {"interior"},
                                {"zh-Hans", "en"},
                                {"chime", "speech", "pause", "speech"},
                                {{"zh-Hans", "下一站"}, {"en", "Next stop: Alpha"}},
                                "T1",
                                512.0,
                                {}}),
            R"({"type":"announcement","time":"2026-03-02T08:00:30.020Z","id":"T1:1:next_stop",)"
            R"("kind":"next_stop","priority":"stop","outputs":["interior"],)"
            R"("languages":["zh-Hans","en"],"segments":["chime","speech","pause","speech"],)"
            R"("text":{"zh-Hans":"下一站","en":"Next stop: Alpha"},"trip_id":"T1",)"
            R"("distance_m":512.0})");
  EXPECT_EQ(encode(Signal{t, "button", "ramp_assist", "console", {}, {}, {}, {}}),
            R"({"type":"signal","time":"2026-03-02T08:00:30.020Z","signal":"button",)"
            R"("button":"ramp_assist","source":"console"})");
  EXPECT_EQ(encode(Fault{t, "ramp_assist_while_moving", {}, 12.0, "refused", {}}),
            R"({"type":"fault","time":"2026-03-02T08:00:30.020Z",)"
            R"("kind":"ramp_assist_while_moving","kmh":12.0,"message":"refused"})");
  EXPECT_EQ(encode(Prompt{t, "passenger", "notice", "x", false, {}, {}}),
            R"({"type":"prompt","time":"2026-03-02T08:00:30.020Z","to":"passenger",)"
            R"("kind":"notice","id":"x","active":false})");
  // PROTOCOL.md's example of a refused fleet command.
  EXPECT_EQ(encode(FleetCommand{t, false, "replayed", "bus:bus-7", "9f1c2a7e5b3d4c6f",
                                "command 9f1c2a7e5b3d4c6f was taken before"}),
            R"({"type":"fleet_command","time":"2026-03-02T08:00:30.020Z","accepted":false,)"
            R"("error":"replayed","to":"bus:bus-7","nonce":"9f1c2a7e5b3d4c6f",)"
            R"("message":"command 9f1c2a7e5b3d4c6f was taken before"})");
}

TEST(Records, AKnownLineDecodes) {
  const auto r =
      decode(R"({"type":"sound","time":"2026-03-02T08:00:30.100Z","id":"T1:1:next_stop",)"
             R"("output":"interior","after_ms":80,"mono_ns":1000})"
             "\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(*r,
            Record(Sound{"2026-03-02T08:00:30.100Z", "T1:1:next_stop", "interior", 80.0, 1000}));

  const auto request = decode(
      R"({"type":"request","time":"2026-03-02T08:03:45.000Z","id":"req-1","kind":"wheelchair",)"
      R"("stop_id":"S2","fate":"served","why":"ramp cycle at the stop"})");
  ASSERT_TRUE(request);
  EXPECT_EQ(*request, Record(Request{"2026-03-02T08:03:45.000Z",
                                     "req-1",
                                     "wheelchair",
                                     "S2",
                                     "served",
                                     {},
                                     {},
                                     "ramp cycle at the stop",
                                     {},
                                     {}}));
}

// Logs from daemons that wrote fewer fields: a missing text, list or optional reads as empty.
TEST(Records, MissingFieldsReadAsEmpty) {
  const auto r =
      decode(R"({"type":"announcement","time":"2026-03-02T09:00:30.010Z","id":"T9:1:next_stop"})");
  ASSERT_TRUE(r);
  const auto& a = std::get<Announcement>(*r);
  EXPECT_EQ(a.id, "T9:1:next_stop");
  EXPECT_TRUE(a.kind.empty());
  EXPECT_TRUE(a.text.empty());
  EXPECT_FALSE(a.trip_id);
  EXPECT_FALSE(a.distance_m);
  const auto sound = decode(R"({"type":"sound","time":"2026-03-02T09:01:01.000Z","id":"x"})");
  ASSERT_TRUE(sound);
  EXPECT_FALSE(std::get<Sound>(*sound).mono_ns);
}

TEST(Records, KnowsItsTypes) {
  for (const Record& r : every_kind())
    EXPECT_TRUE(is_record_type(type_name(r)));
  EXPECT_FALSE(is_record_type("next_stop"));
  EXPECT_FALSE(is_record_type(""));
}

TEST(Records, MalformedLinesAndWrongTypesAreNothing) {
  const char* bad[] = {
      "",
      "not JSON",
      "[1,2,3]",
      "\"signal\"",
      R"({"type":"sound","time":"2026-03-02T08:0)",       // cut off
      R"({"time":"2026-03-02T08:00:30.100Z","id":"x"})",  // no type
      R"({"type":"sound","id":"x"})",                     // no time
      R"({"type":"sound","time":12,"id":"x"})",
      R"({"type":7,"time":"2026-03-02T08:00:30.100Z"})",
      R"({"type":"next_stop","time":"2026-03-02T08:00:30.100Z"})",  // a stop event: not here
      R"({"type":"no_such_thing","time":"2026-03-02T08:00:30.100Z"})",
      R"({"type":"sound","time":"2026-03-02T08:00:30.100Z","id":5})",
      R"({"type":"sound","time":"2026-03-02T08:00:30.100Z","mono_ns":1.5})",
      R"({"type":"sound","time":"2026-03-02T08:00:30.100Z","mono_ns":18446744073709551615})",
      R"({"type":"sound","time":"2026-03-02T08:00:30.100Z","after_ms":"80"})",
      R"({"type":"time_zone","time":"2026-03-02T08:00:30.100Z","utc_offset_min":4294967776})",
      R"({"type":"time_zone","time":"2026-03-02T08:00:30.100Z","utc_offset_min":null})",
      R"({"type":"prompt","time":"2026-03-02T08:00:30.100Z","active":"yes"})",
      R"({"type":"prompt","time":"2026-03-02T08:00:30.100Z","text":{"en":1}})",
      R"({"type":"prompt","time":"2026-03-02T08:00:30.100Z","text":["en"]})",
      R"({"type":"announcement","time":"2026-03-02T08:00:30.100Z","outputs":"interior"})",
      R"({"type":"announcement","time":"2026-03-02T08:00:30.100Z","outputs":["interior",2]})",
      R"({"type":"announcement","time":"2026-03-02T08:00:30.100Z","text":{"en":null}})",
      R"({"type":"signal","time":"2026-03-02T08:00:30.100Z","door":"1"})",
      R"({"type":"signal","time":"2026-03-02T08:00:30.100Z","door":1.5})",
      R"({"type":"request","time":"2026-03-02T08:00:30.100Z","stops_to_go":true})",
      R"({"type":"volume","time":"2026-03-02T08:00:30.100Z","level":{}})",
      // A number or a flag is never left out: 0 and false would say something.
      R"({"type":"time_zone","time":"2026-03-02T08:00:30.100Z","time_zone":"Asia/Shanghai"})",
      R"({"type":"prompt","time":"2026-03-02T08:00:30.100Z","kind":"ramp_moving_alarm"})",
      R"({"type":"volume","time":"2026-03-02T08:00:30.100Z","output":"interior"})",
  };
  for (const char* line : bad)
    EXPECT_FALSE(decode(line)) << line;
  // Invalid UTF-8 and deep nesting: nothing, and no exception.
  EXPECT_FALSE(decode("{\"type\":\"held\",\"time\":\"x\",\"id\":\"\xff\"}"));
  EXPECT_FALSE(decode(std::string(100000, '[')));
}

}  // namespace
}  // namespace stopcall::log
