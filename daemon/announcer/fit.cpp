#include "daemon/announcer/fit.hpp"

#include <algorithm>

namespace stopcall::daemon {

std::string_view form_name(Form form) {
  switch (form) {
    case Form::full:
      return "full";
    case Form::no_transfer:
      return "no_transfer";
    case Form::no_chime:
      return "no_chime";
    case Form::brief:
      return "brief";
    case Form::fewer_languages:
      return "fewer_languages";
    case Form::skipped:
      return "skipped";
  }
  return "?";
}

namespace {

// The next UTF-8 code point of `text` from `at` (advancing it); a stray byte counts as itself.
char32_t next_code_point(std::string_view text, std::size_t& at) {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char lead = byte(at);
  std::size_t extra = lead >= 0xF0 ? 3 : lead >= 0xE0 ? 2 : lead >= 0xC0 ? 1 : 0;
  if (at + extra >= text.size()) extra = 0;
  char32_t c = extra == 0 ? lead : lead & (0x3F >> extra);
  for (std::size_t i = 1; i <= extra; ++i)
    c = (c << 6) | (byte(at + i) & 0x3F);
  at += extra + 1;
  return c;
}

milliseconds estimated_speech(std::string_view text) {
  long ms = 0;
  for (std::size_t at = 0; at < text.size();) {
    const char32_t c = next_code_point(text, at);
    if (c == U' ') {
      ms += 20;
    } else if (c < 0x80 &&
               ((c >= U'a' && c <= U'z') || (c >= U'A' && c <= U'Z') || (c >= U'0' && c <= U'9'))) {
      ms += 75;
    } else if (c >= 0x2E80 && c != 0x3001 && c != 0x3002 && (c < 0xFF00 || c > 0xFF20)) {
      ms += 300;  // CJK: a syllable each (not the ideographic comma and full stop, not ，：；)
    } else {
      ms += 150;  // punctuation: a short pause
    }
  }
  return milliseconds{std::max(ms, 300L)};
}

}  // namespace

milliseconds estimated_length(const media::Segment& segment) {
  switch (segment.kind) {
    case media::SegmentKind::pause:
      return std::max(segment.pause, milliseconds{0});
    case media::SegmentKind::chime:
      return milliseconds{800};
    case media::SegmentKind::speech:
    case media::SegmentKind::clip:
      return estimated_speech(segment.spoken.empty() ? segment.text : segment.spoken);
  }
  return milliseconds{0};
}

milliseconds length_of(const media::Segment& segment, const SegmentLength& known) {
  if (known) {
    if (auto ms = known(segment)) return *ms;
  }
  return estimated_length(segment);
}

milliseconds length_of(const media::Announcement& announcement, const SegmentLength& known) {
  milliseconds total{0};
  for (const auto& s : announcement.segments)
    total += length_of(s, known);
  return total;
}

std::optional<milliseconds> time_available(const FitTiming& timing) {
  if (!timing.until) return std::nullopt;
  return *timing.until - timing.busy;
}

}  // namespace stopcall::daemon
