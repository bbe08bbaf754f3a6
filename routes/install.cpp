// Why an install cannot leave the bus without a sound active.db (kill -9 or power cut at any
// point):
//
//  1. The source is checked (quick_check, signature, schema version) before DIR is touched.
//  2. It is copied to DIR/.incoming-XXXXXX.db, fsynced, and the copy is checked again (quick_check,
//     signature, same content digest as the source), so a bad write is caught. Until here only
//     the temp file exists; a leftover one is removed by the next install.
//  3. If active.db exists, it gets a second name with link(active.db, .previous.db.tmp) and that
//     name is moved onto previous.db with rename(2), which replaces previous.db atomically.
//     active.db itself is never moved away: moving it (rename active.db -> previous.db) would leave
//     a moment with no active.db at all.
//  4. rename(.incoming-XXXXXX.db, active.db) replaces active.db atomically: any reader, and the
//     disk after a crash, sees either the old complete file or the new complete (already fsynced)
//     file under that name, never a mix or nothing.
//  5. fsync(DIR) makes the renames durable.
//
// Rollback swaps the two names the same way: link(active.db, .previous.db.tmp),
// rename(previous.db, active.db), rename(.previous.db.tmp, previous.db). If it is interrupted
// after the second step, .previous.db.tmp holds the replaced bundle and the next install or
// rollback renames it back to previous.db, so neither bundle is lost. A .previous.db.tmp that is a
// second name of active.db (an install interrupted after step 3's link) is simply removed.
#include "routes/install.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <utility>
#include <vector>

#include "routes/output_path.hpp"
#include "routes/problem.hpp"
#include "routes/schema.hpp"

namespace stopcall::routes {

namespace {

namespace fs = std::filesystem;

constexpr std::string_view kIncomingPrefix = ".incoming-";
constexpr std::string_view kPreviousTmpName = ".previous.db.tmp";
constexpr std::string_view kLockName = ".install.lock";
constexpr std::size_t kCopyChunk = std::size_t{1} << 20;

std::string join(const std::string& dir, std::string_view name) {
  return (fs::path(dir) / name).string();
}

[[noreturn]] void install_failed(const std::string& what, int err = 0,
                                 bool active_unchanged = true) {
  std::string msg = what;
  if (err != 0) msg += std::string(": ") + std::strerror(err);
  if (active_unchanged) msg += "; the active route bundle is unchanged";
  throw RouteError(Errc::install_failed, msg);
}

void step(const InstallStepHook& hook, std::string_view name) {
  if (hook) hook(name);
}

bool exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  // Closes and reports the error close(2) may return (a delayed write error).
  int close() { return ::close(std::exchange(fd_, -1)); }

 private:
  int fd_;
};

// Removes the file unless keep() was called.
class TempFile {
 public:
  TempFile() = default;
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  ~TempFile() {
    if (!path.empty()) ::unlink(path.c_str());
  }
  void keep() { path.clear(); }
  std::string path;
};

// Only one install or rollback at a time in a folder: they both clean up after earlier ones.
class DirLock {
 public:
  explicit DirLock(const std::string& dir)
      : fd_(::open(join(dir, kLockName).c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644)) {
    if (fd_.get() < 0) install_failed("cannot create the lock file in " + dir, errno);
    if (::flock(fd_.get(), LOCK_EX | LOCK_NB) != 0) {
      if (errno == EWOULDBLOCK) {
        install_failed("another install or rollback is running in " + dir + "; wait for it");
      }
      install_failed("cannot lock " + join(dir, kLockName), errno);
    }
  }

 private:
  Fd fd_;
};

void fsync_dir(const std::string& dir, bool active_changed) {
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0 || ::fsync(fd.get()) != 0) {
    if (active_changed) {
      install_failed("the new route bundle is active, but " + dir +
                         " could not be flushed to disk (it may revert after a power cut)",
                     errno, false);
    }
    install_failed("cannot flush " + dir + " to disk", errno);
  }
}

void write_all(int fd, const char* data, std::size_t size, const std::string& path) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) install_failed("cannot write " + path + " (is the disk full?)", errno);
    data += n;
    size -= static_cast<std::size_t>(n);
  }
}

