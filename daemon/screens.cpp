#include "daemon/screens.hpp"

#include <stdexcept>

#include "daemon/service_time.hpp"
#include "hmi/server.hpp"
#include "hmi/trip_view.hpp"

namespace stopcall::daemon {

using tracking::StopEvent;

Screens::Screens(boost::asio::io_context& io, ScreensOptions options, const std::string& timezone,
                 std::function<void(hmi::LogLevel, std::string_view)> log)
    : clock_(timezone) {
  hmi::HmiConfig config;
  config.log = std::move(log);
  config.allowed_hosts = options.allowed_hosts;
  hmi::Listener listener;
  listener.address = options.address;
  listener.port = options.port;
  listener.roles =
      options.driver_listener ? hmi::Roles::only(hmi::Role::passenger) : hmi::Roles::both();
  config.listeners.push_back(listener);
  if (options.driver_listener) {
    hmi::Listener cab;
    cab.address = options.driver_listener->first;
    cab.port = options.driver_listener->second;
    cab.roles = hmi::Roles::only(hmi::Role::driver);
    config.listeners.push_back(cab);
  }
  config.web_root = options.web_root;
  // Bound the kernel's buffer per screen as the queue bounds ours, so a stalled display is
  // dropped by the queue limit rather than parked in megabytes of autotuned socket buffer.
  config.socket_send_buffer = 64 << 10;
  config.driver_token = options.driver_token;
  server_ = std::make_unique<hmi::HmiServer>(io, std::move(config));
  // The offset of now; from the first event on, of the bus's own time (daylight saving changes it).
  utc_offset_min_ = clock_.utc_offset_min(
      std::chrono::time_point_cast<tracking::Time::duration>(std::chrono::system_clock::now()));
  hmi::State state;
  state.utc_offset_min = utc_offset_min_;
  state.statuses.push_back({"trip", hmi::Level::warning, "looking for the trip"});
  server_->publish_state(std::move(state));
}

std::pair<std::string, unsigned short> parse_listen(const std::string& text) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    throw std::runtime_error("\"" + text + "\" is not ADDRESS:PORT");
  }
  std::string address = text.substr(0, colon);
  if (address.size() > 2 && address.front() == '[' && address.back() == ']') {
    address = address.substr(1, address.size() - 2);  // [::1]:8080
  }
  try {
    std::size_t used = 0;
    int port = std::stoi(text.substr(colon + 1), &used);
    if (used != text.size() - colon - 1 || port < 0 || port > 65535) throw std::out_of_range(text);
    return {address, static_cast<unsigned short>(port)};
  } catch (const std::logic_error&) {
    throw std::runtime_error("\"" + text + "\": the port must be a number from 0 to 65535");
  }
}

Screens::~Screens() = default;
void Screens::start() {
  server_->start();
}
void Screens::stop() {
  server_->stop();
}
unsigned short Screens::port() const {
  auto ports = server_->ports();
  return ports.empty() ? 0 : ports.front();
}

