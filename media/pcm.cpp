#include "media/pcm.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <numbers>

namespace stopcall::media {

Samples make_chime(int rate) {
  struct Note {
    double freq;
    double seconds;
  };
  const Note notes[] = {{659.25, 0.30}, {523.25, 0.50}};
  Samples out;
  for (const Note& n : notes) {
    const auto count = static_cast<std::size_t>(n.seconds * rate);
    for (std::size_t i = 0; i < count; ++i) {
      const double t = static_cast<double>(i) / rate;
      const double attack = std::min(1.0, t / 0.005);
      const double release = std::min(1.0, (n.seconds - t) / 0.010);
      const double envelope = attack * release * std::exp(-3.0 * t);
      const double w = 2 * std::numbers::pi * n.freq * t;
      const double v = std::sin(w) + 0.3 * std::sin(2 * w) + 0.1 * std::sin(3 * w);
      out.push_back(static_cast<std::int16_t>(std::lround(0.45 * 32767 * envelope * v / 1.4)));
    }
  }
  return out;
}

void trim_silence(Samples& pcm, int rate, std::chrono::milliseconds keep) {
  constexpr int kThreshold = 100;  // about -50 dBFS
  auto loud = [](std::int16_t s) { return std::abs(static_cast<int>(s)) > kThreshold; };
  const auto first = std::find_if(pcm.begin(), pcm.end(), loud);
  if (first == pcm.end()) {
    pcm.clear();
    return;
  }
  const auto last = std::find_if(pcm.rbegin(), pcm.rend(), loud).base();  // one past
  const auto margin = static_cast<std::ptrdiff_t>(ms_to_samples(keep, rate));
  const auto begin = std::max(pcm.begin(), first - std::min(margin, first - pcm.begin()));
  const auto end = last + std::min(margin, pcm.end() - last);
  pcm = Samples(begin, end);
}

Samples resample_linear(const Samples& in, int from_rate, int to_rate) {
  if (from_rate == to_rate || in.empty()) return in;
  const auto count = static_cast<std::size_t>(static_cast<double>(in.size()) * to_rate / from_rate);
  Samples out(count);
  for (std::size_t i = 0; i < count; ++i) {
    const double pos = static_cast<double>(i) * from_rate / to_rate;
    const auto j = static_cast<std::size_t>(pos);
    const double frac = pos - static_cast<double>(j);
    const double a = in[std::min(j, in.size() - 1)];
    const double b = in[std::min(j + 1, in.size() - 1)];
    out[i] = static_cast<std::int16_t>(std::lround(a + (b - a) * frac));
  }
  return out;
}

}  // namespace stopcall::media
