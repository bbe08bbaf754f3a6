// JSON encoding and decoding of the screens' protocol (PROTOCOL.md). nlohmann-json stays in this
// file: the header is plain value types.
#include "hmi/protocol.hpp"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <type_traits>

#include "common/names.hpp"

namespace stopcall::hmi {
namespace {

using nlohmann::json;

constexpr std::size_t kMaxIdLength = 64;
constexpr std::size_t kMaxFieldLength = 256;

constexpr names::Entry<Wheelchair> kWheelchair[] = {
    {Wheelchair::unknown, "unknown"},
    {Wheelchair::accessible, "accessible"},
    {Wheelchair::not_accessible, "not_accessible"},
};
constexpr names::Entry<PromptKind> kPromptKinds[] = {
    {PromptKind::stop_requested, "stop_requested"}, {PromptKind::ramp_requested, "ramp_requested"},
    {PromptKind::ramp_deploying, "ramp_deploying"}, {PromptKind::doors_opening, "doors_opening"},
    {PromptKind::doors_closing, "doors_closing"},   {PromptKind::notice, "notice"},
};
constexpr names::Entry<Level> kLevels[] = {
    {Level::unknown, "unknown"},
    {Level::ok, "ok"},
    {Level::warning, "warning"},
    {Level::error, "error"},
};
constexpr names::Entry<Role> kRoles[] = {{Role::passenger, "passenger"}, {Role::driver, "driver"}};
constexpr names::Entry<MessageKind> kMessageKinds[] = {
    {MessageKind::emergency, "emergency"},
    {MessageKind::service, "service"},
};
constexpr names::Entry<AudioOutput> kOutputs[] = {
    {AudioOutput::interior, "interior"},
    {AudioOutput::exterior, "exterior"},
};
static_assert(names::distinct(kWheelchair) && names::distinct(kPromptKinds) &&
              names::distinct(kLevels) && names::distinct(kRoles) &&
              names::distinct(kMessageKinds) && names::distinct(kOutputs));

std::string_view to_string(Wheelchair value) {
  return names::name_of(kWheelchair, value);
}

std::string_view to_string(PromptKind kind) {
  return names::name_of(kPromptKinds, kind, "notice");
}

std::string_view to_string(Level level) {
  return names::name_of(kLevels, level);
}

json to_json(const Names& names) {
  json out = json::object();
  for (const auto& [lang, text] : names)
    out[lang] = text;
  return out;
}

json optional_int(const std::optional<int>& value) {
  return value ? json(*value) : json(nullptr);
}

json to_json(const RouteView& route) {
  return {{"number", route.number},
          {"names", to_json(route.names)},
          {"color", route.color},
          {"text_color", route.text_color}};
}

json to_json(const TripView& trip) {
  return {{"id", trip.id},
          {"route", to_json(trip.route)},
          {"headsign", to_json(trip.headsign)},
          {"direction", optional_int(trip.direction)},
          {"block", trip.block}};
}

json to_json(const StopView& stop) {
  return {{"id", stop.id},
          {"names", to_json(stop.names)},
          {"phrases", to_json(stop.phrases)},
          {"sequence", stop.sequence},
          {"index", stop.index},
          {"wheelchair", to_string(stop.wheelchair)}};
}

json to_json(const Subtitle& subtitle) {
  json out = {{"cue", subtitle.cue},   {"text", subtitle.text},
              {"lang", subtitle.lang}, {"start", subtitle.start},
              {"end", subtitle.end},   {"withdrawn", subtitle.withdrawn}};
  if (!subtitle.message.empty()) out["message"] = subtitle.message;
  return out;
}

json to_json(const MessagePanel& panel) {
  return {{"id", panel.id},
          {"kind", to_string(panel.kind)},
          {"title", to_json(panel.title)},
          {"text", to_json(panel.text)},
          {"active", panel.active},
          {"acknowledged", panel.acknowledged},
          {"since_ms", panel.since},
          {"heard", panel.heard},
          {"source", panel.source}};
}

json to_json(const MessageOption& option) {
  return {{"id", option.id},
          {"kind", to_string(option.kind)},
          {"title", to_json(option.title)},
          {"text", to_json(option.text)}};
}

json to_json(const Prompt& prompt) {
  return {{"id", prompt.id},
          {"kind", to_string(prompt.kind)},
          {"text", to_json(prompt.text)},
          {"active", prompt.active}};
}

json to_json(const Status& status) {
  return {{"name", status.name}, {"level", to_string(status.level)}, {"text", status.text}};
}

json to_json(const BoardingRequest& request) {
  json j{{"id", request.id},
         {"stop_id", request.stop_id},
         {"stop_names", to_json(request.stop_names)},
         {"kind", request.kind},
         {"since", request.since}};
  if (request.stops_to_go) j["stops_to_go"] = *request.stops_to_go;
  if (request.distance_m) j["distance_m"] = std::round(*request.distance_m);
  return j;
}

json to_json(const Volume& volume) {
  return {{"interior", volume.interior}, {"exterior", volume.exterior}};
}

json to_json(const TripOption& option) {
  return {{"trip_id", option.trip_id},
          {"route", option.route},
          {"headsign", to_json(option.headsign)},
          {"direction", optional_int(option.direction)},
          {"block", option.block},
          {"departure", option.departure}};
}

json to_json(const DetectedTrip& detected) {
  return {{"trip_id", detected.trip_id}, {"confidence", detected.confidence}};
}

template <class T>
json optional_json(const std::optional<T>& value) {
  return value ? to_json(*value) : json(nullptr);
}

template <class T>
json array_json(const std::vector<T>& items) {
  json out = json::array();
  for (const auto& item : items)
    out.push_back(to_json(item));
  return out;
}

json header(std::string_view type, EpochMs now) {
  return {{"type", type}, {"server_time_ms", now}};
}

// Text that reached us from a feed may in theory hold invalid UTF-8; replace rather than throw.
std::string dump(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

// ---- parsing helpers ----

// The string field `key`, or nullopt when absent or not a string.
std::optional<std::string> string_field(const json& object, const char* key) {
  auto it = object.find(key);
  if (it == object.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

ClientMessage invalid(ClientMessage message, std::string why) {
  message.error = Reply::failure(Errc::invalid_argument, std::move(why));
  return message;
}

}  // namespace

void apply(State& state, const Message& message) {
  struct Visitor {
    State& state;
    void operator()(const NextStopUpdate& update) {
      state.next_stop = update.next_stop;
      state.coming = update.coming;
    }
    void operator()(const Subtitle& subtitle) {
      if (!subtitle.withdrawn) {
        state.subtitle = subtitle;
      } else if (state.subtitle && (subtitle.cue.empty() || state.subtitle->cue == subtitle.cue)) {
        state.subtitle.reset();
      }
    }
    void operator()(const Prompt& prompt) {
      auto it = std::find_if(state.prompts.begin(), state.prompts.end(),
                             [&](const Prompt& p) { return p.id == prompt.id; });
      if (!prompt.active) {
        if (it != state.prompts.end()) state.prompts.erase(it);
      } else if (it != state.prompts.end()) {
        *it = prompt;
      } else {
        state.prompts.push_back(prompt);
      }
    }
    void operator()(const Status& status) {
      auto it = std::find_if(state.statuses.begin(), state.statuses.end(),
                             [&](const Status& s) { return s.name == status.name; });
      if (it != state.statuses.end()) {
        *it = status;
      } else {
        state.statuses.push_back(status);
      }
    }
    void operator()(const RequestsUpdate& update) { state.requests = update.requests; }
    void operator()(const Volume& volume) { state.volume = volume; }
    void operator()(const MessagePanel& panel) {
      auto it = std::find_if(state.messages.begin(), state.messages.end(),
                             [&](const MessagePanel& m) { return m.id == panel.id; });
      if (!panel.active) {
        if (it != state.messages.end()) state.messages.erase(it);
      } else if (it != state.messages.end()) {
        *it = panel;
      } else {
        state.messages.push_back(panel);
      }
    }
  };
  std::visit(Visitor{state}, message);
}

std::string_view type_name(const Message& message) {
  struct Visitor {
    std::string_view operator()(const NextStopUpdate&) const { return "next_stop"; }
    std::string_view operator()(const Subtitle&) const { return "subtitle"; }
    std::string_view operator()(const Prompt&) const { return "prompt"; }
    std::string_view operator()(const Status&) const { return "status"; }
    std::string_view operator()(const RequestsUpdate&) const { return "requests"; }
    std::string_view operator()(const Volume&) const { return "volume"; }
    std::string_view operator()(const MessagePanel&) const { return "message"; }
  };
  return std::visit(Visitor{}, message);
}

std::string_view to_string(Role role) {
  return names::name_of(kRoles, role);
}

std::string_view to_string(MessageKind kind) {
  return names::name_of(kMessageKinds, kind);
}

std::string_view action_name(const Action& action) {
  struct Visitor {
    std::string_view operator()(const LoginTrip&) const { return "login_trip"; }
    std::string_view operator()(const ConfirmDetectedTrip&) const {
      return "confirm_detected_trip";
    }
    std::string_view operator()(const RampAssist&) const { return "ramp_assist"; }
    std::string_view operator()(const RepeatLast&) const { return "repeat_last"; }
    std::string_view operator()(const SetVolume&) const { return "set_volume"; }
    std::string_view operator()(const DismissRequest&) const { return "dismiss_request"; }
    std::string_view operator()(const SendMessage&) const { return "send_message"; }
    std::string_view operator()(const CancelMessage&) const { return "cancel_message"; }
    std::string_view operator()(const AckMessage&) const { return "ack_message"; }
  };
  return std::visit(Visitor{}, action);
}

ClientMessage parse_client_message(std::string_view text) {
  ClientMessage out;
  json doc = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    out.error = Reply::failure(Errc::malformed, "not a JSON object");
    return out;
  }
  // The id first, so that every later error can be matched to its request by the console.
  if (auto it = doc.find("id"); it != doc.end()) {
    if (!it->is_string() || it->get_ref<const std::string&>().size() > kMaxIdLength) {
      out.error = Reply::failure(Errc::malformed, "\"id\" must be a string of at most 64 bytes");
      return out;
    }
    out.id = it->get<std::string>();
  }
  auto type = string_field(doc, "type");
  if (!type) {
    out.error = Reply::failure(Errc::malformed, "no string \"type\"");
    return out;
  }
  if (type->size() > kMaxFieldLength) type->resize(kMaxFieldLength);
  out.type = *type;
  if (out.id.empty()) {
    out.error = Reply::failure(Errc::malformed, "no request \"id\"");
    return out;
  }

  const std::string& t = *type;
  if (t == "auth") {
    auto token = string_field(doc, "token");
    if (!token) return invalid(std::move(out), "auth needs a string \"token\"");
    out.body = Auth{std::move(*token)};
  } else if (t == "ping") {
    out.body = Ping{};
  } else if (t == "login_trip") {
    auto trip = string_field(doc, "trip_id");
    if (!trip || trip->empty() || trip->size() > kMaxFieldLength) {
      return invalid(std::move(out), "login_trip needs a non-empty string \"trip_id\"");
    }
    out.body = Action{LoginTrip{std::move(*trip)}};
  } else if (t == "confirm_detected_trip") {
    out.body = Action{ConfirmDetectedTrip{}};
  } else if (t == "ramp_assist" || t == "ramp-assist") {  // the control socket's spelling too
    out.body = Action{RampAssist{}};
  } else if (t == "repeat_last") {
    out.body = Action{RepeatLast{}};
  } else if (t == "set_volume") {
    auto output_name = string_field(doc, "output");
    auto output = output_name ? names::value_of(kOutputs, *output_name) : std::nullopt;
    if (!output) {
      return invalid(std::move(out), "set_volume needs \"output\": \"interior\" or \"exterior\"");
    }
    auto level = doc.find("level");
    if (level == doc.end() || !level->is_number_integer() || level->get<std::int64_t>() < 0 ||
        level->get<std::int64_t>() > 100) {
      return invalid(std::move(out), "set_volume needs an integer \"level\" from 0 to 100");
    }
    out.body = Action{SetVolume{*output, static_cast<int>(level->get<std::int64_t>())}};
  } else if (t == "dismiss_request") {
    auto request = string_field(doc, "request_id");
    if (!request || request->empty() || request->size() > kMaxFieldLength) {
      return invalid(std::move(out), "dismiss_request needs a non-empty string \"request_id\"");
    }
    out.body = Action{DismissRequest{std::move(*request)}};
  } else if (t == "send_message") {
    auto preset = string_field(doc, "preset");
    if (!preset || preset->empty() || preset->size() > kMaxFieldLength) {
      return invalid(std::move(out), "send_message needs a non-empty string \"preset\"");
    }
    bool confirmed = false;
    if (auto c = doc.find("confirmed"); c != doc.end()) {
      if (!c->is_boolean()) return invalid(std::move(out), "\"confirmed\" must be true or false");
      confirmed = c->get<bool>();
    }
    out.body = Action{SendMessage{std::move(*preset), confirmed}};
  } else if (t == "cancel_message" || t == "ack_message") {
    auto message = string_field(doc, "message_id");
    if (!message || message->empty() || message->size() > kMaxFieldLength) {
      return invalid(std::move(out), t + " needs a non-empty string \"message_id\"");
    }
    if (t == "cancel_message") {
      out.body = Action{CancelMessage{std::move(*message)}};
    } else {
      out.body = Action{AckMessage{std::move(*message)}};
    }
  } else {
    out.error = Reply::failure(Errc::unknown_type, "unknown message type");
  }
  return out;
}

std::string encode_hello(Role role, bool authenticated, EpochMs now) {
  json out = header("hello", now);
  out["protocol"] = kProtocolVersion;
  out["role"] = to_string(role);
  out["authenticated"] = authenticated;
  return dump(out);
}

std::string encode_state(const State& state, std::uint64_t seq, EpochMs now) {
  json out = header("state", now);
  out["seq"] = seq;
  out["utc_offset_min"] = state.utc_offset_min;
  out["languages"] = state.languages;
  out["trip"] = optional_json(state.trip);
  out["next_stop"] = optional_json(state.next_stop);
  out["coming"] = array_json(state.coming);
  out["subtitle"] = optional_json(state.subtitle);
  out["prompts"] = array_json(state.prompts);
  out["statuses"] = array_json(state.statuses);
  out["requests"] = array_json(state.requests);
  out["volume"] = to_json(state.volume);
  out["trip_options"] = array_json(state.trip_options);
  out["detected_trip"] = optional_json(state.detected_trip);
  out["messages"] = array_json(state.messages);
  out["message_options"] = array_json(state.message_options);
  return dump(out);
}

std::string encode_message(const Message& message, std::uint64_t seq, EpochMs now) {
  json out = header(type_name(message), now);
  out["seq"] = seq;
  std::visit(
      [&out](const auto& value) {
        using T = std::decay_t<decltype(value)>;
        if constexpr (std::is_same_v<T, NextStopUpdate>) {
          out["next_stop"] = optional_json(value.next_stop);
          out["coming"] = array_json(value.coming);
        } else if constexpr (std::is_same_v<T, RequestsUpdate>) {
          out["requests"] = array_json(value.requests);
        } else {
          out.update(to_json(value));  // the others are flat: their fields next to "type"
        }
      },
      message);
  return dump(out);
}

std::string encode_reply(std::string_view id, std::string_view request_type, const Reply& reply,
                         EpochMs now) {
  json out = header("reply", now);
  out["id"] = id.empty() ? json(nullptr) : json(id);
  out["request_type"] = request_type;
  out["ok"] = reply.ok();
  if (!reply.ok()) {
    const bool ours = reply.error.category() == error_category();
    out["error"] = ours ? wire_name(static_cast<Errc>(reply.error.value())) : "rejected";
    out["message"] = reply.message.empty() ? reply.error.message() : reply.message;
  } else if (!reply.message.empty()) {
    out["message"] = reply.message;
  }
  return dump(out);
}

}  // namespace stopcall::hmi
