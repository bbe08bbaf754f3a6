#include "daemon/messages/board.hpp"

#include <algorithm>

#include "common/names.hpp"
#include "daemon/tracking/events.hpp"

namespace stopcall::messages {

namespace {

constexpr std::size_t kMaxId = 64;
constexpr std::size_t kMaxLanguageTag = 35;
constexpr std::chrono::seconds kMinRepeat{5};
constexpr int kMaxRepeats = 20;

constexpr names::Entry<Kind> kKinds[] = {{Kind::emergency, "emergency"},
                                         {Kind::service, "service"}};
static_assert(names::distinct(kKinds));

bool valid_tag(const std::string& tag) {
  return !tag.empty() && tag.size() <= kMaxLanguageTag &&
         std::all_of(tag.begin(), tag.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-';
         });
}

Outcome refused(std::string error, std::string message) {
  return {false, std::move(error), std::move(message), {}};
}

std::string words_id(const std::string& id, int n) {
  return "msg:" + id + ":" + std::to_string(n);
}

}  // namespace

std::string_view to_string(Kind kind) {
  return names::name_of(kKinds, kind);
}

std::optional<Kind> kind_from_string(std::string_view text) {
  return names::value_of(kKinds, text);
}

media::Outputs Board::outputs_of(const Message& m) const {
  if (m.outputs) return *m.outputs;
  return m.kind == Kind::emergency ? media::Outputs::both() : media::Outputs{};
}

std::vector<media::Announcement> Board::sayings(const Message& m, int n) const {
  std::vector<media::Announcement> out;
  const media::Outputs outputs = outputs_of(m);
  const media::Priority priority =
      m.kind == Kind::emergency ? media::Priority::safety : media::Priority::information;
  if (m.kind == Kind::emergency && config_.attention_chimes > 0) {
    media::Announcement tone;
    tone.id = words_id(m.id, n) + ":tone";
    tone.priority = priority;
    tone.outputs = outputs;
    for (int i = 0; i < config_.attention_chimes; ++i) {
      tone.segments.push_back(media::Segment::chime());
    }
    out.push_back(std::move(tone));
  }
  media::Announcement words;
  words.id = words_id(m.id, n);
  words.priority = priority;
  words.outputs = outputs;
  // The configured languages in their order, then any other language the message has.
  std::vector<std::string> order;
  for (const auto& lang : config_.languages) {
    if (m.texts.count(lang)) order.push_back(lang);
  }
  for (const auto& [lang, text] : m.texts) {
    if (std::find(order.begin(), order.end(), lang) == order.end()) order.push_back(lang);
  }
  for (const auto& lang : order) {
    if (!words.segments.empty()) {
      words.segments.push_back(media::Segment::silence(config_.pause_between_languages));
    }
    const Text& text = m.texts.at(lang);
    auto segment = media::Segment::speech(text.shown, lang);
    if (text.spoken != text.shown) segment.spoken = text.spoken;
    words.segments.push_back(std::move(segment));
  }
  out.push_back(std::move(words));
  return out;
}

log::Message Board::line(const Active& a, std::string_view event, tracking::Time now) const {
  log::Message l;
  l.time = tracking::format_time(now);
  l.id = a.message.id;
  l.event = std::string(event);
  l.kind = std::string(to_string(a.message.kind));
  l.source = a.message.source;
  if (!a.message.preset.empty()) l.preset = a.message.preset;
  return l;
}

Show Board::show(const Active& a, bool active) const {
  return Show{a.message, active, a.acknowledged, a.heard, a.since};
}

void Board::say(Active& a, tracking::Time now, std::vector<Effect>& out) {
  ++a.said;
  a.next_due.reset();
  for (auto& announcement : sayings(a.message, static_cast<int>(++sayings_))) {
    if (announcement.id.ends_with(":tone")) {
      a.tone = announcement.id;
    } else {
      a.playing = announcement.id;
    }
    out.push_back(Speak{std::move(announcement)});
  }
  auto l = line(a, "said", now);
  l.times = a.said;
  out.push_back(std::move(l));
}

