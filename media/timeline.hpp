// The timeline of one output, without GStreamer: positions in samples since the output's first
// sample, continuous across the pipelines that play it (the configured sink, the fallback, the
// configured sink again when a retry takes over). While a pipeline is placed on it, a position
// comes from that pipeline's running time; between pipelines, and when none can play at all, from
// the steady clock, carrying on from where the last pipeline left it. Private to media/; one thread
// (the output's feeder) uses it.
#pragma once

#include <chrono>
#include <cstdint>

namespace stopcall::media::detail {

class Timeline {
 public:
  using time_point = std::chrono::steady_clock::time_point;

  explicit Timeline(time_point start) : origin_(start) {}

  // Positions are known: a pipeline is placed, or the timeline has started on the steady clock.
  bool available() const { return started_ || placed_; }
  // A pipeline is placed on it: positions come from that pipeline's running time.
  bool placed() const { return placed_; }

  // The position put out at the steady time `now`, when the placed pipeline's running time is
  // `rt` (nanoseconds; not read when no pipeline is placed).
  std::int64_t position(time_point now, std::int64_t rt) const;
  // The position heard then: behind by the placed pipeline's `latency` (nanoseconds).
  std::int64_t heard(time_point now, std::int64_t rt, std::int64_t latency) const;
  // The placed pipeline's running time (nanoseconds) of the position `pos`.
  std::int64_t running_time(std::int64_t pos) const;

  // Places a pipeline that has become ready: `first_rt` is the running time of the first sample
  // it received, `rt` its running time now. The first ever starts the timeline there, at 0; any
  // later one continues it from the steady clock's position.
  void place(std::int64_t first_rt, std::int64_t rt, time_point now);
  // Places a pipeline that takes over from the one placed: it continues from `at`, the position
  // at this moment.
  void take_over(std::int64_t first_rt, std::int64_t rt, std::int64_t at);
  // The placed pipeline is gone: the steady clock carries on from `at`, its last position.
  void unplace(std::int64_t at, time_point now);
  // Nothing can play: a timeline that never started starts on the steady clock, at 0.
  void run_steady(time_point now);

 private:
  std::int64_t steady(time_point now) const;

  bool started_ = false;
  bool placed_ = false;
  time_point origin_;            // the steady clock's position...
  std::int64_t origin_pos_ = 0;  // ...is this one then
  std::int64_t first_rt_ = 0;    // the placed pipeline's running time...
  std::int64_t first_pos_ = 0;   // ...of this position
};

}  // namespace stopcall::media::detail
