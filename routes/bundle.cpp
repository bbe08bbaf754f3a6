#include "routes/bundle.hpp"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>

#include "routes/geo.hpp"
#include "routes/problem.hpp"
#include "routes/schema.hpp"
#include "routes/sqlite.hpp"

namespace stopcall::routes {

struct Bundle::Impl {
  sql::Db db;
  std::string path;
  std::string feed_lang;
  bool has_messages = false;  // bundles imported before message presets have no such tables

  // Statements the daemon runs per trip load; prepared once.
  std::optional<sql::Stmt> stop_by_id, translation_by_record, translation_by_value, phrases_of_stop,
      clips_of_stop;

  void prepare() {
    stop_by_id.emplace(db.prepare(
        "SELECT code,name,tts_name,lat,lon,parent_station,wheelchair_boarding FROM stops "
        "WHERE stop_id=?"));
    translation_by_record.emplace(db.prepare(
        "SELECT language,translation FROM translations WHERE table_name=? AND field_name=? AND "
        "record_id=? AND record_sub_id IS NULL"));
    translation_by_value.emplace(db.prepare(
        "SELECT language,translation FROM translations WHERE table_name=? AND field_name=? AND "
        "field_value=? AND record_id IS NULL"));
    phrases_of_stop.emplace(db.prepare("SELECT language,text FROM stop_phrases WHERE stop_id=?"));
    clips_of_stop.emplace(
        db.prepare("SELECT sc.language,sc.purpose,sc.sha256,c.format,sc.text FROM stop_clips sc "
                   "JOIN clips c USING(sha256) WHERE sc.stop_id=?"));
  }

  // Fills names[lang] from translations of table.field for a record (by id or by its value);
  // the record's own value is the feed language's name.
  void names_for(Names& names, std::string_view table, std::string_view field,
                 std::string_view record_id, std::string_view value) {
    if (!value.empty()) names[feed_lang] = std::string(value);
    if (!value.empty()) {
      translation_by_value->bind(1, table).bind(2, field).bind(3, value);
      while (translation_by_value->step()) {
        names[translation_by_value->text(0)] = translation_by_value->text(1);
      }
      translation_by_value->reset();
    }
    // Translations by record id are more specific than by value: applied last.
    translation_by_record->bind(1, table).bind(2, field).bind(3, record_id);
    while (translation_by_record->step()) {
      names[translation_by_record->text(0)] = translation_by_record->text(1);
    }
    translation_by_record->reset();
  }

