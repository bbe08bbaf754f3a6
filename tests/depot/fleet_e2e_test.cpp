// The fleet end to end: a real mosquitto, `stopcall-fleet serve` and two real buses
// (`stopcalld replay --realtime` with the fleet link, on traces made by stopcall-scenario) on
// route 101 of the demo route data, and the booking platform's login. Each bus's doors are played
// as its door controller would play them: open on the bus's own `arrived` line (through the
// control socket), closed a few seconds later. The replays run many times faster than the road.
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "daemon/log/event_store.hpp"
#include "daemon/vehicle/control_socket.hpp"
#include "depot/commands.hpp"
#include "depot/store.hpp"
#include "routes/signing.hpp"
#include "tests/daemon/fleet/broker.hpp"
#include "tests/depot/fleet_process.hpp"

namespace stopcall::depot {
namespace {

using json = nlohmann::json;
using routes::testing::TempDir;
using routes::testing::write_file;
using testing::depot::FleetProcess;
using testing::depot::Process;
using testing::depot::wait_until;
using testing::fleet::Broker;
using testing::fleet::Message;
using testing::fleet::Peer;
using namespace std::chrono_literals;

const std::string kPrefix = "stopcall/v1";
// Times faster than the road: a stop every 6 to 8 s, a dwell under a second.
constexpr int kSpeed = 30;

std::string built(const std::string& path) {
  return std::string(STOPCALL_BINARY_DIR) + "/" + path;
}

std::vector<json> json_lines(const std::string& text) {
  std::vector<json> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    json j = json::parse(line, nullptr, false);
    if (j.is_object()) out.push_back(std::move(j));
  }
  return out;
}

// A recorded trip: the NMEA the bus replays and where the simulated bus halted.
struct Trace {
  std::string nmea;
  std::vector<std::string> stops;  // the trip's stop ids in order
  std::vector<bool> halted;        // at each: the bus stopped there (not driven through)
};

Trace generate(const std::string& bundle, const std::string& trip, int seed,
               const std::string& dir) {
  Trace t;
  t.nmea = dir + "/" + trip + ".nmea";
  const std::string truth = dir + "/" + trip + ".truth.jsonl";
  Process p({built("sim/stopcall-scenario"), "generate", "--routes", bundle, "--trip", trip,
             "--noise", "clean", "--seed", std::to_string(seed), "--nmea", t.nmea, "--out-trace",
             dir + "/" + trip + ".jsonl", "--out-truth", truth},
            dir + "/" + trip + ".generate.log");
  if (p.finish(false) != 0) throw std::runtime_error("stopcall-scenario failed: " + p.log());
  for (const auto& j : json_lines(routes::testing::read_bytes(truth))) {
    if (j.value("class", "") != "stop") continue;
    t.stops.push_back(j["stop_id"]);
    t.halted.push_back(j["stopped"].get<bool>());
  }
  return t;
}

// One bus: `stopcalld replay` of its trip in real time (sped up) with the fleet link, its event
// log and store, its control socket; and its door controller, which opens the doors at every
// halt at a stop.
class Bus {
 public:
  Bus(std::string vehicle, std::string trip, const std::string& dir)
      : vehicle_(std::move(vehicle)), trip_(std::move(trip)), dir_(dir + "/" + vehicle_) {
    std::filesystem::create_directories(dir_);
  }
  ~Bus() { stop(); }

