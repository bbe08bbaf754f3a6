// Text-to-speech through libespeak-ng's C API (synchronous output, a synth callback collecting
// 16-bit PCM).
//
// espeak-ng keeps its state in process globals and is not thread-safe, so every call into it,
// from any Synthesizer, is serialised by one lock inside tts.cpp; the engine makes all its calls
// from its one preparation thread anyway. espeak-ng is initialised once per process and never
// terminated: espeak_Terminate() deadlocks in espeak-ng 1.51 (its event thread waits forever).
#pragma once

#include <string>
#include <string_view>

#include "media/pcm.hpp"

namespace stopcall::media {

class Synthesizer {
 public:
  Synthesizer();  // throws std::runtime_error when espeak-ng cannot initialise

  // Mono 16-bit PCM at kRate. Throws std::runtime_error when the voice does not exist or
  // synthesis fails. rate_wpm 0 = espeak's default.
  Samples speak(std::string_view text, const std::string& voice, int rate_wpm = 0);
  bool has_voice(const std::string& voice);
};

}  // namespace stopcall::media
