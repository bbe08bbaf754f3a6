// `stopcall-fleet push-bundle` as the depot runs it, against a real mosquitto and a real bus
// (`stopcalld run` with [fleet], its route data installed with `stopcall-routes install`): the
// new route data (the demo feed with another feed version, signed with the depot's key) is
// offered, served in chunks and installed -- at once on a bus between trips, only after the trip
// on a bus that runs one (fed by gpsd + gpsfake) -- and the bus starts again on it as the same
// process. A bus killed mid-download asks, once back, only for the chunks it lacks. A bus offline
// when the offer goes out gets one of its own once it is back.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "daemon/fleet/command.hpp"
#include "daemon/fleet/route_data.hpp"
#include "depot/commands.hpp"
#include "routes/signing.hpp"
#include "tests/daemon/daemon_process.hpp"
#include "tests/daemon/fleet/broker.hpp"
#include "tests/daemon/gps/gpsfake.hpp"
#include "tests/depot/fleet_process.hpp"

namespace stopcall::depot {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using routes::testing::read_bytes;
using routes::testing::TempDir;
using routes::testing::write_file;
using testing::DaemonOptions;
using testing::DaemonProcess;
using testing::depot::FleetProcess;
using testing::depot::Process;
using testing::depot::wait_until;
using testing::fleet::Broker;
using testing::fleet::Message;
using testing::fleet::Peer;
using namespace std::chrono_literals;

const std::string kPrefix = "stopcall/v1";
const std::string kOldVersion = "2026.11-demo";  // routes/demo/shenzhen-101/feed_info.txt
const std::string kNewVersion = "2026.12-depot";
const std::string kTrip = "101-WD-E-0630";

std::string built(const std::string& path) {
  return std::string(STOPCALL_BINARY_DIR) + "/" + path;
}

// A project program run to its end; its output on failure.
void run_program(std::vector<std::string> args, const std::string& log) {
  Process p(std::move(args), log);
  if (p.finish(false) != 0) throw std::runtime_error("failed: " + read_bytes(log));
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

int count(const std::string& text, const std::string& what) {
  int n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1))
    ++n;
  return n;
}

// The bus's statuses as the depot saw them, last first.
std::vector<json> statuses(const Peer& depot) {
  std::vector<json> out;
  for (const auto& m : depot.messages())
    if (m.topic.ends_with("/status")) out.insert(out.begin(), json::parse(m.payload));
  return out;
}

