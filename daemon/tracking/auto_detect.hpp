// Route auto-detection: from fixes alone, which pattern (route, direction, stop list) the bus is
// driving, and so which trip -- and, while several patterns remain, what they agree on. Pure: the
// caller gives one representative trip per candidate pattern (from Bundle::candidate_trips near
// the first fix) and the service-day time for each fix.
//
// Every pattern is a hypothesis with a tracker of its own that sees every fix. A hypothesis is
// dropped when its tracker finds the bus off its route, when the bus drives against its direction
// (the Doppler course, against_fixes moving fixes in a row), when most fixes are far from its
// shape, when the bus keeps far from it while it keeps close to another's (medians over
// window_s), or when it never finds the bus on its shape while another does.
//
// While several remain, what every one of them would announce is announced: when each one's next
// stop is the same stop and each has said "next stop" for it, "next stop X" is right whichever
// trip it is; the same for "arriving at X". Nothing they disagree on is said, nor anything while
// a pattern the bus was found on mid-way has not yet seen it drive agree_travel_m along it. Real
// feeds share long corridors between routes and directions, so this is most of a trip's start.
//
// The trip is decided when one pattern is left, or all left serve the same stops in the same
// order, and the bus has driven min_travel_m along it.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "daemon/tracking/events.hpp"
#include "daemon/tracking/fix.hpp"
#include "daemon/tracking/tracker.hpp"
#include "routes/geo.hpp"
#include "routes/model.hpp"

namespace stopcall::tracking {

struct AutoDetectConfig {
  double max_lateral_m = 40;    // farther from a pattern's shape: a fix against that pattern
  double max_miss_share = 0.5;  // more such fixes than this share (after min_fixes): dropped
  double min_travel_m = 250;    // decide only after driving this far along the pattern
  int min_fixes = 5;
  double against_course_deg = 120;   // course this far from the pattern's direction...
  double against_min_speed_mps = 3;  // ...while moving at least this fast...
  int against_fixes = 3;             // ...on this many fixes in a row: the other direction
  int acquire_fixes = 20;            // not on its shape after this many, another being: dropped
  double agree_travel_m = 100;  // a pattern joined mid-way counts once driven this far along it
  double window_s = 30;         // the distances from each shape are judged over this long:
  double far_lateral_m = 20;    // a median farther than this from a shape...
  double far_ratio = 3;         // ...and this many times (+ 5 m) the closest one's: dropped
  // Where patterns part (a shared first stop), the timetable may tell them apart: when one
  // pattern has a trip due here now (within on_time_s) and every other's nearest trip is not due
  // for at least off_time_s and off_ratio times as long, the others' next stops do not hold back
  // what the punctual ones agree on. Not for a pattern whose trip left long ago: a bus runs late
  // far more often than early, and a late bus must not be told another route's stops. Only with
  // route data valid today, and only near the start of the punctual trips (timetable_zone_m),
  // where a bus does not leave its terminus early.
  bool timetable_valid = true;
  double timetable_zone_m = 2000;
  double on_time_s = 180;
  double off_time_s = 600;
  double off_ratio = 3;
};

struct PatternCandidate {
  routes::Trip representative;               // any trip of the pattern: shape and stops
  std::vector<routes::TripCandidate> trips;  // the pattern's trips running around now
};

struct Detection {
  std::string trip_id;
  long pattern_id = 0;
  double along_m = 0;  // progress along the pattern when decided
};

class AutoDetector {
 public:
  AutoDetector(std::vector<PatternCandidate> candidates, AutoDetectConfig config = {},
               TrackerConfig tracker = {});
  ~AutoDetector();
  AutoDetector(AutoDetector&&) noexcept;
  AutoDetector& operator=(AutoDetector&&) noexcept;

  // Every fix in time order (usable or not); `service_seconds` is the fix's time on the service
  // day's clock. What all hypotheses left agree on is appended to `out`: next_stop and
  // approaching events of provisional_trip().
  void on_fix(const Fix& fix, int service_seconds, std::vector<StopEvent>& out);
  void on_tick(Time now, std::vector<StopEvent>& out);
  // What the vehicle says of its motion, for every candidate's tracker.
  void on_vehicle(const VehicleMotion& vehicle);

  std::optional<Detection> detection() const { return detection_; }
  int alive() const;
  int candidates() const { return static_cast<int>(hypotheses_.size()); }
  // The trip the agreed announcements name (the punctual hypothesis where the timetable told them
  // apart, else the first left), and its tracker; null when none is left.
  const routes::Trip* provisional_trip() const;
  const Tracker* provisional_tracker() const;
  // The stop ids of the last agreed next_stop and approaching (empty: none yet).
  const std::string& said_next_stop() const { return said_next_; }
  const std::string& said_approaching() const { return said_approaching_; }

 private:
  struct Hypothesis;
  void judge(Hypothesis& h, const Fix& fix);
  bool on_it(const Hypothesis& h) const;
  void agree(Time t, std::vector<StopEvent>& out);
  // When (seconds from now, negative: past) the pattern's nearest trip is scheduled to be where
  // its tracker has the bus.
  double schedule_gap(const Hypothesis& h, int service_seconds) const;
  void decide(int service_seconds);
  Hypothesis* provisional();
  const Hypothesis* provisional() const;

  AutoDetectConfig config_;
  std::vector<std::unique_ptr<Hypothesis>> hypotheses_;
  std::optional<Detection> detection_;
  std::string said_next_, said_approaching_;
  std::optional<int> service_seconds_;     // of the last usable fix
  const Hypothesis* preferred_ = nullptr;  // whose announcements were last agreed on
  std::vector<StopEvent> scratch_;
};

}  // namespace stopcall::tracking
