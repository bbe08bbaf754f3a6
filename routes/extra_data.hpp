// Our own announcement data (`stopcall-routes import --extra DIR`, routes/README.md): phrases per
// stop, the exterior speaker's text per route, recorded clips, message presets (messages.csv,
// routes/message_presets.hpp). Read into the bundle being imported.
// This is the depot's own data, written for stopcall: a row that names a stop or route the feed
// does not have, or a clip that is not there, is an error (a typo the depot fixes), not a warning.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "routes/feed_source.hpp"
#include "routes/problem.hpp"
#include "routes/sqlite.hpp"

namespace stopcall::routes {

struct ExtraData {
  std::string dir;
  FeedLimits limits;
  std::function<bool(std::string_view)> stop_exists, route_exists;
};

struct ExtraCounts {
  long stop_phrases = 0;
  long clips = 0;  // distinct clip contents stored
  long message_presets = 0;
};

// Reads every file of `extra` that is there into `db` (the bundle's tables). Problems go to
// `problems`; throws RouteError only when the folder cannot be read.
ExtraCounts read_extra_data(const ExtraData& extra, sql::Db& db, Problems& problems);

}  // namespace stopcall::routes