// SQLite opens a database together with the "-wal" or hot "-journal" file next to it. A bundle
// with one of those was not closed properly by whatever wrote it, and copying the .db file alone
// would lose data; they are refused.
void refuse_unfinished_source(const std::string& path) {
  std::error_code ec;
  const auto wal = path + "-wal";
  if (fs::exists(wal, ec) && fs::file_size(wal, ec) > 0 && !ec) {
    throw RouteError(Errc::bundle_unreadable,
                     "route bundle " + path +
                         " was not closed properly by the program that wrote " + "it (" + wal +
                         " exists); finish or redo the export before installing");
  }
  const auto journal = path + "-journal";
  Fd fd(::open(journal.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() >= 0) {
    static constexpr std::array<unsigned char, 8> kMagic = {0xd9, 0xd5, 0x05, 0xf9,
                                                            0x20, 0xa1, 0x63, 0xd7};
    std::array<unsigned char, 8> head{};
    if (::read(fd.get(), head.data(), head.size()) == static_cast<ssize_t>(head.size()) &&
        head == kMagic) {
      throw RouteError(Errc::bundle_unreadable,
                       "route bundle " + path + " was left half-written (" + journal +
                           " exists); finish or redo the export before installing");
    }
  }
}

// Stale "-journal"/"-wal"/"-shm" files next to active.db would be applied by SQLite to whatever
// file has that name, so they go before a new file takes the name. The daemon opens active.db
// read-only, so normally there are none.
void remove_stale_sidecars(const std::string& active) {
  for (const char* suffix : {"-journal", "-wal", "-shm"})
    ::unlink((active + suffix).c_str());
}

void check_version(sql::Db& db, const std::string& path) {
  int version = 0;
  try {
    version = db.user_version();
  } catch (const sql::Error& e) {
    throw RouteError(Errc::bundle_unreadable,
                     "route bundle " + path + " cannot be read (" + e.what() + ")");
  }
  if (version != kSchemaVersion) {
    throw RouteError(Errc::bundle_wrong_version,
                     "route bundle " + path + " has schema version " + std::to_string(version) +
                         ", but this stopcall reads version " + std::to_string(kSchemaVersion) +
                         "; make the bundle with the stopcall version installed on the bus");
  }
}

Digest digest_of(sql::Db& db, const std::string& path) {
  try {
    return content_digest(db);
  } catch (const sql::Error& e) {
    throw RouteError(Errc::bundle_unreadable,
                     "route bundle " + path + " cannot be read (" + e.what() + ")");
  }
}

// Files an interrupted install or rollback left behind (see the top of this file).
int remove_leftovers(const std::string& dir) {
  std::vector<std::string> incoming;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.path().filename().string().starts_with(kIncomingPrefix)) {
      incoming.push_back(entry.path().string());
    }
  }
  if (ec) install_failed("cannot list " + dir, ec.value());
  int removed = 0;
  for (const auto& path : incoming) {
    if (::unlink(path.c_str()) == 0) ++removed;
  }

  const std::string tmp = join(dir, kPreviousTmpName);
  const std::string active = join(dir, kActiveBundleName);
  const std::string previous = join(dir, kPreviousBundleName);
  struct stat tmp_st {};
  if (::lstat(tmp.c_str(), &tmp_st) == 0) {
    struct stat active_st {};
    const bool second_name_of_active = ::stat(active.c_str(), &active_st) == 0 &&
                                       active_st.st_dev == tmp_st.st_dev &&
                                       active_st.st_ino == tmp_st.st_ino;
    if (!second_name_of_active && !exists(previous)) {
      // A rollback stopped between its renames: this is the bundle it replaced.
      if (::rename(tmp.c_str(), previous.c_str()) != 0) {
        install_failed("cannot restore " + previous + " from " + tmp, errno);
      }
    } else {
      ::unlink(tmp.c_str());
    }
    ++removed;
  }
  return removed;
}

