#include "routes/signing.hpp"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <map>
#include <optional>
#include <string_view>
#include <vector>

#include "routes/problem.hpp"
#include "routes/schema.hpp"

namespace stopcall::routes {

static_assert(kPublicKeyBytes == crypto_sign_PUBLICKEYBYTES);
static_assert(kSecretKeyBytes == crypto_sign_SECRETKEYBYTES);
static_assert(kDigestBytes == crypto_generichash_BYTES);

namespace {

constexpr std::string_view kSecretHeader = "stopcall-ed25519-secret-v1";
constexpr std::string_view kPublicHeader = "stopcall-ed25519-public-v1";
constexpr std::string_view kSignedPrefix = "stopcall-bundle-v1";
constexpr std::string_view kContentDomain = "stopcall-bundle-content-v1";
constexpr std::string_view kAlgorithm = "ed25519";
constexpr std::size_t kMaxKeyFileBytes = 4096;

void ensure_sodium() {
  if (sodium_init() < 0) throw std::runtime_error("libsodium could not be initialised");
}

std::string hex(const unsigned char* data, std::size_t size) {
  std::string out(size * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), data, size);
  out.pop_back();
  return out;
}

std::string base64(const unsigned char* data, std::size_t size) {
  std::string out(sodium_base64_encoded_len(size, sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), data, size, sodium_base64_VARIANT_ORIGINAL);
  out.pop_back();  // the terminating NUL
  return out;
}

// Decodes exactly `size` bytes; false on bad base64 or another length.
bool unbase64(std::string_view text, unsigned char* out, std::size_t size) {
  std::vector<unsigned char> buf(text.size());
  std::size_t len = 0;
  const char* end = nullptr;
  if (sodium_base642bin(buf.data(), buf.size(), text.data(), text.size(), nullptr, &len, &end,
                        sodium_base64_VARIANT_ORIGINAL) != 0 ||
      end != text.data() + text.size() || len != size) {
    sodium_memzero(buf.data(), buf.size());
    return false;
  }
  std::memcpy(out, buf.data(), size);
  sodium_memzero(buf.data(), buf.size());
  return true;
}

std::string utc_now() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

[[noreturn]] void key_error(const std::string& path, const std::string& what) {
  throw RouteError(Errc::key_unreadable, "key file " + path + ": " + what);
}

// Reads a key file and returns its base64 line, after checking the header and the comments.
std::string read_key_file(const std::string& path, std::string_view header,
                          std::string_view other_header, bool secret) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) key_error(path, std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    key_error(path, "not a regular file");
  }
  std::string text(kMaxKeyFileBytes + 1, '\0');
  std::size_t got = 0;
  while (got < text.size()) {
    ssize_t n = ::read(fd, text.data() + got, text.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      sodium_memzero(text.data(), text.size());
      key_error(path, std::strerror(err));
    }
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  ::close(fd);
  if (got > kMaxKeyFileBytes) key_error(path, "too large to be a stopcall key file");
  text.resize(got);

  std::vector<std::string_view> lines;
  std::string_view rest = text;
  while (!rest.empty()) {
    auto nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) {
      line.remove_suffix(1);
    }
    lines.push_back(line);
  }
  std::string b64;
  if (lines.empty() || lines[0] != header) {
    std::string what =
        !lines.empty() && lines[0] == other_header
            ? std::string("this is a ") + (secret ? "public" : "secret") + " key file, a " +
                  (secret ? "secret" : "public") + " key is needed"
            : "not a stopcall key file (the first line must be '" + std::string(header) + "')";
    sodium_memzero(text.data(), text.size());
    key_error(path, what);
  }
  if (lines.size() < 2 || lines[1].empty()) {
    sodium_memzero(text.data(), text.size());
    key_error(path, "the key line (line 2) is missing");
  }
  for (std::size_t i = 2; i < lines.size(); ++i) {
    if (!lines[i].empty() && lines[i][0] != '#') {
      sodium_memzero(text.data(), text.size());
      key_error(path, "unexpected text on line " + std::to_string(i + 1) +
                          " (only '#' comments may follow the key)");
    }
  }
  if (secret && (st.st_mode & 077) != 0) {
    sodium_memzero(text.data(), text.size());
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    key_error(path, std::string("the secret key can be read by other users (mode ") + mode +
                        "); run: chmod 600 " + path);
  }
  b64 = lines[1];
  sodium_memzero(text.data(), text.size());
  return b64;
}

