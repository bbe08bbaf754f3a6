// Route data through the bus's fleet client and a real mosquitto: the depot (a plain MQTT client
// here) offers a signed bundle and serves the chunks the bus asks for; the bus installs it into a
// real install directory between trips, keeping the previous bundle.
#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <filesystem>
#include <future>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "daemon/fleet/client.hpp"
#include "daemon/fleet/command.hpp"
#include "daemon/fleet/route_data.hpp"
#include "routes/install.hpp"
#include "routes/schema.hpp"
#include "routes/signing.hpp"
#include "routes/sqlite.hpp"
#include "tests/daemon/fleet/broker.hpp"

namespace stopcall::daemon::fleet {
namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using json = nlohmann::json;
using routes::testing::read_bytes;
using testing::fleet::Broker;
using testing::fleet::Message;
using testing::fleet::Peer;
using namespace std::chrono_literals;

void make_bundle(const std::string& path, const std::string& tag, const routes::SecretKey& key,
                 std::size_t blob) {
  {
    routes::sql::Db db(path, routes::sql::Db::Mode::create);
    db.exec(std::string(routes::kSchemaTables));
    db.exec(std::string(routes::kSchemaIndexes));
    db.exec("PRAGMA user_version = " + std::to_string(routes::kSchemaVersion));
    db.prepare("INSERT INTO stops (stop_id, name, lat, lon) VALUES ('S1', ?1, 48.1, 11.5)")
        .bind(1, "Marktplatz " + tag)
        .run();
    db.exec("INSERT INTO clips VALUES ('c1', 'wav', randomblob(" + std::to_string(blob) + "))");
  }
  routes::sign_bundle(path, key);
}

tracking::Time system_now() {
  return std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
}

// One bus with route data: the client on an io_context thread, a trip that the test starts and
// ends.
struct Bus {
  Bus(int port, const std::string& dir) {
    Options o;
    o.host = "127.0.0.1";
    o.port = port;
    o.vehicle = "bus-A";
    o.reconnect_min = 200ms;
    o.reconnect_max = 1000ms;
    o.command_key = dir + "/centre.pub";
    o.bundle_key = dir + "/depot.pub";
    o.password_file = dir + "/bus.password";
    routes::testing::write_file(o.password_file, "secret-A\n");
    client = std::make_unique<Client>(
        io, o, "", system_now, [] { return StatusRecord{}; },
        [](const vehicle::Command&) { return vehicle::Reply{}; }, Client::Log{});
    Client::CommandHooks hooks;
    hooks.record = [this](const log::Record& r) {
      std::lock_guard lock(mutex);
      lines.push_back(json::parse(log::encode(r)));
    };
    client->set_command_hooks(std::move(hooks));
    Client::BundleHooks bundle;
    bundle.install_dir = dir + "/bundles";
    bundle.active = "old";
    bundle.trip_running = [this] { return trip.load(); };
    bundle.installed = [this] { installed = true; };
    client->set_bundle_hooks(std::move(bundle));
    client->start();
    thread = std::thread([this] { io.run(); });
  }
  ~Bus() {
    std::promise<void> done;
    asio::post(io, [&] {
      client->stop();
      done.set_value();
    });
    done.get_future().wait();
    io.stop();
    thread.join();
  }
  std::vector<json> records() {
    std::lock_guard lock(mutex);
    return lines;
  }

