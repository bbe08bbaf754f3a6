// The daemon's read API over a route bundle: open read-only, load one trip, list the trips that may
// be running at a moment, find stops near a point. Throws RouteError on a bundle it cannot use.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "routes/model.hpp"

namespace stopcall::routes {

struct BundleSummary {
  int schema_version = 0;
  std::string feed_version;
  std::string feed_publisher;
  std::string imported_at;             // ISO-8601 UTC
  std::string source;                  // the feed path it was imported from
  std::vector<std::string> languages;  // every language with at least one name
  long agencies = 0, routes = 0, stops = 0, trips = 0, stop_times = 0, shapes = 0,
       derived_shapes = 0, translations = 0, clips = 0, message_presets = 0;
  bool signed_ = false;
};

struct NearbyStop {
  std::string stop_id;
  Names names;
  LatLon position;
  double distance_m = 0;
};

class Bundle {
 public:
  // Opens read-only; checks the schema version. Throws RouteError(bundle_unreadable /
  // bundle_wrong_version).
  static Bundle open(const std::string& path);

  Bundle(Bundle&&) noexcept;
  Bundle& operator=(Bundle&&) noexcept;
  ~Bundle();

  BundleSummary summary() const;

  // The agencies' time zone (IANA name, e.g. "Asia/Shanghai"): GTFS times are local times there.
  std::string timezone() const;

  // One trip with its ordered stops (names per language, distances along the shape) and its shape.
  // Throws RouteError(trip_not_found).
  Trip load_trip(const std::string& trip_id) const;

  struct NearPoint {
    LatLon point;
    double radius_m = 800;
  };
  // Trips whose service runs on `date` (YYYYMMDD, the service day) and that are under way within
  // [seconds - slack_s, seconds + slack_s] of that service day; with `near`, only trips that serve
  // a stop within radius_m of the point (R-tree lookup).
  std::vector<TripCandidate> candidate_trips(const std::string& date, int seconds,
                                             int slack_s = 1800,
                                             std::optional<NearPoint> near = {}) const;

  // Every trip that serves a stop within radius_m of the point, whatever its service dates
  // (for route data that has no service on the day: the timetable then only ranks them).
  std::vector<TripCandidate> trips_near(NearPoint near) const;

  // The first and last service dates (YYYYMMDD) of the whole bundle; nullopt without any.
  struct ServicePeriod {
    std::string first_date, last_date;
  };
  std::optional<ServicePeriod> service_period() const;
  // Whether any trip runs on `date` (YYYYMMDD, a service day).
  bool has_service_on(const std::string& date) const;

  // Trips of one route (all service days), ordered by first departure.
  std::vector<TripCandidate> trips_of_route(const std::string& route_id) const;

  // The trip that follows `trip_id` in the same block on the same service day, if any.
  std::string next_trip_in_block(const std::string& trip_id) const;

  // Stops within radius_m of a point, nearest first (R-tree lookup).
  std::vector<NearbyStop> stops_near(LatLon point, double radius_m, int limit = 20) const;

  Stop load_stop(const std::string& stop_id) const;
  Route load_route(const std::string& route_id) const;

  // Bytes of a recorded clip by its sha256, and its format ("wav", "ogg", ...).
  std::pair<std::string, std::string> clip(const std::string& sha256) const;

  // The emergency and service messages the bus can give on request (messages.csv), in the order
  // the depot wrote them. None from a bundle imported before message presets existed.
  std::vector<MessagePreset> message_presets() const;
  std::optional<MessagePreset> message_preset(const std::string& id) const;

 private:
  struct Impl;
  explicit Bundle(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace stopcall::routes
