#include "routes/install.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <set>
#include <string>

#include "routes/problem.hpp"
#include "routes/schema.hpp"
#include "routes/signing.hpp"
#include "routes/sqlite.hpp"
#include "test_feed.hpp"

namespace stopcall::routes {
namespace {

using stopcall::routes::testing::error_message;
using stopcall::routes::testing::read_bytes;
using stopcall::routes::testing::write_file;

namespace fs = std::filesystem;

// A small real bundle: the real schema and two stops named after `tag`; `blob_bytes` of random
// audio make it big enough for a kill to land in the middle of the copy.
void make_bundle(const std::string& path, const std::string& tag, int version = kSchemaVersion,
                 std::size_t blob_bytes = 0) {
  sql::Db db(path, sql::Db::Mode::create);
  db.exec(std::string(kSchemaTables));
  db.exec(std::string(kSchemaIndexes));
  db.exec("PRAGMA user_version = " + std::to_string(version));
  auto insert = db.prepare("INSERT INTO stops (stop_id, name, lat, lon) VALUES (?1, ?2, ?3, ?4)");
  insert.bind(1, "S1").bind(2, "Marktplatz " + tag).bind(3, 48.137).bind(4, 11.575).run();
  insert.bind(1, "S2").bind(2, "Hauptbahnhof " + tag).bind(3, 48.140).bind(4, 11.560).run();
  db.exec("INSERT INTO stops_rtree VALUES (1, 48.137, 48.137, 11.575, 11.575)");
  if (blob_bytes > 0) {
    db.exec("INSERT INTO clips VALUES ('c1', 'wav', randomblob(" + std::to_string(blob_bytes) +
            "))");
  }
}

std::set<std::string> names_in(const fs::path& dir) {
  std::set<std::string> names;
  for (const auto& e : fs::directory_iterator(dir))
    names.insert(e.path().filename().string());
  return names;
}

Digest digest_of(const std::string& path) {
  sql::Db db = open_bundle_checked(path);
  return content_digest(db);
}

class InstallTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::path(::testing::TempDir()) / "stopcall-install-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    root_ = tmpl;
    keys_ = generate_keypair(path("depot.key"), path("depot.pub"));
    dir_ = path("bus");
    old_ = path("old.db");
    new_ = path("new.db");
    make_bundle(old_, "old");
    make_bundle(new_, "new");
    sign_bundle(old_, keys_.secret);
    sign_bundle(new_, keys_.secret);
  }
  void TearDown() override { fs::remove_all(root_); }

  std::string path(const std::string& name) const { return (root_ / name).string(); }
  std::string active() const { return (fs::path(dir_) / "active.db").string(); }
  std::string previous() const { return (fs::path(dir_) / "previous.db").string(); }

  fs::path root_;
  KeyPair keys_;
  std::string dir_, old_, new_;
};

