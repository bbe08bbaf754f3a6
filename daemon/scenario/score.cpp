#include "daemon/scenario/score.hpp"

#include <cstdio>
#include <stdexcept>

namespace stopcall::scenario {

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
  for (int i = 1; i < n; ++i) {
    StopScore& s = result.stops[i - 1];
    s.index = i;
    s.stop_id = trip.stops[i].stop.id;
    s.shares_halt_of = truth.stops[i].shares_halt_of;
    if (s.shares_halt_of >= 0) s.next_stop = s.approaching = Timing::correct;  // until said
  }
  std::vector<int> next_count(n, 0), approach_count(n, 0);

  // Order: announcements must come stop by stop, next_stop (rank 0) before approaching (rank 1),
  // and their times must not go back.
  int max_key = -1;
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
    const int key = 2 * *stop + (next ? 0 : 1);
    if (key < max_key || (last_time && e.time < *last_time)) ++s.out_of_order;
    max_key = std::max(max_key, key);
    if (!last_time || e.time > *last_time) last_time = e.time;

    const StopTruth& from = truth.stops[*stop - 1];
    const StopTruth& to = truth.stops[*stop];
    if (next) {
      if (++next_count[*stop] > 1) {
        ++s.duplicates;
        continue;
      }
      s.next_stop_time = e.time;
      s.next_stop_after_leaving_s = seconds_between(from.departure, e.time);
      if (s.next_stop_after_leaving_s < -rules.next_stop_earliest_s)
        s.next_stop = Timing::early;
      else if (s.next_stop_after_leaving_s > rules.next_stop_latest_s || e.time >= to.arrival)
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
      if (s.approaching_before_reaching_s > rules.approaching_earliest_s)
        s.approaching = Timing::early;
      else if (s.approaching_before_reaching_s < rules.approaching_latest_s)
        s.approaching = Timing::late;
      else
        s.approaching = Timing::correct;
    }
  }

  for (auto& s : result.stops) {
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

}  // namespace stopcall::scenario
