// The tracker: places the bus along its trip from GPS fixes and says what happened at each stop.
// Pure: no I/O, no clock; time comes in with each fix or tick (GPS time).
//
// Standing or moving is the motion detector's (motion.hpp: the vehicle's speed signal and doors,
// else the Doppler speed along the route), never GPS wander: a standing bus's place is the mean of
// its fixes. How far to believe a fix is learnt from the fixes' scatter across the route
// (position_noise.hpp); the receiver's eph only says how much worse one fix is than usual.
//
// Contract (the order of events matters; the announcer relies on it):
//  - `trip_started` at the first confident fix on the shape near stop 0 (within start_zone_m);
//    the bus is then taken to be standing at stop 0. A bus first seen farther along (a restart)
//    needs join_confirm_fixes consistent fixes; the stops behind it are `passed`.
//  - Stop 0: `departed` once the bus moves and is departure_moving_m past stop 0 (without Doppler
//    or vehicle signals: departure_distance_m past it), then at once `next_stop` for stop 1.
//  - Every stop i >= 1, in trip order, gets exactly one of these sequences, nothing twice:
//      next_stop, approaching, arrived, departed   the bus stopped there;
//      next_stop, [approaching], passed            it went through without stopping;
//      passed                                      it was already behind the bus when the
//                                                  position was re-established (after an outage,
//                                                  a detour, a mid-trip join), or the bus was past
//                                                  it and moving when its turn came.
//    A berth of the same station as the stop before it (same name or parent station), closer
//    than same_halt_m, shares that stop's halt: the bus halts once for both, so it is not
//    announced on its own (a rider would hear the same place twice within seconds). It gets
//    `passed` as the bus leaves the halt. Such a halt is arrived at from its first stop and
//    left beyond its last one (TripLine::halt_ends()). Another stop closer than close_stop_m to
//    the one before (Porto Alegre: Tres Figueiras, then Petropolis 15 m on) is a halt of its
//    own, said together with it: its `next_stop` right after that one's (with_previous), its
//    `approaching` as the bus leaves that one (leaving it is departing, however short the hop).
//    `next_stop` comes when the halt before stop i is departed or passed.
//    `approaching` comes after `next_stop`, within approach_max_distance_m: once the bus brakes
//    to halt at the stop (taken to brake at least halting_decel_mps2) and the time to it is <=
//    approach_lead_s, or when the next fix would come with less than approach_lead_min_s left
//    for a bus driving on (not braking, a bus cannot be told from one about to halt at a red
//    light short of the stop; below crawl_speed_mps it may also speed up at crawl_accel_mps2
//    before that fix; the acceleration is estimated from the Doppler speeds). A bus standing (or
//    braking to halt) within approach_standing_m short of the stop gets it at once: waiting at
//    a red light after "arriving at" was said is not early. Braking to halt farther short
//    (red light, queue) holds it, as long as the next fix would still come in time. When fixes
//    are overdue it is judged on the dead-reckoned position, only while the bus certainly has
//    not reached the stop, the bus going on (braking) as it did. If the bus reaches the stop
//    without it having been said (a fix gap), it is said at arrival, just before `arrived`.
//    `arrived`: standing (arrival_dwell_s) from approach_min_distance_m short of the stop (at
//    most arrival_radius_m) to arrival_radius_m past it. `passed`: beyond stop +
//    arrival_radius_m without having stood there (a bus found standing is placed where its
//    fixes say, up to standing_back_m behind the progress: a sparse receiver's filter runs on
//    past an unseen halt). `departed`: moving, and past the halt as for stop 0, after `arrived`;
//    by the vehicle's speed signal within a second of moving off.
//  - The last stop: `arrived` (or `passed`), then `trip_ended`; nothing after that.
//  - GPS outage: no usable fix for gps_lost_timeout_s (at least 2.2 of the receiver's usual fix
//    intervals, the median of the last five) -> `gps_lost`. For up to dead_reckoning_max_s the
//    stops go on, each event marked uncertain: with the vehicle's speed signal an odometer
//    carries them as on fixes; without it (dead_reckoning.hpp) `approaching` comes 10 s before
//    a bus of this trip driving on from its last speed would be there, and a bus already
//    pulling away from its halt departs once it would be clear of it. `position_uncertain` once
//    the dead-reckoning uncertainty exceeds position_uncertain_m, or when fixes come but none is
//    plausible for the timeout. When restore_confirm_fixes consistent fixes are back:
//    `gps_restored`, `passed` for the stops now behind the bus, then normal events (`next_stop`
//    for the true next stop if it was not said yet).
//  - Off route: fixes farther than off_route_distance_m from the shape for off_route_time_s and
//    off_route_min_fixes -> `off_route` (at the last stop: `passed`, `trip_ended`); no stop
//    events meanwhile. Back within rejoin_distance_m, heading along the shape, consistently for
//    rejoin_time_s -> `on_route`, `passed` for the stops skipped, then normal events.
//  - A single implausible fix (beyond plausible speed, far from the shape, a jump along it)
//    produces no event and does not move the bus. The progress the events run on never goes
//    backwards (only the dead-reckoned display value may be corrected down after an outage).
#pragma once

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/tracking/dead_reckoning.hpp"
#include "daemon/tracking/events.hpp"
#include "daemon/tracking/fix.hpp"
#include "daemon/tracking/motion.hpp"
#include "daemon/tracking/position_noise.hpp"
#include "daemon/tracking/shape_matcher.hpp"
#include "routes/model.hpp"

