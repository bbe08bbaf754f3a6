#include "daemon/announcer/announcer.hpp"

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
  std::vector<media::Announcement> out;
  if (!event.stop_index || *event.stop_index < 0 ||
      static_cast<std::size_t>(*event.stop_index) >= trip.stops.size()) {
    return out;
  }
  const auto& stop = trip.stops[static_cast<std::size_t>(*event.stop_index)].stop;
  const std::string id_prefix = trip.id + ":" + std::to_string(*event.stop_index) + ":";

  if (event.type == Type::next_stop || event.type == Type::approaching) {
    media::Announcement a;
    a.id = id_prefix + std::string(tracking::type_name(event.type));
    a.priority = media::Priority::stop;
    a.outputs = media::Outputs::only(media::Output::interior);
    // (A stop said with the one before follows its announcement without a chime of its own.)
    if (config_.chime && !event.with_previous) a.segments.push_back(media::Segment::chime());
    bool first = true;
    for (const auto& lang : config_.languages) {
      if (!first) a.segments.push_back(media::Segment::silence(config_.pause_between_languages));
      first = false;
      std::string name = name_in(stop.names, lang);
      std::string text = stop_sentence(event.type, lang, name, event.with_previous);
      std::string spoken;
      if (auto tts = stop.tts_names.find(lang); tts != stop.tts_names.end()) {
        spoken = stop_sentence(event.type, lang, tts->second, event.with_previous);
      }
      // The transfer hint belongs to "next stop", said once, not again on arrival.
      if (event.type == Type::next_stop) {
        if (auto phrase = stop.extra_phrases.find(lang); phrase != stop.extra_phrases.end()) {
          text += sentence_end(lang) + phrase->second;
          if (!spoken.empty()) spoken += sentence_end(lang) + phrase->second;
        }
      }
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

}  // namespace stopcall::daemon
