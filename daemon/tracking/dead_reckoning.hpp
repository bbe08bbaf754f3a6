// Where a bus gets to without fixes (a tunnel, a viaduct, a street canyon that hides the sky):
// as a bus of this trip drives on from its last known speed. It speeds up as buses do to the
// speed it has been cruising at on this trip, and never waits: a wait at a red light does not
// make "arriving" early, and an announcement made on this model is the earliest the bus can be
// there by moving. (With the vehicle's own speed signal the tracker integrates that instead.)
// Pure.
#pragma once

namespace stopcall::tracking {

class DeadReckoning {
 public:
  // `typical_accel_mps2`: how hard a bus speeds up; `initial_cruise_mps`: the cruise speed
  // assumed until the trip shows its own.
  DeadReckoning(double typical_accel_mps2, double initial_cruise_mps);

  // A speed the bus was seen driving at (moving, along the trip).
  void learn_speed(double speed_mps);
  // The speed the bus cruises at on this trip: a running median of the speeds it drove at.
  double cruise_mps() const { return cruise_mps_; }
  // The distance such a bus covers in `t_s` seconds from the speed `v0_mps`.
  double distance_m(double v0_mps, double t_s) const;

  // Speeds below this are not cruising (pulling away, creeping in a queue).
  static constexpr double min_cruise_mps = 3.0;

 private:
  double accel_mps2_;
  double cruise_mps_;
};

}  // namespace stopcall::tracking