// Copies the source into a new temp file in dir, complete and flushed to disk.
void copy_into(const std::string& src, const std::string& dir, TempFile& out_file,
               const InstallStepHook& on_step) {
  Fd in(::open(src.c_str(), O_RDONLY | O_CLOEXEC));
  if (in.get() < 0) install_failed("cannot read " + src, errno);

  std::string name = join(dir, std::string(kIncomingPrefix) + "XXXXXX.db");
  Fd out(::mkstemps(name.data(), 3));
  if (out.get() < 0) install_failed("cannot create a file in " + dir, errno);
  out_file.path = name;

  std::vector<char> buf(kCopyChunk);
  std::array<unsigned char, 20> header{};
  std::size_t total = 0;
  for (;;) {
    ssize_t n = ::read(in.get(), buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) install_failed("cannot read " + src, errno);
    if (n == 0) break;
    for (std::size_t i = total; i < header.size() && i < total + static_cast<std::size_t>(n); ++i) {
      header[i] = static_cast<unsigned char>(buf[i - total]);
    }
    write_all(out.get(), buf.data(), static_cast<std::size_t>(n), name);
    total += static_cast<std::size_t>(n);
    step(on_step, "copying");
  }
  // mkstemp makes the file 0600; the daemon may run as another user.
  if (::fchmod(out.get(), 0644) != 0) install_failed("cannot set permissions of " + name, errno);

  // A bundle left in WAL mode (file format bytes 18-19 = 2) would make every reader create -wal
  // and -shm files next to active.db; switch the copy to a plain rollback journal. This rewrites
  // the header only; the content and so the signature stay the same.
  if (header[18] == 2 || header[19] == 2) {
    if (out.close() != 0) install_failed("cannot write " + name, errno);
    try {
      sql::Db db(name, sql::Db::Mode::read_write);
      db.exec("PRAGMA journal_mode = DELETE");
    } catch (const sql::Error& e) {
      install_failed("cannot switch the copy " + name + " out of WAL mode (" + e.what() + ")");
    }
    Fd again(::open(name.c_str(), O_RDWR | O_CLOEXEC));
    if (again.get() < 0 || ::fsync(again.get()) != 0 || again.close() != 0) {
      install_failed("cannot flush " + name + " to disk", errno);
    }
    return;
  }
  if (::fsync(out.get()) != 0 || out.close() != 0) {
    install_failed("cannot flush " + name + " to disk", errno);
  }
}

// The copy must be as sound as the source: a failing disk is caught here, not on the road.
void check_copy(const std::string& copy, const std::string& src,
                const std::optional<PublicKey>& key, const Digest& source_digest) {
  const std::string what = "the copy of " + src + " (" + copy + ")";
  Digest digest{};
  try {
    sql::Db db = open_bundle_checked(copy);
    digest = key ? verify_bundle(db, copy, *key).digest : content_digest(db);
  } catch (const RouteError& e) {
    install_failed(what + " is not sound (" + e.what() + "); the disk may be failing");
  } catch (const sql::Error& e) {
    install_failed(what + " cannot be read (" + e.what() + "); the disk may be failing");
  }
  if (digest != source_digest) {
    install_failed(what + " differs from the original; the disk may be failing");
  }
}

}  // namespace

InstallResult install_bundle(const std::string& bundle_path, const std::string& dir,
                             const std::optional<PublicKey>& key, const InstallStepHook& on_step) {
  InstallResult result;

  // 1. Check the source; DIR is not touched unless it passes.
  refuse_unfinished_source(bundle_path);
  Digest source_digest{};
  {
    sql::Db src = open_bundle_checked(bundle_path);
    if (key) {
      VerifyResult verified = verify_bundle(src, bundle_path, *key);
      source_digest = verified.digest;
      result.key_id = verified.key_id;
      result.signed_at = verified.signed_at;
    }
    check_version(src, bundle_path);
    if (!key) source_digest = digest_of(src, bundle_path);
  }
  step(on_step, "source-checked");

  refuse_unless_folder_or_absent(dir, Errc::install_failed);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) install_failed("cannot create the install folder " + dir, ec.value());
  DirLock lock(dir);
  step(on_step, "locked");
  result.leftovers_removed = remove_leftovers(dir);
  step(on_step, "leftovers-removed");
  // Both names are replaced by rename(2): only ever a bundle file, never what else stands there.
  refuse_unless_regular_or_absent(join(dir, kActiveBundleName), Errc::install_failed);
  refuse_unless_regular_or_absent(join(dir, kPreviousBundleName), Errc::install_failed);

  // 2. Copy into DIR and check the copy.
  TempFile incoming;
  copy_into(bundle_path, dir, incoming, on_step);
  step(on_step, "copied");
  check_copy(incoming.path, bundle_path, key, source_digest);
  step(on_step, "copy-verified");

  // 3. Keep the current bundle as previous.db without ever moving active.db away.
  const std::string active = join(dir, kActiveBundleName);
  const std::string previous = join(dir, kPreviousBundleName);
  const std::string previous_tmp = join(dir, kPreviousTmpName);
  if (exists(active)) {
    ::unlink(previous_tmp.c_str());
    if (::link(active.c_str(), previous_tmp.c_str()) != 0) {
      install_failed("cannot keep the current bundle as " + previous + " (hard link in " + dir +
                         "; the folder must be on a Linux file system such as ext4)",
                     errno);
    }
    step(on_step, "previous-linked");
    if (::rename(previous_tmp.c_str(), previous.c_str()) != 0) {
      int err = errno;
      ::unlink(previous_tmp.c_str());
      install_failed("cannot keep the current bundle as " + previous, err);
    }
    // When previous.db already was a second name of active.db (an install stopped right here),
    // rename(2) does nothing and leaves the temp name behind.
    ::unlink(previous_tmp.c_str());
    step(on_step, "previous-replaced");
    fsync_dir(dir, false);
    result.previous_kept = true;
    result.previous_path = previous;
  }

  // 4. The one step that changes what the daemon sees: an atomic replace of active.db.
  remove_stale_sidecars(active);
  if (::rename(incoming.path.c_str(), active.c_str()) != 0) {
    install_failed("cannot make the new bundle " + active, errno);
  }
  incoming.keep();
  step(on_step, "active-replaced");
  fsync_dir(dir, true);
  step(on_step, "synced");

  result.active_path = active;
  result.digest = source_digest;
  return result;
}

