// How much to believe a fix's position. Receivers report their error (gpsd's `eph`) on scales
// of their own: one that speaks NMEA has its HDOP times a nominal range error turned into `eph`
// (HDOP 2.4 gives about 45 m where the fixes scatter by 8 m), another reports a real 95 % circle,
// a third nothing. So the scale comes from the fixes themselves -- their distance across the
// route's line, which along-track filtering does not touch -- and `eph` only says how much worse
// one fix is than the receiver's usual. Pure.
#pragma once

#include <optional>

namespace stopcall::tracking {

class PositionNoise {
 public:
  // `initial_sigma_m`: the scatter assumed before the fixes tell (one standard deviation).
  explicit PositionNoise(double initial_sigma_m);

  // A fix the bus was placed by: its distance across the route's line and its `eph`, if any.
  void on_fix(double lateral_m, std::optional<double> eph_m);
  // One standard deviation of a usual fix's position error, metres (at least min_sigma_m).
  double sigma_m() const;
  // The same for a fix with this `eph`: larger when the receiver says it is worse than usual.
  double sigma_m(std::optional<double> eph_m) const;

  static constexpr double min_sigma_m = 2.0;

 private:
  double lateral_median_m_;             // running median of the distance across the line
  std::optional<double> eph_median_m_;  // running median of eph
};

}  // namespace stopcall::tracking
