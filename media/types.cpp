#include "media/types.hpp"

namespace stopcall::media {

Segment Segment::chime(std::string caption) {
  Segment s;
  s.kind = SegmentKind::chime;
  s.text = std::move(caption);
  return s;
}

Segment Segment::speech(std::string text, std::string lang) {
  Segment s;
  s.kind = SegmentKind::speech;
  s.text = std::move(text);
  s.lang = std::move(lang);
  return s;
}

Segment Segment::recorded(std::filesystem::path file, std::string text, std::string lang) {
  Segment s;
  s.kind = SegmentKind::clip;
  s.clip = std::move(file);
  s.text = std::move(text);
  s.lang = std::move(lang);
  return s;
}

Segment Segment::silence(std::chrono::milliseconds ms) {
  Segment s;
  s.kind = SegmentKind::pause;
  s.pause = ms;
  return s;
}

bool QuietHours::active_at(int hour) const {
  if (start_hour == end_hour) return false;
  if (start_hour < end_hour) return hour >= start_hour && hour < end_hour;
  return hour >= start_hour || hour < end_hour;  // wraps midnight
}

std::string_view to_string(Priority p) {
  switch (p) {
    case Priority::information:
      return "information";
    case Priority::stop:
      return "stop";
    case Priority::accessibility:
      return "accessibility";
    case Priority::safety:
      return "safety";
  }
  return "?";
}

std::string_view to_string(Output o) {
  return o == Output::interior ? "interior" : "exterior";
}

std::string_view to_string(SegmentKind k) {
  switch (k) {
    case SegmentKind::chime:
      return "chime";
    case SegmentKind::clip:
      return "clip";
    case SegmentKind::speech:
      return "speech";
    case SegmentKind::pause:
      return "pause";
  }
  return "?";
}

std::string_view to_string(Cue::Event e) {
  switch (e) {
    case Cue::Event::start:
      return "start";
    case Cue::Event::cut:
      return "cut";
    case Cue::Event::withdrawn:
      return "withdrawn";
  }
  return "?";
}

std::string_view to_string(Result::Outcome o) {
  switch (o) {
    case Result::Outcome::finished:
      return "finished";
    case Result::Outcome::interrupted:
      return "interrupted";
    case Result::Outcome::cancelled:
      return "cancelled";
    case Result::Outcome::expired:
      return "expired";
    case Result::Outcome::failed:
      return "failed";
  }
  return "?";
}

std::string_view to_string(OutputState s) {
  switch (s) {
    case OutputState::ok:
      return "ok";
    case OutputState::failed:
      return "failed";
    case OutputState::retrying:
      return "retrying";
  }
  return "?";
}

std::string_view to_string(Problem::Kind k) {
  switch (k) {
    case Problem::Kind::clip_fallback:
      return "clip_fallback";
    case Problem::Kind::speech_failed:
      return "speech_failed";
    case Problem::Kind::voice_fallback:
      return "voice_fallback";
    case Problem::Kind::sink_failed:
      return "sink_failed";
    case Problem::Kind::late:
      return "late";
    case Problem::Kind::ambient_failed:
      return "ambient_failed";
  }
  return "?";
}

std::optional<Priority> priority_from_string(std::string_view s) {
  if (s == "safety") return Priority::safety;
  if (s == "accessibility" || s == "ramp") return Priority::accessibility;
  if (s == "stop") return Priority::stop;
  if (s == "information" || s == "info") return Priority::information;
  return std::nullopt;
}

}  // namespace stopcall::media
