#include "depot/report/render_phrases.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

namespace stopcall::depot::report::phrases {

std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string percent(std::optional<double> s) {
  return s ? fixed(*s * 100.0, 1) + " %" : std::string("–");
}

std::string of(int ok, int all) {
  return std::to_string(ok) + " of " + std::to_string(all) + " (" + percent(share(ok, all)) + ")";
}

// "12 of 15 (80.0 %); 2 first heard after the bus reached the stop, 9 cut short"
std::string heard_text(int ok, int stops, int late, int cut) {
  return of(ok, stops) + "; " + std::to_string(late) +
         " first heard after the bus reached the stop, " + std::to_string(cut) + " cut short";
}

std::string exterior_text(const Figures& f) {
  return std::to_string(f.exterior_heard) + " of " + std::to_string(f.exterior_stops) +
         " stops where the bus arrived or opened its doors (" +
         percent(share(f.exterior_heard, f.exterior_stops)) + ")";
}

std::string trip_label(const TripReport& t) {
  return t.trip_id.empty() ? std::string("(no trip)") : t.trip_id;
}

// Kinds in a fixed order (stop announcements first), then any others.
std::vector<std::string> kind_order(const Figures& f) {
  static const std::vector<std::string> known = {
      "next_stop",      "approaching",        "repeat",
      "exterior_route", "boarding_request",   "ramp_assist",
      "ramp_warning",   "wheelchair_request", "stop_request"};
  std::vector<std::string> out;
  for (const auto& k : known)
    if (f.kinds.count(k)) out.push_back(k);
  for (const auto& [k, v] : f.kinds)
    if (std::find(known.begin(), known.end(), k) == known.end()) out.push_back(k);
  return out;
}

std::string window_text(const Report& r) {
  const auto& o = r.options;
  std::string w = o.from ? "from " + format_time(*o.from) : std::string("from the start");
  w += o.to ? " to " + format_time(*o.to) + " (excluded)" : std::string(" to the end");
  auto zone_text = [](int offset) {
    const int off = std::abs(offset);
    char zone[32];
    std::snprintf(zone, sizeof zone, "UTC%c%02d:%02d", offset < 0 ? '-' : '+', off / 60, off % 60);
    return std::string(zone);
  };
  if (o.utc_offset_min) return w + "; service days in " + zone_text(*o.utc_offset_min);
  if (r.zones.empty()) return w + "; service days in UTC+00:00 (the log records no time zone)";
  std::string zones;
  for (const auto& z : r.zones) {
    const std::string one = z.name + " (" + zone_text(z.utc_offset_min) + ")";
    if (zones.find(one) == std::string::npos) zones += (zones.empty() ? "" : ", ") + one;
  }
  return w + "; service days in " + zones + ", as the bus recorded it";
}

std::string speed_note(const Report& r) {
  char text[256];
  std::snprintf(text, sizeof text,
                "this log was replayed about %.0f times faster than real time: announcements had "
                "that much less time between stops than on a bus, so cut-short and expired "
                "announcements here do not show what a bus gets",
                r.clock_speed.value_or(1));
  return text;
}

std::string days_text(const Report& r) {
  if (r.days.empty()) return "";
  if (r.days.size() == 1) return r.days.front().day;
  return r.days.front().day + ".." + r.days.back().day;
}

int trip_count(const Report& r) {
  int n = 0;
  for (const auto& t : r.trips)
    n += !t.trip_id.empty();
  return n;
}

std::string failures_text(const KindFigures& k) {
  return std::to_string(k.failures()) + " (expired " + std::to_string(k.expired) +
         ", interrupted " + std::to_string(k.interrupted) + ", cancelled " +
         std::to_string(k.cancelled) + ", failed " + std::to_string(k.failed) + "); never heard " +
         std::to_string(k.never_heard) + " of " + std::to_string(k.announced) + " announcements";
}

std::string seconds_text(std::optional<double> s) {
  return s ? fixed(*s, 1) + " s" : std::string("–");
}

std::string heard_after_text(const MessageReport& m, bool interior) {
  const bool heard = interior ? m.heard_interior : m.heard_exterior;
  const auto after = interior ? m.heard_interior_s : m.heard_exterior_s;
  if (after) return seconds_text(after);
  if (heard) return "heard";
  // Where its sayings went is known from their announcement lines; without them, it may have.
  const bool sent_there = interior ? m.to_interior : m.to_exterior;
  if (!sent_there && (m.to_interior || m.to_exterior)) return "–";
  return "not heard";
}

std::string acknowledged_text(const MessageReport& m) {
  if (m.acknowledged) {
    return (m.acknowledged_s ? "after " + seconds_text(m.acknowledged_s) : std::string("yes")) +
           (m.acknowledged_by.empty() ? "" : " (" + m.acknowledged_by + ")");
  }
  return m.kind == "emergency" ? "no" : "–";
}

std::string end_text(const MessageReport& m) {
  if (m.end == "active") return "still active at the end of the log";
  std::string s = m.end == "ended" ? std::string("said as often as it was to be") : m.end;
  if (!m.ended_by.empty()) s += " (" + m.ended_by + ")";
  if (m.lasted_s) s += " after " + seconds_text(m.lasted_s);
  return s;
}

std::string list_text(const std::vector<std::string>& items) {
  std::string s;
  for (const auto& item : items)
    s += (s.empty() ? "" : ", ") + item;
  return s.empty() ? std::string("–") : s;
}

std::string by_kind_text(const MessageFigures& f) {
  std::string s;
  for (const auto& [kind, sources] : f.by_kind) {
    int n = 0;
    std::string each;
    for (const auto& [source, count] : sources) {
      n += count;
      each += (each.empty() ? "" : ", ") + source + " " + std::to_string(count);
    }
    s += (s.empty() ? "" : "; ") + kind + " " + std::to_string(n) + " (" + each + ")";
  }
  return s.empty() ? std::string("none") : s;
}

std::string slowest_text(const MessageFigures& f) {
  if (!f.slowest_s) return "–";
  return seconds_text(f.slowest_s) + " (" + f.slowest_id + ", " + f.slowest_output + ")";
}

std::string refused_text(const MessageFigures& f) {
  std::string s = std::to_string(f.refused.size());
  std::string reasons;
  for (const auto& [why, count] : f.refused_by_reason)
    reasons += (reasons.empty() ? "" : ", ") + why + " (" + std::to_string(count) + ")";
  return reasons.empty() ? s : s + ": " + reasons;
}

}  // namespace stopcall::depot::report::phrases