void Screens::update(const Pipeline& pipeline, const std::vector<StopEvent>& events) {
  const routes::Trip* trip = pipeline.trip();
  if (trip && trip->id != trip_id_) {
    // A new trip (given, detected or the block's next): the whole state changes.
    trip_id_ = trip->id;
    hmi::State state;
    state.utc_offset_min = utc_offset_min_;
    state.trip = hmi::trip_view(*trip);
    auto next = hmi::next_stop_update(*trip, std::size_t{1});
    state.next_stop = next.next_stop;
    state.coming = next.coming;
    state.statuses = server_->state().statuses;  // GPS, audio, ramp: still as they were
    std::erase_if(state.statuses, [](const hmi::Status& s) { return s.name == "trip"; });
    state.statuses.push_back({"trip", hmi::Level::ok, trip->id});
    state.prompts = server_->state().prompts;
    state.requests = server_->state().requests;
    state.volume = server_->state().volume;
    state.trip_options = server_->state().trip_options;
    state.detected_trip = server_->state().detected_trip;
    // Messages are the bus's, not the trip's: an emergency stays up, the presets stay offered.
    state.messages = server_->state().messages;
    state.message_options = server_->state().message_options;
    server_->publish_state(std::move(state));
  }
  if (!events.empty()) {
    const int offset = clock_.utc_offset_min(events.back().time);
    if (offset != utc_offset_min_) {
      // Daylight saving began or ended: the pages' clocks follow.
      utc_offset_min_ = offset;
      hmi::State state = server_->state();
      state.utc_offset_min = offset;
      server_->publish_state(std::move(state));
    }
  }
  if (!trip) return;
  for (const auto& e : events) {
    if (e.trip_id != trip_id_) continue;  // an event of the trip just ended
    switch (e.type) {
      case StopEvent::Type::next_stop:
        // (A stop said with the one before it is the one after it on the display's list.)
        if (e.stop_index && !e.with_previous) {
          server_->publish(hmi::next_stop_update(*trip, static_cast<std::size_t>(*e.stop_index)));
        }
        break;
      case StopEvent::Type::trip_ended:
        server_->publish(hmi::next_stop_update(*trip, std::nullopt));
        break;
      case StopEvent::Type::gps_lost:
      case StopEvent::Type::position_uncertain:
        server_->publish(hmi::Status{"gps", hmi::Level::warning, "no usable fix"});
        break;
      case StopEvent::Type::gps_restored:
        server_->publish(hmi::Status{"gps", hmi::Level::ok, "fix"});
        break;
      case StopEvent::Type::off_route:
        server_->publish(hmi::Status{"trip", hmi::Level::warning, trip_id_ + ": off route"});
        break;
      case StopEvent::Type::on_route:
        server_->publish(hmi::Status{"trip", hmi::Level::ok, trip_id_});
        break;
      case StopEvent::Type::route_data_not_valid:
        server_->publish(hmi::Status{"bundle", hmi::Level::warning, e.note});
        break;
      default:
        break;
    }
  }
}

void Screens::subtitle(const media::Cue& cue, const std::string& message) {
  if (cue.kind != media::SegmentKind::speech && !cue.withdrawn()) return;
  if (cue.output != media::Output::interior) return;  // the displays are inside
  using namespace std::chrono;
  // The cue's sound was rendered at `rendered_at` (steady clock); the pages use wall time.
  auto rendered = system_clock::now() - (steady_clock::now() - cue.rendered_at);
  auto start_ms = duration_cast<milliseconds>(rendered.time_since_epoch()).count();
  hmi::Subtitle s;
  s.cue = cue.announcement_id + "/" + std::to_string(cue.segment);
  s.text = cue.text;
  s.lang = cue.lang;
  s.start = start_ms;
  s.end = start_ms + duration_cast<milliseconds>(cue.end - cue.start).count();
  s.withdrawn = cue.withdrawn() || cue.event == media::Cue::Event::cut;
  s.message = message;
  server_->publish(s);
}

}  // namespace stopcall::daemon

namespace stopcall::daemon {

void Screens::prompt(const hmi::Prompt& prompt) {
  server_->publish(prompt);
}
void Screens::status(const hmi::Status& status) {
  server_->publish(status);
}
void Screens::requests(std::vector<hmi::BoardingRequest> list) {
  if (list == server_->state().requests) return;
  server_->publish(hmi::RequestsUpdate{std::move(list)});
}
void Screens::volume(const hmi::Volume& volume) {
  server_->publish(volume);
}
void Screens::trip_options(std::vector<hmi::TripOption> options) {
  if (options == server_->state().trip_options) return;
  hmi::State state = server_->state();
  state.trip_options = std::move(options);
  server_->publish_state(std::move(state));
}
void Screens::detected_trip(std::optional<hmi::DetectedTrip> detected) {
  if (detected == server_->state().detected_trip) return;
  hmi::State state = server_->state();
  state.detected_trip = std::move(detected);
  server_->publish_state(std::move(state));
}
void Screens::message(const hmi::MessagePanel& panel) {
  server_->publish(panel);
}
void Screens::message_options(std::vector<hmi::MessageOption> options) {
  if (options == server_->state().message_options) return;
  hmi::State state = server_->state();
  state.message_options = std::move(options);
  server_->publish_state(std::move(state));
}
void Screens::on_driver_action(std::function<hmi::Reply(const hmi::DriverAction&)> handler) {
  server_->on_driver_action(std::move(handler));
}

}  // namespace stopcall::daemon
