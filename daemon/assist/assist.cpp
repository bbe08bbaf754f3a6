#include "daemon/assist/assist.hpp"

#include <algorithm>
#include <cmath>

namespace stopcall::daemon {

namespace {

using tracking::StopEvent;
using vehicle::Reply;

bool chinese(const std::string& lang) {
  return lang.rfind("zh", 0) == 0;
}
bool cantonese(const std::string& lang) {
  return lang == "yue" || lang == "zh-HK";
}

// The ramp warning, for people inside and outside.
std::string ramp_text(const std::string& lang) {
  if (cantonese(lang)) return "斜板正在放下，請勿靠近。";
  if (chinese(lang)) return "坡板正在放下，请勿靠近。";
  return "Ramp deploying, please stand clear.";
}

// The on-board accessible stop request, confirmed to the rider.
std::string ramp_requested_text(const std::string& lang, const std::string& stop) {
  if (cantonese(lang)) return "已通知車長：喺" + stop + "放斜板";
  if (chinese(lang)) return "已通知司机：在" + stop + "放下坡板";
  return "Ramp requested at " + stop + " — the driver has been told";
}

std::string stop_requested_text(const std::string& lang) {
  if (cantonese(lang)) return "下一站有落";
  if (chinese(lang)) return "下一站停车";
  return "Stop requested";
}

std::string doors_text(const std::string& lang) {
  if (cantonese(lang)) return "車門打開";
  if (chinese(lang)) return "车门开启";
  return "Doors open";
}

}  // namespace

Assist::Assist(AssistConfig config, AssistPort& port) : config_(std::move(config)), port_(port) {}

std::vector<media::SpeechItem> Assist::phrases() const {
  std::vector<media::SpeechItem> out;
  for (const auto& lang : config_.languages)
    out.push_back({ramp_text(lang), lang});
  return out;
}

void Assist::tone(std::string_view kind, std::string_view id_prefix, media::Priority priority,
                  media::Output output, Time now) {
  media::Announcement a;
  a.id = std::string(id_prefix) + tracking::format_time(now);
  a.priority = priority;
  a.outputs = media::Outputs::only(output);
  a.segments.push_back(media::Segment::chime());
  port_.announce(kind, std::move(a));
}

void Assist::take_down(std::string_view to, std::string_view kind, const std::string& stop_id,
                       std::string id, hmi::PromptKind prompt_kind) {
  hmi::Prompt off;
  off.id = std::move(id);
  off.kind = prompt_kind;
  off.active = false;
  port_.prompt(to, kind, stop_id, off);
}

// The rider on board asking for the ramp at the request's stop: told on the displays, the driver
// on the console.
void Assist::show_ramp_request(const Request& r) {
  hmi::Prompt prompt;
  prompt.id = "ramp-request";
  prompt.kind = hmi::PromptKind::ramp_requested;
  for (const auto& lang : config_.languages)
    prompt.text[lang] = ramp_requested_text(lang, stop_name(*r.stop_index, lang));
  port_.prompt("passenger", "wheelchair_request", r.stop_id, prompt);
  hmi::Prompt driver;
  driver.id = r.id;
  driver.kind = hmi::PromptKind::notice;
  driver.text["en"] = "Ramp needed at " + stop_name(*r.stop_index, "en");
  port_.prompt("driver", "wheelchair_request", r.stop_id, driver);
}

double Assist::speed_kmh(Time now) const {
  if (vehicle_speed_kmh_ && now - vehicle_speed_at_ <= config_.vehicle_speed_valid) {
    return *vehicle_speed_kmh_;
  }
  return position_.gps_speed_mps * 3.6;
}

bool Assist::moving(Time now) const {
  return speed_kmh(now) > config_.moving_kmh;
}

std::optional<int> Assist::current_stop() const {
  if (!position_.trip) return std::nullopt;
  if (position_.at_stop) return position_.at_stop;
  // Standing within a bus length of the next stop counts too (the tracker waits for a dwell).
  if (position_.next_stop) {
    const auto& stops = position_.trip->stops;
    auto i = static_cast<std::size_t>(*position_.next_stop);
    if (i < stops.size() && std::abs(stops[i].distance_m - position_.progress_m) <= 30) {
      return position_.next_stop;
    }
  }
  return std::nullopt;
}

std::string Assist::stop_name(int index, const std::string& lang) const {
  if (!position_.trip || index < 0 ||
      static_cast<std::size_t>(index) >= position_.trip->stops.size()) {
    return {};
  }
  return name_in(position_.trip->stops[static_cast<std::size_t>(index)].stop.names, lang);
}

int Assist::halt_stop(int index) const {
  const auto& halts = position_.halt_stops;
  if (index < 0 || static_cast<std::size_t>(index) >= halts.size()) return index;
  return halts[static_cast<std::size_t>(index)];
}

int Assist::next_halt_after(int index) const {
  const int n = position_.trip ? static_cast<int>(position_.trip->stops.size()) : 0;
  int i = index + 1;
  while (i < n && halt_stop(i) != i)
    ++i;
  return i;
}

hmi::Names Assist::stop_names(int index) const {
  hmi::Names names;
  for (const auto& lang : config_.languages)
    names[lang] = stop_name(index, lang);
  return names;
}

void Assist::log_signal(const vehicle::Signal& s, Time now, std::string_view note) {
  log::Signal line;
  line.time = tracking::format_time(now);
  line.signal = vehicle::to_string(s.name);
  line.source = s.source;
  switch (s.name) {
    case vehicle::SignalName::door:
      line.door = s.door;
      line.state = s.active ? "open" : "closed";
      break;
    case vehicle::SignalName::ramp:
    case vehicle::SignalName::kneel:
      line.state = s.active ? "deployed" : "stowed";
      break;
    case vehicle::SignalName::speed:
      line.kmh = s.speed_kmh;
      break;
    case vehicle::SignalName::emergency:
      line.state = s.active ? "active" : "clear";
      break;
  }
  if (!note.empty()) line.note = std::string(note);
  port_.record(line);
}

Reply Assist::on_signal(const vehicle::Signal& s, Time now) {
  now_ = std::max(now_, now);
  switch (s.name) {
    case vehicle::SignalName::speed:
      vehicle_speed_kmh_ = s.speed_kmh;
      vehicle_speed_at_ = now;
      log_signal(s, now, {});
      check_moving_ramp(now);
      return Reply::success("speed " + std::to_string(static_cast<int>(std::lround(s.speed_kmh))) +
                            " km/h");
    case vehicle::SignalName::door:
      on_door(s, now);
      return Reply::success(std::string("door ") + std::to_string(s.door) +
                            (s.active ? " open" : " closed"));
    case vehicle::SignalName::ramp:
      log_signal(s, now, {});
      on_ramp(s.active, now);
      return Reply::success(s.active ? "ramp deployed" : "ramp stowed");
    case vehicle::SignalName::kneel:
      log_signal(s, now, {});
      kneeling_ = s.active;
      return Reply::success(s.active ? "kneeling" : "kneel raised");
    case vehicle::SignalName::emergency:
      break;  // not the workflows': the messages (Onboard) start the emergency
  }
  return Reply::failure("bad_request", "unknown signal");
}

void Assist::on_door(const vehicle::Signal& s, Time now) {
  const bool was_open = std::any_of(doors_.begin(), doors_.end(), [](auto& d) { return d.second; });
  if (s.active && speed_kmh(now) > config_.door_fault_kmh) {
    // A door cannot be open at speed: a sensor or wiring fault. Say so; act on nothing.
    log_signal(s, now, "fault: ignored");
    char speed[32];
    std::snprintf(speed, sizeof speed, "%.0f", speed_kmh(now));
    port_.record(log::Fault{
        tracking::format_time(now),
        "door_open_while_moving",
        s.door,
        std::round(speed_kmh(now)),
        "door " + std::to_string(s.door) + " reported open at " + speed + " km/h: not acted on",
        {}});
    port_.driver_status(
        {"doors", hmi::Level::warning,
         "door " + std::to_string(s.door) + " sensor: open at " + speed + " km/h?"});
    return;
  }
  log_signal(s, now, {});
  doors_[s.door] = s.active;
  const bool open = std::any_of(doors_.begin(), doors_.end(), [](auto& d) { return d.second; });
  if (open == was_open) return;  // another door, or a bounce of the same state
  hmi::Prompt prompt;
  prompt.id = "doors";
  prompt.kind = hmi::PromptKind::doors_opening;
  for (const auto& lang : config_.languages)
    prompt.text[lang] = doors_text(lang);
  prompt.active = open;
  auto stop = current_stop();
  const std::string stop_id =
      stop ? position_.trip->stops[static_cast<std::size_t>(*stop)].stop.id : std::string();
  port_.prompt("passenger", "doors", stop_id, prompt);
  if (!open) return;
  if (stop_requested_) {
    stop_requested_ = false;
    take_down("passenger", "stop_request", stop_id, "stop", hmi::PromptKind::stop_requested);
  }
  if (!stop) return;  // doors open away from a stop (a depot, a breakdown): nothing to announce
  for (auto& r : requests_) {
    if (r.stop_index == stop && r.open()) {
      r.doors_opened_at_stop = true;
    }
  }
  // Once per stop visit: a bouncing door switch or a second door does not repeat it.
  if (exterior_done_at_ == stop) return;
  exterior_done_at_ = stop;
  const bool blind_here = std::any_of(requests_.begin(), requests_.end(), [&](const Request& r) {
    return r.kind == "blind" && r.stop_index == stop && r.open();
  });
  exterior_route("doors open", now, std::max(config_.exterior_times, blind_here ? 1 : 0));
}

void Assist::exterior_route(std::string_view why, Time now, int times) {
  if (!position_.trip || times <= 0) return;
  AnnouncerConfig a;
  a.languages = config_.languages;
  a.pause_between_languages = config_.pause_between_languages;
  auto announcement = exterior_route_announcement(
      *position_.trip, a,
      position_.trip->id + ":exterior:" + std::string(why) + ":" + tracking::format_time(now));
  if (times > 1) {
    auto once = announcement.segments;
    for (int i = 1; i < times; ++i) {
      announcement.segments.push_back(media::Segment::silence(std::chrono::milliseconds(800)));
      announcement.segments.insert(announcement.segments.end(), once.begin(), once.end());
    }
  }
  port_.announce(why == "doors open" ? "exterior_route" : "boarding_request",
                 std::move(announcement));
}

void Assist::announce_ramp(Time now) {
  last_ramp_announcement_ = now;
  media::Announcement a;
  a.id = "ramp:" + tracking::format_time(now);
  a.priority = media::Priority::accessibility;
  a.outputs = media::Outputs::both();
  a.segments.push_back(media::Segment::chime());
  bool first = true;
  for (const auto& lang : config_.languages) {
    if (!first) a.segments.push_back(media::Segment::silence(config_.pause_between_languages));
    first = false;
    a.segments.push_back(media::Segment::speech(ramp_text(lang), lang));
  }
  port_.announce("ramp_assist", std::move(a));
  hmi::Prompt prompt;
  prompt.id = "ramp";
  prompt.kind = hmi::PromptKind::ramp_deploying;
  for (const auto& lang : config_.languages) {
    std::string text = ramp_text(lang);
    if (!text.empty() && (text.back() == '.' || text.back() == ' ')) text.pop_back();
    if (text.size() >= 3 && text.compare(text.size() - 3, 3, "。") == 0)
      text.resize(text.size() - 3);
    prompt.text[lang] = text;
  }
  auto stop = current_stop();
  port_.prompt("passenger", "ramp_assist",
               stop ? position_.trip->stops[static_cast<std::size_t>(*stop)].stop.id : "", prompt);
  ramp_prompt_ = true;
  ramp_prompt_since_ = now;
}

void Assist::on_ramp(bool deployed, Time now) {
  if (deployed == ramp_deployed_) return;  // a repeated report of the same state
  ramp_deployed_ = deployed;
  auto stop = current_stop();
  if (deployed) {
    last_ramp_warning_ = now;
    ramp_progress_m_ = position_.trip ? std::optional<double>(position_.progress_m) : std::nullopt;
    // Deployed without the button (the driver's own switch): people still need the warning.
    if (!last_ramp_announcement_ ||
        now - *last_ramp_announcement_ > config_.ramp_announcement_guard) {
      announce_ramp(now);
    }
    for (auto& r : requests_) {
      if (stop && r.stop_index == stop && r.open()) {
        r.ramp_out_at_stop = true;
      }
    }
    check_moving_ramp(now);
    return;
  }
  // Stowed: the cycle is over.
  ramp_progress_m_.reset();
  if (ramp_prompt_) {
    take_down("passenger", "ramp_assist", "", "ramp", hmi::PromptKind::ramp_deploying);
    ramp_prompt_ = false;
  }
  if (moving_alarm_) {
    moving_alarm_ = false;
    take_down("driver", "ramp_moving_alarm", "", "ramp-alarm", hmi::PromptKind::notice);
    port_.driver_status({"ramp", hmi::Level::ok, "stowed"});
  }
  bool changed = false;
  for (auto& r : requests_) {
    if (r.ramp_out_at_stop && r.open()) {
      settle(r, Fate::served, now, "ramp cycle at the stop");
      changed = true;
    }
  }
  if (changed) publish_requests();
  port_.ramp_stowed();
}

void Assist::check_moving_ramp(Time now) {
  if (!ramp_deployed_ || moving_alarm_) return;
  // Moving: the speed says so, or the bus has advanced along the trip since the ramp came out
  // (a speed signal or GPS speed can be missing; the position cannot lie for long).
  const bool advanced = ramp_progress_m_ && position_.trip &&
                        position_.progress_m - *ramp_progress_m_ > config_.ramp_advance_m;
  if (!moving(now) && !advanced) return;
  moving_alarm_ = true;
  char speed[32];
  std::snprintf(speed, sizeof speed, "%.0f", speed_kmh(now));
  hmi::Prompt alarm;
  alarm.id = "ramp-alarm";
  alarm.kind = hmi::PromptKind::notice;
  alarm.text["en"] = std::string("RAMP DEPLOYED WHILE MOVING (") + speed + " km/h) — stop the bus";
  alarm.text["zh-Hans"] = "坡板未收起，车辆正在行驶——请停车";
  port_.prompt("driver", "ramp_moving_alarm", "", alarm);
  port_.driver_status({"ramp", hmi::Level::error,
                       std::string("deployed while moving at ") + speed + " km/h: stop the bus"});
}

bool Assist::bounced(vehicle::Button button, Time now) {
  auto it = last_press_.find(button);
  const bool bounce = it != last_press_.end() && now - it->second < config_.debounce;
  last_press_[button] = now;
  return bounce;
}

Reply Assist::on_button(const vehicle::ButtonPress& press, Time now) {
  now_ = std::max(now_, now);
  log::Signal line;
  line.time = tracking::format_time(now);
  line.signal = "button";
  line.button = vehicle::to_string(press.button);
  line.source = press.source;
  if (bounced(press.button, now)) {
    line.note = "ignored: pressed again within the debounce time";
    port_.record(line);
    return Reply::success("already done (pressed again within " +
                          std::to_string(config_.debounce.count()) + " ms)");
  }
  port_.record(line);
  switch (press.button) {
    case vehicle::Button::ramp_assist: {
      if (moving(now)) {
        char speed[32];
        std::snprintf(speed, sizeof speed, "%.0f", speed_kmh(now));
        port_.record(log::Fault{tracking::format_time(now),
                                "ramp_assist_while_moving",
                                {},
                                std::round(speed_kmh(now)),
                                "ramp assist refused: the bus is moving",
                                {}});
        return Reply::failure("refused", std::string("the bus is moving (") + speed +
                                             " km/h): stop before deploying the ramp");
      }
      if (last_ramp_announcement_ && now - *last_ramp_announcement_ < config_.ramp_repeat_guard) {
        return Reply::success("ramp deploying (just announced)");
      }
      announce_ramp(now);
      return Reply::success("ramp deploying: announced inside and outside");
    }
    case vehicle::Button::stop_request: {
      if (stop_requested_) return Reply::success("stop already requested");
      stop_requested_ = true;
      tone("stop_request", "stop-request:", media::Priority::information, media::Output::interior,
           now);
      hmi::Prompt prompt;
      prompt.id = "stop";
      prompt.kind = hmi::PromptKind::stop_requested;
      for (const auto& lang : config_.languages)
        prompt.text[lang] = stop_requested_text(lang);
      auto next = position_.next_stop;
      port_.prompt("passenger", "stop_request",
                   next && position_.trip
                       ? position_.trip->stops[static_cast<std::size_t>(*next)].stop.id
                       : "",
                   prompt);
      return Reply::success("stop requested");
    }
    case vehicle::Button::wheelchair_request: {
      if (!position_.trip || !position_.next_stop) {
        return Reply::failure("no_trip",
                              "no trip is being tracked, so no stop to ask the ramp for; tell the "
                              "driver directly");
      }
      for (const auto& r : requests_) {
        if (r.kind == "wheelchair_alighting" && r.open()) {
          return Reply::success("ramp already requested at " + stop_name(*r.stop_index, "en"));
        }
      }
      Request r;
      r.id = "onboard-" + std::to_string(next_request_++);
      r.kind = "wheelchair_alighting";
      r.stop_index = *position_.next_stop;
      r.stop_id = position_.trip->stops[static_cast<std::size_t>(*r.stop_index)].stop.id;
      r.route_id = position_.trip->route.id;
      r.since = now;
      r.source = press.source;
      r.fate = Fate::shown;
      requests_.push_back(r);
      tone("wheelchair_request", "wheelchair-request:", media::Priority::stop,
           media::Output::interior, now);
      show_ramp_request(r);
      record_request(r, "shown", now);
      publish_requests();
      return Reply::success("ramp requested at " + stop_name(*r.stop_index, "en") +
                            "; the driver has been told");
    }
  }
  return Reply::failure("bad_request", "unknown button");
}

void Assist::on_step(const std::vector<StopEvent>& events, const BusPosition& position, Time now) {
  now_ = std::max(now_, now);
  const bool new_trip =
      position.trip != position_.trip || (position.trip && position.trip->id != trip_id_);
  position_ = position;
  if (new_trip) {
    trip_id_ = position.trip ? position.trip->id : "";
    exterior_done_at_.reset();
    for (auto& r : requests_) {
      if (r.kind != "wheelchair_alighting") r.stop_index.reset();  // placed again on this trip
    }
    // The on-board request belonged to the trip that ended.
    for (auto& r : requests_) {
      if (r.kind == "wheelchair_alighting" && r.open()) {
        settle(r, Fate::missed, now, "the trip ended before the stop");
      }
    }
  }
  bool changed = new_trip;
  for (const auto& e : events) {
    if (!e.stop_index || !position_.trip || e.trip_id != position_.trip->id) continue;
    const int index = *e.stop_index;
    if (e.type == StopEvent::Type::next_stop || e.type == StopEvent::Type::departed ||
        e.type == StopEvent::Type::passed) {
      // A new stop visit starts after leaving one.
      if (e.type != StopEvent::Type::next_stop && exterior_done_at_ == index) {
        exterior_done_at_.reset();
      }
    }
    if (e.type == StopEvent::Type::departed || e.type == StopEvent::Type::passed) {
      for (auto& r : requests_) {
        if (r.stop_index != index || !r.open()) continue;
        changed = true;
        if (r.kind == "wheelchair_alighting") {
          if (r.ramp_out_at_stop) continue;  // settled when the ramp is stowed
          // The rider could not get off here: the next halt, and the driver is told again.
          const int next = next_halt_after(index);
          if (static_cast<std::size_t>(next) < position_.trip->stops.size()) {
            r.stop_index = next;
            r.stop_id = position_.trip->stops[static_cast<std::size_t>(next)].stop.id;
            r.doors_opened_at_stop = false;
            record_request(r, "carried", now, "the bus left the stop without a ramp cycle");
            show_ramp_request(r);
          } else {
            settle(r, Fate::missed, now, "the last stop was left without a ramp cycle");
          }
        } else if (r.kind == "blind" && r.doors_opened_at_stop) {
          settle(r, Fate::served, now, "route announced outside, doors opened");
        } else if (r.kind == "wheelchair" && r.ramp_out_at_stop) {
          // served when the ramp was stowed
        } else {
          settle(r, Fate::missed, now,
                 e.type == StopEvent::Type::passed ? "the bus passed the stop"
                                                   : "the doors did not open for it");
        }
      }
    }
    if (e.type == StopEvent::Type::approaching) {
      for (auto& r : requests_) {
        if (r.kind == "blind" && r.stop_index == index && r.open() && !r.last_exterior) {
          r.last_exterior = now;
          exterior_route("approaching a blind rider's stop", now, 1);
        }
      }
    }
  }
  place_requests();
  if (changed || !events.empty()) publish_requests();
  check_moving_ramp(now);
}

void Assist::on_tick(Time now) {
  now_ = std::max(now_, now);
  bool changed = false;
  for (auto& r : requests_) {
    if (r.open() && r.expires && *r.expires <= now) {
      settle(r, Fate::expired, now, "its time ran out");
      changed = true;
    }
  }
  // A blind rider's stop: the route outside again while the bus approaches and stands there.
  for (auto& r : requests_) {
    if (r.kind != "blind" || !r.last_exterior || r.doors_opened_at_stop || !r.open()) {
      continue;
    }
    if (now - *r.last_exterior >= config_.blind_repeat_every) {
      r.last_exterior = now;
      exterior_route("approaching a blind rider's stop", now, 1);
    }
  }
  if (ramp_deployed_ && last_ramp_warning_ &&
      now - *last_ramp_warning_ >= config_.ramp_warning_every) {
    last_ramp_warning_ = now;
    tone("ramp_warning", "ramp-warning:", media::Priority::accessibility, media::Output::exterior,
         now);
  }
  if (ramp_prompt_ && !ramp_deployed_ && ramp_prompt_since_ &&
      now - *ramp_prompt_since_ > config_.ramp_prompt_timeout) {
    // Ramp assist was pressed but the ramp never came out: don't leave the warning up forever.
    ramp_prompt_ = false;
    take_down("passenger", "ramp_assist", "", "ramp", hmi::PromptKind::ramp_deploying);
  }
  check_moving_ramp(now);
  if (changed) publish_requests();
  prune();
}

}  // namespace stopcall::daemon
