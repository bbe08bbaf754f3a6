// Emergency and service messages through everything on board: the real control socket brings
// them in, the real voice says them into WAV files, and the event log says what a depot would see.
// The bus's clock is the test's (GPS time in the daemon), so a minute passes at once: repeats are
// checked by ticking Onboard as the run loop does, without waiting a minute.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <future>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "daemon/onboard.hpp"
#include "daemon/pipeline.hpp"
#include "daemon/vehicle/control.hpp"
#include "daemon/vehicle/control_socket.hpp"
#include "routes/importer.hpp"
#include "tests/daemon/drive.hpp"
#include "tests/hmi/test_client.hpp"
#include "tests/media/test_support.hpp"
#include "tests/routes/test_feed.hpp"

namespace stopcall::daemon {
namespace {

namespace asio = boost::asio;
using namespace std::chrono;
using namespace std::chrono_literals;
using json = nlohmann::json;
using routes::testing::TempDir;
using ::testing::EndsWith;
using ::testing::IsEmpty;

const std::string kTrip = "101-WD-E-0630";

// Local 06:30 on Monday 2 March 2026 in Shenzhen (UTC+8): the trip's departure.
tracking::Time departure() {
  return tracking::Time(sys_days{year{2026} / 3 / 2} + hours(6 - 8) + minutes(30));
}

// The demo bundle with its announcement data (the message presets), and one without it.
class Bundles {
 public:
  Bundles() {
    if (!routes::testing::import_demo(dir / "demo.db")) throw std::runtime_error("demo import");
    routes::ImportOptions bare;
    bare.feed = routes::testing::source_dir() + "/routes/demo/shenzhen-101";
    bare.output = dir / "bare.db";
    if (!routes::import_feed(bare).written) throw std::runtime_error("bare import");
    demo = std::make_unique<routes::Bundle>(routes::Bundle::open(dir / "demo.db"));
    no_presets = std::make_unique<routes::Bundle>(routes::Bundle::open(dir / "bare.db"));
  }
  TempDir dir;
  std::unique_ptr<routes::Bundle> demo, no_presets;
};

// Onboard on its own io thread, as in the daemon: a control socket, the voice into WAV files
// (inside and outside), the event log in memory. The test owns the bus's clock.
class Bus {
 public:
  Bus(const routes::Bundle& bundle, const TempDir& dir, bool screens = false,
      const std::string& state_file = {})
      : pipeline_(bundle, [] {
          PipelineOptions o;
          o.trip_id = kTrip;
          return o;
        }()) {
    socket = dir / "control.sock";
    OnboardOptions options;
    options.control_socket = socket;
    options.state_file = state_file;
    media::EngineConfig voice;
    voice.interior.sink = "wavenc ! filesink location=\"" + (dir / "interior.wav") + "\"";
    voice.exterior.sink = "wavenc ! filesink location=\"" + (dir / "exterior.wav") + "\"";
    voice.realtime_priority = 0;
    options.media = voice;
    if (screens) {
      ScreensOptions pages;
      pages.port = 0;
      pages.web_root = routes::testing::source_dir() + "/hmi/web";
      pages.driver_token = "cab";
      options.screens = pages;
    }
    now_ms_ = departure().time_since_epoch().count();
    onboard_ = std::make_unique<Onboard>(
        io_, bundle, pipeline_, std::move(options),
        [this] { return tracking::Time(milliseconds(now_ms_.load())); }, events_, log_);
    onboard_->start();
    thread_ = std::thread([this] { io_.run(); });
  }
  // Runs f on the io thread (where everything on board runs) and returns what it returns.
  template <class F>
  auto on_io(F f) {
    std::packaged_task<decltype(f())()> task(std::move(f));
    auto done = task.get_future();
    asio::post(io_, [&task] { task(); });
    return done.get();
  }

  ~Bus() {
    on_io([this] { onboard_->stop(); });
    guard_.reset();
    io_.stop();
    thread_.join();
  }

  vehicle::Reply send(const std::string& line) { return vehicle::send_command(socket, line); }
  vehicle::Reply send(const vehicle::Command& command) {
    return send(vehicle::encode_command(command));
  }
  // The vehicle's emergency input (a panic switch, the fire system).
  vehicle::Reply emergency(bool active) {
    vehicle::Signal s;
    s.name = vehicle::SignalName::emergency;
    s.active = active;
    return send(s);
  }

