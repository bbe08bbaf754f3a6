#include "daemon/config.hpp"

#include <toml++/toml.h>
#include <algorithm>
#include <cstdio>
#include <functional>
#include <map>

namespace stopcall::daemon {

std::string ConfigProblem::to_string() const {
  return file + (line > 0 ? ":" + std::to_string(line) : std::string()) + ": " + message;
}

namespace {

std::string join(const std::vector<ConfigProblem>& problems) {
  std::string out;
  for (const auto& p : problems)
    out += (out.empty() ? "" : "\n") + p.to_string();
  return out;
}

// One accepted key: how to read it into the Config, with its checks.
struct Key {
  std::function<std::string(const toml::node&, Config&)> apply;  // returns an error or ""
};

std::string format(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

Key real(double min, double max, std::function<double&(Config&)> field) {
  return {[=](const toml::node& n, Config& c) -> std::string {
    auto v = n.value<double>();
    if (!v || !n.is_number()) return "must be a number";
    if (*v < min || *v > max) return "must be from " + format(min) + " to " + format(max);
    field(c) = *v;
    return "";
  }};
}

Key integer(long min, long max, std::function<void(Config&, long)> set) {
  return {[=](const toml::node& n, Config& c) -> std::string {
    // Only an integer node: asked for an integer, toml++'s value<int64_t>() converts a float with
    // a plain cast, which is undefined for one out of range (1e300).
    const auto* whole = n.as_integer();
    if (!whole) return "must be a whole number";
    const int64_t v = whole->get();
    if (v < min || v > max) {
      return "must be from " + std::to_string(min) + " to " + std::to_string(max);
    }
    set(c, static_cast<long>(v));
    return "";
  }};
}

Key text(std::function<std::string&(Config&)> field, bool may_be_empty = true) {
  return {[=](const toml::node& n, Config& c) -> std::string {
    auto v = n.value<std::string>();
    if (!v || !n.is_string()) return "must be a string";
    if (!may_be_empty && v->empty()) return "must not be empty";
    field(c) = *v;
    return "";
  }};
}

Key boolean(std::function<bool&(Config&)> field) {
  return {[=](const toml::node& n, Config& c) -> std::string {
    auto v = n.value<bool>();
    if (!v || !n.is_boolean()) return "must be true or false";
    field(c) = *v;
    return "";
  }};
}

// A list of language tags ("zh-Hans", "yue", "en"): the order they are spoken and shown in.
Key languages() {
  return {[](const toml::node& n, Config& c) -> std::string {
    const auto* array = n.as_array();
    if (!array || array->empty())
      return "must be a list of language tags, e.g. [\"zh-Hans\", \"en\"]";
    std::vector<std::string> out;
    for (const auto& item : *array) {
      auto v = item.value<std::string>();
      if (!v || !item.is_string() || v->empty()) return "must be a list of language tags";
      out.push_back(*v);
    }
    c.languages = out;
    c.assist.languages = out;
    return "";
  }};
}

Key milliseconds(long min, long max, std::function<std::chrono::milliseconds&(Config&)> field) {
  return integer(min, max, [=](Config& c, long v) { field(c) = std::chrono::milliseconds(v); });
}

fleet::Options& fleet_of(Config& c) {
  if (!c.fleet) c.fleet.emplace();
  return *c.fleet;
}

Key fleet_text(std::string fleet::Options::*field, bool may_be_empty = true) {
  return {[=](const toml::node& n, Config& c) -> std::string {
    auto v = n.value<std::string>();
    if (!v || !n.is_string()) return "must be a string";
    if (!may_be_empty && v->empty()) return "must not be empty";
    fleet_of(c).*field = *v;
    return "";
  }};
}

const std::map<std::string, Key>& keys() {
  static const std::map<std::string, Key> table = {
      {"routes.bundle", text([](Config& c) -> std::string& { return c.bundle; }, false)},
      {"routes.trip", text([](Config& c) -> std::string& { return c.pipeline.trip_id; })},
      {"routes.follow_block", boolean([](Config& c) -> bool& { return c.pipeline.follow_block; })},
      {"events.log", text([](Config& c) -> std::string& { return c.events_log; })},
      {"events.store", text([](Config& c) -> std::string& { return c.event_store; })},
      {"state.file", text([](Config& c) -> std::string& { return c.state_file; })},
      {"state.resume_max_age_s",
       real(10, 86400, [](Config& c) -> double& { return c.pipeline.resume_max_age_s; })},
      {"gps.host", text([](Config& c) -> std::string& { return c.gpsd.host; }, false)},
      {"gps.port", integer(1, 65535, [](Config& c, long v) { c.gpsd.port = std::to_string(v); })},
      {"gps.stale_after_ms",
       milliseconds(
           500, 60000, [](Config & c) -> auto& { return c.gpsd.stale_after; })},
      {"gps.reconnect_min_ms",
       milliseconds(
           50, 10000, [](Config & c) -> auto& { return c.gpsd.reconnect_min; })},
      {"gps.reconnect_max_ms",
       milliseconds(
           100, 60000, [](Config & c) -> auto& { return c.gpsd.reconnect_max; })},
      {"tracking.approach_lead_s",
       real(4, 30, [](Config& c) -> double& { return c.pipeline.tracker.approach_lead_s; })},
      {"tracking.approach_min_distance_m",
       real(5, 100,
            [](Config& c) -> double& { return c.pipeline.tracker.approach_min_distance_m; })},
      {"tracking.approach_max_distance_m",
       real(50, 1000,
            [](Config& c) -> double& { return c.pipeline.tracker.approach_max_distance_m; })},
      {"tracking.arrival_radius_m",
       real(5, 100, [](Config& c) -> double& { return c.pipeline.tracker.arrival_radius_m; })},
      {"tracking.departure_distance_m",
       real(5, 100, [](Config& c) -> double& { return c.pipeline.tracker.departure_distance_m; })},
      {"tracking.off_route_distance_m",
       real(20, 500, [](Config& c) -> double& { return c.pipeline.tracker.off_route_distance_m; })},
      {"tracking.gps_lost_timeout_s",
       real(1, 60, [](Config& c) -> double& { return c.pipeline.tracker.gps_lost_timeout_s; })},
      {"tracking.dead_reckoning_max_s",
       real(0, 600, [](Config& c) -> double& { return c.pipeline.tracker.dead_reckoning_max_s; })},
      {"detection.min_travel_m",
       real(50, 5000, [](Config& c) -> double& { return c.pipeline.auto_detect.min_travel_m; })},
      {"detection.max_lateral_m",
       real(10, 200, [](Config& c) -> double& { return c.pipeline.auto_detect.max_lateral_m; })},
      {"audio.interior", text([](Config& c) -> std::string& { return c.audio_interior; })},
      {"audio.exterior", text([](Config& c) -> std::string& { return c.audio_exterior; })},
      {"audio.interior_gain_db",
       real(-40, 20, [](Config& c) -> double& { return c.interior_gain_db; })},
      {"audio.exterior_gain_db",
       real(-40, 20, [](Config& c) -> double& { return c.exterior_gain_db; })},
      {"audio.languages", languages()},
      {"audio.ambient_source", text([](Config& c) -> std::string& { return c.ambient_source; })},
      {"audio.ambient_target_above_db",
       real(0, 30, [](Config& c) -> double& { return c.ambient_target_above_db; })},
      {"audio.ambient_floor_db",
       real(-40, 0, [](Config& c) -> double& { return c.ambient_floor_db; })},
      {"audio.ambient_ceiling_db",
       real(0, 30, [](Config& c) -> double& { return c.ambient_ceiling_db; })},
      {"audio.ambient_speech_reference_db",
       real(-90, 0, [](Config& c) -> double& { return c.ambient_speech_reference_db; })},
      {"screens.listen", text([](Config& c) -> std::string& { return c.screens_listen; })},
      {"screens.driver_listen",
       text([](Config& c) -> std::string& { return c.screens_driver_listen; })},
      {"screens.web_root", text([](Config& c) -> std::string& { return c.web_root; }, false)},
      {"screens.driver_token", text([](Config& c) -> std::string& { return c.driver_token; })},
      {"screens.allowed_hosts", {[](const toml::node& n, Config& c) -> std::string {
         const auto* array = n.as_array();
         if (!array) return "must be a list of host names, e.g. [\"bus-1234.local\"]";
         std::vector<std::string> out;
         for (const auto& item : *array) {
           auto v = item.value<std::string>();
           if (!v || !item.is_string() || v->empty() ||
               v->find_first_of(" /") != std::string::npos) {
             return "must be a list of host names or addresses, without scheme or path";
           }
           out.push_back(*v);
         }
         c.screens_allowed_hosts = out;
         return "";
       }}},
      {"vehicle.control_socket", text([](Config& c) -> std::string& { return c.control_socket; })},
      {"vehicle.door_signals", boolean([](Config& c) -> bool& { return c.door_signals; })},
      {"vehicle.control_max_connections", integer(1, 256,
                                                  [](Config& c, long v) {
                                                    c.control_limits.max_connections =
                                                        static_cast<std::size_t>(v);
                                                  })},
      {"vehicle.control_idle_timeout_s",
       integer(1, 86400,
               [](Config& c, long v) { c.control_limits.idle_timeout = std::chrono::seconds(v); })},
      {"vehicle.moving_kmh", real(1, 30, [](Config& c) -> double& { return c.assist.moving_kmh; })},
      {"vehicle.door_fault_kmh",
       real(5, 80, [](Config& c) -> double& { return c.assist.door_fault_kmh; })},
      {"vehicle.debounce_ms", milliseconds(
                                  0, 10000, [](Config & c) -> auto& { return c.assist.debounce; })},
      {"vehicle.ramp_repeat_guard_ms",
       milliseconds(
           0, 60000, [](Config & c) -> auto& { return c.assist.ramp_repeat_guard; })},
      {"vehicle.exterior_times",
       integer(0, 3, [](Config& c, long v) { c.assist.exterior_times = static_cast<int>(v); })},
      {"vehicle.show_requests_within_stops",
       integer(1, 30, [](Config& c, long v) { c.assist.show_within_stops = static_cast<int>(v); })},
      {"messages.emergency_repeat_s",
       integer(5, 3600,
               [](Config& c, long v) { c.messages.emergency_repeat = std::chrono::seconds(v); })},
      {"messages.service_repeats",
       integer(0, 20, [](Config& c, long v) { c.messages.service_repeats = static_cast<int>(v); })},
      {"messages.service_lifetime_min",
       integer(1, 24 * 60,
               [](Config& c, long v) { c.messages.service_lifetime = std::chrono::minutes(v); })},
      {"messages.max_active",
       integer(1, 32,
               [](Config& c, long v) { c.messages.max_active = static_cast<std::size_t>(v); })},
      {"messages.emergency_preset",
       text([](Config& c) -> std::string& { return c.emergency_preset; }, false)},
      {"fleet.host", fleet_text(&fleet::Options::host, false)},
      {"fleet.port", integer(1, 65535, [](Config& c, long v) { fleet_of(c).port = int(v); })},
      {"fleet.vehicle", fleet_text(&fleet::Options::vehicle, false)},
      {"fleet.username", fleet_text(&fleet::Options::username)},
      {"fleet.password_file", fleet_text(&fleet::Options::password_file)},
      {"fleet.ca_file", fleet_text(&fleet::Options::ca_file)},
      {"fleet.topic_prefix", fleet_text(&fleet::Options::topic_prefix, false)},
      {"fleet.command_key", fleet_text(&fleet::Options::command_key)},
      {"fleet.bundle_key", fleet_text(&fleet::Options::bundle_key)},
      {"fleet.command_max_age_s",
       integer(10, 3600,
               [](Config& c, long v) { fleet_of(c).command_max_age = std::chrono::seconds(v); })},
      {"fleet.keepalive_s",
       integer(5, 600, [](Config& c, long v) { fleet_of(c).keepalive_s = int(v); })},
      {"fleet.status_interval_s",
       integer(1, 600,
               [](Config& c, long v) { fleet_of(c).status_interval = std::chrono::seconds(v); })},
      {"fleet.reconnect_min_ms",
       milliseconds(
           100, 60000, [](Config & c) -> auto& { return fleet_of(c).reconnect_min; })},
      {"fleet.reconnect_max_ms",
       milliseconds(
           1000, 3600000, [](Config & c) -> auto& { return fleet_of(c).reconnect_max; })},
      {"detection.candidates_radius_m",
       real(100, 5000, [](Config& c) -> double& { return c.pipeline.candidates_radius_m; })},
  };
  return table;
}

long line_of(const toml::node& n) {
  return static_cast<long>(n.source().begin.line);
}

// [[gpio]] tables: one input line each.
void read_gpio(const std::string& path, const toml::node& section, Config& config,
               std::vector<ConfigProblem>& problems) {
  const auto* array = section.as_array();
  if (!array) {
    problems.push_back({path, line_of(section), "gpio: expected [[gpio]] tables, one per line"});
    return;
  }
  for (const auto& item : *array) {
    const auto* table = item.as_table();
    if (!table) {
      problems.push_back({path, line_of(item), "gpio: expected a [[gpio]] table"});
      continue;
    }
    vehicle::GpioLine line;
    bool ok = true;
    auto problem = [&](const toml::node& n, const std::string& message) {
      problems.push_back({path, line_of(n), message});
      ok = false;
    };
    for (const auto& [key_name, value] : *table) {
      const std::string key(key_name.str());
      const std::string name = "gpio." + key;
      if (key == "chip" || key == "input") {
        auto v = value.value<std::string>();
        if (!v || !value.is_string() || v->empty()) {
          problem(value, name + ": must be a non-empty string");
          continue;
        }
        (key == "chip" ? line.chip : line.input) = *v;
        if (key == "input" && !vehicle::valid_gpio_input(*v)) {
          problem(value, name +
                             ": must be door, ramp, kneel, ramp-assist, stop-request or "
                             "wheelchair-request");
        }
      } else if (key == "line" || key == "door" || key == "debounce_ms") {
        // Only an integer node: toml++ casts a float to an integer without a range check.
        const auto* whole = value.as_integer();
        const long max = key == "line" ? 1023 : key == "door" ? 8 : 1000;
        const long min = key == "door" ? 1 : 0;
        if (!whole || whole->get() < min || whole->get() > max) {
          problem(value, name + ": must be a whole number from " + std::to_string(min) + " to " +
                             std::to_string(max));
          continue;
        }
        const int64_t v = whole->get();
        if (key == "line") line.line = static_cast<unsigned>(v);
        if (key == "door") line.door = static_cast<int>(v);
        if (key == "debounce_ms") line.debounce = std::chrono::milliseconds(v);
      } else if (key == "active_low") {
        auto v = value.value<bool>();
        if (!v || !value.is_boolean()) {
          problem(value, name + ": must be true or false");
          continue;
        }
        line.active_low = *v;
      } else {
        problem(value, name + ": unknown key (a typo?)");
      }
    }
    if (line.chip.empty() || line.input.empty() || !table->contains("line")) {
      problem(item, "gpio: each [[gpio]] needs chip, line and input");
    }
    if (ok) config.gpio.push_back(line);
  }
}

}  // namespace

ConfigError::ConfigError(std::vector<ConfigProblem> problems)
    : std::runtime_error(join(problems)), problems_(std::move(problems)) {}

Config load_config(const std::string& path) {
  Config config;
  toml::table root;
  try {
    root = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    throw ConfigError({{path, static_cast<long>(e.source().begin.line),
                        std::string("not valid TOML: ") + std::string(e.description())}});
  }
  std::vector<ConfigProblem> problems;
  for (const auto& [section_key, section] : root) {
    std::string section_name(section_key.str());
    if (section_name == "gpio") {
      read_gpio(path, section, config, problems);
      continue;
    }
    const auto* table = section.as_table();
    if (table && section_name == "fleet") config.fleet.emplace();  // on, even with no key
    if (!table) {
      problems.push_back(
          {path, line_of(section),
           section_name + ": expected a [" + section_name + "] section, not a value"});
      continue;
    }
    for (const auto& [key, value] : *table) {
      std::string name = section_name + "." + std::string(key.str());
      auto it = keys().find(name);
      if (it == keys().end()) {
        problems.push_back({path, line_of(value), name + ": unknown key (a typo?)"});
        continue;
      }
      std::string error = it->second.apply(value, config);
      if (!error.empty()) problems.push_back({path, line_of(value), name + ": " + error});
    }
  }
  for (const auto* listen : {&config.screens_listen, &config.screens_driver_listen}) {
    if (!listen->empty() && listen->rfind(':') == std::string::npos) {
      problems.push_back({path, 0, "screens: \"" + *listen + "\" must be ADDRESS:PORT"});
    }
  }
  if (config.fleet) {
    if (config.fleet->vehicle.empty()) {
      problems.push_back({path, 0, "fleet.vehicle: the bus's id is needed with [fleet]"});
    } else if (!fleet::valid_vehicle_id(config.fleet->vehicle)) {
      problems.push_back(
          {path, 0, "fleet.vehicle: must be 1 to 64 letters, digits, '-', '_' or '.'"});
    }
    if (config.event_store.empty()) {
      problems.push_back(
          {path, 0, "fleet: needs events.store (the events are sent to the depot from it)"});
    }
    if (config.fleet->reconnect_max < config.fleet->reconnect_min) {
      problems.push_back(
          {path, 0, "fleet.reconnect_max_ms must not be below fleet.reconnect_min_ms"});
    }
  }
  if (config.gpsd.reconnect_max < config.gpsd.reconnect_min) {
    problems.push_back({path, 0, "gps.reconnect_max_ms must not be below gps.reconnect_min_ms"});
  }
  std::stable_sort(problems.begin(), problems.end(),
                   [](const ConfigProblem& a, const ConfigProblem& b) { return a.line < b.line; });
  if (!problems.empty()) throw ConfigError(std::move(problems));
  return config;
}

}  // namespace stopcall::daemon
