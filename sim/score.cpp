#include "sim/score.hpp"

#include <algorithm>
#include <cstdio>
#include <stdexcept>

namespace stopcall::sim {

namespace {

using tracking::StopEvent;

// The stop an announcement is about: its index when given, else found by stop id (and sequence).
std::optional<int> stop_of(const routes::Trip& trip, const StopEvent& e) {
  const int n = static_cast<int>(trip.stops.size());
  if (e.stop_index) {
    int i = *e.stop_index;
    if (i < 0 || i >= n) return std::nullopt;
    if (e.stop_id && trip.stops[i].stop.id != *e.stop_id) return std::nullopt;
    return i;
  }
  if (!e.stop_id) return std::nullopt;
  for (int i = 0; i < n; ++i) {
    if (trip.stops[i].stop.id == *e.stop_id &&
        (!e.stop_sequence || trip.stops[i].stop_sequence == *e.stop_sequence))
      return i;
  }
  return std::nullopt;
}

// Overlap of [a, b] and [c, d], seconds.
double overlap_s(Time a, Time b, Time c, Time d) {
  return std::max(0.0, seconds_between(std::max(a, c), std::min(b, d)));
}

// Seconds from `from` to `to` less the time standing at red lights meanwhile.
double moving_time(const Truth& truth, Time from, Time to) {
  double t = seconds_between(from, to);
  for (const auto& light : truth.red_lights)
    t -= overlap_s(from, to, light.start, light.end);
  return t;
}

// Each stop's distance along the trip: the bundle's, or placed on the trip's line.
std::vector<double> stop_places(const routes::Trip& trip) {
  std::vector<double> d;
  for (const auto& ts : trip.stops)
    d.push_back(ts.distance_m);
  if (std::any_of(d.begin(), d.end(), [](double x) { return x != 0; })) return d;
  try {
    return tracking::TripLine(trip).stop_distances_m;
  } catch (const std::invalid_argument&) {
    return d;  // nowhere to place them: no stop counts as close
  }
}

// When stop i's announcements are right (score.hpp).
struct Window {
  Time next_from{}, next_until{};
  double approaching_latest_s = 0;
  bool blind = false;
};

Window window(const std::vector<double>& d, const Truth& truth, int i, const ScoringRules& rules) {
  const StopTruth& from = truth.stops[i - 1];
  Window w;
  w.next_from = i == 1 ? truth.start : add_seconds(from.departure, -rules.next_stop_earliest_s);
  w.next_until = add_seconds(from.departure, rules.next_stop_latest_s);
  w.approaching_latest_s = rules.approaching_latest_s;
  for (const auto& o : truth.outages) {
    if (i < 2 || from.departure < o.start || from.departure > o.end) continue;
    // An outage hid the bus leaving the stop before: nothing could see it before the fixes came
    // back; when it hid the arrival here too, nothing could be said in time at all.
    if (truth.stops[i].arrival <= add_seconds(o.end, rules.approaching_latest_s)) w.blind = true;
    w.next_until = std::max(w.next_until, add_seconds(o.end, rules.outage_grace_s));
  }
  if (i >= 2 && d[i] - d[i - 1] < rules.close_stop_m) {
    // Close after the stop before: may be said with it ("next stops: A, then B").
    w.next_from = i == 2 ? truth.start
                         : add_seconds(truth.stops[i - 2].departure, -rules.next_stop_earliest_s);
    w.next_until = truth.stops[i].arrival;
    w.approaching_latest_s = 0;
  }
  return w;
}

std::string signed_seconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%+.1f s", s);
  return buf;
}

}  // namespace

std::string_view timing_name(Timing timing) {
  switch (timing) {
    case Timing::correct:
      return "ok";
    case Timing::missing:
      return "missing";
    case Timing::early:
      return "early";
    case Timing::late:
      return "late";
  }
  return "unknown";
}

std::string StopScore::describe() const {
  if (shares_halt_of >= 0) {
    return "stop " + std::to_string(index) + " (" + stop_id + "): shares the halt of stop " +
           std::to_string(shares_halt_of) + ", announced on its own " + std::to_string(duplicates) +
           " time(s)";
  }
  std::string s = "stop " + std::to_string(index) + " (" + stop_id + "): next_stop " +
                  std::string(timing_name(next_stop));
  if (next_stop_time) s += " (" + signed_seconds(next_stop_after_leaving_s) + " after leaving)";
  s += ", approaching " + std::string(timing_name(approaching));
  if (approaching_time)
    s += " (" + signed_seconds(approaching_before_reaching_s) + " before reaching)";
  if (duplicates) s += ", " + std::to_string(duplicates) + " duplicate(s)";
  if (out_of_order) s += ", " + std::to_string(out_of_order) + " out of order";
  return s;
}