  // The bus's clock moves on by `by`, ticked each second as the run loop does.
  void pass(seconds by) {
    for (seconds s{0}; s < by; ++s) {
      now_ms_ += 1000;
      on_io([this] { onboard_->tick(pipeline_); });
    }
  }
  // The trip's fixes, one a second, until `until` says stop (given the events of each step).
  void drive(const std::vector<tracking::Fix>& fixes, std::size_t& next,
             const std::function<bool(const std::vector<tracking::StopEvent>&)>& until) {
    for (; next < fixes.size(); ++next) {
      const auto& fix = fixes[next];
      now_ms_ = fix.time.time_since_epoch().count();
      auto events = on_io([&] {
        std::vector<tracking::StopEvent> out;
        pipeline_.on_fix(fix, out);
        onboard_->step(pipeline_, out);
        onboard_->tick(pipeline_);
        return out;
      });
      if (until(events)) {
        ++next;
        return;
      }
    }
  }

  // The event log so far, one JSON object a line.
  std::vector<json> log() {
    const std::string text = on_io([this] { return events_.str(); });
    std::vector<json> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
      out.push_back(json::parse(line));
    return out;
  }
  std::vector<json> lines(const std::string& type, const std::string& event = {}) {
    std::vector<json> out;
    for (auto& j : log()) {
      if (j.value("type", "") == type && (event.empty() || j.value("event", "") == event))
        out.push_back(std::move(j));
    }
    return out;
  }
  // Waits (wall time) until the voice has finished `announcement` on every output.
  bool wait_finished(const std::string& announcement, int outputs = 2) {
    const auto deadline = steady_clock::now() + 60s;
    while (steady_clock::now() < deadline) {
      int done = 0;
      for (const auto& j : lines("announcement_result"))
        done += j.value("id", "") == announcement;
      if (done >= outputs) return true;
      std::this_thread::sleep_for(50ms);
    }
    return false;
  }
  unsigned short http_port() const { return onboard_->http_port(); }
  std::string daemon_log() {
    return on_io([this] { return log_.str(); });
  }

  std::string socket;

