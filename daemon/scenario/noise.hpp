// GPS receivers for simulated runs: each noise model turns a true trajectory into the fixes a
// receiver of that kind would report (position, Doppler speed, course, its own error estimate),
// with the receiver's typical faults. Seeded (std::mt19937_64), deterministic.
//
//   clean            1 Hz, sigma 1.5 m. An open-sky receiver.
//   urban_multipath  1 Hz, sigma 4 m, plus bursts of 3-10 s (about one every two minutes) in
//                    which reflections shift the fixes 15-80 m sideways.
//   urban_canyon     1 Hz, sigma 6 m; single outliers 100-500 m off (about 1 fix in 80); while
//                    the bus stands, the fix wanders several metres and the Doppler speed jitters;
//                    about 3 % of the fixes are missing (no report, or a report without a fix).
//   tunnel           1 Hz, sigma 2.5 m; outages of 30-120 s (reports without a fix), one of them
//                    over a stop the bus serves (an underground stop), the others over stretches
//                    without a stop or a traffic light; the first fixes after an outage are poorer.
//   sparse           0.2 Hz (a fix every 5 s), sigma 3 m.
//   hz10             10 Hz, sigma 2 m (a receiver smoothing its output).
//
// Sigma is the standard deviation of the position error along each axis; part of it is
// correlated in time (a Gauss-Markov process), as real receivers' errors are.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/scenario/simulate.hpp"
#include "daemon/tracking/fix.hpp"

namespace stopcall::scenario {

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

}  // namespace stopcall::scenario