// The depot, its broker and keys, the route data old and new, and bus-7 with the old one
// installed, its fleet link knowing the control centre's and the depot's public keys.
class PushBundle : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string routes_cli = built("routes/stopcall-routes");
    const std::string demo = std::string(STOPCALL_SOURCE_DIR) + "/routes/demo/shenzhen-101";
    const std::string extra = demo + "-extra";
    run_program(
        {routes_cli, "keygen", "--secret", dir / "depot.secret", "--public", dir / "depot.pub"},
        dir / "keygen.log");
    routes::generate_keypair(dir / "centre.secret", dir / "centre.pub");
    write_file(dir / "control.password", "c\n");
    write_file(dir / "bus.password", "secret-7\n");
    // Today's route data, installed as the depot installs it on a bus.
    run_program({routes_cli, "import", demo, "--extra", extra, "-o", old_db}, dir / "import.log");
    run_program({routes_cli, "sign", old_db, "--key", dir / "depot.secret"}, dir / "sign.log");
    run_program(
        {routes_cli, "install", old_db, "--into", install_dir, "--pubkey", dir / "depot.pub"},
        dir / "install.log");
    // The next timetable: the same feed with another version.
    fs::copy(demo, dir / "feed2", fs::copy_options::recursive);
    std::string info = read_bytes(dir / "feed2/feed_info.txt");
    info.replace(info.rfind(kOldVersion), kOldVersion.size(), kNewVersion);
    write_file(dir / "feed2/feed_info.txt", info);
    run_program({routes_cli, "import", dir / "feed2", "--extra", extra, "-o", new_db},
                dir / "import2.log");
    run_program({routes_cli, "sign", new_db, "--key", dir / "depot.secret"}, dir / "sign2.log");
    chunks = (fs::file_size(new_db) + daemon::fleet::kDefaultChunkSize - 1) /
             daemon::fleet::kDefaultChunkSize;
    ASSERT_GE(chunks, 3u) << "the resume test needs a bundle of several chunks";
  }

  DaemonOptions bus_options(std::vector<std::string> run_args = {}, int gpsd_port = 0) {
    DaemonOptions o;
    o.bundle = install_dir + "/active.db";
    o.gpsd_port = gpsd_port;
    o.run_args = std::move(run_args);
    o.extra_config = "[events]\nstore = \"" + (dir / "events.db") +
                     "\"\n[fleet]\nhost = \"127.0.0.1\"\nport = " + std::to_string(broker.port()) +
                     "\nvehicle = \"bus-7\"\npassword_file = \"" + (dir / "bus.password") +
                     "\"\nreconnect_min_ms = 200\nreconnect_max_ms = 1000\ncommand_key = \"" +
                     (dir / "centre.pub") + "\"\nbundle_key = \"" + (dir / "depot.pub") + "\"\n";
    return o;
  }

  std::vector<std::string> push_args() {
    return {"push-bundle",
            "--broker",
            "127.0.0.1:" + std::to_string(broker.port()),
            "--password-file",
            dir / "control.password",
            "--key",
            dir / "centre.secret",
            "--bus",
            "bus-7",
            "--wait",
            "300",
            new_db};
  }

  // The bus came back on the new route data: the same process (execv), connected again, its
  // status naming the new bundle, the files swapped with the old kept for rollback.
  // `connects`: how often it had connected to the broker before.
  void expect_started_again_on_the_new_bundle(DaemonProcess& bus, pid_t pid, Peer& depot,
                                              int connects = 1) {
    ASSERT_TRUE(bus.wait_log("starting again on the new route data", 60s)) << bus.log();
    EXPECT_EQ(bus.pid(), pid);
    ASSERT_TRUE(wait_until(
        [&] { return count(bus.log(), "fleet: connected to 127.0.0.1") > connects; }, 60s))
        << bus.log();
    EXPECT_TRUE(bus.running()) << bus.log();
    // Its start names the route data it runs: the old one before, the new one now.
    const std::string log = bus.log();
    const auto again = log.rfind("starting again on the new route data");
    EXPECT_NE(log.find("on route data " + kOldVersion), std::string::npos) << log;
    EXPECT_NE(log.find("on route data " + kNewVersion + " (" + install_dir + "/active.db)", again),
              std::string::npos)
        << log;
    ASSERT_TRUE(wait_until(
        [&] {
          const auto s = statuses(depot);
          return !s.empty() && s.front().value("online", false) &&
                 s.front().value("bundle", "") == kNewVersion && !s.front().contains("route_data");
        },
        60s))
        << bus.log();
    EXPECT_EQ(read_bytes(install_dir + "/active.db"), read_bytes(new_db));
    EXPECT_EQ(read_bytes(install_dir + "/previous.db"), read_bytes(old_db));
    EXPECT_FALSE(fs::exists(install_dir + "/.fleet-offer.json"));
    EXPECT_FALSE(fs::exists(install_dir + "/.fleet-" + kNewVersion + ".part"));
    // The control socket answers from the new process.
    EXPECT_TRUE(wait_until([&] { return bus.command(R"({"cmd":"state"})").ok; }, 30s));
  }

  TempDir dir;
  Broker broker{
      {{"depot", "d"}, {"control", "c"}, {"bus-7", "secret-7"}}, false, control_access(kPrefix)};
  std::string install_dir = dir / "bundles";
  std::string old_db = dir / "old.db";
  std::string new_db = dir / "new.db";
  std::uint64_t chunks = 0;
};

