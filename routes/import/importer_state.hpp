// Inside the GTFS importer (routes/importer.hpp): what every table's reader shares, and which
// file reads which tables. Each reader checks its rows against the import policy in
// routes/README.md, writes them to the bundle and keeps the little the later tables check
// against (ids, positions, which trip first uses what); cross-table decisions wait until every
// trip has been read.
//
//   importer_run.cpp        the order of the tables, reading rows (each_row), the depends-on-use
//                           rule, unused records, feed_info, our extra data, bundle_meta
//   agency_routes.cpp       agency.txt, routes.txt
//   stops.cpp               stops.txt (parent stations, two stops at one place)
//   calendar.cpp            calendar.txt, calendar_dates.txt
//   shapes.cpp              shapes.txt, and writing every shape (given or derived) to the bundle
//   trips.cpp               trips.txt, frequencies.txt, stop_times.txt
//   patterns.cpp            ordering and checking each trip's stop times, patterns, stops placed
//                           along their shape, the trips table
//   translations.cpp        translations.txt, in either form
// The bundle file around it (written aside, renamed into place) is routes/importer.cpp.
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "routes/feed_source.hpp"
#include "routes/importer.hpp"
#include "routes/model.hpp"
#include "routes/problem.hpp"
#include "routes/sqlite.hpp"
#include "routes/table_reader.hpp"

namespace stopcall::routes::gtfs_import {

constexpr std::uint32_t kNone = UINT32_MAX;

// ---- in-memory index of what has been read ---------------------------------------------------

struct StopRec {
  std::string id;
  std::optional<LatLon> position;  // unset: none, or not a valid one
  int location_type = 0;
  std::string parent;
  std::uint64_t line = 0;
  std::uint32_t served_by = kNone;  // the first trip (index) whose stop_times name this stop
  std::uint32_t served_line = 0;    // ...on this line of stop_times.txt
  bool station_warned = false;
};

struct StopTimeRec {
  int sequence;
  std::uint32_t stop;
  int arrival;    // -1 when empty
  int departure;  // -1 when empty
  std::uint32_t line;
  std::uint32_t rowid;  // of the stop_times row, to correct it in place
};

struct TripRec {
  std::string id, route_id, service_id, headsign, short_name, block_id, shape_id;
  std::optional<int> direction_id;
  std::uint64_t line = 0;
  std::vector<StopTimeRec> stop_times;
};

struct ShapePt {
  long sequence;
  double lat, lon;
  std::uint64_t line;
};

// A record (stop, route, service) a problem belongs to, when whether it is an error depends on
// whether a trip uses the record.
enum class Record { stop, route, service };

// A problem that only matters if a trip uses its record: an error then (the bus would announce or
// show it wrong, or not at all), a warning otherwise, saying what was done.
struct IfUsed {
  Record record;
  std::string id;
  Problem problem;        // severity decided once every trip has been read
  std::string if_unused;  // the action when no trip uses the record
  bool quiet_if_unused = false;
};

// ---- the importer ----------------------------------------------------------------------------

class Importer {
 public:
  Importer(const ImportOptions& options, ImportReport& report)
      : opt_(options), problems_(report.problems), counts_(report.counts) {
    problems_.set_strict(options.strict);
  }

  // Returns true when the bundle at `db_path` is complete and error-free.
  bool run(const std::string& db_path);

 private:
  // ---- reading rows and the depends-on-use rule (importer_run.cpp) ----

  static constexpr const char* kRequiredFiles[] = {"agency.txt", "stops.txt", "routes.txt",
                                                   "trips.txt", "stop_times.txt"};

  bool check_required_files();
  void each_row(const std::string& file, std::initializer_list<std::string_view> required,
                std::initializer_list<std::string_view> optional,
                const std::function<void(TableReader&)>& row);
  void if_used(Record record, std::string id, Problem problem, std::string if_unused,
               bool quiet_if_unused = false);
  void resolve_if_used();
  void warn_unused();
  void read_feed_info();
  void read_extra();
  void write_meta();

  // ---- the tables (one file each, see above) ----

  void read_agency();
  void read_routes();
  void read_stops();
  void warn_stops_at_same_place();
  void read_calendars();
  void read_shapes();
  void write_shape(const std::string& id, const std::vector<LatLon>& points, bool derived);
  void read_trips();
  void read_frequencies();
  void read_stop_times();
  void build_patterns_and_trips();
  bool check_times(TripRec& trip);
  void read_translations();
  bool record_exists(std::string_view table, std::string_view id) const;

  const ImportOptions& opt_;
  Problems& problems_;
  ImportCounts& counts_;
  std::unique_ptr<FeedSource> feed_;
  sql::Db db_;
  std::optional<sql::Stmt> insert_shape_, fix_time_;
  bool unreliable_ = false;  // a file could not be read: skip cross-file checks
  std::map<std::string, std::string> meta_;
  std::string feed_lang_;
  std::set<std::string> languages_;
  std::unordered_set<std::string> agencies_, agencies_named_, routes_, services_;
  std::vector<std::pair<std::string, std::uint64_t>> route_rows_;           // route_id, line
  std::unordered_map<std::string, std::uint32_t> route_use_, service_use_;  // id -> first trip
  std::vector<StopRec> stops_;
  std::unordered_map<std::string, std::uint32_t> stop_index_;
  std::vector<TripRec> trips_;
  std::unordered_map<std::string, std::uint32_t> trip_index_;
  std::map<std::string, std::vector<ShapePt>> shape_points_;
  std::unordered_set<std::string> broken_shapes_, shapes_named_, used_shapes_;
  std::vector<IfUsed> if_used_;
};

}  // namespace stopcall::routes::gtfs_import
