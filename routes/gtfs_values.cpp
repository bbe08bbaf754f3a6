#include "routes/gtfs_values.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>

namespace stopcall::routes::gtfs {

std::optional<long> parse_int(std::string_view s) {
  long v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

std::optional<double> parse_double(std::string_view s) {
  double v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty() || !std::isfinite(v)) {
    return std::nullopt;
  }
  return v;
}

std::optional<int> parse_time(std::string_view s) {
  auto c1 = s.find(':');
  if (c1 == std::string_view::npos || s.size() != c1 + 6 || s[c1 + 3] != ':') return std::nullopt;
  auto h = parse_int(s.substr(0, c1)), m = parse_int(s.substr(c1 + 1, 2)),
       sec = parse_int(s.substr(c1 + 4, 2));
  if (!h || !m || !sec || *h < 0 || *h > 200 || *m > 59 || *sec > 59 || *m < 0 || *sec < 0) {
    return std::nullopt;
  }
  return static_cast<int>(*h * 3600 + *m * 60 + *sec);
}

bool valid_date(std::string_view s) {
  if (s.size() != 8) return false;
  auto v = parse_int(s);
  if (!v) return false;
  int y = static_cast<int>(*v / 10000), m = static_cast<int>(*v / 100 % 100),
      d = static_cast<int>(*v % 100);
  return y >= 1900 && y <= 2200 && m >= 1 && m <= 12 && d >= 1 && d <= 31;
}

std::string format_time(int s) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%02d:%02d:%02d", s / 3600, s / 60 % 60, s % 60);
  return buf;
}

}  // namespace stopcall::routes::gtfs
