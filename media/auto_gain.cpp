#include "media/auto_gain.hpp"

#include <algorithm>
#include <cmath>

namespace stopcall::media {

namespace {

constexpr double kSilenceDb = -120;  // digital silence reads -inf (or -700) from `level`

}  // namespace

AutoGain::AutoGain(const AmbientConfig& config)
    : target_above_db_(config.target_above_db),
      speech_reference_db_(config.speech_reference_db),
      floor_db_(std::min(config.floor_db, config.ceiling_db)),
      ceiling_db_(std::max(config.floor_db, config.ceiling_db)),
      interval_(std::max(config.interval, std::chrono::milliseconds{1})),
      release_(std::max(config.release, std::chrono::milliseconds{0})) {
  const double tau = std::chrono::duration<double>(config.smoothing).count();
  const double dt = std::chrono::duration<double>(interval_).count();
  alpha_ = tau > 0 ? 1.0 - std::exp(-dt / tau) : 1.0;
}

void AutoGain::speakers_played(Clock::time_point at) {
  if (!last_played_ || at > *last_played_) last_played_ = at;
}

bool AutoGain::frozen(Clock::time_point at) const {
  return last_played_ && at - interval_ < *last_played_ + release_;
}

bool AutoGain::reading(double rms_db, Clock::time_point at) {
  if (frozen(at)) return false;
  const double level = std::isfinite(rms_db) ? std::clamp(rms_db, kSilenceDb, 0.0) : kSilenceDb;
  ambient_ = ambient_ ? *ambient_ + alpha_ * (level - *ambient_) : level;
  return true;
}

void AutoGain::reset() {
  ambient_.reset();
}

double AutoGain::adjustment_db() const {
  if (!ambient_) return 0;
  return std::clamp(*ambient_ + target_above_db_ - speech_reference_db_, floor_db_, ceiling_db_);
}

}  // namespace stopcall::media