std::optional<Outcome> Board::refusal(Message& m, tracking::Time now) const {
  if (m.id.empty() || m.id.size() > kMaxId) {
    return refused("bad_request", "a message needs an id of 1 to 64 bytes");
  }
  for (auto it = m.texts.begin(); it != m.texts.end();) {
    if (!valid_tag(it->first)) {
      return refused("bad_request", "'" + it->first.substr(0, kMaxLanguageTag) +
                                        "' is not a language tag (zh-Hans, yue, en, ...)");
    }
    if (it->second.shown.empty()) {
      it = m.texts.erase(it);  // a language left empty is a language it does not have
    } else {
      if (it->second.spoken.empty()) it->second.spoken = it->second.shown;
      ++it;
    }
  }
  if (m.texts.empty()) return refused("bad_request", "the message has no text in any language");
  const media::Outputs outputs = outputs_of(m);
  if (!outputs.interior && !outputs.exterior) {
    return refused("bad_request", "the message goes to no output");
  }
  if (m.repeat_every && *m.repeat_every < kMinRepeat) {
    return refused("bad_request", "an emergency is repeated at most every 5 s");
  }
  if (m.repeats && (*m.repeats < 0 || *m.repeats > kMaxRepeats)) {
    return refused("bad_request", "a service message is repeated 0 to 20 times");
  }
  if (m.expires && *m.expires <= now) {
    return refused("expired", "the message expired before it arrived");
  }
  const auto same = [&](const Active& a) { return a.message.id == m.id; };
  if (std::any_of(active_.begin(), active_.end(), same)) {
    return refused("duplicate", "message " + m.id + " is already active");
  }
  if (active_.size() >= config_.max_active) {
    return refused("too_many", "the bus has " + std::to_string(active_.size()) +
                                   " active messages: cancel one first");
  }
  return std::nullopt;
}

Outcome Board::send(Message m, tracking::Time now) {
  if (auto refused = refusal(m, now)) return std::move(*refused);
  if (m.kind == Kind::service && !m.expires) m.expires = now + config_.service_lifetime;

  Outcome outcome;
  const bool was_holding = holding_stops();
  Active a;
  a.message = std::move(m);
  a.since = now;
  auto sent = line(a, "sent", now);
  for (const auto& lang : config_.languages) {
    (a.message.texts.count(lang) ? sent.languages : sent.missing).push_back(lang);
  }
  for (const auto& [lang, text] : a.message.texts) {
    if (std::find(sent.languages.begin(), sent.languages.end(), lang) == sent.languages.end()) {
      sent.languages.push_back(lang);
    }
  }
  outcome.effects.push_back(std::move(sent));
  active_.push_back(std::move(a));
  Active& added = active_.back();
  outcome.effects.push_back(show(added, true));
  if (added.message.kind == Kind::emergency) {
    if (!was_holding) outcome.effects.push_back(HoldStops{true});
    say(added, now, outcome.effects);
  } else if (!was_holding) {
    say(added, now, outcome.effects);  // else when the emergency ends
  }
  outcome.message = std::string(to_string(added.message.kind)) + " message " + added.message.id +
                    (added.said > 0 ? " sent" : " sent; said when the emergency ends");
  return outcome;
}

Outcome Board::restore(Message m, tracking::Time since, bool acknowledged, tracking::Time now) {
  if (auto refused = refusal(m, now)) return std::move(*refused);
  Outcome outcome;
  const bool was_holding = holding_stops();
  Active a;
  a.message = std::move(m);
  a.since = since;
  a.acknowledged = acknowledged;
  outcome.effects.push_back(line(a, "restored", now));
  active_.push_back(std::move(a));
  Active& added = active_.back();
  outcome.effects.push_back(show(added, true));
  if (added.message.kind == Kind::emergency) {
    if (!was_holding) outcome.effects.push_back(HoldStops{true});
    if (!acknowledged) say(added, now, outcome.effects);
  } else {
    added.said = 1;  // said before the restart; the departures say it again
  }
  outcome.message = "restored " + added.message.id;
  return outcome;
}

