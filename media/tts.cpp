#include "media/tts.hpp"

#include <espeak-ng/speak_lib.h>

#include <mutex>
#include <stdexcept>
#include <string>

namespace stopcall::media {
namespace {

// espeak-ng is one global state per process: this lock and what it guards mirror that.
struct EspeakState {
  std::mutex mu;
  bool initialised = false;
  int sample_rate = 0;
  std::string voice;  // currently selected
  int rate_wpm = -1;
};

EspeakState& espeak_state() {
  static EspeakState state;
  return state;
}

int collect(short* wav, int count, espeak_EVENT* events) {
  if (wav != nullptr && count > 0 && events != nullptr && events->user_data != nullptr) {
    auto* out = static_cast<Samples*>(events->user_data);
    out->insert(out->end(), wav, wav + count);
  }
  return 0;  // continue
}

bool select_voice_locked(EspeakState& st, const std::string& voice) {
  if (st.voice == voice) return true;
  if (espeak_SetVoiceByName(voice.c_str()) != EE_OK) return false;
  st.voice = voice;
  st.rate_wpm = -1;  // a new voice resets the rate
  return true;
}

}  // namespace

Synthesizer::Synthesizer() {
  EspeakState& st = espeak_state();
  std::lock_guard lock(st.mu);
  if (st.initialised) return;
  const int rate =
      espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 200, nullptr, espeakINITIALIZE_DONT_EXIT);
  if (rate <= 0) throw std::runtime_error("espeak-ng failed to initialise (espeak-ng-data?)");
  espeak_SetSynthCallback(collect);
  st.sample_rate = rate;
  st.initialised = true;
}

bool Synthesizer::has_voice(const std::string& voice) {
  EspeakState& st = espeak_state();
  std::lock_guard lock(st.mu);
  return select_voice_locked(st, voice);
}

Samples Synthesizer::speak(std::string_view text, const std::string& voice, int rate_wpm) {
  EspeakState& st = espeak_state();
  Samples pcm;
  {
    std::lock_guard lock(st.mu);
    if (!select_voice_locked(st, voice)) {
      throw std::runtime_error("espeak-ng has no voice '" + voice + "'");
    }
    const int wanted = rate_wpm > 0 ? rate_wpm : espeakRATE_NORMAL;
    if (st.rate_wpm != wanted) {
      espeak_SetParameter(espeakRATE, wanted, 0);
      st.rate_wpm = wanted;
    }
    const std::string z(text);  // NUL-terminated
    const espeak_ERROR err =
        espeak_Synth(z.c_str(), z.size() + 1, 0, POS_CHARACTER, 0, espeakCHARS_UTF8, nullptr, &pcm);
    if (err != EE_OK) {
      throw std::runtime_error("espeak-ng synthesis failed (error " + std::to_string(err) + ")");
    }
    espeak_Synchronize();
  }
  if (st.sample_rate != kRate) pcm = resample_linear(pcm, st.sample_rate, kRate);
  return pcm;
}

}  // namespace stopcall::media