// Creates `path` (which must not exist) with `content`, flushed to disk.
void write_new_file(const std::string& path, const std::string& content, mode_t mode) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) key_error(path, std::string("cannot create: ") + std::strerror(errno));
  std::size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      ::unlink(path.c_str());
      key_error(path, std::string("cannot write: ") + std::strerror(err));
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    int err = errno;
    ::unlink(path.c_str());
    key_error(path, std::string("cannot write: ") + std::strerror(err));
  }
}

// Feeds the canonical serialization into BLAKE2b. Every item starts with a one-byte tag; lengths
// and numbers are 8 bytes little-endian, so the encoding is unambiguous.
class Hasher {
 public:
  Hasher() { crypto_generichash_init(&state_, nullptr, 0, kDigestBytes); }
  Hasher(const Hasher&) = delete;
  Hasher& operator=(const Hasher&) = delete;

  void raw(const void* data, std::size_t size) {
    if (size > 0) crypto_generichash_update(&state_, static_cast<const unsigned char*>(data), size);
  }
  void tag(char t) { raw(&t, 1); }
  void u64(std::uint64_t v) {
    unsigned char b[8];
    for (int i = 0; i < 8; ++i)
      b[i] = static_cast<unsigned char>(v >> (8 * i));
    raw(b, sizeof b);
  }
  void bytes(const void* data, std::size_t size) {
    u64(size);
    raw(data, size);
  }
  void text(std::string_view s) {
    tag('T');
    bytes(s.data(), s.size());
  }
  // One column of the current row, by its storage class.
  void value(sqlite3_stmt* stmt, int col) {
    switch (sqlite3_column_type(stmt, col)) {
      case SQLITE_NULL:
        tag('N');
        break;
      case SQLITE_INTEGER:
        tag('I');
        u64(static_cast<std::uint64_t>(sqlite3_column_int64(stmt, col)));
        break;
      case SQLITE_FLOAT:
        tag('F');
        u64(std::bit_cast<std::uint64_t>(sqlite3_column_double(stmt, col)));
        break;
      case SQLITE_TEXT: {
        auto p = sqlite3_column_text(stmt, col);
        tag('T');
        bytes(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt, col)));
        break;
      }
      default: {  // SQLITE_BLOB
        const void* p = sqlite3_column_blob(stmt, col);
        tag('B');
        bytes(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt, col)));
        break;
      }
    }
  }
  Digest finish() {
    Digest out{};
    crypto_generichash_final(&state_, out.data(), out.size());
    return out;
  }

 private:
  crypto_generichash_state state_{};
};

// SQLite's own bookkeeping, which the digest leaves out. Other "sqlite_" names (which only a
// hand-edited schema can contain) are hashed, so they break the signature.
bool is_sqlite_bookkeeping(std::string_view name) {
  return name.starts_with("sqlite_autoindex_") || name == "sqlite_sequence" ||
         name.starts_with("sqlite_stat");
}