TEST_F(PushBundle, ABusBetweenTripsInstallsItAndStartsAgainOnIt) {
  Peer depot(broker.port(), "depot", "d", {kPrefix + "/bus/bus-7/status"});
  ASSERT_EQ(depot.wait_ready(), 0);
  DaemonProcess bus(bus_options());
  ASSERT_TRUE(bus.wait_log("fleet: listening for commands")) << bus.log();
  const pid_t pid = bus.pid();

  FleetProcess push(push_args(), dir / "push.log");
  EXPECT_EQ(push.finish(false), 0) << push.log() << bus.log();
  const std::string out = push.log();
  EXPECT_NE(out.find("offered " + kNewVersion), std::string::npos) << out;
  EXPECT_NE(out.find(std::to_string(chunks) + " chunks) to bus:bus-7"), std::string::npos) << out;
  EXPECT_NE(out.find(kNewVersion + ": 1 installed, 0 failed or refused, 0 not finished; " +
                     std::to_string(chunks) + " chunks served"),
            std::string::npos)
      << out;
  // Its progress, one line per change: the bus took the offer (its answer, or its status saying
  // downloading, whichever came first), then installed it.
  const auto lines = json_lines(out);
  ASSERT_GE(lines.size(), 2u) << out;
  EXPECT_TRUE(lines.front()["state"] == "accepted" || lines.front()["state"] == "downloading")
      << out;
  EXPECT_EQ(lines.front()["vehicle"], "bus-7");
  EXPECT_EQ(lines.back()["state"], "installed") << out;
  for (const auto& l : lines)
    EXPECT_NE(l["state"], "failed") << out;

  expect_started_again_on_the_new_bundle(bus, pid, depot);
  // The event log tells the depot's report what happened.
  const std::string events = bus.events();
  EXPECT_NE(events.find(R"("type":"route_data")"), std::string::npos) << events;
  EXPECT_NE(events.find(R"("event":"installed")"), std::string::npos) << events;
  EXPECT_EQ(bus.stop(), 0) << bus.log();
}

// gpsd fed with NMEA: a lead-in without a fix (gpsd needs a moment to recognise NMEA), then
// trace lines [from, to).
void write_fed(const std::string& trace, const std::string& out, std::size_t from, std::size_t to) {
  std::ifstream in(trace);
  std::ofstream fed(out);
  for (int i = 0; i < 300; ++i) {
    char body[64];
    std::snprintf(body, sizeof body, "GPRMC,%02d%02d00.00,V,,,,,,,020326,,,N", 5 + i / 60, i % 60);
    unsigned char sum = 0;
    for (const char* c = body; *c; ++c)
      sum ^= static_cast<unsigned char>(*c);
    char line[96];
    std::snprintf(line, sizeof line, "$%s*%02X\r\n", body, sum);
    fed << line;
  }
  std::string line;
  for (std::size_t i = 0; i < to && std::getline(in, line); ++i)
    if (i >= from) fed << line << "\n";
}

