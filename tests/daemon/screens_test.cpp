// `stopcalld replay --realtime --http`: the pages served while a trace replays, and the passenger
// display told the next stop as the bus leaves each stop, with the voice's subtitles. And the
// displays' clock in a city with daylight saving.
#include "daemon/screens.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <cstdlib>
#include <ctime>
#include <future>
#include <thread>

#include "daemon/pipeline.hpp"
#include "routes/bundle.hpp"
#include "routes/importer.hpp"
#include "tests/hmi/test_client.hpp"
#include "tests/routes/test_feed.hpp"

namespace stopcall::daemon {
namespace {

using routes::testing::TempDir;

TEST(ReplayScreens, PassengerDisplayFollowsTheReplayedTrip) {
  TempDir dir;
  const std::string demo_bundle = dir / "demo.db";
  ASSERT_TRUE(routes::testing::import_demo(demo_bundle));
  const std::string bin = STOPCALL_BINARY_DIR;
  ASSERT_EQ(std::system((bin + "/sim/stopcall-scenario generate --routes " + (dir / "demo.db") +
                         " --trip 101-WD-E-0630 --noise clean --seed 2 " + "--out-trace " +
                         (dir / "trace.jsonl") + " > /dev/null 2>&1")
                            .c_str()),
            0);
  const int port = 21000 + ::getpid() % 20000;
  // 60 times faster than recorded: the half-hour trip in about 30 s.
  std::string cmd = bin + "/daemon/stopcalld replay --routes " + (dir / "demo.db") + " --gps " +
                    (dir / "trace.jsonl") + " --trip 101-WD-E-0630 --no-block" +
                    " --realtime --speed 60 --http 127.0.0.1:" + std::to_string(port) +
                    " --audio 'fakesink sync=true'" + " --linger 2 --events " +
                    (dir / "events.jsonl") + " > /dev/null 2>&1 & echo $!";
  FILE* started = ::popen(cmd.c_str(), "r");
  int pid = 0;
  ASSERT_EQ(std::fscanf(started, "%d", &pid), 1);
  ::pclose(started);
  struct Reap {
    int pid;
    ~Reap() {
      ::kill(pid, SIGTERM);
      int status;
      ::waitpid(pid, &status, WNOHANG);
    }
  } reap{pid};
  std::unique_ptr<hmi::test::WsClient> screen;
  for (int i = 0; i < 100 && !screen; ++i) {
    try {
      screen = std::make_unique<hmi::test::WsClient>(static_cast<std::uint16_t>(port));
    } catch (const std::exception&) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  ASSERT_TRUE(screen) << "the replay never served the screens";
  namespace http = hmi::test::http;
  auto page = hmi::test::http_request(static_cast<std::uint16_t>(port), http::verb::get, "/");
  EXPECT_EQ(page.result_int(), 200);
  auto console =
      hmi::test::http_request(static_cast<std::uint16_t>(port), http::verb::get, "/driver");
  EXPECT_EQ(console.result_int(), 200);

  // The next stops in order, in English, as the passenger display receives them.
  std::vector<std::string> next_stops, subtitles;
  while (auto message = screen->read(std::chrono::seconds(10))) {
    const auto& m = *message;
    if (m.value("type", "") == "subtitle" && !m.value("withdrawn", false)) {
      subtitles.push_back(m.value("text", ""));
    }
    if (m.value("type", "") == "state" && m.contains("next_stop") && m["next_stop"].is_object()) {
      next_stops.push_back(m["next_stop"]["names"].value("en", ""));
    }
    if (m.value("type", "") == "next_stop" && m["next_stop"].is_object()) {
      next_stops.push_back(m["next_stop"]["names"].value("en", ""));
    }
    if (next_stops.size() >= 4 && subtitles.size() >= 3) break;
  }
  ASSERT_GE(next_stops.size(), 4u);
  // Duplicates are allowed (the whole state repeats the next stop); the order is what matters.
  next_stops.erase(std::unique(next_stops.begin(), next_stops.end()), next_stops.end());
  ASSERT_GE(next_stops.size(), 2u);
  EXPECT_EQ(next_stops[0], "OCT");
  EXPECT_EQ(next_stops[1], "Qiaocheng East");
  // The voice's subtitles, as media played them. Sixty times faster than recorded each stop comes
  // before its announcement is over: the stale one is cut and the next one follows, in order.
  ASSERT_GE(subtitles.size(), 3u);
  EXPECT_EQ(subtitles[0], "下一站，华侨城");
  auto second = std::find(subtitles.begin(), subtitles.end(), "下一站，侨城东");
  ASSERT_NE(second, subtitles.end());
  EXPECT_EQ(std::find(second, subtitles.end(), "下一站，华侨城"), subtitles.end())
      << "a stop the bus has passed is not announced again";
}

// The screens set the process's time zone (as the daemon does for its city); the test puts the
// one it found back.
class KeepTimeZone {
 public:
  KeepTimeZone() {
    if (const char* tz = std::getenv("TZ")) saved_ = tz;
  }
  ~KeepTimeZone() {
    if (saved_) {
      ::setenv("TZ", saved_->c_str(), 1);
    } else {
      ::unsetenv("TZ");
    }
    ::tzset();
  }

 private:
  std::optional<std::string> saved_;
};

// The UTC offset a display that connects now is given for its clock.
int displays_utc_offset(unsigned short port) {
  hmi::test::WsClient display(static_cast<std::uint16_t>(port));
  auto state = display.read_type("state");
  if (!state || !state->contains("utc_offset_min")) return -1;
  return (*state)["utc_offset_min"].get<int>();
}

// A bus in Berlin: the displays' clock shows summer time (UTC+2) in summer and winter time
// (UTC+1) in winter, and changes when the bus's time crosses the change in the night to the last
// Sunday of March (01:00 UTC), not an hour late for half of the year.
TEST(Screens, TheDisplaysClockFollowsDaylightSaving) {
  KeepTimeZone keep;
  TempDir dir;
  ASSERT_TRUE(routes::testing::import_demo(dir / "demo.db"));
  const auto bundle = routes::Bundle::open(dir / "demo.db");
  Pipeline pipeline(bundle, PipelineOptions{});  // no trip yet: the clock is shown all the same

  boost::asio::io_context io;
  auto work = boost::asio::make_work_guard(io);
  ScreensOptions options;
  options.port = 0;
  options.web_root = routes::testing::source_dir() + "/hmi/web";
  Screens screens(io, options, "Europe/Berlin");
  screens.start();
  std::thread thread([&io] { io.run(); });
  // One step of the bus at `utc` (a GPS outage: any event carries the bus's time), on the io
  // thread as in the daemon.
  auto step_at = [&](std::chrono::sys_seconds utc) {
    tracking::StopEvent event;
    event.type = tracking::StopEvent::Type::gps_lost;
    event.time = std::chrono::time_point_cast<tracking::Time::duration>(utc);
    std::packaged_task<void()> task([&] { screens.update(pipeline, {event}); });
    auto done = task.get_future();
    boost::asio::post(io, [&task] { task(); });
    done.get();
  };
  using namespace std::chrono;
  constexpr sys_days summer_day = year{2026} / July / 15;
  constexpr sys_days winter_day = year{2026} / December / 15;
  constexpr sys_days change_day = year{2026} / March / 29;

  step_at(summer_day + 10h);
  EXPECT_EQ(displays_utc_offset(screens.port()), 120);
  step_at(winter_day + 10h);
  EXPECT_EQ(displays_utc_offset(screens.port()), 60);
  step_at(change_day + 0h + 59min);  // 01:59 in Berlin, still winter time
  EXPECT_EQ(displays_utc_offset(screens.port()), 60);
  step_at(change_day + 1h + 1min);  // 03:01 in Berlin: the clocks went forward
  EXPECT_EQ(displays_utc_offset(screens.port()), 120);

  std::promise<void> stopped;
  boost::asio::post(io, [&] {
    screens.stop();
    stopped.set_value();
  });
  stopped.get_future().get();
  work.reset();
  io.stop();
  thread.join();
}

}  // namespace
}  // namespace stopcall::daemon
