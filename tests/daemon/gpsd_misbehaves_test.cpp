// gpsd that misbehaves, as the live daemon (`stopcalld run`) meets it on its real gpsd socket:
// gpsd killed and started again (a real gpsd, through gpsfake), and a gpsd of our own on a local
// port, speaking gpsd's JSON protocol, that sends garbage, stalls in the middle of a line, or
// passes on a receiver whose clock jumps. Whatever it does, the bus keeps its trip, says when it
// lost the GPS and when it had it again (`gps_lost`, `gps_restored`), and announces every stop
// the fixes lead it past.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "daemon/tracking/events.hpp"
#include "tests/daemon/free_port.hpp"
#include "tests/daemon/gps/gpsfake.hpp"
#include "tests/routes/test_feed.hpp"

namespace stopcall::daemon {
namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;
using routes::testing::TempDir;

const std::string kTrip = "101-WD-E-0630";

// A gpsd of our own on 127.0.0.1:port: greets each client as gpsd does (VERSION), takes its
// ?WATCH, then plays its script. A client that goes away is waited for again, and the script goes
// on with it.
class ScriptedGpsd {
 public:
  struct Step {
    enum Kind { send, pause, hang_up, down } kind;
    std::string bytes;               // send
    std::chrono::milliseconds ms{};  // pause; down: how long nothing listens on the port
  };

  ScriptedGpsd(int port, std::vector<Step> steps) : port_(port), steps_(std::move(steps)) {
    listening_ = listen();
    thread_ = std::thread([this] { run(); });
  }
  ~ScriptedGpsd() {
    done_ = true;
    thread_.join();
    if (client_ >= 0) ::close(client_);
    if (listener_ >= 0) ::close(listener_);
  }
  bool listening() const { return listening_; }
  bool finished() const { return finished_; }
  int connections() const { return connections_; }

 private:
  bool listen() {
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int yes = 1;
    ::setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port_));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return ::bind(listener_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
           ::listen(listener_, 4) == 0;
  }

  // Waits for the daemon to connect (again), greets it and reads its watch request.
  bool accept_client() {
    if (client_ >= 0) ::close(client_);
    client_ = -1;
    while (!done_) {
      pollfd p{listener_, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      client_ = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
      if (client_ < 0) continue;
      ++connections_;
      const std::string version =
          R"({"class":"VERSION","release":"3.22","rev":"3.22","proto_major":3,"proto_minor":14})"
          "\r\n";
      (void)!::send(client_, version.data(), version.size(), MSG_NOSIGNAL);
      pollfd w{client_, POLLIN, 0};
      char buffer[512];
      if (::poll(&w, 1, 2000) > 0) (void)!::recv(client_, buffer, sizeof buffer, 0);  // ?WATCH
      return true;
    }
    return false;
  }

  void sleep_for(std::chrono::milliseconds ms) {
    const auto end = std::chrono::steady_clock::now() + ms;
    while (!done_ && std::chrono::steady_clock::now() < end)
      std::this_thread::sleep_for(10ms);
  }

  void run() {
    if (!listening_ || !accept_client()) return;
    for (const Step& step : steps_) {
      if (done_) return;
      switch (step.kind) {
        case Step::send:
          if (::send(client_, step.bytes.data(), step.bytes.size(), MSG_NOSIGNAL) < 0 &&
              !accept_client()) {
            return;
          }
          break;
        case Step::pause:
          sleep_for(step.ms);
          break;
        case Step::hang_up:
          if (!accept_client()) return;
          break;
        case Step::down:
          ::close(client_);
          ::close(listener_);
          client_ = listener_ = -1;
          sleep_for(step.ms);
          if (!listen() || !accept_client()) return;
          break;
      }
    }
    finished_ = true;
    while (!done_)
      std::this_thread::sleep_for(10ms);  // holds the connection: the daemon goes on waiting
  }

  int port_;
  std::vector<Step> steps_;
  int listener_ = -1;
  int client_ = -1;
  bool listening_ = false;
  std::atomic<bool> done_{false};
  std::atomic<bool> finished_{false};
  std::atomic<int> connections_{0};
  std::thread thread_;
};

using Step = ScriptedGpsd::Step;

using ::stopcall::testing::free_tcp_port;

std::string run(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, p))
    out.append(buf, n);
  EXPECT_EQ(::pclose(p), 0) << cmd << "\n" << out;
  return out;
}

