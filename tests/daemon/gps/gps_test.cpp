#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "daemon/gps/gpsd_client.hpp"
#include "daemon/gps/gpsd_fix.hpp"
#include "daemon/gps/time_filter.hpp"
#include "daemon/gps/trace.hpp"
#include "daemon/tracking/events.hpp"
#include "gpsfake.hpp"

namespace stopcall::gps {
namespace {

namespace fs = std::filesystem;
using stopcall::testing::GpsFake;
using stopcall::testing::test_port;

std::string nmea_dir() {
  const char* env = std::getenv("STOPCALL_SHARED_DATA");
  return std::string(env && *env ? env : STOPCALL_SOURCE_DIR "/../shared/data") + "/nmea";
}

std::vector<std::string> receiver_logs() {
  std::vector<std::string> logs;
  if (!fs::exists(nmea_dir())) return logs;
  for (const auto& e : fs::directory_iterator(nmea_dir())) {
    if (e.path().extension() == ".log") logs.push_back(e.path().string());
  }
  std::sort(logs.begin(), logs.end());
  return logs;
}

// ---- the libgps boundary ---------------------------------------------------------------------

TEST(JsonDecoder, TpvBecomesAFixWithEveryFieldGpsdSent) {
  JsonDecoder decoder;
  auto fix = decoder.decode(
      R"({"class":"TPV","device":"/dev/ttyS0","mode":3,"status":2,"time":"2026-03-02T00:10:05.500Z",)"
      R"("lat":22.5403,"lon":114.0556,"speed":8.25,"track":91.5,"eph":4.2,"epx":2.5,"epy":3.1})");
  ASSERT_TRUE(fix);
  EXPECT_TRUE(fix->usable());
  EXPECT_EQ(fix->mode, tracking::Fix::Mode::fix_3d);
  EXPECT_EQ(fix->status, tracking::Fix::Status::dgps);
  EXPECT_NEAR(fix->position->lat, 22.5403, 1e-9);
  EXPECT_NEAR(fix->position->lon, 114.0556, 1e-9);
  EXPECT_DOUBLE_EQ(*fix->speed_mps, 8.25);
  EXPECT_DOUBLE_EQ(*fix->track_deg, 91.5);
  EXPECT_DOUBLE_EQ(*fix->eph_m, 4.2);
  EXPECT_EQ(tracking::format_time(fix->time), "2026-03-02T00:10:05.500Z");
}

TEST(JsonDecoder, NoFixTpvHasNoPositionAndNothingLeaksFromTheReportBefore) {
  JsonDecoder decoder;
  ASSERT_TRUE(decoder.decode(
      R"({"class":"TPV","mode":3,"time":"2026-03-02T00:00:01Z","lat":1,"lon":2,"speed":3})"));
  auto fix = decoder.decode(R"({"class":"TPV","mode":1,"time":"2026-03-02T00:00:02Z"})");
  ASSERT_TRUE(fix);
  EXPECT_FALSE(fix->usable());
  EXPECT_FALSE(fix->position);
  EXPECT_FALSE(fix->speed_mps);
}

TEST(JsonDecoder, OtherReportsAndGarbageAreNotFixes) {
  JsonDecoder decoder;
  EXPECT_FALSE(decoder.decode(R"({"class":"SKY","satellites":[]})"));
  EXPECT_FALSE(decoder.decode(R"({"class":"VERSION","release":"3.22"})"));
  EXPECT_FALSE(decoder.decode(R"({"class":"TPV","mode":3,"lat":22.5,"lon)"));
  EXPECT_FALSE(decoder.decode("not json at all"));
  EXPECT_GE(decoder.rejected(), 1);
}

// A trace written by another tool: the same reports with spaces after the colons, or spread
// over a pretty-printed layout on one line. gpsd's own parser reads nothing of them; normalised
// by the JSON library they are the same fix.
TEST(JsonDecoder, AnyValidJsonLayoutIsTheSameFix) {
  JsonDecoder decoder;
  auto fix =
      decoder.decode(R"({ "class": "TPV", "mode": 3, "time": "2026-03-02T00:00:01Z", "lat": 22.5, )"
                     R"("lon": 114.05, "speed": 4.5, "track": 90.0, "eph": 12.0 })");
  ASSERT_TRUE(fix);
  EXPECT_TRUE(fix->usable());
  EXPECT_DOUBLE_EQ(fix->position->lat, 22.5);
  EXPECT_DOUBLE_EQ(*fix->speed_mps, 4.5);
  EXPECT_DOUBLE_EQ(*fix->eph_m, 12.0);
  auto reordered = decoder.decode(
      R"({"lat":22.5,"lon":114.05,"mode":3,"class":"TPV","time":"2026-03-02T00:00:02Z"})");
  ASSERT_TRUE(reordered);
  EXPECT_TRUE(reordered->usable());
  EXPECT_EQ(decoder.rejected(), 0);
  EXPECT_FALSE(decoder.decode(R"({ "class": "TPV", "mode": 3, "lat": })"));
  EXPECT_EQ(decoder.rejected(), 1);
  EXPECT_EQ(decoder.last_error(), "not valid JSON");
}

// ---- replay input: every real receiver log, decoded by gpsd's own decoder ---------------------

long count_tpv_lines_from_gpsdecode(const std::string& log) {
  std::string cmd = "gpsdecode -j < '" + log + "'";
  FILE* p = ::popen(cmd.c_str(), "r");
  long n = 0;
  char line[65536];
  while (std::fgets(line, sizeof line, p))
    n += std::strstr(line, "\"class\":\"TPV\"") != nullptr;
  ::pclose(p);
  return n;
}

TEST(TraceReader, EveryRealReceiverLogReplaysLosingNoFix) {
  auto logs = receiver_logs();
  if (logs.empty()) GTEST_SKIP() << "no receiver logs in " << nmea_dir();
  for (const auto& log : logs) {
    TraceReader trace(log);
    EXPECT_TRUE(trace.nmea()) << log;
    long positions = 0;
    tracking::Time last{};
    TimeFilter filter;
    while (auto fix = trace.next()) {
      if (!fix->usable() || !filter.take(*fix)) continue;  // its time as the tracker gets it
      ++positions;
      EXPECT_GE(fix->time, last) << log << ": what reaches the tracker is in time order";
      last = fix->time;
    }
    EXPECT_EQ(trace.stats().reports, count_tpv_lines_from_gpsdecode(log)) << log;
    EXPECT_GT(positions, 0) << log;
  }
}

TEST(TraceReader, BeidouLogPositionsAreInChinaAndBt451InLithuania) {
  if (receiver_logs().empty()) GTEST_SKIP();
  auto first_position = [](const std::string& log) {
    TraceReader trace(nmea_dir() + "/" + log);
    while (auto fix = trace.next()) {
      if (fix->usable()) return *fix->position;
    }
    return routes::LatLon{};
  };
  auto bt = first_position("bt451.log");
  EXPECT_NEAR(bt.lat, 55.797, 0.01);
  EXPECT_NEAR(bt.lon, 23.569, 0.01);
  auto bd = first_position("beidou-bd.log");
  EXPECT_GT(bd.lon, 73);  // somewhere in China
  EXPECT_LT(bd.lon, 135);
}

TEST(TraceReader, GpsdJsonTraceWithGarbledLinesKeepsTheGoodOnes) {
  auto path = fs::path(::testing::TempDir()) / ("trace-" + std::to_string(::getpid()) + ".jsonl");
  {
    std::ofstream out(path);
    out << R"({"class":"VERSION","release":"3.22"})"
        << "\n"
        << R"({"class":"TPV","mode":3,"time":"2026-03-02T00:00:01Z","lat":22.54,"lon":114.05})"
        << "\n"
        << R"({"class":"TPV","mode":3,"time":"2026-03-02T00:00:02Z","lat":22.5)"
        << "\n"
        << "\x01\x02 line noise\n"
        << R"({"class":"TPV","mode":3,"time":"2026-03-02T00:00:03Z","lat":22.541,"lon":114.05})"
        << "\n";
  }
  TraceReader trace(path.string());
  EXPECT_FALSE(trace.nmea());
  int fixes = 0;
  while (auto fix = trace.next())
    fixes += fix->usable();
  EXPECT_EQ(fixes, 2);
  EXPECT_EQ(trace.stats().rejected, 2);  // the cut-off TPV and the line noise
  // Said with their line numbers, for whoever made the trace.
  ASSERT_EQ(trace.stats().rejected_examples.size(), 2u);
  EXPECT_EQ(trace.stats().rejected_examples[0].first, 3);
  EXPECT_EQ(trace.stats().rejected_examples[1].first, 4);
  EXPECT_EQ(trace.stats().rejected_examples[1].second, "not a JSON object");
  fs::remove(path);
}

TEST(TimeFilter, DropsASingleGlitchedDayJumpButAcceptsAConfirmedGap) {
  using namespace std::chrono;
  auto at = [](long long s) {
    tracking::Fix f;
    f.time = tracking::Time(seconds(s));
    return f;
  };
  TimeFilter filter;
  EXPECT_TRUE(filter.accept(at(1000)));
  EXPECT_TRUE(filter.accept(at(1001)));
  EXPECT_FALSE(filter.accept(at(1001 + 86400))) << "a lone jump of a day is a receiver glitch";
  EXPECT_TRUE(filter.accept(at(1002)));
  EXPECT_FALSE(filter.accept(at(999))) << "time going backwards";
  EXPECT_FALSE(filter.accept(at(5000)));  // a long gap...
  EXPECT_TRUE(filter.accept(at(5001)));   // ...confirmed by the next fix
  EXPECT_EQ(filter.dropped(), 3);
}

TEST(TimeFilter, AGlitchReportedTwiceInOneEpochIsStillAGlitch) {
  using namespace std::chrono;
  auto at = [](long long ms) {
    tracking::Fix f;
    f.time = tracking::Time(milliseconds(ms));
    return f;
  };
  // bt451: two reports (RMC and GGA) of one epoch a day ahead, then the right time, two reports
  // an epoch. The second report of the glitch does not confirm it: the fixes after it go on.
  TimeFilter filter;
  EXPECT_TRUE(filter.accept(at(1'000'000)));
  EXPECT_FALSE(filter.accept(at(1'000'500 + 86'400'000)));
  EXPECT_FALSE(filter.accept(at(1'000'500 + 86'400'000)));
  for (long long ms = 1'001'000; ms < 1'010'000; ms += 500) {
    EXPECT_TRUE(filter.accept(at(ms))) << ms;
    EXPECT_TRUE(filter.accept(at(ms))) << ms << ", again";
  }
  EXPECT_EQ(filter.jumps_back(), 0);
  // Behind the last fix, reports of one epoch count once: three reports of two epochs are not
  // three fixes agreeing on a clock gone back.
  EXPECT_FALSE(filter.accept(at(500'000)));
  EXPECT_FALSE(filter.accept(at(500'000)));
  EXPECT_FALSE(filter.accept(at(500'500)));
  EXPECT_EQ(filter.jumps_back(), 0);
  EXPECT_TRUE(filter.accept(at(501'000))) << "the third epoch";
  EXPECT_EQ(filter.jumps_back(), 1);
}

TEST(TimeFilter, AClockThatGoesBackAndStaysIsPlacedAfterTheLastFix) {
  using namespace std::chrono;
  auto at = [](long long s) {
    tracking::Fix f;
    f.time = tracking::Time(seconds(s));
    return f;
  };
  const long long rollover = 1024LL * 7 * 86400;  // the GPS week number wrapping around
  TimeFilter filter;
  tracking::Fix fix = at(2'000'000'000);
  ASSERT_TRUE(filter.take(fix));
  fix = at(2'000'000'001);
  ASSERT_TRUE(filter.take(fix));
  // One fix from the past is a glitch: dropped, and the time goes on.
  fix = at(2'000'000'002 - rollover);
  EXPECT_FALSE(filter.take(fix));
  fix = at(2'000'000'003);
  EXPECT_TRUE(filter.take(fix));
  EXPECT_EQ(filter.jumps_back(), 0);
  // Three in a row agree on the past: the receiver's clock went back. The third is placed three
  // seconds after the last fix taken, as it came, and every fix after it is moved the same.
  for (long long s = 2'000'000'004; s < 2'000'000'006; ++s) {
    fix = at(s - rollover);
    EXPECT_FALSE(filter.take(fix));
  }
  fix = at(2'000'000'006 - rollover);
  ASSERT_TRUE(filter.take(fix));
  EXPECT_EQ(fix.time, tracking::Time(seconds(2'000'000'006)));
  EXPECT_EQ(filter.jumps_back(), 1);
  EXPECT_EQ(filter.jumped_back(), seconds(rollover));
  fix = at(2'000'000'007 - rollover);
  ASSERT_TRUE(filter.take(fix));
  EXPECT_EQ(fix.time, tracking::Time(seconds(2'000'000'007)));
  EXPECT_EQ(filter.last(), fix.time);
  // peek() says the same without taking it.
  tracking::Time would{};
  EXPECT_TRUE(filter.peek(at(2'000'000'008 - rollover), would));
  EXPECT_EQ(would, tracking::Time(seconds(2'000'000'008)));
  EXPECT_EQ(filter.last(), tracking::Time(seconds(2'000'000'007)));
  EXPECT_FALSE(filter.peek(at(2'000'000'008 + 86400 - rollover), would)) << "a lone jump ahead";
}

TEST(TimeFilter, AFixWithoutATimeIsNotTakenForTheEpoch) {
  using namespace std::chrono;
  tracking::Fix undated;  // gpsd's TPV before the receiver knows the date: a position, no time
  undated.mode = tracking::Fix::Mode::fix_3d;
  undated.position = routes::LatLon{22.54, 114.05};
  tracking::Fix dated = undated;
  dated.time = tracking::Time(seconds(1'772'404'163));
  TimeFilter filter;
  EXPECT_FALSE(filter.accept(undated));
  EXPECT_TRUE(filter.accept(dated)) << "the first real fix starts the timeline";
  dated.time += seconds(1);
  EXPECT_TRUE(filter.accept(dated));
  EXPECT_FALSE(filter.accept(undated));
  EXPECT_EQ(filter.undated(), 2);
  EXPECT_EQ(filter.dropped(), 0);
}

TEST(TraceReader, MissingFileIsAClearError) {
  EXPECT_THROW(TraceReader("/nonexistent/trace.log"), std::runtime_error);
}

// ---- live: a real gpsd fed by gpsfake ----------------------------------------------------------

struct Received {
  std::vector<tracking::Fix> fixes;
  std::vector<GpsdState> states;
};

template <typename Pred>
bool run_until(boost::asio::io_context& io, std::chrono::milliseconds limit, Pred done) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done() && std::chrono::steady_clock::now() < deadline) {
    io.run_for(std::chrono::milliseconds(20));
    io.restart();
  }
  return done();
}

TEST(GpsdClient, ReceivesFixesFromARealGpsdForEveryReceiverLog) {
  auto logs = receiver_logs();
  if (logs.empty()) GTEST_SKIP();
  int n = 0;
  for (const auto& log : logs) {
    int port = test_port(n++);
    GpsFake fake(log, port, 0.02);
    ASSERT_TRUE(fake.started()) << "gpsfake did not start (package gpsd-clients / python3-gps)";
    boost::asio::io_context io;
    Received got;
    GpsdOptions options;
    options.port = std::to_string(port);
    options.reconnect_min = std::chrono::milliseconds(100);
    GpsdClient client(
        io, options, [&](const tracking::Fix& f) { got.fixes.push_back(f); },
        [&](GpsdState s, const std::string&) { got.states.push_back(s); });
    client.start();
    bool ok = run_until(io, std::chrono::seconds(20), [&] {
      return std::count_if(got.fixes.begin(), got.fixes.end(),
                           [](const auto& f) { return f.usable(); }) >= 3;
    });
    EXPECT_TRUE(ok) << log << ": fewer than 3 usable fixes through gpsd";
    EXPECT_THAT(got.states, ::testing::Contains(GpsdState::connected)) << log;
    client.stop();
  }
}

TEST(GpsdClient, ReconnectsWhenGpsdComesBackAndReportsWhenItGoes) {
  if (receiver_logs().empty()) GTEST_SKIP();
  int port = test_port(50);
  boost::asio::io_context io;
  Received got;
  GpsdOptions options;
  options.port = std::to_string(port);
  options.reconnect_min = std::chrono::milliseconds(100);
  options.reconnect_max = std::chrono::milliseconds(400);
  GpsdClient client(
      io, options, [&](const tracking::Fix& f) { got.fixes.push_back(f); },
      [&](GpsdState s, const std::string&) { got.states.push_back(s); });
  client.start();
  // No gpsd yet: the client keeps trying, never blocks the loop.
  run_until(io, std::chrono::milliseconds(600), [] { return false; });
  EXPECT_EQ(client.state(), GpsdState::disconnected);
  EXPECT_GE(client.reconnects(), 1);

  // gpsd appears (loop the log so it keeps talking): connected and fixes within 2 s of the
  // first fix being available.
  {
    GpsFake fake(nmea_dir() + "/haicom-305N.log", port, 0.02, /*once=*/false);
    ASSERT_TRUE(fake.started());
    EXPECT_TRUE(run_until(io, std::chrono::seconds(15), [&] { return !got.fixes.empty(); }));
    EXPECT_EQ(client.state(), GpsdState::connected);
    fake.kill();
    // gpsd gone: the client notices and goes back to retrying.
    EXPECT_TRUE(run_until(io, std::chrono::seconds(5),
                          [&] { return client.state() == GpsdState::disconnected; }));
  }
  std::size_t before = got.fixes.size();
  GpsFake again(nmea_dir() + "/haicom-305N.log", port, 0.02, false);
  ASSERT_TRUE(again.started());
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(run_until(io, std::chrono::seconds(15), [&] { return got.fixes.size() > before; }));
  std::cout << "[          ] fixes again "
            << std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::steady_clock::now() - t0)
                   .count()
            << " ms after gpsd was restarted (includes gpsfake's own start-up)\n";
  client.stop();
}

}  // namespace
}  // namespace stopcall::gps