 private:
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> guard_{io_.get_executor()};
  Pipeline pipeline_;
  std::atomic<long long> now_ms_{0};
  std::ostringstream events_, log_;
  std::unique_ptr<Onboard> onboard_;
  std::thread thread_;
};

// Whether the step's events hold one of `type` (at stop `index`, when given).
bool has(const std::vector<tracking::StopEvent>& events, tracking::StopEvent::Type type,
         std::optional<int> index = std::nullopt) {
  return std::any_of(events.begin(), events.end(), [&](const tracking::StopEvent& e) {
    return e.type == type && (!index || e.stop_index == index);
  });
}
// The bus leaves a stop: "next stop" is due.
bool leaving(const std::vector<tracking::StopEvent>& events) {
  return has(events, tracking::StopEvent::Type::next_stop);
}

class OnboardMessages : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { bundles_ = new Bundles; }
  static void TearDownTestSuite() { delete bundles_; }
  static inline Bundles* bundles_ = nullptr;
  TempDir dir_;
};

std::vector<std::string> kinds_of(const std::vector<json>& announcements) {
  std::vector<std::string> out;
  for (const auto& a : announcements)
    out.push_back(a["kind"]);
  return out;
}

TEST_F(OnboardMessages, APresetFromTheControlSocketIsSaidInEveryLanguageAfterItsTone) {
  Bus bus(*bundles_->demo, dir_);
  auto reply = bus.send(R"({"cmd":"message","preset":"evacuate"})");
  ASSERT_TRUE(reply.ok) << reply.error << ": " << reply.message;

  // Pressed again while it is on: not a second emergency said over the first.
  auto again = bus.send(R"({"cmd":"message","preset":"evacuate"})");
  EXPECT_TRUE(again.ok);
  EXPECT_THAT(again.message, ::testing::HasSubstr("already on"));

  auto sent = bus.lines("message", "sent");
  ASSERT_EQ(sent.size(), 1u);
  const std::string id = sent[0]["id"];
  EXPECT_EQ(sent[0]["kind"], "emergency");
  EXPECT_EQ(sent[0]["source"], "control");
  EXPECT_EQ(sent[0]["preset"], "evacuate");
  EXPECT_EQ(sent[0]["languages"], json::array({"zh-Hans", "yue", "en"}));
  EXPECT_FALSE(sent[0].contains("missing") && !sent[0]["missing"].empty());
  auto said = bus.lines("message", "said");
  ASSERT_EQ(said.size(), 1u);
  EXPECT_EQ(said[0]["times"], 1);
  // The attention tone, then the words, inside and outside, as a safety announcement.
  auto announced = bus.lines("announcement");
  ASSERT_EQ(announced.size(), 2u);
  EXPECT_EQ(announced[0]["id"], "msg:" + id + ":1:tone");
  EXPECT_EQ(announced[1]["id"], "msg:" + id + ":1");
  for (const auto& a : announced) {
    EXPECT_EQ(a["kind"], "emergency_message");
    EXPECT_EQ(a["priority"], "safety");
    EXPECT_EQ(a["outputs"], json::array({"interior", "exterior"}));
  }
  EXPECT_EQ(announced[1]["languages"], json::array({"zh-Hans", "yue", "en"}));
  EXPECT_EQ(announced[1]["text"]["en"],
            "Emergency. Please stay calm, leave the bus by the nearest door and follow the "
            "driver's instructions.");
  // Really heard on both speakers.
  ASSERT_TRUE(bus.wait_finished("msg:" + id + ":1")) << bus.daemon_log();
  auto heard = bus.lines("message", "heard");
  std::set<std::string> where;
  for (const auto& h : heard)
    where.insert(h["output"]);
  EXPECT_EQ(where, (std::set<std::string>{"interior", "exterior"}));
}

TEST_F(OnboardMessages, WordsSentWithoutAPresetGoOutInTheLanguagesTheyHave) {
  Bus bus(*bundles_->demo, dir_);
  vehicle::MessageIn in;
  in.kind = "service";
  in.message_id = "lift-out";
  in.text = {{"zh-Hans", "本车轮椅升降台暂停使用。"}, {"en", "The wheelchair lift is out of use."}};
  auto reply = bus.send(in);
  ASSERT_TRUE(reply.ok) << reply.error << ": " << reply.message;

  auto sent = bus.lines("message", "sent");
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0]["id"], "lift-out");
  EXPECT_EQ(sent[0]["kind"], "service");
  EXPECT_FALSE(sent[0].contains("preset"));
  EXPECT_EQ(sent[0]["languages"], json::array({"zh-Hans", "en"}));
  EXPECT_EQ(sent[0]["missing"], json::array({"yue"}));
  EXPECT_THAT(bus.daemon_log(), ::testing::HasSubstr("lift-out has no text in yue"));
  // Inside only, after what is playing: no tone, information priority.
  auto announced = bus.lines("announcement");
  ASSERT_EQ(announced.size(), 1u);
  EXPECT_EQ(announced[0]["id"], "msg:lift-out:1");
  EXPECT_EQ(announced[0]["kind"], "service_message");
  EXPECT_EQ(announced[0]["priority"], "information");
  EXPECT_EQ(announced[0]["outputs"], json::array({"interior"}));
  EXPECT_EQ(announced[0]["languages"], json::array({"zh-Hans", "en"}));

  // Cancelled from the control socket: ended, and a second cancel finds nothing.
  reply = bus.send(vehicle::MessageEnd{vehicle::MessageEnd::Action::cancel, "lift-out", {}});
  EXPECT_TRUE(reply.ok) << reply.message;
  auto cancelled = bus.lines("message", "cancelled");
  ASSERT_EQ(cancelled.size(), 1u);
  EXPECT_EQ(cancelled[0]["note"], "control");
  reply = bus.send(vehicle::MessageEnd{vehicle::MessageEnd::Action::cancel, "lift-out", {}});
  EXPECT_FALSE(reply.ok);
  EXPECT_EQ(reply.error, "unknown_message");
}