namespace stopcall::tracking {

// Every threshold of the tracker, with its default. Distances are along the trip's shape unless
// said otherwise; "lateral" is the distance from the fix to the shape.
struct TrackerConfig {
  // --- Announcing the next stop ---
  double approach_lead_s = 10.0;           // say `approaching` when the ETA is <= this
  double approach_lead_min_s = 5.0;        // ...or when the next fix would come with ETA < this
  double approach_min_distance_m = 15.0;   // always `approaching` within this (slow or stopped)
  double approach_max_distance_m = 250.0;  // never `approaching` farther than this
  double approach_slow_speed_mps = 1.5;    // below this speed only the minimum distance counts,
  double pull_away_accel_mps2 = 1.2;       // ...or pulling away, taken to speed up this hard
  double crawl_speed_mps = 6.0;            // below this speed a bus may speed up any moment,
  double crawl_accel_mps2 = 0.5;           // ...at least this hard (for the last chance)
  double braking_decel_min_mps2 = 0.3;     // above this deceleration, predict where the bus halts
  double halting_decel_mps2 = 1.2;         // a bus halting at a stop brakes at least this hard
  double halt_short_m = 11.0;              // braking to halt this far short: not at the stop
  double approach_standing_m = 60.0;       // ...unless standing within this of it
  double typical_accel_mps2 = 1.0;         // a bus pulling away speeds up about this hard
  double max_accel_mps2 = 2.0;      // and never harder than this (a larger estimate is the filter
                                    // catching up with a bus that pulled away while taken to stand)
  double typical_cruise_mps = 9.0;  // ...to about this speed, until the trip shows its own
  // --- Stopping at a stop ---
  double arrival_radius_m = 25.0;  // stopped within +-this of the stop = arrived; beyond = passed
  double stopped_speed_mps = 0.7;  // at or below this speed the bus stands still
  double arrival_dwell_s = 1.0;    // stand this long (one fix if fixes are > 2x this apart)
  double departure_distance_m = 20.0;  // departed once this far past the stop...
  double departure_moving_m = 8.0;     // ...or this far, moving by Doppler or the vehicle's signals
  MotionConfig motion;                 // standing or moving (motion.hpp)
  double same_halt_m = 30.0;   // a berth of the station before, closer than this: shares its halt
  double close_stop_m = 50.0;  // another stop closer than this to the one before: said with it
  // --- Finding the trip ---
  double start_zone_m = 100.0;     // a first fix within this past stop 0 starts the trip at once
  double acquire_radius_m = 40.0;  // a fix must be this close to the shape to start the trip
  int join_confirm_fixes = 3;      // consistent fixes needed to start farther along the trip
  // --- Map matching and filtering ---
  double max_speed_mps = 35.0;           // fastest plausible bus; bounds the search window ahead
  double back_window_m = 50.0;           // search window behind the current progress
  double window_margin_m = 50.0;         // ...and added ahead of max_speed * elapsed time
  double accept_lateral_m = 50.0;        // fixes farther from the shape do not move the bus
  double lateral_soft_m = 20.0;          // lateral distance at which a fix counts half
  double along_gate_m = 30.0;            // reject fixes this far (+3 sigma) from the prediction
  double max_eph_m = 80.0;               // reject fixes with a larger horizontal error estimate
  double default_eph_m = 10.0;           // error estimate to assume when the fix has none
  double speed_error_mps = 0.3;          // Doppler speed error (1 sigma)
  double accel_noise_mps2 = 0.7;         // filter process noise: unmodelled acceleration
  double accel_jerk_noise = 1.0;         // acceleration from Doppler: white jerk, m^2/s^5
  double accel_time_constant_s = 1.0;    // acceleration smoothing for fixes without Doppler
  double backward_tolerance_m = 5.0;     // the estimate may go back this much, progress never
  double standing_back_m = 30.0;         // ...and a standing bus's this much (an unseen halt)
  double heading_check_speed_mps = 3.0;  // use the course over ground above this speed
  double heading_max_diff_deg = 60.0;    // course vs shape direction to count as "along"
  // --- Off route ---
  double off_route_distance_m = 60.0;  // lateral distance that counts as off the shape
  double off_route_time_s = 20.0;      // ...for at least this long (a burst lasts 5-15 s)
  int off_route_min_fixes = 3;         // ...and this many fixes
  double rejoin_distance_m = 30.0;     // back on route: this close to the shape
  double rejoin_time_s = 3.0;          // ...for this long
  int rejoin_min_fixes = 2;            // ...and this many consistent fixes
  // --- Outages ---
  double gps_lost_timeout_s = 5.0;      // no usable (or no plausible) fix this long: degraded
  double dead_reckoning_max_s = 120.0;  // dead-reckon at most this long
  double dead_reckoning_stop_margin_m = 10.0;   // never dead-reckon farther past the next stop
  double dead_reckoning_speed_error_mps = 2.0;  // uncertainty growth while dead reckoning
  double position_uncertain_m = 50.0;           // uncertainty that makes the position uncertain
  int restore_confirm_fixes = 2;                // consistent fixes needed after an outage
};

enum class TrackerState {
  waiting,   // not yet on the trip
  tracking,  // following the bus
  degraded,  // no usable/plausible fix recently: dead reckoning
  off_route,
  ended,  // trip_ended was emitted
};

std::string_view state_name(TrackerState state);

class Tracker {
 public:
  // Throws std::invalid_argument when the trip has no stops, or neither a shape nor two stops.
  explicit Tracker(const routes::Trip& trip, TrackerConfig config = {});
  ~Tracker();
  Tracker(Tracker&&) noexcept;
  Tracker& operator=(Tracker&&) noexcept;

