// The live daemon end to end: a generated trace as NMEA through a real gpsd (gpsfake) into
// `stopcalld run`, whose events must be the same as `stopcalld replay` gives for that trace.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <thread>

#include "daemon/log/event_store.hpp"
#include "routes/importer.hpp"
#include "tests/daemon/gps/gpsfake.hpp"
#include "tests/hmi/test_client.hpp"
#include "tests/routes/test_feed.hpp"

namespace stopcall::daemon {
namespace {

using routes::testing::TempDir;

std::string run(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, p))
    out.append(buf, n);
  int status = ::pclose(p);
  EXPECT_EQ(status, 0) << cmd << "\n" << out;
  return out;
}

// "type stop_id" of each stop event, in order (the log's other lines - announcements, prompts,
// signals - carry no trip_id).
std::vector<std::string> stop_events(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> out;
  std::string line;
  std::regex type(R"re("type":"([a-z_]+)")re"), stop(R"re("stop_id":"([^"]+)")re");
  while (std::getline(in, line)) {
    std::smatch t, s;
    if (!std::regex_search(line, t, type)) continue;
    if (line.find("\"trip_id\"") == std::string::npos ||
        line.find("\"type\":\"announcement\"") != std::string::npos) {
      continue;
    }
    std::string e = t[1];
    if (std::regex_search(line, s, stop)) e += " " + std::string(s[1]);
    out.push_back(e);
  }
  return out;
}

TEST(Live, GpsdFedTraceGivesTheSameEventsAsReplay) {
  TempDir dir;
  const std::string demo_bundle = dir / "demo.db";
  ASSERT_TRUE(routes::testing::import_demo(demo_bundle));
  const std::string bin = STOPCALL_BINARY_DIR;
  run(bin + "/sim/stopcall-scenario generate --routes " + (dir / "demo.db") +
      " --trip 101-WD-E-0630 --noise clean --seed 7 --out-trace " + (dir / "trace.jsonl") +
      " --nmea " + (dir / "trace.nmea"));

  // gpsd needs a moment to recognise NMEA on a new device: lead in with no-fix sentences (which
  // replay sees too), then the first minutes of the trip (three stops).
  {
    std::ifstream trace(dir / "trace.nmea");
    std::ofstream fed(dir / "fed.nmea");
    for (int i = 0; i < 300; ++i) {
      char body[64];
      std::snprintf(body, sizeof body, "GPRMC,%02d%02d00.00,V,,,,,,,020326,,,N", 6 - 1 + i / 60,
                    i % 60);
      unsigned char sum = 0;
      for (const char* c = body; *c; ++c)
        sum ^= static_cast<unsigned char>(*c);
      char line[96];
      std::snprintf(line, sizeof line, "$%s*%02X\r\n", body, sum);
      fed << line;
    }
    std::string line;
    for (int i = 0; i < 1200 && std::getline(trace, line); ++i)
      fed << line << "\n";
  }
  int port = stopcall::testing::test_port(77);
  // The daemon first: gpsfake waits for a client before it feeds the log.
  FILE* daemon = ::popen((bin + "/daemon/stopcalld run --routes " + (dir / "demo.db") +
                          " --trip 101-WD-E-0630 --gpsd 127.0.0.1:" + std::to_string(port) +
                          " --events " + (dir / "live.jsonl") + " --exit-after 30 2>&1")
                             .c_str(),
                         "r");
  stopcall::testing::GpsFake fake(dir / "fed.nmea", port, 0.004);
  ASSERT_TRUE(fake.started());
  std::string live;
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, daemon))
    live.append(buf, n);
  EXPECT_EQ(::pclose(daemon), 0) << live;
  run(bin + "/daemon/stopcalld replay --routes " + (dir / "demo.db") +
      " --trip 101-WD-E-0630 --no-block --gps " + (dir / "fed.nmea") + " --events " +
      (dir / "replay.jsonl"));

  auto live_events = stop_events(dir / "live.jsonl");
  auto replay_events = stop_events(dir / "replay.jsonl");
  // After the log ends the live daemon goes on and, rightly, loses the GPS; replay just stops.
  while (!live_events.empty() && live_events.back() == "gps_lost")
    live_events.pop_back();
  EXPECT_EQ(live_events, replay_events);
  for (std::string stop : {"HQC-E", "QCD-E"}) {
    EXPECT_EQ(std::count(live_events.begin(), live_events.end(), "next_stop " + stop), 1) << stop;
    EXPECT_EQ(std::count(live_events.begin(), live_events.end(), "approaching " + stop), 1) << stop;
  }
  std::smatch latency;
  ASSERT_TRUE(std::regex_search(live, latency, std::regex("latency p50 [^\n]*")));
  std::cout << "[          ] gpsd to event " << latency[0] << " (sanitizer build)\n";
}

