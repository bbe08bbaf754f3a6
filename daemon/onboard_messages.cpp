// Onboard's side of emergency and service messages: requests from the control socket, a vehicle
// signal and the driver console become messages::Board calls, and the board's effects become
// voice, screens and event-log lines. The decisions are the board's (daemon/messages/board.hpp).
#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>
#include <ostream>

#include "daemon/onboard.hpp"
#include "media/engine.hpp"

namespace stopcall::daemon {

namespace {

messages::Kind to_board(routes::MessageKind kind) {
  return kind == routes::MessageKind::emergency ? messages::Kind::emergency
                                                : messages::Kind::service;
}

hmi::MessageKind to_hmi(messages::Kind kind) {
  return kind == messages::Kind::emergency ? hmi::MessageKind::emergency
                                           : hmi::MessageKind::service;
}

messages::Message from_preset(const routes::MessagePreset& p, tracking::Time now) {
  messages::Message m;
  m.kind = to_board(p.kind);
  for (const auto& [lang, text] : p.text) {
    auto spoken = p.spoken.find(lang);
    m.texts[lang] = {text, spoken == p.spoken.end() ? std::string() : spoken->second};
  }
  m.titles = p.title;
  m.outputs = media::Outputs{p.interior, p.exterior};
  if (p.repeat_interval_s > 0) m.repeat_every = std::chrono::seconds(p.repeat_interval_s);
  if (p.repeat_count > 0) m.repeats = p.repeat_count;
  if (p.expires_after_min > 0) m.expires = now + std::chrono::minutes(p.expires_after_min);
  m.preset = p.id;
  return m;
}

// What the bus says when the emergency input is on and the route data has no preset for it.
messages::Message builtin_emergency() {
  messages::Message m;
  m.kind = messages::Kind::emergency;
  m.texts = {{"zh-Hans", {"紧急情况，请听从司机指示。", ""}},
             {"yue", {"緊急情況，請聽從車長指示。", ""}},
             {"en", {"Emergency. Please follow the driver's instructions.", ""}}};
  m.titles = {{"en", "Emergency"}};
  return m;
}

using nlohmann::json;

std::int64_t ms_of(tracking::Time t) {
  return t.time_since_epoch().count();
}

// One active message as the state file keeps it.
std::string to_saved(const messages::Board::Active& a) {
  const auto& m = a.message;
  json j;
  j["id"] = m.id;
  j["kind"] = messages::to_string(m.kind);
  for (const auto& [lang, text] : m.texts)
    j["texts"][lang] = {text.shown, text.spoken};
  j["titles"] = m.titles;
  if (m.outputs) j["outputs"] = {m.outputs->interior, m.outputs->exterior};
  if (m.repeat_every) j["repeat_every_s"] = m.repeat_every->count();
  if (m.repeats) j["repeats"] = *m.repeats;
  if (m.expires) j["expires_ms"] = ms_of(*m.expires);
  j["source"] = m.source;
  j["preset"] = m.preset;
  j["since_ms"] = ms_of(a.since);
  j["acknowledged"] = a.acknowledged;
  return j.dump();
}

struct Saved {
  messages::Message message;
  tracking::Time since{};
  bool acknowledged = false;
};

// The same back; nullopt for anything unreadable (it is then dropped, with a line in the log).
std::optional<Saved> from_saved(const std::string& body) {
  const json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return std::nullopt;
  try {
    Saved s;
    auto& m = s.message;
    m.id = j.at("id").get<std::string>();
    auto kind = messages::kind_from_string(j.at("kind").get<std::string>());
    if (!kind) return std::nullopt;
    m.kind = *kind;
    for (const auto& [lang, text] : j.at("texts").items()) {
      m.texts[lang] = {text.at(0).get<std::string>(), text.at(1).get<std::string>()};
    }
    m.titles = j.value("titles", std::map<std::string, std::string>{});
    if (j.contains("outputs")) {
      m.outputs = media::Outputs{j["outputs"].at(0).get<bool>(), j["outputs"].at(1).get<bool>()};
    }
    if (j.contains("repeat_every_s")) m.repeat_every = std::chrono::seconds(j["repeat_every_s"]);
    if (j.contains("repeats")) m.repeats = j["repeats"].get<int>();
    if (j.contains("expires_ms")) {
      m.expires = tracking::Time(std::chrono::milliseconds(j["expires_ms"].get<std::int64_t>()));
    }
    m.source = j.value("source", "");
    m.preset = j.value("preset", "");
    s.since = tracking::Time(std::chrono::milliseconds(j.at("since_ms").get<std::int64_t>()));
    s.acknowledged = j.value("acknowledged", false);
    return s;
  } catch (const json::exception&) {
    return std::nullopt;
  }
}

}  // namespace

void Onboard::save_messages() {
  if (!state_) return;
  std::vector<std::string> bodies;
  for (const auto& a : board_.active())
    bodies.push_back(to_saved(a));
  try {
    state_->save_messages(bodies);
  } catch (const std::exception& e) {
    log_ << "error: saving the active messages: " << e.what() << "\n";
  }
}

void Onboard::restore_messages() {
  if (!state_) return;
  std::vector<std::string> bodies;
  try {
    bodies = state_->load_messages();
  } catch (const std::exception& e) {
    log_ << "error: reading the saved messages: " << e.what() << "\n";
    return;
  }
  const tracking::Time now = clock_();
  for (const auto& body : bodies) {
    auto saved = from_saved(body);
    if (!saved) {
      log_ << "warning: a saved message could not be read; it is not given again\n";
      continue;
    }
    const std::string id = saved->message.id;
    auto outcome =
        board_.restore(std::move(saved->message), saved->since, saved->acknowledged, now);
    if (!outcome.ok) {
      log_ << "info: saved message " << id << " not given again: " << outcome.message << "\n";
      continue;
    }
    log_ << "info: message " << id << " was active before the restart: given again\n";
    carry_out(std::move(outcome.effects));
  }
  save_messages();  // without the ones not given again
}

vehicle::Reply Onboard::message_outcome(messages::Outcome outcome) {
  if (!outcome.ok) return vehicle::Reply::failure(outcome.error, outcome.message);
  carry_out(std::move(outcome.effects));
  return vehicle::Reply::success(outcome.message);
}

vehicle::Reply Onboard::message(const vehicle::MessageIn& in, tracking::Time now) {
  // Every refusal is a line in the log too: who asked for what, and why not.
  const auto refused_line = [&](std::string kind, std::string why) {
    log::Message line;
    line.time = tracking::format_time(now);
    line.id = in.message_id;
    line.event = "refused";
    line.kind = std::move(kind);
    line.source = in.source;
    if (!in.preset.empty()) line.preset = in.preset;
    line.note = std::move(why);
    return line;
  };
  messages::Message m;
  if (!in.preset.empty() && in.message_id.empty()) {
    // A preset pressed or sent again while it is on is not a second message: said twice over
    // itself it would only confuse.
    for (const auto& a : board_.active()) {
      if (a.message.preset == in.preset) {
        return vehicle::Reply::success("'" + in.preset + "' is already on as message " +
                                       a.message.id);
      }
    }
  }
  if (!in.preset.empty()) {
    auto preset = bundle_.message_preset(in.preset);
    if (!preset) {
      write(refused_line({}, "no such preset in the route data"));
      return vehicle::Reply::failure("unknown_preset",
                                     "the route data on this bus has no message "
                                     "preset '" +
                                         in.preset + "'");
    }
    m = from_preset(*preset, now);
  } else {
    m.kind = in.kind == "emergency" ? messages::Kind::emergency : messages::Kind::service;
  }
  for (const auto& [lang, text] : in.text)
    m.texts[lang].shown = text;
  for (const auto& [lang, text] : in.spoken)
    m.texts[lang].spoken = text;
  if (in.outputs == "both") m.outputs = media::Outputs::both();
  if (in.outputs == "interior") m.outputs = media::Outputs::only(media::Output::interior);
  if (in.outputs == "exterior") m.outputs = media::Outputs::only(media::Output::exterior);
  if (in.repeat_every_s) m.repeat_every = std::chrono::seconds(*in.repeat_every_s);
  if (in.repeats) m.repeats = *in.repeats;
  if (in.expires) m.expires = in.expires;
  m.source = in.source;
  m.id = in.message_id;
  // Without an id of the sender's: the preset's or the kind's, numbered, and not one that is
  // active (after a restart the numbering starts again beside restored messages).
  const auto active = [this](const std::string& id) {
    const auto& all = board_.active();
    return std::any_of(all.begin(), all.end(), [&](const auto& a) { return a.message.id == id; });
  };
  while (m.id.empty() || (in.message_id.empty() && active(m.id))) {
    m.id = (m.preset.empty() ? std::string(messages::to_string(m.kind)) : m.preset) + "-" +
           std::to_string(++messages_sent_);
  }
  const std::string kind(messages::to_string(m.kind));
  auto outcome = board_.send(std::move(m), now);
  if (!outcome.ok) write(refused_line(kind, outcome.message));
  return message_outcome(std::move(outcome));
}

vehicle::Reply Onboard::end_message(const vehicle::MessageEnd& end, tracking::Time now) {
  return message_outcome(end.action == vehicle::MessageEnd::Action::acknowledge
                             ? board_.acknowledge(end.message_id, end.source, now)
                             : board_.cancel(end.message_id, end.source, now));
}

vehicle::Reply Onboard::emergency_signal(const vehicle::Signal& signal, tracking::Time now) {
  log::Signal line;
  line.time = tracking::format_time(now);
  line.signal = "emergency";
  line.source = signal.source;
  line.state = signal.active ? "active" : "clear";
  if (!signal.active) {
    // The input going quiet does not end the emergency: the driver or the sender does.
    line.note = "the emergency message stays until it is cancelled";
    write(line);
    return vehicle::Reply::success("emergency input clear; the message stays until cancelled");
  }
  write(line);
  const std::string id = options_.emergency_preset + "-signal";
  for (const auto& a : board_.active()) {
    if (a.message.id == id) return vehicle::Reply::success("the emergency message is already on");
  }
  messages::Message m;
  if (auto preset = bundle_.message_preset(options_.emergency_preset);
      preset && preset->kind == routes::MessageKind::emergency) {
    m = from_preset(*preset, now);
  } else {
    // Never silence for want of route data: the built-in words, and a fault for the depot.
    m = builtin_emergency();
    write(log::Fault{tracking::format_time(now),
                     "emergency_preset_missing",
                     {},
                     {},
                     "the route data has no emergency preset '" + options_.emergency_preset +
                         "'; the built-in emergency message was given",
                     {}});
  }
  m.id = id;
  m.source = signal.source;
  return message_outcome(board_.send(std::move(m), now));
}

hmi::Reply Onboard::console_message(const hmi::Action& action, tracking::Time now) {
  vehicle::Reply reply;
  if (const auto* send = std::get_if<hmi::SendMessage>(&action)) {
    auto preset = bundle_.message_preset(send->preset);
    if (preset && preset->kind == routes::MessageKind::emergency && !send->confirmed) {
      return hmi::Reply::failure(hmi::Errc::rejected, "an emergency is sent with a second press");
    }
    vehicle::MessageIn in;
    in.preset = send->preset;
    in.source = "console";
    reply = message(in, now);
  } else if (const auto* ack = std::get_if<hmi::AckMessage>(&action)) {
    reply =
        end_message({vehicle::MessageEnd::Action::acknowledge, ack->message_id, "console"}, now);
  } else if (const auto* cancel = std::get_if<hmi::CancelMessage>(&action)) {
    reply = end_message({vehicle::MessageEnd::Action::cancel, cancel->message_id, "console"}, now);
  }
  if (!reply.ok) return hmi::Reply::failure(hmi::Errc::rejected, reply.message);
  return hmi::Reply::success(reply.message);
}

void Onboard::carry_out(std::vector<messages::Effect> effects) {
  bool changed = false;  // the active messages changed: the state file gets them
  for (auto& effect : effects) {
    if (auto* speak = std::get_if<messages::Speak>(&effect)) {
      auto& a = speak->announcement;
      const std::string id = a.id;
      announce(a.priority == media::Priority::safety ? "emergency_message" : "service_message",
               std::move(a));
      // Nobody to hear it (no voice, no such speaker): the saying is over once it is logged.
      if (!in_voice_.count(id)) carry_out(board_.finished(id, clock_()));
    } else if (const auto* silence = std::get_if<messages::Silence>(&effect)) {
      if (voice_) voice_->cancel(silence->announcement_id);
    } else if (const auto* show = std::get_if<messages::Show>(&effect)) {
      if (!screens_) continue;
      hmi::MessagePanel panel;
      panel.id = show->message.id;
      panel.kind = to_hmi(show->message.kind);
      panel.title = show->message.titles;
      for (const auto& [lang, text] : show->message.texts)
        panel.text[lang] = text.shown;
      panel.active = show->active;
      panel.acknowledged = show->acknowledged;
      panel.since =
          std::chrono::duration_cast<std::chrono::milliseconds>(show->since.time_since_epoch())
              .count();
      for (auto o : show->heard)
        panel.heard.emplace_back(media::to_string(o));
      panel.source = show->message.source;
      screens_->message(panel);
    } else if (const auto* hold = std::get_if<messages::HoldStops>(&effect)) {
      if (hold->hold) {
        // Whatever stop announcement is playing or waiting gives way now, and is said again
        // (as the current next stop) when the emergency ends. The ramp's warnings stay: they
        // are about safety too, and the emergency preempts them only while it speaks.
        for (const auto& [id, in] : in_voice_) {
          if (!in.stop || board_.message_of(id)) continue;
          if (voice_) voice_->cancel(id);
          write(log::Held{tracking::format_time(clock_()), id, "an emergency message is on"});
        }
        policy_.emergency_began();  // the ramp's held "next stop" too: said again after
      } else {
        say_next_stop_again(clock_());
      }
    } else if (const auto* line = std::get_if<log::Message>(&effect)) {
      write(*line);
      if (line->event == "sent" || line->event == "acknowledged" || line->event == "cancelled" ||
          line->event == "expired") {
        changed = true;
      }
      if (line->event == "sent" && !line->missing.empty()) {
        std::string missing;
        for (const auto& l : line->missing)
          missing += (missing.empty() ? "" : ", ") + l;
        log_ << "info: message " << line->id << " has no text in " << missing
             << "; it goes out in the languages it has\n";
      }
    }
  }
  if (changed) save_messages();
}

void Onboard::message_result(const media::Result& result) {
  auto it = in_voice_.find(result.announcement_id);
  if (it == in_voice_.end()) return;
  it->second.outputs &= ~(1u << static_cast<unsigned>(result.output));
  if (it->second.outputs != 0) return;
  in_voice_.erase(it);
  policy_.finished(result.announcement_id);  // over on every output: no longer watched
  carry_out(board_.finished(result.announcement_id, clock_()));
}

void Onboard::say_next_stop_again(tracking::Time now) {
  const routes::Trip* trip = pipeline_.trip();
  const auto* tracker = pipeline_.tracker();
  if (!trip || !tracker) return;
  const std::optional<int> next = tracker->next_stop_index();
  if (!next || *next < 0 || static_cast<std::size_t>(*next) >= trip->stops.size()) return;
  const int index = *next;
  tracking::StopEvent e;
  e.type = tracking::StopEvent::Type::next_stop;
  e.time = now;
  e.trip_id = trip->id;
  e.stop_id = trip->stops[static_cast<std::size_t>(index)].stop.id;
  e.stop_sequence = trip->stops[static_cast<std::size_t>(index)].stop_sequence;
  e.stop_index = index;
  e.distance_m = tracker->progress_m();
  carry_out(policy_.next_stop_again(announcer_.on_event(*trip, e), index, now, holds()));
}

void Onboard::publish_message_options() {
  if (!screens_) return;
  std::vector<hmi::MessageOption> list;
  for (const auto& p : bundle_.message_presets()) {
    list.push_back({p.id,
                    p.kind == routes::MessageKind::emergency ? hmi::MessageKind::emergency
                                                             : hmi::MessageKind::service,
                    p.title, p.text});
  }
  screens_->message_options(std::move(list));
}

}  // namespace stopcall::daemon
