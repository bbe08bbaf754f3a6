#include "depot/report/figures.hpp"

namespace stopcall::depot::report {

KindFigures& KindFigures::operator+=(const KindFigures& o) {
  announced += o.announced;
  heard += o.heard;
  expired += o.expired;
  interrupted += o.interrupted;
  cancelled += o.cancelled;
  failed += o.failed;
  never_heard += o.never_heard;
  return *this;
}

KindFigures Figures::all_kinds() const {
  KindFigures all;
  for (const auto& [kind, k] : kinds)
    all += k;
  return all;
}

bool Figures::empty() const {
  return stops == 0 && exterior_stops == 0 && kinds.empty() && ramp_cycles == 0 &&
         ramp_alarms == 0 && requests_served == 0 && requests_missed == 0 &&
         requests_expired == 0 && requests_dismissed == 0 && requests_open == 0 &&
         alighting_served == 0 && alighting_missed == 0 && gps_outage_s == 0;
}

Figures& Figures::operator+=(const Figures& o) {
  stops += o.stops;
  next_stop_ok += o.next_stop_ok;
  approaching_ok += o.approaching_ok;
  next_stop_late += o.next_stop_late;
  approaching_late += o.approaching_late;
  next_stop_cut += o.next_stop_cut;
  approaching_cut += o.approaching_cut;
  exterior_stops += o.exterior_stops;
  exterior_heard += o.exterior_heard;
  for (const auto& [kind, k] : o.kinds)
    kinds[kind] += k;
  ramp_cycles += o.ramp_cycles;
  ramp_alarms += o.ramp_alarms;
  requests_served += o.requests_served;
  requests_missed += o.requests_missed;
  requests_expired += o.requests_expired;
  requests_dismissed += o.requests_dismissed;
  requests_open += o.requests_open;
  alighting_served += o.alighting_served;
  alighting_missed += o.alighting_missed;
  gps_outage_s += o.gps_outage_s;
  return *this;
}

std::optional<double> share(int ok, int stops) {
  if (stops <= 0) return std::nullopt;
  return static_cast<double>(ok) / static_cast<double>(stops);
}

}  // namespace stopcall::depot::report
