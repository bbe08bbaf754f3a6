#include "routes/signing.hpp"
#include "test_feed.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>

#include "routes/problem.hpp"
#include "routes/schema.hpp"
#include "routes/sqlite.hpp"

namespace stopcall::routes {
namespace {

using stopcall::routes::testing::error_message;
using stopcall::routes::testing::read_bytes;
using stopcall::routes::testing::write_file;

namespace fs = std::filesystem;

// A small real bundle: the real schema, two stops (in the R-tree too) and a WITHOUT ROWID row.
void make_bundle(const std::string& path, int version = kSchemaVersion) {
  sql::Db db(path, sql::Db::Mode::create);
  db.exec(std::string(kSchemaTables));
  db.exec(std::string(kSchemaIndexes));
  db.exec("PRAGMA user_version = " + std::to_string(version));
  db.exec(
      "INSERT INTO stops (stop_id, name, lat, lon) VALUES"
      " ('S1', 'Marktplatz Nord', 48.137, 11.575), ('S2', 'Hauptbahnhof Süd', 48.140, 11.560);"
      "INSERT INTO stops_rtree VALUES (1, 48.137, 48.137, 11.575, 11.575),"
      " (2, 48.140, 48.140, 11.560, 11.560);"
      "INSERT INTO stop_phrases VALUES ('S1', 'de', 'Ausstieg links');");
}

class SigningTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::path(::testing::TempDir()) / "stopcall-signing-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    keys_ = generate_keypair(path("depot.key"), path("depot.pub"));
    bundle_ = path("bundle.db");
    make_bundle(bundle_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  fs::path dir_;
  KeyPair keys_;
  std::string bundle_;
};

TEST_F(SigningTest, KeyFilesAreSmallTextFilesAndTheSecretOneIsPrivate) {
  const std::string secret_text = read_bytes(path("depot.key"));
  const std::string public_text = read_bytes(path("depot.pub"));
  EXPECT_TRUE(secret_text.starts_with("stopcall-ed25519-secret-v1\n")) << secret_text;
  EXPECT_TRUE(public_text.starts_with("stopcall-ed25519-public-v1\n")) << public_text;
  const std::string id = keys_.public_key.key_id();
  EXPECT_EQ(id.size(), 16u);
  EXPECT_NE(public_text.find("# key id " + id), std::string::npos);

  struct stat st {};
  ASSERT_EQ(::stat(path("depot.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  EXPECT_EQ(load_public_key(path("depot.pub")).bytes, keys_.public_key.bytes);
  EXPECT_EQ(load_secret_key(path("depot.key")).bytes, keys_.secret.bytes);
  EXPECT_EQ(load_secret_key(path("depot.key")).key_id(), id);
}

TEST_F(SigningTest, GenerateRefusesToOverwriteAKey) {
  auto msg = error_message(Errc::key_unreadable,
                           [&] { generate_keypair(path("depot.key"), path("other.pub")); });
  EXPECT_NE(msg.find("depot.key"), std::string::npos) << msg;
  EXPECT_NE(msg.find("already exists"), std::string::npos) << msg;
  EXPECT_FALSE(fs::exists(path("other.pub")));
}

TEST_F(SigningTest, KeyFileErrorsNameTheFileAndTheProblem) {
  auto msg = error_message(Errc::key_unreadable, [&] { load_public_key(path("missing.pub")); });
  EXPECT_NE(msg.find("missing.pub"), std::string::npos) << msg;
  EXPECT_NE(msg.find("No such file"), std::string::npos) << msg;

  msg = error_message(Errc::key_unreadable, [&] { load_public_key(path("depot.key")); });
  EXPECT_NE(msg.find("this is a secret key file"), std::string::npos) << msg;

  msg = error_message(Errc::key_unreadable, [&] { load_secret_key(path("depot.pub")); });
  EXPECT_NE(msg.find("this is a public key file"), std::string::npos) << msg;

  write_file(path("bad.pub"), "stopcall-ed25519-public-v1\nnot*base64\n");
  msg = error_message(Errc::key_unreadable, [&] { load_public_key(path("bad.pub")); });
  EXPECT_NE(msg.find("line 2"), std::string::npos) << msg;

  write_file(path("short.pub"), "stopcall-ed25519-public-v1\nAAAA\n");
  msg = error_message(Errc::key_unreadable, [&] { load_public_key(path("short.pub")); });
  EXPECT_NE(msg.find("32-byte"), std::string::npos) << msg;

  write_file(path("other.pub"), "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5 someone@depot\n");
  msg = error_message(Errc::key_unreadable, [&] { load_public_key(path("other.pub")); });
  EXPECT_NE(msg.find("not a stopcall key file"), std::string::npos) << msg;

  ASSERT_EQ(::chmod(path("depot.key").c_str(), 0644), 0);
  msg = error_message(Errc::key_unreadable, [&] { load_secret_key(path("depot.key")); });
  EXPECT_NE(msg.find("chmod 600"), std::string::npos) << msg;
}

TEST_F(SigningTest, DamagedSecretKeyIsRefused) {
  // Line 2 is the base64 of seed (bytes 0-31) || public key (32-63); character 60 encodes part of
  // bytes 45-47, in the public half.
  std::string text = read_bytes(path("depot.key"));
  const auto line2 = text.find('\n') + 1;
  char& c = text[line2 + 60];
  c = c == 'A' ? 'B' : 'A';
  write_file(path("depot.key"), text);
  auto msg = error_message(Errc::key_unreadable, [&] { load_secret_key(path("depot.key")); });
  EXPECT_NE(msg.find("damaged"), std::string::npos) << msg;
}

TEST_F(SigningTest, SignThenVerifyWithTheRightKey) {
  SignResult signed_ = sign_bundle(bundle_, keys_.secret);
  EXPECT_EQ(signed_.key_id, keys_.public_key.key_id());
  EXPECT_EQ(signed_.signed_at.size(), 20u) << signed_.signed_at;  // 2024-05-01T10:00:00Z
  EXPECT_EQ(signed_.signed_at.back(), 'Z');

  VerifyResult v = verify_bundle(bundle_, load_public_key(path("depot.pub")));
  EXPECT_EQ(v.key_id, signed_.key_id);
  EXPECT_EQ(v.signed_at, signed_.signed_at);
  EXPECT_EQ(to_hex(v.digest), signed_.digest);
  EXPECT_NE(v.message.find(signed_.key_id), std::string::npos) << v.message;
}

TEST_F(SigningTest, AnotherKeyIsAMismatchNamingBothKeys) {
  sign_bundle(bundle_, keys_.secret);
  KeyPair other = generate_keypair(path("other.key"), path("other.pub"));
  auto msg =
      error_message(Errc::signature_mismatch, [&] { verify_bundle(bundle_, other.public_key); });
  EXPECT_NE(msg.find(keys_.public_key.key_id()), std::string::npos) << msg;
  EXPECT_NE(msg.find(other.public_key.key_id()), std::string::npos) << msg;
  EXPECT_NE(msg.find(bundle_), std::string::npos) << msg;
}

TEST_F(SigningTest, FlippingOneByteOfAStopNameInTheFileIsDetected) {
  sign_bundle(bundle_, keys_.secret);
  std::string bytes = read_bytes(bundle_);
  const auto at = bytes.find("Marktplatz Nord");
  ASSERT_NE(at, std::string::npos);
  ASSERT_EQ(bytes.find("Marktplatz Nord", at + 1), std::string::npos);
  bytes[at] = 'N';  // "Narktplatz Nord"
  write_file(bundle_, bytes);
  auto msg =
      error_message(Errc::signature_mismatch, [&] { verify_bundle(bundle_, keys_.public_key); });
  EXPECT_NE(msg.find("changed after"), std::string::npos) << msg;
}

TEST_F(SigningTest, ARowAddedAfterSigningIsDetected) {
  sign_bundle(bundle_, keys_.secret);
  {
    sql::Db db(bundle_, sql::Db::Mode::read_write);
    db.exec("INSERT INTO stops (stop_id, name) VALUES ('S3', 'Extra')");
  }
  error_message(Errc::signature_mismatch, [&] { verify_bundle(bundle_, keys_.public_key); });
}

TEST_F(SigningTest, SchemaOrVersionChangesAfterSigningAreDetected) {
  sign_bundle(bundle_, keys_.secret);
  const std::string signed_bytes = read_bytes(bundle_);
  {
    sql::Db db(bundle_, sql::Db::Mode::read_write);
    db.exec("CREATE INDEX stops_by_name ON stops(name)");
  }
  error_message(Errc::signature_mismatch, [&] { verify_bundle(bundle_, keys_.public_key); });

  write_file(bundle_, signed_bytes);
  {
    sql::Db db(bundle_, sql::Db::Mode::read_write);
    db.exec("PRAGMA user_version = 7");
  }
  error_message(Errc::signature_mismatch, [&] { verify_bundle(bundle_, keys_.public_key); });

  write_file(bundle_, signed_bytes);
  {
    sql::Db db(bundle_, sql::Db::Mode::read_write);
    db.exec("UPDATE stops_rtree SET min_lat = 0 WHERE id = 2");  // lands in a shadow table
  }
  error_message(Errc::signature_mismatch, [&] { verify_bundle(bundle_, keys_.public_key); });

  write_file(bundle_, signed_bytes);
  {
    sql::Db db(bundle_, sql::Db::Mode::read_write);
    db.exec("UPDATE stop_phrases SET text = 'Ausstieg rechts'");  // WITHOUT ROWID table
  }
  error_message(Errc::signature_mismatch, [&] { verify_bundle(bundle_, keys_.public_key); });
}

TEST_F(SigningTest, AlteredSignatureIsDetected) {
  sign_bundle(bundle_, keys_.secret);
  {
    sql::Db db(bundle_, sql::Db::Mode::read_write);
    db.exec(
        "UPDATE bundle_signature SET signature ="
        " substr(signature, 1, 10) || (CASE substr(signature, 11, 1) WHEN 'A' THEN 'B' ELSE 'A'"
        " END) || substr(signature, 12)");
  }
  auto msg =
      error_message(Errc::signature_mismatch, [&] { verify_bundle(bundle_, keys_.public_key); });
  EXPECT_NE(msg.find("invalid signature"), std::string::npos) << msg;
}

TEST_F(SigningTest, ContentNotLayoutIsSigned) {
  sql::Db before(bundle_, sql::Db::Mode::read_only);
  const Digest unsigned_digest = content_digest(before);
  before.close();

  sign_bundle(bundle_, keys_.secret);
  {
    sql::Db db(bundle_, sql::Db::Mode::read_write);
    EXPECT_EQ(content_digest(db), unsigned_digest);  // the signature table is not content
    db.exec("VACUUM");
  }
  EXPECT_EQ(verify_bundle(bundle_, keys_.public_key).digest, unsigned_digest);

  // Signing again replaces the signature.
  sign_bundle(bundle_, keys_.secret);
  sql::Db db(bundle_, sql::Db::Mode::read_only);
  auto count = db.prepare("SELECT count(*) FROM bundle_signature");
  ASSERT_TRUE(count.step());
  EXPECT_EQ(count.integer(0), 1);
}

TEST_F(SigningTest, DigestsOfDifferentBundlesDiffer) {
  make_bundle(path("other.db"));
  {
    sql::Db db(path("other.db"), sql::Db::Mode::read_write);
    db.exec("UPDATE stops SET lat = 48.138 WHERE stop_id = 'S1'");
  }
  sql::Db a(bundle_, sql::Db::Mode::read_only);
  sql::Db b(path("other.db"), sql::Db::Mode::read_only);
  EXPECT_NE(content_digest(a), content_digest(b));
}

TEST_F(SigningTest, AnUnsignedBundleIsReportedAsUnsigned) {
  auto msg =
      error_message(Errc::bundle_unsigned, [&] { verify_bundle(bundle_, keys_.public_key); });
  EXPECT_NE(msg.find(bundle_), std::string::npos) << msg;

  sign_bundle(bundle_, keys_.secret);
  {
    sql::Db db(bundle_, sql::Db::Mode::read_write);
    db.exec("DELETE FROM bundle_signature");
  }
  error_message(Errc::bundle_unsigned, [&] { verify_bundle(bundle_, keys_.public_key); });
}

TEST_F(SigningTest, AMalformedSignatureTableIsAMismatch) {
  {
    sql::Db db(bundle_, sql::Db::Mode::read_write);
    db.exec("CREATE TABLE bundle_signature (signature TEXT)");
    db.exec("INSERT INTO bundle_signature VALUES ('x')");
  }
  auto msg =
      error_message(Errc::signature_mismatch, [&] { verify_bundle(bundle_, keys_.public_key); });
  EXPECT_NE(msg.find("malformed"), std::string::npos) << msg;
}

TEST_F(SigningTest, GarbageOrTruncatedFilesAreUnreadableNotACrash) {
  sign_bundle(bundle_, keys_.secret);
  const std::string good = read_bytes(bundle_);
  ASSERT_GT(good.size(), 8192u);

  const std::string bad = path("bad.db");
  for (std::size_t size : {good.size() / 2, good.size() - 4096, std::size_t{4096}, std::size_t{100},
                           std::size_t{50}}) {
    SCOPED_TRACE("truncated to " + std::to_string(size));
    write_file(bad, good.substr(0, size));
    auto msg =
        error_message(Errc::bundle_unreadable, [&] { verify_bundle(bad, keys_.public_key); });
    EXPECT_NE(msg.find(bad), std::string::npos) << msg;
  }

  write_file(bad, "stop_id,stop_name\nS1,Marktplatz\n");
  error_message(Errc::bundle_unreadable, [&] { verify_bundle(bad, keys_.public_key); });

  std::string noise(64 * 1024, '\0');
  for (std::size_t i = 0; i < noise.size(); ++i)
    noise[i] = static_cast<char>((i * 7919) >> 3);
  write_file(bad, noise);
  error_message(Errc::bundle_unreadable, [&] { verify_bundle(bad, keys_.public_key); });

  // The SQLite header followed by noise.
  write_file(bad, good.substr(0, 100) + noise);
  error_message(Errc::bundle_unreadable, [&] { verify_bundle(bad, keys_.public_key); });

  write_file(bad, "");
  error_message(Errc::bundle_unreadable, [&] { verify_bundle(bad, keys_.public_key); });

  auto msg = error_message(Errc::bundle_unreadable,
                           [&] { verify_bundle(path("missing.db"), keys_.public_key); });
  EXPECT_NE(msg.find("does not exist"), std::string::npos) << msg;

  error_message(Errc::bundle_unreadable, [&] { sign_bundle(bad, keys_.secret); });
}

}  // namespace
}  // namespace stopcall::routes