// The demo trip, clean, as gpsd reports it (one TPV a second).
struct Trip {
  TempDir dir;
  std::vector<json> fixes;
  std::string bundle;

  Trip() {
    bundle = dir / "demo.db";
    if (!routes::testing::import_demo(bundle)) throw std::runtime_error("demo import failed");
    run(std::string(STOPCALL_BINARY_DIR) + "/sim/stopcall-scenario generate --routes " + bundle +
        " --trip " + kTrip + " --noise clean --seed 7 --out-trace " + (dir / "trace.jsonl") +
        " --nmea " + (dir / "trace.nmea"));
    std::ifstream in(dir / "trace.jsonl");
    for (std::string line; std::getline(in, line);)
      fixes.push_back(json::parse(line));
  }
};

std::chrono::sys_time<std::chrono::milliseconds> parse_time(const std::string& iso) {
  std::tm tm{};
  int ms = 0;
  std::sscanf(iso.c_str(), "%d-%d-%dT%d:%d:%d.%dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
              &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms);
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return std::chrono::sys_time<std::chrono::milliseconds>(std::chrono::seconds(::timegm(&tm))) +
         std::chrono::milliseconds(ms);
}

// Fix i of the trip as a gpsd line, its time moved by `shift` (a receiver whose clock is off).
std::string tpv(const Trip& trip, std::size_t i, std::chrono::milliseconds shift = {}) {
  json fix = trip.fixes.at(i);
  fix["time"] = tracking::format_time(parse_time(fix["time"].get<std::string>()) + shift);
  return fix.dump() + "\r\n";
}

// Fixes [from, to) one every `every` (the trip faster than it was driven).
void add_fixes(std::vector<Step>& steps, const Trip& trip, std::size_t from, std::size_t to,
               std::chrono::milliseconds shift = {}, std::chrono::milliseconds every = 20ms) {
  for (std::size_t i = from; i < to && i < trip.fixes.size(); ++i) {
    steps.push_back({Step::send, tpv(trip, i, shift), {}});
    steps.push_back({Step::pause, {}, every});
  }
}

struct Events {
  std::vector<json> lines;

  explicit Events(const std::string& path) {
    std::ifstream in(path);
    for (std::string line; std::getline(in, line);) {
      auto parsed = json::parse(line, nullptr, /*allow_exceptions=*/false);
      if (!parsed.is_discarded()) lines.push_back(std::move(parsed));  // the line being written
    }
  }
  int count(const std::string& type) const {
    return static_cast<int>(std::count_if(lines.begin(), lines.end(),
                                          [&](const json& l) { return l["type"] == type; }));
  }
  // "type stop_id" of the stop events of these types, in order.
  std::vector<std::string> stops(std::initializer_list<const char*> types) const {
    std::vector<std::string> out;
    for (const auto& l : lines) {
      for (const char* t : types) {
        if (l["type"] == t && l.contains("stop_id"))
          out.push_back(std::string(t) + " " + l["stop_id"].get<std::string>());
      }
    }
    return out;
  }
  // The types in order, of these only.
  std::vector<std::string> sequence(std::initializer_list<const char*> types) const {
    std::vector<std::string> out;
    for (const auto& l : lines) {
      for (const char* t : types)
        if (l["type"] == t) out.push_back(t);
    }
    return out;
  }
  // gps_lost and gps_restored in order, without the loss at the end of the feed (the daemon
  // runs on after the last fix and, rightly, loses the GPS).
  std::vector<std::string> outages() const {
    auto out = sequence({"gps_lost", "gps_restored"});
    while (!out.empty() && out.back() == "gps_lost")
      out.pop_back();
    return out;
  }
  // Whether any line is stamped with a time from this prefix on ("2026-03-02").
  bool any_time(const std::string& prefix) const {
    return std::any_of(lines.begin(), lines.end(), [&](const json& l) {
      return l.contains("time") && l["time"].get<std::string>().rfind(prefix, 0) == 0;
    });
  }
  std::string dump() const {
    std::string out;
    for (const auto& l : lines)
      out += l.dump() + "\n";
    return out;
  }
};

