#include "daemon/log/event_store.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "routes/sqlite.hpp"
#include "tests/routes/test_feed.hpp"

namespace stopcall::log {
namespace {

namespace fs = std::filesystem;
namespace sql = routes::sql;
using routes::testing::TempDir;
using routes::testing::write_file;

// A stop event as the daemon writes it, numbered so order and identity can be checked; padded
// to about 250 bytes like an announcement line.
std::string event_line(int i, int minute = 30) {
  char time[32];
  std::snprintf(time, sizeof time, "2026-03-01T22:%02d:%02d.%03dZ", minute, (i / 1000) % 60,
                i % 1000);
  return std::string(R"({"type":"next_stop","time":")") + time +
         R"(","trip_id":"101-WD-E-0630","stop_id":"HQC-E","stop_sequence":2,"stop_index":1,)" +
         R"("distance_m":279.2,"n":)" + std::to_string(i) + R"(,"pad":")" + std::string(100, 'x') +
         "\"}";
}

std::uint64_t db_bytes(const std::string& path) {
  sql::Db db(path, sql::Db::Mode::read_only);
  auto pages = db.prepare("PRAGMA page_count");
  pages.step();
  auto size = db.prepare("PRAGMA page_size");
  size.step();
  return static_cast<std::uint64_t>(pages.int64(0)) * static_cast<std::uint64_t>(size.int64(0));
}

std::string thrown_message(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected std::runtime_error";
  return {};
}

TEST(EventStore, LinesRoundTripInOrderWithTheirFields) {
  TempDir dir;
  const std::string path = dir / "events.db";
  std::vector<std::string> lines;
  {
    EventStore store(path);
    // More than one batch (500), and a line that is not JSON: stored as given, without fields.
    for (int i = 0; i < 1234; ++i) {
      lines.push_back(i == 700 ? std::string("not json {") : event_line(i));
      store.append(lines.back());
    }
    store.flush();
    const auto stats = store.stats();
    EXPECT_EQ(stats.appended, 1234u);
    EXPECT_EQ(stats.written, 1234u);
    EXPECT_EQ(stats.dropped, 0u);
    EXPECT_EQ(stats.failed, 0u);
    EXPECT_EQ(stats.queued, 0u);
    EXPECT_EQ(stats.last_error, "");
    // Readable while the store is open (WAL), in append order.
    EXPECT_EQ(read_lines(path), lines);
  }
  EXPECT_EQ(read_lines(path), lines);

  sql::Db db(path, sql::Db::Mode::read_only);
  auto row = db.prepare("SELECT type, time, trip_id FROM events WHERE seq = 1");
  ASSERT_TRUE(row.step());
  EXPECT_EQ(row.text(0), "next_stop");
  EXPECT_EQ(row.text(1), "2026-03-01T22:30:00.000Z");
  EXPECT_EQ(row.text(2), "101-WD-E-0630");
  auto bad = db.prepare("SELECT type IS NULL, time IS NULL, json FROM events WHERE seq = 701");
  ASSERT_TRUE(bad.step());
  EXPECT_EQ(bad.integer(0), 1);
  EXPECT_EQ(bad.integer(1), 1);
  EXPECT_EQ(bad.text(2), "not json {");
}

TEST(EventStore, ReadsATimeWindowAndAlwaysTheUndatedLines) {
  TempDir dir;
  const std::string path = dir / "events.db";
  {
    EventStore store(path);
    store.append(event_line(1, 10));
    store.append(event_line(2, 20));
    store.append("garbage");
    store.append(event_line(3, 30));
    store.append(event_line(4, 40));
  }
  // [from, to): 22:20 is in, 22:40 is out; the undated garbage line is always returned.
  const auto got = read_lines(path, "2026-03-01T22:20:00.000Z", "2026-03-01T22:40:00.000Z");
  EXPECT_EQ(got, (std::vector<std::string>{event_line(2, 20), "garbage", event_line(3, 30)}));
  EXPECT_EQ(read_lines(path, std::nullopt, "2026-03-01T22:20:00.000Z"),
            (std::vector<std::string>{event_line(1, 10), "garbage"}));
}

