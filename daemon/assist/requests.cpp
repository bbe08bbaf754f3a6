// The boarding requests of the accessibility workflows: taken in (the control socket, the
// fleet), placed at the halt that serves their stop, shown to the driver as the bus nears it,
// settled (served, missed, expired, dismissed) and logged; and the workflows' state as the
// control socket's `state` reply gives it. The rest of Assist is in assist.cpp.
#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "daemon/assist/assist.hpp"

namespace stopcall::daemon {

namespace {

using json = nlohmann::ordered_json;
using vehicle::Reply;

std::string_view fate_name(int fate) {
  static constexpr std::string_view names[] = {"pending", "shown",     "served",
                                               "expired", "dismissed", "missed"};
  return names[fate];
}

}  // namespace

log::Request Assist::request_line(const Request& r, std::string_view fate, Time now) const {
  log::Request line{
      tracking::format_time(now), r.id, r.kind, r.stop_id, std::string(fate), {}, {}, {}, {}, {}};
  if (!r.source.empty()) line.source = r.source;
  return line;
}

void Assist::record_request(const Request& r, std::string_view fate, Time now,
                            std::string_view why) {
  log::Request line = request_line(r, fate, now);
  if (!why.empty()) line.why = std::string(why);
  port_.record(line);
}

Reply Assist::on_request(const vehicle::BoardingRequestIn& in, Time now,
                         const std::function<bool(const std::string&)>& stop_known) {
  now_ = std::max(now_, now);
  if (!stop_known(in.stop_id)) {
    return Reply::failure("unknown_stop",
                          "no stop \"" + in.stop_id + "\" in the route data on this bus");
  }
  if (in.expires && *in.expires <= now) {
    return Reply::failure("expired",
                          "the request expired at " + tracking::format_time(*in.expires));
  }
  int open_here = 0, open_total = 0;
  for (const auto& existing : requests_) {
    if (!existing.open() || existing.kind == "wheelchair_alighting") continue;
    ++open_total;
    if (existing.stop_id == in.stop_id) ++open_here;
  }
  if (open_here >= config_.max_requests_per_stop) {
    return Reply::failure("too_many", "already " + std::to_string(open_here) +
                                          " open requests for " + in.stop_id +
                                          "; the driver is told about those");
  }
  if (open_total >= config_.max_requests) {
    return Reply::failure("too_many", "already " + std::to_string(open_total) +
                                          " open boarding requests on this bus");
  }
  if (!in.id.empty()) {
    for (const auto& existing : requests_) {
      if (existing.id == in.id) return Reply::failure("duplicate", "request " + in.id + " exists");
    }
  }
  Request r;
  r.id = in.id.empty() ? "req-" + std::to_string(next_request_++) : in.id;
  r.kind = std::string(vehicle::to_string(in.kind));
  r.stop_id = in.stop_id;
  r.route_id = in.route_id;
  r.since = now;
  r.expires = in.expires ? *in.expires : now + config_.request_lifetime;
  r.source = in.source;
  requests_.push_back(r);
  log::Request line = request_line(r, "pending", now);
  line.route_id = r.route_id;
  line.expires = tracking::format_time(*r.expires);
  port_.record(line);
  place_requests();
  publish_requests();
  const Request& placed = requests_.back();
  if (!position_.trip) return Reply::success("request " + r.id + " kept; no trip yet");
  if (position_.trip->route.id != r.route_id) {
    return Reply::success("request " + r.id + " kept; this bus runs route " +
                          position_.trip->route.id + ", not " + r.route_id);
  }
  if (!placed.stop_index) {
    return Reply::success("request " + r.id + " kept; " + r.stop_id + " is not ahead on this trip");
  }
  return Reply::success("request " + r.id + " for " + stop_name(*placed.stop_index, "en") +
                        (placed.fate == Fate::shown ? ": on the driver console" : ": kept"));
}

Reply Assist::dismiss(const std::string& id, Time now) {
  for (auto& r : requests_) {
    if (r.id == id && r.open()) {
      settle(r, Fate::dismissed, now, "the driver dismissed it");
      publish_requests();
      return Reply::success("dismissed");
    }
  }
  return Reply::failure("unknown_request", "no open request " + id);
}

void Assist::settle(Request& r, Fate fate, Time now, std::string_view why) {
  r.fate = fate;
  record_request(r, fate_name(static_cast<int>(fate)), now, why);
  if (r.kind == "wheelchair_alighting") {
    take_down("passenger", "wheelchair_request", r.stop_id, "ramp-request",
              hmi::PromptKind::ramp_requested);
    take_down("driver", "wheelchair_request", r.stop_id, r.id, hmi::PromptKind::notice);
  }
}

void Assist::place_requests() {
  const routes::Trip* trip = position_.trip;
  const int from = position_.next_stop.value_or(0);
  for (auto& r : requests_) {
    if (!r.open()) continue;
    if (r.kind == "wheelchair_alighting") continue;  // placed when pressed, carried forward
    // Placed once per trip, on the first pass ahead of the bus: standing at the stop (the tracker
    // then names the following one as next) must not lose it.
    if (trip && !r.stop_index && trip->route.id == r.route_id) {
      for (int i = from; i < static_cast<int>(trip->stops.size()); ++i) {
        const auto& stop = trip->stops[static_cast<std::size_t>(i)].stop;
        if (stop.id == r.stop_id || stop.parent_station == r.stop_id) {
          // A berth sharing the halt of the stop before it is served at that halt: the bus
          // halts, announces and opens its doors there once for both.
          r.stop_index = halt_stop(i);
          break;
        }
      }
    }
    if (r.stop_index && r.fate == Fate::pending && position_.next_stop &&
        *r.stop_index - *position_.next_stop < config_.show_within_stops) {
      r.fate = Fate::shown;
      log::Request line = request_line(r, "shown", now_);
      line.stops_to_go = *r.stop_index - *position_.next_stop;
      port_.record(line);
      hmi::Prompt driver;
      driver.id = r.id;
      driver.kind = hmi::PromptKind::notice;
      driver.text["en"] = (r.kind == "blind" ? "Blind rider waiting at " : "Wheelchair user at ") +
                          stop_name(*r.stop_index, "en");
      port_.prompt("driver", "boarding_request", r.stop_id, driver);
    }
  }
}

void Assist::publish_requests() {
  std::vector<hmi::BoardingRequest> list;
  for (const auto& r : requests_) {
    if (r.fate != Fate::shown || !r.stop_index || !position_.trip) continue;
    hmi::BoardingRequest b;
    b.id = r.id;
    b.stop_id = r.stop_id;
    b.stop_names = stop_names(*r.stop_index);
    b.kind = r.kind;
    b.since =
        std::chrono::duration_cast<std::chrono::milliseconds>(r.since.time_since_epoch()).count();
    if (position_.next_stop) {
      b.stops_to_go = std::max(0, *r.stop_index - *position_.next_stop);
      b.distance_m =
          std::max(0.0, position_.trip->stops[static_cast<std::size_t>(*r.stop_index)].distance_m -
                            position_.progress_m);
    }
    list.push_back(std::move(b));
  }
  port_.requests(std::move(list));
}

void Assist::prune() {
  // Settled requests have been logged; keep the list short.
  std::erase_if(requests_, [](const Request& r) { return !r.open(); });
}

std::string Assist::state_json(Time now) const {
  json doors = json::object();
  for (const auto& [door, open] : doors_)
    doors[std::to_string(door)] = open ? "open" : "closed";
  json requests = json::array();
  for (const auto& r : requests_) {
    json j{{"id", r.id},
           {"kind", r.kind},
           {"stop_id", r.stop_id},
           {"route_id", r.route_id},
           {"fate", fate_name(static_cast<int>(r.fate))}};
    if (r.stop_index) j["stop_index"] = *r.stop_index;
    requests.push_back(std::move(j));
  }
  json j{{"time", tracking::format_time(now)},
         {"doors", doors},
         {"ramp", ramp_deployed_ ? "deployed" : "stowed"},
         {"kneeling", kneeling_},
         {"speed_kmh", std::round(speed_kmh(now) * 10) / 10},
         {"moving_alarm", moving_alarm_},
         {"stop_requested", stop_requested_},
         {"trip", trip_id_},
         {"requests", requests}};
  if (position_.next_stop) j["next_stop_index"] = *position_.next_stop;
  if (auto stop = current_stop()) j["at_stop_index"] = *stop;
  return j.dump();
}

}  // namespace stopcall::daemon
