// The announcement JSON format of `stopcall-render` / `stopcalld render` (see media/README.md).
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "media/types.hpp"

namespace stopcall::media {

// Parses one announcement object. Relative clip paths are resolved against base_dir. Throws
// std::invalid_argument naming the offending field.
Announcement announcement_from_json(std::string_view json, const std::filesystem::path& base_dir);

// One line of a cues file: {"segment":0,"kind":"speech","text":…,"lang":…,"start_ms":…,"end_ms":…}
std::string cue_to_json_line(const Cue& cue);

}  // namespace stopcall::media
