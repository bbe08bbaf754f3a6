#include "daemon/report/report.hpp"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <stdexcept>
#include <unordered_map>
#include <utility>

#include "daemon/log/event_store.hpp"

namespace stopcall::report {

using json = nlohmann::json;
namespace chr = std::chrono;

// ---------------------------------------------------------------------------------------------
// Times

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

// ---------------------------------------------------------------------------------------------
// Figures

KindFigures& KindFigures::operator+=(const KindFigures& o) {
  announced += o.announced;
  heard += o.heard;
  expired += o.expired;
  interrupted += o.interrupted;
  cancelled += o.cancelled;
  failed += o.failed;
  never_heard += o.never_heard;
  return *this;
}

KindFigures Figures::all_kinds() const {
  KindFigures all;
  for (const auto& [kind, k] : kinds)
    all += k;
  return all;
}

bool Figures::empty() const {
  return stops == 0 && exterior_stops == 0 && kinds.empty() && ramp_cycles == 0 &&
         ramp_alarms == 0 && requests_served == 0 && requests_missed == 0 &&
         requests_expired == 0 && requests_dismissed == 0 && requests_open == 0 &&
         alighting_served == 0 && alighting_missed == 0 && gps_outage_s == 0;
}

Figures& Figures::operator+=(const Figures& o) {
  stops += o.stops;
  next_stop_ok += o.next_stop_ok;
  approaching_ok += o.approaching_ok;
  next_stop_late += o.next_stop_late;
  approaching_late += o.approaching_late;
  next_stop_cut += o.next_stop_cut;
  approaching_cut += o.approaching_cut;
  exterior_stops += o.exterior_stops;
  exterior_heard += o.exterior_heard;
  for (const auto& [kind, k] : o.kinds)
    kinds[kind] += k;
  ramp_cycles += o.ramp_cycles;
  ramp_alarms += o.ramp_alarms;
  requests_served += o.requests_served;
  requests_missed += o.requests_missed;
  requests_expired += o.requests_expired;
  requests_dismissed += o.requests_dismissed;
  requests_open += o.requests_open;
  alighting_served += o.alighting_served;
  alighting_missed += o.alighting_missed;
  gps_outage_s += o.gps_outage_s;
  return *this;
}

std::optional<double> share(int ok, int stops) {
  if (stops <= 0) return std::nullopt;
  return static_cast<double>(ok) / static_cast<double>(stops);
}

// ---------------------------------------------------------------------------------------------
// Builder

namespace {

// A trip that lasts longer than this without a line starts again (the same trip id tomorrow).
constexpr auto kTripGap = chr::hours(3);
constexpr std::size_t kUnreadableExamples = 10;

const std::set<std::string, std::less<>> kStopEventTypes = {
    "next_stop",          "approaching", "arrived",       "passed",   "departed",
    "trip_started",       "trip_ended",  "trip_detected", "gps_lost", "gps_restored",
    "position_uncertain", "off_route",   "on_route"};

struct Announcement {
  std::size_t trip = 0;
  std::string kind;  // as logged ("repeat" for a repeat)
  std::string what;  // "next_stop", "approaching" or "exterior" when the id names a stop
  std::optional<int> stop_index;
  std::optional<int> at_stop;  // the stop the bus stood at when it was made
  std::string text;
  std::optional<Time> heard_interior, heard_exterior;
  bool failed_inside_first = false;  // "failed" on the interior output before any sound there
  std::string inside_outcome;        // the last announcement_result outcome on the interior
  std::set<std::string> outcomes;    // other than "finished"
};

struct Trip {
  std::string trip_id;
  std::optional<Time> first;
  Time last{};
  bool ended = false;
  std::map<int, Time> reached;  // stop_index > 0 arrived or passed -> first time
  std::map<int, std::string> stop_ids;
  std::set<int> visited;  // arrived or doors opened, any index
  std::optional<int> at_stop;
  std::optional<int> ended_at;  // the terminus: where trip_ended was
  std::optional<Time> outage_since;
  chr::milliseconds outage{0};
  int ramp_cycles = 0;
  int ramp_alarms = 0;
  std::vector<std::size_t> announcements;

