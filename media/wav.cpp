#include "media/wav.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <numbers>
#include <stdexcept>
#include <string>

namespace stopcall::media {
namespace {

std::uint32_t u32(const unsigned char* p) {
  return p[0] | (p[1] << 8) | (p[2] << 16) | (static_cast<std::uint32_t>(p[3]) << 24);
}
std::uint16_t u16(const unsigned char* p) {
  return static_cast<std::uint16_t>(p[0] | (p[1] << 8));
}

void put32(std::ofstream& out, std::uint32_t v) {
  const char b[4] = {static_cast<char>(v), static_cast<char>(v >> 8), static_cast<char>(v >> 16),
                     static_cast<char>(v >> 24)};
  out.write(b, 4);
}
void put16(std::ofstream& out, std::uint16_t v) {
  const char b[2] = {static_cast<char>(v), static_cast<char>(v >> 8)};
  out.write(b, 2);
}

}  // namespace

Wav read_wav(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path.string());
  const std::vector<unsigned char> bytes((std::istreambuf_iterator<char>(in)),
                                         std::istreambuf_iterator<char>());
  auto fail = [&](const char* why) { return std::runtime_error(path.string() + ": " + why); };
  if (bytes.size() < 12 || std::memcmp(bytes.data(), "RIFF", 4) != 0 ||
      std::memcmp(bytes.data() + 8, "WAVE", 4) != 0) {
    throw fail("not a RIFF/WAVE file");
  }
  Wav wav;
  int bits = 0;
  std::size_t pos = 12;
  while (pos + 8 <= bytes.size()) {
    const unsigned char* chunk = bytes.data() + pos;
    const std::size_t size = u32(chunk + 4);
    const std::size_t body = pos + 8;
    if (std::memcmp(chunk, "fmt ", 4) == 0 && size >= 16 && body + 16 <= bytes.size()) {
      if (u16(chunk + 8) != 1) throw fail("not PCM");
      wav.channels = u16(chunk + 10);
      wav.rate = static_cast<int>(u32(chunk + 12));
      bits = u16(chunk + 22);
    } else if (std::memcmp(chunk, "data", 4) == 0) {
      if (bits != 16 || wav.channels < 1) throw fail("only 16-bit PCM is read");
      const std::size_t avail = std::min(size, bytes.size() - body);
      const std::size_t frame = 2u * static_cast<std::size_t>(wav.channels);
      for (std::size_t i = 0; i + frame <= avail; i += frame) {
        wav.samples.push_back(static_cast<std::int16_t>(u16(bytes.data() + body + i)));
      }
      return wav;
    }
    pos = body + size + (size & 1);
  }
  throw fail("no data chunk");
}

void write_wav(const std::filesystem::path& path, const Samples& mono, int rate) {
  std::ofstream out(path, std::ios::binary);
  if (!out) throw std::runtime_error("cannot write " + path.string());
  const auto data_bytes = static_cast<std::uint32_t>(mono.size() * 2);
  out.write("RIFF", 4);
  put32(out, 36 + data_bytes);
  out.write("WAVEfmt ", 8);
  put32(out, 16);
  put16(out, 1);
  put16(out, 1);
  put32(out, static_cast<std::uint32_t>(rate));
  put32(out, static_cast<std::uint32_t>(rate) * 2);
  put16(out, 2);
  put16(out, 16);
  out.write("data", 4);
  put32(out, data_bytes);
  for (std::int16_t s : mono)
    put16(out, static_cast<std::uint16_t>(s));
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

std::vector<double> frame_rms_db(const Samples& pcm, int rate, double frame_ms) {
  // Frame k covers [k * frame_ms, (k + 1) * frame_ms) exactly: its sample bounds are rounded,
  // so frame times do not drift when frame_ms is not a whole number of samples.
  std::vector<double> out;
  auto bound = [&](std::size_t k) {
    return static_cast<std::size_t>(
        std::llround(static_cast<double>(k) * frame_ms * rate / 1000.0));
  };
  for (std::size_t k = 0;; ++k) {
    const std::size_t first = bound(k), last = bound(k + 1);
    if (last > pcm.size() || last <= first) break;
    double sum = 0;
    for (std::size_t j = first; j < last; ++j)
      sum += static_cast<double>(pcm[j]) * pcm[j];
    const double rms = std::sqrt(sum / static_cast<double>(last - first)) / 32768.0;
    out.push_back(rms > 1e-6 ? 20 * std::log10(rms) : -120.0);
  }
  return out;
}

double tone_level_db(const Samples& pcm, std::size_t first, std::size_t count, int rate,
                     double freq) {
  count = std::min(count, pcm.size() > first ? pcm.size() - first : 0);
  if (count == 0) return -120.0;
  const double w = 2 * std::numbers::pi * freq / rate;
  const double coeff = 2 * std::cos(w);
  double s1 = 0, s2 = 0;
  for (std::size_t i = first; i < first + count; ++i) {
    const double s0 = pcm[i] / 32768.0 + coeff * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  const double power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
  // A full-scale sine gives amplitude count/2; report as RMS dBFS of that component.
  const double amplitude = 2 * std::sqrt(std::max(power, 0.0)) / static_cast<double>(count);
  const double rms = amplitude / std::numbers::sqrt2;
  return rms > 1e-6 ? 20 * std::log10(rms) : -120.0;
}

}  // namespace stopcall::media
