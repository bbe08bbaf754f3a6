#include "hmi/static_files.hpp"

#include <array>
#include <system_error>
#include <utility>
#include <vector>

namespace stopcall::hmi {
namespace {

constexpr std::size_t kMaxTarget = 1024;

StaticFile refuse(int status, std::string reason) {
  StaticFile out;
  out.status = status;
  out.reason = std::move(reason);
  return out;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// True when `inner` is `outer` or below it; both already canonical.
bool is_within(const std::filesystem::path& inner, const std::filesystem::path& outer) {
  auto i = inner.begin();
  for (auto o = outer.begin(); o != outer.end(); ++o, ++i) {
    if (o->empty()) continue;  // a trailing separator
    if (i == inner.end() || *i != *o) return false;
  }
  return true;
}

}  // namespace

bool percent_decode(std::string_view text, std::string& out) {
  out.clear();
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out.push_back(text[i]);
      continue;
    }
    if (i + 2 >= text.size()) return false;
    int high = hex_value(text[i + 1]);
    int low = hex_value(text[i + 2]);
    if (high < 0 || low < 0) return false;
    out.push_back(static_cast<char>(high * 16 + low));
    i += 2;
  }
  return true;
}

std::string_view content_type_for(const std::filesystem::path& file) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 14> kTypes{{
      {".html", "text/html; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".json", "application/json"},
      {".webmanifest", "application/manifest+json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".jpg", "image/jpeg"},
      {".ico", "image/x-icon"},
      {".woff2", "font/woff2"},
      {".txt", "text/plain; charset=utf-8"},
      {".md", "text/markdown; charset=utf-8"},
      {".wav", "audio/wav"},
  }};
  const std::string extension = file.extension().string();
  for (const auto& [ext, type] : kTypes) {
    if (extension == ext) return type;
  }
  return "application/octet-stream";
}

StaticFile resolve_static(const std::filesystem::path& root, std::string_view target) {
  if (target.size() > kMaxTarget) return refuse(400, "target longer than 1 KiB");
  if (auto cut = target.find_first_of("?#"); cut != std::string_view::npos) {
    target = target.substr(0, cut);
  }
  if (target.empty() || target.front() != '/') {
    return refuse(400, "target is not an absolute path (origin-form)");
  }
  std::string decoded;
  if (!percent_decode(target, decoded)) return refuse(400, "bad percent-encoding");
  if (decoded.find('\0') != std::string::npos) return refuse(400, "NUL in path");
  if (decoded.find('\\') != std::string::npos) return refuse(400, "backslash in path");
  // The two screens' addresses: the passenger display at /, the driver console at /driver.
  if (decoded == "/") decoded = "/index.html";
  if (decoded == "/driver" || decoded == "/driver/") decoded = "/driver.html";

  // Split after decoding, so "%2e%2e%2f" is seen as the "../" it means.
  std::vector<std::string_view> segments;
  std::string_view rest(decoded);
  rest.remove_prefix(1);
  while (true) {
    auto slash = rest.find('/');
    std::string_view segment = rest.substr(0, slash);
    if (segment.empty()) return refuse(400, "empty path segment");
    if (segment == "." || segment == "..") return refuse(400, "dot segment in path");
    if (segment.front() == '.') return refuse(404, "hidden file");
    segments.push_back(segment);
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }

  std::filesystem::path file = root;
  for (auto segment : segments)
    file /= std::filesystem::path(std::string(segment));

  // Symlinks inside the web root must not lead out of it.
  std::error_code ec;
  auto real_root = std::filesystem::canonical(root, ec);
  if (ec) return refuse(404, "web root missing: " + ec.message());
  auto real_file = std::filesystem::canonical(file, ec);
  if (ec) return refuse(404, "no such file");
  if (!is_within(real_file, real_root)) return refuse(404, "outside the web root");
  if (!std::filesystem::is_regular_file(real_file, ec)) return refuse(404, "not a regular file");

  StaticFile out;
  out.path = real_file;
  out.content_type = content_type_for(real_file);
  return out;
}

}  // namespace stopcall::hmi
