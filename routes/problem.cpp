#include "routes/problem.hpp"

namespace stopcall::routes {

std::string Problem::to_string() const {
  std::string out = severity == Severity::error ? "error: " : "warning: ";
  if (!file.empty()) {
    out += file;
    if (line > 0) out += ":" + std::to_string(line);
    out += ": ";
  }
  if (!field.empty()) out += field + ": ";
  if (!value.empty()) out += "'" + value + "': ";
  out += message;
  if (!action.empty()) out += "; " + action;
  return out;
}

void Problems::add(Problem p) {
  if (strict_ && p.severity == Severity::warning) {
    p.severity = Severity::error;
    p.action =
        "refused under --strict" + (p.action.empty() ? "" : " (otherwise: " + p.action + ")");
  }
  if (p.severity == Severity::error) {
    ++errors_;
    if (kept_errors_ >= max_kept_) return;
    ++kept_errors_;
  } else {
    ++warnings_;
    if (kept_warnings_ >= max_kept_) return;
    ++kept_warnings_;
  }
  // Values are echoed to a terminal: keep them short.
  if (p.value.size() > 80) p.value = p.value.substr(0, 77) + "...";
  kept_.push_back(std::move(p));
}

void Problems::error(std::string file, std::uint64_t line, std::string field, std::string value,
                     std::string message) {
  add({Severity::error, std::move(file), line, std::move(field), std::move(value),
       std::move(message)});
}

void Problems::warning(std::string file, std::uint64_t line, std::string field, std::string value,
                       std::string message, std::string action) {
  add({Severity::warning, std::move(file), line, std::move(field), std::move(value),
       std::move(message), std::move(action)});
}

namespace {
class RouteCategory : public std::error_category {
 public:
  const char* name() const noexcept override { return "stopcall.routes"; }
  std::string message(int ev) const override {
    switch (static_cast<Errc>(ev)) {
      case Errc::feed_unreadable:
        return "the feed cannot be read";
      case Errc::feed_invalid:
        return "the feed has errors";
      case Errc::feed_too_large:
        return "the feed is larger than the import limits";
      case Errc::bundle_unreadable:
        return "the route bundle cannot be read";
      case Errc::bundle_wrong_version:
        return "the route bundle has an unsupported schema version";
      case Errc::bundle_unsigned:
        return "the route bundle is not signed";
      case Errc::signature_mismatch:
        return "the route bundle does not match its signature";
      case Errc::key_unreadable:
        return "the key cannot be read";
      case Errc::install_failed:
        return "the route bundle could not be installed";
      case Errc::bundle_unwritable:
        return "the route bundle cannot be written";
      case Errc::nothing_to_roll_back:
        return "there is no previous route bundle to roll back to";
      case Errc::trip_not_found:
        return "no such trip in the route bundle";
    }
    return "unknown route data error";
  }
};
}  // namespace

const std::error_category& route_category() noexcept {
  static const RouteCategory category;
  return category;
}

}  // namespace stopcall::routes
