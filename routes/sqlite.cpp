#include "routes/sqlite.hpp"

#include <utility>

namespace stopcall::routes::sql {

namespace {
[[noreturn]] void fail(sqlite3* db, int rc, const std::string& context) {
  std::string msg = context + ": ";
  msg += db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  throw Error(rc, msg);
}
}  // namespace

Db::Db(const std::string& path, Mode mode) {
  int flags = SQLITE_OPEN_NOMUTEX;
  switch (mode) {
    case Mode::read_only:
      flags |= SQLITE_OPEN_READONLY;
      break;
    case Mode::read_write:
      flags |= SQLITE_OPEN_READWRITE;
      break;
    case Mode::create:
      flags |= SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
      break;
  }
  int rc = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg =
        "cannot open " + path + ": " + (db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc));
    sqlite3_close(db_);
    db_ = nullptr;
    throw Error(rc, msg);
  }
  sqlite3_extended_result_codes(db_, 1);
  sqlite3_busy_timeout(db_, 2000);
}

Db& Db::operator=(Db&& other) noexcept {
  if (this != &other) {
    close();
    db_ = std::exchange(other.db_, nullptr);
  }
  return *this;
}

Db::~Db() {
  close();
}

void Db::close() {
  if (db_) sqlite3_close_v2(db_);
  db_ = nullptr;
}

void Db::exec(const std::string& sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    throw Error(rc, msg + " (in: " + sql.substr(0, 60) + ")");
  }
}

Stmt Db::prepare(std::string_view sql) {
  return Stmt(db_, sql);
}

int Db::user_version() {
  Stmt s(db_, "PRAGMA user_version");
  s.step();
  return s.integer(0);
}

Stmt::Stmt(sqlite3* db, std::string_view sql) {
  int rc = sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr);
  if (rc != SQLITE_OK) fail(db, rc, "cannot prepare '" + std::string(sql.substr(0, 60)) + "'");
}

void Stmt::check(int rc, const char* what) {
  if (rc != SQLITE_OK) fail(sqlite3_db_handle(stmt_), rc, what);
}

Stmt& Stmt::bind(int i, std::string_view text) {
  // An empty view may have no data at all (a CSV cell past the end of a short row): SQLite would
  // store NULL for a null pointer, and an empty text is meant.
  const char* data = text.data() ? text.data() : "";
  check(sqlite3_bind_text(stmt_, i, data, static_cast<int>(text.size()), SQLITE_TRANSIENT),
        "bind text");
  return *this;
}
Stmt& Stmt::bind(int i, std::int64_t value) {
  check(sqlite3_bind_int64(stmt_, i, value), "bind int");
  return *this;
}
Stmt& Stmt::bind(int i, double value) {
  check(sqlite3_bind_double(stmt_, i, value), "bind double");
  return *this;
}
Stmt& Stmt::bind_blob(int i, const void* data, std::size_t size) {
  check(sqlite3_bind_blob64(stmt_, i, data, size, SQLITE_TRANSIENT), "bind blob");
  return *this;
}
Stmt& Stmt::bind_null(int i) {
  check(sqlite3_bind_null(stmt_, i), "bind null");
  return *this;
}

bool Stmt::step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  std::string sql = sqlite3_sql(stmt_) ? sqlite3_sql(stmt_) : "";
  sqlite3_reset(stmt_);
  fail(sqlite3_db_handle(stmt_), rc, "'" + sql.substr(0, 60) + "'");
}

void Stmt::run() {
  while (step()) {
  }
  reset();
}

void Stmt::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

std::string Stmt::text(int col) const {
  return std::string(text_view(col));
}

std::string_view Stmt::text_view(int col) const {
  auto p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
  if (!p) return {};
  return {p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col))};
}

std::string_view Stmt::blob(int col) const {
  auto p = static_cast<const char*>(sqlite3_column_blob(stmt_, col));
  if (!p) return {};
  return {p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col))};
}

Transaction::~Transaction() {
  if (!done_) {
    try {
      db_.exec("ROLLBACK");
    } catch (...) {
      // Nothing to do: the connection is going away or the transaction already ended.
    }
  }
}

void Transaction::commit() {
  db_.exec("COMMIT");
  done_ = true;
}

}  // namespace stopcall::routes::sql
