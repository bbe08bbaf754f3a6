// Value types of the route model: what the daemon knows about a trip.
// Plain data, no I/O; produced by routes::Bundle (bundle.hpp), consumed by the tracker and
// announcer.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace stopcall::routes {

struct LatLon {
  double lat = 0;  // degrees, WGS84
  double lon = 0;  // degrees, WGS84
  friend bool operator==(const LatLon&, const LatLon&) = default;
};

// Text per language. Keys are BCP 47 tags as the feed writes them ("zh-Hans", "yue", "en").
// The feed's own untranslated value is stored under the feed language (or "" when unknown).
using Names = std::map<std::string, std::string>;

// GTFS wheelchair_boarding: 0 unknown, 1 possible, 2 not possible.
enum class Wheelchair { unknown = 0, accessible = 1, not_accessible = 2 };

// A recorded clip in the bundle, fetched with Bundle::clip(sha256).
struct ClipRef {
  std::string sha256;
  std::string format;  // "wav", "ogg", "opus", "mp3", "flac"
  std::string text;    // what it says, for the subtitle
};

struct Stop {
  std::string id;
  std::string code;
  Names names;      // stop_name per language
  Names tts_names;  // tts_stop_name per language (pronunciation for speech); may be empty
  LatLon position;
  std::string parent_station;
  Wheelchair wheelchair = Wheelchair::unknown;
  Names extra_phrases;  // our own per-stop phrase per language, e.g. "Transfer to Metro Line 1"
  std::map<std::string, ClipRef> name_clips;    // recorded stop name per language
  std::map<std::string, ClipRef> phrase_clips;  // recorded extra phrase per language
};

struct TripStop {
  int stop_sequence = 0;  // the GTFS value (increasing, not necessarily contiguous)
  Stop stop;
  std::optional<int> arrival_s;  // seconds after the service day's noon-minus-12h, may exceed 24h
  std::optional<int> departure_s;
  double distance_m = 0;  // distance along the trip's shape, metres, non-decreasing along the trip
  double offset_m = 0;    // distance from the stop to the shape at that point, metres
};

struct ShapePoint {
  LatLon position;
  double distance_m = 0;  // cumulative along the shape, metres
};

struct Route {
  std::string id;
  std::string agency_id;
  Names short_names;  // route_short_name per language ("101")
  Names long_names;   // route_long_name per language
  int type = 3;       // GTFS route_type (3 = bus)
  std::string color;
  std::string text_color;
  Names exterior_texts;  // our own route-level exterior announcement text per language
};

struct Trip {
  std::string id;
  Route route;
  std::string service_id;
  Names headsigns;
  std::optional<int> direction_id;
  std::string block_id;
  std::string shape_id;
  bool shape_derived = false;  // true when the feed had no shape and it was built from the stops
  std::vector<TripStop> stops;
  std::vector<ShapePoint> shape;
};

// A message the bus can give on request (messages.csv in the --extra folder): an emergency
// (preempts everything, repeats until acknowledged) or a service message (a detour, a
// disruption; said after the current announcement and after stop departures).
enum class MessageKind { emergency, service };

struct MessagePreset {
  std::string id;  // "evacuate"
  MessageKind kind = MessageKind::service;
  Names title;           // short label per language for the driver's console ("Evacuate")
  Names text;            // what the screens show, per language
  Names spoken;          // what is said where it differs from text (may be empty)
  bool interior = true;  // outputs
  bool exterior = false;
  int repeat_interval_s = 0;  // emergency: seconds between repeats (0: the daemon's default, 30)
  int repeat_count = 0;       // service: times said again after stop departures (0: default 2)
  int expires_after_min = 0;  // 0: no expiry of its own
};

// A trip that may be running at a given moment, for route auto-detection and the driver's login.
struct TripCandidate {
  std::string trip_id;
  std::string route_id;
  std::string route_short_name;
  std::string headsign;
  std::optional<int> direction_id;
  std::string block_id;
  int first_departure_s = 0;
  int last_arrival_s = 0;
  long pattern_id = 0;  // trips with the same pattern share shape and stops
};

}  // namespace stopcall::routes
