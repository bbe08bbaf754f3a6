// Reconnect delays: exponential with full jitter. The n-th failed attempt in a row (from 0) waits
// a time drawn uniformly from [min, min(max, min * 2^(n+2))], so 3,000 buses that lost the broker
// at the same moment do not all come back in the same second: their first tries spread over
// 3 * min, the next ones over twice that, and so on up to `max`.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <random>

namespace stopcall::daemon::fleet {

class Backoff {
 public:
  using ms = std::chrono::milliseconds;
  Backoff(ms min, ms max, std::uint64_t seed) : min_(min), max_(std::max(min, max)), rng_(seed) {}

  // The wait before the next attempt; each call counts one more failure.
  ms next() {
    const double cap =
        std::min(static_cast<double>(max_.count()),
                 static_cast<double>(min_.count()) * double(1ull << std::min(failures_ + 2, 40)));
    ++failures_;
    std::uniform_real_distribution<double> pick(static_cast<double>(min_.count()), cap);
    return ms(static_cast<ms::rep>(pick(rng_)));
  }
  // Connected: the next loss starts from `min` again.
  void reset() { failures_ = 0; }
  int failures() const { return failures_; }

 private:
  ms min_, max_;
  std::mt19937_64 rng_;
  int failures_ = 0;
};

}  // namespace stopcall::daemon::fleet
