#include "daemon/announcer/announcer.hpp"

#include <algorithm>

namespace stopcall::daemon {

namespace {

using Type = tracking::StopEvent::Type;

std::string base_language(const std::string& lang) {
  return lang.substr(0, lang.find('-'));
}

bool chinese(const std::string& lang) {
  return base_language(lang) == "zh";
}
bool cantonese(const std::string& lang) {
  return lang == "yue" || lang == "zh-HK";
}

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

// "下一站，车公庙" — the sentence around a stop name, per language. `then`: a stop close after the
// one just announced, said right after it ("Next stop: A." "Then: B.").
std::string stop_sentence(Type type, const std::string& lang, const std::string& stop, bool then) {
  if (then && type == Type::next_stop) {
    if (cantonese(lang)) return "之後，" + stop;
    if (chinese(lang)) return "随后，" + stop;
    return "Then: " + stop;
  }
  if (type == Type::next_stop) {
    if (chinese(lang) || cantonese(lang)) return "下一站，" + stop;
    return "Next stop: " + stop;
  }
  if (cantonese(lang)) return "即將到達" + stop;
  if (chinese(lang)) return "即将到达" + stop;
  return "Arriving at " + stop;
}

std::string sentence_end(const std::string& lang) {
  return chinese(lang) || cantonese(lang) ? "。" : ". ";
}

}  // namespace

std::string name_in(const routes::Names& names, const std::string& lang) {
  if (auto it = names.find(lang); it != names.end()) return it->second;
  // Cantonese is written in Chinese characters: a Chinese name reads better than an English one.
  const std::string base = cantonese(lang) ? "zh" : base_language(lang);
  for (const auto& [l, text] : names) {
    if (base_language(l) == base) return text;
  }
  return names.empty() ? std::string() : names.begin()->second;
}

media::Announcement exterior_route_announcement(const routes::Trip& trip,
                                                const AnnouncerConfig& config, std::string id) {
  media::Announcement a;
  a.id = std::move(id);
  a.priority = media::Priority::stop;
  a.outputs = media::Outputs::only(media::Output::exterior);
  bool first = true;
  for (const auto& lang : config.languages) {
    if (!first) a.segments.push_back(media::Segment::silence(config.pause_between_languages));
    first = false;
    std::string headsign = name_in(trip.headsigns, lang);
    std::string route = name_in(trip.route.short_names, lang);
    std::string text;
    if (auto t = trip.route.exterior_texts.find(lang); t != trip.route.exterior_texts.end()) {
      text = replace_all(t->second, "{headsign}", headsign);
    } else if (cantonese(lang)) {
      text = route + "號巴士，開往" + headsign;
    } else if (chinese(lang)) {
      text = route + "路，开往" + headsign;
    } else {
      text = "Route " + route + " to " + headsign;
    }
    a.segments.push_back(media::Segment::speech(text, lang));
  }
  return a;
}

std::vector<media::Announcement> Announcer::on_event(const routes::Trip& trip,
                                                     const tracking::StopEvent& event) const {
  return on_event(trip, event, Form::full);
}

std::vector<media::Announcement> Announcer::on_event(const routes::Trip& trip,
                                                     const tracking::StopEvent& event, Form form,
                                                     std::size_t languages) const {
  std::vector<media::Announcement> out;
  if (!event.stop_index || *event.stop_index < 0 ||
      static_cast<std::size_t>(*event.stop_index) >= trip.stops.size()) {
    return out;
  }
  const auto& stop = trip.stops[static_cast<std::size_t>(*event.stop_index)].stop;
  const std::string id_prefix = trip.id + ":" + std::to_string(*event.stop_index) + ":";

  if (event.type == Type::next_stop || event.type == Type::approaching) {
    if (form == Form::skipped) return out;
    const bool names_only = form == Form::brief || form == Form::fewer_languages;
    if (form != Form::fewer_languages) languages = config_.languages.size();
    media::Announcement a;
    a.id = id_prefix + std::string(tracking::type_name(event.type));
    a.priority = media::Priority::stop;
    a.outputs = media::Outputs::only(media::Output::interior);
    // (A stop said with the one before follows its announcement without a chime of its own.)
    if (config_.chime && !event.with_previous && (form == Form::full || form == Form::no_transfer))
      a.segments.push_back(media::Segment::chime());
    for (std::size_t i = 0; i < config_.languages.size() && i < languages; ++i) {
      const auto& lang = config_.languages[i];
      if (i > 0) a.segments.push_back(media::Segment::silence(config_.pause_between_languages));
      const std::string name = name_in(stop.names, lang);
      const auto tts = stop.tts_names.find(lang);
      const std::string said_name = tts != stop.tts_names.end() ? tts->second : name;
      std::string text = stop_sentence(event.type, lang, name, event.with_previous);
      std::string spoken;
      if (names_only) {
        spoken = said_name;
      } else if (tts != stop.tts_names.end() || form == Form::no_transfer ||
                 form == Form::no_chime) {
        spoken = stop_sentence(event.type, lang, said_name, event.with_previous);
      }
      // The transfer hint belongs to "next stop", said once, not again on arrival. The caption
      // always has it; only the full form says it.
      if (event.type == Type::next_stop) {
        if (auto phrase = stop.extra_phrases.find(lang); phrase != stop.extra_phrases.end()) {
          text += sentence_end(lang) + phrase->second;
          if (form == Form::full && !spoken.empty()) spoken += sentence_end(lang) + phrase->second;
        }
      }
      if (spoken == text) spoken.clear();
      auto segment = media::Segment::speech(text, lang);
      segment.spoken = spoken;
      a.segments.push_back(std::move(segment));
    }
    out.push_back(std::move(a));
  } else if (event.type == Type::arrived && config_.exterior_at_arrival) {
    // For people waiting outside, blind riders first among them: which bus this is.
    out.push_back(exterior_route_announcement(trip, config_, id_prefix + "exterior"));
  }
  return out;
}

namespace {

bool interior_stop(const media::Announcement& a) {
  return a.outputs == media::Outputs::only(media::Output::interior);
}

}  // namespace

Fitted Announcer::fit(const routes::Trip& trip, const tracking::StopEvent& event,
                      const FitTiming& timing, const SegmentLength& known) const {
  Fitted f;
  f.languages = config_.languages.size();
  const bool next = event.type == Type::next_stop;
  const auto available = time_available(timing);
  auto take = [&](Form form, std::vector<media::Announcement> out) {
    f.form = form;
    f.length = milliseconds{0};
    for (const auto& a : out) {
      if (interior_stop(a)) f.length = length_of(a, known);
    }
    f.announcements = std::move(out);
    return f;
  };
  if (!available || (!next && event.type != Type::approaching)) {
    return take(Form::full, on_event(trip, event, Form::full));
  }
  for (Form form : {Form::full, Form::no_transfer, Form::no_chime, Form::brief}) {
    auto out = on_event(trip, event, form);
    milliseconds length{0};
    for (const auto& a : out)
      length += length_of(a, known);
    if (length <= *available) return take(form, std::move(out));
  }
  if (next) {
    f.languages = 0;
    return take(Form::skipped, {});
  }
  if (timing.only_chance) return take(Form::brief, on_event(trip, event, Form::brief));
  // "Arriving at": the first languages whose names end in time, at least the first.
  std::size_t n = 1;
  while (n < config_.languages.size()) {
    auto out = on_event(trip, event, Form::fewer_languages, n + 1);
    if (out.empty() || length_of(out.front(), known) > *available) break;
    ++n;
  }
  f.languages = n;
  return take(Form::fewer_languages, on_event(trip, event, Form::fewer_languages, n));
}

Fitted Announcer::on_event(const routes::Trip& trip, const tracking::StopEvent& event,
                           std::optional<milliseconds> until, const SegmentLength& known) {
  FitTiming timing{until, milliseconds{0}};
  if (busy_until_ && *busy_until_ > event.time) timing.busy = *busy_until_ - event.time;
  if (named_trip_ != trip.id) named_trip_ = trip.id, named_.clear();
  const int stop = event.stop_index.value_or(-1);
  timing.only_chance = event.type == Type::approaching && !named_.contains(stop);
  Fitted f = fit(trip, event, timing, known);
  if (event.type == Type::next_stop && f.form != Form::skipped &&
      f.languages == config_.languages.size()) {
    named_.insert(stop);
  }
  if (f.length > milliseconds{0}) {
    const tracking::Time start = std::max(event.time, busy_until_.value_or(event.time));
    busy_until_ = start + f.length;
  }
  return f;
}

std::vector<media::SpeechItem> Announcer::spoken_texts(const routes::Trip& trip) const {
  std::vector<media::SpeechItem> items;
  tracking::StopEvent e;
  e.trip_id = trip.id;
  for (std::size_t i = 0; i < trip.stops.size(); ++i) {
    e.stop_index = static_cast<int>(i);
    for (Type type : {Type::next_stop, Type::approaching}) {
      e.type = type;
      for (Form form : {Form::full, Form::no_transfer, Form::brief}) {
        for (const auto& a : on_event(trip, e, form)) {
          for (const auto& s : a.segments) {
            if (s.kind != media::SegmentKind::speech) continue;
            media::SpeechItem item{s.spoken.empty() ? s.text : s.spoken, s.lang};
            const bool seen = std::any_of(items.begin(), items.end(), [&](const auto& x) {
              return x.text == item.text && x.lang == item.lang;
            });
            if (!seen) items.push_back(std::move(item));
          }
        }
      }
    }
  }
  return items;
}

}  // namespace stopcall::daemon