Score& Score::operator+=(const Score& o) {
  scored += o.scored;
  blind += o.blind;
  correct += o.correct;
  next_stop_missing += o.next_stop_missing;
  next_stop_early += o.next_stop_early;
  next_stop_late += o.next_stop_late;
  approaching_missing += o.approaching_missing;
  approaching_early += o.approaching_early;
  approaching_late += o.approaching_late;
  duplicates += o.duplicates;
  out_of_order += o.out_of_order;
  extra += o.extra;
  return *this;
}

Score score(const routes::Trip& trip, const Truth& truth, const std::vector<StopEvent>& events,
            const ScoringRules& rules) {
  const int n = static_cast<int>(trip.stops.size());
  if (static_cast<int>(truth.stops.size()) != n)
    throw std::invalid_argument("the truth has " + std::to_string(truth.stops.size()) +
                                " stops, trip " + trip.id + " has " + std::to_string(n));
  Score result;
  result.stops.resize(n > 0 ? n - 1 : 0);
  const std::vector<double> stop_d = stop_places(trip);
  for (int i = 1; i < n; ++i) {
    StopScore& s = result.stops[i - 1];
    s.index = i;
    s.stop_id = trip.stops[i].stop.id;
    s.shares_halt_of = truth.stops[i].shares_halt_of;
    if (s.shares_halt_of >= 0) s.next_stop = s.approaching = Timing::correct;  // until said
  }
  std::vector<int> next_count(n, 0), approach_count(n, 0);

  // Order: each kind comes stop by stop, a stop's approaching not before its next_stop, and
  // times never go back. (A close stop's next_stop may come before the approaching of the stop
  // before it: "next stops: A, then B".)
  int max_stop[2] = {-1, -1};  // per kind: next_stop, approaching
  std::optional<tracking::Time> last_time;
  for (const auto& e : events) {
    const bool next = e.type == StopEvent::Type::next_stop;
    if (!next && e.type != StopEvent::Type::approaching) continue;
    auto stop = stop_of(trip, e);
    if (!stop || *stop == 0) {
      ++result.extra;
      continue;
    }
    StopScore& s = result.stops[*stop - 1];
    if (s.shares_halt_of >= 0) {
      ++s.duplicates;  // the halt was announced with the stop before
      continue;
    }
    int& max = max_stop[next ? 0 : 1];
    if (*stop < max || (!next && next_count[*stop] == 0) || (last_time && e.time < *last_time))
      ++s.out_of_order;
    max = std::max(max, *stop);
    if (!last_time || e.time > *last_time) last_time = e.time;

    const StopTruth& from = truth.stops[*stop - 1];
    const StopTruth& to = truth.stops[*stop];
    const Window w = window(stop_d, truth, *stop, rules);
    if (next) {
      if (++next_count[*stop] > 1) {
        ++s.duplicates;
        continue;
      }
      s.next_stop_time = e.time;
      s.next_stop_after_leaving_s = seconds_between(from.departure, e.time);
      if (e.time < w.next_from)
        s.next_stop = Timing::early;
      else if (e.time > w.next_until || e.time >= to.arrival)
        s.next_stop = Timing::late;
      else
        s.next_stop = Timing::correct;
    } else {
      if (++approach_count[*stop] > 1) {
        ++s.duplicates;
        continue;
      }
      s.approaching_time = e.time;
      s.approaching_before_reaching_s = seconds_between(e.time, to.arrival);
      if (moving_time(truth, e.time, to.arrival) > rules.approaching_earliest_s)
        s.approaching = Timing::early;
      else if (s.approaching_before_reaching_s < w.approaching_latest_s)
        s.approaching = Timing::late;
      else
        s.approaching = Timing::correct;
    }
  }
  for (int i = 1; i < n; ++i)
    result.stops[i - 1].blind = window(stop_d, truth, i, rules).blind;

  for (auto& s : result.stops) {
    if (s.blind) {
      ++result.blind;
      continue;
    }
    ++result.scored;
    result.correct += s.correct();
    result.next_stop_missing += s.next_stop == Timing::missing;
    result.next_stop_early += s.next_stop == Timing::early;
    result.next_stop_late += s.next_stop == Timing::late;
    result.approaching_missing += s.approaching == Timing::missing;
    result.approaching_early += s.approaching == Timing::early;
    result.approaching_late += s.approaching == Timing::late;
    result.duplicates += s.duplicates;
    result.out_of_order += s.out_of_order;
  }
  return result;
}

}  // namespace stopcall::sim