TEST_F(OnboardMessages, TheEmergencyInputStartsTheConfiguredPreset) {
  Bus bus(*bundles_->demo, dir_);
  auto reply = bus.emergency(true);
  ASSERT_TRUE(reply.ok) << reply.error << ": " << reply.message;
  auto sent = bus.lines("message", "sent");
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0]["preset"], "evacuate");
  EXPECT_EQ(sent[0]["kind"], "emergency");
  EXPECT_EQ(sent[0]["source"], "control");
  EXPECT_THAT(bus.lines("fault"), IsEmpty());
  // The input held on (or bouncing) is the same emergency; clear leaves it on.
  EXPECT_TRUE(bus.emergency(true).ok);
  EXPECT_TRUE(bus.emergency(false).ok);
  EXPECT_EQ(bus.lines("message", "sent").size(), 1u);
  EXPECT_THAT(bus.lines("message", "cancelled"), IsEmpty());
  auto signals = bus.lines("signal");
  ASSERT_EQ(signals.size(), 3u);
  EXPECT_EQ(signals[2]["state"], "clear");
}

TEST_F(OnboardMessages, WithoutPresetsTheEmergencyInputGivesTheBuiltInWordsAndAFault) {
  Bus bus(*bundles_->no_presets, dir_);
  auto reply = bus.emergency(true);
  ASSERT_TRUE(reply.ok) << reply.error << ": " << reply.message;
  auto faults = bus.lines("fault");
  ASSERT_EQ(faults.size(), 1u);
  EXPECT_EQ(faults[0]["kind"], "emergency_preset_missing");
  auto sent = bus.lines("message", "sent");
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0]["kind"], "emergency");
  EXPECT_FALSE(sent[0].contains("preset"));
  EXPECT_EQ(sent[0]["languages"], json::array({"zh-Hans", "yue", "en"}));
  auto announced = bus.lines("announcement");
  ASSERT_EQ(announced.size(), 2u);
  EXPECT_EQ(announced[1]["text"]["en"], "Emergency. Please follow the driver's instructions.");
  EXPECT_EQ(announced[1]["text"]["zh-Hans"], "紧急情况，请听从司机指示。");
  // A preset asked for by name is refused on this bus, with why.
  reply = bus.send(R"({"cmd":"message","preset":"fire"})");
  EXPECT_FALSE(reply.ok);
  EXPECT_EQ(reply.error, "unknown_preset");
  EXPECT_EQ(bus.lines("message", "sent").size(), 1u);
}

TEST_F(OnboardMessages, MalformedMessagesAreRefusedAndChangeNothing) {
  Bus bus(*bundles_->demo, dir_);
  for (
      const std::string line : {
          R"({"cmd":"message"})",
          R"({"cmd":"message","kind":"alarm","text":{"en":"Hello"}})",
          R"({"cmd":"message","kind":"service","message_id":"m1"})",
          R"({"cmd":"message","kind":"service","message_id":"m1","text":{"en":""}})",
          R"({"cmd":"message","kind":"service","message_id":"m1","text":{"en":42}})",
          R"({"cmd":"message","kind":"service","message_id":"m1","text":{"e n!":"Hi"}})",
          R"({"cmd":"message","kind":"service","message_id":"m1","text":{"en":"Hi"},"outputs":"roof"})",
          R"({"cmd":"message","kind":"service","message_id":"m1","text":{"en":"Hi"},"expires":"soon"})",
          R"({"cmd":"message","kind":"service","message_id":"m1","text":{"en":"Hi"},"repeats":99})",
          R"({"cmd":"message","kind":"emergency","message_id":"m1","text":{"en":"Hi"},"repeat_every_s":1})",
          R"({"cmd":"message","kind":"service","message_id":"","text":{"en":"Hi"}})",
          R"({"cmd":"message","preset":""})",
          R"({"cmd":"message","ack":""})",
          R"({"cmd":"message","cancel":7})",
      }) {
    auto reply = bus.send(line);
    EXPECT_FALSE(reply.ok) << line;
    EXPECT_EQ(reply.error, "bad_request") << line << ": " << reply.message;
    EXPECT_FALSE(reply.message.empty()) << line;
  }
  EXPECT_THAT(bus.lines("message", "sent"), IsEmpty());
  EXPECT_THAT(bus.lines("announcement"), IsEmpty());
  // Nothing was kept: the id is free, and the bus takes the message when it is well formed.
  auto reply =
      bus.send(R"({"cmd":"message","kind":"service","message_id":"m1","text":{"en":"Hi"}})");
  EXPECT_TRUE(reply.ok) << reply.message;
  EXPECT_EQ(bus.lines("message", "sent").size(), 1u);
}

