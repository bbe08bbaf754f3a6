// The accessibility workflows end to end in the running daemon: `stopcalld replay --realtime`
// replays a recorded trip while the test plays the vehicle through the control socket, reacting
// to the stop events as the daemon logs them (a door opens when the bus has arrived, and so on).
// Asserted from the event log, the passenger display and the driver console: what riders hear,
// read and what the driver is told.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "daemon/vehicle/control.hpp"
#include "daemon/vehicle/control_socket.hpp"
#include "tests/hmi/test_client.hpp"
#include "tests/routes/test_feed.hpp"

namespace stopcall::daemon {
namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;
using routes::testing::TempDir;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

const std::string kBin = STOPCALL_BINARY_DIR;
const std::string kTrip = "101-WD-E-0630";

// The demo bundle, a clean recorded trip, and which stops the bus really stops at on it (from a
// fast replay of the same trace: the simulated driver skips stops nobody waits at).
class Fixture {
 public:
  Fixture() {
    bundle = dir / "demo.db";
    trace = dir / "trace.jsonl";
    if (!routes::testing::import_demo(bundle)) throw std::runtime_error("demo import failed");
    run(kBin + "/sim/stopcall-scenario generate --routes " + bundle + " --trip " + kTrip +
        " --noise clean --seed 2 --out-trace " + trace);
    run(kBin + "/daemon/stopcalld replay --routes " + bundle + " --gps " + trace + " --trip " +
        kTrip + " --no-block --events " + (dir / "fast.jsonl"));
    std::ifstream in(dir / "fast.jsonl");
    for (std::string line; std::getline(in, line);) {
      auto j = json::parse(line);
      if (j["type"] == "arrived") {
        arrived.push_back(j["stop_index"]);
        arrived_ids.push_back(j["stop_id"]);
      }
    }
  }
  static void run(const std::string& command) {
    if (std::system((command + " > /dev/null 2>&1").c_str()) != 0) {
      throw std::runtime_error("failed: " + command);
    }
  }

  TempDir dir;
  std::string bundle, trace;
  std::vector<int> arrived;  // stop indexes, in order
  std::vector<std::string> arrived_ids;
};

// One replaying daemon and its event log.
class ReplayedBus {
 public:
  ReplayedBus(const Fixture& f, const TempDir& dir, double speed, const std::string& extra) {
    control = dir / "control.sock";
    events = dir / "events.jsonl";
    port = 22000 + ::getpid() % 20000;
    std::string cmd = kBin + "/daemon/stopcalld replay --routes " + f.bundle + " --gps " + f.trace +
                      " --trip " + kTrip + " --no-block --realtime --speed " +
                      std::to_string(speed) + " --control " + control + " --events " + events +
                      " --audio 'fakesink sync=true' --linger 1 " + extra + " > " +
                      (dir / "daemon.log") + " 2>&1 & echo $!";
    FILE* started = ::popen(cmd.c_str(), "r");
    if (std::fscanf(started, "%d", &pid) != 1) pid = 0;
    ::pclose(started);
    for (int i = 0; i < 200 && !std::filesystem::exists(control); ++i)
      std::this_thread::sleep_for(25ms);
  }
  ~ReplayedBus() {
    ::kill(pid, SIGTERM);
    for (int i = 0; i < 200 && !finished(); ++i)
      std::this_thread::sleep_for(25ms);
  }
  bool running() const { return ::kill(pid, 0) == 0 && std::filesystem::exists(control); }
  bool finished() const { return ::kill(pid, 0) != 0; }  // (the shell's child: not ours to wait)

  vehicle::Reply send(const vehicle::Command& command) {
    return vehicle::send_command(control, vehicle::encode_command(command));
  }
  vehicle::Reply signal(vehicle::SignalName name, bool active, double kmh = 0) {
    vehicle::Signal s;
    s.name = name;
    s.active = active;
    s.speed_kmh = kmh;
    return send(s);
  }
  vehicle::Reply speed(double kmh) { return signal(vehicle::SignalName::speed, false, kmh); }
  vehicle::Reply press(vehicle::Button b) { return send(vehicle::ButtonPress{b, {}}); }

  // The log lines written since the last call.
  std::vector<json> fresh() {
    std::ifstream in(events);
    in.seekg(offset);
    std::vector<json> out;
    std::string line;
    while (std::getline(in, line)) {
      if (in.eof()) break;  // a line still being written
      offset += static_cast<std::streamoff>(line.size() + 1);
      out.push_back(json::parse(line));
    }
    all.insert(all.end(), out.begin(), out.end());
    return out;
  }