  asio::io_context io;
  std::unique_ptr<Client> client;
  std::thread thread;
  std::atomic<bool> trip{true}, installed{false};
  std::mutex mutex;
  std::vector<json> lines;
};

// The depot's side: serves every chunk asked for from `bytes` until `done` holds.
bool serve_until(Peer& depot, const std::string& bytes, const BundleOffer& o,
                 const std::function<bool(const std::vector<Message>&)>& done) {
  std::size_t seen = 0;
  for (int i = 0; i < 300; ++i) {
    const auto messages = depot.messages();
    if (done(messages)) return true;
    for (; seen < messages.size(); ++seen) {
      if (!messages[seen].topic.ends_with("/bundle/get")) continue;
      const auto req = decode_chunk_request(messages[seen].payload);
      if (!req) continue;
      depot.publish(
          "stopcall/v1/bus/bus-A/bundle/chunk",
          encode_chunk(o.bundle_id, req->chunk,
                       std::string_view(bytes).substr(req->chunk * o.chunk_size, o.chunk_size)));
    }
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

std::optional<json> last_route_data(const std::vector<Message>& messages) {
  for (auto it = messages.rbegin(); it != messages.rend(); ++it) {
    if (!it->topic.ends_with("/status")) continue;
    const json j = json::parse(it->payload);
    if (j.contains("route_data")) return j["route_data"];
  }
  return std::nullopt;
}

struct RouteDataLink : ::testing::Test {
  Broker broker{{{"depot", "depot-secret"}, {"bus-A", "secret-A"}}};
  routes::testing::TempDir dir;
  routes::KeyPair centre = routes::generate_keypair(dir / "centre.key", dir / "centre.pub");
  routes::KeyPair depot_key = routes::generate_keypair(dir / "depot.key", dir / "depot.pub");
  std::string offer_envelope(const BundleOffer& o) {
    return sign_command(centre.secret, Audience{Audience::Kind::bus, "bus-A"}, system_now(),
                        bundle_offer_line(o));
  }
};

TEST_F(RouteDataLink, ABundleIsFetchedVerifiedAndInstalledAtTheTerminusWithThePreviousKept) {
  make_bundle(dir / "old.db", "alt", depot_key.secret, 1000);
  routes::install_bundle(dir / "old.db", dir / "bundles", depot_key.public_key);
  make_bundle(dir / "new.db", "neu", depot_key.secret, 300000);
  const std::string bytes = read_bytes(dir / "new.db");
  const BundleOffer o{"2026-03-09", bytes.size(), blake2b_file(dir / "new.db"), 65536};
  Peer depot(broker.port(), "depot", "depot-secret", {"stopcall/v1/bus/bus-A/#"});
  ASSERT_EQ(depot.wait_ready(), 0);
  Bus bus(broker.port(), dir.path());
  ASSERT_TRUE(depot.wait([](const auto& m) {
    return std::any_of(m.begin(), m.end(),
                       [](const Message& x) { return x.topic.ends_with("/status"); });
  }));
  ASSERT_TRUE(depot.publish("stopcall/v1/bus/bus-A/requests", offer_envelope(o)));
  // Mid-trip: fetched and verified, then it waits.
  ASSERT_TRUE(serve_until(depot, bytes, o, [](const auto& m) {
    auto rd = last_route_data(m);
    return rd && (*rd)["state"] == "waiting_for_terminus";
  }));
  EXPECT_NE(read_bytes(dir / "bundles/active.db"), bytes);
  EXPECT_FALSE(bus.installed);
  // The trip ends at its terminus.
  bus.trip = false;
  asio::post(bus.io, [&] { bus.client->trip_ended(); });  // on the client's own thread
  ASSERT_TRUE(depot.wait([](const auto& m) {
    auto rd = last_route_data(m);
    return rd && (*rd)["state"] == "installed";
  }));
  // The status says installed first (so the depot hears it), then the daemon is told.
  for (int i = 0; i < 100 && !bus.installed; ++i)
    std::this_thread::sleep_for(50ms);
  EXPECT_TRUE(bus.installed);
  EXPECT_EQ(read_bytes(dir / "bundles/active.db"), bytes);
  EXPECT_EQ(read_bytes(dir / "bundles/previous.db"), read_bytes(dir / "old.db"));
  const auto acks = depot.messages();
  const auto ack = std::find_if(acks.begin(), acks.end(), [](const Message& m) {
    return m.topic.ends_with("/requests/ack");
  });
  ASSERT_NE(ack, acks.end());
  EXPECT_TRUE(json::parse(ack->payload)["accepted"].get<bool>());
}

TEST_F(RouteDataLink, ACorruptedChunkIsRefusedAndNothingIsInstalled) {
  make_bundle(dir / "new.db", "neu", depot_key.secret, 150000);
  std::string bytes = read_bytes(dir / "new.db");
  const BundleOffer o{"2026-03-09", bytes.size(), blake2b_file(dir / "new.db"), 65536};
  bytes[bytes.size() / 2] ^= 0x11;
  Peer depot(broker.port(), "depot", "depot-secret", {"stopcall/v1/bus/bus-A/#"});
  ASSERT_EQ(depot.wait_ready(), 0);
  Bus bus(broker.port(), dir.path());
  bus.trip = false;
  ASSERT_TRUE(depot.wait([](const auto& m) {
    return std::any_of(m.begin(), m.end(),
                       [](const Message& x) { return x.topic.ends_with("/status"); });
  }));
  ASSERT_TRUE(depot.publish("stopcall/v1/bus/bus-A/requests", offer_envelope(o)));
  ASSERT_TRUE(serve_until(depot, bytes, o, [](const auto& m) {
    auto rd = last_route_data(m);
    return rd && (*rd)["state"] == "failed";
  }));
  EXPECT_FALSE(bus.installed);
  EXPECT_FALSE(fs::exists(dir / "bundles/active.db"));
  const auto lines = bus.records();
  EXPECT_TRUE(std::any_of(lines.begin(), lines.end(), [](const json& l) {
    return l.value("type", "") == "route_data" && l.value("reason", "") == "hash_mismatch";
  }));
}

TEST_F(RouteDataLink, AForgedOfferIsRefusedAndNothingIsAsked) {
  const auto forger = routes::generate_keypair(dir / "forger.key", dir / "forger.pub");
  const BundleOffer o{"evil", 1000, std::string(64, 'a'), 65536};
  Peer depot(broker.port(), "depot", "depot-secret", {"stopcall/v1/bus/bus-A/#"});
  ASSERT_EQ(depot.wait_ready(), 0);
  Bus bus(broker.port(), dir.path());
  ASSERT_TRUE(depot.wait([](const auto& m) {
    return std::any_of(m.begin(), m.end(),
                       [](const Message& x) { return x.topic.ends_with("/status"); });
  }));
  ASSERT_TRUE(depot.publish("stopcall/v1/bus/bus-A/requests",
                            sign_command(forger.secret, Audience{Audience::Kind::bus, "bus-A"},
                                         system_now(), bundle_offer_line(o))));
  ASSERT_TRUE(depot.wait([](const auto& m) {
    return std::any_of(m.begin(), m.end(),
                       [](const Message& x) { return x.topic.ends_with("/requests/ack"); });
  }));
  bool asked = false;
  for (const auto& m : depot.messages()) {
    if (m.topic.ends_with("/requests/ack")) {
      EXPECT_EQ(json::parse(m.payload)["error"], "bad_signature");
    }
    asked = asked || m.topic.ends_with("/bundle/get");
  }
  EXPECT_FALSE(asked);
  EXPECT_FALSE(fs::exists(dir / "bundles/.fleet-offer.json"));
}

}  // namespace
}  // namespace stopcall::daemon::fleet
