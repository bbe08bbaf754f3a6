// Route data over the fleet link, the bus's side without a broker: the offer, the chunks as the
// depot would send them, the part file a restart resumes from, the checks, the terminus rule.
// Real files and a real signed bundle (the real schema, SQLite, libsodium).
#include "daemon/fleet/route_data.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "routes/install.hpp"
#include "routes/schema.hpp"
#include "routes/signing.hpp"
#include "routes/sqlite.hpp"
#include "tests/routes/test_feed.hpp"

namespace stopcall::daemon::fleet {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using routes::testing::read_bytes;
using routes::testing::TempDir;

// A small real bundle, signed with `key`: two stops named after `tag`, and `blob` bytes of random
// audio so that it spans several chunks.
void make_bundle(const std::string& path, const std::string& tag, const routes::SecretKey& key,
                 std::size_t blob = 200000) {
  {
    routes::sql::Db db(path, routes::sql::Db::Mode::create);
    db.exec(std::string(routes::kSchemaTables));
    db.exec(std::string(routes::kSchemaIndexes));
    db.exec("PRAGMA user_version = " + std::to_string(routes::kSchemaVersion));
    auto insert = db.prepare("INSERT INTO stops (stop_id, name, lat, lon) VALUES (?1, ?2, ?3, ?4)");
    insert.bind(1, "S1").bind(2, "Marktplatz " + tag).bind(3, 48.137).bind(4, 11.575).run();
    db.exec("INSERT INTO clips VALUES ('c1', 'wav', randomblob(" + std::to_string(blob) + "))");
  }
  routes::sign_bundle(path, key);
}

BundleOffer offer_for(const std::string& path, const std::string& id) {
  return BundleOffer{id, fs::file_size(path), blake2b_file(path), 65536};
}

// The depot's answer to a chunk request, from the file.
std::string chunk_of(const std::string& bytes, const BundleOffer& o, std::uint64_t k) {
  return encode_chunk(o.bundle_id, k,
                      std::string_view(bytes).substr(k * o.chunk_size, o.chunk_size));
}

struct Fixture {
  TempDir dir;
  routes::KeyPair depot = routes::generate_keypair(dir / "depot.key", dir / "depot.pub");
  std::string install = dir / "bundles";
  std::vector<json> lines;
  BundleReceiver receiver() {
    return BundleReceiver(install, depot.public_key, "2026-03-01", [this](const log::Record& r) {
      lines.push_back(json::parse(log::encode(r)));
    });
  }
};

const tracking::Time kNow = tracking::Time{} + std::chrono::hours(24 * 20000);

TEST(RouteDataOffer, ParsesTheSignedLineAndRefusesWhatCannotBeFetched) {
  const BundleOffer o{"2026-03-09", 300000, std::string(64, 'a'), 65536};
  EXPECT_TRUE(is_bundle_command(bundle_offer_line(o)));
  EXPECT_FALSE(is_bundle_command(R"({"cmd":"request","kind":"blind"})"));
  auto parsed = parse_bundle_offer(bundle_offer_line(o));
  ASSERT_TRUE(parsed.offer) << parsed.message;
  EXPECT_EQ(*parsed.offer, o);
  EXPECT_EQ(parsed.offer->chunks(), 5u);
  for (const char* bad :
       {R"({"cmd":"bundle","bundle_id":"../etc","size":10,"blake2b":"%"})",
        R"({"cmd":"bundle","bundle_id":"v1","size":0,"blake2b":"%"})",
        R"({"cmd":"bundle","bundle_id":"v1","size":-3,"blake2b":"%"})",
        R"({"cmd":"bundle","bundle_id":"v1","size":10,"blake2b":"abc"})",
        R"({"cmd":"bundle","bundle_id":"v1","size":10,"blake2b":"%","chunk_size":7})",
        "{not json"}) {
    std::string line = bad;
    if (auto at = line.find('%'); at != std::string::npos)
      line.replace(at, 1, std::string(64, 'a'));
    const auto p = parse_bundle_offer(line);
    EXPECT_FALSE(p.offer) << line;
    EXPECT_EQ(p.error, "bad_request");
    EXPECT_FALSE(p.message.empty());
  }
}

TEST(RouteDataChunk, HeaderLineThenTheRawBytes) {
  const std::string bytes("\0\n\xff{}", 5);
  const std::string payload = encode_chunk("v2", 3, bytes);
  const auto c = decode_chunk(payload);  // its bytes are a view into the payload
  ASSERT_TRUE(c);
  EXPECT_EQ(c->bundle_id, "v2");
  EXPECT_EQ(c->index, 3u);
  EXPECT_EQ(c->bytes, bytes);
  EXPECT_FALSE(decode_chunk("no header"));
}

TEST(RouteDataReceiver, AfterARestartAsksOnlyForTheChunksItLacks) {
  Fixture f;
  const std::string file = f.dir / "new.db";
  make_bundle(file, "neu", f.depot.secret);
  const std::string bytes = read_bytes(file);
  const BundleOffer o = offer_for(file, "2026-03-09");
  ASSERT_GE(o.chunks(), 4u);
  {
    auto r = f.receiver();
    EXPECT_TRUE(r.offer(o, kNow).accepted);
    EXPECT_EQ(r.to_ask(), (std::vector<std::uint64_t>{0, 1, 2, 3}));
    // Chunk 2 comes before 1: it waits in memory; the power goes before 1 comes.
    EXPECT_TRUE(r.on_chunk(chunk_of(bytes, o, 0), kNow));
    EXPECT_TRUE(r.on_chunk(chunk_of(bytes, o, 2), kNow));
    EXPECT_EQ(r.have(), 1u);
  }
  auto again = f.receiver();
  again.resume(kNow);
  ASSERT_TRUE(again.status());
  EXPECT_EQ(again.status()->state, "downloading");
  EXPECT_EQ(again.status()->have, 1u);
  const auto asked = again.to_ask();
  ASSERT_FALSE(asked.empty());
  EXPECT_EQ(asked.front(), 1u);  // not 0: it is in the part file
  // The same offer again (the depot sends it anew) goes on where it was.
  EXPECT_EQ(again.offer(o, kNow).message,
            "already downloading (1 of " + std::to_string(o.chunks()) + " chunks)");
}

TEST(RouteDataReceiver, VerifiedBundleWaitsForTheTerminusThenIsInstalledKeepingThePrevious) {
  Fixture f;
  const std::string old_file = f.dir / "old.db";
  make_bundle(old_file, "alt", f.depot.secret, 1000);
  routes::install_bundle(old_file, f.install, f.depot.public_key);
  const std::string file = f.dir / "new.db";
  make_bundle(file, "neu", f.depot.secret);
  const std::string bytes = read_bytes(file);
  const BundleOffer o = offer_for(file, "2026-03-09");
  auto r = f.receiver();
  ASSERT_TRUE(r.offer(o, kNow).accepted);
  for (int round = 0; round < 20 && !r.waiting_for_terminus(); ++round) {
    auto ask = r.to_ask();
    for (auto it = ask.rbegin(); it != ask.rend(); ++it)  // in reverse: order does not matter
      r.on_chunk(chunk_of(bytes, o, *it), kNow);
  }
  ASSERT_TRUE(r.waiting_for_terminus()) << r.status()->message;
  // Mid-trip: nothing changes on board.
  EXPECT_FALSE(r.install_if_between_trips(true, kNow));
  EXPECT_NE(read_bytes(f.install + "/active.db"), bytes);
  EXPECT_EQ(r.status()->state, "waiting_for_terminus");
  // At the terminus.
  EXPECT_TRUE(r.install_if_between_trips(false, kNow));
  EXPECT_EQ(read_bytes(f.install + "/active.db"), bytes);
  EXPECT_EQ(read_bytes(f.install + "/previous.db"), read_bytes(old_file));
  EXPECT_EQ(r.status()->state, "installed");
  EXPECT_FALSE(fs::exists(f.install + "/.fleet-2026-03-09.part"));
  EXPECT_FALSE(fs::exists(f.install + "/.fleet-offer.json"));
  ASSERT_EQ(f.lines.size(), 2u);
  EXPECT_EQ(f.lines[0]["event"], "offer_taken");
  EXPECT_EQ(f.lines[1]["event"], "installed");
  // Offered again: it is the one running now.
  EXPECT_EQ(r.offer(o, kNow).message, "already active");
}

TEST(RouteDataReceiver, ACorruptedChunkIsRefusedByTheHashAndNothingIsInstalled) {
  Fixture f;
  const std::string file = f.dir / "new.db";
  make_bundle(file, "neu", f.depot.secret);
  std::string bytes = read_bytes(file);
  const BundleOffer o = offer_for(file, "2026-03-09");
  bytes[70000] ^= 0x5a;  // flipped on the way, in chunk 1
  auto r = f.receiver();
  ASSERT_TRUE(r.offer(o, kNow).accepted);
  for (int round = 0; round < 20 && r.status()->state == "downloading"; ++round) {
    for (auto k : r.to_ask())
      r.on_chunk(chunk_of(bytes, o, k), kNow);
  }
  EXPECT_EQ(r.status()->state, "failed");
  EXPECT_NE(r.status()->message.find("BLAKE2b"), std::string::npos);
  EXPECT_FALSE(r.install_if_between_trips(false, kNow));
  EXPECT_FALSE(fs::exists(f.install + "/active.db"));
  EXPECT_FALSE(fs::exists(f.install + "/.fleet-2026-03-09.part"));
  ASSERT_EQ(f.lines.size(), 2u);
  EXPECT_EQ(f.lines[1]["event"], "failed");
  EXPECT_EQ(f.lines[1]["reason"], "hash_mismatch");
}

TEST(RouteDataReceiver, ABundleSignedWithAnotherKeyIsRefused) {
  Fixture f;
  const auto other = routes::generate_keypair(f.dir / "other.key", f.dir / "other.pub");
  const std::string file = f.dir / "new.db";
  make_bundle(file, "neu", other.secret, 1000);
  const std::string bytes = read_bytes(file);
  const BundleOffer o = offer_for(file, "2026-03-09");  // the hash is right: the signature is not
  auto r = f.receiver();
  ASSERT_TRUE(r.offer(o, kNow).accepted);
  for (auto k : r.to_ask())
    r.on_chunk(chunk_of(bytes, o, k), kNow);
  EXPECT_EQ(r.status()->state, "failed");
  EXPECT_EQ(f.lines.back()["reason"], "signature");
  EXPECT_FALSE(fs::exists(f.install + "/active.db"));
}

TEST(RouteDataReceiver, WithoutABundleKeyOrAnInstallDirectoryNothingIsTaken) {
  Fixture f;
  const BundleOffer o{"v2", 1000, std::string(64, 'a'), 65536};
  BundleReceiver no_key(f.install, std::nullopt, "v1", {});
  EXPECT_EQ(no_key.offer(o, kNow).error, "no_bundle_key");
  BundleReceiver no_dir("", f.depot.public_key, "v1", {});
  EXPECT_EQ(no_dir.offer(o, kNow).error, "not_installable");
  EXPECT_FALSE(fs::exists(f.install));
}

}  // namespace
}  // namespace stopcall::daemon::fleet