// What a rider hears, from the interior speaker's WAV file: "next stop" is playing, the fire
// alarm's tone cuts into it, and once the emergency is over "next stop" is said again. (How soon
// the tone follows the trigger is a bench figure, tools/bench messages; here it is only reported.)
TEST_F(OnboardMessages, AnEmergencyCutsIntoNextStopWhichIsSaidAgainAfterIt) {
  json cut_result, after_sound, next_sound, tone_sound;
  double trigger_to_tone_ms = 0;
  {
    Bus bus(*bundles_->demo, dir_);
    const auto trip = bundles_->demo->load_trip(kTrip);
    const auto fixes = testing::drive(trip, departure());
    std::size_t next = 0;
    bus.drive(fixes, next, leaving);
    const auto first_sound = [&](const std::string& prefix, const std::string& suffix) {
      const auto deadline = steady_clock::now() + 30s;
      while (steady_clock::now() < deadline) {
        for (const auto& j : bus.lines("sound")) {
          const std::string id = j.value("id", "");
          if (j["output"] == "interior" && id.starts_with(prefix) && id.ends_with(suffix)) return j;
        }
        std::this_thread::sleep_for(10ms);
      }
      return json();
    };
    next_sound = first_sound(kTrip, ":next_stop");
    ASSERT_FALSE(next_sound.is_null()) << bus.daemon_log();
    std::this_thread::sleep_for(1500ms);  // the chime is over, the first language is being said
    const auto trigger = steady_clock::now();
    ASSERT_TRUE(bus.send(R"({"cmd":"message","preset":"fire","message_id":"fire"})").ok);
    tone_sound = first_sound("msg:fire:", ":tone");
    ASSERT_FALSE(tone_sound.is_null()) << bus.daemon_log();
    trigger_to_tone_ms =
        (tone_sound["mono_ns"].get<double>() -
         static_cast<double>(duration_cast<nanoseconds>(trigger.time_since_epoch()).count())) /
        1e6;
    std::this_thread::sleep_for(3s);  // its tone and its first words
    ASSERT_TRUE(bus.send(R"({"cmd":"message","cancel":"fire"})").ok);
    after_sound = first_sound(kTrip, ":after_emergency");
    ASSERT_FALSE(after_sound.is_null()) << bus.daemon_log();
    std::this_thread::sleep_for(2s);
    for (const auto& r : bus.lines("announcement_result")) {
      if (r["id"] == next_sound["id"] && r["output"] == "interior") cut_result = r;
    }
  }  // the voice stops: the WAV files are complete
  RecordProperty("trigger_to_tone_ms", std::to_string(trigger_to_tone_ms));
  EXPECT_GT(trigger_to_tone_ms, 0);
  ASSERT_FALSE(cut_result.is_null());
  EXPECT_NE(cut_result["outcome"], "finished")
      << "the interrupted next stop did not play to its end";

  // The file's first sound is "next stop"'s chime: place the other sounds from their log lines.
  const media::test::Analysis wav(dir_ / "interior.wav");
  const auto start = wav.first_sound(0, wav.length_ms());
  ASSERT_TRUE(start);
  const auto at = [&](const json& sound) {
    return *start + (sound["mono_ns"].get<double>() - next_sound["mono_ns"].get<double>()) / 1e6;
  };
  const double tone = at(tone_sound), after = at(after_sound);
  constexpr double kChime = 659.25;  // the chime's first note
  // Words were playing just before the alarm...
  EXPECT_GT(wav.peak(tone - 400, tone - 150), media::test::Analysis::kSound);
  // ...then the alarm's tone, clear of them...
  EXPECT_GT(wav.tone_level(kChime, tone + 20, tone + 250), -25.0);
  // ...and "next stop" again (its chime first) after the emergency.
  EXPECT_GT(wav.tone_level(kChime, after + 20, after + 250), -25.0);
  EXPECT_GT(wav.peak(after + 900, after + 1900), media::test::Analysis::kSound)
      << "its words follow the chime";
}