  Stop stop(const std::string& id) {
    stop_by_id->bind(1, id);
    if (!stop_by_id->step()) {
      stop_by_id->reset();
      throw RouteError(Errc::bundle_unreadable, path + ": stop " + id + " is missing");
    }
    Stop s;
    s.id = id;
    s.code = stop_by_id->text(0);
    std::string name = stop_by_id->text(1), tts = stop_by_id->text(2);
    s.position = {stop_by_id->real(3), stop_by_id->real(4)};
    s.parent_station = stop_by_id->text(5);
    s.wheelchair = static_cast<Wheelchair>(std::clamp(stop_by_id->integer(6), 0, 2));
    stop_by_id->reset();
    names_for(s.names, "stops", "stop_name", id, name);
    names_for(s.tts_names, "stops", "tts_stop_name", id, tts);
    phrases_of_stop->bind(1, id);
    while (phrases_of_stop->step())
      s.extra_phrases[phrases_of_stop->text(0)] = phrases_of_stop->text(1);
    phrases_of_stop->reset();
    clips_of_stop->bind(1, id);
    while (clips_of_stop->step()) {
      ClipRef clip{clips_of_stop->text(2), clips_of_stop->text(3), clips_of_stop->text(4)};
      auto& target = clips_of_stop->text_view(1) == "name" ? s.name_clips : s.phrase_clips;
      target[clips_of_stop->text(0)] = std::move(clip);
    }
    clips_of_stop->reset();
    return s;
  }
};

Bundle::Bundle(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Bundle::Bundle(Bundle&&) noexcept = default;
Bundle& Bundle::operator=(Bundle&&) noexcept = default;
Bundle::~Bundle() = default;

Bundle Bundle::open(const std::string& path) {
  if (!std::filesystem::is_regular_file(path)) {
    throw RouteError(Errc::bundle_unreadable, path + ": no such route bundle");
  }
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  try {
    impl->db = sql::Db(path, sql::Db::Mode::read_only);
    int version = impl->db.user_version();
    if (version != kSchemaVersion) {
      throw RouteError(Errc::bundle_wrong_version,
                       path + ": schema version " + std::to_string(version) +
                           ", this stopcall reads " + std::to_string(kSchemaVersion) +
                           "; re-import the feed");
    }
    auto meta = impl->db.prepare("SELECT value FROM bundle_meta WHERE key='feed_lang'");
    impl->feed_lang = meta.step() ? meta.text(0) : "und";
    auto messages = impl->db.prepare(
        "SELECT count(*) FROM sqlite_schema WHERE type='table' AND name IN "
        "('message_presets','message_texts')");
    impl->has_messages = messages.step() && messages.integer(0) == 2;
    impl->prepare();
  } catch (const sql::Error& e) {
    throw RouteError(Errc::bundle_unreadable, path + ": not a usable route bundle: " + e.what());
  }
  return Bundle(std::move(impl));
}

}  // namespace stopcall::routes

namespace stopcall::routes {

namespace {

std::vector<ShapePoint> decode_shape(std::string_view blob) {
  std::vector<ShapePoint> out(blob.size() / (3 * sizeof(double)));
  for (std::size_t i = 0; i < out.size(); ++i) {
    double v[3];
    std::memcpy(v, blob.data() + i * sizeof v, sizeof v);
    out[i] = {{v[0], v[1]}, v[2]};
  }
  return out;
}

TripCandidate candidate_from(const sql::Stmt& q) {
  TripCandidate c;
  c.trip_id = q.text(0);
  c.route_id = q.text(1);
  c.route_short_name = q.text(2);
  c.headsign = q.text(3);
  c.direction_id = q.opt_int(4);
  c.block_id = q.text(5);
  c.first_departure_s = q.integer(6);
  c.last_arrival_s = q.integer(7);
  c.pattern_id = static_cast<long>(q.int64(8));
  return c;
}

constexpr std::string_view kCandidateColumns =
    "SELECT t.trip_id,t.route_id,r.short_name,t.headsign,t.direction_id,t.block_id,"
    "t.first_departure_s,t.last_arrival_s,t.pattern_id FROM trips t JOIN routes r USING(route_id) ";

}  // namespace

BundleSummary Bundle::summary() const {
  auto& db = impl_->db;
  BundleSummary s;
  s.schema_version = db.user_version();
  auto meta = db.prepare("SELECT key,value FROM bundle_meta");
  while (meta.step()) {
    auto key = meta.text_view(0);
    if (key == "feed_version") s.feed_version = meta.text(1);
    if (key == "feed_publisher") s.feed_publisher = meta.text(1);
    if (key == "imported_at") s.imported_at = meta.text(1);
    if (key == "source") s.source = meta.text(1);
    if (key == "languages") {
      std::string all = meta.text(1);
      for (std::size_t start = 0; start < all.size();) {
        auto comma = all.find(',', start);
        if (comma == std::string::npos) comma = all.size();
        s.languages.push_back(all.substr(start, comma - start));
        start = comma + 1;
      }
    }
  }
  auto count = [&](const char* sql) {
    auto q = db.prepare(sql);
    return q.step() ? static_cast<long>(q.int64(0)) : 0L;
  };
  s.agencies = count("SELECT count(*) FROM agency");
  s.routes = count("SELECT count(*) FROM routes");
  s.stops = count("SELECT count(*) FROM stops");
  s.trips = count("SELECT count(*) FROM trips");
  s.stop_times = count("SELECT count(*) FROM stop_times");
  s.shapes = count("SELECT count(*) FROM shapes");
  s.derived_shapes = count("SELECT count(*) FROM shapes WHERE derived=1");
  s.translations = count("SELECT count(*) FROM translations");
  s.clips = count("SELECT count(*) FROM clips");
  s.message_presets = impl_->has_messages ? count("SELECT count(*) FROM message_presets") : 0;
  s.signed_ = count("SELECT count(*) FROM sqlite_schema WHERE name='bundle_signature'") > 0 &&
              count("SELECT count(*) FROM bundle_signature") > 0;
  return s;
}

std::string Bundle::timezone() const {
  auto q = impl_->db.prepare("SELECT timezone FROM agency ORDER BY rowid LIMIT 1");
  return q.step() ? q.text(0) : std::string("UTC");
}

Route Bundle::load_route(const std::string& route_id) const {
  auto q = impl_->db.prepare(
      "SELECT agency_id,short_name,long_name,type,color,text_color FROM routes WHERE route_id=?");
  q.bind(1, route_id);
  if (!q.step()) throw RouteError(Errc::trip_not_found, "no route " + route_id + " in the bundle");
  Route r;
  r.id = route_id;
  r.agency_id = q.text(0);
  impl_->names_for(r.short_names, "routes", "route_short_name", route_id, q.text_view(1));
  impl_->names_for(r.long_names, "routes", "route_long_name", route_id, q.text_view(2));
  r.type = q.integer(3);
  r.color = q.text(4);
  r.text_color = q.text(5);
  auto ext = impl_->db.prepare("SELECT language,text FROM route_exterior WHERE route_id=?");
  ext.bind(1, route_id);
  while (ext.step())
    r.exterior_texts[ext.text(0)] = ext.text(1);
  return r;
}

Stop Bundle::load_stop(const std::string& stop_id) const {
  return impl_->stop(stop_id);
}

Trip Bundle::load_trip(const std::string& trip_id) const {
  auto& db = impl_->db;
  auto q = db.prepare(
      "SELECT t.route_id,t.service_id,t.headsign,t.direction_id,t.block_id,t.shape_id,"
      "t.pattern_id,s.derived,s.points FROM trips t LEFT JOIN shapes s USING(shape_id) "
      "WHERE t.trip_id=?");
  q.bind(1, trip_id);
  if (!q.step()) throw RouteError(Errc::trip_not_found, "no trip " + trip_id + " in the bundle");
  Trip trip;
  trip.id = trip_id;
  std::string route_id = q.text(0);
  trip.service_id = q.text(1);
  impl_->names_for(trip.headsigns, "trips", "trip_headsign", trip_id, q.text_view(2));
  trip.direction_id = q.opt_int(3);
  trip.block_id = q.text(4);
  trip.shape_id = q.text(5);
  auto pattern_id = q.int64(6);
  trip.shape_derived = q.integer(7) != 0;
  trip.shape = decode_shape(q.blob(8));
  trip.route = load_route(route_id);

  auto stops = db.prepare(
      "SELECT ps.stop_id,ps.distance_m,ps.offset_m FROM pattern_stops ps WHERE ps.pattern_id=? "
      "ORDER BY ps.idx");
  stops.bind(1, pattern_id);
  while (stops.step()) {
    TripStop ts;
    ts.stop = impl_->stop(stops.text(0));
    ts.distance_m = stops.real(1);
    ts.offset_m = stops.real(2);
    trip.stops.push_back(std::move(ts));
  }
  auto times = db.prepare(
      "SELECT stop_sequence,arrival_s,departure_s FROM stop_times WHERE trip_id=? "
      "ORDER BY stop_sequence");
  times.bind(1, trip_id);
  std::size_t i = 0;
  while (times.step() && i < trip.stops.size()) {
    auto& ts = trip.stops[i++];
    ts.stop_sequence = times.integer(0);
    ts.arrival_s = times.opt_int(1);
    ts.departure_s = times.opt_int(2);
  }
  if (i != trip.stops.size()) {
    throw RouteError(Errc::bundle_unreadable,
                     impl_->path + ": trip " + trip_id + " has inconsistent stop times");
  }
  return trip;
}

namespace {

// The SQL for "the services active on ?1 (YYYYMMDD), ?2 the weekday (0 = Monday)".
constexpr std::string_view kActiveServices =
    "WITH active(service_id) AS ("
    " SELECT service_id FROM calendar WHERE ?1 BETWEEN start_date AND end_date"
    "  AND (days >> ?2) & 1"
    " UNION SELECT service_id FROM calendar_dates WHERE date=?1 AND exception_type=1"
    " EXCEPT SELECT service_id FROM calendar_dates WHERE date=?1 AND exception_type=2) ";

// Monday = 0 .. Sunday = 6 of a YYYYMMDD date.
int weekday_of(const std::string& date) {
  int y = std::stoi(date.substr(0, 4)), m = std::stoi(date.substr(4, 2)),
      d = std::stoi(date.substr(6, 2));
  std::chrono::year_month_day ymd{std::chrono::year(y), std::chrono::month(m), std::chrono::day(d)};
  return static_cast<int>(std::chrono::weekday(std::chrono::sys_days(ymd)).iso_encoding()) - 1;
}

}  // namespace

std::vector<TripCandidate> Bundle::candidate_trips(const std::string& date, int seconds,
                                                   int slack_s,
                                                   std::optional<NearPoint> near) const {
  auto q = impl_->db.prepare(
      std::string(kActiveServices) + std::string(kCandidateColumns) +
      "WHERE t.service_id IN active AND (?5 IS NULL OR t.pattern_id IN ("
      " SELECT ps.pattern_id FROM pattern_stops ps JOIN stops s USING(stop_id)"
      " JOIN stops_rtree r ON r.id=s.rowid"
      " WHERE r.min_lat<=?6 AND r.max_lat>=?5 AND r.min_lon<=?8 AND r.max_lon>=?7))"
      " AND ((t.first_departure_s <= ?3 + ?4"
      " AND t.last_arrival_s >= ?3 - ?4) OR EXISTS (SELECT 1 FROM frequencies f WHERE"
      " f.trip_id=t.trip_id AND f.start_s <= ?3 + ?4"
      " AND f.end_s + (t.last_arrival_s - t.first_departure_s) >= ?3 - ?4))"
      " ORDER BY t.first_departure_s, t.trip_id");
  q.bind(1, date).bind(2, weekday_of(date)).bind(3, seconds).bind(4, slack_s);
  if (near) {
    double dlat = near->radius_m / (geo::kEarthRadiusM * geo::kDegToRad);
    double dlon = dlat / std::max(0.01, std::cos(near->point.lat * geo::kDegToRad));
    q.bind(5, near->point.lat - dlat).bind(6, near->point.lat + dlat);
    q.bind(7, near->point.lon - dlon).bind(8, near->point.lon + dlon);
  }
  std::vector<TripCandidate> out;
  while (q.step())
    out.push_back(candidate_from(q));
  return out;
}

std::vector<TripCandidate> Bundle::trips_near(NearPoint near) const {
  auto q = impl_->db.prepare(
      std::string(kCandidateColumns) +
      "WHERE t.pattern_id IN ("
      " SELECT ps.pattern_id FROM pattern_stops ps JOIN stops s USING(stop_id)"
      " JOIN stops_rtree r ON r.id=s.rowid"
      " WHERE r.min_lat<=?2 AND r.max_lat>=?1 AND r.min_lon<=?4 AND r.max_lon>=?3)"
      " ORDER BY t.first_departure_s, t.trip_id");
  double dlat = near.radius_m / (geo::kEarthRadiusM * geo::kDegToRad);
  double dlon = dlat / std::max(0.01, std::cos(near.point.lat * geo::kDegToRad));
  q.bind(1, near.point.lat - dlat).bind(2, near.point.lat + dlat);
  q.bind(3, near.point.lon - dlon).bind(4, near.point.lon + dlon);
  std::vector<TripCandidate> out;
  while (q.step())
    out.push_back(candidate_from(q));
  return out;
}

std::optional<Bundle::ServicePeriod> Bundle::service_period() const {
  auto q = impl_->db.prepare(
      "SELECT min(d), max(d) FROM (SELECT start_date AS d FROM calendar"
      " UNION ALL SELECT end_date FROM calendar"
      " UNION ALL SELECT date FROM calendar_dates WHERE exception_type=1)");
  if (!q.step() || q.is_null(0)) return std::nullopt;
  return ServicePeriod{q.text(0), q.text(1)};
}

bool Bundle::has_service_on(const std::string& date) const {
  auto q = impl_->db.prepare(std::string(kActiveServices) +
                             "SELECT 1 FROM trips WHERE service_id IN active LIMIT 1");
  q.bind(1, date).bind(2, weekday_of(date));
  return q.step();
}

std::vector<TripCandidate> Bundle::trips_of_route(const std::string& route_id) const {
  auto q = impl_->db.prepare(std::string(kCandidateColumns) +
                             "WHERE t.route_id=? ORDER BY t.first_departure_s, t.trip_id");
  q.bind(1, route_id);
  std::vector<TripCandidate> out;
  while (q.step())
    out.push_back(candidate_from(q));
  return out;
}

std::string Bundle::next_trip_in_block(const std::string& trip_id) const {
  auto q = impl_->db.prepare(
      "SELECT n.trip_id FROM trips t JOIN trips n ON n.block_id=t.block_id AND "
      "n.service_id=t.service_id AND n.trip_id<>t.trip_id AND "
      "n.first_departure_s>=t.last_arrival_s "
      "WHERE t.trip_id=? AND t.block_id<>'' ORDER BY n.first_departure_s LIMIT 1");
  q.bind(1, trip_id);
  return q.step() ? q.text(0) : std::string();
}

std::vector<NearbyStop> Bundle::stops_near(LatLon point, double radius_m, int limit) const {
  double dlat = radius_m / (geo::kEarthRadiusM * geo::kDegToRad);
  double dlon = dlat / std::max(0.01, std::cos(point.lat * geo::kDegToRad));
  auto q = impl_->db.prepare(
      "SELECT s.stop_id,s.lat,s.lon FROM stops_rtree r JOIN stops s ON s.rowid=r.id "
      "WHERE r.min_lat<=?2 AND r.max_lat>=?1 AND r.min_lon<=?4 AND r.max_lon>=?3");
  q.bind(1, point.lat - dlat).bind(2, point.lat + dlat).bind(3, point.lon - dlon);
  q.bind(4, point.lon + dlon);
  std::vector<NearbyStop> out;
  while (q.step()) {
    NearbyStop s;
    s.stop_id = q.text(0);
    s.position = {q.real(1), q.real(2)};
    s.distance_m = geo::distance_m(point, s.position);
    if (s.distance_m <= radius_m) out.push_back(std::move(s));
  }
  std::sort(out.begin(), out.end(),
            [](const NearbyStop& a, const NearbyStop& b) { return a.distance_m < b.distance_m; });
  if (out.size() > static_cast<std::size_t>(limit)) out.resize(limit);
  for (auto& s : out)
    s.names = impl_->stop(s.stop_id).names;
  return out;
}

std::pair<std::string, std::string> Bundle::clip(const std::string& sha256) const {
  auto q = impl_->db.prepare("SELECT data,format FROM clips WHERE sha256=?");
  q.bind(1, sha256);
  if (!q.step()) throw RouteError(Errc::bundle_unreadable, "no clip " + sha256 + " in the bundle");
  return {std::string(q.blob(0)), q.text(1)};
}

namespace {

// Reads the presets the query's rows name (message_id, kind, interior, exterior, repeat_interval_s,
// repeat_count, expires_after_min; in order), with their texts.
std::vector<MessagePreset> presets_from(sql::Db& db, sql::Stmt& q) {
  std::vector<MessagePreset> out;
  auto texts = db.prepare("SELECT purpose,language,text FROM message_texts WHERE message_id=?");
  while (q.step()) {
    MessagePreset m;
    m.id = q.text(0);
    auto kind = q.text_view(1);
    // Only the importer writes this table; a kind it does not write is from a newer stopcall,
    // and a message this one cannot tell how to give is left out rather than given wrongly.
    if (kind != "emergency" && kind != "service") continue;
    m.kind = kind == "emergency" ? MessageKind::emergency : MessageKind::service;
    m.interior = q.integer(2) != 0;
    m.exterior = q.integer(3) != 0;
    m.repeat_interval_s = q.integer(4);
    m.repeat_count = q.integer(5);
    m.expires_after_min = q.integer(6);
    texts.bind(1, m.id);
    while (texts.step()) {
      auto purpose = texts.text_view(0);
      Names* target = purpose == "title"    ? &m.title
                      : purpose == "text"   ? &m.text
                      : purpose == "spoken" ? &m.spoken
                                            : nullptr;
      if (target) (*target)[texts.text(1)] = texts.text(2);
    }
    texts.reset();
    out.push_back(std::move(m));
  }
  return out;
}

constexpr std::string_view kPresetColumns =
    "SELECT message_id,kind,interior,exterior,repeat_interval_s,repeat_count,expires_after_min "
    "FROM message_presets ";

}  // namespace

std::vector<MessagePreset> Bundle::message_presets() const {
  if (!impl_->has_messages) return {};
  auto q = impl_->db.prepare(std::string(kPresetColumns) + "ORDER BY rowid");
  return presets_from(impl_->db, q);
}

std::optional<MessagePreset> Bundle::message_preset(const std::string& id) const {
  if (!impl_->has_messages) return std::nullopt;
  auto q = impl_->db.prepare(std::string(kPresetColumns) + "WHERE message_id=?");
  q.bind(1, id);
  auto found = presets_from(impl_->db, q);
  if (found.empty()) return std::nullopt;
  return std::move(found.front());
}

}  // namespace stopcall::routes
