#include "routes/importer.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <functional>
#include <map>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "routes/extra_data.hpp"
#include "routes/geo.hpp"
#include "routes/gtfs_values.hpp"
#include "routes/output_path.hpp"
#include "routes/schema.hpp"
#include "routes/sqlite.hpp"
#include "routes/table_reader.hpp"

namespace stopcall::routes {

namespace fs = std::filesystem;

namespace {

using gtfs::format_time;
using gtfs::parse_double;
using gtfs::parse_int;
using gtfs::parse_time;
using gtfs::valid_date;

std::string now_iso8601() {
  auto t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  char buf[32];
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

void fsync_path(const fs::path& path, bool directory) {
  int fd = ::open(path.c_str(), directory ? O_RDONLY | O_DIRECTORY : O_RDONLY);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

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
  bool run(const std::string& db_path) {
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

 private:
  // ---- reading helpers ----

  static constexpr const char* kRequiredFiles[] = {"agency.txt", "stops.txt", "routes.txt",
                                                   "trips.txt", "stop_times.txt"};

  bool check_required_files() {
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
  void each_row(const std::string& file, std::initializer_list<std::string_view> required,
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
          problems_.warning(file, 0, "", "", "the file is empty (not even a header line)",
                            "ignored");
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

  void if_used(Record record, std::string id, Problem problem, std::string if_unused,
               bool quiet_if_unused = false) {
    if_used_.push_back(
        {record, std::move(id), std::move(problem), std::move(if_unused), quiet_if_unused});
  }

  // ---- files ----

  void read_feed_info() {
    each_row("feed_info.txt", {},
             {"feed_publisher_name", "feed_lang", "feed_version", "default_lang"},
             [&](TableReader& r) {
               meta_["feed_publisher"] = r["feed_publisher_name"];
               meta_["feed_version"] = r["feed_version"];
               feed_lang_ = r["feed_lang"];
             });
  }

  void read_agency() {
    auto insert = db_.prepare(
        "INSERT INTO agency(agency_id,name,url,timezone,lang,src_line) VALUES(?,?,?,?,?,?)");
    each_row("agency.txt", {"agency_name", "agency_url", "agency_timezone"},
             {"agency_id", "agency_lang"}, [&](TableReader& r) {
               std::string id(r["agency_id"]);
               auto name = r.need("agency_name");
               r.need("agency_timezone");
               if (!agencies_.insert(id).second) {
                 problems_.warning(
                     "agency.txt", r.line(), "agency_id", id,
                     id.empty() ? "several agencies without an agency_id" : "duplicate agency_id",
                     "this row is ignored");
                 return;
               }
               if (feed_lang_.empty()) feed_lang_ = r["agency_lang"];
               insert.bind(1, id).bind(2, name).bind(3, r["agency_url"]);
               insert.bind(4, r["agency_timezone"]).bind(5, r["agency_lang"]);
               insert.bind(6, static_cast<std::int64_t>(r.line())).run();
               ++counts_.agencies;
             });
    if (counts_.agencies == 0 && !problems_.has_errors()) {
      problems_.error("agency.txt", 0, "", "", "no agency in the feed");
    }
  }

  void read_stops() {
    auto insert = db_.prepare(
        "INSERT INTO stops(stop_id,code,name,tts_name,lat,lon,location_type,parent_station,"
        "wheelchair_boarding,src_line) VALUES(?,?,?,?,?,?,?,?,?,?)");
    auto insert_rtree = db_.prepare("INSERT INTO stops_rtree VALUES(?,?,?,?,?)");
    const std::string file = "stops.txt";
    each_row(
        file, {"stop_id"},
        {"stop_code", "stop_name", "tts_stop_name", "stop_lat", "stop_lon", "location_type",
         "parent_station", "wheelchair_boarding"},
        [&](TableReader& r) {
          StopRec s;
          s.id = r.need("stop_id");
          s.line = r.line();
          if (s.id.empty()) return;
          auto [it, fresh] = stop_index_.emplace(s.id, static_cast<std::uint32_t>(stops_.size()));
          if (!fresh) {
            if_used(Record::stop, s.id,
                    {Severity::error, file, r.line(), "stop_id", s.id,
                     "duplicate stop_id (first on line " + std::to_string(stops_[it->second].line) +
                         "): which of the two a trip means is a guess"},
                    "no trip serves it; this row is ignored");
            return;
          }
          auto lt = r["location_type"];
          if (!lt.empty()) {
            auto v = parse_int(lt);
            if (!v || *v < 0 || *v > 4) {
              problems_.warning(file, r.line(), "location_type", std::string(lt), "must be 0 to 4",
                                "read as 0 (a stop)");
            } else {
              s.location_type = static_cast<int>(*v);
            }
          }
          // Stops, stations and entrances have a place; generic nodes and boarding areas may not.
          bool located = s.location_type <= 2;
          auto lat_text = r["stop_lat"], lon_text = r["stop_lon"];
          if (!lat_text.empty() || !lon_text.empty() || located) {
            auto lat = parse_double(lat_text), lon = parse_double(lon_text);
            if (!lat || *lat < -90 || *lat > 90) {
              if_used(Record::stop, s.id,
                      {Severity::error, file, r.line(), "stop_lat", std::string(lat_text),
                       lat_text.empty() ? "stop " + s.id + " has no latitude"
                                        : "latitude must be a number from -90 to 90"},
                      "no trip serves stop " + s.id + "; kept without a position");
            } else if (!lon || *lon < -180 || *lon > 180) {
              if_used(Record::stop, s.id,
                      {Severity::error, file, r.line(), "stop_lon", std::string(lon_text),
                       lon_text.empty() ? "stop " + s.id + " has no longitude"
                                        : "longitude must be a number from -180 to 180"},
                      "no trip serves stop " + s.id + "; kept without a position");
            } else if (*lat == 0 && *lon == 0) {
              if_used(Record::stop, s.id,
                      {Severity::error, file, r.line(), "stop_lat", "0,0",
                       "stop " + s.id + " is at 0,0: the position is missing"},
                      "no trip serves it; kept");
              s.position = LatLon{0, 0};
            } else {
              s.position = LatLon{*lat, *lon};
            }
          }
          auto name = r["stop_name"];
          if (name.empty()) {
            if_used(Record::stop, s.id,
                    {Severity::error, file, r.line(), "stop_name", "",
                     "stop " + s.id + " has no name to announce"},
                    "no trip serves it; kept", !located);
          }
          auto wb = r["wheelchair_boarding"];
          long wheelchair = 0;
          if (!wb.empty()) {
            auto v = parse_int(wb);
            if (!v || *v < 0 || *v > 2) {
              problems_.warning(file, r.line(), "wheelchair_boarding", std::string(wb),
                                "must be 0, 1 or 2", "read as 0 (unknown)");
            } else {
              wheelchair = *v;
            }
          }
          s.parent = r["parent_station"];
          insert.bind(1, s.id).bind(2, r["stop_code"]).bind(3, name);
          auto tts = r["tts_stop_name"];
          if (!tts.empty()) insert.bind(4, tts);
          if (s.position) insert.bind(5, s.position->lat).bind(6, s.position->lon);
          insert.bind(7, s.location_type);
          if (!s.parent.empty()) insert.bind(8, s.parent);
          insert.bind(9, static_cast<std::int64_t>(wheelchair));
          insert.bind(10, static_cast<std::int64_t>(r.line())).run();
          if (s.position) {
            insert_rtree.bind(1, db_.last_insert_rowid())
                .bind(2, s.position->lat)
                .bind(3, s.position->lat)
                .bind(4, s.position->lon)
                .bind(5, s.position->lon)
                .run();
          }
          stops_.push_back(std::move(s));
          ++counts_.stops;
        });
    if (unreliable_) return;
    // A parent station only groups platforms: one cut away (public extracts crop feeds to an area)
    // changes no announcement. The link is dropped; the stop stays a stop.
    auto drop_parent = db_.prepare("UPDATE stops SET parent_station=NULL WHERE stop_id=?");
    for (auto& s : stops_) {
      if (!s.parent.empty() && !stop_index_.contains(s.parent)) {
        problems_.warning(file, s.line, "parent_station", s.parent,
                          "stop " + s.id + " names a parent station that is not in stops.txt",
                          "link dropped, " + s.id + " stays a stop");
        drop_parent.bind(1, s.id).run();
        s.parent.clear();
      }
    }
    warn_stops_at_same_place();
  }

  // Two boarding points within 2 m are one stop with two ids: riders would hear two names.
  void warn_stops_at_same_place() {
    std::vector<const StopRec*> located;
    for (const auto& s : stops_) {
      if (s.position && s.location_type == 0) located.push_back(&s);
    }
    std::sort(located.begin(), located.end(),
              [](auto a, auto b) { return a->position->lat < b->position->lat; });
    constexpr double kSamePlaceM = 2.0;
    const double lat_window = kSamePlaceM / (geo::kEarthRadiusM * geo::kDegToRad);
    for (std::size_t i = 0; i < located.size(); ++i) {
      for (std::size_t j = i + 1;
           j < located.size() &&
           located[j]->position->lat - located[i]->position->lat <= lat_window;
           ++j) {
        double d = geo::distance_m(*located[i]->position, *located[j]->position);
        if (d <= kSamePlaceM) {
          const StopRec* first = located[i]->line < located[j]->line ? located[i] : located[j];
          const StopRec* second = first == located[i] ? located[j] : located[i];
          char dist[32];
          std::snprintf(dist, sizeof dist, "%.1f", d);
          problems_.warning("stops.txt", second->line, "stop_id", second->id,
                            "stops " + first->id + " and " + second->id +
                                " are at the same place (" + dist +
                                " m apart): one stop with two ids?",
                            "both kept");
        }
      }
    }
  }

  void read_routes() {
    auto insert = db_.prepare(
        "INSERT INTO routes(route_id,agency_id,short_name,long_name,type,color,text_color,src_line)"
        " VALUES(?,?,?,?,?,?,?,?)");
    const std::string file = "routes.txt";
    each_row(
        file, {"route_id", "route_type"},
        {"agency_id", "route_short_name", "route_long_name", "route_color", "route_text_color"},
        [&](TableReader& r) {
          std::string id(r.need("route_id"));
          if (id.empty()) return;
          if (!routes_.insert(id).second) {
            if_used(Record::route, id,
                    {Severity::error, file, r.line(), "route_id", id,
                     "duplicate route_id: which of the two a trip runs is a guess"},
                    "no trip runs it; this row is ignored");
            return;
          }
          auto type_text = r["route_type"];
          auto type = parse_int(type_text);
          if (!type || *type < 0) {
            problems_.warning(file, r.line(), "route_type", std::string(type_text),
                              "must be a GTFS route type number", "read as 3 (bus)");
            type = 3;
          }
          auto short_name = r["route_short_name"];
          auto long_name = r["route_long_name"];
          if (short_name.empty() && long_name.empty()) {
            if_used(Record::route, id,
                    {Severity::error, file, r.line(), "route_short_name", "",
                     "route " + id + " has neither a short nor a long name to announce"},
                    "no trip runs it; kept");
          }
          std::string agency(r["agency_id"]);
          if (!agency.empty() && !agencies_.contains(agency)) {
            // The agency is neither announced nor shown.
            problems_.warning(file, r.line(), "agency_id", agency, "not an agency_id in agency.txt",
                              "link dropped");
            agency.clear();
          } else if (agency.empty() && agencies_.size() > 1) {
            problems_.warning(file, r.line(), "agency_id", "",
                              "the feed has several agencies: route " + id + " names none",
                              "kept without an agency");
          }
          if (!agency.empty()) agencies_named_.insert(agency);
          insert.bind(1, id).bind(2, agency).bind(3, short_name).bind(4, long_name);
          insert.bind(5, static_cast<std::int64_t>(*type)).bind(6, r["route_color"]);
          insert.bind(7, r["route_text_color"]);
          insert.bind(8, static_cast<std::int64_t>(r.line())).run();
          route_rows_.emplace_back(id, r.line());
          ++counts_.routes;
        });
  }

  void read_calendars() {
    auto insert =
        db_.prepare("INSERT INTO calendar(service_id,days,start_date,end_date) VALUES(?,?,?,?)");
    static const char* const kDays[] = {"monday", "tuesday",  "wednesday", "thursday",
                                        "friday", "saturday", "sunday"};
    const std::string file = "calendar.txt";
    each_row(
        file,
        {"service_id", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
         "start_date", "end_date"},
        {}, [&](TableReader& r) {
          std::string id(r.need("service_id"));
          if (id.empty()) return;
          // A bad row still names its service: trips of it are not also "of no service".
          if (!services_.insert(id).second) {
            if_used(Record::service, id,
                    {Severity::error, file, r.line(), "service_id", id,
                     "duplicate service_id: on which days its trips run is a guess"},
                    "no trip runs on it; this row is ignored");
            return;
          }
          const std::string unused = "no trip runs on service " + id + "; this row is ignored";
          int days = 0;
          for (int d = 0; d < 7; ++d) {
            auto v = r[kDays[d]];
            if (v == "1") {
              days |= 1 << d;
            } else if (v != "0") {
              if_used(Record::service, id,
                      {Severity::error, file, r.line(), kDays[d], std::string(v), "must be 0 or 1"},
                      unused);
              return;
            }
          }
          auto start = r["start_date"], end = r["end_date"];
          for (auto [name, v] : {std::pair{"start_date", start}, std::pair{"end_date", end}}) {
            if (!valid_date(v)) {
              if_used(Record::service, id,
                      {Severity::error, file, r.line(), name, std::string(v),
                       "must be a date as YYYYMMDD"},
                      unused);
              return;
            }
          }
          insert.bind(1, id).bind(2, days).bind(3, start).bind(4, end).run();
        });
    auto insert_date = db_.prepare(
        "INSERT OR REPLACE INTO calendar_dates(service_id,date,exception_type) VALUES(?,?,?)");
    each_row("calendar_dates.txt", {"service_id", "date", "exception_type"}, {},
             [&](TableReader& r) {
               const std::string file = "calendar_dates.txt";
               std::string id(r.need("service_id"));
               if (id.empty()) return;
               services_.insert(id);
               auto date = r["date"];
               auto type = r["exception_type"];
               const std::string unused = "no trip runs on service " + id + "; this row is ignored";
               if (!valid_date(date)) {
                 if_used(Record::service, id,
                         {Severity::error, file, r.line(), "date", std::string(date),
                          "must be a date as YYYYMMDD"},
                         unused);
                 return;
               }
               if (type != "1" && type != "2") {
                 if_used(Record::service, id,
                         {Severity::error, file, r.line(), "exception_type", std::string(type),
                          "must be 1 (added) or 2 (removed)"},
                         unused);
                 return;
               }
               insert_date.bind(1, id).bind(2, date).bind(3, type == "1" ? 1 : 2).run();
             });
  }

  // A shape only places stops along the street. A point that is not a position is dropped; a
  // shape whose order is unclear is not used, and trips on it get a shape built from their stops,
  // as trips without a shape do.
  void read_shapes() {
    const std::string file = "shapes.txt";
    each_row(
        file, {"shape_id", "shape_pt_lat", "shape_pt_lon", "shape_pt_sequence"}, {},
        [&](TableReader& r) {
          std::string id(r.need("shape_id"));
          if (id.empty()) return;
          auto lat = parse_double(r["shape_pt_lat"]);
          auto lon = parse_double(r["shape_pt_lon"]);
          auto seq = parse_int(r["shape_pt_sequence"]);
          if (!lat || *lat < -90 || *lat > 90 || !lon || *lon < -180 || *lon > 180) {
            problems_.warning(file, r.line(), "shape_pt_lat",
                              std::string(r["shape_pt_lat"]) + "," + std::string(r["shape_pt_lon"]),
                              "not a valid position", "this point of shape " + id + " is dropped");
            return;
          }
          if (!seq || *seq < 0) {
            problems_.warning(file, r.line(), "shape_pt_sequence",
                              std::string(r["shape_pt_sequence"]), "must be a non-negative integer",
                              "this point of shape " + id + " is dropped");
            return;
          }
          shape_points_[id].push_back({*seq, *lat, *lon, r.line()});
        });
    for (auto it = shape_points_.begin(); it != shape_points_.end();) {
      auto& [id, pts] = *it;
      std::stable_sort(pts.begin(), pts.end(),
                       [](const ShapePt& a, const ShapePt& b) { return a.sequence < b.sequence; });
      bool usable = true;
      for (std::size_t i = 1; i < pts.size(); ++i) {
        if (pts[i].sequence == pts[i - 1].sequence) {
          problems_.warning(
              file, pts[i].line, "shape_pt_sequence", std::to_string(pts[i].sequence),
              "shape " + id + " repeats this sequence (also on line " +
                  std::to_string(pts[i - 1].line) + "): the order is unclear",
              "shape " + id + " is not used; trips on it get a shape built " + "from their stops");
          usable = false;
          break;
        }
      }
      if (usable) {
        ++it;
      } else {
        broken_shapes_.insert(id);
        it = shape_points_.erase(it);
      }
    }
  }

  void read_trips() {
    const std::string file = "trips.txt";
    std::set<std::string> shapes_warned;
    each_row(file, {"route_id", "service_id", "trip_id"},
             {"trip_headsign", "trip_short_name", "direction_id", "block_id", "shape_id"},
             [&](TableReader& r) {
               TripRec t;
               t.id = r.need("trip_id");
               t.route_id = r.need("route_id");
               t.service_id = r.need("service_id");
               t.line = r.line();
               if (t.id.empty()) return;
               auto [it, fresh] =
                   trip_index_.emplace(t.id, static_cast<std::uint32_t>(trips_.size()));
               if (!fresh) {
                 problems_.error(file, r.line(), "trip_id", t.id,
                                 "duplicate trip_id (first on line " +
                                     std::to_string(trips_[it->second].line) + ")");
                 return;
               }
               auto index = it->second;
               if (!t.route_id.empty() && !routes_.contains(t.route_id)) {
                 problems_.error(file, r.line(), "route_id", t.route_id,
                                 "trip " + t.id + " names a route that is not in routes.txt");
               }
               if (!t.service_id.empty() && !services_.contains(t.service_id)) {
                 problems_.error(file, r.line(), "service_id", t.service_id,
                                 "trip " + t.id +
                                     " names a service that is in neither calendar.txt nor "
                                     "calendar_dates.txt");
               }
               route_use_.try_emplace(t.route_id, index);
               service_use_.try_emplace(t.service_id, index);
               auto dir = r["direction_id"];
               if (dir == "0" || dir == "1") {
                 t.direction_id = dir == "1";
               } else if (!dir.empty()) {
                 problems_.warning(file, r.line(), "direction_id", std::string(dir),
                                   "must be 0 or 1", "read as no direction");
               }
               t.headsign = r["trip_headsign"];
               t.short_name = r["trip_short_name"];
               t.block_id = r["block_id"];
               t.shape_id = r["shape_id"];
               if (!t.shape_id.empty()) shapes_named_.insert(t.shape_id);
               if (!t.shape_id.empty() && !shape_points_.contains(t.shape_id)) {
                 if (shapes_warned.insert(t.shape_id).second) {
                   problems_.warning(
                       file, r.line(), "shape_id", t.shape_id,
                       broken_shapes_.contains(t.shape_id)
                           ? "trip " + t.id + " runs on a shape that cannot be used (above)"
                           : "trip " + t.id + " names a shape that is not in shapes.txt",
                       "this trip and every other on shape " + t.shape_id +
                           " get a shape built from their stops");
                 }
                 t.shape_id.clear();
               }
               trips_.push_back(std::move(t));
             });
  }

  void read_frequencies() {
    auto insert = db_.prepare(
        "INSERT INTO frequencies(trip_id,start_s,end_s,headway_s,exact_times) VALUES(?,?,?,?,?)");
    const std::string file = "frequencies.txt";
    each_row(file, {"trip_id", "start_time", "end_time", "headway_secs"}, {"exact_times"},
             [&](TableReader& r) {
               std::string trip(r.need("trip_id"));
               if (trip.empty()) return;
               if (!trip_index_.contains(trip)) {
                 problems_.warning(file, r.line(), "trip_id", trip, "not a trip_id in trips.txt",
                                   "this row is ignored");
                 return;
               }
               auto start = parse_time(r["start_time"]);
               auto end = parse_time(r["end_time"]);
               auto headway = parse_int(r["headway_secs"]);
               if (!start || !end || !headway || *headway <= 0 || *end < *start) {
                 problems_.error(file, r.line(), "start_time", std::string(r["start_time"]),
                                 "start_time, end_time and headway_secs must be valid times and a "
                                 "positive headway");
                 return;
               }
               insert.bind(1, trip).bind(2, *start).bind(3, *end).bind(4, *headway);
               insert.bind(5, r["exact_times"] == "1" ? 1 : 0).run();
               ++counts_.frequencies;
             });
  }

  void read_stop_times() {
    auto insert = db_.prepare(
        "INSERT INTO stop_times(trip_id,stop_sequence,stop_id,arrival_s,departure_s,pickup_type,"
        "drop_off_type,src_line) VALUES(?,?,?,?,?,?,?,?)");
    const std::string file = "stop_times.txt";
    std::uint64_t orphans = 0, first_unnamed = 0, last_orphan = 0;
    each_row(file, {"trip_id", "stop_id", "stop_sequence"},
             {"arrival_time", "departure_time", "pickup_type", "drop_off_type"},
             [&](TableReader& r) {
               auto trip_id = r.need("trip_id");
               auto stop_id = r.need("stop_id");
               if (trip_id.empty() || stop_id.empty()) return;
               auto trip_it = trip_index_.find(std::string(trip_id));
               if (trip_it == trip_index_.end()) {
                 // A feed cropped to an area keeps stop times of trips it cut away: no trip runs
                 // them.
                 if (++orphans <= 10) {
                   problems_.warning(file, r.line(), "trip_id", std::string(trip_id),
                                     "not a trip_id in trips.txt", "this row is ignored");
                 } else {
                   if (first_unnamed == 0) first_unnamed = r.line();
                   last_orphan = r.line();
                 }
                 return;
               }
               const auto& trip = trips_[trip_it->second];
               auto stop_it = stop_index_.find(std::string(stop_id));
               if (stop_it == stop_index_.end()) {
                 problems_.error(file, r.line(), "stop_id", std::string(stop_id),
                                 "not a stop_id in stops.txt (trip " + trip.id + ")");
                 return;
               }
               auto& stop = stops_[stop_it->second];
               if (stop.served_by == kNone) {
                 stop.served_by = trip_it->second;
                 stop.served_line = static_cast<std::uint32_t>(r.line());
               }
               if (stop.location_type != 0 && stop.position && !stop.station_warned) {
                 stop.station_warned = true;
                 problems_.warning(file, r.line(), "stop_id", stop.id,
                                   "trip " + trip.id + " serves " + stop.id + ", location_type " +
                                       std::to_string(stop.location_type) + ", not a stop",
                                   "announced as a stop at its place");
               } else if (stop.location_type >= 3 && !stop.position) {
                 problems_.error(file, r.line(), "stop_id", stop.id,
                                 "trip " + trip.id + " serves " + stop.id + ", location_type " +
                                     std::to_string(stop.location_type) +
                                     " without a position: it cannot be announced");
                 return;
               }
               auto seq = parse_int(r["stop_sequence"]);
               if (!seq || *seq < 0 || *seq > INT32_MAX) {
                 problems_.error(file, r.line(), "stop_sequence", std::string(r["stop_sequence"]),
                                 "must be a non-negative integer");
                 return;
               }
               int times[2] = {-1, -1};
               const char* names[2] = {"arrival_time", "departure_time"};
               for (int k = 0; k < 2; ++k) {
                 auto text = r[names[k]];
                 if (text.empty()) continue;
                 auto t = parse_time(text);
                 if (!t) {
                   problems_.warning(file, r.line(), names[k], std::string(text),
                                     "must be a time as H:MM:SS", "read as no time");
                   continue;
                 }
                 times[k] = *t;
               }
               if (times[0] < 0) times[0] = times[1];
               if (times[1] < 0) times[1] = times[0];
               if (times[0] >= 0 && times[1] < times[0]) {
                 problems_.error(file, r.line(), "departure_time", format_time(times[1]),
                                 "departs before it arrives (" + format_time(times[0]) + ")");
               }
               auto pickup = r["pickup_type"], drop_off = r["drop_off_type"];
               insert.bind(1, trip_id).bind(2, static_cast<std::int64_t>(*seq)).bind(3, stop_id);
               if (times[0] >= 0) insert.bind(4, times[0]).bind(5, times[1]);
               insert.bind(6, static_cast<std::int64_t>(parse_int(pickup).value_or(0)));
               insert.bind(7, static_cast<std::int64_t>(parse_int(drop_off).value_or(0)));
               insert.bind(8, static_cast<std::int64_t>(r.line())).run();
               trips_[trip_it->second].stop_times.push_back(
                   {static_cast<int>(*seq), stop_it->second, times[0], times[1],
                    static_cast<std::uint32_t>(r.line()),
                    static_cast<std::uint32_t>(db_.last_insert_rowid())});
               ++counts_.stop_times;
             });
    if (orphans > 10) {
      problems_.warning(file, first_unnamed, "trip_id", "",
                        std::to_string(orphans - 10) +
                            " more rows name a trip_id that is not in trips.txt, from this line "
                            "to line " +
                            std::to_string(last_orphan),
                        "ignored");
    }
  }

  // Orders each trip's stops, checks them, groups trips with the same stops and shape into
  // patterns and places every pattern's stops along its shape.
  void build_patterns_and_trips() {
    if (unreliable_) return;
    const std::string file = "stop_times.txt";
    auto insert_trip = db_.prepare(
        "INSERT INTO trips(trip_id,route_id,service_id,headsign,short_name,direction_id,block_id,"
        "shape_id,pattern_id,first_departure_s,last_arrival_s,src_line) "
        "VALUES(?,?,?,?,?,?,?,?,?,?,?,?)");
    auto insert_pattern =
        db_.prepare("INSERT INTO patterns(pattern_id,shape_id,stop_count) VALUES(?,?,?)");
    auto insert_pattern_stop = db_.prepare(
        "INSERT INTO pattern_stops(pattern_id,idx,stop_id,distance_m,offset_m) VALUES(?,?,?,?,?)");
    std::unordered_map<std::string, std::pair<int, std::string>> patterns;  // key -> id, shape

    for (auto& trip : trips_) {
      auto& st = trip.stop_times;
      if (st.size() < 2) {
        problems_.error(
            st.empty() ? "trips.txt" : file, st.empty() ? trip.line : st[0].line, "trip_id",
            trip.id,
            st.empty() ? "trip has no stops in stop_times.txt" : "trip serves only one stop");
        continue;
      }
      std::stable_sort(st.begin(), st.end(),
                       [](auto& a, auto& b) { return a.sequence < b.sequence; });
      bool ok = true;
      for (std::size_t i = 1; i < st.size(); ++i) {
        if (st[i].sequence == st[i - 1].sequence) {
          problems_.error(file, st[i].line, "stop_sequence", std::to_string(st[i].sequence),
                          "trip " + trip.id + " has this stop_sequence twice (also line " +
                              std::to_string(st[i - 1].line) + ")");
          ok = false;
        }
      }
      if (st.front().departure < 0 || st.back().arrival < 0) {
        problems_.error(file, (st.front().departure < 0 ? st.front() : st.back()).line,
                        "arrival_time", "",
                        "trip " + trip.id + ": the first and last stop must have times");
        ok = false;
      }
      if (!check_times(trip)) ok = false;
      for (const auto& s : st) {
        if (!stops_[s.stop].position) ok = false;  // reported with the stop (resolve_if_used)
      }
      if (!ok || problems_.has_errors()) continue;

      // The pattern: same shape, same stops in the same order.
      std::string key = trip.shape_id + '\0';
      for (const auto& s : st)
        key.append(reinterpret_cast<const char*>(&s.stop), sizeof s.stop);
      auto [it, fresh] =
          patterns.try_emplace(key, static_cast<int>(patterns.size()) + 1, trip.shape_id);
      auto& [pattern_id, shape_id] = it->second;
      if (fresh) {
        std::vector<LatLon> stop_positions;
        for (const auto& s : st)
          stop_positions.push_back(*stops_[s.stop].position);
        std::vector<LatLon> line_points;
        if (shape_id.empty()) {
          shape_id = "stopcall-derived-" + std::to_string(pattern_id);
          line_points = stop_positions;
          write_shape(shape_id, line_points, true);
        } else {
          for (const auto& p : shape_points_[shape_id])
            line_points.push_back({p.lat, p.lon});
          if (used_shapes_.insert(shape_id).second) write_shape(shape_id, line_points, false);
        }
        auto line = geo::Polyline::from_latlon(line_points);
        auto placed = geo::place_stops_in_order(line, stop_positions);
        insert_pattern.bind(1, pattern_id)
            .bind(2, shape_id)
            .bind(3, static_cast<int>(st.size()))
            .run();
        for (std::size_t i = 0; i < st.size(); ++i) {
          const auto& stop = stops_[st[i].stop];
          if (placed[i].offset_m > opt_.max_stop_offset_m) {
            char buf[32];
            std::snprintf(buf, sizeof buf, "%.0f", placed[i].offset_m);
            problems_.warning(file, st[i].line, "stop_id", stop.id,
                              "stop is " + std::string(buf) + " m from the shape of trip " +
                                  trip.id + " (" + shape_id +
                                  "): announcements at this stop would be mistimed",
                              "kept");
          }
          insert_pattern_stop.bind(1, pattern_id).bind(2, static_cast<int>(i)).bind(3, stop.id);
          insert_pattern_stop.bind(4, placed[i].along_m).bind(5, placed[i].offset_m).run();
        }
        ++counts_.patterns;
      }
      insert_trip.bind(1, trip.id).bind(2, trip.route_id).bind(3, trip.service_id);
      insert_trip.bind(4, trip.headsign).bind(5, trip.short_name).bind(6, trip.direction_id);
      insert_trip.bind(7, trip.block_id).bind(8, shape_id).bind(9, pattern_id);
      insert_trip.bind(10, st.front().departure).bind(11, st.back().arrival);
      insert_trip.bind(12, static_cast<std::int64_t>(trip.line)).run();
      ++counts_.trips;
      std::vector<StopTimeRec>().swap(st);  // done with it: give the memory back
    }
    // Shapes no trip uses are still the depot's data: keep them.
    for (const auto& [id, pts] : shape_points_) {
      if (used_shapes_.contains(id)) continue;
      std::vector<LatLon> line_points;
      for (const auto& p : pts)
        line_points.push_back({p.lat, p.lon});
      write_shape(id, line_points, false);
    }
  }

  // Times must not go backwards along a trip. One real-world exception is repaired with a
  // warning: a trip past midnight whose times wrap to 00:xx instead of going on as 24:xx.
  bool check_times(TripRec& trip) {
    const std::string file = "stop_times.txt";
    constexpr int kDay = 24 * 3600;
    int offset = 0, last_time = -1;
    std::uint32_t last_line = 0;
    for (auto& s : trip.stop_times) {
      if (s.arrival >= 0 && last_time >= 0 && s.arrival + offset < last_time) {
        if (last_time - (s.arrival + offset) > kDay / 2) {
          offset += kDay;
          problems_.warning(
              file, s.line, "arrival_time", format_time(s.arrival),
              "trip " + trip.id + " runs past midnight but its times start again at 00:00",
              "read as " + format_time(s.arrival + offset) + " (GTFS times go on past 24:00)");
        } else {
          problems_.error(file, s.line, "arrival_time", format_time(s.arrival),
                          "trip " + trip.id + " arrives here before it left the stop before (" +
                              format_time(last_time) + ", line " + std::to_string(last_line) +
                              "): stop_times out of order");
          return false;
        }
      }
      if (offset > 0 && s.arrival >= 0) {
        s.arrival += offset;
        s.departure += offset;
        if (!fix_time_) {
          fix_time_.emplace(
              db_.prepare("UPDATE stop_times SET arrival_s=?, departure_s=? WHERE rowid=?"));
        }
        fix_time_->bind(1, s.arrival).bind(2, s.departure);
        fix_time_->bind(3, static_cast<std::int64_t>(s.rowid)).run();
      }
      if (s.departure >= 0) {
        last_time = s.departure;
        last_line = s.line;
      }
    }
    return true;
  }

  void write_shape(const std::string& id, const std::vector<LatLon>& points, bool derived) {
    if (!insert_shape_) {
      insert_shape_.emplace(
          db_.prepare("INSERT INTO shapes(shape_id,derived,length_m,points) VALUES(?,?,?,?)"));
    }
    std::vector<double> blob;
    blob.reserve(points.size() * 3);
    double along = 0;
    for (std::size_t i = 0; i < points.size(); ++i) {
      if (i > 0) along += geo::distance_m(points[i - 1], points[i]);
      blob.insert(blob.end(), {points[i].lat, points[i].lon, along});
    }
    insert_shape_->bind(1, id).bind(2, derived ? 1 : 0).bind(3, along);
    insert_shape_->bind_blob(4, blob.data(), blob.size() * sizeof(double)).run();
    ++counts_.shapes;
    if (derived) ++counts_.derived_shapes;
  }

  // Every problem whose weight depends on use: an error where a trip uses the record, naming the
  // first such trip, a warning otherwise.
  void resolve_if_used() {
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
  void warn_unused() {
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

  // translations.txt in either form. The current form names table, field and record; the older
  // form (trans_id, lang, translation) translates any field whose value equals trans_id.
  void read_translations() {
    auto insert = db_.prepare(
        "INSERT INTO translations(table_name,field_name,language,translation,record_id,"
        "record_sub_id,field_value) VALUES(?,?,?,?,?,?,?)");
    if (!feed_->has("translations.txt")) return;
    const std::string file = "translations.txt";
    bool old_form = false;
    {
      auto stream = feed_->open_file(file);
      try {
        CsvReader probe(*stream, file, opt_.limits.max_record_bytes);
        old_form = probe.column("trans_id") >= 0 && probe.column("table_name") < 0;
      } catch (const CsvError&) {
        // each_row below reports it.
      }
    }
    if (old_form) {
      static const std::pair<const char*, const char*> kFields[] = {
          {"stops", "stop_name"},        {"stops", "tts_stop_name"}, {"routes", "route_short_name"},
          {"routes", "route_long_name"}, {"trips", "trip_headsign"}, {"agency", "agency_name"}};
      each_row(file, {"trans_id", "lang", "translation"}, {}, [&](TableReader& r) {
        auto id = r["trans_id"], lang = r["lang"], text = r["translation"];
        if (id.empty() || lang.empty() || text.empty()) {
          problems_.warning(file, r.line(), "translation", std::string(id),
                            "trans_id, lang and translation are all needed", "this row is ignored");
          return;
        }
        for (auto [table, field] : kFields) {
          insert.bind(1, table).bind(2, field).bind(3, lang).bind(4, text).bind(7, id).run();
        }
        languages_.insert(std::string(lang));
        ++counts_.translations;
      });
      return;
    }
    static const std::set<std::string, std::less<>> kTables = {
        "agency",          "stops",    "routes", "trips",          "stop_times",
        "feed_info",       "pathways", "levels", "attributions",   "calendar",
        "fare_attributes", "networks", "areas",  "location_groups"};
    each_row(file, {"table_name", "field_name", "language", "translation"},
             {"record_id", "record_sub_id", "field_value"}, [&](TableReader& r) {
               auto table = r["table_name"], field = r["field_name"];
               auto lang = r["language"], text = r["translation"];
               if (table.empty() || field.empty() || lang.empty() || text.empty()) {
                 problems_.warning(file, r.line(), "translation", std::string(text),
                                   "table_name, field_name, language and translation are all "
                                   "needed",
                                   "this row is ignored");
                 return;
               }
               if (!kTables.contains(table)) {
                 problems_.warning(file, r.line(), "table_name", std::string(table),
                                   "not a GTFS table", "this row is ignored");
                 return;
               }
               auto record = r["record_id"], value = r["field_value"];
               if (record.empty() == value.empty() && table != "feed_info") {
                 problems_.warning(file, r.line(), "record_id", std::string(record),
                                   "give either record_id or field_value (exactly one): what "
                                   "this translates is unclear",
                                   "this row is ignored");
                 return;
               }
               if (!record.empty() && !record_exists(table, record)) {
                 problems_.warning(file, r.line(), "record_id", std::string(record),
                                   "no such record in " + std::string(table) + ".txt", "kept");
               }
               insert.bind(1, table).bind(2, field).bind(3, lang).bind(4, text);
               if (!record.empty()) insert.bind(5, record);
               auto sub = r["record_sub_id"];
               if (!sub.empty()) insert.bind(6, sub);
               if (!value.empty()) insert.bind(7, value);
               insert.run();
               languages_.insert(std::string(lang));
               ++counts_.translations;
             });
  }

  bool record_exists(std::string_view table, std::string_view id) const {
    std::string key(id);
    if (table == "stops") return stop_index_.contains(key);
    if (table == "routes") return routes_.contains(key);
    if (table == "trips" || table == "stop_times") return trip_index_.contains(key);
    if (table == "agency") return agencies_.contains(key);
    return true;
  }

  void read_extra() {
    ExtraData extra;
    extra.dir = opt_.extra_dir;
    extra.limits = opt_.limits;
    extra.stop_exists = [&](std::string_view id) { return stop_index_.contains(std::string(id)); };
    extra.route_exists = [&](std::string_view id) { return routes_.contains(std::string(id)); };
    auto counts = read_extra_data(extra, db_, problems_);
    counts_.stop_phrases = counts.stop_phrases;
    counts_.clips = counts.clips;
  }

  void write_meta() {
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

}  // namespace

namespace {
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
    Importer importer(options, report);
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
