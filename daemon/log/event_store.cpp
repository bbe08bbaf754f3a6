#include "daemon/log/event_store.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <utility>

#include "routes/sqlite.hpp"

namespace stopcall::log {

namespace fs = std::filesystem;
namespace sql = routes::sql;
using json = nlohmann::json;

namespace {

// PRAGMA application_id of an event store: "SCEV".
constexpr std::int64_t kApplicationId = 0x53434556;
constexpr int kSchemaVersion = 1;

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS events(
  seq INTEGER PRIMARY KEY,
  time TEXT,
  type TEXT,
  trip_id TEXT,
  json TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_time ON events(time);
CREATE INDEX IF NOT EXISTS events_type ON events(type, time);
CREATE TABLE IF NOT EXISTS sent_marks(
  name TEXT PRIMARY KEY,
  seq INTEGER NOT NULL
);
)sql";

std::runtime_error store_error(const std::string& path, const std::string& why) {
  return std::runtime_error("event store " + path + ": " + why);
}

std::int64_t pragma_int(sql::Db& db, const std::string& pragma) {
  auto s = db.prepare("PRAGMA " + pragma);
  return s.step() ? s.int64(0) : 0;
}

std::string pragma_text(sql::Db& db, const std::string& pragma) {
  auto s = db.prepare("PRAGMA " + pragma);
  return s.step() ? s.text(0) : std::string();
}

bool has_table(sql::Db& db, std::string_view name) {
  auto s = db.prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?1");
  s.bind(1, name);
  return s.step();
}

int table_count(sql::Db& db) {
  auto s = db.prepare("SELECT count(*) FROM sqlite_schema WHERE type = 'table'");
  s.step();
  return s.integer(0);
}

// Opens `path` and makes sure it is an event store (or nothing yet); throws store_error.
sql::Db open_db(const std::string& path, sql::Db::Mode mode) {
  try {
    return sql::Db(path, mode);
  } catch (const sql::Error& e) {
    throw store_error(
        path, std::string("cannot open: ") + sqlite3_errstr(e.code()) +
                  (mode == sql::Db::Mode::read_only ? "" : " (is the folder there and writable?)"));
  }
}

void check_is_store(sql::Db& db, const std::string& path) {
  const auto app = pragma_int(db, "application_id");
  if (app != kApplicationId && table_count(db) > 0) {
    throw store_error(path, "not a stopcall event store (another program's SQLite database)");
  }
  if (app == kApplicationId && !has_table(db, "events")) {
    throw store_error(path, "the events table is missing (damaged store)");
  }
}

struct Fields {
  std::optional<std::string> time, type, trip_id;
};

Fields extract(const std::string& line) {
  Fields f;
  json j = json::parse(line, nullptr, false);
  if (!j.is_object()) return f;
  auto text = [&](const char* key) -> std::optional<std::string> {
    auto it = j.find(key);
    if (it == j.end() || !it->is_string()) return std::nullopt;
    return it->get<std::string>();
  };
  f.time = text("time");
  f.type = text("type");
  f.trip_id = text("trip_id");
  return f;
}

}  // namespace

bool is_sqlite_file(const std::string& path) {
  static constexpr char kHeader[16] = "SQLite format 3";  // with its '\0'
  std::ifstream in(path, std::ios::binary);
  char head[16] = {};
  if (!in.read(head, sizeof head)) return false;
  return std::memcmp(head, kHeader, sizeof head) == 0;
}

struct EventStore::Db {
  sql::Db db;
  sql::Stmt insert;
  explicit Db(sql::Db d)
      : db(std::move(d)),
        insert(db.prepare("INSERT INTO events(time, type, trip_id, json) VALUES(?1, ?2, ?3, ?4)")) {
  }
};

EventStore::EventStore(std::string path, Options options)
    : path_(std::move(path)), options_(options) {
  if (!(options_.rotate_fraction > 0 && options_.rotate_fraction <= 1)) {
    throw std::invalid_argument("event store: rotate_fraction must be in (0, 1]");
  }
  options_.queue_lines = std::max<std::size_t>(options_.queue_lines, 1);
  options_.batch_lines = std::max<std::size_t>(options_.batch_lines, 1);
  options_.transaction_lines = std::max<std::size_t>(options_.transaction_lines, 1);

  std::error_code ec;
  const bool existed = fs::exists(path_, ec) && fs::file_size(path_, ec) > 0 && !ec;
  if (fs::exists(path_, ec) && !fs::is_regular_file(path_, ec)) {
    throw store_error(path_, "not a regular file");
  }
  if (existed && !is_sqlite_file(path_)) {
    throw store_error(path_, "not an SQLite file (corrupt, or another kind of file)");
  }
  sql::Db db = open_db(path_, sql::Db::Mode::create);
  try {
    sqlite3_busy_timeout(db.handle(), static_cast<int>(options_.busy_timeout.count()));
    if (sqlite3_db_readonly(db.handle(), "main") == 1) {
      throw store_error(path_, "the file is read-only");
    }
    if (existed && options_.check_on_open) {
      const auto check = pragma_text(db, "quick_check");
      if (check != "ok") throw store_error(path_, "corrupt (quick_check: " + check + ")");
    }
    check_is_store(db, path_);
    if (table_count(db) == 0) {
      // Must precede the first table; lets rotation give pages back to the file system.
      db.exec("PRAGMA auto_vacuum = INCREMENTAL");
      db.exec("PRAGMA application_id = " + std::to_string(kApplicationId));
    }
    if (pragma_text(db, "journal_mode = WAL") != "wal") {
      throw store_error(path_, "cannot switch to WAL mode");
    }
    db.exec("PRAGMA synchronous = NORMAL");
    db.exec("PRAGMA journal_size_limit = " + std::to_string(options_.wal_bytes));
    db.exec(kSchema);
    db.exec("PRAGMA user_version = " + std::to_string(kSchemaVersion));
    // Proves the write lock can be taken (a read-only folder fails here, not in the writer).
    db.exec("BEGIN IMMEDIATE; COMMIT");
  } catch (const sql::Error& e) {
    throw store_error(path_, e.what());
  }
  try {
    db_ = std::make_unique<Db>(std::move(db));
  } catch (const sql::Error& e) {
    throw store_error(path_, e.what());
  }
  writer_ = std::thread([this] { run(); });
}

EventStore::~EventStore() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  if (writer_.joinable()) writer_.join();
  if (db_) {
    try {
      db_->db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    } catch (const sql::Error&) {
      // Closing checkpoints anyway; a failure here loses nothing already committed.
    }
  }
}

