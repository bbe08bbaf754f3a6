#include "depot/report/judge.hpp"

#include <algorithm>
#include <utility>

namespace stopcall::depot::report {

// Was the `what` announcement of stop `index` heard inside, and if not, why not.
Verdict judge(const std::vector<const Announcement*>& made, Time reached) {
  Verdict v;
  if (made.empty()) {
    v.why = "not announced";
    return v;
  }
  std::optional<Time> first_heard;
  std::set<std::string> outcomes;
  bool failed_first = false, finished = false, ended_short = false;
  for (const Announcement* a : made) {
    if (v.text.empty()) v.text = a->text;
    if (a->heard_interior && !a->failed_inside_first) {
      v.ok = true;
      if (!first_heard || *a->heard_interior < *first_heard) first_heard = a->heard_interior;
      finished = finished || a->inside_outcome == "finished";
      ended_short = ended_short || (!a->inside_outcome.empty() && a->inside_outcome != "finished");
    }
    failed_first = failed_first || a->failed_inside_first;
    outcomes.insert(a->outcomes.begin(), a->outcomes.end());
  }
  if (v.ok) {
    v.late = *first_heard > reached;
    v.cut = ended_short && !finished;
    return v;
  }
  if (failed_first) outcomes.insert("failed");
  for (const auto& o : outcomes)
    v.why += (v.why.empty() ? "" : ", ") + o;
  if (v.why.empty()) v.why = "never heard";
  return v;
}

void count_request(Figures& f, const Request& r) {
  if (r.kind == "wheelchair_alighting") {
    if (r.fate == "served") ++f.alighting_served;
    if (r.fate == "missed") ++f.alighting_missed;
    return;
  }
  if (r.fate == "served") {
    ++f.requests_served;
  } else if (r.fate == "missed") {
    ++f.requests_missed;
  } else if (r.fate == "expired") {
    ++f.requests_expired;
  } else if (r.fate == "dismissed") {
    ++f.requests_dismissed;
  } else {
    ++f.requests_open;  // pending, shown, carried
  }
}

void judge_records(Records records, Report& report) {
  report.messages = judge_messages(records);
  std::vector<Figures> figures(records.trips.size());
  std::vector<std::vector<StopProblem>> problems(records.trips.size());
  for (std::size_t i = 0; i < records.trips.size(); ++i) {
    Trip& trip = records.trips[i];
    Figures& f = figures[i];
    trip.close_outage(records.last_line);  // still lost when the window ends
    f.gps_outage_s = static_cast<double>(trip.outage.count()) / 1000.0;
    f.ramp_cycles = trip.ramp_cycles;
    f.ramp_alarms = trip.ramp_alarms;

    std::map<std::pair<std::string, int>, std::vector<const Announcement*>> by_stop;
    for (std::size_t k : trip.announcements) {
      const Announcement& a = records.announcements[k];
      KindFigures& kind = f.kinds[a.kind.empty() ? "(none)" : a.kind];
      ++kind.announced;
      if (a.heard_interior || a.heard_exterior) {
        ++kind.heard;
      } else {
        ++kind.never_heard;
      }
      for (const auto& o : a.outcomes) {
        if (o == "expired") ++kind.expired;
        if (o == "interrupted") ++kind.interrupted;
        if (o == "cancelled") ++kind.cancelled;
        if (o == "failed") ++kind.failed;
      }
      if (a.stop_index && (a.what == "next_stop" || a.what == "approaching")) {
        by_stop[{a.what, *a.stop_index}].push_back(&a);
      }
    }
    for (const auto& [index, reached] : trip.reached) {
      ++f.stops;
      const Verdict next = judge(by_stop[{"next_stop", index}], reached);
      const Verdict arriving = judge(by_stop[{"approaching", index}], reached);
      f.next_stop_ok += next.ok;
      f.next_stop_late += next.ok && next.late;
      f.next_stop_cut += next.ok && next.cut;
      f.approaching_ok += arriving.ok;
      f.approaching_late += arriving.ok && arriving.late;
      f.approaching_cut += arriving.ok && arriving.cut;
      if (!next.ok || !arriving.ok) {
        StopProblem p;
        p.stop_index = index;
        p.stop_id = trip.stop_ids[index];
        p.next_stop_ok = next.ok;
        p.next_stop_why = next.why;
        p.approaching_ok = arriving.ok;
        p.approaching_why = arriving.why;
        p.text = !next.text.empty() ? next.text : arriving.text;
        problems[i].push_back(std::move(p));
      }
    }
    for (int index : trip.visited) {
      if (index == trip.ended_at) continue;  // the terminus: nobody boards this trip there
      ++f.exterior_stops;
      const bool heard =
          std::any_of(trip.announcements.begin(), trip.announcements.end(), [&](std::size_t k) {
            const Announcement& a = records.announcements[k];
            return a.kind == "exterior_route" && a.at_stop == index && a.heard_exterior;
          });
      f.exterior_heard += heard;
    }
  }
  for (const auto& r : records.requests)
    count_request(figures[r.trip], r);

  if (records.clock_ratios.size() >= 3) {
    auto middle = records.clock_ratios.begin() + static_cast<long>(records.clock_ratios.size() / 2);
    std::nth_element(records.clock_ratios.begin(), middle, records.clock_ratios.end());
    report.clock_speed = *middle;
  }
  std::map<std::string, DayReport> days;
  for (std::size_t i = 0; i < records.trips.size(); ++i) {
    const Trip& trip = records.trips[i];
    if (!trip.first || (i == 0 && figures[i].empty())) continue;
    TripReport t;
    t.trip_id = trip.trip_id;
    t.day = service_day(*trip.first, report.options.utc_offset_min
                                         ? *report.options.utc_offset_min
                                         : offset_at(report.zones, *trip.first).value_or(0));
    t.figures = figures[i];
    t.problems = std::move(problems[i]);
    DayReport& day = days[t.day];
    day.day = t.day;
    if (i != 0) ++day.trips;
    day.figures += t.figures;
    report.total += t.figures;
    report.trips.push_back(std::move(t));
  }
  for (auto& [name, day] : days)
    report.days.push_back(std::move(day));
}

}  // namespace stopcall::depot::report
