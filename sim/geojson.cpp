#include "sim/geojson.hpp"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <ostream>

namespace stopcall::sim {

namespace {

using Json = nlohmann::ordered_json;

double rounded(double v, double scale) {
  return std::round(v * scale) / scale;
}

Json coordinates(routes::LatLon p) {
  return Json::array({rounded(p.lon, 1e7), rounded(p.lat, 1e7)});
}

Json feature(Json properties, Json geometry) {
  Json f;
  f["type"] = "Feature";
  f["properties"] = std::move(properties);
  f["geometry"] = std::move(geometry);
  return f;
}

Json point(routes::LatLon p) {
  return Json{{"type", "Point"}, {"coordinates", coordinates(p)}};
}

Json line(const std::vector<routes::LatLon>& points) {
  Json c = Json::array();
  for (const auto& p : points)
    c.push_back(coordinates(p));
  return Json{{"type", "LineString"}, {"coordinates", std::move(c)}};
}

std::string name_of(const routes::Stop& stop) {
  if (stop.names.empty()) return stop.id;
  return stop.names.begin()->second;
}

}  // namespace

void write_geojson(std::ostream& out, const routes::Trip& trip, const Truth& truth,
                   const std::vector<tracking::Fix>& fixes, const std::vector<AnnouncerRun>& runs) {
  Json features = Json::array();
  const TripGeometry geo(trip);

  std::vector<routes::LatLon> shape;
  for (const auto& p : geo.line.points)
    shape.push_back(geo.line.projection.to_latlon(p));
  features.push_back(feature({{"kind", "shape"}, {"trip_id", trip.id}}, line(shape)));

  // The trace: usable fixes only, in order.
  std::vector<std::size_t> usable;
  for (std::size_t i = 0; i < fixes.size(); ++i)
    if (fixes[i].usable()) usable.push_back(i);
  std::vector<routes::LatLon> trace;
  for (std::size_t i : usable)
    trace.push_back(*fixes[i].position);
  if (trace.size() >= 2)
    features.push_back(feature(
        {{"kind", "trace"}, {"noise", truth.noise_model}, {"fixes", trace.size()}}, line(trace)));
  for (std::size_t i : usable) {
    const auto& f = fixes[i];
    Json props = {{"kind", "fix"}, {"index", i}, {"time", tracking::format_time(f.time)}};
    if (f.speed_mps) props["speed_mps"] = rounded(*f.speed_mps, 100);
    if (f.eph_m) props["eph_m"] = rounded(*f.eph_m, 10);
    features.push_back(feature(std::move(props), point(*f.position)));
  }

  // The stops with their truth and each announcer's verdict.
  for (std::size_t i = 0; i < trip.stops.size(); ++i) {
    const auto& ts = trip.stops[i];
    Json props = {
        {"kind", "stop"}, {"index", i}, {"stop_id", ts.stop.id}, {"name", name_of(ts.stop)}};
    if (i < truth.stops.size()) {
      const auto& st = truth.stops[i];
      props["stopped"] = st.stopped;
      props["arrival"] = tracking::format_time(st.arrival);
      props["departure"] = tracking::format_time(st.departure);
    }
    for (const auto& run : runs) {
      if (i == 0 || i > run.score.stops.size()) continue;
      const auto& s = run.score.stops[i - 1];
      props[run.announcer] = s.correct() ? "ok" : s.describe();
    }
    features.push_back(feature(std::move(props), point(ts.stop.position)));
  }

  for (const auto& light : truth.red_lights) {
    Json props = {{"kind", "red_light"},
                  {"before_stop", light.before_stop},
                  {"short_of_stop_m", rounded(light.short_of_stop_m, 10)},
                  {"start", tracking::format_time(light.start)},
                  {"end", tracking::format_time(light.end)}};
    features.push_back(feature(
        std::move(props), point(geo.line.projection.to_latlon(geo.point_at(light.distance_m)))));
  }

  // An outage: from the last fix before it to the first after it.
  for (const auto& o : truth.outages) {
    std::vector<routes::LatLon> gap;
    for (std::size_t k = 0; k < usable.size(); ++k) {
      const auto& f = fixes[usable[k]];
      if (f.time <= o.start) {
        gap.assign(1, *f.position);
      } else if (f.time >= o.end) {
        gap.push_back(*f.position);
        break;
      }
    }
    Json props = {{"kind", "outage"},
                  {"start", tracking::format_time(o.start)},
                  {"end", tracking::format_time(o.end)},
                  {"covers_stop", o.covers_stop}};
    if (gap.size() == 2) features.push_back(feature(std::move(props), line(gap)));
  }

  // Events, at the fix that caused them: the fix of that time, else the last one before it (a
  // tick between fixes).
  for (const auto& run : runs) {
    for (const auto& e : run.events) {
      auto it =
          std::upper_bound(usable.begin(), usable.end(), e.time,
                           [&](tracking::Time t, std::size_t i) { return t < fixes[i].time; });
      if (it == usable.begin()) continue;
      const auto& f = fixes[*(it - 1)];
      Json props = {{"kind", "event"},
                    {"announcer", run.announcer},
                    {"type", tracking::type_name(e.type)},
                    {"time", tracking::format_time(e.time)}};
      if (e.stop_index) props["stop_index"] = *e.stop_index;
      if (e.stop_id) props["stop_id"] = *e.stop_id;
      features.push_back(feature(std::move(props), point(*f.position)));
    }
  }

  // One feature per line, so that the file reads and diffs line by line.
  Json properties = {{"trip_id", trip.id},
                     {"noise", truth.noise_model},
                     {"seed", truth.seed},
                     {"start", tracking::format_time(truth.start)}};
  out << "{\"type\":\"FeatureCollection\",\"properties\":" << properties.dump()
      << ",\"features\":[\n";
  for (std::size_t i = 0; i < features.size(); ++i)
    out << features[i].dump() << (i + 1 < features.size() ? ",\n" : "\n");
  out << "]}\n";
}

}  // namespace stopcall::sim
