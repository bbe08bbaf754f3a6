#include "depot/report/times.hpp"

#include <chrono>
#include <cstdio>

namespace stopcall::depot::report {

namespace chr = std::chrono;

std::optional<Time> parse_time(std::string_view s, int utc_offset_min) {
  std::size_t p = 0;
  auto number = [&](std::size_t n, int& out) {
    if (p + n > s.size()) return false;
    int v = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const char c = s[p + i];
      if (c < '0' || c > '9') return false;
      v = v * 10 + (c - '0');
    }
    p += n;
    out = v;
    return true;
  };
  auto literal = [&](char c) {
    if (p < s.size() && s[p] == c) {
      ++p;
      return true;
    }
    return false;
  };
  int y = 0, m = 0, d = 0;
  if (!number(4, y) || !literal('-') || !number(2, m) || !literal('-') || !number(2, d)) {
    return std::nullopt;
  }
  const chr::year_month_day ymd{chr::year{y}, chr::month{static_cast<unsigned>(m)},
                                chr::day{static_cast<unsigned>(d)}};
  if (!ymd.ok()) return std::nullopt;
  int hh = 0, mm = 0, ss = 0, ms = 0;
  if (literal('T') || literal(' ')) {
    if (!number(2, hh) || !literal(':') || !number(2, mm)) return std::nullopt;
    if (literal(':')) {
      if (!number(2, ss)) return std::nullopt;
      if (literal('.') || literal(',')) {
        int digits = 0;
        while (p < s.size() && s[p] >= '0' && s[p] <= '9') {
          if (digits < 3) ms = ms * 10 + (s[p] - '0');
          ++digits;
          ++p;
        }
        if (digits == 0) return std::nullopt;
        for (int i = digits; i < 3; ++i)
          ms *= 10;
      }
    }
    if (hh > 23 || mm > 59 || ss > 59) return std::nullopt;
  }
  int offset = utc_offset_min;
  if (literal('Z') || literal('z')) {
    offset = 0;
  } else if (p < s.size() && (s[p] == '+' || s[p] == '-')) {
    const int sign = s[p] == '-' ? -1 : 1;
    ++p;
    int oh = 0, om = 0;
    if (!number(2, oh)) return std::nullopt;
    if (p < s.size()) {
      literal(':');
      if (!number(2, om)) return std::nullopt;
    }
    if (oh > 14 || om > 59) return std::nullopt;
    offset = sign * (oh * 60 + om);
  }
  if (p != s.size()) return std::nullopt;
  return Time(chr::sys_days(ymd)) + chr::hours(hh) + chr::minutes(mm) + chr::seconds(ss) +
         chr::milliseconds(ms) - chr::minutes(offset);
}

std::string service_day(Time time, int utc_offset_min) {
  const chr::year_month_day ymd{chr::floor<chr::days>(time + chr::minutes(utc_offset_min))};
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
  return buf;
}

std::optional<int> offset_at(const std::vector<RecordedZone>& zones, Time t) {
  if (zones.empty()) return std::nullopt;
  int offset = zones.front().utc_offset_min;
  for (const auto& z : zones) {
    if (z.since > t) break;
    offset = z.utc_offset_min;
  }
  return offset;
}

}  // namespace stopcall::depot::report