std::string quote_identifier(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

// Holds a read transaction for the digest unless the caller already has one open.
class ReadSnapshot {
 public:
  explicit ReadSnapshot(sql::Db& db) : db_(db), own_(sqlite3_get_autocommit(db.handle()) != 0) {
    if (own_) db_.exec("BEGIN");
  }
  ~ReadSnapshot() {
    if (own_) {
      try {
        db_.exec("COMMIT");
      } catch (...) {
        // A read transaction has nothing to lose; the connection is closing or already ended it.
      }
    }
  }
  ReadSnapshot(const ReadSnapshot&) = delete;
  ReadSnapshot& operator=(const ReadSnapshot&) = delete;

 private:
  sql::Db& db_;
  bool own_;
};

void hash_table(sql::Db& db, Hasher& h, const std::string& name, bool without_rowid) {
  std::vector<std::string> columns;
  std::vector<std::pair<int, std::string>> pk;
  {
    auto info = db.prepare("SELECT name, pk FROM pragma_table_info(?1)");
    info.bind(1, name);
    while (info.step()) {
      columns.push_back(info.text(0));
      if (info.integer(1) > 0) pk.emplace_back(info.integer(1), info.text(0));
    }
  }
  std::string query;
  if (without_rowid) {
    // The primary key is unique, so ordering by it (bytewise, whatever the declared collation)
    // gives one order.
    std::sort(pk.begin(), pk.end());
    if (pk.empty()) throw sql::Error(SQLITE_CORRUPT, "table " + name + " has no primary key");
    query = "SELECT * FROM " + quote_identifier(name) + " ORDER BY ";
    for (std::size_t i = 0; i < pk.size(); ++i) {
      if (i > 0) query += ", ";
      query += quote_identifier(pk[i].second) + " COLLATE BINARY";
    }
  } else {
    // The rowid under the first of its names that no column hides (unquoted: a quoted name that
    // matches nothing would be read as a string).
    std::string rowid;
    for (const char* alias : {"rowid", "_rowid_", "oid"}) {
      bool hidden = false;
      for (const auto& c : columns)
        hidden = hidden || sqlite3_stricmp(c.c_str(), alias) == 0;
      if (!hidden) {
        rowid = alias;
        break;
      }
    }
    if (rowid.empty()) {
      throw sql::Error(SQLITE_CORRUPT, "table " + name + " hides its rowid behind column names");
    }
    query = "SELECT " + rowid + ", * FROM " + quote_identifier(name) + " ORDER BY " + rowid;
  }
  auto rows = db.prepare(query);
  const int ncols = sqlite3_column_count(rows.handle());
  h.tag('t');
  h.text(name);
  h.u64(without_rowid ? 0 : 1);
  h.u64(static_cast<std::uint64_t>(ncols));
  std::uint64_t count = 0;
  while (rows.step()) {
    h.tag('r');
    for (int c = 0; c < ncols; ++c)
      h.value(rows.handle(), c);
    ++count;
  }
  h.tag('e');
  h.u64(count);
}

[[noreturn]] void unreadable(const std::string& path, const std::exception& e) {
  throw RouteError(Errc::bundle_unreadable, "route bundle " + path + " cannot be read (" +
                                                e.what() +
                                                "); get a fresh copy of the bundle from the depot");
}

void quick_check(sql::Db& db, const std::string& path) {
  auto check = db.prepare("PRAGMA quick_check(5)");
  std::vector<std::string> found;
  while (check.step())
    found.push_back(check.text(0));
  if (found.size() == 1 && found[0] == "ok") return;
  std::string what;
  for (const auto& f : found)
    what += (what.empty() ? "" : "; ") + f;
  throw RouteError(Errc::bundle_unreadable, "route bundle " + path +
                                                " is damaged (SQLite quick_check: " + what +
                                                "); get a fresh copy of the bundle from the depot");
}

struct SignatureRow {
  std::string key_id, algorithm, digest, signature, signed_at;
};

}  // namespace

std::string PublicKey::key_id() const {
  ensure_sodium();
  Digest h{};
  crypto_generichash(h.data(), h.size(), bytes.data(), bytes.size(), nullptr, 0);
  return hex(h.data(), 8);
}

SecretKey::~SecretKey() {
  sodium_memzero(bytes.data(), bytes.size());
}