  void start(int broker_port, const std::string& password, const std::string& command_key,
             const std::string& bundle, const Trace& trace) {
    write_file(dir_ + "/password", password + "\n");
    // The configuration file of a bus: only what `replay --fleet-config` reads from it.
    write_file(dir_ + "/fleet.toml",
               "[events]\nstore = \"" + store() +
                   "\"\n[fleet]\nhost = \"127.0.0.1\"\nport = " + std::to_string(broker_port) +
                   "\nvehicle = \"" + vehicle_ + "\"\npassword_file = \"" + dir_ +
                   "/password\"\nreconnect_min_ms = 200\ncommand_key = \"" + command_key + "\"\n");
    write_file(events(), "");
    std::vector<std::string> args{built("daemon/stopcalld"), "replay", "--routes", bundle};
    args.insert(args.end(),
                {"--gps", trace.nmea, "--trip", trip_, "--no-block", "--door-signals", "--realtime",
                 "--speed", std::to_string(kSpeed), "--store", store(), "--fleet-config",
                 dir_ + "/fleet.toml", "--events", events(), "--control", socket()});
    process_ = std::make_unique<Process>(args, dir_ + "/stderr.txt");
    doors_ = std::thread([this] { play_doors(); });
  }

  void stop() {
    done_ = true;
    if (doors_.joinable()) doors_.join();
    if (process_) process_->finish();
  }

  const std::string& vehicle() const { return vehicle_; }
  std::string events() const { return dir_ + "/events.jsonl"; }
  std::string store() const { return dir_ + "/events.db"; }
  std::string socket() const { return dir_ + "/control.sock"; }
  std::string log() const { return process_ ? process_->log() : std::string(); }
  bool running() const { return process_ && process_->running(); }
  std::vector<json> lines() const { return json_lines(routes::testing::read_bytes(events())); }
  std::vector<std::string> commands_failed() const {
    std::lock_guard lock(mutex_);
    return failed_;
  }

 private:
  // As the door controller: reads the bus's own log and opens the doors when it halts at a stop
  // (the bus's speed signal says it stands), for 4 s of the bus's time (a bus does not drive with
  // its doors open: they close before it leaves).
  void play_doors() {
    std::size_t seen = 0;
    while (!done_) {
      const auto all = lines();
      for (; seen < all.size(); ++seen) {
        if (all[seen].value("type", "") != "arrived") continue;
        send(R"({"cmd":"signal","signal":"speed","kmh":0})");
        send(R"({"cmd":"signal","signal":"door","state":"open"})");
        std::this_thread::sleep_for(std::chrono::milliseconds(4000 / kSpeed));
        send(R"({"cmd":"signal","signal":"door","state":"closed"})");
      }
      std::this_thread::sleep_for(20ms);
    }
  }
  void send(const std::string& line) {
    const auto reply = daemon::vehicle::send_command(socket(), line, 5000);
    if (!reply.ok) {
      std::lock_guard lock(mutex_);
      failed_.push_back(line + ": " + reply.message);
    }
  }

