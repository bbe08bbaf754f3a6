// Standing or moving: whether the bus moves along its route, decided from what the receiver and
// the vehicle say, never from position wander alone. Pure: time comes in with each input.
//
// A receiver standing in a street canyon reports positions that wander by metres and Doppler
// speeds of up to 3 m/s in random directions; a bus pulling away reports speeds that grow along
// the route. So, in order of trust:
//  - the vehicle's own speed signal (CAN, tachograph), while it is fresh: moving above
//    vehicle_moving_mps;
//  - open doors: standing (a bus does not drive with its doors open);
//  - the receiver's Doppler velocity: a standing bus is moving once its speed along the route
//    (the speed times the cosine between its course and the route's direction, the best of the
//    directions the route takes just ahead: a bus may pull away into a turn) is at least
//    go_speed_mps, with the course within go_course_deg of the route, for go_time_s (at least two
//    fixes), or on one fix at least go_speed_sparse_mps when fixes are sparse_interval_s or more
//    apart, or crawling (a queue): along the route above stop_speed_mps on every fix for
//    crawl_time_s (three fixes at least; fixes not sparse) at crawl_speed_mps on average; a moving
//    bus is standing once its speed along the route is at most stop_speed_mps (a canyon's
//    standstill is reported crawling sideways as often as along);
//  - none of these: unknown, and the caller judges from its position filter.
#pragma once

#include <optional>
#include <span>

#include "daemon/tracking/fix.hpp"

namespace stopcall::tracking {

// What the vehicle itself says about its motion, as far as it says anything.
struct VehicleMotion {
  Time time{};                      // when it was said (the bus clock, on the fixes' time base)
  std::optional<double> speed_mps;  // the vehicle's own speed signal
  std::optional<bool> doors_open;   // any passenger door open
};

struct MotionConfig {
  double go_speed_mps = 2.0;          // along-route Doppler speed that starts a standing bus
  double go_time_s = 2.0;             // ...held this long, over two fixes at least
  double go_speed_sparse_mps = 3.0;   // ...or on one fix this fast when fixes are sparse
  double sparse_interval_s = 2.5;     // fixes this far apart are sparse
  double go_course_deg = 30.0;        // course within this of the route's direction
  double stop_speed_mps = 1.0;        // along-route speed at or below which a moving bus stands
  double crawl_speed_mps = 1.5;       // a standing bus crawling along the route this fast...
  double crawl_time_s = 5.0;          // ...on average over this long is moving
  double course_min_speed_mps = 0.5;  // below this speed the course means nothing
  double vehicle_moving_mps = 0.5;    // the vehicle's speed signal above this: moving
  double vehicle_max_age_s = 3.0;     // the speed signal is trusted this long after it came
};

class MotionDetector {
 public:
  enum class Source { none, doppler, doors, vehicle };

  explicit MotionDetector(MotionConfig config = {}) : cfg_(config) {}

  // A unit direction (east, north).
  struct Direction {
    double x = 0, y = 0;
  };
  // One fix's Doppler velocity. `route`: the route's directions where the bus is and just ahead;
  // `fix_interval_s`: the receiver's usual interval between fixes.
  void on_fix(Time t, std::optional<double> speed_mps, std::optional<double> course_deg,
              std::span<const Direction> route, double fix_interval_s);
  void on_vehicle(const VehicleMotion& vehicle);
  // Starts over as standing (a new trip, a relock at rest) or moving.
  void reset(bool moving);

  // Whether the bus moves at `now`; meaningful when known(now).
  bool moving(Time now) const;
  // Whether anything but the position said it: false for a receiver without Doppler speed and
  // a vehicle without signals.
  bool known(Time now) const { return source(now) != Source::none; }
  Source source(Time now) const;
  // The vehicle's fresh speed signal at `now`, if any.
  std::optional<double> vehicle_speed(Time now) const;
  // Moving, or the last fix said so on its own (the start of a pull-away, or a short hop).
  bool going() const { return moving_ || go_fixes_ > 0; }
  // The last Doppler speed along the route (negative: driving against it).
  double along_speed_mps() const { return along_; }

 private:
  MotionConfig cfg_;
  bool moving_ = false;
  bool doppler_ = false;  // the last fix had a Doppler speed
  double along_ = 0;
  std::optional<Time> go_since_;  // first fix of the current run that says "going"
  int go_fixes_ = 0;
  // The current run of fixes crawling along the route: its first fix, count and speed sum.
  std::optional<Time> crawl_since_;
  int crawl_fixes_ = 0;
  double crawl_sum_ = 0;
  VehicleMotion vehicle_;
};

}  // namespace stopcall::tracking