TEST(EventStore, AppendDoesNotWaitForASlowWriterAndDropsTheOldestWhenFull) {
  TempDir dir;
  const std::string path = dir / "events.db";
  EventStore::Options options;
  options.queue_lines = 1000;
  options.batch_interval = std::chrono::milliseconds(20);
  EventStore store(path, options);

  // Another connection holds the write lock: the writer waits in SQLite's busy handler, as it
  // would on a disk that has stopped answering.
  sql::Db other(path, sql::Db::Mode::read_write);
  other.exec("BEGIN IMMEDIATE");
  store.append(event_line(0));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the writer took line 0, stuck

  constexpr int kLines = 20'000;
  std::vector<std::string> lines;
  for (int i = 1; i <= kLines; ++i)
    lines.push_back(event_line(i));
  const auto start = std::chrono::steady_clock::now();
  for (auto& line : lines)
    store.append(line);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  const auto stuck = store.stats();
  other.exec("COMMIT");

  // 20,000 appends take milliseconds while nothing can be written at all.
  EXPECT_LT(elapsed, std::chrono::milliseconds(500))
      << std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count() << " ms";
  EXPECT_EQ(stuck.written, 0u);
  EXPECT_EQ(stuck.queued, 1000u);
  EXPECT_GE(stuck.dropped, static_cast<std::uint64_t>(kLines - 1000));

  store.flush();
  const auto stats = store.stats();
  EXPECT_EQ(stats.appended, kLines + 1u);
  EXPECT_EQ(stats.written + stats.dropped, stats.appended);
  EXPECT_EQ(stats.failed, 0u);
  // The newest lines are the ones kept, in order.
  const auto stored = read_lines(path);
  ASSERT_EQ(stored.size(), stats.written);
  ASSERT_GE(stored.size(), 1000u);
  const std::vector<std::string> newest(lines.end() - 1000, lines.end());
  EXPECT_EQ(std::vector<std::string>(stored.end() - 1000, stored.end()), newest);
}

