#include "sim/geofence.hpp"

#include <algorithm>

#include "routes/geo.hpp"

namespace stopcall::sim {

using tracking::StopEvent;

GeofenceBaseline::GeofenceBaseline(const routes::Trip& trip, GeofenceOptions options)
    : options_(options), trip_id_(trip.id), stops_(trip.stops) {}

void GeofenceBaseline::emit(std::vector<StopEvent>& out, StopEvent::Type type, tracking::Time t,
                            int stop) const {
  StopEvent e;
  e.type = type;
  e.time = t;
  e.trip_id = trip_id_;
  e.stop_id = stops_[stop].stop.id;
  e.stop_sequence = stops_[stop].stop_sequence;
  e.stop_index = stop;
  e.distance_m = stops_[stop].distance_m;
  out.push_back(std::move(e));
}

void GeofenceBaseline::arrive(int stop, tracking::Time t, std::vector<StopEvent>& out) {
  if (!approach_said_) emit(out, StopEvent::Type::approaching, t, stop);
  emit(out, StopEvent::Type::arrived, t, stop);
  target_ = stop;
  if (stop + 1 == static_cast<int>(stops_.size())) {
    emit(out, StopEvent::Type::trip_ended, t, stop);
    phase_ = Phase::ended;
  } else {
    phase_ = Phase::at_stop;
  }
}

void GeofenceBaseline::on_fix(const tracking::Fix& fix, std::vector<StopEvent>& out) {
  if (!fix.usable() || phase_ == Phase::ended || stops_.empty()) return;
  const auto p = *fix.position;
  const auto t = fix.time;
  auto distance = [&](int stop) { return routes::geo::distance_m(p, stops_[stop].stop.position); };
  const int n = static_cast<int>(stops_.size());
  switch (phase_) {
    case Phase::waiting:
      if (distance(0) <= options_.arrival_radius_m) {
        emit(out, StopEvent::Type::trip_started, t, 0);
        target_ = 0;
        phase_ = n > 1 ? Phase::at_stop : Phase::ended;
      }
      return;
    case Phase::at_stop:
      if (distance(target_) > options_.arrival_radius_m) {
        emit(out, StopEvent::Type::departed, t, target_);
        ++target_;
        approach_said_ = false;
        phase_ = Phase::en_route;
        emit(out, StopEvent::Type::next_stop, t, target_);
        // The same fix may already be near the next stop (stops close together).
        if (distance(target_) <= options_.approach_radius_m) {
          approach_said_ = true;
          emit(out, StopEvent::Type::approaching, t, target_);
        }
      }
      return;
    case Phase::en_route: {
      if (distance(target_) <= options_.arrival_radius_m) {
        arrive(target_, t, out);
        return;
      }
      for (int k = target_ + 1; k < std::min(n, target_ + 1 + options_.look_ahead_stops); ++k) {
        if (distance(k) <= options_.arrival_radius_m) {
          // The expected stop was missed: move on to this one.
          emit(out, StopEvent::Type::next_stop, t, k);
          approach_said_ = false;
          arrive(k, t, out);
          return;
        }
      }
      if (!approach_said_ && distance(target_) <= options_.approach_radius_m) {
        approach_said_ = true;
        emit(out, StopEvent::Type::approaching, t, target_);
      }
      return;
    }
    case Phase::ended:
      return;
  }
}

}  // namespace stopcall::sim
