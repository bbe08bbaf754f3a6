// messages.csv of our announcement data (`import --extra DIR`, routes/README.md): the emergency and
// service messages the bus gives on request (an evacuation order, a detour), one row each, a column
// per language and purpose:
//
//   message_id,kind,outputs,repeat_interval_s,repeat_count,expires_after_min,
//   title_<lang>...,text_<lang>...,spoken_<lang>...
//
// Read into the bundle's message_presets and message_texts tables (routes/schema.cpp); the daemon
// reads them back as MessagePreset (routes/model.hpp) through Bundle::message_presets(). As the
// rest of the depot's own data, a row that cannot be what the depot meant is an error naming the
// file and line, never guessed at.
#pragma once

#include <cstddef>
#include <string_view>

#include "routes/problem.hpp"
#include "routes/sqlite.hpp"
#include "routes/table_reader.hpp"

namespace stopcall::routes {

inline constexpr std::string_view kMessagesFile = "messages.csv";
inline constexpr std::size_t kMaxMessageIdBytes = 64;

// Reads every row of `table` (messages.csv, its header already read) into `db`. Problems go to
// `problems`; a row with an error is not stored. Returns the number of messages stored. Throws
// CsvError as TableReader does.
long read_message_presets(TableReader& table, sql::Db& db, Problems& problems);

}  // namespace stopcall::routes
