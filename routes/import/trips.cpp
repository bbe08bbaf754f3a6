// trips.txt, frequencies.txt and stop_times.txt (importer_state.hpp).
#include <set>

#include "routes/gtfs_values.hpp"
#include "routes/import/importer_state.hpp"

namespace stopcall::routes::gtfs_import {

using gtfs::format_time;
using gtfs::parse_int;
using gtfs::parse_time;

void Importer::read_trips() {
  const std::string file = "trips.txt";
  std::set<std::string> shapes_warned;
  each_row(
      file, {"route_id", "service_id", "trip_id"},
      {"trip_headsign", "trip_short_name", "direction_id", "block_id", "shape_id"},
      [&](TableReader& r) {
        TripRec t;
        t.id = r.need("trip_id");
        t.route_id = r.need("route_id");
        t.service_id = r.need("service_id");
        t.line = r.line();
        if (t.id.empty()) return;
        auto [it, fresh] = trip_index_.emplace(t.id, static_cast<std::uint32_t>(trips_.size()));
        if (!fresh) {
          problems_.error(
              file, r.line(), "trip_id", t.id,
              "duplicate trip_id (first on line " + std::to_string(trips_[it->second].line) + ")");
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
          problems_.warning(file, r.line(), "direction_id", std::string(dir), "must be 0 or 1",
                            "read as no direction");
        }
        t.headsign = r["trip_headsign"];
        t.short_name = r["trip_short_name"];
        t.block_id = r["block_id"];
        t.shape_id = r["shape_id"];
        if (!t.shape_id.empty()) shapes_named_.insert(t.shape_id);
        if (!t.shape_id.empty() && !shape_points_.contains(t.shape_id)) {
          if (shapes_warned.insert(t.shape_id).second) {
            problems_.warning(file, r.line(), "shape_id", t.shape_id,
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

void Importer::read_frequencies() {
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

void Importer::read_stop_times() {
  auto insert = db_.prepare(
      "INSERT INTO stop_times(trip_id,stop_sequence,stop_id,arrival_s,departure_s,pickup_type,"
      "drop_off_type,src_line) VALUES(?,?,?,?,?,?,?,?)");
  const std::string file = "stop_times.txt";
  std::uint64_t orphans = 0, first_unnamed = 0, last_orphan = 0;
  each_row(file, {"trip_id", "stop_id", "stop_sequence"},
           {"arrival_time", "departure_time", "pickup_type", "drop_off_type"}, [&](TableReader& r) {
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

}  // namespace stopcall::routes::gtfs_import