  std::string vehicle_, trip_, dir_;
  mutable std::unique_ptr<Process> process_;
  std::thread doors_;
  std::atomic<bool> done_{false};
  mutable std::mutex mutex_;
  std::vector<std::string> failed_;
};

// The lines of one type (and stop or request id, when given) in a bus's log.
std::vector<json> of(const std::vector<json>& lines, const std::string& type,
                     const std::string& id_key = {}, const std::string& id = {}) {
  std::vector<json> out;
  for (const auto& j : lines) {
    if (j.value("type", "") == type && (id_key.empty() || j.value(id_key, "") == id))
      out.push_back(j);
  }
  return out;
}
std::vector<std::string> fates(const std::vector<json>& lines, const std::string& request) {
  std::vector<std::string> out;
  for (const auto& j : of(lines, "request", "id", request))
    out.push_back(j["fate"]);
  return out;
}
// The place of the first line at or after `from` matching `match` in the log; -1 when none.
long index_of(const std::vector<json>& lines, const std::function<bool(const json&)>& match,
              long from = 0) {
  for (auto i = static_cast<std::size_t>(std::max(0L, from)); i < lines.size(); ++i)
    if (match(lines[i])) return static_cast<long>(i);
  return -1;
}

class FleetEndToEnd : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    data_ = new TempDir;
    bundle_ = *data_ / "demo.db";
    ASSERT_TRUE(routes::testing::import_demo(bundle_));
    // Seeds whose runs differ: bus-1 drives through stops where bus-2 has riders to pick up.
    first_ = generate(bundle_, "101-WD-E-0630", 1, data_->path().string());
    second_ = generate(bundle_, "101-WD-E-0640", 4, data_->path().string());
  }
  static void TearDownTestSuite() { delete data_; }

  FleetEndToEnd()
      : broker_(
            {{"depot", "depot-pw"}, {"control", "control-pw"}, {"bus-1", "b1"}, {"bus-2", "b2"}},
            false, control_access(kPrefix)),
        keys_(routes::generate_keypair(dir_ / "control.secret", dir_ / "control.public")) {
    write_file(dir_ / "depot.password", "depot-pw\n");
  }

  void start_serve() {
    serve_ = std::make_unique<FleetProcess>(
        std::vector<std::string>{"serve", "--broker", "127.0.0.1:" + std::to_string(broker_.port()),
                                 "--password-file", dir_ / "depot.password", "--store",
                                 dir_ / "fleet.db", "--bundle", bundle_, "--key",
                                 dir_ / "control.secret"},
        dir_ / "serve.log");
    ASSERT_TRUE(serve_->wait_log("connected to")) << serve_->log();
  }

  // What the depot knows of `vehicle` now (its status in the fleet store).
  std::optional<daemon::fleet::StatusRecord> depot_sees(const std::string& vehicle) {
    if (!std::filesystem::exists(dir_ / "fleet.db")) return std::nullopt;
    FleetStore store(dir_ / "fleet.db", true);
    for (auto& s : store.statuses())
      if (s.vehicle == vehicle) return s;
    return std::nullopt;
  }
  // Waits until the depot sees `vehicle` on its trip with its next stop at `index` or beyond.
  bool wait_on_trip(const Bus& bus, const std::string& trip, int index,
                    std::chrono::milliseconds timeout = 30s) {
    return wait_until(
               [&] {
                 if (!bus.running()) return true;  // failed below
                 auto s = depot_sees(bus.vehicle());
                 return s && s->online && s->trip_id == trip && s->next_stop &&
                        s->next_stop->index >= index;
               },
               timeout) &&
           bus.running();
  }

  // A bus's own event store: row number -> line.
  static std::map<std::int64_t, json> stored_by(const Bus& bus) {
    std::map<std::int64_t, json> out;
    log::for_each_line(bus.store(), std::nullopt, std::nullopt, [&](const log::StoredLine& l) {
      out.emplace(l.seq, json::parse(l.json, nullptr, false));
    });
    return out;
  }
  // The depot's store, one bus's events: its row number -> line.
  std::map<std::int64_t, json> depot_has(const std::string& vehicle) {
    std::map<std::int64_t, json> out;
    FleetStore store(dir_ / "fleet.db", true);
    store.for_each_event(vehicle, [&](std::int64_t seq, const std::string& line) {
      out.emplace(seq, json::parse(line, nullptr, false));
    });
    return out;
  }

  static inline TempDir* data_ = nullptr;
  static inline std::string bundle_;
  static inline Trace first_, second_;
  TempDir dir_;
  Broker broker_;
  routes::KeyPair keys_;
  std::unique_ptr<FleetProcess> serve_;
};

// The states the booking platform saw of one booking, in order.
std::vector<json> states_of(const std::vector<Message>& messages, const std::string& booking) {
  std::vector<json> out;
  for (const auto& m : messages) {
    json j = json::parse(m.payload, nullptr, false);
    if (j.is_object() && j.value("booking_id", "") == booking) out.push_back(std::move(j));
  }
  return out;
}
bool reached(const std::vector<Message>& messages, const std::string& booking,
             const std::string& state) {
  for (const auto& s : states_of(messages, booking))
    if (s.value("state", "") == state) return true;
  return false;
}