TEST_F(PushBundle, NeverMidTripThenTheBusStartsAgainOnItAfterTheTrip) {
  run_program(
      {built("sim/stopcall-scenario"), "generate", "--routes", old_db, "--trip", kTrip, "--noise",
       "clean", "--seed", "7", "--nmea", dir / "trip.nmea", "--out-trace", dir / "trip.jsonl"},
      dir / "generate.log");
  std::size_t lines = 0;
  {
    std::ifstream in(dir / "trip.nmea");
    for (std::string l; std::getline(in, l);)
      ++lines;
  }
  // The first part of the trip, then gpsd goes (the bus waits at a light); the rest after.
  const std::size_t split = lines / 4;
  write_fed(dir / "trip.nmea", dir / "first.nmea", 0, split);
  write_fed(dir / "trip.nmea", dir / "rest.nmea", split, lines);
  const int gpsd_port = testing::test_port(91);

  Peer depot(broker.port(), "depot", "d", {kPrefix + "/bus/bus-7/status"});
  ASSERT_EQ(depot.wait_ready(), 0);
  DaemonProcess bus(bus_options({"--trip", kTrip}, gpsd_port));
  ASSERT_TRUE(bus.wait_log("fleet: listening for commands")) << bus.log();
  const pid_t pid = bus.pid();
  {
    testing::GpsFake fake(dir / "first.nmea", gpsd_port, 0.004);
    ASSERT_TRUE(fake.started());
    ASSERT_TRUE(wait_until(
        [&] { return bus.events().find(R"("type":"departed")") != std::string::npos; }, 120s))
        << bus.log();
    ASSERT_TRUE(wait_until(
        [&] {
          const auto s = statuses(depot);
          return !s.empty() && s.front().value("trip_id", "") == kTrip;
        },
        30s));
  }
  // Mid-trip: the bundle comes whole and waits for the terminus.
  FleetProcess push(push_args(), dir / "push.log");
  ASSERT_TRUE(push.wait_log(R"("state":"waiting_for_terminus")", 1, 120s))
      << push.log() << bus.log();
  EXPECT_TRUE(push.running());
  std::this_thread::sleep_for(2s);  // what would have gone wrong, had it not waited
  EXPECT_EQ(read_bytes(install_dir + "/active.db"), read_bytes(old_db));
  EXPECT_FALSE(fs::exists(install_dir + "/previous.db"));
  EXPECT_EQ(bus.pid(), pid);
  EXPECT_EQ(count(bus.log(), "starting again"), 0) << bus.log();
  EXPECT_EQ(statuses(depot).front()["route_data"]["state"], "waiting_for_terminus");
  EXPECT_EQ(statuses(depot).front()["bundle"], kOldVersion);

  // The rest of the trip: at its end the bus installs the bundle and starts again on it.
  testing::GpsFake rest(dir / "rest.nmea", gpsd_port, 0.004);
  ASSERT_TRUE(rest.started());
  ASSERT_TRUE(wait_until(
      [&] { return bus.events().find(R"("type":"trip_ended")") != std::string::npos; }, 240s))
      << bus.log();
  EXPECT_EQ(push.finish(false), 0) << push.log() << bus.log();
  expect_started_again_on_the_new_bundle(bus, pid, depot);
  EXPECT_EQ(bus.stop(), 0) << bus.log();
}

