// GTFS feed -> route bundle. One pass over each file, streaming, with every row checked; the
// bundle file appears only when the whole feed imported without errors. What is an error and what
// a warning (and what is done about it) is the import policy in routes/README.md: only what would
// make the bus announce or show something wrong, or nothing, refuses a feed.
#pragma once

#include <string>

#include "routes/feed_source.hpp"
#include "routes/problem.hpp"

namespace stopcall::routes {

struct ImportOptions {
  std::string feed;       // GTFS zip or folder
  std::string output;     // bundle path; written aside and renamed into place on success
  std::string extra_dir;  // our own announcement data (see routes/README.md), optional
  FeedLimits limits;
  double max_stop_offset_m = 150;  // a stop farther than this from its trip's shape is reported
  bool strict = false;             // every warning is an error (`import --strict`)
};

struct ImportCounts {
  long agencies = 0, routes = 0, stops = 0, trips = 0, stop_times = 0, shapes = 0,
       derived_shapes = 0, patterns = 0, translations = 0, frequencies = 0, stop_phrases = 0,
       clips = 0, message_presets = 0;
};

struct ImportReport {
  Problems problems;
  ImportCounts counts;
  bool written = false;  // true when the bundle was written to options.output
};

// Never throws for problems in the feed (they go to the report); throws RouteError only when the
// output cannot be written. With errors, no output file is left behind.
ImportReport import_feed(const ImportOptions& options);

// Checks a feed without keeping a bundle (imports into a temporary file and removes it).
ImportReport validate_feed(const std::string& feed, const std::string& extra_dir = {},
                           bool strict = false);

}  // namespace stopcall::routes
