#include "media/timeline.hpp"

#include "media/pcm.hpp"

namespace stopcall::media::detail {

std::int64_t Timeline::steady(time_point now) const {
  return origin_pos_ +
         ns_to_samples(std::chrono::duration_cast<std::chrono::nanoseconds>(now - origin_).count());
}

std::int64_t Timeline::position(time_point now, std::int64_t rt) const {
  return placed_ ? first_pos_ + ns_to_samples(rt - first_rt_) : steady(now);
}

std::int64_t Timeline::heard(time_point now, std::int64_t rt, std::int64_t latency) const {
  return placed_ ? position(now, rt) - ns_to_samples(latency) : steady(now);
}

std::int64_t Timeline::running_time(std::int64_t pos) const {
  return first_rt_ + samples_to_ns(pos - first_pos_).count();
}

void Timeline::place(std::int64_t first_rt, std::int64_t rt, time_point now) {
  // The timeline starts with the first sample the first sink receives.
  first_pos_ = started_ ? steady(now) - ns_to_samples(rt - first_rt) : 0;
  first_rt_ = first_rt;
  started_ = true;
  placed_ = true;
}

void Timeline::take_over(std::int64_t first_rt, std::int64_t rt, std::int64_t at) {
  first_pos_ = at - ns_to_samples(rt - first_rt);
  first_rt_ = first_rt;
  placed_ = true;
}

void Timeline::unplace(std::int64_t at, time_point now) {
  origin_pos_ = at;
  origin_ = now;
  placed_ = false;
}

void Timeline::run_steady(time_point now) {
  if (started_) return;
  started_ = true;
  origin_ = now;
  origin_pos_ = 0;
}

}  // namespace stopcall::media::detail
