// A thin RAII layer over the SQLite C API: one connection, prepared statements, and errors that say
// which statement failed. Only what the route code needs; the C API stays available via handle().
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace stopcall::routes::sql {

class Error : public std::runtime_error {
 public:
  Error(int code, const std::string& what) : std::runtime_error(what), code_(code) {}
  int code() const { return code_; }

 private:
  int code_;
};

class Stmt;

class Db {
 public:
  enum class Mode { read_only, read_write, create };

  Db() = default;
  Db(const std::string& path, Mode mode);
  Db(Db&& other) noexcept : db_(std::exchange(other.db_, nullptr)) {}
  Db& operator=(Db&& other) noexcept;
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;
  ~Db();

  void exec(const std::string& sql);
  Stmt prepare(std::string_view sql);
  int user_version();
  std::int64_t last_insert_rowid() const { return sqlite3_last_insert_rowid(db_); }
  sqlite3* handle() const { return db_; }
  void close();

 private:
  sqlite3* db_ = nullptr;
};

class Stmt {
 public:
  Stmt(sqlite3* db, std::string_view sql);
  Stmt(Stmt&& other) noexcept : stmt_(std::exchange(other.stmt_, nullptr)) {}
  Stmt& operator=(Stmt&&) = delete;
  Stmt(const Stmt&) = delete;
  ~Stmt() { sqlite3_finalize(stmt_); }

  // Parameters are 1-based, as in SQLite.
  Stmt& bind(int i, std::string_view text);
  Stmt& bind(int i, std::int64_t value);
  Stmt& bind(int i, int value) { return bind(i, static_cast<std::int64_t>(value)); }
  Stmt& bind(int i, double value);
  Stmt& bind_blob(int i, const void* data, std::size_t size);
  Stmt& bind_null(int i);
  template <typename T>
  Stmt& bind(int i, const std::optional<T>& value) {
    return value ? bind(i, *value) : bind_null(i);
  }

  // Returns true while a row is available.
  bool step();
  // Runs a statement that returns no rows, then resets it for reuse.
  void run();
  void reset();

  bool is_null(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  std::int64_t int64(int col) const { return sqlite3_column_int64(stmt_, col); }
  int integer(int col) const { return sqlite3_column_int(stmt_, col); }
  double real(int col) const { return sqlite3_column_double(stmt_, col); }
  std::string text(int col) const;
  std::string_view text_view(int col) const;
  std::string_view blob(int col) const;
  std::optional<int> opt_int(int col) const {
    return is_null(col) ? std::nullopt : std::optional<int>(integer(col));
  }
  sqlite3_stmt* handle() const { return stmt_; }

 private:
  void check(int rc, const char* what);
  sqlite3_stmt* stmt_ = nullptr;
};

// Commits on commit(), rolls back if destroyed before that.
class Transaction {
 public:
  explicit Transaction(Db& db) : db_(db) { db_.exec("BEGIN IMMEDIATE"); }
  ~Transaction();
  void commit();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

 private:
  Db& db_;
  bool done_ = false;
};

}  // namespace stopcall::routes::sql