  // Feeds one fix (usable or not). Fixes must come in time order; a fix not newer than the
  // previous one is ignored. Returns the events it caused, in order.
  std::vector<StopEvent> on_fix(const Fix& fix);
  // The same, appending to `out` (lets a caller reuse one vector: no allocation per fix).
  void on_fix(const Fix& fix, std::vector<StopEvent>& out);

  // Lets time pass without a fix, for `gps_lost` when fixes stop coming. `now` is on the fixes'
  // time base (e.g. the last fix's GPS time plus the steady-clock time elapsed since it came).
  std::vector<StopEvent> on_tick(Time now);
  void on_tick(Time now, std::vector<StopEvent>& out);

  // What the vehicle says of its motion (speed signal, doors); used from the next fix or tick.
  void on_vehicle(const VehicleMotion& vehicle) { motion_.on_vehicle(vehicle); }

  TrackerState state() const { return state_; }
  // Best estimate of the distance along the trip, metres (dead-reckoned while degraded).
  double progress_m() const;
  double speed_mps() const { return v_; }
  // Acceleration along the trip, m/s^2 (from the Doppler speeds when there are any).
  double acceleration_mps2() const { return a_; }
  // The receiver's usual interval between fixes, seconds (the median of the last few).
  double fix_interval_s() const { return fix_interval_s_; }
  // Along-track uncertainty (about one standard deviation), metres.
  double uncertainty_m() const;
  // 1 = sure, 0 = no idea (waiting, off route, or lost for long).
  double confidence() const;
  // Distance from the last fix to the shape, metres (infinity when none was near).
  double lateral_m() const { return lateral_; }
  // The stop the bus goes to next (while standing at a stop: the one after it); nullopt at end.
  std::optional<int> next_stop_index() const;
  // The stop the bus stands at (arrived, not yet departed), if any.
  std::optional<int> at_stop_index() const;
  // The stop the bus is heading for and what has been said of it (for auto-detection, which
  // announces what every candidate trip agrees on); stop -1 unless en route to one.
  struct Announced {
    int stop = -1;
    bool next = false;
    bool approaching = false;
  };
  Announced announced() const;
  double length_m() const;
  // Each stop's distance along the shape as the tracker uses it (clamped, non-decreasing).
  const std::vector<double>& stop_distances_m() const { return stop_d_; }
  // For each stop, the stop whose halt serves it: itself, or for a stop sharing the halt of the
  // stop before it (same_halt_m), the first stop of that halt, which is the one announced.
  const std::vector<int>& halt_stops() const { return halt_stop_; }
  const TrackerConfig& config() const { return cfg_; }