TEST_F(OnboardMessages, StopsAreHeldDuringAnEmergencyAndTheNextStopIsSaidAfterIt) {
  Bus bus(*bundles_->demo, dir_);
  const auto trip = bundles_->demo->load_trip(kTrip);
  const auto fixes = testing::drive(trip, departure());
  std::size_t next = 0;
  // Leaving the terminal: "next stop" is said as usual.
  bus.drive(fixes, next, leaving);
  ASSERT_LT(next, fixes.size());
  ASSERT_EQ(kinds_of(bus.lines("announcement")), std::vector<std::string>{"next_stop"});

  auto reply = bus.send(R"({"cmd":"message","preset":"fire"})");
  ASSERT_TRUE(reply.ok) << reply.message;
  const std::size_t before = bus.log().size();
  // On to the next stop and away from it: arriving and next stop are not said, they are held.
  bus.drive(fixes, next, leaving);
  ASSERT_LT(next, fixes.size()) << "the trip ended first";
  const auto during = bus.log();
  std::vector<std::string> held, said;
  for (std::size_t i = before; i < during.size(); ++i) {
    if (during[i]["type"] == "held") held.push_back(during[i]["id"]);
    if (during[i]["type"] == "announcement") said.push_back(during[i]["kind"]);
  }
  ASSERT_FALSE(held.empty());
  for (const auto& kind : said)
    EXPECT_EQ(kind, "emergency_message") << "a stop announcement over the emergency";

  // Cancelled: the bus says where it stops next, once, marked as said again.
  reply = bus.send(R"({"cmd":"message","cancel":"fire-1"})");
  ASSERT_TRUE(reply.ok) << reply.message;
  auto after = bus.lines("announcement");
  ASSERT_FALSE(after.empty());
  EXPECT_EQ(after.back()["kind"], "next_stop");
  EXPECT_THAT(after.back()["id"].get<std::string>(), EndsWith(":after_emergency"));
  EXPECT_EQ(after.back()["id"].get<std::string>(), held.back() + ":after_emergency")
      << "the stop whose announcement was held last";
}

TEST_F(OnboardMessages, AfterAnEmergencyTheNextStopStillWaitsForTheRampToBeStowed) {
  Bus bus(*bundles_->demo, dir_);
  const auto trip = bundles_->demo->load_trip(kTrip);
  const auto fixes = testing::drive(trip, departure());
  std::size_t next = 0;
  // At the first stop after the terminal, standing, doors open, the ramp out.
  bus.drive(fixes, next, [](const std::vector<tracking::StopEvent>& events) {
    return has(events, tracking::StopEvent::Type::arrived, 1);
  });
  ASSERT_LT(next, fixes.size());
  vehicle::Signal ramp;
  ramp.name = vehicle::SignalName::ramp;
  ramp.active = true;
  ASSERT_TRUE(bus.send(ramp).ok);
  const std::size_t before = bus.lines("announcement").size();
  ASSERT_TRUE(bus.send(R"({"cmd":"message","preset":"evacuate","message_id":"e"})").ok);
  ASSERT_TRUE(bus.send(R"({"cmd":"message","cancel":"e"})").ok);
  // The emergency is over but the ramp is still out: "next stop" waits for it.
  auto announced = bus.lines("announcement");
  EXPECT_THAT(kinds_of({announced.begin() + static_cast<std::ptrdiff_t>(before), announced.end()}),
              ::testing::Not(::testing::Contains("next_stop")));
  auto held = bus.lines("held");
  ASSERT_FALSE(held.empty());
  EXPECT_THAT(held.back()["id"].get<std::string>(), EndsWith(":after_emergency"));
  EXPECT_EQ(held.back()["why"], "the ramp is deployed");
  ramp.active = false;
  ASSERT_TRUE(bus.send(ramp).ok);
  announced = bus.lines("announcement");
  ASSERT_FALSE(announced.empty());
  EXPECT_EQ(announced.back()["kind"], "next_stop");
  EXPECT_EQ(announced.back()["id"], held.back()["id"]);
}

// What a screen connecting now is shown (the whole state it receives first).
json screen_state(unsigned short port, const std::string& target = "/ws") {
  hmi::test::WsClient screen(port, target);
  while (auto m = screen.read(5s)) {
    if ((*m)["type"] == "state") return *m;
  }
  return {};
}