PublicKey SecretKey::public_key() const {
  PublicKey pk;
  crypto_sign_ed25519_sk_to_pk(pk.bytes.data(), bytes.data());
  return pk;
}

KeyPair generate_keypair(const std::string& secret_path, const std::string& public_path) {
  ensure_sodium();
  std::error_code ec;
  for (const auto& p : {secret_path, public_path}) {
    if (std::filesystem::exists(std::filesystem::symlink_status(p, ec))) {
      key_error(p, "already exists; refusing to overwrite a key (move it away first)");
    }
  }
  KeyPair kp;
  crypto_sign_keypair(kp.public_key.bytes.data(), kp.secret.bytes.data());
  const std::string id = kp.public_key.key_id();
  const std::string created = utc_now();

  std::string secret_text = std::string(kSecretHeader) + "\n" +
                            base64(kp.secret.bytes.data(), kp.secret.bytes.size()) + "\n# key id " +
                            id + ", created " + created +
                            "\n# keep this file secret: whoever has it can sign route bundles\n";
  try {
    write_new_file(secret_path, secret_text, 0600);
  } catch (...) {
    sodium_memzero(secret_text.data(), secret_text.size());
    throw;
  }
  sodium_memzero(secret_text.data(), secret_text.size());
  const std::string public_text = std::string(kPublicHeader) + "\n" +
                                  base64(kp.public_key.bytes.data(), kp.public_key.bytes.size()) +
                                  "\n# key id " + id + ", created " + created + "\n";
  try {
    write_new_file(public_path, public_text, 0644);
  } catch (...) {
    ::unlink(secret_path.c_str());
    throw;
  }
  return kp;
}

SecretKey load_secret_key(const std::string& path) {
  ensure_sodium();
  std::string b64 = read_key_file(path, kSecretHeader, kPublicHeader, true);
  SecretKey key;
  const bool decoded = unbase64(b64, key.bytes.data(), key.bytes.size());
  sodium_memzero(b64.data(), b64.size());
  if (!decoded) {
    key_error(path, "line 2 is not the base64 of a " + std::to_string(kSecretKeyBytes) +
                        "-byte secret key");
  }
  // libsodium's secret key is seed || public key: both halves must belong together.
  SecretKey derived;
  PublicKey pk;
  crypto_sign_seed_keypair(pk.bytes.data(), derived.bytes.data(), key.bytes.data());
  if (sodium_memcmp(derived.bytes.data(), key.bytes.data(), key.bytes.size()) != 0) {
    key_error(path, "the secret key is damaged (its public half does not match)");
  }
  return key;
}

PublicKey load_public_key(const std::string& path) {
  ensure_sodium();
  const std::string b64 = read_key_file(path, kPublicHeader, kSecretHeader, false);
  PublicKey key;
  if (!unbase64(b64, key.bytes.data(), key.bytes.size())) {
    key_error(path, "line 2 is not the base64 of a " + std::to_string(kPublicKeyBytes) +
                        "-byte public key");
  }
  return key;
}

std::string to_hex(const Digest& digest) {
  return hex(digest.data(), digest.size());
}

Digest content_digest(sql::Db& db) {
  ensure_sodium();
  ReadSnapshot snapshot(db);
  Hasher h;
  h.raw(kContentDomain.data(), kContentDomain.size());
  h.tag('v');
  h.u64(static_cast<std::uint64_t>(static_cast<std::int64_t>(db.user_version())));

  std::map<std::string, bool> without_rowid;
  {
    auto list = db.prepare("SELECT name, wr FROM pragma_table_list WHERE schema = 'main'");
    while (list.step())
      without_rowid[list.text(0)] = list.integer(1) != 0;
  }

  std::vector<std::string> tables;  // in name order: the schema is read ordered by type, name
  {
    auto schema = db.prepare(
        "SELECT type, name, tbl_name, sql, rootpage FROM sqlite_schema ORDER BY type, name");
    while (schema.step()) {
      const std::string type = schema.text(0);
      const std::string name = schema.text(1);
      if (is_sqlite_bookkeeping(name)) continue;
      if (type == "table" && name == kSignatureTable) continue;
      h.tag('s');
      for (int c = 0; c < 4; ++c)
        h.value(schema.handle(), c);
      // rootpage 0: a virtual table (or a view); its rows live in its shadow tables.
      if (type == "table" && schema.int64(4) != 0) tables.push_back(name);
    }
  }
  h.tag('S');
  for (const auto& name : tables)
    hash_table(db, h, name, without_rowid[name]);
  h.tag('E');
  return h.finish();
}

