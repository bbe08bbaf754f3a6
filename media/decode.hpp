// Decoding a recorded clip (any format an installed GStreamer decoder reads: WAV, Ogg/Vorbis,
// Opus, FLAC, MP3 …) to mono 16-bit PCM at kRate, with a short-lived GStreamer pipeline.
#pragma once

#include <chrono>
#include <filesystem>

#include "media/pcm.hpp"

namespace stopcall::media {

// Throws std::runtime_error with a message a depot worker can act on (missing file, no decoder,
// corrupt data, timeout, longer than max_length). gst_init must have been called.
Samples decode_clip(const std::filesystem::path& file, std::chrono::milliseconds timeout,
                    std::chrono::seconds max_length = std::chrono::seconds{120});

}  // namespace stopcall::media
