// Mono 16-bit PCM at the engine's rate, and the little signal processing media needs.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

namespace stopcall::media {

// Everything inside the engine is mono S16 at espeak-ng's native rate; the output pipelines
// convert to whatever the sink wants.
inline constexpr int kRate = 22050;

using Samples = std::vector<std::int16_t>;
using PcmPtr = std::shared_ptr<const Samples>;

// The built-in two-tone chime ("ding-dong", 659 Hz then 523 Hz, 0.8 s).
Samples make_chime(int rate = kRate);

// Removes leading and trailing silence (below about -50 dBFS), keeping `keep` of it at each end
// so attacks and decays are not clipped.
void trim_silence(Samples& pcm, int rate = kRate,
                  std::chrono::milliseconds keep = std::chrono::milliseconds{2});

// Linear-interpolation resampler (used only when espeak-ng reports a rate other than kRate).
Samples resample_linear(const Samples& in, int from_rate, int to_rate);

inline std::int64_t ms_to_samples(std::chrono::milliseconds ms, int rate = kRate) {
  return static_cast<std::int64_t>(ms.count()) * rate / 1000;
}
// Exact for any realistic uptime (no overflow in the intermediate products).
inline std::chrono::nanoseconds samples_to_ns(std::int64_t n, int rate = kRate) {
  return std::chrono::nanoseconds{(n / rate) * 1'000'000'000LL +
                                  (n % rate) * 1'000'000'000LL / rate};
}
// Floor division, so positions before the origin come out right too.
inline std::int64_t ns_to_samples(std::int64_t ns, int rate = kRate) {
  constexpr std::int64_t kSecond = 1'000'000'000LL;
  std::int64_t s = ns / kSecond, r = ns % kSecond;
  if (r < 0) {
    r += kSecond;
    --s;
  }
  return s * rate + r * rate / kSecond;
}

}  // namespace stopcall::media
