// The events still to send: the bus's event store (daemon/log/event_store.hpp) read from a row
// number on, and the sent-up-to mark kept in that same SQLite file (table sent_marks, row
// "fleet"), so a reboot or hours offline lose nothing and send nothing the broker already
// acknowledged. The mark exists from the first open (at 0): from then on the store's rotation
// keeps the rows above it (up to its stated bound).
//
// A second connection beside the store's own writer: reads are WAL snapshots; saving the mark is
// one short write transaction that gives up quickly when the writer holds the lock (the mark then
// stays dirty and is saved at the next try: at worst a restart sends again what was acknowledged
// since, never less).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "daemon/log/event_store.hpp"
#include "routes/sqlite.hpp"

namespace stopcall::daemon::fleet {

class Outbox {
 public:
  // Throws std::runtime_error naming the path when the file is not an event store.
  explicit Outbox(const std::string& event_store, std::string name = "fleet");

  std::int64_t mark() const { return mark_; }
  // The rows after `seq`, oldest first, at most `limit`.
  std::vector<log::StoredLine> after(std::int64_t seq, std::size_t limit);
  // Everything up to `seq` was acknowledged. Saved now if the file lets us; else at the next call
  // or save_pending(). Returns false when it is still only in memory.
  bool acknowledge(std::int64_t seq);
  bool save_pending();
  // The distinct kinds of "fault" lines logged at or after `since` (ISO 8601 UTC text).
  std::vector<std::string> faults_since(const std::string& since);

 private:
  std::string path_;
  std::string name_;
  routes::sql::Db db_;
  std::int64_t mark_ = 0;
  std::int64_t saved_ = 0;
};

}  // namespace stopcall::daemon::fleet