// The failure classes the road test found, each on a whole demo trip through a real gpsd: the
// live daemon decides what replay decides, and every stop is right. (Seed 3 of each model, one
// run each: the simulator and the tracker are deterministic.)
struct LiveClass {
  const char* noise;
  bool auto_detect;  // no trip given: found from GPS alone
  const char* what;
};

class LiveClasses : public ::testing::TestWithParam<LiveClass> {};

TEST_P(LiveClasses, ThroughGpsdEveryStopIsRightAndAsReplayed) {
  const LiveClass& c = GetParam();
  SCOPED_TRACE(c.what);
  TempDir dir;
  ASSERT_TRUE(routes::testing::import_demo(dir / "demo.db"));
  const std::string bin = STOPCALL_BINARY_DIR, trip = "101-WD-E-0630";
  run(bin + "/sim/stopcall-scenario generate --routes " + (dir / "demo.db") + " --trip " + trip +
      " --noise " + c.noise + " --seed 3 --out-trace " + (dir / "trace.jsonl") + " --nmea " +
      (dir / "trace.nmea") + " --out-truth " + (dir / "truth.jsonl"));
  {
    // gpsd needs a moment to recognise NMEA on a new device: lead in with no-fix sentences, the
    // hour before the trip (22:29 UTC on 1 March, 06:29 in Shenzhen).
    std::ifstream trace(dir / "trace.nmea");
    std::ofstream fed(dir / "fed.nmea");
    for (int i = 0; i < 300; ++i) {
      char body[64];
      std::snprintf(body, sizeof body, "GPRMC,%02d%02d00.00,V,,,,,,,010326,,,N", 21 + i / 60,
                    i % 60);
      unsigned char sum = 0;
      for (const char* p = body; *p; ++p)
        sum ^= static_cast<unsigned char>(*p);
      char line[96];
      std::snprintf(line, sizeof line, "$%s*%02X\r\n", body, sum);
      fed << line;
    }
    fed << trace.rdbuf();
  }
  const std::string select = c.auto_detect ? "" : " --trip " + trip;
  const int port = stopcall::testing::test_port(80);
  FILE* daemon = ::popen((bin + "/daemon/stopcalld run --routes " + (dir / "demo.db") + select +
                          " --gpsd 127.0.0.1:" + std::to_string(port) + " --events " +
                          (dir / "live.jsonl") + " --exit-after 40 2>&1")
                             .c_str(),
                         "r");
  stopcall::testing::GpsFake fake(dir / "fed.nmea", port, 0.004);
  ASSERT_TRUE(fake.started());
  std::string live;
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, daemon))
    live.append(buf, n);
  EXPECT_EQ(::pclose(daemon), 0) << live;
  run(bin + "/daemon/stopcalld replay --routes " + (dir / "demo.db") +
      (c.auto_detect ? std::string(" --auto") : select) + " --no-block --gps " +
      (dir / "fed.nmea") + " --events " + (dir / "replay.jsonl"));

  // The rider hears the same stops in the same order live as in replay. (gpsd reports a fix
  // gpsdecode keeps back, the first of the trace: the filters may start a fix apart.)
  auto announced = [](const std::vector<std::string>& events) {
    std::vector<std::string> out;
    for (const auto& e : events)
      if (e.rfind("next_stop ", 0) == 0 || e.rfind("approaching ", 0) == 0) out.push_back(e);
    return out;
  };
  EXPECT_EQ(announced(stop_events(dir / "live.jsonl")),
            announced(stop_events(dir / "replay.jsonl")));
  // Every stop of the trip right, live and in replay, by the scenario suite's scorer (the road
  // test's rules). The live log holds the announcements' and sounds' lines too: the stop events
  // are taken from it.
  {
    std::ifstream in(dir / "live.jsonl");
    std::ofstream out(dir / "live-stops.jsonl");
    for (std::string line; std::getline(in, line);)
      if (line.find("\"trip_id\"") != std::string::npos &&
          line.find("\"type\":\"announcement\"") == std::string::npos)
        out << line << "\n";
  }
  for (const char* events : {"live-stops.jsonl", "replay.jsonl"}) {
    SCOPED_TRACE(events);
    const auto verdict =
        run(bin + "/sim/stopcall-scenario score --routes " + (dir / "demo.db") + " --trip " + trip +
            " --truth " + (dir / "truth.jsonl") + " --events " + (dir / events));
    EXPECT_THAT(verdict, ::testing::HasSubstr("tracker: 13 of 13 stops correct")) << verdict;
    EXPECT_THAT(verdict, ::testing::HasSubstr("0 extra")) << verdict;
  }
}