void EventStore::append(std::string json_line) {
  bool wake = false;
  {
    std::lock_guard lock(mutex_);
    ++stats_.appended;
    while (!queue_.empty() && (queue_.size() >= options_.queue_lines ||
                               queued_bytes_ + json_line.size() > options_.queue_bytes)) {
      queued_bytes_ -= queue_.front().size();
      queue_.pop_front();
      ++stats_.dropped;
      ++processed_;
    }
    queued_bytes_ += json_line.size();
    queue_.push_back(std::move(json_line));
    wake = queue_.size() == options_.batch_lines;
  }
  if (wake) wake_.notify_one();
}

void EventStore::flush() {
  std::unique_lock lock(mutex_);
  const std::uint64_t target = stats_.appended;
  if (processed_ >= target) return;
  flush_wanted_ = true;
  wake_.notify_one();
  progress_.wait(lock, [&] { return processed_ >= target; });
}

EventStore::Stats EventStore::stats() const {
  std::lock_guard lock(mutex_);
  Stats s = stats_;
  s.queued = queue_.size();
  return s;
}

namespace {

bool busy(int code) {
  const int primary = code & 0xff;
  return primary == SQLITE_BUSY || primary == SQLITE_LOCKED;
}

}  // namespace

void EventStore::run() {
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait_for(lock, options_.batch_interval, [&] {
      return stop_ || (!queue_.empty() && (flush_wanted_ || queue_.size() >= options_.batch_lines));
    });
    if (queue_.empty()) {
      if (stop_) return;
      continue;
    }
    std::deque<std::string> batch;
    batch.swap(queue_);
    queued_bytes_ = 0;
    flush_wanted_ = false;
    lock.unlock();

    // One transaction per `transaction_lines`, the size bound checked after each.
    std::size_t done = 0;
    bool keep = false;
    while (!keep && done < batch.size()) {
      const std::size_t n = std::min(options_.transaction_lines, batch.size() - done);
      const Outcome out = write_chunk(batch, done, n);
      lock.lock();
      stats_.rotations += out.rotation.rounds;
      stats_.rows_rotated += out.rotation.rows;
      stats_.unsent_dropped += out.rotation.unsent;
      stats_.written += out.written;
      if (out.written > 0) ++stats_.batches;
      if (!out.error.empty()) stats_.last_error = out.error;
      // Another connection holds the write lock: keep the lines for the next round (unless
      // stopping: then they are lost, and counted).
      keep = out.busy && !stop_;
      if (!keep) {
        stats_.failed += n - out.written;
        processed_ += n;
        done += n;
      }
      progress_.notify_all();
      lock.unlock();
    }
    if (!keep) {
      std::deque<std::string>().swap(batch);  // free the lines outside the lock
      lock.lock();
      continue;
    }
    // The write lock was not free: back to the front of the queue (older than anything queued
    // since), within the bound; what does not fit is the oldest, and is dropped.
    lock.lock();
    for (std::size_t k = batch.size(); k-- > done;) {
      std::string& line = batch[k];
      if (queue_.size() >= options_.queue_lines ||
          queued_bytes_ + line.size() > options_.queue_bytes) {
        stats_.dropped += k - done + 1;
        processed_ += k - done + 1;
        progress_.notify_all();
        break;
      }
      queued_bytes_ += line.size();
      queue_.push_front(std::move(line));
    }
  }
}

