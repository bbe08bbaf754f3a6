#include "daemon/service/state_store.hpp"

#include <ostream>
#include <stdexcept>

#include "routes/sqlite.hpp"

namespace stopcall::daemon {

namespace sqlite = routes::sql;
using Type = tracking::StopEvent::Type;

namespace {

std::optional<Type> type_from(std::string_view name) {
  for (auto t : {Type::trip_started, Type::next_stop, Type::approaching, Type::arrived,
                 Type::passed, Type::departed, Type::trip_ended, Type::trip_detected}) {
    if (tracking::type_name(t) == name) return t;
  }
  return std::nullopt;
}

}  // namespace

StateStore::StateStore(const std::string& path) {
  try {
    db_ = std::make_unique<sqlite::Db>(path, sqlite::Db::Mode::create);
    db_->exec("PRAGMA journal_mode=WAL");
    // NORMAL in WAL: a power cut may lose the last transaction, never corrupt the file.
    db_->exec("PRAGMA synchronous=NORMAL");
    db_->exec(
        "CREATE TABLE IF NOT EXISTS resume (id INTEGER PRIMARY KEY CHECK (id = 1), trip_id TEXT "
        "NOT NULL, stop_index INTEGER NOT NULL, event TEXT NOT NULL, time_ms INTEGER NOT NULL)");
    db_->exec("CREATE TABLE IF NOT EXISTS messages (seq INTEGER PRIMARY KEY, body TEXT NOT NULL)");
    db_->exec(
        "CREATE TABLE IF NOT EXISTS fleet_nonces (nonce TEXT PRIMARY KEY, issued_ms INTEGER NOT "
        "NULL)");
  } catch (const std::exception& e) {
    throw std::runtime_error("state file " + path + ": " + e.what());
  }
}

StateStore::~StateStore() = default;

void StateStore::save(const SavedState& s) {
  db_->prepare(
         "INSERT INTO resume (id, trip_id, stop_index, event, time_ms) VALUES (1, ?, ?, ?, ?) "
         "ON CONFLICT(id) DO UPDATE SET trip_id = excluded.trip_id, stop_index = "
         "excluded.stop_index, event = excluded.event, time_ms = excluded.time_ms")
      .bind(1, s.trip_id)
      .bind(2, s.stop_index)
      .bind(3, tracking::type_name(s.event))
      .bind(4, static_cast<std::int64_t>(s.time.time_since_epoch().count()))
      .run();
}

std::optional<SavedState> StateStore::load() {
  auto stmt = db_->prepare("SELECT trip_id, stop_index, event, time_ms FROM resume WHERE id = 1");
  if (!stmt.step()) return std::nullopt;
  auto type = type_from(stmt.text_view(2));
  if (!type) return std::nullopt;
  SavedState s;
  s.trip_id = stmt.text(0);
  s.stop_index = stmt.integer(1);
  s.event = *type;
  s.time = tracking::Time{std::chrono::milliseconds(stmt.int64(3))};
  return s;
}

void StateStore::clear() {
  db_->exec("DELETE FROM resume");
}

void StateStore::save_messages(const std::vector<std::string>& messages) {
  sqlite::Transaction transaction(*db_);
  db_->exec("DELETE FROM messages");
  for (const auto& body : messages) {
    db_->prepare("INSERT INTO messages (body) VALUES (?)").bind(1, body).run();
  }
  transaction.commit();
}

std::vector<std::string> StateStore::load_messages() {
  std::vector<std::string> out;
  auto stmt = db_->prepare("SELECT body FROM messages ORDER BY seq");
  while (stmt.step())
    out.push_back(stmt.text(0));
  return out;
}

void StateStore::save_fleet_nonces(
    const std::vector<std::pair<std::string, tracking::Time>>& nonces) {
  sqlite::Transaction transaction(*db_);
  db_->exec("DELETE FROM fleet_nonces");
  for (const auto& [nonce, issued] : nonces) {
    db_->prepare("INSERT OR REPLACE INTO fleet_nonces (nonce, issued_ms) VALUES (?, ?)")
        .bind(1, nonce)
        .bind(2, static_cast<std::int64_t>(issued.time_since_epoch().count()))
        .run();
  }
  transaction.commit();
}

std::vector<std::pair<std::string, tracking::Time>> StateStore::load_fleet_nonces() {
  std::vector<std::pair<std::string, tracking::Time>> out;
  auto stmt = db_->prepare("SELECT nonce, issued_ms FROM fleet_nonces ORDER BY issued_ms");
  while (stmt.step())
    out.emplace_back(stmt.text(0), tracking::Time{std::chrono::milliseconds(stmt.int64(1))});
  return out;
}

std::optional<SavedState> load_saved_state(const std::string& path, std::ostream& log) {
  try {
    StateStore store(path);
    auto saved = store.load();
    if (saved) {
      log << "info: saved state: trip " << saved->trip_id << ", "
          << tracking::type_name(saved->event) << " at stop index " << saved->stop_index << " ("
          << tracking::format_time(saved->time) << ")\n";
    }
    return saved;
  } catch (const std::exception& e) {
    log << "error: " << e.what() << "; starting without the saved state\n";
    return std::nullopt;
  }
}

}  // namespace stopcall::daemon
