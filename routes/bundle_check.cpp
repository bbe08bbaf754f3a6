#include "routes/bundle_check.hpp"

#include <cmath>
#include <filesystem>

#include "routes/schema.hpp"
#include "routes/sqlite.hpp"

namespace stopcall::routes {

Problems check_bundle(const std::string& path, double max_stop_offset_m) {
  Problems problems;
  const std::string file = std::filesystem::path(path).filename().string();
  if (!std::filesystem::is_regular_file(path)) {
    problems.error(file, 0, "", "", "no such route bundle");
    return problems;
  }
  try {
    sql::Db db(path, sql::Db::Mode::read_only);
    auto quick = db.prepare("PRAGMA quick_check");
    if (!quick.step() || quick.text_view(0) != "ok") {
      problems.error(file, 0, "", quick.text(0), "the SQLite file is damaged");
      return problems;
    }
    int version = db.user_version();
    if (version != kSchemaVersion) {
      problems.error(file, 0, "user_version", std::to_string(version),
                     "unsupported bundle schema version (this stopcall reads " +
                         std::to_string(kSchemaVersion) + "); re-import the feed");
      return problems;
    }
    // Each check: a query whose rows are problems (src_line, value, message).
    struct Check {
      Severity severity;
      const char* file;
      const char* field;
      const char* sql;
    };
    static const Check kChecks[] = {
        {Severity::error, "trips.txt", "route_id",
         "SELECT src_line, route_id, 'trip ' || trip_id || ' names a missing route' FROM trips "
         "WHERE route_id NOT IN (SELECT route_id FROM routes)"},
        {Severity::error, "stop_times.txt", "stop_id",
         "SELECT src_line, stop_id, 'not a stop in the bundle' FROM stop_times "
         "WHERE stop_id NOT IN (SELECT stop_id FROM stops)"},
        {Severity::error, "stop_times.txt", "trip_id",
         "SELECT src_line, trip_id, 'not a trip in the bundle' FROM stop_times "
         "WHERE trip_id NOT IN (SELECT trip_id FROM trips)"},
        {Severity::error, "trips.txt", "shape_id",
         "SELECT src_line, shape_id, 'trip ' || trip_id || ' has no shape' FROM trips "
         "WHERE shape_id IS NULL OR shape_id NOT IN (SELECT shape_id FROM shapes)"},
        {Severity::error, "trips.txt", "trip_id",
         "SELECT t.src_line, t.trip_id, 'stop times do not match the trip''s stop pattern' "
         "FROM trips t JOIN patterns p USING(pattern_id) WHERE p.stop_count <> "
         "(SELECT count(*) FROM stop_times st WHERE st.trip_id=t.trip_id)"},
        // A stop no trip serves is never announced: the import keeps it with a warning.
        {Severity::error, "stops.txt", "stop_lat",
         "SELECT src_line, stop_id, 'stop has no valid position, and a trip serves it' FROM stops "
         "WHERE stop_id IN (SELECT stop_id FROM pattern_stops) AND (lat IS NULL OR lon IS NULL OR "
         "lat NOT BETWEEN -90 AND 90 OR lon NOT BETWEEN -180 AND 180)"},
        {Severity::error, "stops.txt", "stop_name",
         "SELECT src_line, stop_id, 'stop has no name to announce, and a trip serves it' FROM "
         "stops WHERE stop_id IN (SELECT stop_id FROM pattern_stops) AND (name IS NULL OR "
         "name='')"},
        {Severity::warning, "stops.txt", "stop_lat",
         "SELECT src_line, stop_id, 'stop has no valid position; no trip serves it' FROM stops "
         "WHERE location_type=0 AND stop_id NOT IN (SELECT stop_id FROM pattern_stops) AND "
         "(lat IS NULL OR lon IS NULL OR lat NOT BETWEEN -90 AND 90 OR "
         "lon NOT BETWEEN -180 AND 180)"},
    };
    for (const auto& check : kChecks) {
      auto q = db.prepare(check.sql);
      while (q.step()) {
        problems.add({check.severity, check.file, static_cast<std::uint64_t>(q.int64(0)),
                      check.field, q.text(1), q.text(2)});
      }
    }
    auto far = db.prepare(
        "SELECT ps.stop_id, ps.offset_m, p.shape_id, s.src_line FROM pattern_stops ps "
        "JOIN patterns p USING(pattern_id) JOIN stops s USING(stop_id) WHERE ps.offset_m > ?");
    far.bind(1, max_stop_offset_m);
    while (far.step()) {
      problems.warning(
          "stops.txt", static_cast<std::uint64_t>(far.int64(3)), "stop_id", far.text(0),
          "stop is " + std::to_string(static_cast<long>(std::lround(far.real(1)))) +
              " m from shape " + far.text(2) + ": announcements at this stop would be mistimed");
    }
    auto sig = db.prepare("SELECT count(*) FROM sqlite_schema WHERE name=?");
    sig.bind(1, kSignatureTable);
    sig.step();
    if (sig.integer(0) == 0) {
      problems.warning(file, 0, "", "",
                       "the bundle is not signed; a bus will refuse to install it");
    }
  } catch (const sql::Error& e) {
    problems.error(file, 0, "", "", std::string("not a usable route bundle: ") + e.what());
  }
  return problems;
}

}  // namespace stopcall::routes