INSTANTIATE_TEST_SUITE_P(
    RoadClasses, LiveClasses,
    ::testing::Values(
        LiveClass{"urban_canyon", false, "canyon: wander, 3 m/s Doppler noise, eph from HDOP"},
        LiveClass{"tunnel", false, "outages of 30-120 s over stops"},
        LiveClass{"sparse", false, "a fix every 5 s"},
        LiveClass{"urban_multipath", true, "oblique bursts, and the trip found from GPS alone"}),
    [](const auto& info) {
      return std::string(info.param.noise) + (info.param.auto_detect ? "_auto" : "");
    });

// gpsd connected before the receiver knows the date: its first reports have a position and no
// time. The log must say what the start was (waiting for the first fix), start the trip at the
// first real fix's time, and hold no outage for the depot's report.
TEST(Live, TheStartIsWaitingForTheFirstFixNotAnOutage) {
  TempDir dir;
  ASSERT_TRUE(routes::testing::import_demo(dir / "demo.db"));
  const std::string bin = STOPCALL_BINARY_DIR;
  run(bin + "/sim/stopcall-scenario generate --routes " + (dir / "demo.db") +
      " --trip 101-WD-E-0630 --noise clean --seed 7 --out-trace " + (dir / "trace.jsonl") +
      " --nmea " + (dir / "trace.nmea"));
  std::string first_time;
  {
    // The first seconds without RMC (the only sentence with the date): GGA and GST only.
    std::ifstream trace(dir / "trace.nmea");
    std::ofstream fed(dir / "fed.nmea");
    std::string line;
    for (int i = 0; i < 600 && std::getline(trace, line); ++i) {
      if (i < 15 && line.rfind("$GPRMC", 0) == 0) continue;
      if (first_time.empty() && i >= 15 && line.rfind("$GPRMC", 0) == 0) {
        first_time = line.substr(7, 6);  // hhmmss of the first dated fix
      }
      fed << line << "\n";
    }
  }
  const int port = stopcall::testing::test_port(81);
  // The daemon first, as on a bus; it stops while the fixes still come (no outage at the end).
  FILE* daemon = ::popen((bin + "/daemon/stopcalld run --routes " + (dir / "demo.db") +
                          " --trip 101-WD-E-0630 --gpsd 127.0.0.1:" + std::to_string(port) +
                          " --events " + (dir / "live.jsonl") + " --exit-after 8 2>&1")
                             .c_str(),
                         "r");
  stopcall::testing::GpsFake fake(dir / "fed.nmea", port, 0.03);
  ASSERT_TRUE(fake.started());
  std::string out;
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, daemon))
    out.append(buf, n);
  EXPECT_EQ(::pclose(daemon), 0) << out;
  const std::string log = routes::testing::read_bytes(dir / "live.jsonl");
  EXPECT_EQ(log.find("1970-"), std::string::npos) << log;
  EXPECT_LT(log.find("{\"type\":\"gps_waiting\""), log.find("\"type\":\"trip_started\""))
      << "the log says what the start was:\n"
      << log;
  EXPECT_THAT(log, ::testing::HasSubstr(R"("time_zone":"Asia/Shanghai","utc_offset_min":480)"));
  for (const char* outage : {"gps_lost", "position_uncertain", "gps_restored"}) {
    EXPECT_EQ(log.find(std::string("\"type\":\"") + outage + "\""), std::string::npos)
        << outage << "\n"
        << log;
  }
  std::smatch started;
  ASSERT_TRUE(
      std::regex_search(log, started, std::regex(R"re("type":"trip_started","time":"([^"]+)")re")))
      << log;
  const std::string hhmmss = first_time.substr(0, 2) + ":" + first_time.substr(2, 2) + ":";
  EXPECT_THAT(started[1].str(), ::testing::StartsWith("2026-03-01T" + hhmmss)) << first_time;
  // The depot's report sees no outage, and no trip in 1970.
  auto report = run(bin + "/depot/report/stopcall-report " + (dir / "live.jsonl") + " --csv");
  EXPECT_THAT(report, ::testing::Not(::testing::HasSubstr("1970")));
  const std::string total = report.substr(report.find("\nTOTAL,") + 1);
  EXPECT_EQ(total.substr(total.rfind(',') + 1), "0.0\n") << "gps_outage_s:\n" << report;
}

}  // namespace
}  // namespace stopcall::daemon

namespace stopcall::daemon {
namespace {

// The service as configured on a bus: screens, control socket and voice from the configuration
// file; stopcallctl talks to it while gpsd is not there yet (the bus keeps serving what it can).
TEST(Live, ServesTheScreensAndTheControlSocketFromItsConfiguration) {
  TempDir dir;
  const std::string bin = STOPCALL_BINARY_DIR;
  ASSERT_TRUE(routes::testing::import_demo(dir / "demo.db"));
  const int http = stopcall::testing::test_port(78);
  const std::string socket = dir / "control.sock";
  routes::testing::write_file(
      dir / "stopcall.toml",
      "[routes]\nbundle = \"" + (dir / "demo.db") +
          "\"\n[audio]\ninterior = \"fakesink sync=true\"\n"
          "exterior = \"fakesink sync=true\"\n[screens]\nlisten = "
          "\"127.0.0.1:" +
          std::to_string(http) + "\"\nweb_root = \"" + STOPCALL_SOURCE_DIR +
          "/hmi/web\"\n[vehicle]\ncontrol_socket = \"" + socket + "\"\n[events]\nstore = \"" +
          (dir / "events.db") +
          "\"\n[gps]\nport = " + std::to_string(stopcall::testing::test_port(79)) + "\n");
  FILE* daemon = ::popen((bin + "/daemon/stopcalld --config " + (dir / "stopcall.toml") +
                          " run --events " + (dir / "events.jsonl") + " --exit-after 6 2>&1")
                             .c_str(),
                         "r");
  for (int i = 0; i < 200 && !std::filesystem::exists(socket); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  const std::string ctl = bin + "/daemon/stopcallctl --socket " + socket;
  auto state = run(ctl + " state");
  EXPECT_THAT(state, ::testing::HasSubstr("\"ramp\":\"stowed\""));
  auto pressed = run(ctl + " button ramp-assist");
  EXPECT_THAT(pressed, ::testing::HasSubstr("ok: ramp deploying"));
  // Refused with the daemon's reason and exit status 1; bad usage is 2 and never reaches it.
  EXPECT_EQ(std::system(
                (ctl + " request --kind blind --stop NOWHERE --route 101 >/dev/null 2>&1").c_str()),
            1 << 8);
  EXPECT_EQ(std::system((ctl + " signal door ajar >/dev/null 2>&1").c_str()), 2 << 8);
  auto page = hmi::test::http_request(static_cast<std::uint16_t>(http), hmi::test::http::verb::get,
                                      "/driver");
  EXPECT_EQ(page.result_int(), 200);

  std::string out;
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, daemon))
    out.append(buf, n);
  EXPECT_EQ(::pclose(daemon), 0) << out;
  EXPECT_THAT(out, ::testing::HasSubstr("gpsd"));  // not there: said, retried, not fatal
  auto log = routes::testing::read_bytes(dir / "events.jsonl");
  EXPECT_THAT(log, ::testing::HasSubstr("\"kind\":\"ramp_assist\""));
  EXPECT_THAT(log, ::testing::HasSubstr("\"outputs\":[\"interior\",\"exterior\"]"));
  EXPECT_FALSE(std::filesystem::exists(socket)) << "the socket file is removed on exit";
  // The same lines in the SQLite event store, for the depot's report.
  auto stored = log::read_lines(dir / "events.db");
  EXPECT_TRUE(std::any_of(stored.begin(), stored.end(), [](const std::string& line) {
    return line.find("\"kind\":\"ramp_assist\"") != std::string::npos;
  }));
}

}  // namespace
}  // namespace stopcall::daemon
