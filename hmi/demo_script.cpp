#include "hmi/demo_script.hpp"

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <map>
#include <optional>
#include <sstream>
#include <vector>

#include "hmi/demo_messages.hpp"
#include "hmi/trip_view.hpp"
#include "routes/model.hpp"

namespace stopcall::hmi::demo {
namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;

// routes/demo/README.md, "The route": the stations of direction 0 (eastbound).
struct Station {
  const char* id;
  const char* zh;
  const char* yue;
  const char* en;
};
constexpr Station kStations[] = {
    {"SJZC", "世界之窗", "世界之窗", "Window of the World"},
    {"HQC", "华侨城", "華僑城", "OCT"},
    {"QCD", "侨城东", "僑城東", "Qiaocheng East"},
    {"ZZL", "竹子林", "竹子林", "Zhuzilin"},
    {"CGM", "车公庙", "車公廟", "Chegongmiao"},
    {"XMH", "香蜜湖", "香蜜湖", "Xiangmihu"},
    {"NYL", "农园路", "農園路", "Nongyuan Road"},
    {"SMZX", "市民中心", "市民中心", "Civic Center"},
    {"HZZX", "会展中心", "會展中心", "Convention & Exhibition Center"},
    {"GX", "岗厦", "崗廈", "Gangxia"},
    {"SHBG", "上海宾馆", "上海賓館", "Shanghai Hotel"},
    {"HQLK", "华强路口", "華強路口", "Huaqiang Road"},
    {"KXG", "科学馆", "科學館", "Science Museum"},
    {"DJY", "大剧院", "大劇院", "Grand Theater"},
};

// routes/demo/shenzhen-101-extra/stop_phrases.csv
Names transfer_phrase(std::string_view station) {
  if (station == "CGM") {
    return {{"zh-Hans", "可换乘地铁1号线、7号线、9号线、11号线"},
            {"yue", "可轉乘地鐵1號線、7號線、9號線、11號線"},
            {"en", "Transfer to Metro Lines 1, 7, 9 and 11"}};
  }
  if (station == "SMZX") {
    return {{"zh-Hans", "可换乘地铁2号线、4号线"},
            {"yue", "可轉乘地鐵2號線、4號線"},
            {"en", "Transfer to Metro Lines 2 and 4"}};
  }
  if (station == "HZZX") {
    return {{"zh-Hans", "可换乘地铁1号线、4号线"},
            {"yue", "可轉乘地鐵1號線、4號線"},
            {"en", "Transfer to Metro Lines 1 and 4"}};
  }
  return {};
}

routes::Trip make_trip(const std::string& trip_id) {
  const bool east = trip_id.find("-W-") == std::string::npos;
  routes::Trip trip;
  trip.id = trip_id;
  trip.route.id = "101";
  trip.route.agency_id = "SZBUS";
  trip.route.short_names = {{"zh-Hans", "101"}};
  trip.route.long_names = {{"zh-Hans", "世界之窗—大剧院"},
                           {"yue", "世界之窗—大劇院"},
                           {"en", "Window of the World – Grand Theater"}};
  trip.route.color = "0057A8";
  trip.route.text_color = "FFFFFF";
  trip.service_id = "WEEKDAY";
  trip.direction_id = east ? 0 : 1;
  trip.block_id = "101-WD-01";
  trip.headsigns =
      east ? Names{{"zh-Hans", "大剧院"}, {"yue", "大劇院"}, {"en", "Grand Theater"}}
           : Names{{"zh-Hans", "世界之窗"}, {"yue", "世界之窗"}, {"en", "Window of the World"}};
  const int count = static_cast<int>(std::size(kStations));
  for (int i = 0; i < count; ++i) {
    const Station& station = kStations[east ? i : count - 1 - i];
    routes::TripStop stop;
    stop.stop_sequence = i + 1;
    stop.stop.id = std::string(station.id) + (east ? "-E" : "-W");
    stop.stop.names = {{"zh-Hans", station.zh}, {"yue", station.yue}, {"en", station.en}};
    stop.stop.extra_phrases = transfer_phrase(station.id);
    stop.stop.wheelchair = routes::Wheelchair::accessible;
    if (stop.stop.id == "SHBG-W") stop.stop.wheelchair = routes::Wheelchair::not_accessible;
    if (stop.stop.id == "NYL-E") stop.stop.wheelchair = routes::Wheelchair::unknown;
    stop.distance_m = 930.0 * i;
    trip.stops.push_back(std::move(stop));
  }
  return trip;
}

std::vector<TripOption> trip_options() {
  struct Row {
    const char* id;
    const char* block;
    const char* departure;
  };
  constexpr Row kRows[] = {
      {"101-WD-E-0630", "101-WD-01", "06:30"}, {"101-WD-E-0640", "101-WD-02", "06:40"},
      {"101-WD-W-0720", "101-WD-01", "07:20"}, {"101-WD-W-0730", "101-WD-02", "07:30"},
      {"101-WD-E-0810", "101-WD-01", "08:10"}, {"101-WD-W-0900", "101-WD-01", "09:00"},
  };
  std::vector<TripOption> out;
  for (const Row& row : kRows) {
    routes::Trip trip = make_trip(row.id);
    TripOption option;
    option.trip_id = row.id;
    option.route = "101";
    option.headsign = trip.headsigns;
    option.direction = trip.direction_id;
    option.block = row.block;
    option.departure = row.departure;
    out.push_back(std::move(option));
  }
  return out;
}

Prompt make_prompt(PromptKind kind, bool active) {
  Prompt prompt;
  prompt.kind = kind;
  prompt.active = active;
  switch (kind) {
    case PromptKind::stop_requested:
      prompt.id = "stop";
      prompt.text = {
          {"zh-Hans", "下车请求已收到"}, {"yue", "已收到落車要求"}, {"en", "Stop requested"}};
      break;
    case PromptKind::ramp_requested:
      prompt.id = "ramp-request";
      prompt.text = {{"zh-Hans", "已请求轮椅坡板，司机已知悉"},
                     {"yue", "已要求輪椅斜板，車長已知悉"},
                     {"en", "Ramp requested — the driver knows"}};
      break;
    case PromptKind::ramp_deploying:
      prompt.id = "ramp";
      prompt.text = {{"zh-Hans", "轮椅坡板正在放下，请勿靠近"},
                     {"yue", "輪椅斜板正在放下，請勿靠近"},
                     {"en", "Ramp deploying — please stand clear"}};
      break;
    case PromptKind::doors_opening:
      prompt.id = "doors";
      prompt.text = {
          {"zh-Hans", "开门，请注意安全"}, {"yue", "開門，請小心"}, {"en", "Doors opening"}};
      break;
    case PromptKind::doors_closing:
      prompt.id = "doors";
      prompt.text = {{"zh-Hans", "车门即将关闭"}, {"yue", "車門即將關閉"}, {"en", "Doors closing"}};
      break;
    case PromptKind::notice:
      prompt.id = "notice";
      break;
  }
  return prompt;
}

std::optional<PromptKind> prompt_kind(std::string_view name) {
  if (name == "stop_requested") return PromptKind::stop_requested;
  if (name == "ramp_requested") return PromptKind::ramp_requested;
  if (name == "ramp_deploying") return PromptKind::ramp_deploying;
  if (name == "doors_opening") return PromptKind::doors_opening;
  if (name == "doors_closing") return PromptKind::doors_closing;
  return std::nullopt;
}

std::optional<Level> level_of(std::string_view name) {
  if (name == "ok") return Level::ok;
  if (name == "warning") return Level::warning;
  if (name == "error") return Level::error;
  if (name == "unknown") return Level::unknown;
  return std::nullopt;
}

EpochMs now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// How long a segment takes to say, roughly like the TTS voices do.
std::chrono::milliseconds speaking_time(const std::string& text, const std::string& lang) {
  std::size_t characters = 0;  // code points
  for (unsigned char c : text)
    characters += (c & 0xC0) != 0x80;
  const auto per_character = lang == "en" ? 65ms : 260ms;
  return 400ms + per_character * static_cast<long>(characters);
}

struct Segment {
  std::string lang;
  std::string text;
  std::string message;  // the MessagePanel being said, if any
};

}  // namespace

