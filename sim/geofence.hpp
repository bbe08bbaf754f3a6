// The baseline the tracker has to beat: a naive geofence announcer, as many on-board systems are
// built. Circles around the stops, each raw fix tested against them, no filtering:
//  - the trip starts at the first fix inside the arrival circle of the first stop;
//  - `next_stop` for stop i when the bus leaves the arrival circle (arrival_radius_m) of stop i-1;
//  - `approaching` for stop i when a fix falls inside its approach circle (approach_radius_m);
//  - `arrived` inside its arrival circle (`approaching` first if not said), and the next fix
//  outside
//    it is `departed` and the next stop's `next_stop`;
//  - a fix inside the arrival circle of one of the next few stops (the expected one was missed)
//    moves on to that stop, announcing it.
// It emits the tracker's event types, so the same scorer judges both.
#pragma once

#include <vector>

#include "daemon/tracking/events.hpp"
#include "daemon/tracking/fix.hpp"
#include "routes/model.hpp"

namespace stopcall::sim {

struct GeofenceOptions {
  double arrival_radius_m = 50;
  double approach_radius_m = 150;
  int look_ahead_stops = 3;  // how many stops past the expected one a fix may jump to
};

class GeofenceBaseline {
 public:
  explicit GeofenceBaseline(const routes::Trip& trip, GeofenceOptions options = {});

  // Appends the events this fix causes. Fixes without a position are ignored.
  void on_fix(const tracking::Fix& fix, std::vector<tracking::StopEvent>& out);
  bool ended() const { return phase_ == Phase::ended; }

 private:
  enum class Phase { waiting, at_stop, en_route, ended };
  void emit(std::vector<tracking::StopEvent>& out, tracking::StopEvent::Type type, tracking::Time t,
            int stop) const;
  void arrive(int stop, tracking::Time t, std::vector<tracking::StopEvent>& out);

  GeofenceOptions options_;
  std::string trip_id_;
  std::vector<routes::TripStop> stops_;
  Phase phase_ = Phase::waiting;
  int target_ = 0;
  bool approach_said_ = false;
};

}  // namespace stopcall::sim