TEST_F(OnboardMessages, AnEmergencyAndThePresetsStayOnTheScreensWhenTheTripStarts) {
  Bus bus(*bundles_->demo, dir_, true);
  ASSERT_TRUE(bus.send(R"({"cmd":"message","preset":"evacuate","message_id":"e"})").ok);
  // The first fixes: the trip starts, and the screens get its whole state.
  const auto trip = bundles_->demo->load_trip(kTrip);
  const auto fixes = testing::drive(trip, departure());
  std::size_t next = 0;
  bus.drive(fixes, next, [](const std::vector<tracking::StopEvent>& events) {
    return has(events, tracking::StopEvent::Type::trip_started);
  });
  ASSERT_LT(next, fixes.size());
  const json display = screen_state(bus.http_port());
  ASSERT_TRUE(display.is_object());
  EXPECT_EQ(display["trip"]["id"], kTrip);
  ASSERT_EQ(display["messages"].size(), 1u) << display.dump();
  EXPECT_EQ(display["messages"][0]["id"], "e");
  EXPECT_EQ(display["messages"][0]["kind"], "emergency");
  const json console = screen_state(bus.http_port(), "/ws?role=driver&token=cab");
  std::vector<std::string> presets;
  for (const auto& o : console["message_options"])
    presets.push_back(o["id"]);
  EXPECT_THAT(presets, ::testing::UnorderedElementsAre("evacuate", "fire", "breakdown", "detour",
                                                       "typhoon", "toilet"));
}

TEST_F(OnboardMessages, AnEmergencyIsRepeatedUntilTheDriverAcknowledgesIt) {
  Bus bus(*bundles_->demo, dir_);
  // Short words, said every 10 s of the bus's time after each saying ends.
  auto reply = bus.send(
      R"({"cmd":"message","kind":"emergency","message_id":"smoke","text":{"en":"Smoke."},"repeat_every_s":10})");
  ASSERT_TRUE(reply.ok) << reply.message;
  ASSERT_TRUE(bus.wait_finished("msg:smoke:1")) << bus.daemon_log();
  bus.pass(9s);
  EXPECT_EQ(bus.lines("message", "said").size(), 1u) << "repeated too early";
  bus.pass(1s);
  ASSERT_EQ(bus.lines("message", "said").size(), 2u) << "not repeated";
  EXPECT_EQ(bus.lines("message", "said").back()["times"], 2);

  // The driver acknowledges while it is said again: no more repeats, still on.
  reply = bus.send(vehicle::MessageEnd{vehicle::MessageEnd::Action::acknowledge, "smoke", {}});
  ASSERT_TRUE(reply.ok) << reply.message;
  auto acknowledged = bus.lines("message", "acknowledged");
  ASSERT_EQ(acknowledged.size(), 1u);
  EXPECT_EQ(acknowledged[0]["note"], "control");
  ASSERT_TRUE(bus.wait_finished("msg:smoke:2")) << bus.daemon_log();
  bus.pass(60s);
  EXPECT_EQ(bus.lines("message", "said").size(), 2u);
  EXPECT_THAT(bus.lines("message", "cancelled"), IsEmpty());
  // A message that is not on cannot be acknowledged.
  EXPECT_EQ(bus.send(vehicle::MessageEnd{vehicle::MessageEnd::Action::acknowledge, "x", {}}).error,
            "unknown_message");
}

// "Arriving at X" is still true while the bus stands at X: it is said to its end there, and only
// dropped (between two languages, never within a name) once the bus has left X.
using OnboardStops = OnboardMessages;

// The outcome of the stop announcement `kind` at stop `index` on the interior speaker, once the
// voice has reported it; empty when it has not within the wait.
std::string outcome_of(Bus& bus, int index, const std::string& kind) {
  const std::string id = std::string(kTrip) + ":" + std::to_string(index) + ":" + kind;
  if (!bus.wait_finished(id, 1)) return {};
  for (const auto& r : bus.lines("announcement_result")) {
    if (r["id"] == id && r["output"] == "interior") return r["outcome"];
  }
  return {};
}

