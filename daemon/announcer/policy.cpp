#include "daemon/announcer/policy.hpp"

#include <algorithm>
#include <utility>

namespace stopcall::daemon {

using tracking::StopEvent;
using Type = StopEvent::Type;

namespace {

// Bounds the announcements watched when the voice never reports (none configured, or a result
// lost): every stop announcement goes stale as the bus moves on, but a trip may end first.
constexpr std::size_t kMaxWatched = 256;

}  // namespace

std::vector<policy::Effect> AnnouncementPolicy::on_event(const StopEvent& e) {
  if (e.type == Type::trip_started || e.type == Type::trip_detected ||
      e.type == Type::trip_resumed) {
    reached_ = 0;
    left_ = 0;
    held_.clear();
  }
  if ((e.type == Type::arrived || e.type == Type::passed) && e.stop_index) {
    reached_ = *e.stop_index + 1;
    left_ = std::max(left_, *e.stop_index);  // every stop before it, left
  }
  if ((e.type == Type::departed || e.type == Type::passed) && e.stop_index) {
    left_ = *e.stop_index + 1;
  }
  if (e.type == Type::departed || e.type == Type::passed) ++departures_;

  std::vector<policy::Effect> effects;
  for (auto it = live_.begin(); it != live_.end();) {
    if (still_true(it->second)) {
      ++it;
      continue;
    }
    effects.emplace_back(policy::Expire{it->first});
    it = live_.erase(it);
  }
  return effects;
}

bool AnnouncementPolicy::still_true(const Staleness& s) const {
  switch (s.when) {
    case Staleness::When::never:
      return true;
    case Staleness::When::stop_reached:
      return reached_ <= s.stop_index;
    case Staleness::When::stop_left:
      return left_ <= s.stop_index;
    case Staleness::When::bus_departed:
      return departures_ == s.departures;
  }
  return true;
}

std::vector<policy::Effect> AnnouncementPolicy::stop_announcements(const StopEvent& e,
                                                                   Fitted fitted, Holds holds) {
  std::vector<policy::Effect> effects;
  const std::string time = tracking::format_time(e.time);
  if (fitted.form == Form::skipped && e.stop_index) {
    // Not a silence by failure: the depot sees why this "next stop" was not said.
    effects.emplace_back(
        log::Held{time, e.trip_id + ":" + std::to_string(*e.stop_index) + ":next_stop",
                  "skipped: the stretch is too short; \"arriving at\" says the name"});
  }
  for (auto& a : fitted.announcements) {
    if (a.outputs == media::Outputs::only(media::Output::exterior)) {
      // With door signals the doors say when to tell people outside (the workflows do it).
      if (door_signals_ || doors_seen_) continue;
      if (holds.emergency) {
        effects.emplace_back(log::Held{time, a.id, "an emergency message is on"});
        continue;
      }
      say(effects, "exterior_route", std::move(a), {Staleness::When::bus_departed, 0, departures_});
      continue;
    }
    if (holds.emergency) {
      // Not spoken over an emergency; the next stop is said again when it ends.
      effects.emplace_back(log::Held{time, a.id, "an emergency message is on"});
      continue;
    }
    Staleness staleness;
    if (e.stop_index) {
      // "Next stop X" is untrue once the bus has reached X; "arriving at X" is still true while
      // the bus stands at X, and untrue once it has left X (departed or passed).
      staleness.when =
          e.type == Type::approaching ? Staleness::When::stop_left : Staleness::When::stop_reached;
      staleness.stop_index = *e.stop_index;
    }
    last_stop_ = Pending{a, staleness};
    if (e.type == Type::next_stop && holds.ramp_deployed) {
      // Never "next stop" with the ramp out: it waits until the ramp is stowed.
      effects.emplace_back(log::Held{time, a.id, "the ramp is deployed"});
      held_.push_back({std::move(a), staleness});
      continue;
    }
    say(effects, std::string(tracking::type_name(e.type)), std::move(a), staleness,
        std::string(form_name(fitted.form)));
  }
  return effects;
}

std::vector<policy::Effect> AnnouncementPolicy::next_stop_again(
    std::vector<media::Announcement> announcements, int stop_index, tracking::Time now,
    Holds holds) {
  std::vector<policy::Effect> effects;
  const Staleness staleness{Staleness::When::stop_reached, stop_index, 0};
  for (auto& a : announcements) {
    a.id += ":after_emergency";
    last_stop_ = Pending{a, staleness};
    if (holds.ramp_deployed) {
      // As for any "next stop": never with the ramp out; said when it is stowed.
      effects.emplace_back(log::Held{tracking::format_time(now), a.id, "the ramp is deployed"});
      held_.push_back({std::move(a), staleness});
      continue;
    }
    say(effects, "next_stop", std::move(a), staleness);
  }
  return effects;
}

std::vector<policy::Effect> AnnouncementPolicy::other(std::string_view kind,
                                                      media::Announcement a) {
  Staleness staleness;
  if (kind == "exterior_route" || kind == "boarding_request") {
    // "Route 101 to Grand Theater" is for the people at this stop: never said at the next one.
    staleness = {Staleness::When::bus_departed, 0, departures_};
  }
  std::vector<policy::Effect> effects;
  say(effects, std::string(kind), std::move(a), staleness);
  return effects;
}

std::vector<policy::Effect> AnnouncementPolicy::ramp_stowed(tracking::Time now) {
  std::vector<policy::Effect> effects;
  auto held = std::move(held_);
  held_.clear();
  for (auto& [a, staleness] : held) {
    if (!still_true(staleness)) {
      effects.emplace_back(log::Held{tracking::format_time(now), a.id,
                                     "dropped: the bus reached the stop meanwhile"});
      continue;
    }
    say(effects, "next_stop", std::move(a), staleness);
  }
  return effects;
}

std::vector<policy::Effect> AnnouncementPolicy::repeat_last(std::string_view id_suffix) {
  std::vector<policy::Effect> effects;
  if (!last_stop_) return effects;
  media::Announcement again = last_stop_->announcement;
  again.id += id_suffix;
  say(effects, "repeat", std::move(again), last_stop_->staleness);
  return effects;
}

void AnnouncementPolicy::say(std::vector<policy::Effect>& effects, std::string kind,
                             media::Announcement a, Staleness staleness,
                             std::optional<std::string> form) {
  const std::string id = a.id;
  effects.emplace_back(policy::Say{std::move(kind), std::move(a), std::move(form)});
  if (staleness.when == Staleness::When::never) return;
  if (!still_true(staleness)) {
    // Already untrue (a repeat of a stop the bus has reached): the voice drops it unheard.
    effects.emplace_back(policy::Expire{id});
    return;
  }
  if (live_.size() >= kMaxWatched) live_.clear();
  live_[id] = staleness;
}

}  // namespace stopcall::daemon
