// The synthetic feed's random numbers: our own generator (splitmix64) and our own draws, not the
// standard library's distributions, so the same seed gives the same feed on every machine.
#pragma once

#include <cstdint>

namespace stopcall::routes::bench {

class Rng {
 public:
  explicit Rng(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() {  // splitmix64
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }  // [0, 1)
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  long below(long n) { return static_cast<long>(next() % static_cast<std::uint64_t>(n)); }
  long between(long lo, long hi) { return lo + below(hi - lo + 1); }  // inclusive

 private:
  std::uint64_t state_;
};

}  // namespace stopcall::routes::bench