struct Ride::Impl {
  Impl(asio::io_context& io_, HmiServer& server_, std::function<void(std::string)> say_)
      : io(io_),
        server(server_),
        say(std::move(say_)),
        speech_timer(io_),
        ramp_timer(io_),
        advance_timer(io_),
        flood_timer(io_),
        messages(
            io_, server_,
            [this](const std::string& id, std::vector<Messages::Sentence> sentences) {
              std::vector<Segment> segments;
              for (auto& sentence : sentences)
                segments.push_back({sentence.lang, std::move(sentence.text), id});
              speak(std::move(segments), /*remember=*/false);
            },
            [this](const std::string& id) {
              if (shown && shown->message == id) silence();
            },
            [this](const std::string& id, const Messages::Sentence& sentence, long ms) {
              silence();
              show_subtitle(sentence.lang, sentence.text, std::chrono::milliseconds(ms), id);
            }) {}

  asio::io_context& io;
  HmiServer& server;
  std::function<void(std::string)> say;
  asio::steady_timer speech_timer;
  asio::steady_timer ramp_timer;
  asio::steady_timer advance_timer;
  asio::steady_timer flood_timer;
  Messages messages;

  std::optional<routes::Trip> trip;
  std::size_t next_index = 1;
  std::vector<Segment> last_announcement;
  std::vector<Segment> speaking;  // the announcement being played
  std::size_t speaking_at = 0;    // its next segment
  std::optional<Subtitle> shown;  // the subtitle on the screens now
  int cue_counter = 0;
  int request_counter = 0;
  int advance_seconds = 0;

