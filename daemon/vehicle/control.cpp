#include "daemon/vehicle/control.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "common/names.hpp"
#include "daemon/tracking/events.hpp"
#include "routes/utf8.hpp"

namespace stopcall::daemon::vehicle {

namespace {

using nlohmann::json;

constexpr names::Entry<SignalName> kSignals[] = {
    {SignalName::door, "door"},           {SignalName::ramp, "ramp"},
    {SignalName::kneel, "kneel"},         {SignalName::speed, "speed"},
    {SignalName::emergency, "emergency"},
};
constexpr names::Entry<Button> kButtons[] = {
    {Button::ramp_assist, "ramp-assist"},
    {Button::stop_request, "stop-request"},
    {Button::wheelchair_request, "wheelchair-request"},
};
constexpr names::Entry<RequestKind> kRequestKinds[] = {
    {RequestKind::wheelchair, "wheelchair"},
    {RequestKind::blind, "blind"},
};
static_assert(names::distinct(kSignals) && names::distinct(kButtons) &&
              names::distinct(kRequestKinds));

Parsed bad(std::string id, std::string error, std::string message) {
  Parsed p;
  p.id = std::move(id);
  p.error = Reply::failure(std::move(error), std::move(message));
  return p;
}

// Reads a string field, or says which field is missing or not a string.
std::optional<std::string> text_field(const json& j, const char* name, std::string& problem) {
  auto it = j.find(name);
  if (it == j.end()) {
    problem = std::string("missing \"") + name + "\"";
    return std::nullopt;
  }
  if (!it->is_string()) {
    problem = std::string("\"") + name + "\" must be a string";
    return std::nullopt;
  }
  return it->get<std::string>();
}

Parsed parse_signal(const json& j, std::string id) {
  std::string problem;
  auto name = text_field(j, "signal", problem);
  if (!name) return bad(id, "bad_request", problem);
  Signal s;
  s.source = "control";
  if (*name == "speed") {
    auto kmh = j.find("kmh");
    if (kmh == j.end() || !kmh->is_number() || !std::isfinite(kmh->get<double>()) ||
        kmh->get<double>() < 0 || kmh->get<double>() > 200) {
      return bad(id, "bad_request", "speed wants \"kmh\": a number from 0 to 200");
    }
    s.name = SignalName::speed;
    s.speed_kmh = kmh->get<double>();
    Parsed p;
    p.id = std::move(id);
    p.command = s;
    return p;
  }
  auto state = text_field(j, "state", problem);
  if (!state) return bad(id, "bad_request", problem);
  if (*name == "door") {
    s.name = SignalName::door;
    if (*state != "open" && *state != "closed") {
      return bad(id, "bad_request",
                 "door state must be \"open\" or \"closed\", not \"" + *state + "\"");
    }
    s.active = *state == "open";
    if (auto door = j.find("door"); door != j.end()) {
      if (!door->is_number_integer() || door->get<long>() < 1 || door->get<long>() > 8) {
        return bad(id, "bad_request", "\"door\" must be a door number from 1 to 8");
      }
      s.door = door->get<int>();
    }
  } else if (*name == "emergency") {
    s.name = SignalName::emergency;
    if (*state != "active" && *state != "clear") {
      return bad(id, "bad_request",
                 "emergency state must be \"active\" or \"clear\", not \"" + *state + "\"");
    }
    s.active = *state == "active";
  } else if (*name == "ramp" || *name == "kneel") {
    s.name = *name == "ramp" ? SignalName::ramp : SignalName::kneel;
    if (*state != "deployed" && *state != "stowed") {
      return bad(id, "bad_request",
                 *name + " state must be \"deployed\" or \"stowed\", not \"" + *state + "\"");
    }
    s.active = *state == "deployed";
  } else {
    return bad(id, "bad_request",
               "unknown signal \"" + *name + "\" (door, ramp, kneel, speed or emergency)");
  }
  Parsed p;
  p.id = std::move(id);
  p.command = s;
  return p;
}

// A string per language: {"zh-Hans":"…","en":"…"}.
bool read_texts(const json& j, const char* name, std::map<std::string, std::string>& out,
                std::string& problem) {
  auto it = j.find(name);
  if (it == j.end()) return true;
  if (!it->is_object()) {
    problem = std::string("\"") + name + "\" must be an object of texts by language";
    return false;
  }
  for (const auto& [lang, text] : it->items()) {
    if (!text.is_string()) {
      problem = std::string("\"") + name + "\"." + lang + " must be a string";
      return false;
    }
    out[lang] = text.get<std::string>();
  }
  return true;
}

Parsed parse_message(const json& j, std::string id) {
  std::string problem;
  Parsed p;
  p.id = id;
  for (auto [key, action] : {std::pair{"ack", MessageEnd::Action::acknowledge},
                             std::pair{"cancel", MessageEnd::Action::cancel}}) {
    if (!j.contains(key)) continue;
    auto message = text_field(j, key, problem);
    if (!message || message->empty() || message->size() > kMaxId) {
      return bad(id, "bad_request", std::string("\"") + key + "\" names a message id (1-64 bytes)");
    }
    p.command = MessageEnd{action, *message, "control"};
    return p;
  }
  MessageIn m;
  m.source = "control";
  if (auto it = j.find("message_id"); it != j.end()) {
    if (!it->is_string() || it->get_ref<const std::string&>().empty() ||
        it->get_ref<const std::string&>().size() > kMaxId) {
      return bad(id, "bad_request", "\"message_id\" must be a string of 1 to 64 bytes");
    }
    m.message_id = it->get<std::string>();
  }
  if (j.contains("preset")) {
    auto preset = text_field(j, "preset", problem);
    if (!preset || preset->empty() || preset->size() > kMaxId) {
      return bad(id, "bad_request", "\"preset\" must be a preset id of 1 to 64 bytes");
    }
    m.preset = *preset;
  } else {
    auto kind = text_field(j, "kind", problem);
    if (!kind) return bad(id, "bad_request", problem + " (or a \"preset\")");
    if (*kind != "emergency" && *kind != "service") {
      return bad(id, "bad_request", "kind must be \"emergency\" or \"service\"");
    }
    m.kind = *kind;
  }
  if (!read_texts(j, "text", m.text, problem) || !read_texts(j, "spoken", m.spoken, problem)) {
    return bad(id, "bad_request", problem);
  }
  if (m.preset.empty() && m.text.empty()) {
    return bad(id, "bad_request", "a message needs \"text\" in at least one language");
  }
  if (auto it = j.find("outputs"); it != j.end()) {
    if (!it->is_string() || (*it != "interior" && *it != "exterior" && *it != "both")) {
      return bad(id, "bad_request", "\"outputs\" must be \"interior\", \"exterior\" or \"both\"");
    }
    m.outputs = it->get<std::string>();
  }
  for (auto [key, field] :
       {std::pair{"repeat_every_s", &m.repeat_every_s}, std::pair{"repeats", &m.repeats}}) {
    auto it = j.find(key);
    if (it == j.end()) continue;
    if (!it->is_number_integer() || it->get<long>() < 0 || it->get<long>() > 86400) {
      return bad(id, "bad_request", std::string("\"") + key + "\" must be a whole number");
    }
    *field = it->get<int>();
  }
  if (auto it = j.find("expires"); it != j.end()) {
    if (it->is_string()) m.expires = parse_iso_time(it->get<std::string>());
    if (!m.expires) {
      return bad(id, "bad_request",
                 "\"expires\" is not an ISO 8601 time with a zone (2026-03-02T07:30:00Z)");
    }
  }
  p.command = std::move(m);
  return p;
}

}  // namespace

std::string_view to_string(SignalName name) {
  return names::name_of(kSignals, name, "?");
}

std::string_view to_string(Button button) {
  return names::name_of(kButtons, button, "?");
}

std::string_view to_string(RequestKind kind) {
  return names::name_of(kRequestKinds, kind);
}

std::optional<Button> button_from_string(std::string_view text) {
  // "ramp_assist" (the screens' spelling) is an alias of "ramp-assist".
  std::string name(text);
  std::replace(name.begin(), name.end(), '_', '-');
  return names::value_of(kButtons, name);
}

std::optional<RequestKind> request_kind_from_string(std::string_view text) {
  return names::value_of(kRequestKinds, text);
}

std::optional<tracking::Time> parse_iso_time(std::string_view text) {
  // YYYY-MM-DDTHH:MM:SS[.fff][Z|+HH:MM|-HH:MM]. Digits where digits belong: sscanf's %2d alone
  // would also take "-1" or " 1", and T-1:-1:-1 would be a time the day before.
  constexpr std::string_view kShape = "dddd-dd-ddTdd:dd:dd";
  if (text.size() < kShape.size()) return std::nullopt;
  for (std::size_t i = 0; i < kShape.size(); ++i) {
    bool digit = text[i] >= '0' && text[i] <= '9';
    if (kShape[i] == 'd' ? !digit : text[i] != kShape[i]) return std::nullopt;
  }
  int y, mo, d, h, mi, s, n = 0;
  std::string buffer(text);
  if (std::sscanf(buffer.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &s, &n) != 6 ||
      n != 19) {
    return std::nullopt;
  }
  std::string_view rest = text.substr(19);
  long ms = 0;
  if (!rest.empty() && rest.front() == '.') {
    rest.remove_prefix(1);
    int digits = 0;
    long scale = 100;
    while (!rest.empty() && rest.front() >= '0' && rest.front() <= '9') {
      if (digits < 3) ms += (rest.front() - '0') * scale;
      scale /= 10;
      ++digits;
      rest.remove_prefix(1);
    }
    if (digits == 0) return std::nullopt;
  }
  int offset_min = 0;
  if (rest == "Z") {
  } else if (rest.size() == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':') {
    int oh = 0, om = 0;
    if (std::sscanf(std::string(rest.substr(1)).c_str(), "%2d:%2d", &oh, &om) != 2 || oh > 23 ||
        om > 59) {
      return std::nullopt;
    }
    offset_min = (rest[0] == '+' ? 1 : -1) * (oh * 60 + om);
  } else {
    return std::nullopt;  // a time without a zone means nothing on a bus crossing midnight UTC
  }
  using namespace std::chrono;
  year_month_day date{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
  if (!date.ok() || h > 23 || mi > 59 || s > 60) return std::nullopt;
  return time_point_cast<milliseconds>(sys_days{date}) + hours{h} + minutes{mi} + seconds{s} +
         milliseconds{ms} - minutes{offset_min};
}

Parsed parse_command(std::string_view line) {
  if (line.size() > kMaxLine) return bad({}, "too_large", "a command is at most 4096 bytes");
  // The JSON reader would stop at a NUL and take what is before it for the whole line.
  if (line.find('\0') != std::string_view::npos || routes::first_invalid_utf8(line)) {
    return bad({}, "bad_request", "a command line is UTF-8 text without NUL bytes");
  }
  json j = json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return bad({}, "bad_request", "not a JSON object (one command per line)");
  }
  std::string id;
  if (auto it = j.find("id"); it != j.end()) {
    if (!it->is_string()) return bad({}, "bad_request", "\"id\" must be a string");
    if (it->get_ref<const std::string&>().size() > kMaxId) {
      return bad({}, "bad_request", "\"id\" is at most 64 bytes");
    }
    id = it->get<std::string>();
  }
  std::string problem;
  auto cmd = text_field(j, "cmd", problem);
  if (!cmd) return bad(id, "bad_request", problem);
  if (*cmd == "signal") return parse_signal(j, id);
  Parsed p;
  p.id = id;
  if (*cmd == "button") {
    auto name = text_field(j, "button", problem);
    if (!name) return bad(id, "bad_request", problem);
    auto button = button_from_string(*name);
    if (!button) {
      return bad(
          id, "bad_request",
          "unknown button \"" + *name + "\" (ramp-assist, stop-request or wheelchair-request)");
    }
    p.command = ButtonPress{*button, "control"};
    return p;
  }
  if (*cmd == "request") {
    BoardingRequestIn r;
    r.source = "control";
    auto kind = text_field(j, "kind", problem);
    if (!kind) return bad(id, "bad_request", problem);
    auto k = request_kind_from_string(*kind);
    if (!k) return bad(id, "bad_request", "kind must be \"wheelchair\" or \"blind\"");
    r.kind = *k;
    auto stop = text_field(j, "stop_id", problem);
    if (!stop || stop->empty()) return bad(id, "bad_request", stop ? "empty \"stop_id\"" : problem);
    r.stop_id = *stop;
    auto route = text_field(j, "route_id", problem);
    if (!route || route->empty()) {
      return bad(id, "bad_request", route ? "empty \"route_id\"" : problem);
    }
    r.route_id = *route;
    if (r.stop_id.size() > kMaxFeedId || r.route_id.size() > kMaxFeedId) {
      return bad(id, "bad_request", "\"stop_id\" and \"route_id\" are at most 128 bytes");
    }
    if (auto it = j.find("expires"); it != j.end() && !it->is_null()) {
      if (!it->is_string()) return bad(id, "bad_request", "\"expires\" must be an ISO 8601 time");
      r.expires = parse_iso_time(it->get<std::string>());
      if (!r.expires) {
        return bad(id, "bad_request",
                   "\"expires\" is not an ISO 8601 time with a zone (2026-03-02T07:30:00Z)");
      }
    }
    if (auto it = j.find("request_id"); it != j.end()) {
      if (!it->is_string()) return bad(id, "bad_request", "\"request_id\" must be a string");
      r.id = it->get<std::string>();
      if (r.id.size() > kMaxId) return bad(id, "bad_request", "\"request_id\" is at most 64 bytes");
    }
    p.command = std::move(r);
    return p;
  }
  if (*cmd == "state") {
    p.command = QueryState{};
    return p;
  }
  if (*cmd == "message") return parse_message(j, id);
  return bad(id, "unknown_command",
             "unknown command \"" + *cmd + "\" (signal, button, request, message or state)");
}

std::string encode_command(const Command& command, std::string_view id) {
  json j;
  if (!id.empty()) j["id"] = id;
  std::visit(
      [&](const auto& c) {
        using T = std::decay_t<decltype(c)>;
        if constexpr (std::is_same_v<T, Signal>) {
          j["cmd"] = "signal";
          j["signal"] = to_string(c.name);
          switch (c.name) {
            case SignalName::door:
              j["door"] = c.door;
              j["state"] = c.active ? "open" : "closed";
              break;
            case SignalName::ramp:
            case SignalName::kneel:
              j["state"] = c.active ? "deployed" : "stowed";
              break;
            case SignalName::speed:
              j["kmh"] = c.speed_kmh;
              break;
            case SignalName::emergency:
              j["state"] = c.active ? "active" : "clear";
              break;
          }
        } else if constexpr (std::is_same_v<T, ButtonPress>) {
          j["cmd"] = "button";
          j["button"] = to_string(c.button);
        } else if constexpr (std::is_same_v<T, BoardingRequestIn>) {
          j["cmd"] = "request";
          j["kind"] = to_string(c.kind);
          j["stop_id"] = c.stop_id;
          j["route_id"] = c.route_id;
          if (!c.id.empty()) j["request_id"] = c.id;
          if (c.expires) j["expires"] = tracking::format_time(*c.expires);
        } else if constexpr (std::is_same_v<T, MessageIn>) {
          j["cmd"] = "message";
          if (!c.message_id.empty()) j["message_id"] = c.message_id;
          if (!c.preset.empty()) j["preset"] = c.preset;
          if (!c.kind.empty()) j["kind"] = c.kind;
          if (!c.text.empty()) j["text"] = c.text;
          if (!c.spoken.empty()) j["spoken"] = c.spoken;
          if (!c.outputs.empty()) j["outputs"] = c.outputs;
          if (c.repeat_every_s) j["repeat_every_s"] = *c.repeat_every_s;
          if (c.repeats) j["repeats"] = *c.repeats;
          if (c.expires) j["expires"] = tracking::format_time(*c.expires);
        } else if constexpr (std::is_same_v<T, MessageEnd>) {
          j["cmd"] = "message";
          j[c.action == MessageEnd::Action::acknowledge ? "ack" : "cancel"] = c.message_id;
        } else {
          j["cmd"] = "state";
        }
      },
      command);
  return j.dump();
}

std::string encode_reply(const Reply& reply, std::string_view id) {
  json j;
  if (!id.empty()) j["id"] = id;
  j["ok"] = reply.ok;
  if (!reply.ok) j["error"] = reply.error;
  j["message"] = reply.message;
  if (!reply.data.empty()) {
    j["data"] = json::parse(reply.data, nullptr, false);
  }
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

Reply parse_reply(std::string_view line) {
  json j = json::parse(line, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("ok") || !j["ok"].is_boolean()) {
    return Reply::failure(
        "bad_reply", "the daemon's answer was not understood: " + std::string(line.substr(0, 200)));
  }
  // value() throws when the field is there but not a string: read only strings.
  auto text = [&](const char* key) {
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  Reply r;
  r.ok = j["ok"].get<bool>();
  r.error = text("error");
  r.message = text("message");
  if (j.contains("data")) r.data = j["data"].dump();
  return r;
}

}  // namespace stopcall::daemon::vehicle