Outcome Board::acknowledge(const std::string& id, const std::string& source, tracking::Time now) {
  auto it = std::find_if(active_.begin(), active_.end(),
                         [&](const Active& a) { return a.message.id == id; });
  if (it == active_.end()) return refused("unknown_message", "no active message " + id);
  if (it->message.kind != Kind::emergency) {
    return refused("not_emergency", "only an emergency is acknowledged; cancel " + id + " instead");
  }
  Outcome outcome;
  if (it->acknowledged) {
    outcome.message = "already acknowledged";
    return outcome;
  }
  it->acknowledged = true;
  it->next_due.reset();
  auto l = line(*it, "acknowledged", now);
  l.note = source;
  outcome.effects.push_back(std::move(l));
  outcome.effects.push_back(show(*it, true));
  outcome.message = "acknowledged: " + id + " is no longer repeated";
  return outcome;
}

void Board::end(std::size_t index, std::string_view event, const std::string& note,
                tracking::Time now, std::vector<Effect>& out) {
  Active a = std::move(active_[index]);
  active_.erase(active_.begin() + static_cast<std::ptrdiff_t>(index));
  if (!a.tone.empty()) out.push_back(Silence{a.tone});
  if (!a.playing.empty()) out.push_back(Silence{a.playing});
  auto l = line(a, event, now);
  if (!note.empty()) l.note = note;
  out.push_back(std::move(l));
  out.push_back(show(a, false));
  if (a.message.kind == Kind::emergency && !holding_stops()) {
    out.push_back(HoldStops{false});
    for (auto& other : active_) {
      if (other.message.kind == Kind::service && other.said == 0) say(other, now, out);
    }
  }
}

Outcome Board::cancel(const std::string& id, const std::string& source, tracking::Time now) {
  auto it = std::find_if(active_.begin(), active_.end(),
                         [&](const Active& a) { return a.message.id == id; });
  if (it == active_.end()) return refused("unknown_message", "no active message " + id);
  Outcome outcome;
  end(static_cast<std::size_t>(it - active_.begin()), "cancelled", source, now, outcome.effects);
  outcome.message = "cancelled " + id;
  return outcome;
}

std::vector<Effect> Board::tick(tracking::Time now) {
  std::vector<Effect> out;
  for (std::size_t i = 0; i < active_.size();) {
    if (active_[i].message.expires && *active_[i].message.expires <= now) {
      end(i, "expired", {}, now, out);
      continue;
    }
    Active& a = active_[i];
    if (a.message.kind == Kind::emergency && !a.acknowledged && a.playing.empty() && a.next_due &&
        *a.next_due <= now) {
      say(a, now, out);
    }
    ++i;
  }
  return out;
}

std::vector<Effect> Board::departed(tracking::Time now) {
  std::vector<Effect> out;
  if (holding_stops()) return out;
  for (auto& a : active_) {
    if (a.message.kind != Kind::service || !a.playing.empty()) continue;
    const int repeats = a.message.repeats.value_or(config_.service_repeats);
    if (a.said >= 1 && a.said < 1 + repeats) say(a, now, out);
  }
  return out;
}

std::vector<Effect> Board::heard(const std::string& announcement_id, media::Output output,
                                 tracking::Time now) {
  std::vector<Effect> out;
  for (auto& a : active_) {
    if (announcement_id != a.playing && announcement_id != a.tone) continue;
    if (std::find(a.heard.begin(), a.heard.end(), output) != a.heard.end()) break;
    a.heard.push_back(output);
    auto l = line(a, "heard", now);
    l.output = std::string(media::to_string(output));
    out.push_back(std::move(l));
    out.push_back(show(a, true));
    break;
  }
  return out;
}

std::vector<Effect> Board::finished(const std::string& announcement_id, tracking::Time now) {
  std::vector<Effect> out;
  for (auto& a : active_) {
    if (announcement_id == a.tone) {
      a.tone.clear();
      break;
    }
    if (announcement_id != a.playing) continue;
    a.playing.clear();
    if (a.message.kind == Kind::emergency && !a.acknowledged) {
      a.next_due = now + a.message.repeat_every.value_or(config_.emergency_repeat);
    }
    break;
  }
  return out;
}

std::optional<std::string> Board::message_of(const std::string& announcement_id) const {
  for (const auto& a : active_) {
    if (announcement_id == a.playing || announcement_id == a.tone) return a.message.id;
  }
  return std::nullopt;
}

bool Board::holding_stops() const {
  return std::any_of(active_.begin(), active_.end(),
                     [](const Active& a) { return a.message.kind == Kind::emergency; });
}

}  // namespace stopcall::messages