// `stopcalld run` on the demo trip with gpsd at 127.0.0.1:port, stopped (SIGTERM) once `done`
// (given the event log's path) says the feed is over and a little more has passed; its events, and
// its messages in `messages`. Exit status 0 (a clean stop) is expected.
template <typename Done>
Events run_daemon(const Trip& trip, int port, Done done, std::string* messages = nullptr) {
  const std::string events = trip.dir / ("live-" + std::to_string(port) + ".jsonl");
  const std::string log = trip.dir / ("live-" + std::to_string(port) + ".txt");
  std::vector<std::string> args = {std::string(STOPCALL_BINARY_DIR) + "/daemon/stopcalld",
                                   "run",
                                   "--routes",
                                   trip.bundle,
                                   "--trip",
                                   kTrip,
                                   "--gpsd",
                                   "127.0.0.1:" + std::to_string(port),
                                   "--events",
                                   events,
                                   "--exit-after",
                                   "120"};
  std::vector<char*> argv;
  for (auto& a : args)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  const int log_fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(log_fd, 1);
    ::dup2(log_fd, 2);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(log_fd);
  const auto deadline = std::chrono::steady_clock::now() + 100s;
  while (!done(events) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(100ms);
  std::this_thread::sleep_for(1500ms);  // the last fixes are taken and acted on
  ::kill(pid, SIGTERM);
  int status = 0;
  ::waitpid(pid, &status, 0);
  const std::string out = routes::testing::read_bytes(log);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << out;
  if (messages) *messages = out;
  return Events(events);
}
Events run_daemon(const Trip& trip, const ScriptedGpsd& gpsd, int port,
                  std::string* messages = nullptr) {
  return run_daemon(
      trip, port, [&](const std::string&) { return gpsd.finished(); }, messages);
}

// What the same fixes give when nothing goes wrong: the stops announced (next stop, approaching).
Events without_fault(const Trip& trip, std::size_t fixes) {
  const std::string path = trip.dir / "clean.jsonl";
  {
    std::ofstream out(path);
    for (std::size_t i = 0; i < fixes; ++i)
      out << trip.fixes[i].dump() << "\n";
  }
  run(std::string(STOPCALL_BINARY_DIR) + "/daemon/stopcalld replay --routes " + trip.bundle +
      " --trip " + kTrip + " --no-block --gps " + path + " --events " +
      (trip.dir / "clean-events.jsonl"));
  return Events(trip.dir / "clean-events.jsonl");
}
std::vector<std::string> announced_without_fault(const Trip& trip, std::size_t fixes) {
  return without_fault(trip, fixes).stops({"next_stop", "approaching"});
}

// The facts every misbehaving gpsd must leave: one trip all along, the outage said and its end,
// and every stop announced as without the fault, once each.
void expect_trip_kept(const Events& events, const std::vector<std::string>& expected) {
  EXPECT_EQ(events.count("trip_started"), 1) << events.dump();
  EXPECT_EQ(events.count("trip_ended"), 0) << events.dump();
  EXPECT_EQ(events.outages(), (std::vector<std::string>{"gps_lost", "gps_restored"}))
      << events.dump();
  EXPECT_EQ(events.stops({"next_stop", "approaching"}), expected) << events.dump();
}

// For a fault whose length the test does not set (a real gpsd restarting): every stop announced
// without the fault is announced, once, in order, except those whose moment fell in the outage
// (between gps_lost and gps_restored), which may be said or not.
void expect_announced_outside_the_outage(const Events& events, const Events& clean) {
  std::string lost, restored;
  for (const auto& l : events.lines) {
    if (l["type"] == "gps_lost" && lost.empty()) lost = l["time"];
    if (l["type"] == "gps_restored" && restored.empty()) restored = l["time"];
  }
  ASSERT_FALSE(lost.empty()) << events.dump();
  ASSERT_FALSE(restored.empty()) << events.dump();
  const auto said = events.stops({"next_stop", "approaching"});
  std::size_t at = 0;  // in `said`
  for (const auto& l : clean.lines) {
    if ((l["type"] != "next_stop" && l["type"] != "approaching") || !l.contains("stop_id"))
      continue;
    const std::string item = l["type"].get<std::string>() + " " + l["stop_id"].get<std::string>();
    const std::string time = l["time"];  // ISO UTC: ordered as text
    const bool in_outage = time >= lost && time <= restored;
    if (at < said.size() && said[at] == item) {
      ++at;
    } else {
      EXPECT_TRUE(in_outage) << item << " at " << time << " not announced\n" << events.dump();
    }
  }
  EXPECT_EQ(at, said.size()) << "announced out of order, twice or more than without the fault\n"
                             << events.dump();
}

// The first 330 fixes: the trip leaves its first stop, passes the second and nears the third
// (5.5 minutes, fed in 7 s).
constexpr std::size_t kFixes = 330;
// Where the fault comes: between the first and second stop, the bus moving.
constexpr std::size_t kFault = 120;

TEST(GpsdMisbehaves, GarbageFromGpsdIsSkippedAndTheFixesAroundItCount) {
  Trip trip;
  std::vector<Step> steps;
  add_fixes(steps, trip, 0, kFault);
  // Everything a broken gpsd, or something else on its port, might send, between two fixes.
  const std::vector<std::string> garbage = {
      "garbage\r\n",
      std::string("\x00\x01\x02\xff\xfe\r\n", 7),
      "{\"class\":\"TPV\",\"mode\":3,\"lat\":\r\n",
      "{\"class\":\"TPV\",\"mode\":3,\"time\":\"2026-03-01T22:31:21.000Z\",\"lat\":\"north\","
      "\"lon\":114.0}\r\n",
      "{\"class\":\"TPV\",\"mode\":\"3\",\"time\":12,\"lat\":null,\"lon\":[]}\r\n",
      "{\"class\":\"TPV\",\"mode\":3,\"time\":\"not a time\",\"lat\":22.5,\"lon\":114.0}\r\n",
      "{\"class\":\"TPV\",\"mode\":3,\"time\":\"2026-03-01T22:31:21.000Z\",\"lat\":1e999,"
      "\"lon\":114.0}\r\n",
      "{\"class\":\"TPV\",\"mode\":3,\"time\":\"2026-03-01T22:31:21.000Z\",\"lat\":95.0,"
      "\"lon\":214.0}\r\n",
      "{\"class\":\"ERROR\",\"message\":\"Unrecognized request\"}\r\n",
      "{\"class\":\"SKY\",\"satellites\":[" + std::string(2000, '[') + "]}\r\n",
      "[1,2,3]\r\n",
      "\r\n",
      std::string(3000, 'x') + "\r\n",
      "{\"class\":\"TPV\"" + std::string(5000, ' ') + "}\r\n",
  };
  for (int round = 0; round < 3; ++round) {
    for (const auto& g : garbage) {
      steps.push_back({Step::send, g, {}});
      steps.push_back({Step::pause, {}, 5ms});
    }
  }
  // Then nothing usable for a while: only garbage, so the bus loses the GPS.
  for (int i = 0; i < 28; ++i) {
    steps.push_back({Step::send, garbage[static_cast<std::size_t>(i) % garbage.size()], {}});
    steps.push_back({Step::pause, {}, 250ms});
  }
  // The fixes go on where the bus has got to meanwhile (7 s later).
  add_fixes(steps, trip, kFault + 7, kFixes);
  const int port = free_tcp_port();
  ScriptedGpsd gpsd(port, steps);
  ASSERT_TRUE(gpsd.listening());
  std::string messages;
  const Events events = run_daemon(trip, gpsd, port, &messages);
  EXPECT_TRUE(gpsd.finished()) << "the daemon stopped reading gpsd:\n" << messages;
  expect_trip_kept(events, announced_without_fault(trip, kFixes));
}

TEST(GpsdMisbehaves, AStallInTheMiddleOfALineIsAnOutageAndTheLineStillCounts) {
  Trip trip;
  std::vector<Step> steps;
  add_fixes(steps, trip, 0, kFault);
  // Half a report, 7 s of nothing, then the other half and the fixes from where the bus is.
  const std::string line = tpv(trip, kFault);
  steps.push_back({Step::send, line.substr(0, line.size() / 2), {}});
  steps.push_back({Step::pause, {}, 7s});
  steps.push_back({Step::send, line.substr(line.size() / 2), {}});
  add_fixes(steps, trip, kFault + 7, kFixes);
  const int port = free_tcp_port();
  ScriptedGpsd gpsd(port, steps);
  ASSERT_TRUE(gpsd.listening());
  std::string messages;
  const Events events = run_daemon(trip, gpsd, port, &messages);
  EXPECT_TRUE(gpsd.finished()) << messages;
  expect_trip_kept(events, announced_without_fault(trip, kFixes));
  EXPECT_THAT(messages, ::testing::HasSubstr("gpsd stale")) << "the operator is told";
}

TEST(GpsdMisbehaves, GpsdThatHangsUpOrIsGoneIsReconnected) {
  Trip trip;
  std::vector<Step> steps;
  add_fixes(steps, trip, 0, kFault);
  // gpsd hangs up; when the daemon is back it gets fixes again.
  steps.push_back({Step::hang_up, {}, {}});
  add_fixes(steps, trip, kFault + 2, kFault + 60);
  // gpsd is gone for 7 s: nothing listens on its port.
  steps.push_back({Step::down, {}, 7s});
  add_fixes(steps, trip, kFault + 70, kFixes);
  const int port = free_tcp_port();
  ScriptedGpsd gpsd(port, steps);
  ASSERT_TRUE(gpsd.listening());
  std::string messages;
  const Events events = run_daemon(trip, gpsd, port, &messages);
  EXPECT_TRUE(gpsd.finished()) << messages;
  EXPECT_GE(gpsd.connections(), 3);
  EXPECT_EQ(events.count("trip_started"), 1) << events.dump();
  EXPECT_EQ(events.count("trip_ended"), 0) << events.dump();
  EXPECT_EQ(events.stops({"next_stop", "approaching"}), announced_without_fault(trip, kFixes))
      << events.dump();
  // Hanging up is over before the GPS counts as lost; 8 s without gpsd is an outage.
  EXPECT_EQ(events.outages(), (std::vector<std::string>{"gps_lost", "gps_restored"}))
      << events.dump();
  EXPECT_THAT(messages, ::testing::HasSubstr("gpsd disconnected"));
}

TEST(GpsdMisbehaves, AReceiverClockThatJumpsAheadForOneFixIsIgnored) {
  Trip trip;
  std::vector<Step> steps;
  add_fixes(steps, trip, 0, kFault);
  // bt451 in gpsd's logs: one fix a day ahead, then the right time again.
  add_fixes(steps, trip, kFault, kFault + 1, std::chrono::hours(24));
  add_fixes(steps, trip, kFault + 1, kFixes);
  const int port = free_tcp_port();
  ScriptedGpsd gpsd(port, steps);
  ASSERT_TRUE(gpsd.listening());
  const Events events = run_daemon(trip, gpsd, port);
  EXPECT_EQ(events.count("trip_started"), 1) << events.dump();
  // No outage, and the bus's clock stays on the day: nothing is stamped a day ahead.
  EXPECT_TRUE(events.outages().empty()) << events.dump();
  EXPECT_FALSE(events.any_time("2026-03-02")) << events.dump();
  EXPECT_EQ(events.stops({"next_stop", "approaching"}), announced_without_fault(trip, kFixes))
      << events.dump();
  // Replay of the same fixes likewise (it ticked the tracker through the day to that fix).
  const std::string fed = trip.dir / "glitch.jsonl";
  {
    std::ofstream out(fed);
    for (std::size_t i = 0; i < kFixes; ++i)
      out << tpv(trip, i, i == kFault ? std::chrono::hours(24) : std::chrono::hours(0));
  }
  run(std::string(STOPCALL_BINARY_DIR) + "/daemon/stopcalld replay --routes " + trip.bundle +
      " --trip " + kTrip + " --no-block --gps " + fed + " --events " +
      (trip.dir / "glitch-events.jsonl"));
  const Events replayed(trip.dir / "glitch-events.jsonl");
  EXPECT_TRUE(replayed.outages().empty()) << replayed.dump();
  EXPECT_FALSE(replayed.any_time("2026-03-02")) << replayed.dump();
  EXPECT_EQ(replayed.stops({"next_stop", "approaching"}), announced_without_fault(trip, kFixes));
}

// A receiver whose clock jumps back and stays there: the GPS week rolling over (1024 weeks back),
// or the leap seconds learned after a cold start (18 s back).
class ClockJumpsBack : public ::testing::TestWithParam<std::chrono::seconds> {};

TEST_P(ClockJumpsBack, TheTripGoesOnAndEveryStopIsAnnounced) {
  Trip trip;
  std::vector<Step> steps;
  add_fixes(steps, trip, 0, kFault);
  add_fixes(steps, trip, kFault, kFixes, -GetParam());
  const int port = free_tcp_port();
  ScriptedGpsd gpsd(port, steps);
  ASSERT_TRUE(gpsd.listening());
  std::string messages;
  const Events events = run_daemon(trip, gpsd, port, &messages);
  EXPECT_EQ(events.count("trip_started"), 1) << events.dump();
  EXPECT_EQ(events.count("trip_ended"), 0) << events.dump();
  // Three fixes confirm the new time (1 Hz: under the outage timeout), then the timeline goes on
  // from the last fix: the bus's clock never runs backwards, and no stop is missed.
  EXPECT_TRUE(events.outages().empty()) << events.dump();
  EXPECT_FALSE(events.any_time("2006-")) << events.dump();
  EXPECT_EQ(events.stops({"next_stop", "approaching"}), announced_without_fault(trip, kFixes))
      << events.dump();
  // The depot and the operator are told.
  EXPECT_NE(events.dump().find("\"kind\":\"gps_clock_jumped_back\""), std::string::npos)
      << events.dump();
  EXPECT_THAT(messages, ::testing::HasSubstr("the receiver's clock went back"));
}

INSTANTIATE_TEST_SUITE_P(GpsdMisbehaves, ClockJumpsBack,
                         ::testing::Values(std::chrono::seconds(18),
                                           std::chrono::seconds(1024 * 7 * 86400)),
                         [](const auto& info) { return std::to_string(info.param.count()) + "s"; });

// A receiver whose clock jumps ahead and stays there.
TEST(GpsdMisbehaves, AReceiverClockThatJumpsAheadAndStaysKeepsTheTrip) {
  Trip trip;
  std::vector<Step> steps;
  add_fixes(steps, trip, 0, kFault);
  add_fixes(steps, trip, kFault, kFixes, std::chrono::hours(1));
  const int port = free_tcp_port();
  ScriptedGpsd gpsd(port, steps);
  ASSERT_TRUE(gpsd.listening());
  const Events events = run_daemon(trip, gpsd, port);
  // Two fixes agree on the new time, as after a long tunnel: an hour without a fix is said, and
  // the next fix restores the GPS; the trip goes on.
  EXPECT_EQ(events.count("trip_started"), 1) << events.dump();
  EXPECT_EQ(events.count("trip_ended"), 0) << events.dump();
  EXPECT_EQ(events.outages(), (std::vector<std::string>{"gps_lost", "gps_restored"}))
      << events.dump();
  EXPECT_EQ(events.stops({"next_stop", "approaching"}), announced_without_fault(trip, kFixes))
      << events.dump();
}

// A real gpsd (gpsfake) killed in the middle of the trip and started again 6 s later, as systemd
// restarts it: the daemon reconnects by itself, and the trip goes on from where the bus is.
TEST(GpsdMisbehaves, GpsdKilledAndStartedAgainTheTripGoesOn) {
  Trip trip;
  std::vector<std::string> nmea;
  {
    std::ifstream in(trip.dir / "trace.nmea");
    for (std::string line; std::getline(in, line);)
      nmea.push_back(line);
  }
  // gpsd needs a moment to recognise NMEA on a new device: each feed starts with sentences
  // without a fix (dated an hour before the trip: older than any fix, they change nothing).
  auto write_feed = [&](const std::string& path, std::size_t from_fix, std::size_t to_fix) {
    std::ofstream fed(path);
    for (int i = 0; i < 300; ++i) {
      char body[64];
      std::snprintf(body, sizeof body, "GPRMC,%02d%02d00.00,V,,,,,,,010326,,,N", 21 + i / 60,
                    i % 60);
      unsigned char sum = 0;
      for (const char* c = body; *c; ++c)
        sum ^= static_cast<unsigned char>(*c);
      char line[96];
      std::snprintf(line, sizeof line, "$%s*%02X\r\n", body, sum);
      fed << line;
    }
    for (std::size_t i = 3 * from_fix; i < 3 * to_fix && i < nmea.size(); ++i)
      fed << nmea[i] << "\n";
  };
  write_feed(trip.dir / "before.nmea", 0, kFault);
  // gpsd down for 6 s, and a few more until the daemon's next try: the bus drives on meanwhile.
  write_feed(trip.dir / "after.nmea", kFault + 14, kFixes);
  const int port = free_tcp_port();
  std::atomic<bool> stopped{false};
  std::thread gpsd([&] {
    {
      stopcall::testing::GpsFake before(trip.dir / "before.nmea", port, 0.004);
      std::this_thread::sleep_for(4s);  // fed by then
    }                                   // killed, with its gpsd
    std::this_thread::sleep_for(6s);
    stopcall::testing::GpsFake after(trip.dir / "after.nmea", port, 0.004);
    for (int i = 0; i < 600 && !stopped; ++i)
      std::this_thread::sleep_for(100ms);  // gpsfake goes on until its client leaves
  });
  // Until the last stop event these fixes give.
  const std::string last =
      without_fault(trip, kFixes).stops({"next_stop", "approaching", "arrived", "departed"}).back();
  auto reached = [&](const std::string& path) {
    const auto said = Events(path).stops({"next_stop", "approaching", "arrived", "departed"});
    return !said.empty() && said.back() == last;
  };
  std::string messages;
  const Events events = run_daemon(trip, port, reached, &messages);
  stopped = true;
  gpsd.join();
  EXPECT_EQ(events.count("trip_started"), 1) << events.dump();
  EXPECT_EQ(events.count("trip_ended"), 0) << events.dump();
  EXPECT_EQ(events.outages(), (std::vector<std::string>{"gps_lost", "gps_restored"}))
      << events.dump();
  expect_announced_outside_the_outage(events, without_fault(trip, kFixes));
  EXPECT_THAT(messages, ::testing::HasSubstr("gpsd disconnected"));
}

}  // namespace
}  // namespace stopcall::daemon
