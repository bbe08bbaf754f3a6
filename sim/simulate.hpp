// A simulated bus driving one GTFS trip: realistic kinematics along the trip's shape (accelerating,
// cruising at a speed that varies per stretch, slowing for curves and traffic, braking to a halt),
// dwelling at the stops where someone waits, driving through the others, waiting at red lights.
// The result is the ground truth of the run (when the bus reached and left each stop) and its true
// trajectory sampled at 10 Hz, from which noise.hpp makes GPS fixes. Pure and deterministic: the
// same trip, options and seed give the same run.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "daemon/tracking/fix.hpp"
#include "daemon/tracking/trip_line.hpp"
#include "routes/geo.hpp"
#include "routes/model.hpp"

namespace stopcall::sim {

using tracking::Time;

struct SimOptions {
  // Kinematics. The driver of each run accelerates and brakes within +-driver_variation of these.
  double accel_mps2 = 1.0;
  double decel_mps2 = 1.2;
  double driver_variation = 0.15;
  double cruise_min_mps = 8.0;  // cruise speed, drawn per stop-to-stop stretch
  double cruise_max_mps = 15.0;
  double curve_lateral_accel_mps2 = 1.5;  // curves are taken at most this hard...
  double curve_min_mps = 4.0;             // ...but never slower than this
  // Stops.
  double dwell_min_s = 15.0;
  double dwell_max_s = 40.0;
  double pass_probability = 0.15;  // nobody waits: driven through (never the first or last stop)
  double halt_jitter_m = 4.0;      // the bus halts within +-this of the stop's place on the shape
  // Stops closer than this to the stop before them (berths of one station, a stop the shape
  // puts on top of another) are one halt: the bus halts once, anywhere along them.
  double same_halt_m = 30.0;
  // Red lights short of a stop (the bus halts there, then drives on to the stop).
  double red_light_probability = 0.25;
  double red_light_min_m = 20.0;
  double red_light_max_m = 80.0;
  double red_light_min_s = 20.0;
  double red_light_max_s = 60.0;
  // Red lights between stops, at a junction at least 100 m from either stop.
  double junction_light_probability = 0.3;
  double junction_light_min_s = 10.0;
  double junction_light_max_s = 60.0;
  // Traffic: a stretch of 80-300 m crawled at 2-5 m/s.
  double slowdown_probability = 0.15;
  // Layover: the bus stands at the first stop this long before its dwell there.
  double layover_probability = 0.5;
  double layover_max_s = 300.0;
  std::optional<double> layover_s;  // when set: exactly this layover, no draw
  double terminal_wait_s = 30.0;    // standing at the last stop before the run ends
  // The run's start; default: the trip's first departure on Monday 2026-03-02, minus the
  // layover and dwell at the first stop.
  std::optional<Time> start;
  // GTFS times are local: the agencies' offset from UTC (Shenzhen: +8 h), so GPS times (UTC) in
  // the trace match the timetable the way a real bus's do. 0 keeps timetable times as UTC.
  std::chrono::seconds utc_offset{0};
};

// One stop of the trip as the bus served it.
struct StopTruth {
  int index = 0;  // into Trip::stops
  std::string stop_id;
  int stop_sequence = 0;
  double distance_m = 0;  // along the shape: where the bus halted, or the stop when driven through
  bool stopped = true;    // halted there (always true for the first and last stop)
  int shares_halt_of = -1;  // the stop whose halt this one shares (SimOptions::same_halt_m), or -1
  // Halted there (a shared halt: the halt's times); when driven through, the moment it passed.
  // First stop: arrival is the start; last stop: departure is the end.
  Time arrival{};
  Time departure{};  // started moving again; equal to arrival when driven through
};

struct RedLight {
  int before_stop = -1;        // the stop it is short of; -1 for a junction between stops
  double distance_m = 0;       // along the shape
  double short_of_stop_m = 0;  // how far before the bus's halt at that stop (0 for a junction)
  Time start{};
  Time end{};
};

// A GPS outage (no fix): a tunnel, written with the truth for the picture on failure.
struct Outage {
  Time start{};
  Time end{};
  int covers_stop = -1;  // the stop the bus served inside it, if any
};

struct Truth {
  std::string trip_id;
  std::uint64_t seed = 0;
  std::string noise_model;  // set by whoever adds the noise
  Time start{};
  Time end{};
  std::vector<StopTruth> stops;  // one per Trip::stops, in order
  std::vector<RedLight> red_lights;
  std::vector<Outage> outages;
};

// The true state of the bus at one instant.
struct TruePoint {
  Time time{};
  double distance_m = 0;  // along the shape
  double speed_mps = 0;
  double heading_deg = 0;  // course over ground, degrees clockwise from north
  routes::LatLon position;
};

struct Simulation {
  Truth truth;
  std::vector<TruePoint> trajectory;  // every 100 ms from truth.start to truth.end
};

// The trip's shape as a polyline in local metres (from the stops when it has no shape) and each
// stop's distance along it (non-decreasing). Throws std::invalid_argument for a trip that cannot
// be driven (no stops, no length).
struct TripGeometry : tracking::TripLine {
  using TripLine::TripLine;  // the same line and stop places as the tracker's
  routes::geo::XY point_at(double distance_m) const;
  double heading_deg_at(double distance_m) const;
};

Simulation simulate(const routes::Trip& trip, const SimOptions& options, std::uint64_t seed);

// Seconds from a to b.
double seconds_between(Time a, Time b);
// a + s seconds, rounded to the millisecond.
Time add_seconds(Time a, double s);

}  // namespace stopcall::sim
