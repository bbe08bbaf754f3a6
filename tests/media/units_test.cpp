// The pure parts of media: the audio cache, voice lookup, quiet hours, the JSON format, PCM
// helpers.
#include <gtest/gtest.h>

#include <filesystem>
#include <stdexcept>

#include "media/announcement_json.hpp"
#include "media/audio_cache.hpp"
#include "media/pcm.hpp"
#include "media/voices.hpp"
#include "media/wav.hpp"
#include "test_support.hpp"

namespace stopcall::media {
namespace {

PcmPtr pcm_of(std::size_t samples) {
  return std::make_shared<const Samples>(samples, 1);
}

TEST(AudioCache, EvictsLeastRecentlyUsedByBytes) {
  AudioCache cache(1000);  // bytes: 500 samples
  cache.put("a", pcm_of(200));
  cache.put("b", pcm_of(200));
  ASSERT_NE(cache.get("a"), nullptr);  // a is now the most recent
  cache.put("c", pcm_of(200));         // 1200 bytes > 1000: evicts b
  EXPECT_NE(cache.get("a"), nullptr);
  EXPECT_EQ(cache.get("b"), nullptr);
  EXPECT_NE(cache.get("c"), nullptr);
  const CacheStats s = cache.stats();
  EXPECT_EQ(s.entries, 2u);
  EXPECT_EQ(s.bytes, 800u);
  EXPECT_EQ(s.evictions, 1u);
  EXPECT_EQ(s.hits, 3u);
  EXPECT_EQ(s.misses, 1u);
}

TEST(AudioCache, ReplacesAndRefusesOversizedEntries) {
  AudioCache cache(1000);
  cache.put("a", pcm_of(100));
  cache.put("a", pcm_of(300));
  EXPECT_EQ(cache.stats().bytes, 600u);
  cache.put("huge", pcm_of(600));  // 1200 bytes: never fits
  EXPECT_EQ(cache.get("huge"), nullptr);
  EXPECT_NE(cache.get("a"), nullptr);
}

TEST(AudioCache, EvictedAudioStaysAliveWhileUsed) {
  AudioCache cache(400);
  cache.put("a", pcm_of(200));
  PcmPtr held = cache.get("a");
  cache.put("b", pcm_of(200));
  EXPECT_EQ(cache.get("a"), nullptr);
  ASSERT_NE(held, nullptr);
  EXPECT_EQ(held->size(), 200u);
}

TEST(VoiceMap, DefaultsAndSubtagFallback) {
  const VoiceMap voices;
  EXPECT_EQ(voices.voice_for("zh"), "cmn-latn-pinyin");
  EXPECT_EQ(voices.voice_for("zh-Hans"), "cmn-latn-pinyin");
  EXPECT_EQ(voices.voice_for("zh-Hans-CN"), "cmn-latn-pinyin");
  EXPECT_EQ(voices.voice_for("cmn"), "cmn-latn-pinyin");
  EXPECT_EQ(voices.voice_for("yue"), "yue");
  EXPECT_EQ(voices.voice_for("zh-HK"), "yue");
  EXPECT_EQ(voices.voice_for("en"), "en");
  EXPECT_EQ(voices.voice_for("en_GB"), "en");
  EXPECT_EQ(voices.voice_for("EN-us"), "en");
  EXPECT_EQ(voices.voice_for("fr"), std::nullopt);
  EXPECT_EQ(voices.voice_for(""), std::nullopt);
}

TEST(VoiceMap, OverridesWin) {
  const VoiceMap voices({{"zh-Hans", "cmn"}, {"en-GB", "en-gb-x-rp"}});
  EXPECT_EQ(voices.voice_for("zh-Hans"), "cmn");
  EXPECT_EQ(voices.voice_for("zh"), "cmn-latn-pinyin");
  EXPECT_EQ(voices.voice_for("en-GB"), "en-gb-x-rp");
  EXPECT_EQ(voices.voice_for("en-US"), "en");
}

TEST(QuietHours, WrapsMidnight) {
  const QuietHours night{22, 7, -12.0};
  EXPECT_TRUE(night.active_at(22));
  EXPECT_TRUE(night.active_at(23));
  EXPECT_TRUE(night.active_at(0));
  EXPECT_TRUE(night.active_at(6));
  EXPECT_FALSE(night.active_at(7));
  EXPECT_FALSE(night.active_at(12));
  EXPECT_FALSE(night.active_at(21));
  const QuietHours afternoon{13, 15, std::nullopt};
  EXPECT_TRUE(afternoon.active_at(13));
  EXPECT_FALSE(afternoon.active_at(15));
  EXPECT_FALSE((QuietHours{5, 5, std::nullopt}.active_at(5)));
}

TEST(AnnouncementJson, ParsesTheDocumentedExample) {
  const char* text = R"({"id":"a1","priority":"stop","segments":[
      {"kind":"chime"},
      {"kind":"speech","text":"下一站，车公庙","lang":"zh"},
      {"kind":"pause","ms":300},
      {"kind":"speech","text":"Next stop: Chegongmiao","lang":"en","spoken":"Next stop: Chegong meow"},
      {"kind":"clip","path":"x.wav","text":"车公庙","lang":"yue","outputs":["exterior"]}]})";
  const Announcement a = announcement_from_json(text, "/base");
  EXPECT_EQ(a.id, "a1");
  EXPECT_EQ(a.priority, Priority::stop);
  EXPECT_EQ(a.outputs, Outputs{});
  ASSERT_EQ(a.segments.size(), 5u);
  EXPECT_EQ(a.segments[0].kind, SegmentKind::chime);
  EXPECT_EQ(a.segments[1].text, "下一站，车公庙");
  EXPECT_EQ(a.segments[1].lang, "zh");
  EXPECT_EQ(a.segments[2].pause, std::chrono::milliseconds{300});
  EXPECT_EQ(a.segments[3].spoken, "Next stop: Chegong meow");
  EXPECT_EQ(a.segments[4].clip, std::filesystem::path("/base/x.wav"));
  EXPECT_EQ(a.segments[4].outputs, Outputs::only(Output::exterior));
}

