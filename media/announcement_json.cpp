#include "media/announcement_json.hpp"

#include <cmath>
#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>

namespace stopcall::media {
namespace {

using nlohmann::json;

[[noreturn]] void bad(const std::string& where, const std::string& what) {
  throw std::invalid_argument(where + ": " + what);
}

void only_keys(const json& j, const std::string& where, const std::set<std::string>& allowed) {
  for (const auto& [key, value] : j.items()) {
    if (!allowed.contains(key)) bad(where, "unknown field '" + key + "'");
  }
}

std::string string_field(const json& j, const char* key, const std::string& where, bool required) {
  if (!j.contains(key)) {
    if (required) bad(where, std::string("missing '") + key + "'");
    return {};
  }
  if (!j[key].is_string()) bad(where, std::string("'") + key + "' must be a string");
  return j[key].get<std::string>();
}

Outputs outputs_field(const json& j, const std::string& where) {
  if (!j.is_array() || j.empty()) bad(where, "'outputs' must be a non-empty array");
  Outputs out{false, false};
  for (const json& o : j) {
    if (o == "interior") {
      out.interior = true;
    } else if (o == "exterior") {
      out.exterior = true;
    } else {
      bad(where, "outputs are \"interior\" and \"exterior\"");
    }
  }
  return out;
}

}  // namespace

Announcement announcement_from_json(std::string_view text, const std::filesystem::path& base_dir) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {
    // parse_error, and out_of_range for a number too large for a double ("ms": 1e400).
    throw std::invalid_argument(std::string("not valid JSON: ") + e.what());
  }
  if (!j.is_object()) bad("announcement", "must be a JSON object");
  only_keys(j, "announcement", {"id", "priority", "outputs", "segments"});
  Announcement a;
  a.id = string_field(j, "id", "announcement", true);
  if (a.id.empty()) bad("announcement", "'id' is empty");
  if (j.contains("priority")) {
    const std::string p = string_field(j, "priority", "announcement", true);
    const auto priority = priority_from_string(p);
    if (!priority)
      bad("announcement", "priority '" + p + "' is not safety, accessibility, stop or information");
    a.priority = *priority;
  }
  if (j.contains("outputs")) a.outputs = outputs_field(j["outputs"], "announcement");
  if (!j.contains("segments") || !j["segments"].is_array() || j["segments"].empty()) {
    bad("announcement", "'segments' must be a non-empty array");
  }
  for (std::size_t i = 0; i < j["segments"].size(); ++i) {
    const json& s = j["segments"][i];
    const std::string where = "segments[" + std::to_string(i) + "]";
    if (!s.is_object()) bad(where, "must be an object");
    const std::string kind = string_field(s, "kind", where, true);
    Segment seg;
    if (kind == "chime") {
      only_keys(s, where, {"kind", "text", "outputs"});
      seg.kind = SegmentKind::chime;
    } else if (kind == "pause") {
      only_keys(s, where, {"kind", "ms", "text", "outputs"});
      seg.kind = SegmentKind::pause;
      if (!s.contains("ms") || !s["ms"].is_number() || s["ms"].get<double>() < 0 ||
          s["ms"].get<double>() > 60000) {
        bad(where, "a pause needs 'ms', 0 to 60000");
      }
      seg.pause = std::chrono::milliseconds{std::lround(s["ms"].get<double>())};
    } else if (kind == "speech") {
      only_keys(s, where, {"kind", "text", "lang", "spoken", "outputs"});
      seg.kind = SegmentKind::speech;
      seg.lang = string_field(s, "lang", where, true);
      if (string_field(s, "text", where, true).empty() && !s.contains("spoken")) {
        bad(where, "speech needs a 'text'");
      }
    } else if (kind == "clip") {
      only_keys(s, where, {"kind", "path", "text", "lang", "spoken", "outputs"});
      seg.kind = SegmentKind::clip;
      seg.lang = string_field(s, "lang", where, false);
      const std::filesystem::path path = string_field(s, "path", where, true);
      seg.clip = path.is_absolute() ? path : base_dir / path;
    } else {
      bad(where, "kind '" + kind + "' is not chime, speech, pause or clip");
    }
    seg.text = string_field(s, "text", where, false);
    seg.spoken = string_field(s, "spoken", where, false);
    if (s.contains("outputs")) seg.outputs = outputs_field(s["outputs"], where);
    a.segments.push_back(std::move(seg));
  }
  return a;
}

std::string cue_to_json_line(const Cue& cue) {
  auto ms = [](std::chrono::nanoseconds ns) {
    return std::round(static_cast<double>(ns.count()) / 1000.0) / 1000.0;  // to the microsecond
  };
  nlohmann::ordered_json j = {
      {"segment", cue.segment},    {"kind", std::string(to_string(cue.kind))},
      {"text", cue.text},          {"lang", cue.lang},
      {"start_ms", ms(cue.start)}, {"end_ms", ms(cue.end)}};
  if (cue.event != Cue::Event::start) j["event"] = std::string(to_string(cue.event));
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace stopcall::media