  void touch(Time t) {
    if (!first) first = t;
    last = std::max(last, t);
  }
  void close_outage(Time t) {
    if (outage_since && t > *outage_since) outage += t - *outage_since;
    outage_since.reset();
  }
};

struct Request {
  std::string kind;
  std::string fate;
  std::size_t trip = 0;
};

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

std::string announcement_text(const json& j) {
  auto it = j.find("text");
  if (it == j.end() || !it->is_object() || it->empty()) return {};
  if (auto en = it->find("en"); en != it->end() && en->is_string()) return en->get<std::string>();
  for (const auto& [lang, value] : it->items()) {
    if (value.is_string()) return value.get<std::string>();
  }
  return {};
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
  Report report;
  std::vector<Trip> trips{Trip{}};  // [0]: lines before any trip
  std::size_t current = 0;
  std::unordered_map<std::string, std::size_t> trip_by_id;  // latest trip of each id
  std::vector<Announcement> announcements;
  std::unordered_map<std::string, std::size_t> announcement_by_id;  // latest of each id
  std::vector<Request> requests;
  std::unordered_map<std::string, std::size_t> request_by_id;  // latest of each id
  bool ramp_deployed = false;
  Time last_line{};  // the latest time of a line in the window
  std::optional<std::pair<Time, std::int64_t>> last_sound;  // time and mono_ns
  std::vector<double> clock_ratios;  // bus time over monotonic time between successive sounds

  void unreadable(std::size_t number, std::string why, std::string_view line) {
    ++report.unreadable;
    if (report.unreadable_examples.size() < kUnreadableExamples) {
      report.unreadable_examples.push_back({number, std::move(why), excerpt(line)});
    }
  }

  std::size_t trip_for(const std::string& trip_id, Time t) {
    if (trip_id.empty()) return current;
    if (auto it = trip_by_id.find(trip_id); it != trip_by_id.end()) {
      const Trip& trip = trips[it->second];
      if (!trip.ended && t - trip.last < kTripGap) return it->second;
    }
    trips.push_back(Trip{});
    trips.back().trip_id = trip_id;
    trip_by_id[trip_id] = trips.size() - 1;
    return trips.size() - 1;
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
    if (index != current) trips[current].close_outage(t);
    current = index;
    Trip& trip = trips[index];
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

  void announcement(const json& j, Time t) {
    const std::string id = str(j, "id");
    const auto stop = parse_stop_id(id);
    Announcement a;
    a.trip = trip_of_id(id, stop);
    a.kind = str(j, "kind");
    if (stop) {
      a.what = stop->what;
      a.stop_index = stop->index;
    }
    a.at_stop = trips[a.trip].at_stop;
    a.text = announcement_text(j);
    trips[a.trip].touch(t);
    trips[a.trip].announcements.push_back(announcements.size());
    announcement_by_id[id] = announcements.size();
    announcements.push_back(std::move(a));
  }

  Announcement* find(const json& j) {
    auto it = announcement_by_id.find(str(j, "id"));
    return it == announcement_by_id.end() ? nullptr : &announcements[it->second];
  }

  void sound(const json& j, Time t) {
    if (auto mono = j.find("mono_ns"); mono != j.end() && mono->is_number_integer()) {
      const auto ns = mono->get<std::int64_t>();
      if (last_sound) {
        const double bus_s = chr::duration<double>(t - last_sound->first).count();
        const double mono_s = static_cast<double>(ns - last_sound->second) / 1e9;
        // Sounds close together on both clocks (not across a restart or a reboot).
        if (mono_s >= 0.5 && mono_s <= 600 && bus_s > 0) clock_ratios.push_back(bus_s / mono_s);
      }
      last_sound = std::pair{t, ns};
    }
    Announcement* a = find(j);
    if (!a) return;  // made before the window
    const std::string output = str(j, "output");
    if (output == "interior" && !a->heard_interior) a->heard_interior = t;
    if (output == "exterior" && !a->heard_exterior) a->heard_exterior = t;
  }

  void result(const json& j) {
    Announcement* a = find(j);
    if (!a) return;
    const std::string outcome = str(j, "outcome");
    if (outcome.empty()) return;
    if (str(j, "output") == "interior") a->inside_outcome = outcome;
    if (outcome == "finished") return;
    a->outcomes.insert(outcome);
    if (outcome == "failed" && str(j, "output") == "interior" && !a->heard_interior) {
      a->failed_inside_first = true;
    }
  }

  void signal(const json& j, Time t) {
    const std::string signal = str(j, "signal");
    const std::string state = str(j, "state");
    Trip& trip = trips[current];
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

  void prompt(const json& j, Time t) {
    auto active = j.find("active");
    if (str(j, "kind") == "ramp_moving_alarm" && active != j.end() && active->is_boolean() &&
        active->get<bool>()) {
      ++trips[current].ramp_alarms;
      trips[current].touch(t);
    }
  }

  void request(const json& j, Time t) {
    const std::string id = str(j, "id");
    const std::string fate = str(j, "fate");
    if (id.empty() || fate.empty()) return;
    auto it = request_by_id.find(id);
    const bool settled =
        it != request_by_id.end() &&
        (requests[it->second].fate == "served" || requests[it->second].fate == "missed" ||
         requests[it->second].fate == "expired" || requests[it->second].fate == "dismissed");
    if (it == request_by_id.end() || (settled && (fate == "pending" || fate == "shown"))) {
      // New, or the id numbered again after a restart.
      request_by_id[id] = requests.size();
      requests.push_back({});
    }
    Request& r = requests[request_by_id[id]];
    if (const std::string kind = str(j, "kind"); !kind.empty()) r.kind = kind;
    r.fate = fate;
    r.trip = current;
    trips[current].touch(t);
  }
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
  ++s.report.lines;
  // The time zone holds from its line on, also for a window that starts later.
  if (type == "time_zone") {
    if (auto z = parse_zone_line(line)) zone(*z);
  }
  if ((s.options.from && *t < *s.options.from) || (s.options.to && *t >= *s.options.to)) return;
  ++s.report.in_window;
  s.last_line = std::max(s.last_line, *t);

  if (kStopEventTypes.count(type)) {
    s.stop_event(type, j, *t);
  } else if (type == "announcement") {
    s.announcement(j, *t);
  } else if (type == "sound") {
    s.sound(j, *t);
  } else if (type == "announcement_result") {
    s.result(j);
  } else if (type == "signal") {
    s.signal(j, *t);
  } else if (type == "prompt") {
    s.prompt(j, *t);
  } else if (type == "request") {
    s.request(j, *t);
  } else if (type == "fault" || type == "route_data_not_valid") {
    // What the depot must put right: said once per start by the bus.
    ++s.report.fault_count;
    if (s.report.faults.size() < Report::kMaxFaults) {
      s.report.faults.push_back({str(j, "time"), type == "fault" ? str(j, "kind") : type,
                                 str(j, type == "fault" ? "message" : "note")});
    }
  }
}

namespace {

struct Verdict {
  bool ok = false;
  bool late = false;
  bool cut = false;
  std::string why;
  std::string text;
};

// Was the `what` announcement of stop `index` heard inside, and if not, why not.
Verdict judge(const std::vector<const Announcement*>& made, Time reached) {
  Verdict v;
  if (made.empty()) {
    v.why = "not announced";
    return v;
  }
  std::optional<Time> first_heard;
  std::set<std::string> outcomes;
  bool failed_first = false, finished = false, ended_short = false;
  for (const Announcement* a : made) {
    if (v.text.empty()) v.text = a->text;
    if (a->heard_interior && !a->failed_inside_first) {
      v.ok = true;
      if (!first_heard || *a->heard_interior < *first_heard) first_heard = a->heard_interior;
      finished = finished || a->inside_outcome == "finished";
      ended_short = ended_short || (!a->inside_outcome.empty() && a->inside_outcome != "finished");
    }
    failed_first = failed_first || a->failed_inside_first;
    outcomes.insert(a->outcomes.begin(), a->outcomes.end());
  }
  if (v.ok) {
    v.late = *first_heard > reached;
    v.cut = ended_short && !finished;
    return v;
  }
  if (failed_first) outcomes.insert("failed");
  for (const auto& o : outcomes)
    v.why += (v.why.empty() ? "" : ", ") + o;
  if (v.why.empty()) v.why = "never heard";
  return v;
}

void count_request(Figures& f, const Request& r) {
  if (r.kind == "wheelchair_alighting") {
    if (r.fate == "served") ++f.alighting_served;
    if (r.fate == "missed") ++f.alighting_missed;
    return;
  }
  if (r.fate == "served") {
    ++f.requests_served;
  } else if (r.fate == "missed") {
    ++f.requests_missed;
  } else if (r.fate == "expired") {
    ++f.requests_expired;
  } else if (r.fate == "dismissed") {
    ++f.requests_dismissed;
  } else {
    ++f.requests_open;  // pending, shown, carried
  }
}

}  // namespace

Report Builder::finish() {
  State& s = *state_;
  std::vector<Figures> figures(s.trips.size());
  std::vector<std::vector<StopProblem>> problems(s.trips.size());
  for (std::size_t i = 0; i < s.trips.size(); ++i) {
    Trip& trip = s.trips[i];
    Figures& f = figures[i];
    trip.close_outage(s.last_line);  // still lost when the window ends
    f.gps_outage_s = static_cast<double>(trip.outage.count()) / 1000.0;
    f.ramp_cycles = trip.ramp_cycles;
    f.ramp_alarms = trip.ramp_alarms;

    std::map<std::pair<std::string, int>, std::vector<const Announcement*>> by_stop;
    for (std::size_t k : trip.announcements) {
      const Announcement& a = s.announcements[k];
      KindFigures& kind = f.kinds[a.kind.empty() ? "(none)" : a.kind];
      ++kind.announced;
      if (a.heard_interior || a.heard_exterior) {
        ++kind.heard;
      } else {
        ++kind.never_heard;
      }
      for (const auto& o : a.outcomes) {
        if (o == "expired") ++kind.expired;
        if (o == "interrupted") ++kind.interrupted;
        if (o == "cancelled") ++kind.cancelled;
        if (o == "failed") ++kind.failed;
      }
      if (a.stop_index && (a.what == "next_stop" || a.what == "approaching")) {
        by_stop[{a.what, *a.stop_index}].push_back(&a);
      }
    }
    for (const auto& [index, reached] : trip.reached) {
      ++f.stops;
      const Verdict next = judge(by_stop[{"next_stop", index}], reached);
      const Verdict arriving = judge(by_stop[{"approaching", index}], reached);
      f.next_stop_ok += next.ok;
      f.next_stop_late += next.ok && next.late;
      f.next_stop_cut += next.ok && next.cut;
      f.approaching_ok += arriving.ok;
      f.approaching_late += arriving.ok && arriving.late;
      f.approaching_cut += arriving.ok && arriving.cut;
      if (!next.ok || !arriving.ok) {
        StopProblem p;
        p.stop_index = index;
        p.stop_id = trip.stop_ids[index];
        p.next_stop_ok = next.ok;
        p.next_stop_why = next.why;
        p.approaching_ok = arriving.ok;
        p.approaching_why = arriving.why;
        p.text = !next.text.empty() ? next.text : arriving.text;
        problems[i].push_back(std::move(p));
      }
    }
    for (int index : trip.visited) {
      if (index == trip.ended_at) continue;  // the terminus: nobody boards this trip there
      ++f.exterior_stops;
      const bool heard =
          std::any_of(trip.announcements.begin(), trip.announcements.end(), [&](std::size_t k) {
            const Announcement& a = s.announcements[k];
            return a.kind == "exterior_route" && a.at_stop == index && a.heard_exterior;
          });
      f.exterior_heard += heard;
    }
  }
  for (const auto& r : s.requests)
    count_request(figures[r.trip], r);

  Report report = std::move(s.report);
  if (s.clock_ratios.size() >= 3) {
    auto middle = s.clock_ratios.begin() + static_cast<long>(s.clock_ratios.size() / 2);
    std::nth_element(s.clock_ratios.begin(), middle, s.clock_ratios.end());
    report.clock_speed = *middle;
  }
  std::map<std::string, DayReport> days;
  for (std::size_t i = 0; i < s.trips.size(); ++i) {
    const Trip& trip = s.trips[i];
    if (!trip.first || (i == 0 && figures[i].empty())) continue;
    TripReport t;
    t.trip_id = trip.trip_id;
    t.day = service_day(*trip.first, s.options.utc_offset_min
                                         ? *s.options.utc_offset_min
                                         : offset_at(report.zones, *trip.first).value_or(0));
    t.figures = figures[i];
    t.problems = std::move(problems[i]);
    DayReport& day = days[t.day];
    day.day = t.day;
    if (i != 0) ++day.trips;
    day.figures += t.figures;
    report.total += t.figures;
    report.trips.push_back(std::move(t));
  }
  for (auto& [name, day] : days)
    report.days.push_back(std::move(day));
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
  json j = json::parse(line, nullptr, false);
  if (!j.is_object() || str(j, "type") != "time_zone") return std::nullopt;
  const auto t = parse_time(str(j, "time"));
  const auto offset = integer(j, "utc_offset_min");
  if (!t || !offset || *offset < -14 * 60 || *offset > 14 * 60) return std::nullopt;
  return RecordedZone{*t, str(j, "time_zone"), *offset};
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

std::optional<int> offset_at(const std::vector<RecordedZone>& zones, Time t) {
  if (zones.empty()) return std::nullopt;
  int offset = zones.front().utc_offset_min;
  for (const auto& z : zones) {
    if (z.since > t) break;
    offset = z.utc_offset_min;
  }
  return offset;
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

// ---------------------------------------------------------------------------------------------
// Output

namespace {

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

std::string ok_share(int ok, int all) {
  return std::to_string(ok) + " (" + percent(share(ok, all)) + ")";
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

// Display width: UTF-8 code points, CJK counted as two columns.
std::size_t width(std::string_view s) {
  std::size_t w = 0;
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    w += n >= 3 ? 2 : 1;
    i += n;
  }
  return w;
}

// A plain-text table: first column left-aligned, the others right-aligned.
std::string table(const std::vector<std::vector<std::string>>& rows, const std::string& indent) {
  std::vector<std::size_t> widths;
  for (const auto& row : rows) {
    widths.resize(std::max(widths.size(), row.size()), 0);
    for (std::size_t c = 0; c < row.size(); ++c)
      widths[c] = std::max(widths[c], width(row[c]));
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line = indent;
    for (std::size_t c = 0; c < row.size(); ++c) {
      const std::string pad(widths[c] - width(row[c]), ' ');
      if (c > 0) line += "  ";
      line += c == 0 ? row[c] + pad : pad + row[c];
    }
    while (!line.empty() && line.back() == ' ')
      line.pop_back();
    out += line + "\n";
  }
  return out;
}

// "  label    value" lines, the values in one column.
std::string labelled(const std::vector<std::pair<std::string, std::string>>& rows) {
  std::size_t w = 0;
  for (const auto& [label, value] : rows)
    w = std::max(w, width(label));
  std::string out;
  for (const auto& [label, value] : rows)
    out += "  " + label + std::string(w - width(label) + 2, ' ') + value + "\n";
  return out;
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

std::string problem_text(const StopProblem& p) {
  std::string s;
  if (!p.next_stop_ok) s += "next stop: " + p.next_stop_why;
  if (!p.approaching_ok)
    s += (s.empty() ? "" : "; ") + std::string("arriving: ") + p.approaching_why;
  return s;
}

}  // namespace

std::string to_text(const Report& r) {
  std::ostringstream out;
  const Figures& f = r.total;
  out << "stopcall report: " << r.source << " (" << r.format << ")\n";
  out << "window: " << window_text(r) << "\n";
  if (r.faster_than_real_time()) out << "note: " << speed_note(r) << "\n";
  out << "lines: " << r.lines + r.unreadable << " read, " << r.in_window << " in the window, "
      << r.unreadable << " unreadable (skipped)\n";
  for (const auto& u : r.unreadable_examples)
    out << "  unreadable line " << u.number << ": " << u.why << ": " << u.excerpt << "\n";
  if (r.fault_count) out << "faults: " << r.fault_count << "\n";
  for (const auto& fault : r.faults)
    out << "  " << fault.time << " " << fault.kind << ": " << fault.message << "\n";

  out << "\nTotal: " << trip_count(r) << " trips, " << r.days.size() << " service day"
      << (r.days.size() == 1 ? "" : "s") << (r.days.empty() ? "" : " (" + days_text(r) + ")")
      << "\n";
  const KindFigures all = f.all_kinds();
  out << labelled({
      {"stops served or passed", std::to_string(f.stops)},
      {"next stop heard", heard_text(f.next_stop_ok, f.stops, f.next_stop_late, f.next_stop_cut)},
      {"arriving heard",
       heard_text(f.approaching_ok, f.stops, f.approaching_late, f.approaching_cut)},
      {"exterior route heard", exterior_text(f)},
      {"announcement failures", failures_text(all)},
      {"ramp cycles", std::to_string(f.ramp_cycles) + " (ramp moving alarms " +
                          std::to_string(f.ramp_alarms) + ")"},
      {"boarding requests", "served " + std::to_string(f.requests_served) + ", missed " +
                                std::to_string(f.requests_missed) + ", expired " +
                                std::to_string(f.requests_expired) + ", dismissed " +
                                std::to_string(f.requests_dismissed) + ", still open " +
                                std::to_string(f.requests_open)},
      {"wheelchair alighting", "served " + std::to_string(f.alighting_served) + ", missed " +
                                   std::to_string(f.alighting_missed)},
      {"GPS outage", fixed(f.gps_outage_s, 1) + " s"},
  });

  std::vector<std::vector<std::string>> kinds = {{"kind", "announced", "heard", "expired",
                                                  "interrupted", "cancelled", "failed",
                                                  "never heard"}};
  for (const auto& k : kind_order(f)) {
    const KindFigures& v = f.kinds.at(k);
    kinds.push_back({k, std::to_string(v.announced), std::to_string(v.heard),
                     std::to_string(v.expired), std::to_string(v.interrupted),
                     std::to_string(v.cancelled), std::to_string(v.failed),
                     std::to_string(v.never_heard)});
  }
  out << "\nFailures by reason (announcements by kind; expired = dropped: bus already there)\n"
      << table(kinds, "  ");

  std::vector<std::vector<std::string>> days = {{"day", "trips", "stops", "next stop", "arriving",
                                                 "exterior", "ramp", "served", "missed",
                                                 "GPS outage s"}};
  for (const auto& d : r.days) {
    const Figures& g = d.figures;
    days.push_back({d.day, std::to_string(d.trips), std::to_string(g.stops),
                    percent(share(g.next_stop_ok, g.stops)),
                    percent(share(g.approaching_ok, g.stops)),
                    std::to_string(g.exterior_heard) + "/" + std::to_string(g.exterior_stops),
                    std::to_string(g.ramp_cycles), std::to_string(g.requests_served),
                    std::to_string(g.requests_missed), fixed(g.gps_outage_s, 1)});
  }
  out << "\nPer service day\n" << table(days, "  ");

  std::vector<std::vector<std::string>> trips = {{"trip", "day", "stops", "next stop", "arriving",
                                                  "exterior", "failures", "never heard", "ramp",
                                                  "served", "missed", "GPS outage s"}};
  for (const auto& t : r.trips) {
    const Figures& g = t.figures;
    const KindFigures k = g.all_kinds();
    trips.push_back({trip_label(t), t.day, std::to_string(g.stops),
                     ok_share(g.next_stop_ok, g.stops), ok_share(g.approaching_ok, g.stops),
                     std::to_string(g.exterior_heard) + "/" + std::to_string(g.exterior_stops),
                     std::to_string(k.failures()), std::to_string(k.never_heard),
                     std::to_string(g.ramp_cycles), std::to_string(g.requests_served),
                     std::to_string(g.requests_missed), fixed(g.gps_outage_s, 1)});
  }
  out << "\nPer trip\n" << table(trips, "  ");

  constexpr std::size_t kListed = 20;
  std::size_t listed = 0, problems = 0;
  std::string list;
  for (const auto& t : r.trips) {
    for (const auto& p : t.problems) {
      ++problems;
      if (listed++ >= kListed) continue;
      list += "  " + trip_label(t) + " #" + std::to_string(p.stop_index) + " " + p.stop_id + ": " +
              problem_text(p) + (p.text.empty() ? "" : "  [" + p.text + "]") + "\n";
    }
  }
  if (problems > 0) {
    out << "\nStops whose announcement was not heard (" << problems << " stops"
        << (problems > kListed ? ", first " + std::to_string(kListed) + "; --html lists all" : "")
        << ")\n"
        << list;
  }
  return out.str();
}

namespace {

std::string csv_field(const std::string& v) {
  if (v.find_first_of(",\"\r\n") == std::string::npos) return v;
  std::string q = "\"";
  for (char c : v) {
    if (c == '"') q += '"';
    q += c;
  }
  return q + "\"";
}

std::string csv_share(int ok, int stops) {
  const auto s = share(ok, stops);
  return s ? fixed(*s, 3) : std::string();
}

std::string csv_row(const std::string& trip, const std::string& day, const Figures& f) {
  const KindFigures k = f.all_kinds();
  const std::vector<std::string> cells = {trip,
                                          day,
                                          std::to_string(f.stops),
                                          std::to_string(f.next_stop_ok),
                                          csv_share(f.next_stop_ok, f.stops),
                                          std::to_string(f.approaching_ok),
                                          csv_share(f.approaching_ok, f.stops),
                                          std::to_string(f.next_stop_late),
                                          std::to_string(f.approaching_late),
                                          std::to_string(f.next_stop_cut),
                                          std::to_string(f.approaching_cut),
                                          std::to_string(f.exterior_stops),
                                          std::to_string(f.exterior_heard),
                                          std::to_string(k.expired),
                                          std::to_string(k.interrupted),
                                          std::to_string(k.cancelled),
                                          std::to_string(k.failed),
                                          std::to_string(k.never_heard),
                                          std::to_string(f.ramp_cycles),
                                          std::to_string(f.ramp_alarms),
                                          std::to_string(f.requests_served),
                                          std::to_string(f.requests_missed),
                                          std::to_string(f.requests_expired),
                                          std::to_string(f.requests_dismissed),
                                          std::to_string(f.alighting_served),
                                          fixed(f.gps_outage_s, 1)};
  std::string line;
  for (std::size_t i = 0; i < cells.size(); ++i)
    line += (i ? "," : "") + csv_field(cells[i]);
  return line + "\n";
}

}  // namespace

std::string to_csv(const Report& r) {
  std::string out =
      "trip_id,day,stops,next_stop_ok,next_stop_share,approaching_ok,approaching_share,"
      "next_stop_late,approaching_late,next_stop_cut,approaching_cut,exterior_stops,exterior_heard,"
      "expired,interrupted,"
      "cancelled,failed,never_heard,ramp_cycles,ramp_alarms,requests_served,requests_missed,"
      "requests_expired,requests_dismissed,alighting_served,gps_outage_s\n";
  for (const auto& t : r.trips)
    out += csv_row(trip_label(t), t.day, t.figures);
  out += csv_row("TOTAL", days_text(r), r.total);
  return out;
}

namespace {

std::string esc(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string td(const std::string& v) {
  return "<td>" + esc(v) + "</td>";
}
std::string th(const std::string& v) {
  return "<th>" + esc(v) + "</th>";
}

// Horizontal bars: next-stop and arriving share for each trip.
std::string svg_chart(const Report& r) {
  constexpr int kWidth = 760, kLabel = 250, kBar = 420, kRow = 40, kTop = 34;
  const int height = kTop + static_cast<int>(r.trips.size()) * kRow + 24;
  std::ostringstream s;
  s << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << kWidth << "\" height=\"" << height
    << "\" viewBox=\"0 0 " << kWidth << ' ' << height
    << "\" role=\"img\" aria-label=\"Share of stops with the next-stop and the arriving "
       "announcement heard, per trip\">\n";
  s << "<rect x=\"" << kLabel << "\" y=\"6\" width=\"12\" height=\"12\" class=\"next\"/>"
    << "<text x=\"" << kLabel + 18 << "\" y=\"16\">next stop heard</text>"
    << "<rect x=\"" << kLabel + 170 << "\" y=\"6\" width=\"12\" height=\"12\" class=\"arr\"/>"
    << "<text x=\"" << kLabel + 188 << "\" y=\"16\">arriving heard</text>\n";
  for (int pct = 0; pct <= 100; pct += 25) {
    const int x = kLabel + kBar * pct / 100;
    s << "<line x1=\"" << x << "\" y1=\"" << kTop - 6 << "\" x2=\"" << x << "\" y2=\""
      << height - 18 << "\" class=\"grid\"/><text x=\"" << x << "\" y=\"" << height - 4
      << "\" text-anchor=\"middle\" class=\"axis\">" << pct << " %</text>\n";
  }
  int y = kTop;
  for (const auto& t : r.trips) {
    s << "<text x=\"" << kLabel - 8 << "\" y=\"" << y + 18 << "\" text-anchor=\"end\">"
      << esc(trip_label(t)) << " <tspan class=\"axis\">" << esc(t.day) << "</tspan></text>\n";
    const Figures& f = t.figures;
    const std::pair<std::optional<double>, const char*> bars[] = {
        {share(f.next_stop_ok, f.stops), "next"}, {share(f.approaching_ok, f.stops), "arr"}};
    int by = y + 4;
    for (const auto& [value, cls] : bars) {
      if (value) {
        const int w = static_cast<int>(*value * kBar + 0.5);
        s << "<rect x=\"" << kLabel << "\" y=\"" << by << "\" width=\"" << w
          << "\" height=\"14\" class=\"" << cls << "\"><title>" << percent(value)
          << "</title></rect><text x=\"" << kLabel + w + 4 << "\" y=\"" << by + 12
          << "\" class=\"axis\">" << percent(value) << "</text>\n";
      } else {
        s << "<text x=\"" << kLabel + 4 << "\" y=\"" << by + 12
          << "\" class=\"axis\">no stops</text>\n";
      }
      by += 16;
    }
    y += kRow;
  }
  s << "</svg>\n";
  return s.str();
}

}  // namespace

std::string to_html(const Report& r) {
  const Figures& f = r.total;
  const KindFigures all = f.all_kinds();
  std::ostringstream h;
  h << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
    << "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    << "<title>stopcall report " << esc(days_text(r)) << "</title>\n"
    << "<style>\n"
       "body{font-family:system-ui,sans-serif;margin:2em;color:#1b1f24}\n"
       "h1{font-size:1.5em}h2{font-size:1.15em;margin-top:2em}\n"
       "table{border-collapse:collapse;margin:.5em 0}\n"
       "th,td{border:1px solid #c8ccd1;padding:.25em .6em;text-align:right;white-space:nowrap}\n"
       "th:first-child,td:first-child{text-align:left}\n"
       "th{background:#eef1f4}\n"
       "td.text,th.text{text-align:left;white-space:normal}\n"
       ".meta{color:#57606a}\n"
       ".note{background:#fff8c5;border-left:4px solid #9a6700;padding:.4em .8em}\n"
       "svg text{font-size:12px;fill:#1b1f24}svg .axis{fill:#57606a}\n"
       "svg .grid{stroke:#d0d7de}svg .next{fill:#1f6feb}svg .arr{fill:#d9822b}\n"
       "</style>\n</head>\n<body>\n";
  h << "<h1>Accessibility announcements: " << esc(days_text(r)) << "</h1>\n";
  h << "<p class=\"meta\">" << esc(r.source) << " (" << esc(r.format) << "); "
    << esc(window_text(r)) << "; " << r.lines + r.unreadable << " lines read, " << r.in_window
    << " in the window, " << r.unreadable << " unreadable (skipped).</p>\n";
  if (r.faster_than_real_time()) h << "<p class=\"note\">" << esc(speed_note(r)) << ".</p>\n";

  h << "<h2>Totals</h2>\n<table>\n";
  auto row = [&](const std::string& name, const std::string& value) {
    h << "<tr>" << th(name) << "<td class=\"text\">" << esc(value) << "</td></tr>\n";
  };
  row("trips", std::to_string(trip_count(r)));
  row("stops served or passed", std::to_string(f.stops));
  row("next stop heard", heard_text(f.next_stop_ok, f.stops, f.next_stop_late, f.next_stop_cut));
  row("arriving heard",
      heard_text(f.approaching_ok, f.stops, f.approaching_late, f.approaching_cut));
  row("exterior route heard", exterior_text(f));
  row("announcement failures", failures_text(all));
  row("ramp cycles", std::to_string(f.ramp_cycles) + " (ramp moving alarms " +
                         std::to_string(f.ramp_alarms) + ")");
  row("boarding requests", "served " + std::to_string(f.requests_served) + ", missed " +
                               std::to_string(f.requests_missed) + ", expired " +
                               std::to_string(f.requests_expired) + ", dismissed " +
                               std::to_string(f.requests_dismissed) + ", still open " +
                               std::to_string(f.requests_open));
  row("wheelchair alighting", "served " + std::to_string(f.alighting_served) + ", missed " +
                                  std::to_string(f.alighting_missed));
  row("GPS outage", fixed(f.gps_outage_s, 1) + " s");
  h << "</table>\n";

  h << "<h2>Next stop and arriving heard, per trip</h2>\n" << svg_chart(r);

  h << "<h2>Failures by reason</h2>\n<p class=\"meta\">Announcements by kind. expired = "
       "dropped: the bus was already there. never heard = no sound on any output.</p>\n<table>\n"
    << "<tr>" << th("kind") << th("announced") << th("heard") << th("expired") << th("interrupted")
    << th("cancelled") << th("failed") << th("never heard") << "</tr>\n";
  for (const auto& k : kind_order(f)) {
    const KindFigures& v = f.kinds.at(k);
    h << "<tr>" << td(k) << td(std::to_string(v.announced)) << td(std::to_string(v.heard))
      << td(std::to_string(v.expired)) << td(std::to_string(v.interrupted))
      << td(std::to_string(v.cancelled)) << td(std::to_string(v.failed))
      << td(std::to_string(v.never_heard)) << "</tr>\n";
  }
  h << "</table>\n";

  h << "<h2>Per service day</h2>\n<table>\n<tr>" << th("day") << th("trips") << th("stops")
    << th("next stop") << th("arriving") << th("exterior") << th("ramp cycles") << th("served")
    << th("missed") << th("GPS outage s") << "</tr>\n";
  for (const auto& d : r.days) {
    const Figures& g = d.figures;
    h << "<tr>" << td(d.day) << td(std::to_string(d.trips)) << td(std::to_string(g.stops))
      << td(of(g.next_stop_ok, g.stops)) << td(of(g.approaching_ok, g.stops))
      << td(std::to_string(g.exterior_heard) + " of " + std::to_string(g.exterior_stops))
      << td(std::to_string(g.ramp_cycles)) << td(std::to_string(g.requests_served))
      << td(std::to_string(g.requests_missed)) << td(fixed(g.gps_outage_s, 1)) << "</tr>\n";
  }
  h << "</table>\n";

  h << "<h2>Per trip</h2>\n<table>\n<tr>" << th("trip") << th("day") << th("stops")
    << th("next stop") << th("arriving") << th("exterior") << th("failures") << th("never heard")
    << th("ramp cycles") << th("served") << th("missed") << th("GPS outage s") << "</tr>\n";
  for (const auto& t : r.trips) {
    const Figures& g = t.figures;
    const KindFigures k = g.all_kinds();
    h << "<tr>" << td(trip_label(t)) << td(t.day) << td(std::to_string(g.stops))
      << td(of(g.next_stop_ok, g.stops)) << td(of(g.approaching_ok, g.stops))
      << td(std::to_string(g.exterior_heard) + " of " + std::to_string(g.exterior_stops))
      << td(std::to_string(k.failures())) << td(std::to_string(k.never_heard))
      << td(std::to_string(g.ramp_cycles)) << td(std::to_string(g.requests_served))
      << td(std::to_string(g.requests_missed)) << td(fixed(g.gps_outage_s, 1)) << "</tr>\n";
  }
  h << "</table>\n";

  h << "<h2>Stops whose announcement was not heard</h2>\n<table>\n<tr>" << th("trip") << th("stop")
    << th("stop id") << th("next stop") << th("arriving") << "<th class=\"text\">announced as</th>"
    << "</tr>\n";
  for (const auto& t : r.trips) {
    for (const auto& p : t.problems) {
      h << "<tr>" << td(trip_label(t)) << td(std::to_string(p.stop_index)) << td(p.stop_id)
        << td(p.next_stop_ok ? "heard" : p.next_stop_why)
        << td(p.approaching_ok ? "heard" : p.approaching_why) << "<td class=\"text\">"
        << esc(p.text) << "</td></tr>\n";
    }
  }
  h << "</table>\n";

  if (!r.faults.empty()) {
    h << "<h2>Faults the bus logged</h2>\n<table>\n<tr>" << th("time") << th("fault")
      << "<th class=\"text\">what</th></tr>\n";
    for (const auto& fault : r.faults) {
      h << "<tr>" << td(fault.time) << td(fault.kind) << "<td class=\"text\">" << esc(fault.message)
        << "</td></tr>\n";
    }
    h << "</table>\n";
  }
  if (!r.unreadable_examples.empty()) {
    h << "<h2>Unreadable lines (skipped)</h2>\n<table>\n<tr>" << th("line") << th("why")
      << "<th class=\"text\">start of the line</th>"
      << "</tr>\n";
    for (const auto& u : r.unreadable_examples) {
      h << "<tr>" << td(std::to_string(u.number)) << td(u.why) << "<td class=\"text\">"
        << esc(u.excerpt) << "</td></tr>\n";
    }
    h << "</table>\n";
  }
  h << "</body>\n</html>\n";
  return h.str();
}

}  // namespace stopcall::report
