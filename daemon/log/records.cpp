#include "daemon/log/records.hpp"

#include <limits>
#include <nlohmann/json.hpp>
#include <type_traits>

namespace stopcall::log {

namespace {

using json = nlohmann::ordered_json;

template <class T>
constexpr std::string_view kType = {};
template <>
constexpr std::string_view kType<Announcement> = "announcement";
template <>
constexpr std::string_view kType<AnnouncementResult> = "announcement_result";
template <>
constexpr std::string_view kType<Sound> = "sound";
template <>
constexpr std::string_view kType<TimeZone> = "time_zone";
template <>
constexpr std::string_view kType<Fault> = "fault";
template <>
constexpr std::string_view kType<Held> = "held";
template <>
constexpr std::string_view kType<Prompt> = "prompt";
template <>
constexpr std::string_view kType<GpsWaiting> = "gps_waiting";
template <>
constexpr std::string_view kType<GpsFirstFix> = "gps_first_fix";
template <>
constexpr std::string_view kType<Volume> = "volume";
template <>
constexpr std::string_view kType<Login> = "login";
template <>
constexpr std::string_view kType<Request> = "request";
template <>
constexpr std::string_view kType<Signal> = "signal";
template <>
constexpr std::string_view kType<Message> = "message";
template <>
constexpr std::string_view kType<FleetCommand> = "fleet_command";
template <>
constexpr std::string_view kType<RouteData> = "route_data";

// Every field of a record after "type", in the order of the line: f(key, member). The one list
// both the encoder and the decoder follow.
template <class R, class F>
void each_field(R& r, F&& f) {
  using T = std::remove_const_t<R>;
  f("time", r.time);
  if constexpr (std::is_same_v<T, Announcement>) {
    f("id", r.id);
    f("kind", r.kind);
    f("priority", r.priority);
    f("outputs", r.outputs);
    f("languages", r.languages);
    f("segments", r.segments);
    f("text", r.text);
    f("trip_id", r.trip_id);
    f("distance_m", r.distance_m);
    f("form", r.form);
  } else if constexpr (std::is_same_v<T, AnnouncementResult>) {
    f("id", r.id);
    f("output", r.output);
    f("outcome", r.outcome);
  } else if constexpr (std::is_same_v<T, Sound>) {
    f("id", r.id);
    f("output", r.output);
    f("after_ms", r.after_ms);
    f("mono_ns", r.mono_ns);
  } else if constexpr (std::is_same_v<T, TimeZone>) {
    f("time_zone", r.time_zone);
    f("utc_offset_min", r.utc_offset_min);
  } else if constexpr (std::is_same_v<T, Fault>) {
    f("kind", r.kind);
    f("door", r.door);
    f("kmh", r.kmh);
    f("moved_s", r.moved_s);
    f("message", r.message);
  } else if constexpr (std::is_same_v<T, Held>) {
    f("id", r.id);
    f("why", r.why);
  } else if constexpr (std::is_same_v<T, Prompt>) {
    f("to", r.to);
    f("kind", r.kind);
    f("id", r.id);
    f("active", r.active);
    f("stop_id", r.stop_id);
    f("text", r.text);
  } else if constexpr (std::is_same_v<T, GpsWaiting>) {
    f("clock", r.clock);
    f("message", r.message);
  } else if constexpr (std::is_same_v<T, GpsFirstFix>) {
    // the time only
  } else if constexpr (std::is_same_v<T, Volume>) {
    f("output", r.output);
    f("level", r.level);
  } else if constexpr (std::is_same_v<T, Login>) {
    f("trip_id", r.trip_id);
    f("source", r.source);
  } else if constexpr (std::is_same_v<T, Request>) {
    f("id", r.id);
    f("kind", r.kind);
    f("stop_id", r.stop_id);
    f("fate", r.fate);
    f("route_id", r.route_id);
    f("expires", r.expires);
    f("why", r.why);
    f("stops_to_go", r.stops_to_go);
    f("source", r.source);
  } else if constexpr (std::is_same_v<T, Message>) {
    f("id", r.id);
    f("event", r.event);
    f("kind", r.kind);
    f("source", r.source);
    f("preset", r.preset);
    f("languages", r.languages);
    f("missing", r.missing);
    f("output", r.output);
    f("times", r.times);
    f("note", r.note);
  } else if constexpr (std::is_same_v<T, FleetCommand>) {
    f("accepted", r.accepted);
    f("error", r.error);
    f("to", r.to);
    f("nonce", r.nonce);
    f("message", r.message);
  } else if constexpr (std::is_same_v<T, RouteData>) {
    f("bundle_id", r.bundle_id);
    f("event", r.event);
    f("reason", r.reason);
    f("message", r.message);
  } else {
    static_assert(std::is_same_v<T, Signal>);
    f("signal", r.signal);
    f("button", r.button);
    f("source", r.source);
    f("door", r.door);
    f("state", r.state);
    f("kmh", r.kmh);
    f("note", r.note);
  }
}

// Encoding: every field as its JSON value; empty optionals and an empty prompt text left out.

json to_value(const std::vector<std::pair<std::string, std::string>>& text) {
  json j = json::object();
  for (const auto& [lang, value] : text)
    j[lang] = value;
  return j;
}
template <class T>
json to_value(const T& value) {
  return json(value);
}

struct Put {
  json& j;
  template <class T>
  void operator()(const char* key, const std::optional<T>& value) const {
    if (value) j[key] = to_value(*value);
  }
  void operator()(const char* key, const std::map<std::string, std::string>& text) const {
    if (!text.empty()) j[key] = text;
  }
  template <class T>
  void operator()(const char* key, const T& value) const {
    j[key] = to_value(value);
  }
};

// Decoding: a present field of the wrong type spoils the record, and so does a missing number or
// flag (0 and false say something); a missing text, list or optional stays empty.

bool read(const json& v, std::string& out) {
  if (!v.is_string()) return false;
  out = v.get<std::string>();
  return true;
}
bool read(const json& v, bool& out) {
  if (!v.is_boolean()) return false;
  out = v.get<bool>();
  return true;
}
bool read(const json& v, double& out) {
  if (!v.is_number()) return false;
  out = v.get<double>();
  return true;
}
bool read(const json& v, std::int64_t& out) {
  if (v.is_number_unsigned()) {
    const auto u = v.get<std::uint64_t>();
    if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) return false;
    out = static_cast<std::int64_t>(u);
    return true;
  }
  if (!v.is_number_integer()) return false;
  out = v.get<std::int64_t>();
  return true;
}
bool read(const json& v, int& out) {
  std::int64_t wide = 0;
  if (!read(v, wide) || wide < std::numeric_limits<int>::min() ||
      wide > std::numeric_limits<int>::max()) {
    return false;
  }
  out = static_cast<int>(wide);
  return true;
}
bool read(const json& v, std::vector<std::string>& out) {
  if (!v.is_array()) return false;
  for (const auto& item : v) {
    if (!item.is_string()) return false;
    out.push_back(item.get<std::string>());
  }
  return true;
}
bool read(const json& v, std::vector<std::pair<std::string, std::string>>& out) {
  if (!v.is_object()) return false;
  for (const auto& [lang, value] : v.items()) {
    if (!value.is_string()) return false;
    out.emplace_back(lang, value.get<std::string>());
  }
  return true;
}
bool read(const json& v, std::map<std::string, std::string>& out) {
  if (!v.is_object()) return false;
  for (const auto& [lang, value] : v.items()) {
    if (!value.is_string()) return false;
    out[lang] = value.get<std::string>();
  }
  return true;
}
template <class T>
bool read(const json& v, std::optional<T>& out) {
  T value{};
  if (!read(v, value)) return false;
  out = std::move(value);
  return true;
}

struct Get {
  const json& j;
  bool& ok;
  template <class T>
  void operator()(const char* key, T& out) const {
    auto it = j.find(key);
    if (!ok) return;
    if (it == j.end()) {
      if constexpr (std::is_arithmetic_v<T>) ok = false;
      return;
    }
    if (!read(*it, out)) ok = false;
  }
};

template <std::size_t I = 0>
bool known(std::string_view type) {
  if constexpr (I == std::variant_size_v<Record>) {
    return false;
  } else {
    return type == kType<std::variant_alternative_t<I, Record>> || known<I + 1>(type);
  }
}

template <std::size_t I = 0>
std::optional<Record> decode_as(std::string_view type, const json& j) {
  if constexpr (I == std::variant_size_v<Record>) {
    return std::nullopt;  // a type that is not a record here
  } else {
    using T = std::variant_alternative_t<I, Record>;
    if (type != kType<T>) return decode_as<I + 1>(type, j);
    T record;
    bool ok = true;
    each_field(record, Get{j, ok});
    if (!ok) return std::nullopt;
    return Record(std::move(record));
  }
}

}  // namespace

std::string_view type_name(const Record& record) {
  return std::visit([](const auto& r) { return kType<std::decay_t<decltype(r)>>; }, record);
}

bool is_record_type(std::string_view type) {
  return known(type);
}

std::string encode(const Record& record) {
  return std::visit(
      [](const auto& r) {
        json j = json::object();
        j["type"] = kType<std::decay_t<decltype(r)>>;
        each_field(r, Put{j});
        return j.dump();
      },
      record);
}

std::optional<Record> decode(const nlohmann::ordered_json& object) {
  if (!object.is_object()) return std::nullopt;
  auto type = object.find("type");
  auto time = object.find("time");
  if (type == object.end() || !type->is_string() || time == object.end() || !time->is_string()) {
    return std::nullopt;
  }
  return decode_as(type->get_ref<const std::string&>(), object);
}

std::optional<Record> decode(std::string_view line) {
  const json j = json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return std::nullopt;
  return decode(j);
}

}  // namespace stopcall::log