// Drives the trip from its start until the stop last told "arriving at" has an event of one of
// `types`; that stop's index (-1 when the trip ended first). The fixes come much faster than the
// voice speaks, so "arriving at" is still playing then.
int drive_to_announced_stop(Bus& bus, const routes::Bundle& bundle,
                            std::initializer_list<tracking::StopEvent::Type> types) {
  const auto fixes = testing::drive(bundle.load_trip(kTrip), departure());
  std::size_t next = 0;
  int stop = -1;
  bus.drive(fixes, next, [&](const std::vector<tracking::StopEvent>& events) {
    for (const auto& e : events) {
      if (e.type == tracking::StopEvent::Type::approaching && e.stop_index) stop = *e.stop_index;
      if (e.stop_index == stop && std::find(types.begin(), types.end(), e.type) != types.end()) {
        return true;
      }
    }
    return false;
  });
  return next < fixes.size() ? stop : -1;
}

TEST_F(OnboardStops, ArrivingAtIsSaidToItsEndWhileTheBusStandsAtTheStop) {
  Bus bus(*bundles_->demo, dir_);
  // The bus arrives, then stands there.
  const int stop =
      drive_to_announced_stop(bus, *bundles_->demo, {tracking::StopEvent::Type::arrived});
  ASSERT_GE(stop, 1);
  EXPECT_EQ(outcome_of(bus, stop, "approaching"), "finished");
}

TEST_F(OnboardStops, ArrivingAtIsDroppedOnceTheBusHasLeftTheStop) {
  Bus bus(*bundles_->demo, dir_);
  // The bus arrives and leaves again at once.
  const int stop = drive_to_announced_stop(
      bus, *bundles_->demo,
      {tracking::StopEvent::Type::departed, tracking::StopEvent::Type::passed});
  ASSERT_GE(stop, 1);
  EXPECT_EQ(outcome_of(bus, stop, "approaching"), "expired");
}

TEST_F(OnboardMessages, AnEmergencyActiveAtACrashIsGivenAgainAfterTheRestart) {
  const std::string state = dir_ / "state.db";
  {
    Bus bus(*bundles_->demo, dir_, false, state);
    ASSERT_TRUE(bus.send(R"({"cmd":"message","preset":"fire","message_id":"fire"})").ok);
    ASSERT_TRUE(bus.send(R"({"cmd":"message","preset":"detour","message_id":"detour"})").ok);
    ASSERT_TRUE(bus.send(R"({"cmd":"message","cancel":"detour"})").ok);
    ASSERT_TRUE(bus.send(R"({"cmd":"message","kind":"service","text":{"en":"Lift out of order"}})")
                    .ok);  // given the id service-1
  }                        // the daemon stops (a crash, the watchdog, an update)
  Bus bus(*bundles_->demo, dir_, false, state);
  // A new message without an id does not collide with a restored one.
  auto another = bus.send(R"({"cmd":"message","kind":"service","text":{"en":"Mind the step"}})");
  EXPECT_TRUE(another.ok) << another.error << ": " << another.message;
  // The fire alarm comes back at once and is said again; the cancelled detour does not.
  const auto restored = bus.lines("message", "restored");
  ASSERT_EQ(restored.size(), 2u) << bus.daemon_log();
  EXPECT_EQ(restored[0]["id"], "fire");
  EXPECT_EQ(restored[1]["id"], "service-1");
  EXPECT_EQ(restored[0]["source"], "control");
  ASSERT_EQ(bus.lines("message", "said").size(), 1u);
  EXPECT_THAT(bus.daemon_log(), ::testing::HasSubstr("message fire was active before the restart"));
}

TEST_F(OnboardMessages, AnAcknowledgedEmergencyIsShownAgainAfterARestartButNotSaid) {
  const std::string state = dir_ / "state.db";
  {
    Bus bus(*bundles_->demo, dir_, false, state);
    ASSERT_TRUE(bus.send(R"({"cmd":"message","preset":"fire","message_id":"fire"})").ok);
    ASSERT_TRUE(bus.send(R"({"cmd":"message","ack":"fire"})").ok);
  }
  Bus bus(*bundles_->demo, dir_, false, state);
  ASSERT_EQ(bus.lines("message", "restored").size(), 1u) << bus.daemon_log();
  EXPECT_TRUE(bus.lines("message", "said").empty()) << "the driver had acknowledged it";
  // It is still an emergency: the stop announcements stay held until it is cancelled.
  ASSERT_TRUE(bus.send(R"({"cmd":"message","cancel":"fire"})").ok);
  EXPECT_EQ(bus.lines("message", "cancelled").size(), 1u);
}

}  // namespace
}  // namespace stopcall::daemon
