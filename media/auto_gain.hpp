// The arithmetic of the automatic gain, without GStreamer: a smoothed estimate of the cabin noise
// from microphone level readings, held while the speakers play, and the adjustment it asks for.
// Used by the ambient monitor (ambient.hpp) on its own thread; not thread-safe.
#pragma once

#include <chrono>
#include <optional>

#include "media/types.hpp"

namespace stopcall::media {

class AutoGain {
 public:
  using Clock = std::chrono::steady_clock;

  explicit AutoGain(const AmbientConfig& config);

  // The speakers were playing at `at`: call it while they play, and with the moment they stopped.
  void speakers_played(Clock::time_point at);
  // One microphone reading: the RMS level in dBFS over the `interval` that ended at `at`. Returns
  // false when it is ignored because the microphone may have heard the speakers: its interval
  // began less than `release` after they last played. The first reading sets the estimate; each
  // later one moves it by 1 - exp(-interval / smoothing) of the difference, in dB.
  bool reading(double rms_db, Clock::time_point at);
  // Forgets the estimate (the microphone failed): the adjustment is 0 again.
  void reset();

  // Whether a reading ending at `at` would be ignored.
  bool frozen(Clock::time_point at) const;
  std::optional<double> ambient_db() const { return ambient_; }
  // clamp(ambient + target_above - speech_reference, floor, ceiling); 0 without an estimate.
  double adjustment_db() const;

 private:
  double target_above_db_;
  double speech_reference_db_;
  double floor_db_;
  double ceiling_db_;
  Clock::duration interval_;
  Clock::duration release_;
  double alpha_;
  std::optional<double> ambient_;
  std::optional<Clock::time_point> last_played_;
};

}  // namespace stopcall::media
