#include "daemon/tracking/position_noise.hpp"

#include <algorithm>
#include <cmath>

namespace stopcall::tracking {

namespace {

// For normal errors of deviation sigma across the line, half of them are within 0.674 sigma.
constexpr double kHalfNormalMedian = 0.674;
// Step of the running medians: each value moves the median by this factor up or down, so they
// settle within some 30 fixes and a minority of wild fixes (multipath) moves them little.
constexpr double kStep = 0.08;
constexpr double kMaxEphRatio = 4.0;  // a fix is believed at most this much less than usual

void track_median(double& median, double value) {
  median *= std::exp(value > median ? kStep : -kStep);
}

}  // namespace

PositionNoise::PositionNoise(double initial_sigma_m)
    : lateral_median_m_(kHalfNormalMedian * std::max(initial_sigma_m, min_sigma_m)) {}

void PositionNoise::on_fix(double lateral_m, std::optional<double> eph_m) {
  if (std::isfinite(lateral_m) && lateral_m >= 0) track_median(lateral_median_m_, lateral_m);
  if (eph_m && std::isfinite(*eph_m) && *eph_m > 0) {
    if (eph_median_m_)
      track_median(*eph_median_m_, *eph_m);
    else
      eph_median_m_ = *eph_m;
  }
}

double PositionNoise::sigma_m() const {
  return std::max(min_sigma_m, lateral_median_m_ / kHalfNormalMedian);
}

double PositionNoise::sigma_m(std::optional<double> eph_m) const {
  double ratio = 1;
  if (eph_m && eph_median_m_ && std::isfinite(*eph_m) && *eph_median_m_ > 0)
    ratio = std::clamp(*eph_m / *eph_median_m_, 1.0, kMaxEphRatio);
  return sigma_m() * ratio;
}

}  // namespace stopcall::tracking
