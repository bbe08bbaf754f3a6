// stops.txt: positions, parent stations, two stops at one place (importer_state.hpp).
#include <algorithm>
#include <cstdio>

#include "routes/geo.hpp"
#include "routes/gtfs_values.hpp"
#include "routes/import/importer_state.hpp"

namespace stopcall::routes::gtfs_import {

using gtfs::parse_double;
using gtfs::parse_int;

void Importer::read_stops() {
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
void Importer::warn_stops_at_same_place() {
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
         j < located.size() && located[j]->position->lat - located[i]->position->lat <= lat_window;
         ++j) {
      double d = geo::distance_m(*located[i]->position, *located[j]->position);
      if (d <= kSamePlaceM) {
        const StopRec* first = located[i]->line < located[j]->line ? located[i] : located[j];
        const StopRec* second = first == located[i] ? located[j] : located[i];
        char dist[32];
        std::snprintf(dist, sizeof dist, "%.1f", d);
        problems_.warning("stops.txt", second->line, "stop_id", second->id,
                          "stops " + first->id + " and " + second->id + " are at the same place (" +
                              dist + " m apart): one stop with two ids?",
                          "both kept");
      }
    }
  }
}

}  // namespace stopcall::routes::gtfs_import