  State base_state() const {
    State state;
    state.utc_offset_min = 480;  // Asia/Shanghai, the demo agency's zone
    state.volume = server.state().volume;
    state.statuses = {
        {"gps", Level::ok, "3D fix · 9 satellites · ±4 m"},
        {"audio.interior", Level::ok, "interior speakers playing"},
        {"audio.exterior", Level::ok, "door speaker playing"},
        {"bundle", Level::ok, "shenzhen-101 · signed SZBUS depot · valid to 2027-12-31"},
        {"trip", trip ? Level::ok : Level::warning,
         trip ? trip->id + " · on route" : "not logged in"},
    };
    state.trip_options = trip_options();
    state.requests = server.state().requests;
    state.messages = server.state().messages;
    state.message_options = Messages::options();
    if (trip) {
      state.trip = trip_view(*trip);
      auto update = next_stop_update(*trip, next_index, 6);
      state.next_stop = update.next_stop;
      state.coming = update.coming;
    }
    return state;
  }

  void login(const std::string& trip_id) {
    trip = make_trip(trip_id);
    next_index = 1;
    State state = base_state();
    state.detected_trip.reset();
    server.publish_state(std::move(state));
    announce_next();
  }

  void logout() {
    silence();
    trip.reset();
    server.publish_state(base_state());
  }

  void advance() {
    if (!trip) return;
    next_index = next_index + 1 < trip->stops.size() ? next_index + 1 : 1;
    server.publish(next_stop_update(*trip, next_index, 6));
    announce_next();
  }

  void announce_next() {
    if (!trip) return;
    const routes::Stop& stop = trip->stops[next_index].stop;
    std::vector<Segment> segments;
    const std::map<std::string, std::string> lead = {
        {"zh-Hans", "下一站："}, {"yue", "下一站："}, {"en", "Next stop: "}};
    for (const std::string lang : {"zh-Hans", "yue", "en"}) {
      segments.push_back({lang, lead.at(lang) + stop.names.at(lang), {}});
      if (auto it = stop.extra_phrases.find(lang); it != stop.extra_phrases.end()) {
        segments.push_back({lang, it->second, {}});
      }
    }
    speak(std::move(segments));
  }

  // Plays an announcement: one subtitle per segment, each published as it "starts playing", as
  // media's cues will be. A new announcement cuts the one playing.
  void speak(std::vector<Segment> segments, bool remember = true) {
    silence();
    if (remember) last_announcement = segments;
    speaking = std::move(segments);
    speaking_at = 0;
    play_next_segment();
  }

  void play_next_segment() {
    if (speaking_at >= speaking.size()) {
      shown.reset();
      return;
    }
    const Segment& segment = speaking[speaking_at++];
    const auto duration = speaking_time(segment.text, segment.lang);
    show_subtitle(segment.lang, segment.text, duration, segment.message);
    speech_timer.expires_after(duration + 250ms);  // the pause between segments
    speech_timer.async_wait([this](boost::system::error_code ec) {
      if (!ec) play_next_segment();
    });
  }

  void show_subtitle(const std::string& lang, const std::string& text,
                     std::chrono::milliseconds duration, const std::string& message = {}) {
    Subtitle subtitle;
    subtitle.message = message;
    subtitle.cue = "demo/" + std::to_string(++cue_counter);
    subtitle.lang = lang;
    subtitle.text = text;
    subtitle.start = now_ms();
    subtitle.end = subtitle.start + duration.count();
    shown = subtitle;
    server.publish(subtitle);
  }

  // Stops the announcement playing and takes its subtitle down.
  void silence() {
    speech_timer.cancel();
    speaking.clear();
    if (shown && shown->end > now_ms()) {
      Subtitle withdrawn = *shown;
      withdrawn.withdrawn = true;
      server.publish(withdrawn);
    }
    shown.reset();
  }

