// The decision pipeline shared by `stopcalld run` and `stopcalld replay`: fixes and ticks in,
// stop events out. It holds the trip being tracked (given, or found by auto-detection), goes on
// with the next trip of the block when one ends, and keeps the GPS timeline sane.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "daemon/gps/time_filter.hpp"
#include "daemon/service/state_store.hpp"
#include "daemon/service_time.hpp"
#include "daemon/tracking/auto_detect.hpp"
#include "daemon/tracking/tracker.hpp"
#include "routes/bundle.hpp"

namespace stopcall::daemon {

struct PipelineOptions {
  std::string trip_id;  // empty: auto-detect
  bool follow_block = true;
  tracking::TrackerConfig tracker;
  tracking::AutoDetectConfig auto_detect;
  double candidates_radius_m = 1000;  // patterns with a stop this close to the bus are candidates
  int retry_detection_after_fixes = 60;  // no pattern fits: look again with fresh candidates
  // Saved before a restart (StateStore): the trip is resumed from it when the first fix comes
  // within resume_max_age_s of it, dropping the events up to and including the saved one.
  std::optional<SavedState> resume;
  double resume_max_age_s = 1800;
  // The time to a stop (time_to_stop) is predicted for a bus speeding up at the tracker's
  // typical_accel_mps2 to this speed (or on at its own when faster): a fast city bus between
  // stops, so the prediction errs short and an announcement chosen to fit does fit.
  double eta_cruise_mps = 13.9;  // 50 km/h
};

// Seconds to cover `distance_m` from `speed_mps`, speeding up at `accel_mps2` to
// max(speed, cruise_mps) and going on at that speed.
double seconds_to_cover(double distance_m, double speed_mps, double accel_mps2, double cruise_mps);

class Pipeline {
 public:
  Pipeline(const routes::Bundle& bundle, PipelineOptions options);

  void on_fix(const tracking::Fix& fix, std::vector<tracking::StopEvent>& out);
  void on_tick(tracking::Time now, std::vector<tracking::StopEvent>& out);
  // What the vehicle says of its motion (doors, speed signal): the tracker stands still honestly
  // and dead-reckons through outages by it.
  void on_vehicle(const tracking::VehicleMotion& vehicle);
  // The driver logged in to this trip: track it from now on (detection stops). Throws
  // routes::RouteError when the bundle has no such trip; nothing changes then.
  void login(const std::string& trip_id);

  // The trip being tracked; while several candidates are left (auto-detection), the one that what
  // they agree on is announced as.
  const routes::Trip* trip() const;
  const tracking::Tracker* tracker() const;
  // The predicted time until the bus reaches the stop of `event` (next_stop, approaching), from
  // the distance along to it and the speed (PipelineOptions::eta_cruise_mps); for a stop said
  // with the one before it (with_previous), the time to that one, which its words must not
  // outlast. nullopt without a tracker or a stop.
  std::optional<std::chrono::milliseconds> time_to_stop(const tracking::StopEvent& event) const;
  // How long the stop announcement for `event` (next_stop, approaching) has before it must be
  // over (FitTiming::until): "next stop X" until `approaching` for X may be due, the tracker
  // saying it on its own prediction (the bus speeding up as hard as it now does, on the fix before
  // it would be too late: the fix interval counts); "arriving at X" until the bus may have left
  // X, taken to drive through it (it may not halt there). nullopt for other events, or without a
  // tracker or a stop.
  std::optional<std::chrono::milliseconds> time_to_say(const tracking::StopEvent& event) const;
  // `approaching` comes this long before the bus reaches the stop.
  std::chrono::milliseconds approach_lead() const;
  long trips_started() const { return trips_started_; }
  long time_glitches() const { return time_filter_.dropped(); }
  // The fixes' timeline: the last fix taken, and whether the pipeline would take one.
  const gps::TimeFilter& time_filter() const { return time_filter_; }

 private:
  void start_trip(const std::string& trip_id);
  void start_detection(const tracking::Fix& fix);
  void detected(const tracking::Detection& found, const tracking::Fix& fix,
                std::vector<tracking::StopEvent>& out);
  void check_validity(const tracking::Fix& fix, std::vector<tracking::StopEvent>& out);
  void after_events(std::vector<tracking::StopEvent>& out, std::size_t first);
  void filter_resumed(std::vector<tracking::StopEvent>& out, std::size_t first);

  const routes::Bundle& bundle_;
  PipelineOptions options_;
  ServiceClock clock_;
  gps::TimeFilter time_filter_;
  routes::Trip trip_;
  std::unique_ptr<tracking::Tracker> tracker_;
  std::unique_ptr<tracking::AutoDetector> detector_;
  std::vector<tracking::Fix> detection_fixes_;  // fixes seen while detecting, for the catch-up
  int fixes_since_detection_start_ = 0;
  long trips_started_ = 0;
  bool resuming_ = false;            // dropping what was already said before the restart
  bool resume_checked_ = false;      // the first usable fix decided whether the state is fresh
  bool validity_checked_ = false;    // the first usable fix checked the route data's dates
  bool valid_today_ = true;          // ...and found service today (else route_data_not_valid)
  tracking::VehicleMotion vehicle_;  // the last the vehicle said
};

}  // namespace stopcall::daemon