TEST_F(PushBundle, ABusKilledMidDownloadAsksOnlyForWhatItLacks) {
  // The depot at first serves only the first two chunks: the bus is killed while it waits.
  Peer depot(broker.port(), "depot", "d",
             {kPrefix + "/bus/bus-7/status", kPrefix + "/bus/bus-7/bundle/get"});
  ASSERT_EQ(depot.wait_ready(), 0);
  DaemonProcess bus(bus_options());
  ASSERT_TRUE(bus.wait_log("fleet: listening for commands")) << bus.log();
  const std::string bytes = read_bytes(new_db);
  const daemon::fleet::BundleOffer offer{kNewVersion, bytes.size(),
                                         daemon::fleet::blake2b_file(new_db),
                                         daemon::fleet::kDefaultChunkSize};
  const auto centre = routes::load_secret_key(dir / "centre.secret");
  ASSERT_TRUE(depot.publish(
      kPrefix + "/bus/bus-7/requests",
      daemon::fleet::sign_command(
          centre, {daemon::fleet::Audience::Kind::bus, "bus-7"},
          std::chrono::floor<std::chrono::milliseconds>(std::chrono::system_clock::now()),
          daemon::fleet::bundle_offer_line(offer))));
  const std::uint64_t served_first = 2;
  std::set<std::uint64_t> served;
  const std::string part = install_dir + "/.fleet-" + kNewVersion + ".part";
  ASSERT_TRUE(wait_until(
      [&] {
        for (const auto& m : depot.messages()) {
          if (!m.topic.ends_with("/bundle/get")) continue;
          const auto req = daemon::fleet::decode_chunk_request(m.payload);
          if (!req || req->chunk >= served_first || served.contains(req->chunk)) continue;
          served.insert(req->chunk);
          const auto at = req->chunk * offer.chunk_size;
          depot.publish(
              kPrefix + "/bus/bus-7/bundle/chunk",
              daemon::fleet::encode_chunk(kNewVersion, req->chunk,
                                          std::string_view(bytes).substr(at, offer.chunk_size)));
        }
        return fs::exists(part) && fs::file_size(part) == served_first * offer.chunk_size;
      },
      60s))
      << bus.log();
  bus.kill_hard();
  EXPECT_TRUE(fs::exists(install_dir + "/.fleet-offer.json"));
  const std::size_t asked_before = depot.messages().size();

  // Back: push-bundle offers it again and serves; the bus goes on from chunk 2.
  bus.start();
  const pid_t pid = bus.pid();
  ASSERT_TRUE(
      wait_until([&] { return count(bus.log(), "fleet: listening for commands") >= 2; }, 30s))
      << bus.log();
  FleetProcess push(push_args(), dir / "push.log");
  EXPECT_EQ(push.finish(false), 0) << push.log() << bus.log();
  const std::string out = push.log();
  EXPECT_NE(out.find(R"("message":"already downloading (2 of )" + std::to_string(chunks)),
            std::string::npos)
      << out;
  EXPECT_NE(out.find(std::to_string(chunks - served_first) + " chunks served"), std::string::npos)
      << out;
  const auto messages = depot.messages();
  for (std::size_t i = asked_before; i < messages.size(); ++i) {
    if (!messages[i].topic.ends_with("/bundle/get")) continue;
    const auto req = daemon::fleet::decode_chunk_request(messages[i].payload);
    ASSERT_TRUE(req);
    EXPECT_GE(req->chunk, served_first) << "asked again for a chunk it had";
  }
  expect_started_again_on_the_new_bundle(bus, pid, depot, 2);
  EXPECT_EQ(bus.stop(), 0) << bus.log();
}

TEST_F(PushBundle, ABusOfflineWhenItIsOfferedGetsItOnceBack) {
  // bus-7 was on the link and has gone: its retained status says offline.
  Peer depot(broker.port(), "depot", "d", {kPrefix + "/bus/bus-7/status"});
  ASSERT_EQ(depot.wait_ready(), 0);
  DaemonProcess bus(bus_options());
  ASSERT_TRUE(bus.wait_log("fleet: listening for commands")) << bus.log();
  ASSERT_EQ(bus.stop(), 0) << bus.log();
  ASSERT_TRUE(wait_until(
      [&] {
        const auto s = statuses(depot);
        return !s.empty() && !s.front().value("online", true);
      },
      30s));

  // The offer goes out while it is away (commands are not kept for a bus that is not there).
  FleetProcess push(push_args(), dir / "push.log");
  ASSERT_TRUE(push.wait_log("offered " + kNewVersion)) << push.log();
  EXPECT_TRUE(push.running()) << push.log();

  // Back: it gets an offer of its own, downloads, installs and starts again on the new data.
  bus.start();
  const pid_t pid = bus.pid();
  EXPECT_EQ(push.finish(false), 0) << push.log() << bus.log();
  const std::string out = push.log();
  EXPECT_NE(
      out.find("offered " + kNewVersion + " again to bus:bus-7: online, and it has heard no offer"),
      std::string::npos)
      << out;
  EXPECT_EQ(count(out, R"("state":"reoffered")"), 1) << out;
  EXPECT_NE(out.find(kNewVersion + ": 1 installed, 0 failed or refused, 0 not finished; " +
                     std::to_string(chunks) + " chunks served; 1 offer sent again"),
            std::string::npos)
      << out;
  const auto lines = json_lines(out);
  ASSERT_GE(lines.size(), 2u) << out;
  EXPECT_EQ(lines.front()["state"], "reoffered") << out;
  EXPECT_EQ(lines.front()["vehicle"], "bus-7");
  EXPECT_EQ(lines.back()["state"], "installed") << out;
  expect_started_again_on_the_new_bundle(bus, pid, depot, 2);
  EXPECT_EQ(bus.stop(), 0) << bus.log();
}

}  // namespace
}  // namespace stopcall::depot
