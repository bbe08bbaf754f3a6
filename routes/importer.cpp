#include "routes/importer.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sodium.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "routes/csv.hpp"
#include "routes/geo.hpp"
#include "routes/output_path.hpp"
#include "routes/schema.hpp"
#include "routes/sqlite.hpp"

namespace stopcall::routes {

namespace fs = std::filesystem;

namespace {

// ---- value parsing ---------------------------------------------------------------------------

std::optional<long> parse_int(std::string_view s) {
  long v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

std::optional<double> parse_double(std::string_view s) {
  double v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty() || !std::isfinite(v)) {
    return std::nullopt;
  }
  return v;
}

// GTFS time "H:MM:SS" or "HH:MM:SS", hours may exceed 24.
std::optional<int> parse_time(std::string_view s) {
  auto c1 = s.find(':');
  if (c1 == std::string_view::npos || s.size() != c1 + 6 || s[c1 + 3] != ':') return std::nullopt;
  auto h = parse_int(s.substr(0, c1)), m = parse_int(s.substr(c1 + 1, 2)),
       sec = parse_int(s.substr(c1 + 4, 2));
  if (!h || !m || !sec || *h < 0 || *h > 200 || *m > 59 || *sec > 59 || *m < 0 || *sec < 0) {
    return std::nullopt;
  }
  return static_cast<int>(*h * 3600 + *m * 60 + *sec);
}

bool valid_date(std::string_view s) {
  if (s.size() != 8) return false;
  auto v = parse_int(s);
  if (!v) return false;
  int y = static_cast<int>(*v / 10000), m = static_cast<int>(*v / 100 % 100),
      d = static_cast<int>(*v % 100);
  return y >= 1900 && y <= 2200 && m >= 1 && m <= 12 && d >= 1 && d <= 31;
}

std::string format_time(int s) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%02d:%02d:%02d", s / 3600, s / 60 % 60, s % 60);
  return buf;
}

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

// ---- in-memory index of what has been read ---------------------------------------------------

struct StopRec {
  std::string id;
  std::optional<LatLon> position;
  int location_type = 0;
  std::string parent;
  std::uint64_t line = 0;
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

// ---- the importer ----------------------------------------------------------------------------

class Importer {
 public:
  Importer(const ImportOptions& options, ImportReport& report)
      : opt_(options), problems_(report.problems), counts_(report.counts) {}

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