  void schedule_advance() {
    if (advance_seconds <= 0) return;
    advance_timer.expires_after(std::chrono::seconds(advance_seconds));
    advance_timer.async_wait([this](boost::system::error_code ec) {
      if (ec) return;
      advance();
      schedule_advance();
    });
  }

  void flood(int remaining, int index, std::size_t bytes, int interval_ms) {
    while (remaining > 0) {
      Status status;
      status.name = "flood";
      status.level = Level::ok;
      status.text = "flood " + std::to_string(index) + " ";
      if (status.text.size() < bytes) status.text.append(bytes - status.text.size(), 'x');
      server.publish(status);
      --remaining;
      ++index;
      if (interval_ms > 0) break;
    }
    if (remaining == 0) {
      say("flood done " + std::to_string(index));
      return;
    }
    flood_timer.expires_after(std::chrono::milliseconds(interval_ms));
    flood_timer.async_wait(
        [this, remaining, index, bytes, interval_ms](boost::system::error_code ec) {
          if (!ec) flood(remaining, index, bytes, interval_ms);
        });
  }

  Reply ramp_assist() {
    server.publish(make_prompt(PromptKind::ramp_deploying, true));
    // Taking a request-for-the-ramp prompt down: the driver is on it now.
    server.publish(make_prompt(PromptKind::ramp_requested, false));
    ramp_timer.expires_after(15s);
    ramp_timer.async_wait([this](boost::system::error_code ec) {
      if (!ec) server.publish(make_prompt(PromptKind::ramp_deploying, false));
    });
    return Reply::success("ramp deploying");
  }
};

Ride::Ride(asio::io_context& io, HmiServer& server, std::function<void(std::string)> say)
    : impl_(std::make_unique<Impl>(io, server, std::move(say))) {}

Ride::~Ride() = default;

void Ride::begin(bool logged_in) {
  if (logged_in) {
    impl_->trip = make_trip("101-WD-E-0630");
    impl_->next_index = 1;
  }
  impl_->server.publish_state(impl_->base_state());
}

void Ride::auto_advance(int seconds) {
  impl_->advance_seconds = seconds;
  impl_->advance_timer.cancel();
  impl_->schedule_advance();
}

void Ride::stop() {
  impl_->speech_timer.cancel();
  impl_->ramp_timer.cancel();
  impl_->advance_timer.cancel();
  impl_->flood_timer.cancel();
  impl_->messages.stop();
}

Reply Ride::on_action(const DriverAction& action) {
  auto& ride = *impl_;
  struct Visitor {
    Impl& ride;
    Reply operator()(const LoginTrip& login) {
      const auto options = trip_options();
      const bool known = std::any_of(options.begin(), options.end(), [&](const TripOption& o) {
        return o.trip_id == login.trip_id;
      });
      if (!known) return Reply::failure(Errc::rejected, "no trip " + login.trip_id + " today");
      ride.login(login.trip_id);
      return Reply::success("logged in to " + login.trip_id);
    }
    Reply operator()(const ConfirmDetectedTrip&) {
      const auto& detected = ride.server.state().detected_trip;
      if (!detected) return Reply::failure(Errc::rejected, "no trip has been detected");
      const std::string trip_id = detected->trip_id;
      ride.login(trip_id);
      return Reply::success("logged in to " + trip_id);
    }
    Reply operator()(const RampAssist&) { return ride.ramp_assist(); }
    Reply operator()(const RepeatLast&) {
      if (ride.last_announcement.empty()) {
        return Reply::failure(Errc::rejected, "nothing has been announced yet");
      }
      ride.speak(ride.last_announcement);
      return Reply::success("repeating");
    }
    Reply operator()(const SetVolume& set) {
      Volume volume = ride.server.state().volume;
      (set.output == AudioOutput::interior ? volume.interior : volume.exterior) = set.level;
      ride.server.publish(volume);
      return Reply::success();
    }
    Reply operator()(const DismissRequest& dismiss) {
      auto requests = ride.server.state().requests;
      auto it = std::find_if(requests.begin(), requests.end(),
                             [&](const BoardingRequest& r) { return r.id == dismiss.request_id; });
      if (it == requests.end()) return Reply::failure(Errc::rejected, "no such request");
      requests.erase(it);
      ride.server.publish(RequestsUpdate{std::move(requests)});
      return Reply::success();
    }
    Reply operator()(const SendMessage& send) { return ride.messages.send(send, "console"); }
    Reply operator()(const CancelMessage& cancel) { return ride.messages.cancel(cancel); }
    Reply operator()(const AckMessage& ack) { return ride.messages.acknowledge(ack); }
  };
  Reply reply = std::visit(Visitor{ride}, action.action);
  ride.say("action " + std::string(action_name(action.action)) + " id=" + action.id + " -> " +
           (reply.ok() ? "ok" : reply.message));
  return reply;
}

