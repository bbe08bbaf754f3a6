// Reading and writing 16-bit PCM WAV files, and the measurements the tests and the benchmark
// make on them (10 ms frame levels, tone levels). Plain C++, no GStreamer.
#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

#include "media/pcm.hpp"

namespace stopcall::media {

struct Wav {
  int rate = 0;
  int channels = 0;
  Samples samples;  // the first channel
};

// Reads a RIFF/WAVE file with 16-bit PCM data. Throws std::runtime_error.
Wav read_wav(const std::filesystem::path& path);
void write_wav(const std::filesystem::path& path, const Samples& mono, int rate);

// RMS level in dBFS of consecutive frames of frame_ms, frame k starting at exactly k * frame_ms
// (the last partial frame is dropped);
// silence reads -120.
std::vector<double> frame_rms_db(const Samples& pcm, int rate, double frame_ms = 10.0);

// Level in dBFS of the component at `freq` in pcm[first, first+count) (Goertzel), for telling
// test tones apart in a mix.
double tone_level_db(const Samples& pcm, std::size_t first, std::size_t count, int rate,
                     double freq);

}  // namespace stopcall::media