sql::Db open_bundle_checked(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const auto status = fs::status(path, ec);
  if (!fs::exists(status)) {
    throw RouteError(Errc::bundle_unreadable, "route bundle " + path + " does not exist");
  }
  if (!fs::is_regular_file(status)) {
    throw RouteError(Errc::bundle_unreadable, "route bundle " + path + " is not a file");
  }
  if (fs::file_size(path, ec) == 0) {
    throw RouteError(Errc::bundle_unreadable,
                     "route bundle " + path + " is empty; get a fresh copy from the depot");
  }
  try {
    sql::Db db(path, sql::Db::Mode::read_only);
    // The bundle may come from anywhere: never run functions its schema names.
    db.exec("PRAGMA trusted_schema = OFF");
    quick_check(db, path);
    return db;
  } catch (const sql::Error& e) {
    unreadable(path, e);
  }
}

SignResult sign_bundle(const std::string& path, const SecretKey& key) {
  ensure_sodium();
  sql::Db db;
  try {
    // Checked read-only first, so a damaged file is reported as such and never written to.
    open_bundle_checked(path).close();
    db = sql::Db(path, sql::Db::Mode::read_write);
  } catch (const sql::Error& e) {
    unreadable(path, e);
  }
  SignResult result;
  result.key_id = key.key_id();
  result.signed_at = utc_now();
  try {
    sql::Transaction tx(db);
    const Digest digest = content_digest(db);
    result.digest = to_hex(digest);

    std::string message(kSignedPrefix);
    message.append(reinterpret_cast<const char*>(digest.data()), digest.size());
    std::array<unsigned char, crypto_sign_BYTES> sig{};
    crypto_sign_detached(sig.data(), nullptr,
                         reinterpret_cast<const unsigned char*>(message.data()), message.size(),
                         key.bytes.data());

    const std::string table = quote_identifier(kSignatureTable);
    db.exec("CREATE TABLE IF NOT EXISTS " + table +
            " (key_id TEXT, algorithm TEXT, digest TEXT, signature TEXT, signed_at TEXT)");
    db.exec("DELETE FROM " + table);
    auto insert = db.prepare("INSERT INTO " + table +
                             " (key_id, algorithm, digest, signature, signed_at)"
                             " VALUES (?1, ?2, ?3, ?4, ?5)");
    insert.bind(1, result.key_id)
        .bind(2, kAlgorithm)
        .bind(3, result.digest)
        .bind(4, base64(sig.data(), sig.size()))
        .bind(5, result.signed_at);
    insert.run();
    tx.commit();
  } catch (const sql::Error& e) {
    throw RouteError(Errc::bundle_unreadable, "cannot sign route bundle " + path + ": " + e.what());
  }
  return result;
}

VerifyResult verify_bundle(const std::string& path, const PublicKey& key) {
  sql::Db db = open_bundle_checked(path);
  return verify_bundle(db, path, key);
}

