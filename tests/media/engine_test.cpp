// The engine with real GStreamer pipelines writing WAV files, analysed afterwards: sound is where
// the cues say, silence elsewhere, priorities and cancellation behave, failures are survived.
// Headless: wavenc ! filesink and fakesink sync=true only (plus a deliberately bad alsasink).
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>

#include "media/engine.hpp"
#include "test_support.hpp"

namespace stopcall::media {
namespace {

using test::Analysis;
using test::ms;
using test::Recorder;
using test::ScratchDir;
using namespace std::chrono_literals;

// Lets the end of the stream reach the file, then finalises it.
void finish(Engine& engine) {
  std::this_thread::sleep_for(200ms);
  engine.stop();
}

TEST(MediaEngine, SoundIsWhereTheCuesSayAndPausesAreExact) {
  ScratchDir dir;
  Recorder rec;
  const auto out = dir / "out.wav";
  {
    Engine engine(test::file_config(out), rec.callbacks());
    Announcement a;
    a.id = "next-stop";
    a.priority = Priority::stop;
    a.segments = {Segment::chime(), Segment::speech("下一站，车公庙", "zh"),
                  Segment::silence(300ms), Segment::speech("Next stop: Chegongmiao", "en")};
    engine.submit(a);
    ASSERT_TRUE(rec.wait_result("next-stop"));
    EXPECT_EQ(rec.result("next-stop")->outcome, Result::Outcome::finished);
    finish(engine);
  }
  const std::vector<Cue> cues = rec.cues("next-stop");
  ASSERT_EQ(cues.size(), 4u);
  for (std::size_t i = 0; i < cues.size(); ++i) {
    EXPECT_EQ(cues[i].event, Cue::Event::start);
    EXPECT_EQ(cues[i].segment, i);
    if (i > 0) {
      EXPECT_EQ(cues[i].start, cues[i - 1].end) << "segments are back to back";
    }
  }
  EXPECT_EQ(cues[1].text, "下一站，车公庙");
  EXPECT_EQ(cues[1].lang, "zh");
  EXPECT_EQ(cues[3].lang, "en");
  EXPECT_EQ(cues[2].kind, SegmentKind::pause);
  EXPECT_NEAR(ms(cues[2].end - cues[2].start), 300.0, 0.1);

  const Analysis wav(out);
  ASSERT_GT(wav.length_ms(), ms(cues[3].end));
  // Silence before the chime, sound starting with it.
  const double chime = ms(cues[0].start);
  EXPECT_TRUE(!wav.first_sound(0, chime - 10, Analysis::kSilence)) << "sound before the first cue";
  ASSERT_TRUE(wav.first_sound(chime - 50, chime + 200));
  EXPECT_NEAR(*wav.first_sound(chime - 50, chime + 200), chime, 30.0);
  // The Mandarin follows the chime directly: sound right at its start.
  EXPECT_GT(wav.peak(ms(cues[1].start), ms(cues[1].start) + 30), Analysis::kSound);
  // The pause: silent, and the measured gap between the voices is the configured 300 ms.
  const double pause_start = ms(cues[2].start), pause_end = ms(cues[2].end);
  EXPECT_TRUE(!wav.first_sound(pause_start + 15, pause_end - 10, Analysis::kSilence));
  const auto zh_end = wav.last_sound(ms(cues[1].start), pause_end - 10);
  const auto en_onset = wav.first_sound(pause_start + 15, ms(cues[3].end));
  ASSERT_TRUE(zh_end && en_onset);
  EXPECT_NEAR(*en_onset, ms(cues[3].start), 30.0) << "English onset vs its cue";
  EXPECT_NEAR(*en_onset - *zh_end, 300.0, 20.0) << "measured pause";
  // Sound through the English, silence after it.
  EXPECT_NEAR(*wav.last_sound(ms(cues[3].start), wav.length_ms()), ms(cues[3].end), 30.0);
  EXPECT_TRUE(!wav.first_sound(ms(cues[3].end) + 20, wav.length_ms(), Analysis::kSilence));
  // Cues are delivered when the sound plays, not when it was queued.
  EXPECT_GE(cues[3].rendered_at - cues[0].rendered_at,
            std::chrono::duration_cast<std::chrono::steady_clock::duration>(cues[3].start -
                                                                            cues[0].start - 40ms));
}

TEST(MediaEngine, AllThreeLanguagesSpeakAtPlausibleLength) {
  ScratchDir dir;
  Recorder rec;
  const auto out = dir / "out.wav";
  {
    Engine engine(test::file_config(out), rec.callbacks());
    Announcement a;
    a.id = "langs";
    a.segments = {Segment::speech("车公庙", "zh-Hans"), Segment::silence(200ms),
                  Segment::speech("車公廟", "yue"), Segment::silence(200ms),
                  Segment::speech("Chegongmiao", "en")};
    engine.submit(a);
    ASSERT_TRUE(rec.wait_result("langs"));
    finish(engine);
  }
  EXPECT_TRUE(rec.problems().empty());
  const Analysis wav(out);
  for (std::size_t seg : {0u, 2u, 4u}) {
    const auto cue = rec.cue("langs", seg);
    ASSERT_TRUE(cue);
    SCOPED_TRACE(cue->lang);
    const double length = ms(cue->end - cue->start);
    EXPECT_GT(length, 500.0);
    EXPECT_LT(length, 6000.0);
    const auto onset = wav.first_sound(ms(cue->start) - 40, ms(cue->end));
    ASSERT_TRUE(onset);
    EXPECT_NEAR(*onset, ms(cue->start), 30.0);
    EXPECT_NEAR(*wav.last_sound(ms(cue->start), ms(cue->end) + 40), ms(cue->end), 30.0);
  }
}

TEST(MediaEngine, SafetyInterruptsAStopAnnouncement) {
  ScratchDir dir;
  Recorder rec;
  const auto out = dir / "out.wav";
  const auto low = test::write_tone(dir / "low.wav", 440, 1500ms, 44100);
  const auto later = test::write_tone(dir / "later.wav", 600, 500ms);
  const auto alarm = test::write_tone(dir / "alarm.wav", 1000, 600ms, 16000);
  {
    Engine engine(test::file_config(out), rec.callbacks());
    Announcement stop;
    stop.id = "stop";
    stop.priority = Priority::stop;
    stop.segments = {Segment::recorded(low, "Next stop: Zhuzilin", "en"), Segment::silence(200ms),
                     Segment::recorded(later, "Doors open left", "en")};
    engine.submit(stop);
    ASSERT_TRUE(rec.wait_cue("stop", 0));
    std::this_thread::sleep_for(400ms);
    Announcement safety;
    safety.id = "safety";
    safety.priority = Priority::safety;
    safety.segments = {Segment::recorded(alarm, "Please hold on", "en")};
    engine.submit(safety);
    ASSERT_TRUE(rec.wait_result("safety"));
    ASSERT_TRUE(rec.wait_result("stop"));
    finish(engine);
  }
  EXPECT_EQ(rec.result("stop")->outcome, Result::Outcome::interrupted);
  EXPECT_EQ(rec.result("safety")->outcome, Result::Outcome::finished);
  const auto safety_start = rec.cue("safety", 0);
  const auto cut = rec.cue("stop", 0, Cue::Event::cut);
  ASSERT_TRUE(safety_start && cut);
  EXPECT_EQ(safety_start->priority, Priority::safety);
  // The cue says the stop announcement ends within the fade of the safety message's start...
  EXPECT_GE(ms(cut->end), ms(safety_start->start));
  EXPECT_LE(ms(cut->end), ms(safety_start->start) + 150);
  // ...and its later segments never started.
  EXPECT_FALSE(rec.cue("stop", 1));
  EXPECT_FALSE(rec.cue("stop", 2));
  // The sound agrees.
  const Analysis wav(out);
  const double s = ms(safety_start->start);
  const auto first_alarm = wav.first_tone(1000, s - 200, s + 300);
  ASSERT_TRUE(first_alarm);
  EXPECT_NEAR(*first_alarm, s, 30.0);
  const auto last_low = wav.last_tone(440, s - 500, wav.length_ms());
  ASSERT_TRUE(last_low) << "the stop announcement was playing";
  EXPECT_LE(*last_low, s + 150) << "it must stop within ~150 ms of the safety start";
  EXPECT_GE(*last_low, s - 30) << "it played until the safety message came";
  // Its later segments never play: not after the safety message either. (Looked for once the
  // alarm is over: a 20 ms window over the loud 440 Hz fade or the 1000 Hz alarm leaks above the
  // threshold at 600 Hz now and then, whatever was played.)
  EXPECT_FALSE(wav.first_tone(600, s + 600 + 50, wav.length_ms())) << "its later segments played";
}

TEST(MediaEngine, StaleAndCancelledAnnouncementsNeverPlay) {
  ScratchDir dir;
  Recorder rec;
  const auto out = dir / "out.wav";
  const auto first = test::write_tone(dir / "first.wav", 440, 800ms);
  const auto stale = test::write_tone(dir / "stale.wav", 800, 500ms);
  const auto cancelled = test::write_tone(dir / "cancelled.wav", 1200, 500ms);
  const auto expired = test::write_tone(dir / "expired.wav", 1500, 500ms);
  {
    Engine engine(test::file_config(out), rec.callbacks());
    Announcement a;
    a.id = "playing";
    a.priority = Priority::stop;
    a.segments = {Segment::recorded(first, "Next stop: OCT", "en")};
    engine.submit(a);
    ASSERT_TRUE(rec.wait_cue("playing", 0));
    Announcement b;  // waits behind "playing", goes stale meanwhile (the bus passed the stop)
    b.id = "stale";
    b.priority = Priority::stop;
    b.segments = {Segment::recorded(stale, "Next stop: Qiaocheng East", "en")};
    engine.submit(b);
    Announcement c;
    c.id = "cancelled";
    c.segments = {Segment::recorded(cancelled, "Welcome aboard", "en")};
    engine.submit(c);
    Announcement d;
    d.id = "expired";
    d.segments = {Segment::recorded(expired, "Route 101", "en")};
    d.valid_until = std::chrono::steady_clock::now() + 300ms;
    engine.submit(d);
    std::this_thread::sleep_for(100ms);
    engine.cancel("cancelled");
    engine.expire("stale");
    ASSERT_TRUE(rec.wait_result("playing"));
    ASSERT_TRUE(rec.wait_result("stale"));
    ASSERT_TRUE(rec.wait_result("cancelled"));
    ASSERT_TRUE(rec.wait_result("expired"));
    finish(engine);
  }
  EXPECT_EQ(rec.result("playing")->outcome, Result::Outcome::finished);
  EXPECT_EQ(rec.result("stale")->outcome, Result::Outcome::expired);
  EXPECT_EQ(rec.result("cancelled")->outcome, Result::Outcome::cancelled);
  EXPECT_EQ(rec.result("expired")->outcome, Result::Outcome::expired);
  for (const char* id : {"stale", "cancelled", "expired"}) {
    EXPECT_TRUE(rec.cues(id).empty()) << id << " has a cue";
  }
  const Analysis wav(out);
  EXPECT_TRUE(wav.last_tone(440, 0, wav.length_ms()));
  EXPECT_FALSE(wav.first_tone(800, 0, wav.length_ms()));
  EXPECT_FALSE(wav.first_tone(1200, 0, wav.length_ms()));
  EXPECT_FALSE(wav.first_tone(1500, 0, wav.length_ms()));
}

TEST(MediaEngine, CancelWhilePlayingFadesOutAndWithdrawsTheCue) {
  ScratchDir dir;
  Recorder rec;
  const auto out = dir / "out.wav";
  const auto tone = test::write_tone(dir / "long.wav", 440, 2000ms);
  const auto after = test::write_tone(dir / "after.wav", 700, 400ms);
  {
    Engine engine(test::file_config(out), rec.callbacks());
    Announcement a;
    a.id = "long";
    a.segments = {Segment::recorded(tone, "Next stop: Science Museum", "en"),
                  Segment::recorded(after, "Transfer to Metro Line 1", "en")};
    engine.submit(a);
    ASSERT_TRUE(rec.wait_cue("long", 0));
    std::this_thread::sleep_for(500ms);
    engine.cancel("long");
    ASSERT_TRUE(rec.wait_result("long"));
    finish(engine);
  }
  EXPECT_EQ(rec.result("long")->outcome, Result::Outcome::cancelled);
  const auto start = rec.cue("long", 0);
  const auto withdrawn = rec.cue("long", 0, Cue::Event::withdrawn);
  ASSERT_TRUE(start && withdrawn);
  EXPECT_TRUE(withdrawn->withdrawn());
  EXPECT_EQ(withdrawn->start, start->start);
  EXPECT_LT(ms(withdrawn->end), ms(start->end) - 1000) << "ends well before its planned end";
  EXPECT_FALSE(rec.cue("long", 1));
  const Analysis wav(out);
  const auto last = wav.last_tone(440, 0, wav.length_ms());
  ASSERT_TRUE(last);
  EXPECT_LE(*last, ms(withdrawn->end) + 20);
  EXPECT_GE(*last, ms(withdrawn->end) - 120);
  EXPECT_FALSE(wav.first_tone(700, 0, wav.length_ms()));
}

TEST(MediaEngine, MissingOrBrokenClipIsSpokenInstead) {
  ScratchDir dir;
  Recorder rec;
  const auto out = dir / "out.wav";
  std::ofstream(dir / "broken.ogg") << "not an ogg file, only text\n";
  {
    Engine engine(test::file_config(out), rec.callbacks());
    Announcement a;
    a.id = "clips";
    a.segments = {Segment::recorded(dir / "missing.wav", "Next stop", "en"),
                  Segment::silence(200ms), Segment::recorded(dir / "broken.ogg", "车公庙", "zh")};
    engine.submit(a);
    ASSERT_TRUE(rec.wait_result("clips"));
    finish(engine);
  }
  EXPECT_EQ(rec.result("clips")->outcome, Result::Outcome::finished);
  const auto problems = rec.problems();
  ASSERT_EQ(problems.size(), 2u);
  for (const Problem& p : problems) {
    EXPECT_EQ(p.kind, Problem::Kind::clip_fallback);
    EXPECT_EQ(p.announcement_id, "clips");
    EXPECT_NE(p.message.find("spoke its text instead"), std::string::npos) << p.message;
  }
  EXPECT_NE(problems[0].message.find("missing.wav"), std::string::npos);
  EXPECT_EQ(problems[1].segment, 2u);
  const Analysis wav(out);
  for (std::size_t seg : {0u, 2u}) {
    const auto cue = rec.cue("clips", seg);
    ASSERT_TRUE(cue);
    EXPECT_EQ(cue->kind, SegmentKind::clip);
    EXPECT_GT(ms(cue->end - cue->start), 300.0) << "speech stands in for the clip";
    const auto onset = wav.first_sound(ms(cue->start) - 40, ms(cue->end));
    ASSERT_TRUE(onset);
    EXPECT_NEAR(*onset, ms(cue->start), 30.0);
  }
}

TEST(MediaEngine, FailingSinkKeepsCuesFlowingAndRetries) {
  Recorder rec;
  EngineConfig config = test::file_config("unused.wav");
  config.interior.sink = "alsasink device=hw:99";
  config.retry_initial = 200ms;
  config.retry_max = 400ms;
  const auto t0 = std::chrono::steady_clock::now();
  {
    Engine engine(config, rec.callbacks());
    Announcement a;
    a.id = "a";
    a.segments = {Segment::speech("Next stop: Grand Theater", "en"), Segment::silence(300ms),
                  Segment::chime()};
    engine.submit(a);
    ASSERT_TRUE(rec.wait_result("a"));
    ASSERT_TRUE(rec.wait([&] {
      const auto states = rec.states();
      return std::count_if(states.begin(), states.end(), [](const OutputStatus& s) {
               return s.state == OutputState::retrying;
             }) >= 2;
    }));
    EXPECT_NE(engine.state(Output::interior), OutputState::ok);
    engine.stop();
  }
  EXPECT_EQ(rec.result("a")->outcome, Result::Outcome::finished);
  const auto states = rec.states();
  ASSERT_GE(states.size(), 3u);
  EXPECT_EQ(states[0].state, OutputState::failed);
  EXPECT_EQ(states[0].sink, "alsasink device=hw:99");
  EXPECT_FALSE(states[0].error.empty());
  EXPECT_EQ(states[0].retry_in, 200ms);
  EXPECT_EQ(states[1].state, OutputState::retrying);
  EXPECT_EQ(states[2].state, OutputState::failed);
  EXPECT_EQ(states[2].retry_in, 400ms) << "backoff doubles";
  // The cues follow the (fakesink) timeline: each segment in turn, spaced by its length.
  const auto cues = rec.cues("a");
  ASSERT_EQ(cues.size(), 3u);
  for (std::size_t i = 1; i < cues.size(); ++i) {
    const double spacing =
        std::chrono::duration<double, std::milli>(cues[i].rendered_at - cues[i - 1].rendered_at)
            .count();
    EXPECT_NEAR(spacing, ms(cues[i].start - cues[i - 1].start), 30.0);
  }
  EXPECT_LT(cues[0].rendered_at - t0, 3s);
}

TEST(MediaEngine, UnwritableFileSinkFailsOverToo) {
  Recorder rec;
  EngineConfig config = test::file_config("/nonexistent-folder/out.wav");
  config.retry_initial = 10s;
  {
    Engine engine(config, rec.callbacks());
    Announcement a;
    a.id = "a";
    a.segments = {Segment::chime("ding")};
    engine.submit(a);
    ASSERT_TRUE(rec.wait_result("a"));
    engine.stop();
  }
  EXPECT_EQ(rec.result("a")->outcome, Result::Outcome::finished);
  ASSERT_FALSE(rec.states().empty());
  EXPECT_EQ(rec.states()[0].state, OutputState::failed);
  ASSERT_TRUE(rec.cue("a", 0));
  EXPECT_EQ(rec.cue("a", 0)->text, "ding");
}

TEST(MediaEngine, QuietHoursCapTheExteriorAndSegmentsPickTheirOutputs) {
  ScratchDir dir;
  Recorder rec;
  const auto inside = dir / "interior.wav";
  const auto outside = dir / "exterior.wav";
  const auto both = test::write_tone(dir / "both.wav", 440, 500ms);
  const auto ext = test::write_tone(dir / "ext.wav", 700, 300ms);
  EngineConfig config = test::file_config(inside);
  config.exterior.sink = test::wav_sink(outside);
  config.exterior.quiet_hours = QuietHours{22, 7, -20.0};
  config.local_hour = [] { return 23; };
  {
    Engine engine(config, rec.callbacks());
    Announcement a;
    a.id = "route";
    a.outputs = Outputs::both();
    Segment exterior_only = Segment::recorded(ext, "Route 101 to Grand Theater", "en");
    exterior_only.outputs = Outputs::only(Output::exterior);
    a.segments = {Segment::recorded(both, "101", "en"), exterior_only};
    engine.submit(a);
    ASSERT_TRUE(rec.wait_result("route", Output::interior));
    ASSERT_TRUE(rec.wait_result("route", Output::exterior));
    finish(engine);
  }
  ASSERT_EQ(rec.cues("route", Output::interior).size(), 1u);
  ASSERT_EQ(rec.cues("route", Output::exterior).size(), 2u);
  const auto in_cue = rec.cue("route", 0, Cue::Event::start, Output::interior);
  const auto ex_cue = rec.cue("route", 0, Cue::Event::start, Output::exterior);
  ASSERT_TRUE(in_cue && ex_cue);
  const Analysis in(inside), ex(outside);
  const double in_level = in.tone_level(440, ms(in_cue->start) + 50, ms(in_cue->end) - 50);
  const double ex_level = ex.tone_level(440, ms(ex_cue->start) + 50, ms(ex_cue->end) - 50);
  EXPECT_NEAR(in_level, -13.5, 1.5);
  EXPECT_NEAR(ex_level - in_level, -20.0, 1.5) << "quiet hours cap the exterior at -20 dB";
  EXPECT_FALSE(in.first_tone(700, 0, in.length_ms()));
  EXPECT_TRUE(ex.first_tone(700, 0, ex.length_ms(), -55));
}

TEST(MediaEngine, GainSetGainAndQuietHoursMute) {
  ScratchDir dir;
  Recorder rec;
  const auto out = dir / "out.wav";
  const auto tone = test::write_tone(dir / "t.wav", 440, 300ms);
  EngineConfig config = test::file_config(out);
  config.interior.gain_db = -6;
  config.interior.quiet_hours = QuietHours{22, 7, std::nullopt};  // mute at night
  std::atomic<int> hour{12};
  config.local_hour = [&hour] { return hour.load(); };
  {
    Engine engine(config, rec.callbacks());
    Announcement a;
    a.id = "loud";
    a.segments = {Segment::recorded(tone, "x", "en")};
    engine.submit(a);
    ASSERT_TRUE(rec.wait_result("loud"));
    engine.set_gain(Output::interior, -12);
    a.id = "quieter";
    engine.submit(a);
    ASSERT_TRUE(rec.wait_result("quieter"));
    hour = 23;
    a.id = "night";
    engine.submit(a);
    ASSERT_TRUE(rec.wait_result("night"));
    finish(engine);
  }
  const Analysis wav(out);
  const auto loud = rec.cue("loud", 0);
  const auto quieter = rec.cue("quieter", 0);
  const auto night = rec.cue("night", 0);
  ASSERT_TRUE(loud && quieter && night) << "a muted output still runs its timeline and cues";
  EXPECT_NEAR(wav.tone_level(440, ms(loud->start) + 50, ms(loud->end) - 50), -19.5, 1.0);
  EXPECT_NEAR(wav.tone_level(440, ms(quieter->start) + 50, ms(quieter->end) - 50), -25.5, 1.0);
  EXPECT_FALSE(wav.first_sound(ms(night->start), ms(night->end), Analysis::kSilence));
}

TEST(MediaEngine, QuietHoursDoNotHoldAnEmergencyDown) {
  ScratchDir dir;
  Recorder rec;
  const auto outside = dir / "exterior.wav";
  const auto tone = test::write_tone(dir / "t.wav", 440, 400ms);
  EngineConfig config = test::file_config(dir / "interior.wav");
  config.exterior.sink = test::wav_sink(outside);
  config.exterior.quiet_hours = QuietHours{22, 7, std::nullopt};  // muted at night
  config.local_hour = [] { return 23; };
  {
    Engine engine(config, rec.callbacks());
    Announcement route;
    route.id = "route";
    route.priority = Priority::stop;
    route.outputs = Outputs::only(Output::exterior);
    route.segments = {Segment::recorded(tone, "Route 101", "en")};
    engine.submit(route);
    ASSERT_TRUE(rec.wait_result("route", Output::exterior));
    Announcement fire = route;
    fire.id = "fire";
    fire.priority = Priority::safety;
    engine.submit(fire);
    ASSERT_TRUE(rec.wait_result("fire", Output::exterior));
    Announcement after = route;
    after.id = "after";
    engine.submit(after);
    ASSERT_TRUE(rec.wait_result("after", Output::exterior));
    finish(engine);
  }
  const Analysis wav(outside);
  const auto quiet = rec.cue("route", 0, Cue::Event::start, Output::exterior);
  const auto loud = rec.cue("fire", 0, Cue::Event::start, Output::exterior);
  const auto again = rec.cue("after", 0, Cue::Event::start, Output::exterior);
  ASSERT_TRUE(quiet && loud && again);
  // (The gain changes as the emergency is composed, up to `lead` ahead of what is heard: the
  // last few tens of milliseconds before it may already sound.)
  EXPECT_FALSE(wav.first_sound(ms(quiet->start), ms(quiet->end) - 60, Analysis::kSilence))
      << "at night the exterior speaker is muted for a route announcement";
  EXPECT_NEAR(wav.tone_level(440, ms(loud->start) + 50, ms(loud->end) - 50), -13.5, 1.5)
      << "an emergency is heard outside at night, at the configured gain";
  EXPECT_FALSE(wav.first_sound(ms(again->start) + 50, ms(again->end), Analysis::kSilence))
      << "and the quiet hours hold again after it";
}

TEST(MediaEngine, PrerenderWarmsTheCache) {
  Recorder rec;
  EngineConfig config = test::file_config("unused.wav");
  config.interior.sink = "fakesink sync=true";
  Engine engine(config, rec.callbacks());
  engine.prerender({{"Next stop: Chegongmiao", "en"}, {"车公庙", "zh"}, {"車公廟", "yue"}});
  ASSERT_TRUE(test::poll([&] { return engine.cache_stats().entries == 3; }, 10s));
  const CacheStats before = engine.cache_stats();
  Announcement a;
  a.id = "a";
  a.segments = {Segment::speech("车公庙", "zh"), Segment::speech("車公廟", "yue")};
  engine.submit(a);
  ASSERT_TRUE(rec.wait_cue("a", 0));
  const CacheStats after = engine.cache_stats();
  EXPECT_EQ(after.hits, before.hits + 2);
  EXPECT_EQ(after.misses, before.misses);
  EXPECT_EQ(after.entries, 3u);
  // (How soon it plays from a warm cache: tools/bench media, "first sample: cached speech".)
  engine.cancel("a");
  ASSERT_TRUE(rec.wait_result("a"));
  EXPECT_EQ(rec.result("a")->outcome, Result::Outcome::cancelled);
}

TEST(MediaEngine, KnowsHowLongPrerenderedSpeechLastsAsItThenPlays) {
  ScratchDir dir;
  Recorder rec;
  const auto out = dir / "out.wav";
  std::optional<std::chrono::milliseconds> known;
  {
    Engine engine(test::file_config(out), rec.callbacks());
    const Segment name = Segment::speech("Chegongmiao", "en");
    Segment sentence = Segment::speech("Next stop: Chegongmiao", "en");
    EXPECT_FALSE(engine.length(name)) << "not rendered yet: unknown, and nothing waits for it";
    EXPECT_EQ(engine.length(Segment::silence(300ms)), 300ms);
    engine.prerender({{"Chegongmiao", "en"}});
    ASSERT_TRUE(test::poll([&] { return engine.length(name).has_value(); }, 10s));
    known = engine.length(name);
    EXPECT_GT(*known, 300ms);
    EXPECT_LT(*known, 2000ms);
    EXPECT_FALSE(engine.length(sentence)) << "another text";
    // What a caption says does not matter, what is spoken does.
    sentence.spoken = "Chegongmiao";
    EXPECT_EQ(engine.length(sentence), known);
    ASSERT_TRUE(test::poll([&] { return engine.length(Segment::chime()).has_value(); }, 10s));
    EXPECT_EQ(*engine.length(Segment::chime()), 800ms) << "the built-in chime";
    const CacheStats stats = engine.cache_stats();
    EXPECT_EQ(stats.hits, 0u) << "asking is not using";

    Announcement a;
    a.id = "name";
    a.segments = {sentence};
    engine.submit(a);
    ASSERT_TRUE(rec.wait_result("name"));
    finish(engine);
  }
  // The length asked for is the length heard.
  const std::vector<Cue> cues = rec.cues("name");
  ASSERT_EQ(cues.size(), 1u);
  EXPECT_NEAR(ms(cues[0].end - cues[0].start), static_cast<double>(known->count()), 1.0);
}

TEST(MediaEngine, EqualPriorityWaitsItsTurnGapFree) {
  ScratchDir dir;
  Recorder rec;
  const auto out = dir / "out.wav";
  const auto one = test::write_tone(dir / "1.wav", 440, 400ms);
  const auto two = test::write_tone(dir / "2.wav", 700, 400ms);
  {
    Engine engine(test::file_config(out), rec.callbacks());
    Announcement a;
    a.id = "one";
    a.priority = Priority::accessibility;
    a.segments = {Segment::recorded(one, "Ramp deploying", "en")};
    Announcement b = a;
    b.id = "two";
    b.segments = {Segment::recorded(two, "Please stand clear", "en")};
    engine.submit(a);
    engine.submit(b);
    ASSERT_TRUE(rec.wait_result("two"));
    finish(engine);
  }
  EXPECT_EQ(rec.result("one")->outcome, Result::Outcome::finished);
  const auto c1 = rec.cue("one", 0), c2 = rec.cue("two", 0);
  ASSERT_TRUE(c1 && c2);
  EXPECT_EQ(c2->start, c1->end) << "the next announcement starts on the sample after";
  const Analysis wav(out);
  EXPECT_NEAR(*wav.first_tone(700, 0, wav.length_ms()), ms(c2->start), 30.0);
}

// An announcement on an idle output starts just ahead of the clock (start_lead): the mixer must
// still get its very first samples (nothing clipped at the start). How soon after the trigger the
// sound comes is a benchmark figure (tools/bench media: "first sample" rows), not a test: a busy
// machine delays it.
TEST(MediaEngine, IdleOutputStartsOnTheFirstSample) {
  ScratchDir dir;
  Recorder rec;
  const auto out = dir / "out.wav";
  const auto tone = test::write_tone(dir / "t.wav", 440, 200ms);
  constexpr int kRounds = 6;
  {
    Engine engine(test::file_config(out), rec.callbacks());
    for (int i = 0; i < kRounds; ++i) {
      Announcement a;
      a.id = "r" + std::to_string(i);
      a.segments = {Segment::recorded(tone, "Doors closing", "en")};
      engine.submit(a);
      ASSERT_TRUE(rec.wait_result(a.id));
      std::this_thread::sleep_for(150ms);  // the output is idle again
    }
    finish(engine);
  }
  const Analysis wav(out);
  const Samples& pcm = wav.wav().samples;
  for (int i = 0; i < kRounds; ++i) {
    const auto cue = rec.cue("r" + std::to_string(i), 0);
    ASSERT_TRUE(cue);
    SCOPED_TRACE(cue->announcement_id);
    // The cue is sample-exact on the file's timeline; the tone's 5 ms ramp passes 1 % of full
    // scale within its first 10 samples. A clipped start would begin at a later mixer block.
    const auto at = static_cast<std::size_t>(cue->start.count() * wav.wav().rate / 1'000'000'000);
    ASSERT_LT(at + 200, pcm.size());
    std::optional<std::size_t> onset;
    for (std::size_t k = at >= 220 ? at - 220 : 0; k < at + 220 && !onset; ++k) {
      if (std::abs(pcm[k]) > 327) onset = k;
    }
    ASSERT_TRUE(onset) << "no sound within 10 ms of the cue";
    EXPECT_GE(*onset, at);
    EXPECT_LE(*onset, at + 10) << "the first samples are missing";
  }
}

}  // namespace
}  // namespace stopcall::media
