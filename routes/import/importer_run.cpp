// The order of the tables, reading rows under the row-shape policy, the depends-on-use rule,
// records no trip uses, feed_info.txt, our extra data and bundle_meta (importer_state.hpp).
#include <algorithm>
#include <chrono>
#include <ctime>
#include <filesystem>

#include "routes/extra_data.hpp"
#include "routes/import/importer_state.hpp"
#include "routes/schema.hpp"

namespace stopcall::routes::gtfs_import {

namespace fs = std::filesystem;

namespace {

std::string now_iso8601() {
  auto t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  char buf[32];
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

// Returns true when the bundle at `db_path` is complete and error-free.
bool Importer::run(const std::string& db_path) {
  try {
    feed_ = FeedSource::open(opt_.feed, opt_.limits);
  } catch (const RouteError& e) {
    problems_.error(opt_.feed, 0, "", "", e.what());
    return false;
  }
  if (!check_required_files()) return false;

  db_ = sql::Db(db_path, sql::Db::Mode::create);
  // The file is private until renamed into place, so durability during the load buys nothing:
  // the whole file is fsynced once at the end.
  // A 32 MiB page cache: the load only appends, and the index sorter works in chunks of the
  // cache's size, which sort faster than one big chunk (tools/bench, 2.4 M stop_times: 5 % less
  // CPU and 100 MB less peak RSS than with 128 MiB, and the same bundle bytes).
  db_.exec(
      "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA locking_mode=EXCLUSIVE;"
      "PRAGMA temp_store=MEMORY; PRAGMA cache_size=-32768;");
  db_.exec(std::string(kSchemaTables));
  db_.exec("BEGIN");

  try {
    read_feed_info();
    read_agency();
    read_stops();
    read_routes();
    read_calendars();
    read_shapes();
    read_trips();
    read_frequencies();
    read_stop_times();
    build_patterns_and_trips();
    resolve_if_used();
    warn_unused();
    read_translations();
    if (!opt_.extra_dir.empty()) read_extra();
    write_meta();
  } catch (const RouteError& e) {
    problems_.error(opt_.feed, 0, "", "", e.what());
  }
  if (problems_.has_errors()) {
    db_.exec("ROLLBACK");
    db_.close();
    return false;
  }
  db_.exec(std::string(kSchemaIndexes));
  db_.exec("COMMIT");
  db_.exec("PRAGMA journal_mode=DELETE; ANALYZE;");
  db_.exec("PRAGMA user_version=" + std::to_string(kSchemaVersion));
  db_.close();
  return true;
}

bool Importer::check_required_files() {
  std::vector<std::string> missing;
  for (auto f : kRequiredFiles) {
    if (!feed_->has(f)) missing.push_back(f);
  }
  if (!feed_->has("calendar.txt") && !feed_->has("calendar_dates.txt")) {
    missing.push_back("calendar.txt or calendar_dates.txt");
  }
  if (missing.size() == std::size(kRequiredFiles) + 1) {
    auto files = feed_->files();
    std::string found;
    for (const auto& f : files)
      found += (found.empty() ? "" : ", ") + f;
    problems_.error(opt_.feed, 0, "", "",
                    "not a GTFS feed: none of agency.txt, stops.txt, routes.txt, trips.txt, "
                    "stop_times.txt, calendar.txt is present (found: " +
                        (found.empty() ? std::string("nothing") : found) + ")");
    return false;
  }
  for (const auto& f : missing) {
    problems_.error(f, 0, "", "", "required file is missing from the feed");
  }
  return missing.empty();
}

// Calls row(table) for each row of `file`, read under the row-shape policy of TableReader.
// An empty required file, a missing required column and unreadable bytes are errors; the rest
// of a file is not read past a byte-level error.
void Importer::each_row(const std::string& file, std::initializer_list<std::string_view> required,
                        std::initializer_list<std::string_view> optional,
                        const std::function<void(TableReader&)>& row) {
  if (!feed_->has(file)) return;
  auto stream = feed_->open_file(file);
  try {
    TableReader table(*stream, file, opt_.limits.max_record_bytes, problems_);
    if (table.empty()) {
      if (std::find(std::begin(kRequiredFiles), std::end(kRequiredFiles), file) !=
          std::end(kRequiredFiles)) {
        problems_.error(file, 0, "", "", "the file is empty (not even a header line)");
        unreliable_ = true;
      } else {
        problems_.warning(file, 0, "", "", "the file is empty (not even a header line)", "ignored");
      }
      return;
    }
    if (!table.columns(required, optional)) {
      unreliable_ = true;
      return;
    }
    // Once a file could not be read, rows of later files are only scanned for their own
    // unreadable bytes: checking them against half-read data would bury the real problem
    // under a cascade of "not found" errors.
    if (unreliable_) {
      table.skip_rest();
      return;
    }
    while (table.next())
      row(table);
    table.finish();
  } catch (const CsvError& e) {
    problems_.error(file, e.line(), "", "", e.what());
    unreliable_ = true;
  }
}

void Importer::if_used(Record record, std::string id, Problem problem, std::string if_unused,
                       bool quiet_if_unused) {
  if_used_.push_back(
      {record, std::move(id), std::move(problem), std::move(if_unused), quiet_if_unused});
}

// Every problem whose weight depends on use: an error where a trip uses the record, naming the
// first such trip, a warning otherwise.
void Importer::resolve_if_used() {
  if (unreliable_) return;  // which trips use what is not known
  for (auto& c : if_used_) {
    std::string use;
    switch (c.record) {
      case Record::stop: {
        const auto& s = stops_[stop_index_.at(c.id)];
        if (s.served_by != kNone) {
          use = "trip " + trips_[s.served_by].id +
                " serves it (stop_times.txt:" + std::to_string(s.served_line) + ")";
        }
        break;
      }
      case Record::route:
      case Record::service: {
        auto& uses = c.record == Record::route ? route_use_ : service_use_;
        auto it = uses.find(c.id);
        if (it != uses.end()) {
          const auto& t = trips_[it->second];
          use = "trip " + t.id + (c.record == Record::route ? " runs it" : " runs on it") +
                " (trips.txt:" + std::to_string(t.line) + ")";
        }
        break;
      }
    }
    if (!use.empty()) {
      c.problem.severity = Severity::error;
      c.problem.message += "; " + use;
    } else if (c.quiet_if_unused) {
      continue;
    } else {
      c.problem.severity = Severity::warning;
      c.problem.action = c.if_unused;
    }
    problems_.add(std::move(c.problem));
  }
  if_used_.clear();
}

// Records no trip uses: the feed's own data, kept, but someone may want to know.
void Importer::warn_unused() {
  if (unreliable_) return;
  for (const auto& [id, line] : route_rows_) {
    if (!route_use_.contains(id)) {
      problems_.warning("routes.txt", line, "route_id", id, "no trip runs route " + id, "kept");
    }
  }
  for (const auto& [id, pts] : shape_points_) {
    if (!shapes_named_.contains(id)) {
      problems_.warning("shapes.txt", pts.empty() ? 0 : pts.front().line, "shape_id", id,
                        "no trip runs on shape " + id, "kept");
    }
  }
  bool unnamed_routes = agencies_named_.size() < static_cast<std::size_t>(counts_.routes);
  if (agencies_.size() > 1 || !unnamed_routes) {
    auto q = db_.prepare("SELECT agency_id, src_line FROM agency ORDER BY src_line");
    while (q.step()) {
      auto id = q.text(0);
      if (!agencies_named_.contains(id)) {
        problems_.warning("agency.txt", static_cast<std::uint64_t>(q.int64(1)), "agency_id", id,
                          "no route names agency " + id, "kept");
      }
    }
  }
}

void Importer::read_feed_info() {
  each_row("feed_info.txt", {},
           {"feed_publisher_name", "feed_lang", "feed_version", "default_lang"},
           [&](TableReader& r) {
             meta_["feed_publisher"] = r["feed_publisher_name"];
             meta_["feed_version"] = r["feed_version"];
             feed_lang_ = r["feed_lang"];
           });
}

void Importer::read_extra() {
  ExtraData extra;
  extra.dir = opt_.extra_dir;
  extra.limits = opt_.limits;
  extra.stop_exists = [&](std::string_view id) { return stop_index_.contains(std::string(id)); };
  extra.route_exists = [&](std::string_view id) { return routes_.contains(std::string(id)); };
  auto counts = read_extra_data(extra, db_, problems_);
  counts_.stop_phrases = counts.stop_phrases;
  counts_.clips = counts.clips;
  counts_.message_presets = counts.message_presets;
}

void Importer::write_meta() {
  if (feed_lang_.empty()) feed_lang_ = "und";
  languages_.insert(feed_lang_);
  std::string langs;
  for (const auto& l : languages_)
    langs += (langs.empty() ? "" : ",") + l;
  meta_["feed_lang"] = feed_lang_;
  meta_["languages"] = langs;
  meta_["imported_at"] = now_iso8601();
  meta_["source"] = fs::path(opt_.feed).filename().string();
  meta_["schema_version"] = std::to_string(kSchemaVersion);
  auto insert = db_.prepare("INSERT OR REPLACE INTO bundle_meta(key,value) VALUES(?,?)");
  for (const auto& [k, v] : meta_)
    insert.bind(1, k).bind(2, v).run();
}

}  // namespace stopcall::routes::gtfs_import
