// The event log in SQLite: every JSON line the daemon writes (stop events, announcements, sounds,
// prompts, signals, requests, ...) as one row, so the depot can query a window of it quickly.
//
// append() never waits for the disk: it puts the line on a bounded in-memory queue and returns. A
// writer thread inserts the queued lines every `batch_interval` (or as soon as `batch_lines` are
// waiting), in transactions of at most `transaction_lines`. When the queue is full the OLDEST
// queued line is dropped and counted (stats().dropped): the newest events are the ones worth
// keeping when the disk is stuck.
//
// Size bound (rotation policy): after every transaction, when the database's size (page_count *
// page_size) exceeds `max_bytes`, the oldest `rotate_fraction` (20 %) of the rows are deleted and
// `PRAGMA incremental_vacuum` gives the freed pages back (auto_vacuum = INCREMENTAL), so the file
// shrinks back under the bound; this repeats until it is under. The newest rows are always the
// ones kept, and row numbers (seq) keep increasing. Between two checks the file can exceed the
// bound by one transaction's rows; the WAL beside it is truncated to `wal_bytes` after each
// checkpoint. synchronous = NORMAL: a power cut loses at most the last transactions, never the
// file. Lines that are not JSON are stored too (with NULL time and type) so a reader can count
// them.
//
// Sent marks (the fleet link, daemon/fleet): a reader that sends the rows elsewhere keeps how far
// it got in the table sent_marks(name, seq) of the same file (every row with seq <= the mark was
// delivered). While a mark exists, rotation deletes only rows at or below the lowest mark, so rows
// not yet sent stay even beyond `max_bytes` -- up to `unsent_max_bytes`; beyond that the oldest
// rows go whether sent or not, and the unsent ones among them are counted (stats().unsent_dropped).
// The newest row is never deleted while a mark holds rotation, so seq never starts again at 1.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace stopcall::log {

struct EventStoreOptions {
  // Bound on the database file; 0 = unbounded.
  std::uint64_t max_bytes = 64ull << 20;
  // Share of the rows deleted, oldest first, each time the file is over max_bytes.
  double rotate_fraction = 0.2;
  // With a sent mark: rows not yet sent are kept until the file reaches this size (0: never kept
  // beyond max_bytes). At about 1 MB of events a bus-day, 256 MB is months of a bus's events.
  std::uint64_t unsent_max_bytes = 256ull << 20;
  // Queue bound: lines and bytes waiting for the writer. Over either, the oldest is dropped.
  std::size_t queue_lines = 20'000;
  std::size_t queue_bytes = 8u << 20;
  // The writer commits when this many lines wait, or this long after it last looked.
  std::size_t batch_lines = 500;
  std::chrono::milliseconds batch_interval{200};
  // Most lines in one transaction; the size bound is checked after each.
  std::size_t transaction_lines = 2000;
  // How long a transaction waits for another connection's write lock before the writer gives
  // up for this round (the lines stay queued and are tried again).
  std::chrono::milliseconds busy_timeout{2000};
  // WAL file size kept after a checkpoint.
  std::int64_t wal_bytes = 4 << 20;
  // PRAGMA quick_check when opening an existing file (a corrupt file throws).
  bool check_on_open = true;
};

struct EventStoreStats {
  std::uint64_t appended = 0;        // lines given to append()
  std::uint64_t written = 0;         // lines committed to the file
  std::uint64_t dropped = 0;         // oldest queued lines dropped because the queue was full
  std::uint64_t failed = 0;          // lines lost to a write error (see last_error)
  std::uint64_t rotations = 0;       // times the oldest rows were deleted to stay under max_bytes
  std::uint64_t rows_rotated = 0;    // rows deleted by those rotations
  std::uint64_t unsent_dropped = 0;  // rows above a sent mark deleted (over unsent_max_bytes)
  std::uint64_t batches = 0;         // transactions committed
  std::size_t queued = 0;            // lines waiting now
  std::string last_error;            // the last write error, empty when none
};

class EventStore {
 public:
  using Options = EventStoreOptions;
  using Stats = EventStoreStats;

  // Opens or creates the store at `path` and starts the writer. Throws std::runtime_error naming
  // the path when the file cannot be created or written, is not SQLite, is corrupt, or is another
  // program's database.
  explicit EventStore(std::string path, Options options = {});
  // Writes what is queued, then stops the writer and closes the file.
  ~EventStore();
  EventStore(const EventStore&) = delete;
  EventStore& operator=(const EventStore&) = delete;

  // Queues one JSON line (no trailing newline needed). Thread-safe; never touches the disk.
  void append(std::string json_line);
  // Waits until every line appended before the call is written (or dropped / failed).
  void flush();
  Stats stats() const;
  const std::string& path() const { return path_; }

 private:
  struct Db;
  struct Rotation {
    std::uint64_t rounds = 0, rows = 0, unsent = 0;
    Rotation& operator+=(const Rotation& o) {
      rounds += o.rounds;
      rows += o.rows;
      unsent += o.unsent;
      return *this;
    }
  };
  void run();
  struct Outcome {
    std::size_t written = 0;
    bool busy = false;  // the write lock was not free: nothing written, try again
    std::string error;
    Rotation rotation;
  };
  Outcome write_chunk(const std::deque<std::string>& batch, std::size_t from, std::size_t n);
  // keep_unsent: only rows at or below the lowest sent mark (when there is one).
  Rotation rotate_once(bool keep_unsent);
  Rotation rotate_if_needed();

  std::string path_;
  Options options_;
  std::unique_ptr<Db> db_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;      // writer: lines waiting, flush, stop
  std::condition_variable progress_;  // flush(): lines processed
  std::deque<std::string> queue_;
  std::size_t queued_bytes_ = 0;
  std::uint64_t processed_ = 0;  // appended lines written, dropped or failed
  bool flush_wanted_ = false;
  bool stop_ = false;
  Stats stats_;
  std::thread writer_;
};

// One stored line and its row number.
struct StoredLine {
  std::int64_t seq = 0;
  std::string json;
};

// Reads the stored lines in the order they were appended, optionally only those whose "time" is
// in [from, to) (ISO 8601 UTC as the daemon writes it, "2026-03-01T22:30:26.028Z"; compared as
// text). Lines whose time could not be read when stored (not JSON, no "time") are always included
// so a reader can count them. Opens the file read-only; works while a store is writing it.
// Throws std::runtime_error naming the path when it is not an event store.
void for_each_line(const std::string& path, const std::optional<std::string>& from,
                   const std::optional<std::string>& to,
                   const std::function<void(const StoredLine&)>& visit);
// The stored lines of one "type" (e.g. the few "time_zone" lines of a year), in order.
std::vector<StoredLine> read_lines_of_type(const std::string& path, const std::string& type);
std::vector<std::string> read_lines(const std::string& path,
                                    const std::optional<std::string>& from = std::nullopt,
                                    const std::optional<std::string>& to = std::nullopt);

// True when the file starts with the SQLite header ("SQLite format 3\0").
bool is_sqlite_file(const std::string& path);

}  // namespace stopcall::log