EventStore::Outcome EventStore::write_chunk(const std::deque<std::string>& batch, std::size_t from,
                                            std::size_t n) {
  Outcome out;
  for (int attempt = 0; attempt < 2; ++attempt) {
    try {
      sql::Transaction tx(db_->db);
      auto& insert = db_->insert;
      for (std::size_t k = from; k < from + n; ++k) {
        const Fields f = extract(batch[k]);
        insert.bind(1, f.time).bind(2, f.type).bind(3, f.trip_id).bind(4, batch[k]);
        insert.run();
      }
      tx.commit();
      out.written = n;
      out.error.clear();
      break;
    } catch (const sql::Error& e) {
      out.error = e.what();
      if (busy(e.code())) {
        out.busy = true;
        return out;
      }
      if ((e.code() & 0xff) != SQLITE_FULL || attempt > 0) return out;
      // Disk full: make room by deleting the oldest rows early, then try once more.
      try {
        out.rotation += rotate_once(false);
      } catch (const sql::Error&) {
        return out;
      }
    }
  }
  try {
    out.rotation += rotate_if_needed();
  } catch (const sql::Error& e) {
    out.error = std::string("rotation: ") + e.what();
  }
  return out;
}

EventStore::Rotation EventStore::rotate_once(bool keep_unsent) {
  auto& db = db_->db;
  std::optional<std::int64_t> mark;
  {
    auto m = db.prepare("SELECT min(seq) FROM sent_marks");
    if (m.step() && !m.is_null(0)) mark = m.int64(0);
  }
  auto count = db.prepare("SELECT count(*) FROM events");
  count.step();
  const std::int64_t rows = count.int64(0);
  if (rows == 0) return {};
  auto n = std::max<std::int64_t>(
      1,
      static_cast<std::int64_t>(std::ceil(static_cast<double>(rows) * options_.rotate_fraction)));
  Rotation r{1, 0, 0};
  if (mark) {
    // Never the newest row: seq must go on from it, or a mark would be ahead of new rows.
    n = std::min(n, rows - 1);
    if (n <= 0) return {};
    if (keep_unsent) {
      auto del = db.prepare(
          "DELETE FROM events WHERE seq IN (SELECT seq FROM events WHERE seq <= ?1 AND "
          "seq < (SELECT max(seq) FROM events) ORDER BY seq LIMIT ?2)");
      del.bind(1, *mark).bind(2, n).run();
      r.rows = static_cast<std::uint64_t>(sqlite3_changes(db.handle()));
    } else {
      auto unsent = db.prepare(
          "SELECT count(*) FROM (SELECT seq FROM events ORDER BY seq LIMIT ?1) WHERE seq > ?2");
      unsent.bind(1, n).bind(2, *mark);
      unsent.step();
      r.unsent = static_cast<std::uint64_t>(unsent.int64(0));
      auto del = db.prepare(
          "DELETE FROM events WHERE seq IN (SELECT seq FROM events ORDER BY seq LIMIT ?1)");
      del.bind(1, n).run();
      r.rows = static_cast<std::uint64_t>(sqlite3_changes(db.handle()));
    }
  } else {
    auto del = db.prepare(
        "DELETE FROM events WHERE seq IN (SELECT seq FROM events ORDER BY seq LIMIT ?1)");
    del.bind(1, n).run();
    r.rows = static_cast<std::uint64_t>(sqlite3_changes(db.handle()));
  }
  if (r.rows == 0) return {};
  // Moves the free pages to the end and cuts them off (the file shrinks at the next checkpoint).
  db.exec("PRAGMA incremental_vacuum");
  return r;
}

