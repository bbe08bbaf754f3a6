// espeak-ng synthesis and GStreamer clip decoding, for real.
#include <gtest/gtest.h>

#include <fstream>

#include "media/decode.hpp"
#include "media/tts.hpp"
#include "test_support.hpp"

namespace stopcall::media {
namespace {

double seconds(const Samples& pcm) {
  return static_cast<double>(pcm.size()) / kRate;
}

TEST(Synthesizer, SpeaksAllThreeLanguagesAtPlausibleLength) {
  Synthesizer tts;
  const struct {
    const char* voice;
    const char* text;
  } cases[] = {{"cmn-latn-pinyin", "下一站，车公庙"},
               {"yue", "下一站，車公廟"},
               {"en", "Next stop: Chegongmiao"}};
  for (const auto& c : cases) {
    Samples pcm = tts.speak(c.text, c.voice);
    trim_silence(pcm);
    SCOPED_TRACE(c.voice);
    EXPECT_GT(seconds(pcm), 0.5);
    EXPECT_LT(seconds(pcm), 6.0);
    const auto levels = frame_rms_db(pcm, kRate, 10);
    const auto loud =
        std::count_if(levels.begin(), levels.end(), [](double db) { return db > -40; });
    EXPECT_GT(static_cast<double>(loud) / static_cast<double>(levels.size()),
              0.4);  // mostly voiced
  }
}

TEST(Synthesizer, UnknownVoiceThrows) {
  Synthesizer tts;
  EXPECT_FALSE(tts.has_voice("no-such-voice"));
  EXPECT_THROW(tts.speak("hello", "no-such-voice"), std::runtime_error);
  EXPECT_TRUE(tts.has_voice("en"));
}

TEST(Synthesizer, FasterRateIsShorter) {
  Synthesizer tts;
  const Samples normal = tts.speak("Convention and Exhibition Center", "en", 0);
  const Samples fast = tts.speak("Convention and Exhibition Center", "en", 300);
  EXPECT_LT(seconds(fast), seconds(normal) * 0.8);
}

TEST(DecodeClip, DecodesAndResamplesAnyRate) {
  test::ScratchDir dir;
  const auto file = test::write_tone(dir / "tone.wav", 440, std::chrono::milliseconds{400}, 44100);
  const Samples pcm = decode_clip(file, std::chrono::seconds{5});
  EXPECT_NEAR(seconds(pcm), 0.4, 0.01);
  EXPECT_NEAR(tone_level_db(pcm, 1000, 4000, kRate, 440), -13.5, 1.0);
}

TEST(DecodeClip, DecodesTheDemoClip) {
  const std::filesystem::path clip =
      std::filesystem::path(STOPCALL_SOURCE_DIR) /
      "routes/demo/shenzhen-101-extra/clips/gangxia-name-zh-Hans.wav";
  const Samples pcm = decode_clip(clip, std::chrono::seconds{5});
  EXPECT_GT(seconds(pcm), 0.3);
  EXPECT_LT(seconds(pcm), 3.0);
}

TEST(DecodeClip, MissingAndUndecodableFilesSayWhy) {
  test::ScratchDir dir;
  try {
    decode_clip(dir / "missing.ogg", std::chrono::seconds{5});
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("does not exist"), std::string::npos) << e.what();
  }
  std::ofstream(dir / "text.wav") << "this is not audio at all, just some words in a file\n";
  try {
    decode_clip(dir / "text.wav", std::chrono::seconds{5});
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot decode"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace stopcall::media