VerifyResult verify_bundle(sql::Db& db, const std::string& path, const PublicKey& key) {
  ensure_sodium();
  const std::string our_id = key.key_id();
  VerifyResult result;
  std::vector<SignatureRow> rows;
  bool has_table = false;
  try {
    result.digest = content_digest(db);
    auto find = db.prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?1");
    find.bind(1, kSignatureTable);
    has_table = find.step();
  } catch (const sql::Error& e) {
    unreadable(path, e);
  }
  if (has_table) {
    try {
      auto read = db.prepare("SELECT key_id, algorithm, digest, signature, signed_at FROM " +
                             quote_identifier(kSignatureTable));
      while (read.step()) {
        rows.push_back({read.text(0), read.text(1), read.text(2), read.text(3), read.text(4)});
      }
    } catch (const sql::Error& e) {
      throw RouteError(Errc::signature_mismatch, "route bundle " + path + " has a malformed " +
                                                     std::string(kSignatureTable) + " table (" +
                                                     e.what() + "); do not install it");
    }
  }
  if (rows.empty()) {
    throw RouteError(Errc::bundle_unsigned,
                     "route bundle " + path +
                         " is not signed; have the depot sign it before loading it on a bus");
  }
  const SignatureRow* row = &rows.front();
  for (const auto& r : rows) {
    if (r.key_id == our_id) row = &r;
  }
  const std::string signer = row->key_id.empty() ? "(no key id)" : row->key_id;
  if (row->algorithm != kAlgorithm) {
    throw RouteError(Errc::signature_mismatch, "route bundle " + path +
                                                   " is signed with an unknown algorithm '" +
                                                   row->algorithm + "' (expected ed25519)");
  }
  std::array<unsigned char, crypto_sign_BYTES> sig{};
  const bool sig_ok = unbase64(row->signature, sig.data(), sig.size());

  std::string message(kSignedPrefix);
  message.append(reinterpret_cast<const char*>(result.digest.data()), result.digest.size());
  if (sig_ok && crypto_sign_verify_detached(sig.data(),
                                            reinterpret_cast<const unsigned char*>(message.data()),
                                            message.size(), key.bytes.data()) == 0) {
    result.key_id = our_id;
    result.signed_at = row->signed_at;
    result.message = "route bundle " + path + ": signed by key " + our_id +
                     (row->signed_at.empty() ? "" : " at " + row->signed_at) + ", content intact";
    return result;
  }
  // Not valid. The recorded key id and digest are not trusted; they only explain why.
  if (row->key_id != our_id) {
    throw RouteError(Errc::signature_mismatch,
                     "route bundle " + path + " was signed with key " + signer +
                         ", not with the key given (" + our_id + "): use the public key " + signer +
                         " if the depot trusts it, or have the bundle signed with key " + our_id);
  }
  if (row->digest != to_hex(result.digest)) {
    throw RouteError(Errc::signature_mismatch,
                     "route bundle " + path + " was changed after key " + signer +
                         " signed it (its content no longer matches the signature); do not "
                         "install it, get a fresh copy from the depot");
  }
  throw RouteError(Errc::signature_mismatch,
                   "route bundle " + path + " has an invalid signature for key " + signer +
                       " (the signature was damaged or forged); do not install it, get a fresh "
                       "copy from the depot");
}

std::string sign_text(const SecretKey& key, std::string_view message) {
  ensure_sodium();
  std::array<unsigned char, crypto_sign_BYTES> sig{};
  crypto_sign_detached(sig.data(), nullptr, reinterpret_cast<const unsigned char*>(message.data()),
                       message.size(), key.bytes.data());
  return base64(sig.data(), sig.size());
}

bool verify_text(const PublicKey& key, std::string_view message, std::string_view signature) {
  ensure_sodium();
  std::array<unsigned char, crypto_sign_BYTES> sig{};
  if (!unbase64(signature, sig.data(), sig.size())) return false;
  return crypto_sign_verify_detached(sig.data(),
                                     reinterpret_cast<const unsigned char*>(message.data()),
                                     message.size(), key.bytes.data()) == 0;
}

std::string random_hex(std::size_t bytes) {
  ensure_sodium();
  std::vector<unsigned char> buf(bytes);
  randombytes_buf(buf.data(), buf.size());
  return hex(buf.data(), buf.size());
}

}  // namespace stopcall::routes