EventStore::Rotation EventStore::rotate_if_needed() {
  Rotation total;
  if (options_.max_bytes == 0) return total;
  auto& db = db_->db;
  for (int round = 0; round < 64; ++round) {
    const auto size = static_cast<std::uint64_t>(pragma_int(db, "page_count")) *
                      static_cast<std::uint64_t>(pragma_int(db, "page_size"));
    if (size <= options_.max_bytes) break;
    Rotation r = rotate_once(true);
    if (r.rows == 0) {
      // What is left is not sent yet: kept up to its own bound, then the oldest go anyway.
      if (options_.unsent_max_bytes != 0 &&
          size <= std::max(options_.unsent_max_bytes, options_.max_bytes)) {
        break;
      }
      r = rotate_once(false);
    }
    if (r.rows == 0) break;  // only the schema is left: nothing more to give back
    total += r;
  }
  // Copies the WAL back now so the file on disk shrinks too (not only at the next checkpoint).
  if (total.rounds > 0) db.exec("PRAGMA wal_checkpoint(PASSIVE)");
  return total;
}

void for_each_line(const std::string& path, const std::optional<std::string>& from,
                   const std::optional<std::string>& to,
                   const std::function<void(const StoredLine&)>& visit) {
  if (!is_sqlite_file(path)) throw store_error(path, "not an SQLite file");
  sql::Db db = open_db(path, sql::Db::Mode::read_only);
  try {
    if (pragma_int(db, "application_id") != kApplicationId || !has_table(db, "events")) {
      throw store_error(path, "not a stopcall event store");
    }
    // Times are ISO 8601 UTC text, so text order is time order; both halves use events_time.
    auto s = db.prepare(
        "SELECT seq, json FROM events WHERE time >= ?1 AND time < ?2 "
        "UNION ALL SELECT seq, json FROM events WHERE time IS NULL "
        "ORDER BY seq");
    s.bind(1, from.value_or("")).bind(2, to.value_or("~"));
    StoredLine line;
    while (s.step()) {
      line.seq = s.int64(0);
      line.json = s.text(1);
      visit(line);
    }
  } catch (const sql::Error& e) {
    throw store_error(path, e.what());
  }
}

std::vector<StoredLine> read_lines_of_type(const std::string& path, const std::string& type) {
  if (!is_sqlite_file(path)) throw store_error(path, "not an SQLite file");
  sql::Db db = open_db(path, sql::Db::Mode::read_only);
  std::vector<StoredLine> out;
  try {
    if (pragma_int(db, "application_id") != kApplicationId || !has_table(db, "events")) {
      throw store_error(path, "not a stopcall event store");
    }
    auto s =
        db.prepare("SELECT seq, json FROM events WHERE type = ?1 ORDER BY seq");  // events_type
    s.bind(1, type);
    while (s.step())
      out.push_back({s.int64(0), s.text(1)});
  } catch (const sql::Error& e) {
    throw store_error(path, e.what());
  }
  return out;
}

std::vector<std::string> read_lines(const std::string& path, const std::optional<std::string>& from,
                                    const std::optional<std::string>& to) {
  std::vector<std::string> out;
  for_each_line(path, from, to, [&](const StoredLine& line) { out.push_back(line.json); });
  return out;
}

}  // namespace stopcall::log
