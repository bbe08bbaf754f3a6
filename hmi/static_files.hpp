// Which file of the web root an HTTP request target names, or why none: the one place that
// decides what the screens' web server may read. Pure (apart from asking the file system whether
// the file exists and where its symlinks lead), so every traversal trick is tested directly.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace stopcall::hmi {

struct StaticFile {
  int status = 200;            // 200, or 400 (a bad or dangerous target) / 404 (no such file)
  std::filesystem::path path;  // status 200: the file to send
  std::string_view content_type;
  std::string reason;  // status != 200: why, for the log
};

// Resolves `target` (the request-target as sent: "/", "/css/display.css?v=2", "/%2e%2e/x") inside
// `root`. The target's path is percent-decoded once; a decoded NUL or backslash, an empty segment
// ("//etc"), a "." or ".." segment, and anything outside 1 KiB are 400. Segments beginning with '.'
// (hidden files), directories and missing files are 404, and so is a file whose real path (after
// symlinks) is outside the root's real path. "/" is "/index.html".
StaticFile resolve_static(const std::filesystem::path& root, std::string_view target);

// The Content-Type for a file name's extension; "application/octet-stream" when unknown.
std::string_view content_type_for(const std::filesystem::path& file);

// Percent-decodes `text`; false when an escape is not "%" followed by two hex digits.
bool percent_decode(std::string_view text, std::string& out);

}  // namespace stopcall::hmi