TEST_F(InstallTest, TheSignedBundleBecomesActive) {
  InstallResult r = install_bundle(old_, dir_, keys_.public_key);
  EXPECT_EQ(r.active_path, active());
  EXPECT_EQ(r.key_id, keys_.public_key.key_id());
  EXPECT_FALSE(r.signed_at.empty());
  EXPECT_FALSE(r.previous_kept);
  EXPECT_EQ(r.digest, digest_of(old_));
  EXPECT_EQ(read_bytes(active()), read_bytes(old_));
  EXPECT_EQ(names_in(dir_), (std::set<std::string>{"active.db", ".install.lock"}));
  struct stat st {};
  ASSERT_EQ(::stat(active().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);  // readable by the daemon's user
}

TEST_F(InstallTest, SecondInstallKeepsTheFirstAndRollbackRestoresIt) {
  install_bundle(old_, dir_, keys_.public_key);
  InstallResult r = install_bundle(new_, dir_, keys_.public_key);
  EXPECT_TRUE(r.previous_kept);
  EXPECT_EQ(r.previous_path, previous());
  EXPECT_EQ(read_bytes(active()), read_bytes(new_));
  EXPECT_EQ(read_bytes(previous()), read_bytes(old_));

  InstallResult back = rollback_bundle(dir_);
  EXPECT_EQ(back.digest, digest_of(old_));
  EXPECT_TRUE(back.previous_kept);
  EXPECT_EQ(read_bytes(active()), read_bytes(old_));
  EXPECT_EQ(read_bytes(previous()), read_bytes(new_));
  verify_bundle(active(), keys_.public_key);

  rollback_bundle(dir_);  // undoes the rollback
  EXPECT_EQ(read_bytes(active()), read_bytes(new_));
  EXPECT_EQ(read_bytes(previous()), read_bytes(old_));
  EXPECT_EQ(names_in(dir_), (std::set<std::string>{"active.db", "previous.db", ".install.lock"}));
}

TEST_F(InstallTest, RollbackNeedsAPreviousBundle) {
  error_message(Errc::nothing_to_roll_back, [&] { rollback_bundle(dir_); });
  EXPECT_FALSE(fs::exists(dir_));
  install_bundle(old_, dir_, keys_.public_key);
  auto msg = error_message(Errc::nothing_to_roll_back, [&] { rollback_bundle(dir_); });
  EXPECT_NE(msg.find("previous.db"), std::string::npos) << msg;
  EXPECT_EQ(read_bytes(active()), read_bytes(old_));
}

TEST_F(InstallTest, ATamperedBundleIsRefusedAndNothingChanges) {
  install_bundle(old_, dir_, keys_.public_key);
  {
    sql::Db db(new_, sql::Db::Mode::read_write);
    db.exec("INSERT INTO stops (stop_id, name) VALUES ('S9', 'Extra')");
  }
  const std::string active_before = read_bytes(active());
  const auto names_before = names_in(dir_);
  auto msg = error_message(Errc::signature_mismatch,
                           [&] { install_bundle(new_, dir_, keys_.public_key); });
  EXPECT_NE(msg.find(new_), std::string::npos) << msg;
  EXPECT_EQ(read_bytes(active()), active_before);
  EXPECT_EQ(names_in(dir_), names_before);
}

TEST_F(InstallTest, UnsignedOrOtherKeysBundlesAreRefusedWithoutTouchingTheFolder) {
  make_bundle(path("unsigned.db"), "unsigned");
  error_message(Errc::bundle_unsigned,
                [&] { install_bundle(path("unsigned.db"), dir_, keys_.public_key); });
  KeyPair other = generate_keypair(path("other.key"), path("other.pub"));
  error_message(Errc::signature_mismatch, [&] { install_bundle(new_, dir_, other.public_key); });
  EXPECT_FALSE(fs::exists(dir_));

  // Without a key the signature is not checked.
  InstallResult r = install_bundle(path("unsigned.db"), dir_, std::nullopt);
  EXPECT_TRUE(r.key_id.empty());
  EXPECT_EQ(read_bytes(active()), read_bytes(path("unsigned.db")));
}

TEST_F(InstallTest, AWrongSchemaVersionIsRefused) {
  install_bundle(old_, dir_, keys_.public_key);
  const std::string active_before = read_bytes(active());
  make_bundle(path("v2.db"), "v2", kSchemaVersion + 1);
  sign_bundle(path("v2.db"), keys_.secret);
  auto msg = error_message(Errc::bundle_wrong_version,
                           [&] { install_bundle(path("v2.db"), dir_, keys_.public_key); });
  EXPECT_NE(msg.find("schema version " + std::to_string(kSchemaVersion + 1)), std::string::npos)
      << msg;
  error_message(Errc::bundle_wrong_version,
                [&] { install_bundle(path("v2.db"), dir_, std::nullopt); });
  EXPECT_EQ(read_bytes(active()), active_before);
}

TEST_F(InstallTest, GarbageIsRefusedAsUnreadable) {
  write_file(path("garbage.db"), std::string(10000, 'x'));
  error_message(Errc::bundle_unreadable,
                [&] { install_bundle(path("garbage.db"), dir_, keys_.public_key); });
  error_message(Errc::bundle_unreadable,
                [&] { install_bundle(path("garbage.db"), dir_, std::nullopt); });
  error_message(Errc::bundle_unreadable,
                [&] { install_bundle(path("missing.db"), dir_, std::nullopt); });
  EXPECT_FALSE(fs::exists(dir_));
}

TEST_F(InstallTest, LeftoversOfAnInterruptedInstallAreRemoved) {
  fs::create_directories(dir_);
  write_file(fs::path(dir_) / ".incoming-abc123.db", "half a bundle");
  write_file(fs::path(dir_) / ".incoming-abc123.db-journal", "");
  InstallResult r = install_bundle(old_, dir_, keys_.public_key);
  EXPECT_EQ(r.leftovers_removed, 2);
  EXPECT_EQ(names_in(dir_), (std::set<std::string>{"active.db", ".install.lock"}));
}

TEST_F(InstallTest, AnInterruptedRollbackIsCompletedByTheNextRun) {
  // State after a rollback stopped between its renames: active.db is the old bundle, the replaced
  // one only has the temporary name.
  install_bundle(old_, dir_, keys_.public_key);
  fs::copy_file(new_, fs::path(dir_) / ".previous.db.tmp");
  InstallResult r = rollback_bundle(dir_);
  EXPECT_EQ(r.leftovers_removed, 1);
  EXPECT_EQ(read_bytes(active()), read_bytes(new_));
  EXPECT_EQ(read_bytes(previous()), read_bytes(old_));
}

TEST_F(InstallTest, OnlyOneInstallAtATime) {
  fs::create_directories(dir_);
  int fd = ::open((fs::path(dir_) / ".install.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::flock(fd, LOCK_EX), 0);
  auto msg =
      error_message(Errc::install_failed, [&] { install_bundle(old_, dir_, keys_.public_key); });
  EXPECT_NE(msg.find("another install"), std::string::npos) << msg;
  ::close(fd);
  install_bundle(old_, dir_, keys_.public_key);
}

TEST_F(InstallTest, ABundleLeftInWalModeIsInstalledWithARollbackJournal) {
  const std::string wal = path("wal.db");
  make_bundle(wal, "wal");
  {
    sql::Db db(wal, sql::Db::Mode::read_write);
    db.exec("PRAGMA journal_mode = WAL");
  }
  sign_bundle(wal, keys_.secret);
  ASSERT_EQ(read_bytes(wal)[18], 2);
  InstallResult r = install_bundle(wal, dir_, keys_.public_key);
  const std::string bytes = read_bytes(active());
  EXPECT_EQ(bytes[18], 1);
  EXPECT_EQ(bytes[19], 1);
  EXPECT_EQ(verify_bundle(active(), keys_.public_key).digest, r.digest);
  EXPECT_EQ(names_in(dir_), (std::set<std::string>{"active.db", ".install.lock"}));
}

TEST_F(InstallTest, AHalfWrittenSourceIsRefused) {
  static const char kJournalMagic[] = "\xd9\xd5\x05\xf9\x20\xa1\x63\xd7";
  write_file(new_ + "-journal", std::string(kJournalMagic, 8) + std::string(504, '\0'));
  auto msg =
      error_message(Errc::bundle_unreadable, [&] { install_bundle(new_, dir_, keys_.public_key); });
  EXPECT_NE(msg.find("-journal"), std::string::npos) << msg;
  EXPECT_FALSE(fs::exists(dir_));
}

// ---- kill -9 in the middle of an install or rollback ----

class InstallCrashTest : public InstallTest {
 protected:
  void SetUp() override {
    InstallTest::SetUp();
    big_ = path("big.db");
    make_bundle(big_, "big", kSchemaVersion, 4 << 20);
    sign_bundle(big_, keys_.secret);
    old_digest_ = digest_of(old_);
    big_digest_ = digest_of(big_);
  }

  // Runs f in a child process; returns the wait status.
  template <typename F>
  int in_child(F f, std::chrono::microseconds kill_after = std::chrono::microseconds(-1)) {
    pid_t pid = ::fork();
    if (pid == 0) {
      try {
        f();
      } catch (const std::exception& e) {
        std::fprintf(stderr, "child: %s\n", e.what());
        ::_exit(3);
      }
      ::_exit(0);
    }
    EXPECT_GT(pid, 0);
    if (kill_after.count() >= 0) {
      timespec ts{0, static_cast<long>(kill_after.count()) * 1000};
      ::nanosleep(&ts, nullptr);
      ::kill(pid, SIGKILL);
    }
    int status = 0;
    EXPECT_EQ(::waitpid(pid, &status, 0), pid);
    return status;
  }

  // After a kill: active.db is there, sound, correctly signed, and one of the two bundles in full.
  void expect_old_or_new_active() {
    ASSERT_TRUE(fs::exists(active()));
    Digest d{};
    try {
      d = verify_bundle(active(), keys_.public_key).digest;
    } catch (const std::exception& e) {
      FAIL() << "active.db after the kill: " << e.what();
    }
    EXPECT_TRUE(d == old_digest_ || d == big_digest_);
  }

  // The next install cleans up whatever the killed one left.
  void expect_next_install_cleans_up() {
    install_bundle(big_, dir_, keys_.public_key);
    EXPECT_EQ(digest_of(active()), big_digest_);
    EXPECT_EQ(names_in(dir_), (std::set<std::string>{"active.db", "previous.db", ".install.lock"}));
  }

  std::string big_;
  Digest old_digest_{}, big_digest_{};
};

TEST_F(InstallCrashTest, KillAtEveryStepOfAnInstallKeepsTheOldOrTheNewBundle) {
  bool finished = false;
  int n = 1;
  for (; !finished && n < 100; ++n) {
    SCOPED_TRACE("killed at step " + std::to_string(n));
    fs::remove_all(dir_);
    install_bundle(old_, dir_, keys_.public_key);
    int status = in_child([&] {
      int calls = 0;
      install_bundle(big_, dir_, keys_.public_key, [&](std::string_view) {
        if (++calls == n) ::raise(SIGKILL);
      });
    });
    if (WIFEXITED(status)) {
      EXPECT_EQ(WEXITSTATUS(status), 0);
      finished = true;
    } else {
      EXPECT_EQ(WTERMSIG(status), SIGKILL);
    }
    expect_old_or_new_active();
    expect_next_install_cleans_up();
  }
  EXPECT_TRUE(finished);
  EXPECT_GT(n, 10);  // 4 MiB: the copy alone takes several steps
}

TEST_F(InstallCrashTest, KillAtEveryStepOfAFirstInstallLeavesNothingOrTheNewBundle) {
  bool finished = false;
  for (int n = 1; !finished && n < 100; ++n) {
    SCOPED_TRACE("killed at step " + std::to_string(n));
    fs::remove_all(dir_);
    int status = in_child([&] {
      int calls = 0;
      install_bundle(big_, dir_, keys_.public_key, [&](std::string_view) {
        if (++calls == n) ::raise(SIGKILL);
      });
    });
    finished = WIFEXITED(status);
    if (fs::exists(active())) {
      EXPECT_EQ(verify_bundle(active(), keys_.public_key).digest, big_digest_);
    }
    install_bundle(big_, dir_, keys_.public_key);
    EXPECT_EQ(digest_of(active()), big_digest_);
  }
  EXPECT_TRUE(finished);
}

TEST_F(InstallCrashTest, KillAtEveryStepOfARollbackLosesNeitherBundle) {
  bool finished = false;
  for (int n = 1; !finished && n < 100; ++n) {
    SCOPED_TRACE("killed at step " + std::to_string(n));
    fs::remove_all(dir_);
    install_bundle(old_, dir_, keys_.public_key);
    install_bundle(big_, dir_, keys_.public_key);
    int status = in_child([&] {
      int calls = 0;
      rollback_bundle(dir_, [&](std::string_view) {
        if (++calls == n) ::raise(SIGKILL);
      });
    });
    finished = WIFEXITED(status);
    expect_old_or_new_active();
    // The next run completes whatever was interrupted; both bundles are still there.
    rollback_bundle(dir_);
    const std::set<std::string> both = {to_hex(digest_of(active())), to_hex(digest_of(previous()))};
    EXPECT_EQ(both, (std::set<std::string>{to_hex(old_digest_), to_hex(big_digest_)}));
    EXPECT_EQ(names_in(dir_), (std::set<std::string>{"active.db", "previous.db", ".install.lock"}));
  }
  EXPECT_TRUE(finished);
}

TEST_F(InstallCrashTest, KillAfterVaryingDelaysKeepsTheOldOrTheNewBundle) {
  // How long one install takes here (sanitizers make it slow), to spread the kills over it.
  fs::remove_all(dir_);
  install_bundle(old_, dir_, keys_.public_key);
  const auto start = std::chrono::steady_clock::now();
  int status = in_child([&] { install_bundle(big_, dir_, keys_.public_key); });
  const auto took = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::steady_clock::now() - start);
  ASSERT_TRUE(WIFEXITED(status));

  int killed = 0;
  constexpr int kRuns = 20;
  for (int i = 0; i < kRuns; ++i) {
    const auto delay = took * 2 * i / (kRuns - 1);  // the child's time varies: go past it
    SCOPED_TRACE("killed after " + std::to_string(delay.count()) + " us");
    fs::remove_all(dir_);
    install_bundle(old_, dir_, keys_.public_key);
    status = in_child([&] { install_bundle(big_, dir_, keys_.public_key); }, delay);
    if (WIFSIGNALED(status)) ++killed;
    expect_old_or_new_active();
    expect_next_install_cleans_up();
  }
  EXPECT_GT(killed, 0);
}

}  // namespace
}  // namespace stopcall::routes
