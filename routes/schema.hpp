// The route bundle's SQLite schema. Bump kSchemaVersion on any incompatible change; the daemon
// refuses a bundle whose PRAGMA user_version it does not know. A table added for new data, which
// older readers ignore, is not such a change: the reader then checks that the table is there, as
// buses keep bundles imported before it across a software update (message_presets,
// message_texts).
#pragma once

#include <string_view>

namespace stopcall::routes {

inline constexpr int kSchemaVersion = 1;

// Tables, created before the data is loaded.
extern const std::string_view kSchemaTables;
// Indexes, created after the bulk load (faster than maintaining them row by row).
extern const std::string_view kSchemaIndexes;

// The table that holds the depot's signature; it is the only table the signature does not cover.
inline constexpr std::string_view kSignatureTable = "bundle_signature";

}  // namespace stopcall::routes