// Found by fuzz/announcement.cpp: a number too large for a double is not a parse error to
// nlohmann but out_of_range, which escaped and ended stopcall-render.
TEST(AnnouncementJson, ANumberTooLargeIsAnErrorNotACrash) {
  try {
    announcement_from_json(R"({"id":"b","priority":1e348,"segments":[{"kind":"chime"}]})", ".");
    FAIL() << "expected an error";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("not valid JSON"), std::string::npos) << e.what();
  }
}

TEST(AnnouncementJson, RejectsMistakesWithTheirPlace) {
  auto error_of = [](const char* text) {
    try {
      announcement_from_json(text, ".");
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(error_of("{").find("not valid JSON"), std::string::npos);
  EXPECT_NE(error_of(R"({"segments":[{"kind":"chime"}]})").find("missing 'id'"), std::string::npos);
  EXPECT_NE(error_of(R"({"id":"a","priority":"urgent","segments":[{"kind":"chime"}]})")
                .find("priority 'urgent'"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"id":"a","segments":[{"kind":"chime"},{"kind":"speach"}]})")
                .find("segments[1]: kind 'speach'"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"id":"a","segments":[{"kind":"speech","text":"x"}]})").find("'lang'"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"id":"a","segments":[{"kind":"pause","ms":-5}]})").find("pause"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"id":"a","segments":[{"kind":"chime","colour":"red"}]})")
                .find("unknown field 'colour'"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"id":"a","segments":[]})").find("non-empty"), std::string::npos);
}

TEST(AnnouncementJson, CueLine) {
  Cue c;
  c.segment = 2;
  c.kind = SegmentKind::speech;
  c.text = "下一站 \"x\"";
  c.lang = "zh";
  c.start = std::chrono::microseconds{1234567};
  c.end = std::chrono::microseconds{2500000};
  EXPECT_EQ(
      cue_to_json_line(c),
      R"({"segment":2,"kind":"speech","text":"下一站 \"x\"","lang":"zh","start_ms":1234.567,"end_ms":2500.0})");
}

TEST(Pcm, TrimSilenceKeepsTheSoundAndAMargin) {
  Samples pcm(1000, 0);
  for (std::size_t i = 300; i < 600; ++i)
    pcm[i] = 5000;
  trim_silence(pcm, kRate, std::chrono::milliseconds{2});  // 44 samples of margin
  EXPECT_EQ(pcm.size(), 300u + 2 * 44);
  EXPECT_EQ(pcm[44], 5000);
  Samples quiet(500, 20);
  trim_silence(quiet);
  EXPECT_TRUE(quiet.empty());
}

TEST(Pcm, SampleTimeConversionsAreExactForLongUptimes) {
  EXPECT_EQ(samples_to_ns(kRate).count(), 1'000'000'000);
  EXPECT_EQ(ns_to_samples(1'000'000'000), kRate);
  EXPECT_EQ(ns_to_samples(-1), -1);  // floor
  const std::int64_t month = std::int64_t{kRate} * 3600 * 24 * 31;
  EXPECT_EQ(ns_to_samples(samples_to_ns(month).count()), month);
}

TEST(Pcm, ChimeIsAudibleAndShort) {
  const Samples chime = make_chime();
  EXPECT_NEAR(static_cast<double>(chime.size()) / kRate, 0.8, 0.01);
  const auto levels = frame_rms_db(chime, kRate, 10);
  EXPECT_GT(*std::max_element(levels.begin(), levels.end()), -20.0);
}

TEST(Wav, RoundTripAndToneLevel) {
  test::ScratchDir dir;
  const auto file = test::write_tone(dir / "t.wav", 440, std::chrono::milliseconds{500}, 16000);
  const Wav wav = read_wav(file);
  EXPECT_EQ(wav.rate, 16000);
  EXPECT_EQ(wav.channels, 1);
  EXPECT_EQ(wav.samples.size(), 8000u);
  EXPECT_NEAR(tone_level_db(wav.samples, 1000, 4000, 16000, 440), -13.5, 0.5);
  EXPECT_LT(tone_level_db(wav.samples, 1000, 4000, 16000, 1000), -40.0);
  EXPECT_THROW(read_wav(dir / "missing.wav"), std::runtime_error);
}

}  // namespace
}  // namespace stopcall::media
