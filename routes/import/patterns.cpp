// Each trip's stop times ordered and checked, trips grouped into patterns, every pattern's stops
// placed along its shape, and the trips table (importer_state.hpp).
#include <algorithm>
#include <cstdio>

#include "routes/geo.hpp"
#include "routes/gtfs_values.hpp"
#include "routes/import/importer_state.hpp"

namespace stopcall::routes::gtfs_import {

using gtfs::format_time;

// Orders each trip's stops, checks them, groups trips with the same stops and shape into
// patterns and places every pattern's stops along its shape.
void Importer::build_patterns_and_trips() {
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
          st.empty() ? "trips.txt" : file, st.empty() ? trip.line : st[0].line, "trip_id", trip.id,
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
                            "stop is " + std::string(buf) + " m from the shape of trip " + trip.id +
                                " (" + shape_id + "): announcements at this stop would be mistimed",
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
bool Importer::check_times(TripRec& trip) {
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

}  // namespace stopcall::routes::gtfs_import
