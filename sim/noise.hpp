// GPS receivers for simulated runs: each noise model turns a true trajectory into the fixes a
// receiver of that kind would report (position, Doppler speed, course, its own error estimate),
// with the receiver's typical faults. Seeded (std::mt19937_64), deterministic.
//
//   clean            1 Hz, sigma 2 m. An open-sky receiver.
//   urban_multipath  1 Hz, sigma 5 m; multipath bursts of 5-15 s about once a minute that throw
//                    the fixes 15-50 m sideways, up to 25 degrees off the perpendicular (so partly
//                    along the road), the Doppler speed up to 1.5 m/s too high; 3 % of the fixes
//                    missing; eph about 25 m (gpsd's 19 m x HDOP 1.3).
//   urban_canyon     1 Hz, sigma 8 m; bursts as above but 30-80 m; single outliers 100-500 m off
//                    (about 1 fix in 80); while the bus stands the fix wanders up to some 15 m
//                    and the Doppler speed is mostly 0.3-1.3 m/s, now and then up to 3 m/s, in any
//                    direction; 3 % missing; eph 40-60 m (HDOP about 2.4: what gpsd reports for
//                    an NMEA receiver in a canyon, far above the real scatter).
//   tunnel           the urban receiver, and outages of 30-120 s (reports without a fix): one
//                    or two over a stop the bus serves (an underground stop, a viaduct), the
//                    others over stretches without a stop or a traffic light; the first fixes
//                    after an outage are poorer.
//   sparse           the urban receiver reporting every 5 s (0.2 Hz).
//   hz10             10 Hz, sigma 3 m (a receiver smoothing its output).
//
// These follow what the independent road test (../shared/road-test) showed a receiver does on
// the road, where the first version of this suite was kinder.
// Sigma is the standard deviation of the position error along each axis; part of it is
// correlated in time (a Gauss-Markov process), as real receivers' errors are.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/tracking/fix.hpp"
#include "sim/simulate.hpp"

namespace stopcall::sim {

enum class NoiseModel { clean, urban_multipath, urban_canyon, tunnel, sparse, hz10 };

inline constexpr NoiseModel kAllNoiseModels[] = {
    NoiseModel::clean,  NoiseModel::urban_multipath, NoiseModel::urban_canyon,
    NoiseModel::tunnel, NoiseModel::sparse,          NoiseModel::hz10};

std::string_view noise_model_name(NoiseModel model);
std::optional<NoiseModel> parse_noise_model(std::string_view name);

struct NoisyTrace {
  std::vector<tracking::Fix> fixes;  // in time order; reports without a fix have no position
  std::vector<Outage> outages;
};

// The fixes a receiver of that model reports during the simulated run.
NoisyTrace add_noise(const Simulation& sim, NoiseModel model, std::uint64_t seed);

}  // namespace stopcall::sim
