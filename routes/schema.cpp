#include "routes/schema.hpp"

namespace stopcall::routes {

// Conventions: GTFS names where GTFS has them; times as seconds since the service day's start
// (GTFS "noon minus 12h", may exceed 24h); dates as 'YYYYMMDD' text as in GTFS; src_line is the
// line in the feed file the row came from, so `validate BUNDLE` can point back at the feed.
const std::string_view kSchemaTables = R"sql(
CREATE TABLE bundle_meta (
  key   TEXT PRIMARY KEY NOT NULL,
  value TEXT NOT NULL
);
CREATE TABLE agency (
  agency_id TEXT PRIMARY KEY NOT NULL,
  name      TEXT NOT NULL,
  url       TEXT,
  timezone  TEXT NOT NULL,
  lang      TEXT,
  src_line  INTEGER
);
CREATE TABLE routes (
  route_id   TEXT PRIMARY KEY NOT NULL,
  agency_id  TEXT,
  short_name TEXT,
  long_name  TEXT,
  type       INTEGER NOT NULL,
  color      TEXT,
  text_color TEXT,
  src_line   INTEGER
);
CREATE TABLE stops (
  stop_id             TEXT PRIMARY KEY NOT NULL,
  code                TEXT,
  name                TEXT,
  tts_name            TEXT,
  lat                 REAL,
  lon                 REAL,
  location_type       INTEGER NOT NULL DEFAULT 0,
  parent_station      TEXT,
  wheelchair_boarding INTEGER NOT NULL DEFAULT 0,
  src_line            INTEGER
);
CREATE TABLE shapes (
  shape_id TEXT PRIMARY KEY NOT NULL,
  derived  INTEGER NOT NULL DEFAULT 0,  -- 1: built by stopcall from the trip's stops
  length_m REAL NOT NULL,
  points   BLOB NOT NULL                -- little-endian float64 triples: lat, lon, distance_m
);
CREATE TABLE patterns (                 -- one per distinct (shape, stop list); trips share them
  pattern_id INTEGER PRIMARY KEY,
  shape_id   TEXT NOT NULL,
  stop_count INTEGER NOT NULL
);
CREATE TABLE pattern_stops (
  pattern_id INTEGER NOT NULL,
  idx        INTEGER NOT NULL,           -- 0-based position in the trip
  stop_id    TEXT NOT NULL,
  distance_m REAL NOT NULL,              -- along the shape, non-decreasing with idx
  offset_m   REAL NOT NULL,              -- from the stop to the shape
  PRIMARY KEY (pattern_id, idx)
) WITHOUT ROWID;
CREATE TABLE trips (
  trip_id      TEXT PRIMARY KEY NOT NULL,
  route_id     TEXT NOT NULL,
  service_id   TEXT NOT NULL,
  headsign     TEXT,
  short_name   TEXT,
  direction_id INTEGER,
  block_id     TEXT,
  shape_id     TEXT,
  pattern_id   INTEGER,
  first_departure_s INTEGER,
  last_arrival_s    INTEGER,
  src_line     INTEGER
);
CREATE TABLE stop_times (
  trip_id        TEXT NOT NULL,
  stop_sequence  INTEGER NOT NULL,
  stop_id        TEXT NOT NULL,
  arrival_s      INTEGER,
  departure_s    INTEGER,
  pickup_type    INTEGER NOT NULL DEFAULT 0,
  drop_off_type  INTEGER NOT NULL DEFAULT 0,
  src_line       INTEGER
);
CREATE TABLE frequencies (          -- trips run as headways: the trip's times are a template
  trip_id     TEXT NOT NULL,
  start_s     INTEGER NOT NULL,
  end_s       INTEGER NOT NULL,
  headway_s   INTEGER NOT NULL,
  exact_times INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE calendar (
  service_id TEXT PRIMARY KEY NOT NULL,
  days       INTEGER NOT NULL,   -- bit 0 Monday .. bit 6 Sunday
  start_date TEXT NOT NULL,
  end_date   TEXT NOT NULL
);
CREATE TABLE calendar_dates (
  service_id     TEXT NOT NULL,
  date           TEXT NOT NULL,
  exception_type INTEGER NOT NULL,  -- 1 added, 2 removed
  PRIMARY KEY (service_id, date)
) WITHOUT ROWID;
CREATE TABLE translations (          -- the current GTFS form; the older form is converted to it
  table_name    TEXT NOT NULL,
  field_name    TEXT NOT NULL,
  language      TEXT NOT NULL,
  translation   TEXT NOT NULL,
  record_id     TEXT,
  record_sub_id TEXT,
  field_value   TEXT
);
CREATE TABLE stop_phrases (          -- from --extra: spoken and shown after the stop name
  stop_id  TEXT NOT NULL,
  language TEXT NOT NULL,
  text     TEXT NOT NULL,
  PRIMARY KEY (stop_id, language)
) WITHOUT ROWID;
CREATE TABLE route_exterior (        -- from --extra: what the exterior speaker says for a route
  route_id TEXT NOT NULL,
  language TEXT NOT NULL,
  text     TEXT NOT NULL,
  PRIMARY KEY (route_id, language)
) WITHOUT ROWID;
CREATE TABLE clips (                 -- from --extra: recorded audio, stored by content
  sha256 TEXT PRIMARY KEY NOT NULL,
  format TEXT NOT NULL,              -- file extension: wav, ogg, opus, mp3, flac
  data   BLOB NOT NULL
);
CREATE TABLE stop_clips (
  stop_id  TEXT NOT NULL,
  language TEXT NOT NULL,
  purpose  TEXT NOT NULL,            -- 'name' (the stop name) or 'phrase'
  sha256   TEXT NOT NULL REFERENCES clips(sha256),
  text     TEXT NOT NULL,            -- what the clip says, for the subtitle
  PRIMARY KEY (stop_id, language, purpose)
) WITHOUT ROWID;
CREATE TABLE message_presets (       -- from --extra messages.csv, in file order (rowid)
  message_id        TEXT PRIMARY KEY NOT NULL,
  kind              TEXT NOT NULL,     -- 'emergency' or 'service'
  interior          INTEGER NOT NULL,  -- 1: said and shown inside
  exterior          INTEGER NOT NULL,  -- 1: said outside
  repeat_interval_s INTEGER NOT NULL,  -- 0: the daemon's default
  repeat_count      INTEGER NOT NULL,  -- 0: the daemon's default
  expires_after_min INTEGER NOT NULL,  -- 0: no expiry of its own
  src_line          INTEGER
);
CREATE TABLE message_texts (
  message_id TEXT NOT NULL REFERENCES message_presets(message_id),
  purpose    TEXT NOT NULL,            -- 'title', 'text' or 'spoken'
  language   TEXT NOT NULL,
  text       TEXT NOT NULL,
  PRIMARY KEY (message_id, purpose, language)
) WITHOUT ROWID;
CREATE VIRTUAL TABLE stops_rtree USING rtree(id, min_lat, max_lat, min_lon, max_lon);
)sql";

const std::string_view kSchemaIndexes = R"sql(
CREATE INDEX stop_times_by_trip ON stop_times(trip_id, stop_sequence);
CREATE INDEX pattern_stops_by_stop ON pattern_stops(stop_id);
CREATE INDEX trips_by_route ON trips(route_id, direction_id);
CREATE INDEX trips_by_service ON trips(service_id);
CREATE INDEX trips_by_pattern ON trips(pattern_id);
CREATE INDEX trips_by_block ON trips(block_id);
CREATE INDEX calendar_dates_by_date ON calendar_dates(date);
CREATE INDEX translations_by_record ON translations(table_name, field_name, record_id);
CREATE INDEX translations_by_value ON translations(table_name, field_name, field_value);
CREATE INDEX stops_by_parent ON stops(parent_station);
CREATE INDEX frequencies_by_trip ON frequencies(trip_id);
)sql";

}  // namespace stopcall::routes
