#include "daemon/fleet/outbox.hpp"

#include <stdexcept>

namespace stopcall::daemon::fleet {

namespace sql = routes::sql;

Outbox::Outbox(const std::string& event_store, std::string name)
    : path_(event_store), name_(std::move(name)) {
  // Only through SQLite: opening the file any other way in the daemon's process (and closing
  // it) would drop the process's locks on it, and a reader in another process could then remove
  // the WAL under the store (outbox_test.cpp).
  try {
    db_ = sql::Db(path_, sql::Db::Mode::read_write);
    // The store's writer holds the lock for one transaction at a time: a short wait is enough.
    sqlite3_busy_timeout(db_.handle(), 200);
    // As the store's writer: no fsync per commit (WAL). A power cut may lose the last moves of
    // the mark: those events are sent again after the reboot (never fewer).
    db_.exec("PRAGMA synchronous = NORMAL");
    auto has = db_.prepare(
        "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name IN ('events', "
        "'sent_marks')");
    has.step();
    if (has.integer(0) != 2) {
      throw std::runtime_error("fleet: " + path_ + " is not an event store with sent marks");
    }
    auto init = db_.prepare("INSERT OR IGNORE INTO sent_marks(name, seq) VALUES(?1, 0)");
    init.bind(1, name_).run();
    auto get = db_.prepare("SELECT seq FROM sent_marks WHERE name = ?1");
    get.bind(1, name_);
    if (get.step()) mark_ = saved_ = get.int64(0);
  } catch (const sql::Error& e) {
    throw std::runtime_error("fleet: " + path_ + ": " + e.what());
  }
}

std::vector<log::StoredLine> Outbox::after(std::int64_t seq, std::size_t limit) {
  std::vector<log::StoredLine> out;
  auto s = db_.prepare("SELECT seq, json FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2");
  s.bind(1, seq).bind(2, static_cast<std::int64_t>(limit));
  while (s.step())
    out.push_back({s.int64(0), s.text(1)});
  return out;
}

bool Outbox::acknowledge(std::int64_t seq) {
  if (seq > mark_) mark_ = seq;
  return save_pending();
}

bool Outbox::save_pending() {
  if (saved_ == mark_) return true;
  try {
    auto s = db_.prepare("UPDATE sent_marks SET seq = ?1 WHERE name = ?2");
    s.bind(1, mark_).bind(2, name_).run();
    saved_ = mark_;
    return true;
  } catch (const sql::Error&) {
    return false;  // the writer holds the lock: kept in memory, tried again
  }
}

std::vector<std::string> Outbox::faults_since(const std::string& since) {
  std::vector<std::string> out;
  auto s = db_.prepare(
      "SELECT DISTINCT json_extract(json, '$.kind') FROM events WHERE type = 'fault' AND "
      "time >= ?1 ORDER BY 1");
  s.bind(1, since);
  while (s.step()) {
    if (!s.is_null(0)) out.push_back(s.text(0));
  }
  return out;
}

}  // namespace stopcall::daemon::fleet