void Ride::command(std::string_view line) {
  auto& ride = *impl_;
  std::istringstream in{std::string(line)};
  std::string verb;
  in >> verb;
  auto rest = [&in] {
    std::string text;
    std::getline(in >> std::ws, text);
    return text;
  };
  if (verb.empty()) return;
  if (verb == "next") {
    ride.advance();
  } else if (verb == "goto") {
    std::size_t index = 0;
    in >> index;
    if (!ride.trip || !in || index >= ride.trip->stops.size()) {
      ride.say("error goto INDEX (0-based, within the trip)");
      return;
    }
    ride.next_index = index;
    ride.server.publish(next_stop_update(*ride.trip, index, 6));
    ride.announce_next();
  } else if (verb == "announce") {
    ride.announce_next();
  } else if (verb == "subtitle") {
    std::string lang;
    long ms = 0;
    in >> lang >> ms;
    const std::string text = rest();
    if (!in && text.empty()) {
      ride.say("error subtitle LANG MS TEXT");
      return;
    }
    ride.silence();
    ride.show_subtitle(lang, text, std::chrono::milliseconds(ms));
  } else if (verb == "withdraw") {
    ride.silence();
  } else if (verb == "prompt") {
    std::string kind_name, on;
    in >> kind_name >> on;
    auto kind = prompt_kind(kind_name);
    if (!kind || (on != "on" && on != "off")) {
      ride.say("error prompt KIND on|off");
      return;
    }
    ride.server.publish(make_prompt(*kind, on == "on"));
  } else if (verb == "request") {
    if (!ride.trip) {
      ride.say("error no trip");
      return;
    }
    const std::size_t index = std::min(ride.next_index + 1, ride.trip->stops.size() - 1);
    const routes::Stop& stop = ride.trip->stops[index].stop;
    auto requests = ride.server.state().requests;
    requests.push_back({"r" + std::to_string(++ride.request_counter), stop.id, stop.names,
                        "wheelchair", now_ms(), 1, std::nullopt});
    ride.server.publish(RequestsUpdate{std::move(requests)});
  } else if (verb == "status") {
    std::string name, level_name;
    in >> name >> level_name;
    auto level = level_of(level_name);
    if (name.empty() || !level) {
      ride.say("error status NAME ok|warning|error TEXT");
      return;
    }
    ride.server.publish(Status{name, *level, rest()});
  } else if (verb == "detect") {
    std::string trip_id;
    in >> trip_id;
    State state = ride.server.state();
    if (trip_id.empty()) {
      state.detected_trip.reset();
    } else {
      state.detected_trip = DetectedTrip{trip_id, 0.94};
    }
    ride.server.publish_state(std::move(state));
  } else if (verb == "login") {
    std::string trip_id;
    in >> trip_id;
    if (!on_action(DriverAction{"stdin", LoginTrip{trip_id}}).ok()) return;
  } else if (verb == "logout") {
    ride.logout();
  } else if (verb == "flood") {
    int count = 0, interval = 0;
    std::size_t bytes = 0;
    in >> count >> bytes >> interval;
    if (!in || count <= 0) {
      ride.say("error flood COUNT BYTES INTERVAL_MS");
      return;
    }
    ride.flood(count, 0, bytes, interval);
    return;  // says "flood done" when done
  } else if (verb == "message") {
    ride.say(ride.messages.command(in));
    return;
  } else if (verb == "stats") {
    const HmiStats stats = ride.server.stats();
    ride.say("stats clients=" + std::to_string(stats.clients) + " connections=" +
             std::to_string(stats.connections) + " dropped=" + std::to_string(stats.dropped) +
             " broadcasts=" + std::to_string(stats.broadcasts) + " actions=" +
             std::to_string(stats.actions) + " refused=" + std::to_string(stats.refused) +
             " max_queue_bytes=" + std::to_string(stats.max_queue_bytes) +
             " max_queue_messages=" + std::to_string(stats.max_queue_messages));
    return;
  } else {
    ride.say("error unknown command " + verb);
    return;
  }
  ride.say("ok " + verb);
}

}  // namespace stopcall::hmi::demo
