#include "daemon/onboard.hpp"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <cmath>
#include <ostream>

#include "daemon/service_time.hpp"
#include "daemon/vehicle/control_socket.hpp"
#include "media/engine.hpp"
#include "routes/problem.hpp"

namespace stopcall::daemon {

namespace asio = boost::asio;
using tracking::StopEvent;

namespace {

// Console volume 0-100 as gain: 70 is the configured level (0 dB), 100 about +6 dB, 0 mute.
double volume_to_db(int level) {
  if (level <= 0) return -90;
  return 40 * std::log10(static_cast<double>(level) / 70.0);
}

hmi::Reply to_hmi(const vehicle::Reply& reply) {
  if (reply.ok) return hmi::Reply::success(reply.message);
  return hmi::Reply::failure(hmi::Errc::rejected, reply.message);
}

}  // namespace

Onboard::Onboard(asio::io_context& io, const routes::Bundle& bundle, Pipeline& pipeline,
                 OnboardOptions options, std::function<tracking::Time()> clock,
                 std::ostream& events, std::ostream& log)
    : io_(io),
      bundle_(bundle),
      pipeline_(pipeline),
      options_(std::move(options)),
      clock_(std::move(clock)),
      events_(events),
      log_(log),
      announcer_(options_.announcer),
      assist_(options_.assist, *this),
      policy_(options_.door_signals),
      board_([this] {
        messages::BoardConfig config = options_.messages;
        config.languages = options_.announcer.languages;
        config.pause_between_languages = options_.announcer.pause_between_languages;
        return config;
      }()) {
  if (options_.screens) {
    screens_ = std::make_unique<Screens>(io_, *options_.screens, bundle_.timezone(),
                                         [this](hmi::LogLevel level, std::string_view text) {
                                           if (level == hmi::LogLevel::debug) return;
                                           log_ << (level == hmi::LogLevel::info      ? "info: "
                                                    : level == hmi::LogLevel::warning ? "warning: "
                                                                                      : "error: ")
                                                << text << "\n";
                                         });
    screens_->on_driver_action([this](const hmi::DriverAction& a) { return driver_action(a); });
    publish_message_options();
  }
  if (options_.media) {
    media::Callbacks callbacks;
    callbacks.on_cue = [this](media::Cue cue) {
      asio::post(io_, [this, cue = std::move(cue)] {
        if (stopped_) return;
        if (screens_) screens_->subtitle(cue, board_.message_of(cue.announcement_id).value_or(""));
        if (cue.event == media::Cue::Event::start) {
          first_sound(cue);
          carry_out(board_.heard(cue.announcement_id, cue.output, clock_()));
        }
      });
    };
    callbacks.on_result = [this](media::Result result) {
      asio::post(io_, [this, result = std::move(result)] {
        if (stopped_) return;
        if (result.outcome != media::Result::Outcome::finished &&
            result.outcome != media::Result::Outcome::interrupted) {
          submitted_.erase(result.announcement_id);  // never heard there
        }
        write(log::AnnouncementResult{tracking::format_time(clock_()), result.announcement_id,
                                      std::string(media::to_string(result.output)),
                                      std::string(media::to_string(result.outcome))});
        message_result(result);
      });
    };
    callbacks.on_output = [this](media::OutputStatus status) {
      asio::post(io_, [this, status = std::move(status)] {
        if (stopped_) return;
        const std::string name = "audio." + std::string(media::to_string(status.output));
        hmi::Level level =
            status.state == media::OutputState::ok ? hmi::Level::ok : hmi::Level::error;
        std::string text = status.state == media::OutputState::ok
                               ? status.sink
                               : std::string(media::to_string(status.state)) + ": " + status.error;
        if (screens_) screens_->status({name, level, text});
        if (status.state != media::OutputState::ok)
          log_ << "warning: " << name << " " << text << "\n";
      });
    };
    callbacks.on_ambient = [this](media::AmbientStatus status) {
      asio::post(io_, [this, status = std::move(status)] {
        if (stopped_ || !screens_) return;
        char text[96];
        if (status.state == media::OutputState::ok && status.ambient_db) {
          std::snprintf(text, sizeof text, "cabin %.0f dBFS, gain %+.1f dB%s", *status.ambient_db,
                        status.gain_db, status.frozen ? " (held)" : "");
        } else {
          std::snprintf(text, sizeof text, "%s: %s",
                        std::string(media::to_string(status.state)).c_str(), status.error.c_str());
        }
        screens_->status(
            {"audio.ambient",
             status.state == media::OutputState::ok ? hmi::Level::ok : hmi::Level::warning, text});
      });
    };
    callbacks.on_problem = [this](media::Problem problem) {
      asio::post(io_, [this, problem = std::move(problem)] {
        log_ << "warning: media: " << problem.message << "\n";
      });
    };
    voice_ = std::make_unique<media::Engine>(*options_.media, std::move(callbacks));
    voice_->prerender(assist_.phrases());
    // The presets' words too, so that an emergency's words follow its tone without a gap.
    std::vector<media::SpeechItem> words;
    for (const auto& p : bundle_.message_presets()) {
      for (const auto& [lang, text] : p.text) {
        auto spoken = p.spoken.find(lang);
        words.push_back({spoken == p.spoken.end() ? text : spoken->second, lang});
      }
    }
    voice_->prerender(std::move(words));
  }
  if (!options_.event_store.empty()) {
    try {
      store_ = std::make_unique<log::EventStore>(options_.event_store);
    } catch (const std::exception& e) {
      log_ << "error: " << e.what() << "; events go to the log file only\n";
    }
  }
  if (!options_.state_file.empty()) {
    try {
      state_ = std::make_unique<StateStore>(options_.state_file);
    } catch (const std::exception& e) {
      // Announcing matters more than resuming: run on, say why a restart will not resume.
      log_ << "error: " << e.what() << "; a restart will not resume the trip\n";
    }
  }
  if (!options_.control_socket.empty()) {
    control_ = std::make_unique<vehicle::ControlSocket>(
        io_, options_.control_socket, [this](const vehicle::Command& c) { return command(c); },
        0660, options_.control_limits,
        [this](bool warning, std::string_view text) {
          log_ << (warning ? "warning: " : "info: ") << text << "\n";
        });
  }
}

Onboard::~Onboard() {
  stop();
}

void Onboard::record_time_zone(tracking::Time now) {
  const ServiceClock clock(bundle_.timezone());
  const int offset = clock.utc_offset_min(now);
  if (recorded_offset_min_ == offset) return;
  recorded_offset_min_ = offset;
  write(log::TimeZone{tracking::format_time(now), bundle_.timezone(), offset});
}

void Onboard::start() {
  restore_messages();
  if (screens_) {
    screens_->start();
    log_ << "info: passenger display http://" << options_.screens->address << ":"
         << screens_->port() << "/  driver console http://" << options_.screens->address << ":"
         << screens_->port() << "/driver\n";
  }
  if (control_) {
    control_->start();
    log_ << "info: control socket " << options_.control_socket << "\n";
  }
  if (!options_.gpio.empty()) {
    gpio_ = std::make_unique<vehicle::GpioInputs>(
        io_, options_.gpio, [this](const vehicle::Command& c) { return command(c); });
    try {
      gpio_->start();
      log_ << "info: " << options_.gpio.size() << " GPIO input line(s)\n";
    } catch (const std::exception& e) {
      // The bus keeps announcing; the signals must then come through the control socket.
      gpio_.reset();
      log_ << "error: " << e.what() << "; no GPIO signals\n";
      write(log::Fault{tracking::format_time(clock_()), "gpio_unavailable", {}, {}, e.what(), {}});
    }
  }
}

void Onboard::stop() {
  if (stopped_) return;
  stopped_ = true;
  if (control_) control_->stop();
  if (gpio_) gpio_->stop();
  if (screens_) screens_->stop();
  if (voice_) voice_->stop();
}

unsigned short Onboard::http_port() const {
  return screens_ ? screens_->port() : 0;
}

void Onboard::write(const log::Record& record) {
  write(log::encode(record));
}

void Onboard::write(const std::string& line) {
  events_ << line << '\n';
  events_.flush();
  if (store_) store_->append(line);  // queued: the store's own thread writes it
}

std::vector<std::pair<std::string, tracking::Time>> Onboard::fleet_nonces() {
  if (!state_) return {};
  try {
    return state_->load_fleet_nonces();
  } catch (const std::exception& e) {
    log_ << "error: reading the fleet commands taken: " << e.what() << "\n";
    return {};
  }
}

void Onboard::save_fleet_nonces(const std::vector<std::pair<std::string, tracking::Time>>& nonces) {
  if (!state_) return;
  try {
    state_->save_fleet_nonces(nonces);
  } catch (const std::exception& e) {
    log_ << "error: saving the fleet commands taken: " << e.what() << "\n";
  }
}

BusPosition Onboard::position(const Pipeline& pipeline) const {
  BusPosition p;
  p.trip = pipeline.trip();
  if (const auto* tracker = pipeline.tracker()) {
    p.next_stop = tracker->next_stop_index();
    p.at_stop = tracker->at_stop_index();
    p.progress_m = tracker->progress_m();
    p.gps_speed_mps = tracker->speed_mps();
    p.halt_stops = tracker->halt_stops();
  }
  return p;
}

void Onboard::save_state(const StopEvent& e) {
  if (!state_) return;
  try {
    if (e.type == StopEvent::Type::trip_ended) {
      state_->clear();
    } else if (e.stop_index || e.type == StopEvent::Type::trip_started ||
               e.type == StopEvent::Type::trip_detected) {
      // trip_resumed is not saved: what was saved before the restart still holds.
      state_->save({e.trip_id, e.stop_index.value_or(0), e.type, e.time});
    }
  } catch (const std::exception& ex) {
    log_ << "error: saving the state: " << ex.what() << "\n";
  }
}

void Onboard::step(const Pipeline& pipeline, const std::vector<StopEvent>& events) {
  for (const auto& e : events) {
    save_state(e);  // first: a crash after this line never repeats the event after a restart
    write(tracking::to_json_line(e));
    if (e.type == StopEvent::Type::route_data_not_valid) log_ << "warning: " << e.note << "\n";
  }
  if (screens_) screens_->update(pipeline, events);
  const routes::Trip* trip = pipeline.trip();
  trip_ = trip;
  for (const auto& e : events) {
    if (e.type == StopEvent::Type::trip_started || e.type == StopEvent::Type::trip_detected ||
        e.type == StopEvent::Type::trip_resumed || !recorded_offset_min_) {
      record_time_zone(e.time);  // (a trace: its first event's time, not the host's)
    }
    carry_out(policy_.on_event(e));  // expires what the event made untrue
    if (e.type == StopEvent::Type::departed || e.type == StopEvent::Type::passed) {
      carry_out(board_.departed(e.time));
    }
    if (!trip || e.trip_id != trip->id) continue;
    // The longest form that ends before the next announcement is due (announcer.hpp).
    auto fitted = announcer_.on_event(
        *trip, e, pipeline.time_to_say(e),
        [this](const media::Segment& s) -> std::optional<std::chrono::milliseconds> {
          if (!voice_) return std::nullopt;
          return voice_->length(s);
        });
    carry_out(policy_.stop_announcements(e, std::move(fitted), holds()));
  }
  if (trip && trip->id != trip_id_) {
    trip_id_ = trip->id;
    if (voice_) {
      // Every stop's words in every form, synthesized now so each announcement starts at once
      // and its length is known when its form is chosen.
      voice_->prerender(announcer_.spoken_texts(*trip));
    }
  }
  for (const auto& e : events) {
    if (screens_ && e.type == StopEvent::Type::trip_detected) {
      screens_->detected_trip(hmi::DetectedTrip{e.trip_id, 1.0});
    }
  }
  assist_.on_step(events, position(pipeline), events.empty() ? clock_() : events.back().time);
}

void Onboard::tick(const Pipeline& pipeline) {
  (void)pipeline;
  const auto now = clock_();
  assist_.on_tick(now);
  carry_out(board_.tick(now));
  if (screens_ &&
      (!options_at_ || now - *options_at_ >= std::chrono::minutes(1) || now < *options_at_)) {
    publish_trip_options(now);
  }
}

void Onboard::publish_trip_options(tracking::Time now) {
  options_at_ = now;
  // The trips running now or starting within half an hour, for the console's login list.
  ServiceClock service(bundle_.timezone());
  auto today = service.at(now);
  std::vector<hmi::TripOption> list;
  for (const auto& t : bundle_.candidate_trips(today.date, today.seconds, 1800)) {
    hmi::TripOption o;
    o.trip_id = t.trip_id;
    o.route = t.route_short_name;
    o.headsign["en"] = t.headsign;
    o.direction = t.direction_id;
    o.block = t.block_id;
    char departure[16];
    std::snprintf(departure, sizeof departure, "%02d:%02d", t.first_departure_s / 3600,
                  t.first_departure_s / 60 % 60);
    o.departure = departure;
    list.push_back(std::move(o));
    if (list.size() >= 40) break;
  }
  screens_->trip_options(std::move(list));
}

void Onboard::announce(std::string_view kind, media::Announcement a) {
  carry_out(policy_.other(kind, std::move(a)));
}

Holds Onboard::holds() const {
  return {board_.holding_stops(), assist_.hold_departure_announcements()};
}

void Onboard::carry_out(std::vector<policy::Effect> effects) {
  for (auto& effect : effects) {
    if (auto* s = std::get_if<policy::Say>(&effect)) {
      say(s->kind, std::move(s->announcement), std::move(s->form));
    } else if (const auto* expire = std::get_if<policy::Expire>(&effect)) {
      if (voice_) voice_->expire(expire->announcement_id);
    } else if (const auto* held = std::get_if<log::Held>(&effect)) {
      write(*held);
    }
  }
}

void Onboard::say(std::string_view kind, media::Announcement a, std::optional<std::string> form) {
  ++announcements_;
  log::Announcement line;
  line.time = tracking::format_time(clock_());
  line.id = a.id;
  line.kind = std::string(kind);
  line.form = std::move(form);
  line.priority = std::string(media::to_string(a.priority));
  if (a.outputs.interior) line.outputs.push_back("interior");
  if (a.outputs.exterior) line.outputs.push_back("exterior");
  for (const auto& s : a.segments) {
    line.segments.push_back(std::string(media::to_string(s.kind)));
    if (s.kind != media::SegmentKind::speech && s.kind != media::SegmentKind::clip) continue;
    auto said = std::find_if(line.text.begin(), line.text.end(),
                             [&](const auto& t) { return t.first == s.lang; });
    if (said == line.text.end()) {
      line.languages.push_back(s.lang);
      line.text.emplace_back(s.lang, s.text);
    } else {
      said->second += " " + s.text;
    }
  }
  // Where: the trip and how far along it the bus was when it was decided.
  if (const routes::Trip* trip = pipeline_.trip()) {
    line.trip_id = trip->id;
    if (const auto* tracker = pipeline_.tracker()) {
      line.distance_m = std::round(tracker->progress_m() * 10) / 10;
    }
  }
  write(line);
  if (voice_) {
    if (submitted_.size() > 256) submitted_.clear();  // (a result never came: don't grow)
    const unsigned outputs = (a.outputs.interior ? 1u : 0u) | (a.outputs.exterior ? 2u : 0u);
    submitted_[a.id] = {std::chrono::steady_clock::now(), outputs, 0u};
    if (in_voice_.size() > 256) in_voice_.clear();  // (results never came: don't grow)
    // Only outputs with a sink report results.
    const unsigned there = (options_.media->interior.sink.empty() ? 0u : 1u) |
                           (options_.media->exterior.sink.empty() ? 0u : 2u);
    if ((outputs & there) != 0) {
      in_voice_[a.id] = {outputs & there, a.priority == media::Priority::stop};
    }
    voice_->submit(std::move(a));
  }
}

void Onboard::prompt(std::string_view to, std::string_view kind, const std::string& stop_id,
                     const hmi::Prompt& prompt) {
  log::Prompt line{tracking::format_time(clock_()),
                   std::string(to),
                   std::string(kind),
                   prompt.id,
                   prompt.active,
                   {},
                   prompt.text};
  if (!stop_id.empty()) line.stop_id = stop_id;
  write(line);
  if (!screens_) return;
  if (to == "passenger") screens_->prompt(prompt);
  // Driver prompts are logged only: the console shows the ramp and its alarm in its status panel
  // (driver_status()) and requests in its request list (requests()).
}

void Onboard::driver_status(const hmi::Status& status) {
  if (screens_) screens_->status(status);
}

void Onboard::requests(std::vector<hmi::BoardingRequest> list) {
  if (screens_) screens_->requests(std::move(list));
}

void Onboard::ramp_stowed() {
  carry_out(policy_.ramp_stowed(clock_()));
}

void Onboard::first_sound(const media::Cue& cue) {
  auto it = submitted_.find(cue.announcement_id);
  if (it == submitted_.end()) return;
  Submitted& sub = it->second;
  const unsigned bit = 1u << static_cast<unsigned>(cue.output);
  if (sub.heard & bit) return;
  sub.heard |= bit;
  // When the announcement was really heard on this output: the event log's proof, and the
  // ramp-assist benchmark's measure (mono_ns is CLOCK_MONOTONIC, comparable across processes).
  write(log::Sound{
      tracking::format_time(clock_()), cue.announcement_id,
      std::string(media::to_string(cue.output)),
      std::chrono::duration<double, std::milli>(cue.rendered_at - sub.at).count(),
      std::chrono::duration_cast<std::chrono::nanoseconds>(cue.rendered_at.time_since_epoch())
          .count()});
  if (sub.heard == sub.wanted) submitted_.erase(it);
}

void Onboard::vehicle_motion(const vehicle::Signal& signal, tracking::Time now) {
  // The doors and the speed also tell the tracker when the bus stands and when it moves.
  tracking::VehicleMotion m;
  m.time = now;
  if (signal.name == vehicle::SignalName::door) {
    if (signal.active)
      open_doors_.insert(signal.door);
    else
      open_doors_.erase(signal.door);
    m.doors_open = !open_doors_.empty();
  } else if (signal.name == vehicle::SignalName::speed) {
    m.speed_mps = signal.speed_kmh / 3.6;
  } else {
    return;
  }
  pipeline_.on_vehicle(m);
}

void Onboard::record(const log::Record& record) {
  write(record);
}

void Onboard::gps_waiting(tracking::Time system_now) {
  record_time_zone(system_now);  // the daemon's start, on the bus's system clock
  write(log::GpsWaiting{tracking::format_time(system_now), "system",
                        "waiting for the first fix from gpsd"});
  if (screens_) screens_->status({"gps", hmi::Level::warning, "waiting for the first fix"});
}

void Onboard::gps_first_fix(tracking::Time gps_time) {
  write(log::GpsFirstFix{tracking::format_time(gps_time)});
  if (screens_) screens_->status({"gps", hmi::Level::ok, "fix"});
}

void Onboard::gps_clock_jumped_back(tracking::Time now, std::chrono::milliseconds moved) {
  const double seconds = std::chrono::duration<double>(moved).count();
  log::Fault fault;
  fault.time = tracking::format_time(now);
  fault.kind = "gps_clock_jumped_back";
  fault.moved_s = seconds;
  fault.message = "the GPS receiver's clock went back " + std::to_string(std::lround(seconds)) +
                  " s; its fixes are placed after the last one";
  write(fault);
}

vehicle::Reply Onboard::command(const vehicle::Command& command) {
  const tracking::Time now = clock_();
  return std::visit(
      [&](const auto& c) -> vehicle::Reply {
        using T = std::decay_t<decltype(c)>;
        if constexpr (std::is_same_v<T, vehicle::Signal>) {
          if (c.name == vehicle::SignalName::emergency) return emergency_signal(c, now);
          if (c.name == vehicle::SignalName::door) policy_.doors_seen();
          vehicle_motion(c, now);
          return assist_.on_signal(c, now);
        } else if constexpr (std::is_same_v<T, vehicle::ButtonPress>) {
          return assist_.on_button(c, now);
        } else if constexpr (std::is_same_v<T, vehicle::BoardingRequestIn>) {
          return assist_.on_request(c, now, [this](const std::string& id) {
            try {
              bundle_.load_stop(id);
              return true;
            } catch (const routes::RouteError&) {
              return false;
            }
          });
        } else if constexpr (std::is_same_v<T, vehicle::MessageIn>) {
          return message(c, now);
        } else if constexpr (std::is_same_v<T, vehicle::MessageEnd>) {
          return end_message(c, now);
        } else {
          auto reply = vehicle::Reply::success("state");
          reply.data = assist_.state_json(now);
          return reply;
        }
      },
      command);
}

hmi::Reply Onboard::driver_action(const hmi::DriverAction& action) {
  const tracking::Time now = clock_();
  return std::visit(
      [&](const auto& a) -> hmi::Reply {
        using T = std::decay_t<decltype(a)>;
        if constexpr (std::is_same_v<T, hmi::RampAssist>) {
          return to_hmi(assist_.on_button({vehicle::Button::ramp_assist, "console"}, now));
        } else if constexpr (std::is_same_v<T, hmi::DismissRequest>) {
          return to_hmi(assist_.dismiss(a.request_id, now));
        } else if constexpr (std::is_same_v<T, hmi::RepeatLast>) {
          auto again = policy_.repeat_last(":repeat" + std::to_string(repeats_ + 1));
          if (again.empty()) {
            return hmi::Reply::failure(hmi::Errc::rejected, "nothing announced yet on this trip");
          }
          ++repeats_;
          carry_out(std::move(again));
          return hmi::Reply::success("repeated");
        } else if constexpr (std::is_same_v<T, hmi::SetVolume>) {
          const bool interior = a.output == hmi::AudioOutput::interior;
          (interior ? volume_.interior : volume_.exterior) = a.level;
          if (voice_) {
            voice_->set_gain(
                interior ? media::Output::interior : media::Output::exterior,
                (interior ? options_.media->interior.gain_db : options_.media->exterior.gain_db) +
                    volume_to_db(a.level));
          }
          write(
              log::Volume{tracking::format_time(now), interior ? "interior" : "exterior", a.level});
          if (screens_) screens_->volume(volume_);
          return hmi::Reply::success("volume " + std::to_string(a.level));
        } else if constexpr (std::is_same_v<T, hmi::LoginTrip>) {
          try {
            pipeline_.login(a.trip_id);
          } catch (const routes::RouteError& e) {
            return hmi::Reply::failure(hmi::Errc::rejected, e.what());
          }
          write(log::Login{tracking::format_time(now), a.trip_id, "console"});
          if (screens_) {
            screens_->detected_trip(std::nullopt);
            screens_->update(pipeline_, {});
          }
          return hmi::Reply::success("logged in to " + a.trip_id);
        } else if constexpr (std::is_same_v<T, hmi::SendMessage> ||
                             std::is_same_v<T, hmi::CancelMessage> ||
                             std::is_same_v<T, hmi::AckMessage>) {
          return console_message(action.action, now);
        } else {
          // One touch: the driver confirms the trip detection found (it is already tracked).
          const routes::Trip* trip = pipeline_.trip();
          if (!trip) return hmi::Reply::failure(hmi::Errc::rejected, "no trip detected yet");
          write(log::Login{tracking::format_time(now), trip->id,
                           "console: confirmed the detected trip"});
          if (screens_) screens_->detected_trip(std::nullopt);
          return hmi::Reply::success("confirmed " + trip->id);
        }
      },
      action.action);
}

}  // namespace stopcall::daemon
