#include "depot/report/ingest.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>
#include <unordered_map>
#include <utility>

#include "daemon/log/event_store.hpp"
#include "daemon/log/records.hpp"
#include "depot/report/judge.hpp"
#include "depot/report/records.hpp"

namespace stopcall::depot::report {

using json = nlohmann::ordered_json;  // the line's order: what decoding keeps
namespace chr = std::chrono;

namespace {

// A trip that lasts longer than this without a line starts again (the same trip id tomorrow).
constexpr auto kTripGap = chr::hours(3);
constexpr std::size_t kUnreadableExamples = 10;

const std::set<std::string, std::less<>> kStopEventTypes = {
    "next_stop",          "approaching", "arrived",       "passed",   "departed",
    "trip_started",       "trip_ended",  "trip_detected", "gps_lost", "gps_restored",
    "position_uncertain", "off_route",   "on_route"};

std::string str(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::optional<int> integer(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number_integer()) return std::nullopt;
  return it->get<int>();
}

// "<trip>:<index>:<next_stop|approaching|exterior>", perhaps with ":repeatN" after it.
struct StopId {
  std::string trip_id;
  int index = 0;
  std::string what;
};
std::optional<StopId> parse_stop_id(std::string_view id) {
  if (auto r = id.rfind(":repeat"); r != std::string_view::npos) {
    const auto tail = id.substr(r + 7);
    if (!tail.empty() &&
        std::all_of(tail.begin(), tail.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      id = id.substr(0, r);
    }
  }
  const auto c2 = id.rfind(':');
  if (c2 == std::string_view::npos || c2 == 0) return std::nullopt;
  const auto c1 = id.rfind(':', c2 - 1);
  if (c1 == std::string_view::npos) return std::nullopt;
  StopId s;
  s.what = std::string(id.substr(c2 + 1));
  if (s.what != "next_stop" && s.what != "approaching" && s.what != "exterior") return std::nullopt;
  const auto index = id.substr(c1 + 1, c2 - c1 - 1);
  if (index.empty() || index.size() > 6 ||
      !std::all_of(index.begin(), index.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  s.index = std::stoi(std::string(index));
  s.trip_id = std::string(id.substr(0, c1));
  return s;
}

// The English text, else the text of the language first in alphabetical order.
std::string announcement_text(const log::Announcement& a) {
  const std::pair<std::string, std::string>* chosen = nullptr;
  for (const auto& said : a.text) {
    if (said.first == "en") return said.second;
    if (!chosen || said.first < chosen->first) chosen = &said;
  }
  return chosen ? chosen->second : std::string();
}

std::optional<RecordedZone> zone_of(const log::TimeZone& z) {
  const auto t = parse_time(z.time);
  if (!t || z.utc_offset_min < -14 * 60 || z.utc_offset_min > 14 * 60) return std::nullopt;
  return RecordedZone{*t, z.time_zone, z.utc_offset_min};
}

// The start of an unreadable line, fit to print: at most 80 characters, whole UTF-8 characters
// only, control characters and bytes that are not UTF-8 shown as '?'.
std::string excerpt(std::string_view line) {
  constexpr std::size_t kMax = 80;
  std::string out;
  std::size_t chars = 0, i = 0;
  while (i < line.size() && chars < kMax) {
    const auto c = static_cast<unsigned char>(line[i]);
    const std::size_t n = c < 0x80             ? 1
                          : (c & 0xE0) == 0xC0 ? 2
                          : (c & 0xF0) == 0xE0 ? 3
                          : (c & 0xF8) == 0xF0 ? 4
                                               : 0;
    bool ok = n > 0 && i + n <= line.size() && !(n == 2 && c < 0xC2);
    for (std::size_t k = 1; ok && k < n; ++k)
      ok = (static_cast<unsigned char>(line[i + k]) & 0xC0) == 0x80;
    if (!ok || (n == 1 && (c < 0x20 || c == 0x7F))) {
      out += '?';
      ++i;
    } else {
      out.append(line.substr(i, n));
      i += n;
    }
    ++chars;
  }
  if (i < line.size()) out += "…";
  return out;
}

}  // namespace

struct Builder::State {
  Options options;
  Report report;  // the counts, unreadable lines, faults and zones so far
  Records records;
  std::size_t current = 0;
  std::unordered_map<std::string, std::size_t> trip_by_id;          // latest trip of each id
  std::unordered_map<std::string, std::size_t> announcement_by_id;  // latest of each id
  std::unordered_map<std::string, std::size_t> request_by_id;       // latest of each id
  std::unordered_map<std::string, std::size_t> message_by_id;       // latest of each id
  bool ramp_deployed = false;
  std::optional<std::pair<Time, std::int64_t>> last_sound;  // time and mono_ns

  void unreadable(std::size_t number, std::string why, std::string_view line) {
    ++report.unreadable;
    if (report.unreadable_examples.size() < kUnreadableExamples) {
      report.unreadable_examples.push_back({number, std::move(why), excerpt(line)});
    }
  }

  std::size_t trip_for(const std::string& trip_id, Time t) {
    if (trip_id.empty()) return current;
    if (auto it = trip_by_id.find(trip_id); it != trip_by_id.end()) {
      const Trip& trip = records.trips[it->second];
      if (!trip.ended && t - trip.last < kTripGap) return it->second;
    }
    records.trips.push_back(Trip{});
    records.trips.back().trip_id = trip_id;
    trip_by_id[trip_id] = records.trips.size() - 1;
    return records.trips.size() - 1;
  }

  // The trip an announcement id names ("<trip>:..."), else the current one.
  std::size_t trip_of_id(const std::string& id, const std::optional<StopId>& stop) {
    if (stop) {
      if (auto it = trip_by_id.find(stop->trip_id); it != trip_by_id.end()) return it->second;
      return current;
    }
    for (auto colon = id.find(':'); colon != std::string::npos; colon = id.find(':', colon + 1)) {
      if (auto it = trip_by_id.find(id.substr(0, colon)); it != trip_by_id.end()) {
        return it->second;
      }
    }
    return current;
  }

  void stop_event(const std::string& type, const json& j, Time t) {
    const std::size_t index = trip_for(str(j, "trip_id"), t);
    // Another trip now: the one before is over, and so is its outage.
    if (index != current) records.trips[current].close_outage(t);
    current = index;
    Trip& trip = records.trips[index];
    trip.touch(t);
    const auto stop_index = integer(j, "stop_index");
    if ((type == "arrived" || type == "passed") && stop_index && *stop_index > 0) {
      trip.reached.emplace(*stop_index, t);
      trip.stop_ids.emplace(*stop_index, str(j, "stop_id"));
    }
    if (type == "arrived" && stop_index) {
      trip.visited.insert(*stop_index);
      trip.at_stop = stop_index;
    } else if (type == "trip_started" && stop_index) {
      trip.at_stop = stop_index;
    } else if (type == "departed" || type == "passed") {
      trip.at_stop.reset();
    } else if (type == "gps_lost" || type == "position_uncertain") {
      if (!trip.outage_since) trip.outage_since = t;
    } else if (type == "gps_restored") {
      trip.close_outage(t);
    } else if (type == "trip_ended") {
      trip.close_outage(t);
      trip.ended = true;
      trip.ended_at = stop_index;
    }
  }

  void on(const log::Announcement& line, Time t) {
    const std::string& id = line.id;
    if (MessageRecord* m = message_of_saying(id)) {
      m->outputs.insert(line.outputs.begin(), line.outputs.end());
    }
    const auto stop = parse_stop_id(id);
    Announcement a;
    a.trip = trip_of_id(id, stop);
    a.kind = line.kind;
    if (stop) {
      a.what = stop->what;
      a.stop_index = stop->index;
    }
    a.at_stop = records.trips[a.trip].at_stop;
    a.text = announcement_text(line);
    records.trips[a.trip].touch(t);
    records.trips[a.trip].announcements.push_back(records.announcements.size());
    announcement_by_id[id] = records.announcements.size();
    records.announcements.push_back(std::move(a));
  }

  Announcement* find(const std::string& id) {
    auto it = announcement_by_id.find(id);
    return it == announcement_by_id.end() ? nullptr : &records.announcements[it->second];
  }

  void on(const log::Sound& line, Time t) {
    if (line.mono_ns) {
      const auto ns = *line.mono_ns;
      if (last_sound) {
        const double bus_s = chr::duration<double>(t - last_sound->first).count();
        const double mono_s = static_cast<double>(ns - last_sound->second) / 1e9;
        // Sounds close together on both clocks (not across a restart or a reboot).
        if (mono_s >= 0.5 && mono_s <= 600 && bus_s > 0)
          records.clock_ratios.push_back(bus_s / mono_s);
      }
      last_sound = std::pair{t, ns};
    }
    Announcement* a = find(line.id);
    if (!a) return;  // made before the window
    const std::string& output = line.output;
    if (output == "interior" && !a->heard_interior) a->heard_interior = t;
    if (output == "exterior" && !a->heard_exterior) a->heard_exterior = t;
  }

  void on(const log::AnnouncementResult& line, Time) {
    Announcement* a = find(line.id);
    if (!a) return;
    const std::string& outcome = line.outcome;
    if (outcome.empty()) return;
    if (line.output == "interior") a->inside_outcome = outcome;
    if (outcome == "finished") return;
    a->outcomes.insert(outcome);
    if (outcome == "failed" && line.output == "interior" && !a->heard_interior) {
      a->failed_inside_first = true;
    }
  }

  void on(const log::Signal& line, Time t) {
    const std::string& signal = line.signal;
    const std::string state = line.state.value_or("");
    Trip& trip = records.trips[current];
    trip.touch(t);
    if (signal == "door" && state == "open" && trip.at_stop) {
      trip.visited.insert(*trip.at_stop);
    } else if (signal == "ramp" && state == "deployed") {
      ramp_deployed = true;
    } else if (signal == "ramp" && state == "stowed" && ramp_deployed) {
      ramp_deployed = false;
      ++trip.ramp_cycles;
    }
  }

  void on(const log::Prompt& line, Time t) {
    if (line.kind == "ramp_moving_alarm" && line.active) {
      ++records.trips[current].ramp_alarms;
      records.trips[current].touch(t);
    }
  }

  void on(const log::Request& line, Time t) {
    const std::string& id = line.id;
    const std::string& fate = line.fate;
    if (id.empty() || fate.empty()) return;
    auto it = request_by_id.find(id);
    const bool settled =
        it != request_by_id.end() && (records.requests[it->second].fate == "served" ||
                                      records.requests[it->second].fate == "missed" ||
                                      records.requests[it->second].fate == "expired" ||
                                      records.requests[it->second].fate == "dismissed");
    if (it == request_by_id.end() || (settled && (fate == "pending" || fate == "shown"))) {
      // New, or the id numbered again after a restart.
      request_by_id[id] = records.requests.size();
      records.requests.push_back({});
    }
    Request& r = records.requests[request_by_id[id]];
    if (!line.kind.empty()) r.kind = line.kind;
    r.fate = fate;
    r.trip = current;
    records.trips[current].touch(t);
  }

  // The message a saying's announcement id names: "msg:<id>:<n>" or "msg:<id>:<n>:tone".
  MessageRecord* message_of_saying(std::string_view id) {
    if (!id.starts_with("msg:")) return nullptr;
    id.remove_prefix(4);
    if (id.ends_with(":tone")) id.remove_suffix(5);
    const auto colon = id.rfind(':');
    if (colon == std::string_view::npos) return nullptr;
    auto it = message_by_id.find(std::string(id.substr(0, colon)));
    return it == message_by_id.end() ? nullptr : &records.messages[it->second];
  }

  void on(const log::Message& line, Time t) {
    if (line.event == "refused") {
      records.refused_messages.push_back(
          {t, line.id, line.kind, line.source, line.preset.value_or(""), line.note.value_or("")});
      return;
    }
    auto it = message_by_id.find(line.id);
    // "sent" starts a message (an id is used again once the one before has ended); a step of a
    // message sent before the window starts one whose sending is not known.
    if (line.event == "sent" || it == message_by_id.end()) {
      it = message_by_id.insert_or_assign(line.id, records.messages.size()).first;
      records.messages.push_back({});
      MessageRecord& added = records.messages.back();
      added.id = line.id;
      added.kind = line.kind;
      added.source = line.source;
      added.preset = line.preset.value_or("");
    }
    MessageRecord& m = records.messages[it->second];
    if (line.event == "sent") {
      m.sent = t;
      m.languages = line.languages;
      m.missing = line.missing;
    } else if (line.event == "said") {
      m.said = std::max(m.said + 1, line.times.value_or(0));
    } else if (line.event == "heard") {
      const std::string output = line.output.value_or("");
      if (output == "interior" && !m.heard_interior) m.heard_interior = t;
      if (output == "exterior" && !m.heard_exterior) m.heard_exterior = t;
    } else if (line.event == "acknowledged") {
      if (!m.acknowledged) {
        m.acknowledged = t;
        m.acknowledged_by = line.note.value_or("");
      }
    } else if (line.event == "cancelled" || line.event == "expired" || line.event == "ended") {
      m.end = line.event;
      m.ended = t;
      m.ended_by = line.note.value_or("");
    }
  }

  void on(const log::Held& line, Time) {
    if (line.why == "an emergency message is on") ++records.held_for_emergency;
  }

  // What the depot must put right: said once per start by the bus.
  void fault(std::string time, std::string kind, std::string message) {
    ++report.fault_count;
    if (report.faults.size() < Report::kMaxFaults) {
      report.faults.push_back({std::move(time), std::move(kind), std::move(message)});
    }
  }
  void on(const log::Fault& line, Time) { fault(line.time, line.kind, line.message); }

  // The other records tell the report nothing.
  template <class Other>
  void on(const Other&, Time) {}
};

Builder::Builder(Options options) : state_(std::make_unique<State>()) {
  state_->options = options;
  state_->report.options = options;
}

Builder::~Builder() = default;

void Builder::add(std::string_view line, std::size_t number) {
  State& s = *state_;
  while (!line.empty() && (line.back() == '\r' || line.back() == '\n' || line.back() == ' '))
    line.remove_suffix(1);
  if (line.empty()) return;
  json j = json::parse(line, nullptr, false);
  if (j.is_discarded()) return s.unreadable(number, "not JSON", line);
  if (!j.is_object()) return s.unreadable(number, "not a JSON object", line);
  const std::string type = str(j, "type");
  if (type.empty()) return s.unreadable(number, "no \"type\"", line);
  const auto t = parse_time(str(j, "time"));
  if (!t) return s.unreadable(number, "no readable \"time\"", line);
  std::optional<log::Record> record;
  if (log::is_record_type(type)) {
    record = log::decode(j);
    if (!record) return s.unreadable(number, "a field missing or of the wrong type", line);
  }
  ++s.report.lines;
  // The time zone holds from its line on, also for a window that starts later.
  if (const auto* z = record ? std::get_if<log::TimeZone>(&*record) : nullptr) {
    if (auto recorded = zone_of(*z)) zone(*recorded);
  }
  if ((s.options.from && *t < *s.options.from) || (s.options.to && *t >= *s.options.to)) return;
  ++s.report.in_window;
  s.records.last_line = std::max(s.records.last_line, *t);

  if (record) {
    std::visit([&](const auto& r) { s.on(r, *t); }, *record);
  } else if (kStopEventTypes.count(type)) {
    s.stop_event(type, j, *t);
  } else if (type == "route_data_not_valid") {
    s.fault(str(j, "time"), type, str(j, "note"));
  }
}

Report Builder::finish() {
  State& s = *state_;
  Report report = std::move(s.report);
  judge_records(std::move(s.records), report);
  return report;
}

void Builder::zone(const RecordedZone& zone) {
  auto& zones = state_->report.zones;
  if (std::find(zones.begin(), zones.end(), zone) != zones.end()) return;
  zones.insert(std::upper_bound(
                   zones.begin(), zones.end(), zone,
                   [](const RecordedZone& a, const RecordedZone& b) { return a.since < b.since; }),
               zone);
}

std::optional<RecordedZone> parse_zone_line(std::string_view line) {
  const auto record = log::decode(line);
  const auto* z = record ? std::get_if<log::TimeZone>(&*record) : nullptr;
  return z ? zone_of(*z) : std::nullopt;
}

std::vector<RecordedZone> recorded_zones(const std::string& path) {
  std::vector<RecordedZone> zones;
  auto keep = [&](std::string_view line) {
    if (line.find("\"time_zone\"") == std::string_view::npos) return;
    if (auto z = parse_zone_line(line)) {
      if (std::find(zones.begin(), zones.end(), *z) == zones.end()) zones.push_back(*z);
    }
  };
  if (log::is_sqlite_file(path)) {
    for (const auto& line : log::read_lines_of_type(path, "time_zone"))
      keep(line.json);
  } else {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + path);
    std::string line;
    while (std::getline(in, line))
      keep(line);
  }
  std::stable_sort(zones.begin(), zones.end(),
                   [](const RecordedZone& a, const RecordedZone& b) { return a.since < b.since; });
  return zones;
}

Report build_report(const std::string& path, const Options& options) {
  Builder builder(options);
  std::string format;
  if (log::is_sqlite_file(path)) {
    format = "event store";
    // The window's rows may not hold the time_zone line written when the daemon started.
    for (const auto& zone : recorded_zones(path))
      builder.zone(zone);
    // Text comparison in SQL to narrow the rows; the builder applies the exact window.
    std::optional<std::string> from, to;
    if (options.from) from = format_time(*options.from);
    if (options.to) to = format_time(*options.to);
    log::for_each_line(path, from, to, [&](const log::StoredLine& line) {
      builder.add(line.json, static_cast<std::size_t>(line.seq));
    });
  } else {
    format = "JSON lines";
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + path);
    std::string line;
    std::size_t number = 0;
    while (std::getline(in, line))
      builder.add(line, ++number);
    if (in.bad()) throw std::runtime_error("error reading " + path);
  }
  Report report = builder.finish();
  report.source = path;
  report.format = format;
  return report;
}

}  // namespace stopcall::depot::report