 private:
  struct Pending {  // a run of mutually consistent candidate positions
    bool active = false;
    int count = 0;
    double along = 0;
    double first_along = 0;
    Time first{};
    Time last{};
  };
  enum class Phase { en_route, at_stop };

  void step_time(Time now, std::vector<StopEvent>& out);
  void approach_if_fix_overdue(Time now, std::vector<StopEvent>& out);
  void approach_by_prediction(Time now, double uncertainty, std::vector<StopEvent>& out);
  void acquire(const Fix& fix, double eph, std::vector<StopEvent>& out);
  void track(const Fix& fix, double eph, std::vector<StopEvent>& out);
  void restore(const Fix& fix, double eph, std::vector<StopEvent>& out);
  // Whether the shape passes within `within_m` of p again, heading along it, within [lo, hi]
  // but away from `along`.
  bool another_pass(routes::geo::XY p, double lo, double hi, double along, double within_m,
                    const routes::geo::XY* heading) const;
  void rejoin(const Fix& fix, double eph, std::vector<StopEvent>& out);
  // How close a fix's course must be to the shape's direction to count as along it (a cosine).
  double heading_cos() const;
  // Where along the trip the bus can be `dt` seconds after the last accepted fix: from a little
  // behind its progress to the farthest a bus could have driven.
  struct Window {
    double lo = 0, hi = 0;
  };
  Window window_ahead(double dt) const;
  // The nearest match of `p` in `window`, `pred` the predicted position; sets the lateral offset
  // the tracker reports.
  ShapeMatcher::Match match_in(routes::geo::XY p, Window window, double pred,
                               const std::optional<routes::geo::XY>& heading);
  void count_off_route(Time t, std::vector<StopEvent>& out);
  void relock(const Fix& fix, double along);
  bool confirm(Pending& p, Time t, double along, int needed, double min_span_s) const;
  void run_stops(Time t, std::vector<StopEvent>& out);
  // Whether `approaching` is due for `stop` with the bus at s, speed v. `stood`: the bus has stood
  // for arrival_dwell_s.
  bool approach_due(int stop, double s, double v, bool stood = false) const;
  double dead_reckoned(Time now) const;
  // Standing (not moving), by the motion detector when it knows, else by the filter's speed.
  bool standing(Time now) const;
  void update_motion(const Fix& fix);
  void update_acceleration(double doppler_along_mps, Time t);
  double lost_timeout_s() const;
  void emit(std::vector<StopEvent>& out, StopEvent::Type type, Time t, std::optional<int> stop);
  // `next_stop` or `approaching` for the target stop (`next_stop` also for a stop close after its
  // halt).
  void announce(std::vector<StopEvent>& out, StopEvent::Type type, Time t);
  // The bus has left the halt of stop k (`departed` or `passed` it): the stops sharing that halt
  // are passed with it, the next halt is the target; false when that ended the trip.
  bool leave_halt(int k, Time t, std::vector<StopEvent>& out);
  // Resolves halt k without the bus having stopped there.
  bool pass(int k, Time t, std::vector<StopEvent>& out);
  // While degraded: the stops on the dead-reckoned position (dead_reckoning.hpp).
  void dead_reckon(Time now, std::vector<StopEvent>& out);
  // Whether `stop` is closer than close_stop_m to the stop before it.
  bool close_to_previous(int stop) const;

