#include "daemon/fleet/protocol.hpp"

#include <nlohmann/json.hpp>
#include <variant>

#include "daemon/log/records.hpp"

namespace stopcall::daemon::fleet {

using json = nlohmann::ordered_json;

Topics Topics::of(std::string_view prefix, std::string_view vehicle) {
  const std::string base = std::string(prefix) + "/bus/" + std::string(vehicle) + "/";
  return {base + "status",
          base + "events",
          base + "requests",
          base + "requests/ack",
          std::string(prefix) + "/fleet/requests",
          std::string(prefix),
          base + "bundle/get",
          base + "bundle/chunk"};
}

std::string Topics::route_requests(std::string_view route_id) const {
  return prefix + "/route/" + std::string(route_id) + "/requests";
}

bool valid_vehicle_id(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

bool StatusRecord::same_as(const StatusRecord& o) const {
  return vehicle == o.vehicle && online == o.online && software == o.software &&
         bundle == o.bundle && trip_id == o.trip_id && route_id == o.route_id &&
         next_stop == o.next_stop && gps == o.gps && faults == o.faults &&
         route_data == o.route_data;
}

void to_json(nlohmann::json& j, const StatusRecord& s) {
  j = nlohmann::json{{"vehicle", s.vehicle}, {"online", s.online}};
  if (!s.online) return;
  j["software"] = s.software;
  j["bundle"] = s.bundle;
  j["trip_id"] = s.trip_id.empty() ? nlohmann::json(nullptr) : nlohmann::json(s.trip_id);
  j["route_id"] = s.route_id.empty() ? nlohmann::json(nullptr) : nlohmann::json(s.route_id);
  if (s.next_stop) {
    j["next_stop"] = {{"stop_id", s.next_stop->stop_id},
                      {"name", s.next_stop->name},
                      {"index", s.next_stop->index}};
  } else {
    j["next_stop"] = nullptr;
  }
  j["gps"] = s.gps;
  j["faults"] = s.faults;
  if (s.route_data) {
    const RouteDataStatus& r = *s.route_data;
    j["route_data"] = {{"bundle_id", r.bundle_id},
                       {"state", r.state},
                       {"have", r.have},
                       {"chunks", r.chunks},
                       {"message", r.message}};
  }
  j["time"] = s.time;
}

void from_json(const nlohmann::json& j, StatusRecord& s) {
  s = {};
  s.vehicle = j.at("vehicle").get<std::string>();
  s.online = j.at("online").get<bool>();
  if (!s.online) return;
  auto text = [&](const char* key) {
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  s.software = text("software");
  s.bundle = text("bundle");
  s.trip_id = text("trip_id");
  s.route_id = text("route_id");
  if (auto it = j.find("next_stop"); it != j.end() && it->is_object()) {
    s.next_stop = NextStop{it->at("stop_id").get<std::string>(), it->at("name").get<std::string>(),
                           it->at("index").get<int>()};
  }
  s.gps = text("gps");
  if (auto it = j.find("route_data"); it != j.end() && it->is_object()) {
    s.route_data = RouteDataStatus{it->value("bundle_id", ""), it->value("state", ""),
                                   it->value("have", std::uint64_t{0}),
                                   it->value("chunks", std::uint64_t{0}), it->value("message", "")};
  }
  if (auto it = j.find("faults"); it != j.end()) s.faults = it->get<std::vector<std::string>>();
  s.time = text("time");
}

StatusRecord offline_status(std::string vehicle) {
  StatusRecord s;
  s.vehicle = std::move(vehicle);
  s.online = false;
  return s;
}

std::string encode_event(const EventRecord& e) {
  json j{{"vehicle", e.vehicle}, {"seq", e.seq}};
  json line = json::parse(e.line, nullptr, false);
  if (line.is_discarded()) {
    j["line"] = e.line;  // stored as written, so the depot can count it
  } else {
    j["event"] = std::move(line);
  }
  return j.dump();
}

void to_json(nlohmann::json& j, const RequestAck& a) {
  j = nlohmann::json{{"vehicle", a.vehicle}, {"accepted", a.accepted}};
  if (!a.id.empty()) j["id"] = a.id;
  if (!a.request_id.empty()) j["request_id"] = a.request_id;
  if (!a.accepted) j["error"] = a.error;
  j["message"] = a.message;
  if (!a.nonce.empty()) j["nonce"] = a.nonce;
}

void from_json(const nlohmann::json& j, RequestAck& a) {
  a = {};
  a.vehicle = j.at("vehicle").get<std::string>();
  a.accepted = j.at("accepted").get<bool>();
  a.id = j.value("id", "");
  a.request_id = j.value("request_id", "");
  a.error = j.value("error", "");
  a.message = j.value("message", "");
  a.nonce = j.value("nonce", "");
}

void to_json(nlohmann::json& j, const RequestFate& f) {
  j = nlohmann::json{
      {"vehicle", f.vehicle}, {"request_id", f.request_id}, {"fate", f.fate}, {"time", f.time}};
  if (!f.why.empty()) j["why"] = f.why;
}

std::optional<RequestFate> fate_of(const std::string& vehicle, std::string_view event_line) {
  if (event_line.find(R"("type":"request")") == std::string_view::npos) return std::nullopt;
  const auto record = log::decode(event_line);
  const auto* request = record ? std::get_if<log::Request>(&*record) : nullptr;
  if (!request || request->source != "fleet" || request->id.empty()) return std::nullopt;
  for (std::string_view fate : {"shown", "served", "missed", "expired", "dismissed"}) {
    if (request->fate == fate)
      return RequestFate{vehicle, request->id, request->fate, request->time,
                         request->why.value_or("")};
  }
  return std::nullopt;  // pending (the ack said it), carried (on board), or unknown
}

ParsedRequest parse_request(std::string_view payload, const std::string& vehicle) {
  ParsedRequest out;
  out.refusal.vehicle = vehicle;
  if (payload.size() > vehicle::kMaxLine) {
    out.refusal.error = "too_large";
    out.refusal.message = "a request is at most " + std::to_string(vehicle::kMaxLine) + " bytes";
    return out;
  }
  // The same parser, checks and meaning as the control socket's `request` command.
  vehicle::Parsed parsed = vehicle::parse_command(payload);
  out.id = parsed.id;
  out.refusal.id = parsed.id;
  if (!parsed.command) {
    out.refusal.error = parsed.error.error;
    out.refusal.message = parsed.error.message;
    return out;
  }
  if (auto* request = std::get_if<vehicle::BoardingRequestIn>(&*parsed.command)) {
    request->source = "fleet";
    out.refusal.request_id = request->id;
  } else if (auto* message = std::get_if<vehicle::MessageIn>(&*parsed.command)) {
    message->source = "fleet";
    out.refusal.request_id = message->message_id;
  } else if (auto* end = std::get_if<vehicle::MessageEnd>(&*parsed.command)) {
    end->source = "fleet";
    out.refusal.request_id = end->message_id;
  } else {
    out.refusal.error = "not_a_request";
    out.refusal.message =
        "only boarding requests and messages (\"cmd\":\"request\", \"message\") are taken from "
        "the fleet";
    return out;
  }
  out.request = std::move(*parsed.command);
  return out;
}

}  // namespace stopcall::daemon::fleet
