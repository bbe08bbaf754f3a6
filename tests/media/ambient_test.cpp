// Automatic gain from a cabin microphone: the arithmetic (AutoGain) on its own, then the engine
// with a real source pipeline (audiotestsrc standing in for the microphone) writing WAV files.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "media/auto_gain.hpp"
#include "media/engine.hpp"
#include "test_support.hpp"

namespace stopcall::media {
namespace {

using test::Analysis;
using test::ms;
using test::Recorder;
using test::ScratchDir;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Defaults: speech 10 dB above the cabin, the microphone reads speech at -30 dBFS at the
// configured gain, adjustment within [-10, +12] dB, 3 s smoothing, a reading every 100 ms.
AmbientConfig defaults() {
  AmbientConfig c;
  c.source = "audiotestsrc is-live=true";
  return c;
}

// Feeds `n` readings of `db`, 100 ms apart from `t`; returns the time after the last.
Clock::time_point feed(AutoGain& g, double db, int n, Clock::time_point t) {
  for (int i = 0; i < n; ++i) {
    t += 100ms;
    g.reading(db, t);
  }
  return t;
}

TEST(AutoGain, NothingMeasuredMeansTheConfiguredGain) {
  AutoGain g(defaults());
  EXPECT_FALSE(g.ambient_db());
  EXPECT_EQ(g.adjustment_db(), 0.0);
}

TEST(AutoGain, QuietCabinGetsTheFloorLoudOneTheCeiling) {
  const auto t0 = Clock::now();
  AutoGain quiet(defaults());
  feed(quiet, -70, 5, t0);
  EXPECT_NEAR(*quiet.ambient_db(), -70, 1e-9);
  EXPECT_EQ(quiet.adjustment_db(), -10.0);  // -70 + 10 + 30 = -30, floored

  AutoGain silent(defaults());  // digital silence reads -inf from `level`
  feed(silent, -std::numeric_limits<double>::infinity(), 3, t0);
  EXPECT_EQ(silent.adjustment_db(), -10.0);

  AutoGain loud(defaults());
  feed(loud, -6, 5, t0);
  EXPECT_EQ(loud.adjustment_db(), 12.0);  // -6 + 10 + 30 = 34, capped
}

TEST(AutoGain, InBetweenSpeechIsTenDecibelsAboveTheCabin) {
  for (double ambient : {-49.0, -45.0, -40.0, -35.0, -28.5}) {
    SCOPED_TRACE(ambient);
    AutoGain g(defaults());
    feed(g, ambient, 3, Clock::now());
    const AmbientConfig c = defaults();
    // What the microphone would read of the speech: the reference level plus the adjustment.
    EXPECT_NEAR(c.speech_reference_db + g.adjustment_db(), ambient + 10, 1e-9);
    EXPECT_GT(g.adjustment_db(), c.floor_db);
    EXPECT_LT(g.adjustment_db(), c.ceiling_db);
  }
  AmbientConfig louder = defaults();
  louder.target_above_db = 15;
  AutoGain g(louder);
  feed(g, -50, 3, Clock::now());
  EXPECT_NEAR(g.adjustment_db(), -5.0, 1e-9);  // -50 + 15 + 30
}

TEST(AutoGain, OneSpikeBarelyMovesItASustainedChangeIsFollowed) {
  AutoGain g(defaults());
  auto t = feed(g, -45, 20, Clock::now());
  const double before = g.adjustment_db();
  t = feed(g, -5, 1, t);  // a door slams next to the microphone
  EXPECT_LT(g.adjustment_db() - before, 2.0);
  EXPECT_GT(g.adjustment_db(), before) << "it does move a little";
  t = feed(g, -45, 100, t);
  EXPECT_NEAR(g.adjustment_db(), before, 0.1);
  // The bus accelerates: 10 dB more noise for good. After 3 time constants (9 s) the estimate
  // is within 5 % of the step, and it never overshoots.
  t = feed(g, -35, 30, t);
  EXPECT_GT(*g.ambient_db(), -43.0);
  EXPECT_LT(*g.ambient_db(), -38.0) << "smoothed, not a jump";
  feed(g, -35, 60, t);
  EXPECT_NEAR(*g.ambient_db(), -35, 0.5);
  EXPECT_LE(*g.ambient_db(), -35.0);
}

TEST(AutoGain, HeldWhileTheSpeakersPlayAndJustAfter) {
  AmbientConfig c = defaults();
  c.release = 500ms;
  AutoGain g(c);
  auto t = feed(g, -45, 10, Clock::now());
  const double held = *g.ambient_db();
  // An announcement plays for 2 s; the microphone hears the speaker at -20 dBFS.
  for (int i = 0; i < 20; ++i) {
    t += 100ms;
    g.speakers_played(t);
    EXPECT_TRUE(g.frozen(t));
    EXPECT_FALSE(g.reading(-20, t));
  }
  const auto stopped = t;
  g.speakers_played(stopped);
  // A reading is still ignored if its interval began less than `release` after the speakers
  // stopped (room echo, the source's own buffering).
  EXPECT_FALSE(g.reading(-20, stopped + 300ms));
  EXPECT_FALSE(g.reading(-20, stopped + 599ms));
  EXPECT_EQ(*g.ambient_db(), held);
  EXPECT_FALSE(g.frozen(stopped + 600ms));
  EXPECT_TRUE(g.reading(-44, stopped + 600ms));
  EXPECT_GT(*g.ambient_db(), held);
  EXPECT_LT(*g.ambient_db(), held + 0.1);
  // A later report of an older playback does not freeze it again.
  g.speakers_played(stopped - 1s);
  EXPECT_FALSE(g.frozen(stopped + 700ms));
}

TEST(AutoGain, ResetGoesBackToTheConfiguredGain) {
  AutoGain g(defaults());
  feed(g, -30, 5, Clock::now());
  EXPECT_NE(g.adjustment_db(), 0.0);
  g.reset();
  EXPECT_FALSE(g.ambient_db());
  EXPECT_EQ(g.adjustment_db(), 0.0);
}

// ---------------------------------------------------------------- with real pipelines

struct Played {
  double level_db = -120;  // of the 440 Hz tone in the WAV
  AmbientStatus status;    // before the announcement
  std::vector<AmbientStatus> reports;
  std::vector<Problem> problems;
};

// Plays a 600 ms tone (-13.5 dBFS RMS at 0 dB) once the microphone `source` has been read.
Played play_with_microphone(const ScratchDir& dir, const std::string& name,
                            const std::string& source, double gain_db, bool expect_readings) {
  Recorder rec;
  const auto out = dir / (name + ".wav");
  const auto tone = test::write_tone(dir / "tone.wav", 440, 600ms);
  EngineConfig config = test::file_config(out);
  config.interior.gain_db = gain_db;
  config.ambient = AmbientConfig{};
  config.ambient->source = source;
  config.retry_initial = 200ms;
  config.retry_max = 400ms;
  Played p;
  {
    Engine engine(config, rec.callbacks());
    if (expect_readings) {
      EXPECT_TRUE(test::poll(
          [&] {
            const auto s = engine.ambient();
            return s && s->state == OutputState::ok && s->ambient_db;
          },
          10s));
      std::this_thread::sleep_for(300ms);  // a few more readings
    } else {
      EXPECT_TRUE(rec.wait([&] {  // it failed and was retried at least twice
        const auto r = rec.ambient();
        return std::count_if(r.begin(), r.end(), [](const AmbientStatus& s) {
                 return s.state == OutputState::retrying;
               }) >= 2;
      }));
    }
    p.status = *engine.ambient();
    Announcement a;
    a.id = "a";
    a.segments = {Segment::recorded(tone, "Please move to the rear", "en")};
    engine.submit(a);
    EXPECT_TRUE(rec.wait_result("a"));
    std::this_thread::sleep_for(200ms);
    engine.stop();
  }
  EXPECT_EQ(rec.result("a")->outcome, Result::Outcome::finished);
  const auto cue = rec.cue("a", 0);
  EXPECT_TRUE(cue);
  if (cue) {
    const Analysis wav(out);
    p.level_db = wav.tone_level(440, ms(cue->start) + 50, ms(cue->end) - 50);
  }
  p.reports = rec.ambient();
  p.problems = rec.problems();
  return p;
}

TEST(MediaAmbient, LouderCabinPlaysLouderWithinTheLimits) {
  ScratchDir dir;
  // Pink noise at volume 0.01 reads about -56 dBFS (floor: -10 dB), at 0.1 about -36 dBFS
  // (-36 + 10 + 30 = +4 dB).
  const Played quiet = play_with_microphone(
      dir, "quiet", "audiotestsrc wave=pink-noise volume=0.01 is-live=true", 0, true);
  const Played loud = play_with_microphone(
      dir, "loud", "audiotestsrc wave=pink-noise volume=0.1 is-live=true", 0, true);
  ASSERT_TRUE(quiet.status.ambient_db && loud.status.ambient_db);
  EXPECT_NEAR(*quiet.status.ambient_db, -56, 3);
  EXPECT_NEAR(*loud.status.ambient_db, -36, 3);
  EXPECT_EQ(quiet.status.gain_db, -10.0);
  EXPECT_NEAR(loud.status.gain_db, *loud.status.ambient_db + 40, 0.2);
  EXPECT_EQ(loud.status.source, "audiotestsrc wave=pink-noise volume=0.1 is-live=true");
  // The rendered speech follows: -13.5 dBFS plus the adjustment.
  EXPECT_NEAR(quiet.level_db, -13.5 - 10, 1.0);
  EXPECT_NEAR(loud.level_db, -13.5 + loud.status.gain_db, 1.0);
  EXPECT_GT(loud.level_db - quiet.level_db, 10.0);
  for (const Played* p : {&quiet, &loud}) {
    EXPECT_TRUE(p->problems.empty());
    ASSERT_FALSE(p->reports.empty());
    // The microphone hears the speaker: the estimate was held while the tone played.
    EXPECT_TRUE(std::any_of(p->reports.begin(), p->reports.end(),
                            [](const AmbientStatus& s) { return s.frozen; }));
  }
}

TEST(MediaAmbient, FailingMicrophoneKeepsTheConfiguredGain) {
  ScratchDir dir;
  int i = 0;
  for (const char* source : {"nosuchelement-stopcall", "alsasrc device=hw:99"}) {
    SCOPED_TRACE(source);
    const Played p = play_with_microphone(dir, "failing" + std::to_string(i++), source, -6, false);
    EXPECT_NEAR(p.level_db, -13.5 - 6, 1.0) << "neither silenced nor adjusted";
    EXPECT_NE(p.status.state, OutputState::ok);
    EXPECT_FALSE(p.status.ambient_db);
    EXPECT_EQ(p.status.gain_db, 0.0);
    ASSERT_FALSE(p.reports.empty());
    EXPECT_EQ(p.reports[0].state, OutputState::failed);
    EXPECT_FALSE(p.reports[0].error.empty());
    EXPECT_EQ(p.reports[0].retry_in, 200ms);
    const auto failures = std::count_if(p.reports.begin(), p.reports.end(), [](const auto& s) {
      return s.state == OutputState::failed;
    });
    EXPECT_GE(failures, 3) << "retried";
    // Reported once, however often the retries fail.
    ASSERT_EQ(p.problems.size(), 1u);
    EXPECT_EQ(p.problems[0].kind, Problem::Kind::ambient_failed);
    EXPECT_NE(p.problems[0].message.find(source), std::string::npos) << p.problems[0].message;
  }
}

}  // namespace
}  // namespace stopcall::media
