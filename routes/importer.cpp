// The bundle file around an import: written aside under a private name, renamed into place only
// when the whole feed imported without errors. The tables are read in routes/import/.
#include "routes/importer.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <string>
#include <system_error>

#include "routes/gtfs_values.hpp"
#include "routes/import/importer_state.hpp"
#include "routes/output_path.hpp"
#include "routes/sqlite.hpp"

namespace stopcall::routes {

namespace fs = std::filesystem;

namespace {

void fsync_path(const fs::path& path, bool directory) {
  int fd = ::open(path.c_str(), directory ? O_RDONLY | O_DIRECTORY : O_RDONLY);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

// Removes OUT.partial-PID files left by imports that were killed (their PID no longer runs).
void remove_dead_partials(const fs::path& out) {
  std::error_code ec;
  const std::string prefix = out.filename().string() + ".partial-";
  for (const auto& entry : fs::directory_iterator(out.parent_path(), ec)) {
    std::string name = entry.path().filename().string();
    if (!name.starts_with(prefix)) continue;
    auto pid = gtfs::parse_int(std::string_view(name).substr(prefix.size()));
    if (pid && *pid > 0 && ::kill(static_cast<pid_t>(*pid), 0) != 0 && errno == ESRCH) {
      fs::remove(entry.path(), ec);
    }
  }
}

}  // namespace

ImportReport import_feed(const ImportOptions& options) {
  ImportReport report;
  fs::path out = fs::absolute(options.output);
  refuse_unless_regular_or_absent(out.string(), Errc::bundle_unwritable);
  // Written aside under a name nobody opens, renamed into place only when complete: a failed or
  // killed import never leaves a bundle that looks usable, and never touches an existing one.
  fs::path partial = out;
  partial += ".partial-" + std::to_string(::getpid());
  std::error_code ec;
  remove_dead_partials(out);
  fs::remove(partial, ec);
  bool ok = false;
  try {
    gtfs_import::Importer importer(options, report);
    ok = importer.run(partial.string());
  } catch (const sql::Error& e) {
    fs::remove(partial, ec);
    throw RouteError(Errc::bundle_unwritable, "cannot write " + out.string() + ": " + e.what());
  } catch (...) {
    fs::remove(partial, ec);
    throw;
  }
  if (!ok) {
    fs::remove(partial, ec);
    return report;
  }
  fsync_path(partial, false);
  try {
    refuse_unless_regular_or_absent(out.string(), Errc::bundle_unwritable);  // made meanwhile?
  } catch (...) {
    fs::remove(partial, ec);
    throw;
  }
  fs::rename(partial, out, ec);
  if (ec) {
    fs::remove(partial, ec);
    throw RouteError(Errc::bundle_unwritable, "cannot write " + out.string() + ": " + ec.message());
  }
  fsync_path(out.parent_path(), true);
  report.written = true;
  return report;
}

ImportReport validate_feed(const std::string& feed, const std::string& extra_dir, bool strict) {
  auto dir = fs::temp_directory_path() / ("stopcall-validate-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  ImportOptions options;
  options.feed = feed;
  options.extra_dir = extra_dir;
  options.strict = strict;
  options.output = (dir / "bundle.db").string();
  ImportReport report;
  try {
    report = import_feed(options);
  } catch (...) {
    std::error_code ec;
    fs::remove_all(dir, ec);
    throw;
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
  report.written = false;
  return report;
}

}  // namespace stopcall::routes
