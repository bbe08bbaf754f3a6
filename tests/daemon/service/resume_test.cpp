// After a crash or a power cut mid-trip the daemon resumes the same trip: nothing said before the
// crash is said again, nothing due after the restart is missed. Replay-driven: a real-time replay
// is killed with SIGKILL mid-trip, then the rest of the trace is replayed with the same state file.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "daemon/service/state_store.hpp"
#include "tests/routes/test_feed.hpp"

namespace stopcall::daemon {
namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;
using routes::testing::TempDir;

const std::string kBin = STOPCALL_BINARY_DIR;

std::vector<json> lines_of(const std::string& path) {
  std::vector<json> out;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) out.push_back(json::parse(line));
  }
  return out;
}

// "next_stop 5", "approaching 5": what riders hear, per stop.
std::string said(const json& e) {
  const std::string type = e.value("type", "");
  if ((type != "next_stop" && type != "approaching") || !e.contains("stop_index")) return {};
  return type + " " + std::to_string(e["stop_index"].get<int>());
}

TEST(StateStore, SavesAndLoadsTheLastStopEvent) {
  TempDir dir;
  SavedState s{"101-WD-E-0630", 4, tracking::StopEvent::Type::approaching,
               tracking::Time{std::chrono::milliseconds(1767225600123)}};
  {
    StateStore store(dir / "state.db");
    EXPECT_FALSE(store.load());
    store.save(s);
    s.stop_index = 5;
    store.save(s);
  }
  StateStore again(dir / "state.db");
  auto loaded = again.load();
  ASSERT_TRUE(loaded);
  EXPECT_EQ(*loaded, s);
  again.clear();
  EXPECT_FALSE(again.load());
  EXPECT_THROW(StateStore("/nonexistent/dir/state.db"), std::runtime_error);
}

// The fleet commands taken lately are known again after a restart: none is taken twice.
TEST(StateStore, KeepsTheFleetCommandsTakenAcrossARestart) {
  TempDir dir;
  const tracking::Time t{std::chrono::milliseconds(1772437800000)};
  {
    StateStore store(dir / "state.db");
    EXPECT_TRUE(store.load_fleet_nonces().empty());
    store.save_fleet_nonces({{"nonce-aaaa", t}});
    store.save_fleet_nonces({{"nonce-aaaa", t}, {"nonce-bbbb", t + 1s}});
  }
  StateStore again(dir / "state.db");
  const std::vector<std::pair<std::string, tracking::Time>> want = {{"nonce-aaaa", t},
                                                                    {"nonce-bbbb", t + 1s}};
  EXPECT_EQ(again.load_fleet_nonces(), want);
}

TEST(Resume, AfterSigkillMidTripNothingIsRepeatedAndNothingMissed) {
  TempDir dir;
  const std::string bundle = dir / "demo.db", trace = dir / "trace.jsonl";
  ASSERT_TRUE(routes::testing::import_demo(bundle));
  ASSERT_EQ(std::system((kBin + "/sim/stopcall-scenario generate --routes " + bundle +
                         " --trip 101-WD-E-0630 --noise clean --seed 2 --out-trace " + trace +
                         " > /dev/null 2>&1")
                            .c_str()),
            0);
  // The whole trip without a crash: what should be said.
  ASSERT_EQ(std::system((kBin + "/daemon/stopcalld replay --routes " + bundle + " --gps " + trace +
                         " --trip 101-WD-E-0630 --no-block --events " + (dir / "full.jsonl") +
                         " 2> /dev/null")
                            .c_str()),
            0);
  const auto full = lines_of(dir / "full.jsonl");

  // Run 1: killed with SIGKILL once the sixth "next stop" has been decided.
  const std::string state = dir / "state.db";
  std::string cmd = kBin + "/daemon/stopcalld replay --routes " + bundle + " --gps " + trace +
                    " --trip 101-WD-E-0630 --no-block --realtime --speed 40 --state " + state +
                    " --events " + (dir / "run1.jsonl") + " 2> /dev/null & echo $!";
  FILE* started = ::popen(cmd.c_str(), "r");
  int pid = 0;
  ASSERT_EQ(std::fscanf(started, "%d", &pid), 1);
  ::pclose(started);
  for (int i = 0; i < 1200; ++i) {
    int next_stops = 0;
    for (const auto& e : lines_of(dir / "run1.jsonl"))
      next_stops += e.value("type", "") == "next_stop";
    if (next_stops >= 6) break;
    std::this_thread::sleep_for(50ms);
  }
  ::kill(pid, SIGKILL);
  std::this_thread::sleep_for(200ms);
  const auto run1 = lines_of(dir / "run1.jsonl");
  ASSERT_FALSE(run1.empty());
  auto saved = StateStore(state).load();
  ASSERT_TRUE(saved) << "the state survived SIGKILL";
  EXPECT_EQ(saved->trip_id, "101-WD-E-0630");

  // Run 2: the bus computer is back 5 s (of trip time) after the last event it logged, with
  // auto-detection on: it must resume from the state, not detect again.
  const auto restart = saved->time + 5s;
  {
    std::ifstream in(trace);
    std::ofstream out(dir / "rest.jsonl");
    for (std::string line; std::getline(in, line);) {
      auto j = json::parse(line, nullptr, false);
      if (j.is_discarded() || !j.contains("time")) continue;
      if (j["time"].get<std::string>() > tracking::format_time(restart)) out << line << "\n";
    }
  }
  ASSERT_EQ(std::system((kBin + "/daemon/stopcalld replay --routes " + bundle + " --gps " +
                         (dir / "rest.jsonl") + " --auto --no-block --realtime --speed 200 " +
                         "--state " + state + " --events " + (dir / "run2.jsonl") + " 2> /dev/null")
                            .c_str()),
            0);
  auto run2 = lines_of(dir / "run2.jsonl");
  // (The daemon first records the city's time zone, for the report.)
  std::erase_if(run2, [](const json& e) { return e.value("type", "") == "time_zone"; });
  ASSERT_FALSE(run2.empty());
  EXPECT_EQ(run2.front().value("type", ""), "trip_resumed") << run2.front().dump();
  EXPECT_EQ(run2.front().value("trip_id", ""), "101-WD-E-0630");

  // No repeat: nothing heard before the crash is heard again after it.
  std::set<std::string> before, after;
  for (const auto& e : run1)
    if (auto s = said(e); !s.empty()) before.insert(s);
  for (const auto& e : run2) {
    auto s = said(e);
    if (s.empty()) continue;
    EXPECT_FALSE(before.count(s)) << "repeated after the restart: " << s;
    EXPECT_TRUE(after.insert(s).second) << "said twice after the restart: " << s;
  }
  // No miss: everything the uninterrupted trip says after the restart (plus the join: 3 fixes)
  // is said, and everything before the crash was said then.
  const std::string join_done = tracking::format_time(restart + 3s);
  const std::string crash = tracking::format_time(saved->time);
  for (const auto& e : full) {
    auto s = said(e);
    if (s.empty()) continue;
    const std::string t = e["time"];
    if (t > join_done) {
      EXPECT_TRUE(after.count(s)) << "missed after the restart: " << s;
    }
    if (t <= crash) {
      EXPECT_TRUE(before.count(s)) << "missed before the crash: " << s;
    }
  }
  EXPECT_GE(after.size(), 6u);
}

}  // namespace
}  // namespace stopcall::daemon