  std::string control, events;
  int pid = 0;
  int port = 0;
  std::streamoff offset = 0;
  std::vector<json> all;
};

bool is(const json& j, const char* type, int stop_index) {
  return j.value("type", "") == type && j.value("stop_index", -1) == stop_index;
}

std::vector<json> of_kind(const std::vector<json>& log, const std::string& type,
                          const std::string& kind) {
  std::vector<json> out;
  for (const auto& j : log) {
    if (j.value("type", "") == type && j.value("kind", "") == kind) out.push_back(j);
  }
  return out;
}

std::vector<std::string> fates(const std::vector<json>& log, const std::string& id) {
  std::vector<std::string> out;
  for (const auto& j : log) {
    if (j.value("type", "") == "request" && j.value("id", "") == id) out.push_back(j["fate"]);
  }
  return out;
}

class AccessibleTrip : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { fixture_ = new Fixture; }
  static void TearDownTestSuite() { delete fixture_; }
  static inline Fixture* fixture_ = nullptr;
  TempDir dir_;
};

TEST_F(AccessibleTrip, RampCycleBlindRiderAndWheelchairRequestAsTheBusRuns) {
  const auto& stops = fixture_->arrived;
  ASSERT_GE(stops.size(), 5u) << "the recorded trip stops too rarely for this scenario";
  // The stops where things happen: a ramp cycle at the first stop after the terminal, a blind
  // rider waiting at a later one, a wheelchair user on board asking for the ramp after that.
  const int ramp_stop = stops[1];
  const int blind_stop = stops[3];
  ReplayedBus bus(*fixture_, dir_, 30, "--door-signals");
  ASSERT_TRUE(bus.running());

  // A blind rider waits at `blind_stop` for route 101, somebody else there for route 202 (another
  // bus), and one request names no stop of this city.
  vehicle::BoardingRequestIn blind;
  blind.kind = vehicle::RequestKind::blind;
  blind.id = "blind-1";
  blind.stop_id = fixture_->arrived_ids[3];
  blind.route_id = "101";
  auto reply = bus.send(blind);
  EXPECT_TRUE(reply.ok) << reply.message;
  auto other = blind;
  other.id = "other-route";
  other.route_id = "202";
  EXPECT_TRUE(bus.send(other).ok);
  auto nowhere = blind;
  nowhere.id = "nowhere";
  nowhere.stop_id = "NO-SUCH-STOP";
  auto refused = bus.send(nowhere);
  EXPECT_FALSE(refused.ok);
  EXPECT_EQ(refused.error, "unknown_stop");

  // Then play the vehicle as the bus runs.
  bool ramp_done = false, blind_doors = false, wheelchair_pressed = false;
  bool wheelchair_served = false, alarm_sent = false;
  int wheelchair_stop = -1;
  const auto deadline = std::chrono::steady_clock::now() + 150s;
  while (!bus.finished() && std::chrono::steady_clock::now() < deadline) {
    for (const auto& e : bus.fresh()) {
      if (is(e, "arrived", ramp_stop) && !ramp_done) {
        ramp_done = true;
        bus.speed(0);
        EXPECT_TRUE(bus.signal(vehicle::SignalName::door, true).ok);
        bus.signal(vehicle::SignalName::door, false);  // the door switch bounces
        bus.signal(vehicle::SignalName::door, true);
        auto first = bus.press(vehicle::Button::ramp_assist);
        EXPECT_TRUE(first.ok) << first.message;
        bus.press(vehicle::Button::ramp_assist);  // pressed twice: one announcement
        bus.signal(vehicle::SignalName::ramp, true);
        std::this_thread::sleep_for(250ms);  // 7.5 s of bus time: a warning tone outside
        bus.signal(vehicle::SignalName::ramp, false);
        bus.signal(vehicle::SignalName::door, false);
      }
      if (is(e, "arrived", blind_stop) && !blind_doors) {
        blind_doors = true;
        bus.speed(0);
        bus.signal(vehicle::SignalName::door, true);
        std::this_thread::sleep_for(100ms);
        bus.signal(vehicle::SignalName::door, false);
      }
      if (is(e, "next_stop", blind_stop + 1) && !wheelchair_pressed) {
        wheelchair_pressed = true;
        wheelchair_stop = blind_stop + 1;
        auto pressed = bus.press(vehicle::Button::wheelchair_request);
        EXPECT_TRUE(pressed.ok) << pressed.message;
      }
      if (e["type"] == "arrived" && wheelchair_pressed && !wheelchair_served &&
          e["stop_index"].get<int>() >= wheelchair_stop) {
        wheelchair_served = true;
        bus.speed(0);
        bus.signal(vehicle::SignalName::door, true);
        bus.signal(vehicle::SignalName::ramp, true);
        bus.signal(vehicle::SignalName::ramp, false);
        bus.signal(vehicle::SignalName::door, false);
      } else if (e["type"] == "next_stop" && wheelchair_served && !alarm_sent) {
        // Leaving the stop with the ramp reported out: the driver must be alarmed.
        alarm_sent = true;
        bus.speed(30);
        bus.signal(vehicle::SignalName::ramp, true);
        std::this_thread::sleep_for(50ms);
        bus.signal(vehicle::SignalName::ramp, false);
      }
    }
    std::this_thread::sleep_for(10ms);
  }
  bus.fresh();
  ASSERT_TRUE(ramp_done && blind_doors && wheelchair_pressed && wheelchair_served && alarm_sent)
      << "the trip ended before the scenario did";
  const auto& log = bus.all;

  // Ramp cycle: one "ramp deploying" inside and outside despite two presses, a warning tone
  // outside while the ramp was out, the prompt on the displays up and then down.
  auto arrived_at = std::find_if(log.begin(), log.end(),
                                 [&](const json& j) { return is(j, "arrived", ramp_stop); });
  auto left = std::find_if(arrived_at, log.end(),
                           [&](const json& j) { return j.value("type", "") == "next_stop"; });
  auto ramp = of_kind(std::vector<json>(arrived_at, left), "announcement", "ramp_assist");
  ASSERT_EQ(ramp.size(), 1u);
  EXPECT_EQ(ramp[0]["outputs"], json::array({"interior", "exterior"}));
  EXPECT_EQ(ramp[0]["priority"], "accessibility");
  EXPECT_EQ(ramp[0]["languages"], json::array({"zh-Hans", "yue", "en"}));
  EXPECT_EQ(ramp[0]["text"]["en"], "Ramp deploying, please stand clear.");
  EXPECT_GE(of_kind(log, "announcement", "ramp_warning").size(), 1u);
  auto ramp_prompts = of_kind(log, "prompt", "ramp_assist");
  ASSERT_GE(ramp_prompts.size(), 2u);
  EXPECT_EQ(ramp_prompts.front()["to"], "passenger");
  EXPECT_TRUE(ramp_prompts.front()["active"]);
  EXPECT_FALSE(ramp_prompts.back()["active"]);

  // People outside hear the route once per stop where the doors opened (the bounce is one).
  auto exterior = of_kind(log, "announcement", "exterior_route");
  EXPECT_EQ(exterior.size(), 3u) << "ramp stop, blind rider's stop, wheelchair stop";
  for (const auto& a : exterior) {
    EXPECT_EQ(a["outputs"], json::array({"exterior"}));
    EXPECT_EQ(a["text"]["en"], "Route 101 to Grand Theater");
  }

  // The blind rider: the route repeated outside only while approaching and standing at their
  // stop (between the approaching event and the doors), served when the bus left.
  bool approaching = false, doors_open = false;
  int repeats_in_window = 0, repeats_elsewhere = 0;
  for (const auto& j : log) {
    if (is(j, "approaching", blind_stop)) approaching = true;
    if (j.value("type", "") == "signal" && j.value("signal", "") == "door" && approaching &&
        j.value("state", "") == "open") {
      doors_open = true;
    }
    if (j.value("type", "") == "announcement" && j.value("kind", "") == "boarding_request") {
      (approaching && !doors_open ? repeats_in_window : repeats_elsewhere)++;
    }
  }
  EXPECT_GE(repeats_in_window, 1);
  EXPECT_EQ(repeats_elsewhere, 0);
  EXPECT_THAT(fates(log, "blind-1"), ElementsAre("pending", "shown", "served"));
  EXPECT_THAT(fates(log, "other-route"), ::testing::Not(::testing::Contains("shown")))
      << "a request for another route is never shown on this bus";

  // The wheelchair user on board: a tone and "the driver has been told", "ramp needed" on the
  // console, served by the ramp cycle at their stop.
  EXPECT_EQ(of_kind(log, "announcement", "wheelchair_request").size(), 1u);
  auto asked = of_kind(log, "prompt", "wheelchair_request");
  ASSERT_GE(asked.size(), 2u);
  EXPECT_EQ(asked[0]["to"], "passenger");
  EXPECT_THAT(asked[0]["text"]["en"].get<std::string>(),
              ::testing::HasSubstr("the driver has been told"));
  EXPECT_EQ(asked[1]["to"], "driver");
  EXPECT_THAT(asked[1]["text"]["en"].get<std::string>(), ::testing::StartsWith("Ramp needed at"));
  auto served = fates(log, "onboard-1");
  ASSERT_FALSE(served.empty());
  EXPECT_EQ(served.back(), "served");

  // Ramp out while moving: the driver's alarm.
  auto alarm = of_kind(log, "prompt", "ramp_moving_alarm");
  ASSERT_FALSE(alarm.empty());
  EXPECT_EQ(alarm[0]["to"], "driver");
  EXPECT_TRUE(alarm[0]["active"]);

  // Every signal is in the log.
  auto signals = std::count_if(log.begin(), log.end(),
                               [](const json& j) { return j.value("type", "") == "signal"; });
  EXPECT_GE(signals, 20);
}

