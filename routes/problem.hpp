// What the depot tool tells depot staff: each problem found in a feed or a bundle, with where it
// is.
#pragma once

#include <cstdint>
#include <string>
#include <system_error>
#include <vector>

namespace stopcall::routes {

enum class Severity {
  warning,  // the data is usable; someone should look
  error,    // the data cannot be used on a bus
};

struct Problem {
  Problem() = default;
  Problem(Severity severity, std::string file, std::uint64_t line, std::string field,
          std::string value, std::string message, std::string action = {})
      : severity(severity),
        file(std::move(file)),
        line(line),
        field(std::move(field)),
        value(std::move(value)),
        message(std::move(message)),
        action(std::move(action)) {}

  Severity severity = Severity::error;
  std::string file;  // "stops.txt", or a bundle table
  std::uint64_t line =
      0;              // 1-based line in the file (the header is line 1); 0 when not tied to a line
  std::string field;  // column name, may be empty
  std::string value;  // the offending value (shortened), may be empty
  std::string message;
  // What the import did about it ("link dropped", "row ignored"); for errors, usually empty:
  // the feed is refused.
  std::string action;

  // "stops.txt:12: stop_lat: '95.1': latitude out of range" — one line a depot worker can act on;
  // "; " and the action follow when there is one.
  std::string to_string() const;
};

// Collects problems; keeps the first `max_kept` of each severity but counts all of them,
// so a feed with a million bad rows neither floods the terminal nor eats memory.
class Problems {
 public:
  explicit Problems(std::size_t max_kept = 1000) : max_kept_(max_kept) {}

  // Strict: every warning is recorded as an error (`import --strict`), its action saying what
  // would have been done without it.
  void set_strict(bool strict) { strict_ = strict; }
  bool strict() const { return strict_; }

  void add(Problem p);
  void error(std::string file, std::uint64_t line, std::string field, std::string value,
             std::string message);
  // `action`: what was done about it, e.g. "link dropped, the stop stays a stop".
  void warning(std::string file, std::uint64_t line, std::string field, std::string value,
               std::string message, std::string action = {});

  const std::vector<Problem>& kept() const { return kept_; }
  std::size_t error_count() const { return errors_; }
  std::size_t warning_count() const { return warnings_; }
  bool has_errors() const { return errors_ > 0; }

 private:
  std::size_t max_kept_;
  bool strict_ = false;
  std::size_t errors_ = 0;
  std::size_t warnings_ = 0;
  std::size_t kept_errors_ = 0;
  std::size_t kept_warnings_ = 0;
  std::vector<Problem> kept_;
};

// The route data error catalogue: failures of whole operations (as opposed to per-row problems).
enum class Errc {
  feed_unreadable = 1,   // the feed path is missing, not a folder or zip, or cannot be read
  feed_invalid,          // the feed has errors (listed as problems)
  feed_too_large,        // a file or the whole feed exceeds the import limits (zip bomb guard)
  bundle_unreadable,     // the bundle file is missing, not SQLite, or corrupt
  bundle_wrong_version,  // the bundle was written by an incompatible stopcall
  bundle_unsigned,       // no signature in the bundle
  signature_mismatch,    // the content does not match its signature, or another key signed it
  key_unreadable,        // a key file is missing or malformed
  install_failed,        // the bundle could not be installed; the active one is untouched
  bundle_unwritable,     // the import's output cannot be written (disk full, no permission)
  nothing_to_roll_back,  // no previous bundle kept
  trip_not_found,
};

const std::error_category& route_category() noexcept;
inline std::error_code make_error_code(Errc e) noexcept {
  return {static_cast<int>(e), route_category()};
}

// Thrown by the route tools for whole-operation failures; what() is the message for depot staff.
class RouteError : public std::system_error {
 public:
  RouteError(Errc code, const std::string& what) : std::system_error(make_error_code(code), what) {}
};

}  // namespace stopcall::routes

template <>
struct std::is_error_code_enum<stopcall::routes::Errc> : std::true_type {};
