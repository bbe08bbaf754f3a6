// One GPS fix as the gpsd adapter hands it to the tracker: every field that may be missing is an
// optional, filled only when gpsd marked it valid (its `set` mask and `mode`) and it is finite.
// Plain data, no libgps header.
#pragma once

#include <chrono>
#include <cmath>
#include <optional>

#include "routes/model.hpp"

namespace stopcall::tracking {

// GPS time (UTC) with millisecond resolution. The tracker has no clock of its own: every fix and
// tick carries its time on this one time base.
using Time = std::chrono::sys_time<std::chrono::milliseconds>;

// Seconds from b to a (negative when a is earlier).
inline double seconds_between(Time a, Time b) {
  return std::chrono::duration<double>(a - b).count();
}

struct Fix {
  enum class Mode { no_fix, fix_2d, fix_3d };  // gpsd TPV `mode` 1, 2, 3
  // gpsd TPV `status`.
  enum class Status {
    unknown,
    normal,
    dgps,
    rtk_fix,
    rtk_float,
    dead_reckoning,
    gnss_dr,
    time_only
  };

  Time time{};  // GPS time of the fix
  Mode mode = Mode::no_fix;
  Status status = Status::unknown;
  std::optional<routes::LatLon> position;
  std::optional<double> speed_mps;  // ground speed (Doppler), m/s
  std::optional<double> track_deg;  // course over ground, degrees clockwise from true north
  std::optional<double> eph_m;      // estimated horizontal error (gpsd: 95 %), metres
  std::optional<double> epx_m;      // estimated longitude error, metres
  std::optional<double> epy_m;      // estimated latitude error, metres

  // True when the fix places the bus: a 2D/3D fix with a finite, in-range position (and not a
  // time-only solution).
  bool usable() const {
    if (!position || mode == Mode::no_fix || status == Status::time_only) return false;
    return std::isfinite(position->lat) && std::isfinite(position->lon) &&
           std::abs(position->lat) <= 90 && std::abs(position->lon) <= 180;
  }

  // The horizontal error estimate in metres, from eph or epx/epy; nullopt when neither is known.
  std::optional<double> horizontal_error_m() const {
    if (eph_m && std::isfinite(*eph_m) && *eph_m >= 0) return eph_m;
    if (epx_m && epy_m && std::isfinite(*epx_m) && std::isfinite(*epy_m))
      return std::hypot(*epx_m, *epy_m);
    return std::nullopt;
  }
};

}  // namespace stopcall::tracking