TEST(EventStore, LinesWaitWhileAnotherConnectionHoldsTheWriteLockAndNoneAreLost) {
  TempDir dir;
  const std::string path = dir / "events.db";
  EventStore::Options options;
  options.busy_timeout = std::chrono::milliseconds(20);  // give up quickly, try again later
  options.batch_interval = std::chrono::milliseconds(10);
  EventStore store(path, options);
  sql::Db other(path, sql::Db::Mode::read_write);
  other.exec("BEGIN IMMEDIATE");
  std::vector<std::string> lines;
  for (int i = 0; i < 300; ++i) {
    lines.push_back(event_line(i));
    store.append(lines.back());
    if (i % 100 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(60));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const auto blocked = store.stats();
  other.exec("COMMIT");
  store.flush();
  const auto stats = store.stats();

  EXPECT_EQ(blocked.written, 0u);
  // Every line kept (queued, or in the writer's batch waiting for the lock), none lost to
  // "database is locked".
  EXPECT_EQ(blocked.appended, 300u);
  EXPECT_EQ(blocked.dropped, 0u);
  EXPECT_EQ(blocked.failed, 0u);
  EXPECT_NE(blocked.last_error.find("locked"), std::string::npos) << blocked.last_error;
  EXPECT_EQ(stats.written, 300u);
  EXPECT_EQ(stats.failed, 0u);
  EXPECT_EQ(stats.dropped, 0u);
  EXPECT_EQ(read_lines(path), lines);
}

TEST(EventStore, RotationKeepsTheFileUnderTheBoundAndKeepsTheNewestLines) {
  TempDir dir;
  const std::string path = dir / "events.db";
  EventStore::Options options;
  options.max_bytes = 256 << 10;
  options.batch_lines = 200;
  constexpr int kLines = 5000;  // about 1.3 MB of lines, five times the bound
  {
    EventStore store(path, options);
    for (int i = 0; i < kLines; ++i) {
      store.append(event_line(i));
      if (i % 1000 == 999) {
        store.flush();
        EXPECT_LE(db_bytes(path), options.max_bytes) << "after line " << i;
      }
    }
    store.flush();
    const auto stats = store.stats();
    EXPECT_GT(stats.rotations, 0u);
    EXPECT_GT(stats.rows_rotated, 0u);
    EXPECT_EQ(stats.written, static_cast<std::uint64_t>(kLines));
    EXPECT_EQ(stats.last_error, "");
  }
  EXPECT_LE(fs::file_size(path), options.max_bytes);
  EXPECT_LE(db_bytes(path), options.max_bytes);

  // What is left is the newest lines, without a gap, ending with the last one.
  const auto stored = read_lines(path);
  ASSERT_GT(stored.size(), 300u);
  ASSERT_LT(stored.size(), static_cast<std::size_t>(kLines));
  const int first = kLines - static_cast<int>(stored.size());
  for (std::size_t k = 0; k < stored.size(); ++k) {
    ASSERT_EQ(stored[k], event_line(first + static_cast<int>(k))) << k;
  }
}

// The fleet link's sent mark: rows above it are not rotated out over max_bytes (they are not yet
// at the depot), up to unsent_max_bytes; beyond that the oldest go and are counted.
TEST(EventStore, RotationKeepsRowsNotYetSentUpToTheirBound) {
  TempDir dir;
  const std::string path = dir / "events.db";
  EventStore::Options options;
  options.max_bytes = 128 << 10;
  options.unsent_max_bytes = 1 << 20;
  options.batch_lines = 200;
  auto set_mark = [&](std::int64_t seq) {
    sql::Db db(path, sql::Db::Mode::read_write);
    sqlite3_busy_timeout(db.handle(), 2000);
    auto s = db.prepare("INSERT OR REPLACE INTO sent_marks(name, seq) VALUES('fleet', ?1)");
    s.bind(1, seq).run();
  };
  EventStore store(path, options);
  set_mark(0);  // nothing sent yet
  // About 400 KB of lines (with the indexes): over max_bytes, under unsent_max_bytes: nothing
  // may go.
  for (int i = 0; i < 1500; ++i)
    store.append(event_line(i));
  store.flush();
  EXPECT_EQ(store.stats().rows_rotated, 0u);
  EXPECT_EQ(read_lines(path).size(), 1500u);
  EXPECT_GT(db_bytes(path), options.max_bytes);

  // 1000 of them sent: the next rotation may take those, never one above the mark.
  set_mark(1000);
  for (int i = 1500; i < 1600; ++i)
    store.append(event_line(i));
  store.flush();
  auto stats = store.stats();
  EXPECT_GT(stats.rows_rotated, 0u);
  EXPECT_EQ(stats.unsent_dropped, 0u);
  std::int64_t first_seq = 0;
  std::size_t left = 0;
  for_each_line(path, std::nullopt, std::nullopt, [&](const StoredLine& line) {
    if (left++ == 0) first_seq = line.seq;
  });
  EXPECT_LE(first_seq, 1001);  // every unsent row (seq > 1000) is still there
  EXPECT_GE(left, 600u);

  // Past unsent_max_bytes the oldest go even unsent, and are counted.
  for (int i = 1600; i < 8000; ++i)
    store.append(event_line(i));
  store.flush();
  stats = store.stats();
  EXPECT_GT(stats.unsent_dropped, 0u);
  EXPECT_LE(db_bytes(path), options.unsent_max_bytes + (64u << 10));
  EXPECT_EQ(read_lines(path).back(), event_line(7999));
}

TEST(EventStore, ReopeningAppendsAfterTheOldRows) {
  TempDir dir;
  const std::string path = dir / "events.db";
  {
    EventStore store(path);
    for (int i = 0; i < 3; ++i)
      store.append(event_line(i));
    // No flush: the destructor writes what is queued.
  }
  {
    EventStore store(path);
    for (int i = 3; i < 5; ++i)
      store.append(event_line(i));
  }
  std::vector<std::int64_t> seqs;
  std::vector<std::string> lines;
  for_each_line(path, std::nullopt, std::nullopt, [&](const StoredLine& line) {
    seqs.push_back(line.seq);
    lines.push_back(line.json);
  });
  EXPECT_EQ(lines, (std::vector<std::string>{event_line(0), event_line(1), event_line(2),
                                             event_line(3), event_line(4)}));
  EXPECT_EQ(seqs, (std::vector<std::int64_t>{1, 2, 3, 4, 5}));
}

TEST(EventStore, AnUnwritablePathThrowsNamingThePath) {
  TempDir dir;
  write_file(dir.path() / "a-file", "x");
  const std::string path = dir / "a-file/events.db";  // a folder that is a file
  const auto message = thrown_message([&] { EventStore store(path); });
  EXPECT_NE(message.find(path), std::string::npos) << message;
  EXPECT_NE(message.find("cannot open"), std::string::npos) << message;

  const auto folder = thrown_message([&] { EventStore store(dir.path().string()); });
  EXPECT_NE(folder.find(dir.path().string()), std::string::npos) << folder;
  EXPECT_NE(folder.find("not a regular file"), std::string::npos) << folder;
}

TEST(EventStore, ACorruptOrForeignFileThrowsNamingThePath) {
  TempDir dir;
  const std::string garbage = dir / "garbage.db";
  write_file(garbage, std::string(8192, 'z'));
  const auto not_sqlite = thrown_message([&] { EventStore store(garbage); });
  EXPECT_NE(not_sqlite.find(garbage), std::string::npos) << not_sqlite;
  EXPECT_NE(not_sqlite.find("not an SQLite file"), std::string::npos) << not_sqlite;

  const std::string foreign = dir / "bundle.db";
  {
    sql::Db db(foreign, sql::Db::Mode::create);
    db.exec("CREATE TABLE stops(id TEXT)");
  }
  const auto other = thrown_message([&] { EventStore store(foreign); });
  EXPECT_NE(other.find(foreign), std::string::npos) << other;
  EXPECT_NE(other.find("not a stopcall event store"), std::string::npos) << other;
  EXPECT_NE(thrown_message([&] { read_lines(foreign); }).find("not a stopcall event store"),
            std::string::npos);

  // A real store whose pages after the header were overwritten.
  const std::string broken = dir / "broken.db";
  {
    EventStore store(broken);
    for (int i = 0; i < 2000; ++i)
      store.append(event_line(i));
  }
  {
    std::string bytes = routes::testing::read_bytes(broken);
    ASSERT_GT(bytes.size(), 3 * 4096u);
    for (std::size_t i = 4096; i < bytes.size(); ++i)
      bytes[i] = static_cast<char>(i * 7);
    write_file(broken, bytes);
  }
  const auto corrupt = thrown_message([&] { EventStore store(broken); });
  EXPECT_NE(corrupt.find(broken), std::string::npos) << corrupt;
}

}  // namespace
}  // namespace stopcall::log