TEST_F(AccessibleTrip, TheDriverConsoleRampButtonReachesVoiceAndPassengerDisplay) {
  const int port = 23000 + ::getpid() % 20000;
  ReplayedBus bus(*fixture_, dir_, 5,
                  "--http 127.0.0.1:" + std::to_string(port) + " --driver-token cab-42");
  ASSERT_TRUE(bus.running());
  std::unique_ptr<hmi::test::WsClient> display, console;
  for (int i = 0; i < 100 && !console; ++i) {
    try {
      display = std::make_unique<hmi::test::WsClient>(static_cast<std::uint16_t>(port));
      console = std::make_unique<hmi::test::WsClient>(static_cast<std::uint16_t>(port),
                                                      "/ws?role=driver&token=cab-42");
    } catch (const std::exception&) {
      std::this_thread::sleep_for(50ms);
    }
  }
  ASSERT_TRUE(console) << "the replay never served the screens";
  bus.speed(0);  // standing at the terminal

  auto reply = console->request({{"type", "ramp_assist"}, {"id", "c1"}});
  ASSERT_TRUE(reply);
  EXPECT_EQ((*reply)["ok"], true) << reply->dump();

  // The passenger display: the ramp prompt, then the spoken warning as its subtitle.
  bool prompt = false, subtitle = false;
  while (auto m = display->read(5s)) {
    if ((*m)["type"] == "prompt" && (*m)["id"] == "ramp" && (*m)["active"] == true) {
      prompt = true;
      EXPECT_EQ((*m)["kind"], "ramp_deploying");
      EXPECT_EQ((*m)["text"]["en"], "Ramp deploying, please stand clear");
    }
    if ((*m)["type"] == "subtitle" && (*m)["text"] == "坡板正在放下，请勿靠近。") subtitle = true;
    if (prompt && subtitle) break;
  }
  EXPECT_TRUE(prompt);
  EXPECT_TRUE(subtitle) << "the warning is spoken (and subtitled as it plays)";

  // The console's volume is answered and logged; the log has the announcement.
  auto volume = console->request(
      {{"type", "set_volume"}, {"id", "c2"}, {"output", "exterior"}, {"level", 40}});
  ASSERT_TRUE(volume);
  EXPECT_EQ((*volume)["ok"], true);

  // Trip login: an unknown trip is refused and changes nothing; a real one is what the
  // displays show from then on. The console lists the trips running now to choose from.
  auto wrong = console->request({{"type", "login_trip"}, {"id", "c3"}, {"trip_id", "NO-TRIP"}});
  ASSERT_TRUE(wrong);
  EXPECT_EQ((*wrong)["ok"], false);
  auto login =
      console->request({{"type", "login_trip"}, {"id", "c4"}, {"trip_id", "101-WD-W-0720"}});
  ASSERT_TRUE(login);
  EXPECT_EQ((*login)["ok"], true) << login->dump();
  std::optional<json> state;
  while (auto m = display->read(5s)) {
    if ((*m)["type"] == "state" && (*m)["trip"].is_object() &&
        (*m)["trip"]["id"] == "101-WD-W-0720") {
      state = m;
      break;
    }
  }
  ASSERT_TRUE(state) << "the displays follow the driver's login";
  EXPECT_FALSE((*state)["trip_options"].empty());
  std::this_thread::sleep_for(100ms);
  bus.fresh();
  auto ramp = of_kind(bus.all, "announcement", "ramp_assist");
  ASSERT_EQ(ramp.size(), 1u);
  EXPECT_EQ(ramp[0]["outputs"], json::array({"interior", "exterior"}));
  bool volume_logged = false;
  for (const auto& j : bus.all)
    volume_logged |= j.value("type", "") == "volume" && j.value("level", 0) == 40;
  EXPECT_TRUE(volume_logged);
}

}  // namespace
}  // namespace stopcall::daemon
