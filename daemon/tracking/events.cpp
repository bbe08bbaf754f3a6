#include "daemon/tracking/events.hpp"

#include <cmath>
#include <cstdio>

namespace stopcall::tracking {

std::string_view type_name(StopEvent::Type type) {
  using T = StopEvent::Type;
  switch (type) {
    case T::trip_started:
      return "trip_started";
    case T::next_stop:
      return "next_stop";
    case T::approaching:
      return "approaching";
    case T::arrived:
      return "arrived";
    case T::passed:
      return "passed";
    case T::departed:
      return "departed";
    case T::trip_ended:
      return "trip_ended";
    case T::off_route:
      return "off_route";
    case T::on_route:
      return "on_route";
    case T::gps_lost:
      return "gps_lost";
    case T::gps_restored:
      return "gps_restored";
    case T::position_uncertain:
      return "position_uncertain";
    case T::trip_detected:
      return "trip_detected";
    case T::trip_resumed:
      return "trip_resumed";
    case T::route_data_not_valid:
      return "route_data_not_valid";
  }
  return "unknown";
}

std::string format_time(Time time) {
  using namespace std::chrono;
  auto day = floor<days>(time);
  year_month_day ymd{day};
  hh_mm_ss<milliseconds> hms{time - day};
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ",
                static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()), static_cast<int>(hms.hours().count()),
                static_cast<int>(hms.minutes().count()), static_cast<int>(hms.seconds().count()),
                static_cast<int>(hms.subseconds().count()));
  return buf;
}

namespace {

void append_string(std::string& out, std::string_view s) {
  out += '"';
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        if (u < 0x20 || u == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", u);
          out += buf;
        } else {
          out += c;  // UTF-8 passes through unchanged
        }
    }
  }
  out += '"';
}

void append_key(std::string& out, std::string_view key) {
  out += ',';
  append_string(out, key);
  out += ':';
}

}  // namespace

std::string to_json_line(const StopEvent& e) {
  std::string out;
  out.reserve(160);
  out += "{\"type\":";
  append_string(out, type_name(e.type));
  append_key(out, "time");
  append_string(out, format_time(e.time));
  append_key(out, "trip_id");
  append_string(out, e.trip_id);
  if (e.stop_id) {
    append_key(out, "stop_id");
    append_string(out, *e.stop_id);
  }
  if (e.stop_sequence) {
    append_key(out, "stop_sequence");
    out += std::to_string(*e.stop_sequence);
  }
  if (e.stop_index) {
    append_key(out, "stop_index");
    out += std::to_string(*e.stop_index);
  }
  append_key(out, "distance_m");
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", std::isfinite(e.distance_m) ? e.distance_m : 0.0);
  out += buf;
  if (e.with_previous) {
    append_key(out, "with_previous");
    out += "true";
  }
  if (e.uncertain) {
    append_key(out, "uncertain");
    out += "true";
  }
  if (!e.note.empty()) {
    append_key(out, "note");
    append_string(out, e.note);
  }
  out += '}';
  return out;
}

}  // namespace stopcall::tracking