InstallResult rollback_bundle(const std::string& dir, const InstallStepHook& on_step) {
  const std::string active = join(dir, kActiveBundleName);
  const std::string previous = join(dir, kPreviousBundleName);
  const std::string previous_tmp = join(dir, kPreviousTmpName);
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    throw RouteError(Errc::nothing_to_roll_back,
                     "no route bundle is installed in " + dir + ": nothing to roll back to");
  }
  InstallResult result;
  DirLock lock(dir);
  step(on_step, "locked");
  result.leftovers_removed = remove_leftovers(dir);
  step(on_step, "leftovers-removed");
  refuse_unless_regular_or_absent(active, Errc::install_failed);
  refuse_unless_regular_or_absent(previous, Errc::install_failed);

  if (!exists(previous)) {
    throw RouteError(Errc::nothing_to_roll_back,
                     "there is no previous route bundle (" + previous + ") to roll back to");
  }
  struct stat active_st {
  }, previous_st{};
  if (::stat(active.c_str(), &active_st) == 0 && ::stat(previous.c_str(), &previous_st) == 0 &&
      active_st.st_dev == previous_st.st_dev && active_st.st_ino == previous_st.st_ino) {
    throw RouteError(Errc::nothing_to_roll_back,
                     previous + " is the bundle that is already active: nothing to roll back to");
  }
  {
    sql::Db db = open_bundle_checked(previous);
    check_version(db, previous);
    result.digest = digest_of(db, previous);
  }
  step(on_step, "previous-checked");

  if (exists(active)) {
    ::unlink(previous_tmp.c_str());
    if (::link(active.c_str(), previous_tmp.c_str()) != 0) {
      install_failed("cannot keep the current bundle while rolling back (hard link in " + dir + ")",
                     errno);
    }
    step(on_step, "active-linked");
    remove_stale_sidecars(active);
    if (::rename(previous.c_str(), active.c_str()) != 0) {
      int err = errno;
      ::unlink(previous_tmp.c_str());
      install_failed("cannot make " + previous + " active", err);
    }
    step(on_step, "active-replaced");
    if (::rename(previous_tmp.c_str(), previous.c_str()) != 0) {
      install_failed("rolled back, but the replaced bundle could not be kept as " + previous +
                         " (it is kept as " + previous_tmp + ")",
                     errno, false);
    }
    step(on_step, "previous-replaced");
    result.previous_kept = true;
    result.previous_path = previous;
  } else {
    if (::rename(previous.c_str(), active.c_str()) != 0) {
      install_failed("cannot make " + previous + " active", errno);
    }
    step(on_step, "active-replaced");
  }
  fsync_dir(dir, true);
  step(on_step, "synced");
  result.active_path = active;
  return result;
}

}  // namespace stopcall::routes