  bool check_required_files() {
    static const char* const kRequired[] = {"agency.txt", "stops.txt", "routes.txt", "trips.txt",
                                            "stop_times.txt"};
    std::vector<std::string> missing;
    for (auto f : kRequired) {
      if (!feed_->has(f)) missing.push_back(f);
    }
    if (!feed_->has("calendar.txt") && !feed_->has("calendar_dates.txt")) {
      missing.push_back("calendar.txt or calendar_dates.txt");
    }
    if (missing.size() == std::size(kRequired) + 1) {
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

  struct Cols {
    std::map<std::string, int, std::less<>> index;
    int operator[](std::string_view name) const {
      auto it = index.find(name);
      return it == index.end() ? -1 : it->second;
    }
  };

  // Calls row(reader) for each record. Missing required columns and unreadable bytes are errors;
  // the rest of a file is not read past a byte-level error.
  void each_row(const std::string& file, std::initializer_list<std::string_view> required,
                std::initializer_list<std::string_view> optional,
                const std::function<void(const CsvReader&, const Cols&)>& row) {
    if (!feed_->has(file)) return;
    auto stream = feed_->open_file(file);
    try {
      CsvReader reader(*stream, file, opt_.limits.max_record_bytes);
      if (reader.header().empty()) {
        problems_.error(file, 0, "", "", "the file is empty (not even a header line)");
        unreliable_ = true;
        return;
      }
      Cols cols;
      bool ok = true;
      for (auto name : required) {
        int c = reader.column(name);
        if (c < 0) {
          problems_.error(file, 1, std::string(name), "",
                          "required column " + std::string(name) + " is missing from the header");
          ok = false;
        }
        cols.index.emplace(std::string(name), c);
      }
      for (auto name : optional)
        cols.index.emplace(std::string(name), reader.column(name));
      if (!ok) {
        unreliable_ = true;
        return;
      }
      // Once a file could not be read, rows of later files are only scanned for their own
      // unreadable bytes: checking them against half-read data would bury the real problem
      // under a cascade of "not found" errors.
      if (unreliable_) {
        while (reader.next()) {
        }
        return;
      }
      while (reader.next())
        row(reader, cols);
    } catch (const CsvError& e) {
      problems_.error(file, e.line(), "", "", e.what());
      unreliable_ = true;
    }
  }

  std::string_view need(const CsvReader& r, const Cols& c, std::string_view col) {
    auto v = r.field(c[col]);
    if (v.empty()) {
      problems_.error(r.file_name(), r.line(), std::string(col), "", "required value is empty");
    }
    return v;
  }

  // ---- files ----

  void read_feed_info() {
    each_row("feed_info.txt", {},
             {"feed_publisher_name", "feed_lang", "feed_version", "default_lang"},
             [&](const CsvReader& r, const Cols& c) {
               meta_["feed_publisher"] = r.field(c["feed_publisher_name"]);
               meta_["feed_version"] = r.field(c["feed_version"]);
               feed_lang_ = r.field(c["feed_lang"]);
             });
  }

  void read_agency() {
    auto insert = db_.prepare(
        "INSERT INTO agency(agency_id,name,url,timezone,lang,src_line) VALUES(?,?,?,?,?,?)");
    each_row("agency.txt", {"agency_name", "agency_url", "agency_timezone"},
             {"agency_id", "agency_lang"}, [&](const CsvReader& r, const Cols& c) {
               std::string id(r.field(c["agency_id"]));
               auto name = need(r, c, "agency_name");
               need(r, c, "agency_timezone");
               if (!agencies_.insert(id).second) {
                 problems_.error("agency.txt", r.line(), "agency_id", id,
                                 id.empty() ? "several agencies need an agency_id each"
                                            : "duplicate agency_id");
                 return;
               }
               if (feed_lang_.empty()) feed_lang_ = r.field(c["agency_lang"]);
               insert.bind(1, id).bind(2, name).bind(3, r.field(c["agency_url"]));
               insert.bind(4, r.field(c["agency_timezone"])).bind(5, r.field(c["agency_lang"]));
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
    each_row(
        "stops.txt", {"stop_id"},
        {"stop_code", "stop_name", "tts_stop_name", "stop_lat", "stop_lon", "location_type",
         "parent_station", "wheelchair_boarding"},
        [&](const CsvReader& r, const Cols& c) {
          const std::string file = "stops.txt";
          StopRec s;
          s.id = need(r, c, "stop_id");
          s.line = r.line();
          if (s.id.empty()) return;
          auto lt = r.field(c["location_type"]);
          if (!lt.empty()) {
            auto v = parse_int(lt);
            if (!v || *v < 0 || *v > 4) {
              problems_.error(file, r.line(), "location_type", std::string(lt), "must be 0 to 4");
              return;
            }
            s.location_type = static_cast<int>(*v);
          }
          bool located = s.location_type <= 2;  // stops, stations, entrances need a place
          auto lat_text = r.field(c["stop_lat"]), lon_text = r.field(c["stop_lon"]);
          if (!lat_text.empty() || !lon_text.empty() || located) {
            auto lat = parse_double(lat_text), lon = parse_double(lon_text);
            if (!lat || *lat < -90 || *lat > 90) {
              problems_.error(file, r.line(), "stop_lat", std::string(lat_text),
                              "latitude must be a number from -90 to 90");
              return;
            }
            if (!lon || *lon < -180 || *lon > 180) {
              problems_.error(file, r.line(), "stop_lon", std::string(lon_text),
                              "longitude must be a number from -180 to 180");
              return;
            }
            if (*lat == 0 && *lon == 0) {
              problems_.warning(file, r.line(), "stop_lat", "0,0",
                                "stop " + s.id + " is at 0,0: the position is missing");
            }
            s.position = LatLon{*lat, *lon};
          }
          auto name = r.field(c["stop_name"]);
          if (name.empty() && located) {
            problems_.error(file, r.line(), "stop_name", "",
                            "stop " + s.id + " has no name to announce");
          }
          auto wb = r.field(c["wheelchair_boarding"]);
          long wheelchair = 0;
          if (!wb.empty()) {
            auto v = parse_int(wb);
            if (!v || *v < 0 || *v > 2) {
              problems_.warning(file, r.line(), "wheelchair_boarding", std::string(wb),
                                "must be 0, 1 or 2; read as 0 (unknown)");
            } else {
              wheelchair = *v;
            }
          }
          s.parent = r.field(c["parent_station"]);
          auto [it, fresh] = stop_index_.emplace(s.id, static_cast<std::uint32_t>(stops_.size()));
          if (!fresh) {
            problems_.error(file, r.line(), "stop_id", s.id,
                            "duplicate stop_id (first on line " +
                                std::to_string(stops_[it->second].line) + ")");
            return;
          }
          insert.bind(1, s.id).bind(2, r.field(c["stop_code"])).bind(3, name);
          auto tts = r.field(c["tts_stop_name"]);
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
    for (const auto& s : stops_) {
      if (unreliable_) break;
      if (!s.parent.empty() && !stop_index_.contains(s.parent)) {
        problems_.error("stops.txt", s.line, "parent_station", s.parent,
                        "stop " + s.id + " names a parent station that is not in stops.txt");
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
                                " m apart): one stop with two ids?");
        }
      }
    }
  }

  void read_routes() {
    auto insert = db_.prepare(
        "INSERT INTO routes(route_id,agency_id,short_name,long_name,type,color,text_color,src_line)"
        " VALUES(?,?,?,?,?,?,?,?)");
    each_row(
        "routes.txt", {"route_id", "route_type"},
        {"agency_id", "route_short_name", "route_long_name", "route_color", "route_text_color"},
        [&](const CsvReader& r, const Cols& c) {
          std::string id(need(r, c, "route_id"));
          if (id.empty()) return;
          auto type_text = r.field(c["route_type"]);
          auto type = parse_int(type_text);
          if (!type || *type < 0) {
            problems_.error("routes.txt", r.line(), "route_type", std::string(type_text),
                            "must be a GTFS route type number");
            return;
          }
          auto short_name = r.field(c["route_short_name"]);
          auto long_name = r.field(c["route_long_name"]);
          if (short_name.empty() && long_name.empty()) {
            problems_.error("routes.txt", r.line(), "route_short_name", "",
                            "route " + id + " has neither a short nor a long name to announce");
          }
          std::string agency(r.field(c["agency_id"]));
          if (!agency.empty() && !agencies_.contains(agency)) {
            problems_.error("routes.txt", r.line(), "agency_id", agency,
                            "not an agency_id in agency.txt");
          } else if (agency.empty() && agencies_.size() > 1) {
            problems_.error("routes.txt", r.line(), "agency_id", "",
                            "the feed has several agencies: route " + id + " must name one");
          }
          if (!routes_.insert(id).second) {
            problems_.error("routes.txt", r.line(), "route_id", id, "duplicate route_id");
            return;
          }
          insert.bind(1, id).bind(2, agency).bind(3, short_name).bind(4, long_name);
          insert.bind(5, static_cast<std::int64_t>(*type)).bind(6, r.field(c["route_color"]));
          insert.bind(7, r.field(c["route_text_color"]));
          insert.bind(8, static_cast<std::int64_t>(r.line())).run();
          ++counts_.routes;
        });
  }

  void read_calendars() {
    auto insert =
        db_.prepare("INSERT INTO calendar(service_id,days,start_date,end_date) VALUES(?,?,?,?)");
    static const char* const kDays[] = {"monday", "tuesday",  "wednesday", "thursday",
                                        "friday", "saturday", "sunday"};
    each_row(
        "calendar.txt",
        {"service_id", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
         "start_date", "end_date"},
        {}, [&](const CsvReader& r, const Cols& c) {
          std::string id(need(r, c, "service_id"));
          int days = 0;
          for (int d = 0; d < 7; ++d) {
            auto v = r.field(c[kDays[d]]);
            if (v == "1") {
              days |= 1 << d;
            } else if (v != "0") {
              problems_.error("calendar.txt", r.line(), kDays[d], std::string(v), "must be 0 or 1");
            }
          }
          auto start = r.field(c["start_date"]), end = r.field(c["end_date"]);
          for (auto [name, v] : {std::pair{"start_date", start}, std::pair{"end_date", end}}) {
            if (!valid_date(v)) {
              problems_.error("calendar.txt", r.line(), name, std::string(v),
                              "must be a date as YYYYMMDD");
              return;
            }
          }
          if (!services_.insert(id).second) {
            problems_.error("calendar.txt", r.line(), "service_id", id, "duplicate service_id");
            return;
          }
          insert.bind(1, id).bind(2, days).bind(3, start).bind(4, end).run();
        });
    auto insert_date = db_.prepare(
        "INSERT OR REPLACE INTO calendar_dates(service_id,date,exception_type) VALUES(?,?,?)");
    each_row("calendar_dates.txt", {"service_id", "date", "exception_type"}, {},
             [&](const CsvReader& r, const Cols& c) {
               std::string id(need(r, c, "service_id"));
               auto date = r.field(c["date"]);
               auto type = r.field(c["exception_type"]);
               if (!valid_date(date)) {
                 problems_.error("calendar_dates.txt", r.line(), "date", std::string(date),
                                 "must be a date as YYYYMMDD");
                 return;
               }
               if (type != "1" && type != "2") {
                 problems_.error("calendar_dates.txt", r.line(), "exception_type",
                                 std::string(type), "must be 1 (added) or 2 (removed)");
                 return;
               }
               services_.insert(id);
               insert_date.bind(1, id).bind(2, date).bind(3, type == "1" ? 1 : 2).run();
             });
  }

  void read_shapes() {
    each_row("shapes.txt", {"shape_id", "shape_pt_lat", "shape_pt_lon", "shape_pt_sequence"}, {},
             [&](const CsvReader& r, const Cols& c) {
               std::string id(need(r, c, "shape_id"));
               auto lat = parse_double(r.field(c["shape_pt_lat"]));
               auto lon = parse_double(r.field(c["shape_pt_lon"]));
               auto seq = parse_int(r.field(c["shape_pt_sequence"]));
               if (!lat || *lat < -90 || *lat > 90 || !lon || *lon < -180 || *lon > 180) {
                 problems_.error("shapes.txt", r.line(), "shape_pt_lat",
                                 std::string(r.field(c["shape_pt_lat"])) + "," +
                                     std::string(r.field(c["shape_pt_lon"])),
                                 "not a valid position");
                 return;
               }
               if (!seq || *seq < 0) {
                 problems_.error("shapes.txt", r.line(), "shape_pt_sequence",
                                 std::string(r.field(c["shape_pt_sequence"])),
                                 "must be a non-negative integer");
                 return;
               }
               shape_points_[id].push_back({*seq, *lat, *lon, r.line()});
             });
    for (auto& [id, pts] : shape_points_) {
      std::stable_sort(pts.begin(), pts.end(),
                       [](const ShapePt& a, const ShapePt& b) { return a.sequence < b.sequence; });
      for (std::size_t i = 1; i < pts.size(); ++i) {
        if (pts[i].sequence == pts[i - 1].sequence) {
          problems_.error("shapes.txt", pts[i].line, "shape_pt_sequence",
                          std::to_string(pts[i].sequence),
                          "shape " + id + " repeats this sequence (also on line " +
                              std::to_string(pts[i - 1].line) + ")");
        }
      }
    }
  }

  void read_trips() {
    each_row("trips.txt", {"route_id", "service_id", "trip_id"},
             {"trip_headsign", "trip_short_name", "direction_id", "block_id", "shape_id"},
             [&](const CsvReader& r, const Cols& c) {
               TripRec t;
               t.id = need(r, c, "trip_id");
               t.route_id = need(r, c, "route_id");
               t.service_id = need(r, c, "service_id");
               t.line = r.line();
               if (t.id.empty()) return;
               if (!routes_.contains(t.route_id)) {
                 problems_.error("trips.txt", r.line(), "route_id", t.route_id,
                                 "trip " + t.id + " names a route that is not in routes.txt");
               }
               if (!services_.contains(t.service_id)) {
                 problems_.error("trips.txt", r.line(), "service_id", t.service_id,
                                 "trip " + t.id +
                                     " names a service that is in neither calendar.txt nor "
                                     "calendar_dates.txt");
               }
               auto dir = r.field(c["direction_id"]);
               if (dir == "0" || dir == "1") {
                 t.direction_id = dir == "1";
               } else if (!dir.empty()) {
                 problems_.error("trips.txt", r.line(), "direction_id", std::string(dir),
                                 "must be 0 or 1");
               }
               t.headsign = r.field(c["trip_headsign"]);
               t.short_name = r.field(c["trip_short_name"]);
               t.block_id = r.field(c["block_id"]);
               t.shape_id = r.field(c["shape_id"]);
               if (!t.shape_id.empty() && !shape_points_.contains(t.shape_id)) {
                 problems_.warning("trips.txt", r.line(), "shape_id", t.shape_id,
                                   "shape not in shapes.txt; a shape is built from the stops");
                 t.shape_id.clear();
               }
               auto [it, fresh] =
                   trip_index_.emplace(t.id, static_cast<std::uint32_t>(trips_.size()));
               if (!fresh) {
                 problems_.error("trips.txt", r.line(), "trip_id", t.id,
                                 "duplicate trip_id (first on line " +
                                     std::to_string(trips_[it->second].line) + ")");
                 return;
               }
               trips_.push_back(std::move(t));
             });
  }

  void read_frequencies() {
    auto insert = db_.prepare(
        "INSERT INTO frequencies(trip_id,start_s,end_s,headway_s,exact_times) VALUES(?,?,?,?,?)");
    each_row("frequencies.txt", {"trip_id", "start_time", "end_time", "headway_secs"},
             {"exact_times"}, [&](const CsvReader& r, const Cols& c) {
               std::string trip(need(r, c, "trip_id"));
               if (!trip_index_.contains(trip)) {
                 problems_.error("frequencies.txt", r.line(), "trip_id", trip,
                                 "not a trip_id in trips.txt");
                 return;
               }
               auto start = parse_time(r.field(c["start_time"]));
               auto end = parse_time(r.field(c["end_time"]));
               auto headway = parse_int(r.field(c["headway_secs"]));
               if (!start || !end || !headway || *headway <= 0 || *end < *start) {
                 problems_.error("frequencies.txt", r.line(), "start_time",
                                 std::string(r.field(c["start_time"])),
                                 "start_time, end_time and headway_secs must be valid times and a "
                                 "positive headway");
                 return;
               }
               insert.bind(1, trip).bind(2, *start).bind(3, *end).bind(4, *headway);
               insert.bind(5, r.field(c["exact_times"]) == "1" ? 1 : 0).run();
               ++counts_.frequencies;
             });
  }

  void read_stop_times() {
    auto insert = db_.prepare(
        "INSERT INTO stop_times(trip_id,stop_sequence,stop_id,arrival_s,departure_s,pickup_type,"
        "drop_off_type,src_line) VALUES(?,?,?,?,?,?,?,?)");
    each_row("stop_times.txt", {"trip_id", "stop_id", "stop_sequence"},
             {"arrival_time", "departure_time", "pickup_type", "drop_off_type"},
             [&](const CsvReader& r, const Cols& c) {
               const std::string file = "stop_times.txt";
               auto trip_id = r.field(c["trip_id"]);
               auto stop_id = r.field(c["stop_id"]);
               auto trip_it = trip_index_.find(std::string(trip_id));
               if (trip_it == trip_index_.end()) {
                 problems_.error(file, r.line(), "trip_id", std::string(trip_id),
                                 "not a trip_id in trips.txt");
                 return;
               }
               auto stop_it = stop_index_.find(std::string(stop_id));
               if (stop_it == stop_index_.end()) {
                 problems_.error(file, r.line(), "stop_id", std::string(stop_id),
                                 "not a stop_id in stops.txt (trip " + std::string(trip_id) + ")");
                 return;
               }
               if (stops_[stop_it->second].location_type != 0) {
                 problems_.error(file, r.line(), "stop_id", std::string(stop_id),
                                 "a trip can only serve stops (location_type 0), not stations");
                 return;
               }
               auto seq = parse_int(r.field(c["stop_sequence"]));
               if (!seq || *seq < 0 || *seq > INT32_MAX) {
                 problems_.error(file, r.line(), "stop_sequence",
                                 std::string(r.field(c["stop_sequence"])),
                                 "must be a non-negative integer");
                 return;
               }
               int times[2] = {-1, -1};
               const char* names[2] = {"arrival_time", "departure_time"};
               for (int k = 0; k < 2; ++k) {
                 auto text = r.field(c[names[k]]);
                 if (text.empty()) continue;
                 auto t = parse_time(text);
                 if (!t) {
                   problems_.error(file, r.line(), names[k], std::string(text),
                                   "must be a time as H:MM:SS");
                   return;
                 }
                 times[k] = *t;
               }
               if (times[0] < 0) times[0] = times[1];
               if (times[1] < 0) times[1] = times[0];
               if (times[0] >= 0 && times[1] < times[0]) {
                 problems_.error(file, r.line(), "departure_time", format_time(times[1]),
                                 "departs before it arrives (" + format_time(times[0]) + ")");
               }
               auto pickup = r.field(c["pickup_type"]), drop_off = r.field(c["drop_off_type"]);
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
    std::set<std::string> used_shapes;

    for (auto& trip : trips_) {
      auto& st = trip.stop_times;
      if (st.size() < 2) {
        problems_.error(file, st.empty() ? 0 : st[0].line, "trip_id", trip.id,
                        "trip serves fewer than two stops");
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
          if (used_shapes.insert(shape_id).second) write_shape(shape_id, line_points, false);
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
                                  "): announcements at this stop would be mistimed");
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
      if (used_shapes.contains(id)) continue;
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
          problems_.warning(file, s.line, "arrival_time", format_time(s.arrival),
                            "trip " + trip.id +
                                " runs past midnight but its times start again at "
                                "00:00; read as " +
                                format_time(s.arrival + offset) + " (GTFS times go on past 24:00)");
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

  // translations.txt in either form. The current form names table, field and record; the older
  // form (trans_id, lang, translation) translates any field whose value equals trans_id.
  void read_translations() {
    auto insert = db_.prepare(
        "INSERT INTO translations(table_name,field_name,language,translation,record_id,"
        "record_sub_id,field_value) VALUES(?,?,?,?,?,?,?)");
    if (!feed_->has("translations.txt")) return;
    bool old_form = false;
    {
      auto stream = feed_->open_file("translations.txt");
      try {
        CsvReader probe(*stream, "translations.txt", opt_.limits.max_record_bytes);
        old_form = probe.column("trans_id") >= 0 && probe.column("table_name") < 0;
      } catch (const CsvError&) {
        // each_row below reports it.
      }
    }
    if (old_form) {
      static const std::pair<const char*, const char*> kFields[] = {
          {"stops", "stop_name"},        {"stops", "tts_stop_name"}, {"routes", "route_short_name"},
          {"routes", "route_long_name"}, {"trips", "trip_headsign"}, {"agency", "agency_name"}};
      each_row(
          "translations.txt", {"trans_id", "lang", "translation"}, {},
          [&](const CsvReader& r, const Cols& c) {
            auto id = need(r, c, "trans_id"), lang = need(r, c, "lang");
            auto text = need(r, c, "translation");
            if (id.empty() || lang.empty() || text.empty()) return;
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
    each_row("translations.txt", {"table_name", "field_name", "language", "translation"},
             {"record_id", "record_sub_id", "field_value"}, [&](const CsvReader& r, const Cols& c) {
               auto table = need(r, c, "table_name"), field = need(r, c, "field_name");
               auto lang = need(r, c, "language"), text = need(r, c, "translation");
               if (table.empty() || field.empty() || lang.empty() || text.empty()) return;
               if (!kTables.contains(table)) {
                 problems_.warning("translations.txt", r.line(), "table_name", std::string(table),
                                   "not a GTFS table; ignored");
                 return;
               }
               auto record = r.field(c["record_id"]), value = r.field(c["field_value"]);
               if (record.empty() == value.empty() && table != "feed_info") {
                 problems_.error("translations.txt", r.line(), "record_id", std::string(record),
                                 "give either record_id or field_value (exactly one)");
                 return;
               }
               if (!record.empty() && !record_exists(table, record)) {
                 problems_.warning("translations.txt", r.line(), "record_id", std::string(record),
                                   "no such record in " + std::string(table) + ".txt");
               }
               insert.bind(1, table).bind(2, field).bind(3, lang).bind(4, text);
               if (!record.empty()) insert.bind(5, record);
               auto sub = r.field(c["record_sub_id"]);
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

  // ---- our own announcement data (--extra) ----

  void read_extra() {
    auto extra = FeedSource::open(opt_.extra_dir, opt_.limits);
    auto rows = [&](const std::string& file, std::initializer_list<std::string_view> required,
                    const std::function<void(const CsvReader&, const Cols&)>& row) {
      if (!extra->has(file)) return;
      auto stream = extra->open_file(file);
      try {
        CsvReader reader(*stream, file, opt_.limits.max_record_bytes);
        Cols cols;
        for (auto name : required) {
          int c = reader.column(name);
          if (c < 0) {
            problems_.error(file, 1, std::string(name), "", "required column is missing");
            return;
          }
          cols.index.emplace(std::string(name), c);
        }
        while (reader.next())
          row(reader, cols);
      } catch (const CsvError& e) {
        problems_.error(file, e.line(), "", "", e.what());
      }
    };
    auto insert_phrase =
        db_.prepare("INSERT OR REPLACE INTO stop_phrases(stop_id,language,text) VALUES(?,?,?)");
    rows("stop_phrases.csv", {"stop_id", "language", "text"},
         [&](const CsvReader& r, const Cols& c) {
           auto stop = r.field(c["stop_id"]), lang = r.field(c["language"]),
                text = r.field(c["text"]);
           if (!check_extra_row(r, stop, lang, text)) return;
           insert_phrase.bind(1, stop).bind(2, lang).bind(3, text).run();
           ++counts_.stop_phrases;
         });
    auto insert_exterior =
        db_.prepare("INSERT OR REPLACE INTO route_exterior(route_id,language,text) VALUES(?,?,?)");
    rows("route_exterior.csv", {"route_id", "language", "text"},
         [&](const CsvReader& r, const Cols& c) {
           auto route = r.field(c["route_id"]), lang = r.field(c["language"]);
           auto text = r.field(c["text"]);
           if (!routes_.contains(std::string(route))) {
             problems_.error(r.file_name(), r.line(), "route_id", std::string(route),
                             "not a route_id in routes.txt");
             return;
           }
           if (lang.empty() || text.empty()) {
             problems_.error(r.file_name(), r.line(), "text", "", "language and text are required");
             return;
           }
           insert_exterior.bind(1, route).bind(2, lang).bind(3, text).run();
         });
    auto insert_clip = db_.prepare("INSERT OR IGNORE INTO clips(sha256,format,data) VALUES(?,?,?)");
    auto insert_stop_clip = db_.prepare(
        "INSERT OR REPLACE INTO stop_clips(stop_id,language,purpose,sha256,text) "
        "VALUES(?,?,?,?,?)");
    rows("stop_clips.csv", {"stop_id", "language", "purpose", "file", "text"},
         [&](const CsvReader& r, const Cols& c) {
           auto stop = r.field(c["stop_id"]), lang = r.field(c["language"]);
           auto text = r.field(c["text"]), purpose = r.field(c["purpose"]);
           auto file = r.field(c["file"]);
           if (!check_extra_row(r, stop, lang, text)) return;
           if (purpose != "name" && purpose != "phrase") {
             problems_.error(r.file_name(), r.line(), "purpose", std::string(purpose),
                             "must be 'name' or 'phrase'");
             return;
           }
           fs::path path = fs::path(opt_.extra_dir) / std::string(file);
           std::string ext = path.extension().string();
           if (!ext.empty()) ext.erase(0, 1);
           static const std::set<std::string> kFormats = {"wav", "ogg", "opus", "mp3", "flac"};
           if (!kFormats.contains(ext)) {
             problems_.error(r.file_name(), r.line(), "file", std::string(file),
                             "clips must be .wav, .ogg, .opus, .mp3 or .flac");
             return;
           }
           std::ifstream in(path, std::ios::binary);
           std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
           if (!in.good() && !in.eof()) data.clear();
           if (data.empty()) {
             problems_.error(r.file_name(), r.line(), "file", std::string(file),
                             "clip file is missing or empty");
             return;
           }
           unsigned char digest[crypto_hash_sha256_BYTES];
           crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(data.data()),
                              data.size());
           char hex[crypto_hash_sha256_BYTES * 2 + 1];
           sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
           insert_clip.bind(1, std::string_view(hex)).bind(2, ext);
           insert_clip.bind_blob(3, data.data(), data.size()).run();
           if (sqlite3_changes(db_.handle()) > 0) ++counts_.clips;  // stored once per content
           insert_stop_clip.bind(1, stop).bind(2, lang).bind(3, purpose);
           insert_stop_clip.bind(4, std::string_view(hex)).bind(5, text).run();
         });
  }

  bool check_extra_row(const CsvReader& r, std::string_view stop, std::string_view lang,
                       std::string_view text) {
    if (!stop_index_.contains(std::string(stop))) {
      problems_.error(r.file_name(), r.line(), "stop_id", std::string(stop),
                      "not a stop_id in stops.txt");
      return false;
    }
    if (lang.empty() || text.empty()) {
      problems_.error(r.file_name(), r.line(), "text", "", "language and text are required");
      return false;
    }
    return true;
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
  std::unordered_set<std::string> agencies_, routes_, services_;
  std::vector<StopRec> stops_;
  std::unordered_map<std::string, std::uint32_t> stop_index_;
  std::vector<TripRec> trips_;
  std::unordered_map<std::string, std::uint32_t> trip_index_;
  std::map<std::string, std::vector<ShapePt>> shape_points_;
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
    auto pid = parse_int(std::string_view(name).substr(prefix.size()));
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

ImportReport validate_feed(const std::string& feed, const std::string& extra_dir) {
  auto dir = fs::temp_directory_path() / ("stopcall-validate-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  ImportOptions options;
  options.feed = feed;
  options.extra_dir = extra_dir;
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