  TrackerConfig cfg_;
  std::unique_ptr<ShapeMatcher> geo_;  // the shape in local metres, matched against
  std::string trip_id_;
  std::vector<std::string> stop_ids_;
  std::vector<int> stop_seq_;
  std::vector<double> stop_d_;
  std::vector<int> halt_end_;   // halt_ends(stop_d_)
  std::vector<int> halt_stop_;  // halt_stops()

  TrackerState state_ = TrackerState::waiting;
  // Filter: distance s_ (m along) and speed v_ along the shape with their covariance.
  double s_ = 0, v_ = 0, p00_ = 0, p01_ = 0, p11_ = 0;
  // Acceleration a_: from a second filter on the Doppler speeds alone (speed dv_, acceleration a_,
  // covariance q..), active from the first Doppler speed after a (re)lock; for fixes without
  // Doppler, smoothed from v_.
  double a_ = 0;
  bool accel_active_ = false;
  Time t_accel_{};  // its last update
  double dv_ = 0, q00_ = 0, q01_ = 0, q11_ = 0;
  double progress_ = 0;  // monotone progress the stop logic runs on
  double lateral_ = 0;
  Time t_accepted_{};  // last fix that moved the estimate
  Time t_usable_{};    // last usable fix
  Time t_seen_{};      // newest fix or tick
  Time t_fix_{};       // newest fix (usable or not)
  bool have_fix_ = false;
  double fix_interval_s_ = 1.0;  // the receiver's usual interval between fixes
  static constexpr std::size_t kIntervals = 5;
  std::array<double, kIntervals> intervals_{};  // the last ones, a ring
  long n_intervals_ = 0;
  std::optional<Time> stopped_since_;
  double last_dt_ = 0;
  MotionDetector motion_;
  std::vector<MotionDetector::Direction> route_scratch_;  // update_motion(), reused
  PositionNoise noise_;
  DeadReckoning dr_;
  double odometer_m_ = 0;  // while degraded with the vehicle's speed signal
  Time t_odometer_{};
  // Stop state machine.
  int target_ = 0;
  Phase phase_ = Phase::at_stop;
  bool next_said_ = false;
  bool approach_said_ = false;
  std::vector<bool> said_with_previous_;  // per stop: its next_stop was said with the one before
  bool approach_ahead_said_ = false;      // at a halt: `approaching` said for the stop close ahead
  // Degraded / off route bookkeeping.
  bool lost_said_ = false;
  bool uncertain_said_ = false;
  Pending pending_;      // acquire / restore / rejoin confirmation
  Pending off_pending_;  // consecutive off-route fixes
};

}  // namespace stopcall::tracking
