#include "daemon/tracking/events.hpp"

#include <cmath>
#include <cstdio>

#include "common/names.hpp"

namespace stopcall::tracking {

namespace {

using Type = StopEvent::Type;
constexpr names::Entry<Type> kTypes[] = {
    {Type::trip_started, "trip_started"},
    {Type::next_stop, "next_stop"},
    {Type::approaching, "approaching"},
    {Type::arrived, "arrived"},
    {Type::passed, "passed"},
    {Type::departed, "departed"},
    {Type::trip_ended, "trip_ended"},
    {Type::off_route, "off_route"},
    {Type::on_route, "on_route"},
    {Type::gps_lost, "gps_lost"},
    {Type::gps_restored, "gps_restored"},
    {Type::position_uncertain, "position_uncertain"},
    {Type::trip_detected, "trip_detected"},
    {Type::trip_resumed, "trip_resumed"},
    {Type::route_data_not_valid, "route_data_not_valid"},
};
static_assert(names::distinct(kTypes));

}  // namespace

std::string_view type_name(StopEvent::Type type) {
  return names::name_of(kTypes, type);
}

std::optional<StopEvent::Type> type_from_name(std::string_view name) {
  return names::value_of(kTypes, name);
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