// Bus-1 runs the 06:30 trip, bus-2 the 06:40 one a stop or two behind it. Two blind riders book:
// A at a stop where bus-1 halts, B at an earlier one bus-1 drives through (nobody else waits
// there). A is served by bus-1 (the route said outside as it comes, the doors opened for the
// rider); bus-1 misses B, so the depot hands it to bus-2, which halts there and serves it. The
// depot's store has every event of both buses once.
TEST_F(FleetEndToEnd, BookingsReachTheFirstBusAndPassToTheNextWhenItDrivesThrough) {
  // The stops (from the traces' truth): B, the first after the terminal's neighbour that bus-1
  // drives through and bus-2 halts at; A, the next where bus-1 halts.
  std::size_t b = 2;
  while (b + 1 < first_.stops.size() && (first_.halted[b] || !second_.halted[b]))
    ++b;
  std::size_t a = b + 1;
  while (a + 1 < first_.stops.size() && !first_.halted[a])
    ++a;
  ASSERT_LT(a + 1, first_.stops.size()) << "the traces have no such stops";
  const std::string stop_a = first_.stops[a], stop_b = first_.stops[b];
  Bus bus1("bus-1", "101-WD-E-0630", dir_.path().string());
  Bus bus2("bus-2", "101-WD-E-0640", dir_.path().string());

  start_serve();
  Peer platform(broker_.port(), "control", "control-pw", {kPrefix + "/depot/bookings/+"});
  ASSERT_EQ(platform.wait_ready(), 0);
  bus1.start(broker_.port(), "b1", dir_ / "control.public", bundle_, first_);
  // bus-2 leaves when bus-1 is a stop or two ahead: a few minutes of the timetable.
  ASSERT_TRUE(wait_on_trip(bus1, "101-WD-E-0630", static_cast<int>(b) - 1))
      << bus1.log() << serve_->log();
  bus2.start(broker_.port(), "b2", dir_ / "control.public", bundle_, second_);
  ASSERT_TRUE(wait_on_trip(bus2, "101-WD-E-0640", 0)) << bus2.log() << serve_->log();
  const auto ahead = depot_sees("bus-1");
  ASSERT_LE(ahead->next_stop->index, static_cast<int>(b)) << "bus-1 is already past " << stop_b;

  for (const auto& [id, stop] : {std::pair{"e2e-a", stop_a}, std::pair{"e2e-b", stop_b}}) {
    ASSERT_TRUE(platform.publish(
        kPrefix + "/depot/bookings",
        json{{"booking_id", id}, {"kind", "blind"}, {"route_id", "101"}, {"stop_id", stop}}
            .dump()));
  }

  // 1. Booking A: to bus-1, which reaches the stop first; accepted, the route said outside as the
  // bus comes to the rider's stop, the doors opened there, served.
  ASSERT_TRUE(platform.wait([](const auto& m) { return reached(m, "e2e-a", "served"); }, 90s))
      << serve_->log() << bus1.log();
  {
    const auto states = states_of(platform.messages(), "e2e-a");
    EXPECT_EQ(states.front()["state"], "sent");
    EXPECT_EQ(states.front()["vehicle"], "bus-1");
    EXPECT_EQ(states.back()["state"], "served");
    EXPECT_EQ(states.back()["vehicle"], "bus-1");
    EXPECT_TRUE(states.back()["tried"].empty()) << states.back().dump();
    EXPECT_TRUE(reached(platform.messages(), "e2e-a", "accepted"));
    const auto log = bus1.lines();
    EXPECT_EQ(fates(log, "e2e-a"), (std::vector<std::string>{"pending", "shown", "served"}));
    EXPECT_FALSE(of(log, "fleet_command").empty());
    for (const auto& c : of(log, "fleet_command"))
      EXPECT_EQ(c["accepted"], true) << c.dump();
    const long approaching = index_of(log, [&](const json& j) {
      return j.value("type", "") == "approaching" && j.value("stop_id", "") == stop_a;
    });
    const long departed = index_of(log, [&](const json& j) {
      return j.value("type", "") == "departed" && j.value("stop_id", "") == stop_a;
    });
    ASSERT_GE(approaching, 0);
    const long outside = index_of(
        log,
        [&](const json& j) {
          return j.value("type", "") == "announcement" && j.value("kind", "") == "boarding_request";
        },
        approaching);
    ASSERT_GE(outside, 0) << "the route said outside for the rider at " << stop_a;
    EXPECT_LT(outside, departed);
    // And again when the doors opened for the rider there.
    const long doors = index_of(
        log,
        [&](const json& j) {
          return j.value("type", "") == "announcement" && j.value("kind", "") == "exterior_route";
        },
        outside);
    ASSERT_GE(doors, 0);
    EXPECT_LT(doors, departed);
    EXPECT_EQ(log[static_cast<std::size_t>(outside)]["outputs"], json::array({"exterior"}));
    EXPECT_TRUE(fates(bus2.lines(), "e2e-a").empty());  // the other bus was never asked
  }

  // 2. Booking B: bus-1 is ahead, so it gets it, but it drives through the stop: missed; the
  // depot sends it to bus-2, still short of the stop, which serves it.
  ASSERT_TRUE(platform.wait([](const auto& m) { return reached(m, "e2e-b", "served"); }, 90s))
      << serve_->log() << bus2.log();
  {
    const auto states = states_of(platform.messages(), "e2e-b");
    EXPECT_EQ(states.front()["vehicle"], "bus-1");
    EXPECT_EQ(states.back()["vehicle"], "bus-2");
    EXPECT_EQ(states.back()["tried"], json::array({"bus-1"}));
    const auto first = fates(bus1.lines(), "e2e-b");
    ASSERT_FALSE(first.empty());
    EXPECT_EQ(first.back(), "missed");
    for (const auto& r : of(bus1.lines(), "request", "id", "e2e-b")) {
      if (r["fate"] == "missed") {
        EXPECT_EQ(r["why"], "the bus passed the stop");
      }
    }
    const auto second = fates(bus2.lines(), "e2e-b");
    ASSERT_FALSE(second.empty());
    EXPECT_EQ(second.front(), "pending");
    EXPECT_EQ(second.back(), "served");
    EXPECT_FALSE(of(bus2.lines(), "announcement", "kind", "boarding_request").empty());
  }

  // 3. The depot's store has each bus's events once: every line a bus has stored reaches it,
  // under the bus's row number, as the bus stored it; and it has no line a bus did not store.
  for (Bus* bus : {&bus1, &bus2}) {
    const auto own = stored_by(*bus);
    ASSERT_FALSE(own.empty());
    ASSERT_TRUE(wait_until(
        [&] {
          FleetStore store(dir_ / "fleet.db", true);
          return store.event_count(bus->vehicle()) >= static_cast<std::int64_t>(own.size());
        },
        30s))
        << bus->vehicle() << bus->log();
    const auto depot = depot_has(bus->vehicle());
    for (const auto& [seq, line] : own) {
      auto it = depot.find(seq);
      ASSERT_NE(it, depot.end()) << bus->vehicle() << " row " << seq << ": " << line.dump();
      EXPECT_EQ(it->second, line) << bus->vehicle() << " row " << seq;
    }
  }
  for (Bus* bus : {&bus1, &bus2}) {
    bus->stop();
    EXPECT_TRUE(bus->commands_failed().empty()) << bus->commands_failed().front();
    const auto own = stored_by(*bus);
    for (const auto& [seq, line] : depot_has(bus->vehicle())) {
      auto it = own.find(seq);
      ASSERT_NE(it, own.end()) << bus->vehicle() << " row " << seq << ": " << line.dump();
      EXPECT_EQ(it->second, line) << bus->vehicle() << " row " << seq;
    }
  }
  EXPECT_EQ(serve_->finish(), 0) << serve_->log();
}

}  // namespace
}  // namespace stopcall::depot
