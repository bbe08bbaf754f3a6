// The mixer alone, without GStreamer: a clock driven by the test, and a tape that records every
// sample it composes at its position on the timeline. What a listener would notice: where each
// announcement starts and ends to the sample, pauses, the crossfade when a higher priority cuts
// in, the order of waiting announcements, what is never heard, and when each cue is delivered.
#include "media/mixer.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace stopcall::media::detail {
namespace {

using namespace std::chrono_literals;
using std::chrono::steady_clock;

constexpr std::int64_t kStartLead = 220;  // 10 ms at 22050 Hz
constexpr std::int64_t kLead = 1102;      // 50 ms
constexpr std::int64_t kFade = 2205;      // 100 ms
constexpr std::int64_t kSecond = kRate;

// Everything the mixer hands on; `audio[pos]` is the sample it composed for position pos.
class Tape final : public MixerSink {
 public:
  void cue(Cue c) override { cues.push_back(std::move(c)); }
  void result(Result r) override { results.push_back(std::move(r)); }
  void problem(Problem p) override { problems.push_back(std::move(p)); }
  void begins(Priority) override { ++began; }
  void chunk(std::span<const std::int16_t> samples, std::int64_t at) override {
    chunks.push_back(at);
    const auto end = static_cast<std::size_t>(at) + samples.size();
    if (audio.size() < end) audio.resize(end);
    std::copy(samples.begin(), samples.end(), audio.begin() + at);
  }

  std::int16_t at(std::int64_t pos) const {
    return pos >= 0 && static_cast<std::size_t>(pos) < audio.size()
               ? audio[static_cast<std::size_t>(pos)]
               : 0;
  }
  // Whether every sample in [from, to) is `value`.
  bool all(std::int64_t from, std::int64_t to, std::int16_t value) const {
    for (std::int64_t pos = from; pos < to; ++pos) {
      if (at(pos) != value) return false;
    }
    return true;
  }
  const Cue* find_cue(const std::string& id, Cue::Event event, std::size_t segment = 0) const {
    for (const Cue& c : cues) {
      if (c.announcement_id == id && c.event == event && c.segment == segment) return &c;
    }
    return nullptr;
  }
  const Result* find_result(const std::string& id) const {
    for (const Result& r : results) {
      if (r.announcement_id == id) return &r;
    }
    return nullptr;
  }

  std::vector<std::int16_t> audio;
  std::vector<std::int64_t> chunks;
  std::vector<Cue> cues;
  std::vector<Result> results;
  std::vector<Problem> problems;
  int began = 0;
};

// The mixer on a clock the test moves: each step composes ahead of `now` and delivers what is
// heard, `latency` samples behind it.
struct Feeder {
  Tape tape;
  Mixer mixer{Output::interior, 10ms, 50ms, 100ms, tape};
  std::int64_t now = 0;
  std::int64_t latency = 0;
  const steady_clock::time_point t0 = steady_clock::time_point{} + 1000s;

  steady_clock::time_point when(std::int64_t pos) const {
    return t0 + std::chrono::duration_cast<steady_clock::duration>(samples_to_ns(pos));
  }
  void step() {
    mixer.fill(now);
    mixer.emit_due(now - latency, when(now - latency));
  }
  // The clock runs from now to `until`, the feeder waking every 5 ms.
  void run_to(std::int64_t until) {
    step();
    while (now < until) {
      now = std::min(until, now + kRate / 200);
      step();
    }
  }
  void play(std::shared_ptr<PreparedPlay> p) { mixer.play(std::move(p), true); }
};

PcmPtr tone(std::int64_t samples, std::int16_t value) {
  return std::make_shared<const Samples>(static_cast<std::size_t>(samples), value);
}

// Never silent, never the same twice in a row: a sample missing or out of place shows.
PcmPtr ramp(std::int64_t samples) {
  Samples s(static_cast<std::size_t>(samples));
  for (std::size_t k = 0; k < s.size(); ++k)
    s[k] = static_cast<std::int16_t>(1 + k % 2000);
  return std::make_shared<const Samples>(std::move(s));
}

PreparedSegment sound(std::size_t index, PcmPtr pcm, SegmentKind kind = SegmentKind::speech) {
  PreparedSegment s;
  s.index = index;
  s.kind = kind;
  s.text = "segment " + std::to_string(index);
  s.lang = "en";
  s.length = static_cast<std::int64_t>(pcm->size());
  s.pcm = std::move(pcm);
  return s;
}

PreparedSegment pause(std::size_t index, std::chrono::milliseconds ms) {
  PreparedSegment s;
  s.index = index;
  s.kind = SegmentKind::pause;
  s.length = ms_to_samples(ms);
  return s;
}

std::shared_ptr<PreparedPlay> announcement(std::string id, Priority priority,
                                           std::vector<PreparedSegment> segments) {
  auto p = std::make_shared<PreparedPlay>();
  p->id = std::move(id);
  p->priority = priority;
  p->segments = std::move(segments);
  return p;
}

TEST(Mixer, IdleOutputStartsJustAheadOfTheClockWithNothingClipped) {
  Feeder out;
  out.now = 10'000;
  const PcmPtr pcm = ramp(5000);
  out.play(announcement("a", Priority::stop, {sound(0, pcm)}));
  out.step();

  const std::int64_t start = 10'000 + kStartLead;
  ASSERT_FALSE(out.tape.chunks.empty());
  EXPECT_EQ(out.tape.chunks.front(), start);
  // Composed `lead` ahead at once; the next chunk is due when the clock is `lead` behind it.
  EXPECT_GE(out.mixer.write_position(), out.now + kLead);
  EXPECT_EQ(out.mixer.next_fill(), out.mixer.write_position() - kLead);
  EXPECT_TRUE(out.tape.cues.empty()) << "a cue is delivered when it is heard, not when written";
  EXPECT_EQ(out.tape.began, 1);

  out.run_to(start + 5000 + kSecond);
  for (std::int64_t k = 0; k < 5000; ++k) {
    ASSERT_EQ(out.tape.at(start + k), (*pcm)[static_cast<std::size_t>(k)]) << "sample " << k;
  }
  EXPECT_TRUE(out.tape.all(start + 5000, start + 5000 + 1000, 0));

  ASSERT_EQ(out.tape.cues.size(), 1u);
  const Cue& c = out.tape.cues[0];
  EXPECT_EQ(c.event, Cue::Event::start);
  EXPECT_EQ(c.start, samples_to_ns(start));
  EXPECT_EQ(c.end, samples_to_ns(start + 5000));
  EXPECT_LE(std::chrono::abs(c.rendered_at - out.when(start)), 1us);
  ASSERT_EQ(out.tape.results.size(), 1u);
  EXPECT_EQ(out.tape.results[0].outcome, Result::Outcome::finished);
  EXPECT_EQ(out.tape.results[0].end, samples_to_ns(start + 5000));
  EXPECT_FALSE(out.mixer.sounding());
  EXPECT_FALSE(out.mixer.next_fill());
}

TEST(Mixer, SegmentsAndPausesFollowEachOtherToTheSample) {
  Feeder out;
  out.play(announcement(
      "a", Priority::stop,
      {sound(0, tone(300, 500), SegmentKind::chime), pause(1, 300ms), sound(2, tone(400, 700))}));
  out.run_to(2 * kSecond);

  const std::int64_t s = kStartLead;
  const std::int64_t gap = ms_to_samples(300ms);
  EXPECT_TRUE(out.tape.all(s, s + 300, 500));
  EXPECT_TRUE(out.tape.all(s + 300, s + 300 + gap, 0));
  EXPECT_TRUE(out.tape.all(s + 300 + gap, s + 700 + gap, 700));
  EXPECT_TRUE(out.tape.all(s + 700 + gap, s + 700 + gap + 1000, 0));

  ASSERT_EQ(out.tape.cues.size(), 3u);
  const std::int64_t starts[] = {s, s + 300, s + 300 + gap};
  const std::int64_t ends[] = {s + 300, s + 300 + gap, s + 700 + gap};
  const SegmentKind kinds[] = {SegmentKind::chime, SegmentKind::pause, SegmentKind::speech};
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(out.tape.cues[i].segment, i);
    EXPECT_EQ(out.tape.cues[i].kind, kinds[i]);
    EXPECT_EQ(out.tape.cues[i].start, samples_to_ns(starts[i]));
    EXPECT_EQ(out.tape.cues[i].end, samples_to_ns(ends[i]));
  }
  ASSERT_EQ(out.tape.results.size(), 1u);
  EXPECT_EQ(out.tape.results[0].end, samples_to_ns(s + 700 + gap));
}

TEST(Mixer, HigherPriorityCutsInWithACrossfade) {
  Feeder out;
  out.play(announcement("stop", Priority::stop, {sound(0, tone(2 * kSecond, 10'000))}));
  out.run_to(5000);
  const std::int64_t cut = out.mixer.write_position();
  out.play(announcement("safety", Priority::safety, {sound(0, tone(kSecond, 8000))}));
  out.run_to(cut + kSecond + 5000);

  // The stop announcement fades out over 100 ms while the safety one starts at the same sample.
  for (std::int64_t k = 0; k < kFade; ++k) {
    const double gain = 1.0 - static_cast<double>(k) / static_cast<double>(kFade);
    ASSERT_EQ(out.tape.at(cut + k), std::lround(10'000 * gain) + 8000) << "sample " << k;
  }
  EXPECT_TRUE(out.tape.all(cut + kFade, cut + kSecond, 8000));
  EXPECT_TRUE(out.tape.all(cut + kSecond, cut + kSecond + 1000, 0));

  const Cue* cut_cue = out.tape.find_cue("stop", Cue::Event::cut);
  ASSERT_NE(cut_cue, nullptr);
  EXPECT_EQ(cut_cue->start, samples_to_ns(kStartLead));
  EXPECT_EQ(cut_cue->end, samples_to_ns(cut + kFade));
  EXPECT_LE(std::chrono::abs(cut_cue->rendered_at - out.when(cut)), 1us);
  const Cue* safety = out.tape.find_cue("safety", Cue::Event::start);
  ASSERT_NE(safety, nullptr);
  EXPECT_EQ(safety->start, samples_to_ns(cut));
  ASSERT_NE(out.tape.find_result("stop"), nullptr);
  EXPECT_EQ(out.tape.find_result("stop")->outcome, Result::Outcome::interrupted);
  EXPECT_EQ(out.tape.find_result("stop")->end, samples_to_ns(cut + kFade));
}

TEST(Mixer, WaitingAnnouncementsFollowByPriorityThenArrivalWithoutAGap) {
  Feeder out;
  out.play(announcement("first", Priority::stop, {sound(0, tone(3000, 100))}));
  out.step();
  out.play(announcement("info", Priority::information, {sound(0, tone(1000, 200))}));
  out.play(announcement("stop-1", Priority::stop, {sound(0, tone(1000, 300))}));
  out.play(announcement("stop-2", Priority::stop, {sound(0, tone(1000, 400))}));
  out.run_to(2 * kSecond);

  const std::int64_t s = kStartLead;
  EXPECT_TRUE(out.tape.all(s, s + 3000, 100));
  EXPECT_TRUE(out.tape.all(s + 3000, s + 4000, 300));
  EXPECT_TRUE(out.tape.all(s + 4000, s + 5000, 400));
  EXPECT_TRUE(out.tape.all(s + 5000, s + 6000, 200));
  EXPECT_TRUE(out.tape.all(s + 6000, s + 7000, 0));
  ASSERT_EQ(out.tape.results.size(), 4u);
  const char* order[] = {"first", "stop-1", "stop-2", "info"};
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(out.tape.results[i].announcement_id, order[i]);
    EXPECT_EQ(out.tape.results[i].outcome, Result::Outcome::finished);
  }
  EXPECT_EQ(out.tape.began, 4);
}

TEST(Mixer, OneCutBeforeItsFirstSampleIsHeardWholeLater) {
  Feeder out;
  out.play(announcement("stop", Priority::stop, {sound(0, tone(kSecond, 1000))}));
  out.run_to(3000);
  const std::int64_t cut = out.mixer.write_position();
  // The ramp announcement takes over, and the safety one arrives before any of it was written.
  const PcmPtr ramp_pcm = ramp(3000);
  out.play(announcement("ramp", Priority::accessibility, {sound(0, ramp_pcm)}));
  out.play(announcement("safety", Priority::safety, {sound(0, tone(4000, 5000))}));
  out.run_to(cut + kSecond);

  EXPECT_EQ(out.tape.at(cut), 1000 + 5000);
  EXPECT_TRUE(out.tape.all(cut + kFade, cut + 4000, 5000));
  for (std::int64_t k = 0; k < 3000; ++k) {
    ASSERT_EQ(out.tape.at(cut + 4000 + k), (*ramp_pcm)[static_cast<std::size_t>(k)]) << k;
  }
  ASSERT_NE(out.tape.find_result("ramp"), nullptr);
  EXPECT_EQ(out.tape.find_result("ramp")->outcome, Result::Outcome::finished);
  EXPECT_EQ(out.tape.find_cue("ramp", Cue::Event::cut), nullptr);
  ASSERT_NE(out.tape.find_cue("ramp", Cue::Event::start), nullptr);
  EXPECT_EQ(out.tape.find_cue("ramp", Cue::Event::start)->start, samples_to_ns(cut + 4000));
  EXPECT_EQ(out.tape.find_result("stop")->outcome, Result::Outcome::interrupted);
  EXPECT_EQ(out.tape.find_result("safety")->outcome, Result::Outcome::finished);
}

TEST(Mixer, CancelledWhileWaitingIsNeverHeard) {
  Feeder out;
  out.play(announcement("a", Priority::stop, {sound(0, tone(3000, 100))}));
  out.step();
  out.play(announcement("b", Priority::stop, {sound(0, tone(3000, 200))}));
  out.mixer.cancel("b");
  ASSERT_EQ(out.tape.results.size(), 1u) << "said at once, not when something is heard";
  EXPECT_EQ(out.tape.results[0].announcement_id, "b");
  EXPECT_EQ(out.tape.results[0].outcome, Result::Outcome::cancelled);

  out.run_to(kSecond);
  EXPECT_TRUE(out.tape.all(kStartLead + 3000, kStartLead + 6000, 0));
  EXPECT_EQ(out.tape.find_cue("b", Cue::Event::start), nullptr);
}

TEST(Mixer, CancelledWhilePlayingFadesOutAndWithdrawsItsSubtitle) {
  Feeder out;
  out.play(announcement("a", Priority::stop, {sound(0, tone(2 * kSecond, 10'000))}));
  out.run_to(4000);
  const std::int64_t cut = out.mixer.write_position();
  out.mixer.cancel("a");
  out.run_to(cut + kSecond);

  EXPECT_EQ(out.tape.at(cut), 10'000);
  EXPECT_NEAR(out.tape.at(cut + kFade / 2), 5000, 10);  // half way through the fade
  EXPECT_TRUE(out.tape.all(cut + kFade, cut + kSecond / 2, 0));
  const Cue* withdrawn = out.tape.find_cue("a", Cue::Event::withdrawn);
  ASSERT_NE(withdrawn, nullptr);
  EXPECT_EQ(withdrawn->start, samples_to_ns(kStartLead));
  EXPECT_EQ(withdrawn->end, samples_to_ns(cut + kFade));
  EXPECT_EQ(out.tape.find_result("a")->outcome, Result::Outcome::cancelled);
  EXPECT_EQ(out.tape.find_result("a")->end, samples_to_ns(cut + kFade));
}

TEST(Mixer, AnnouncementGoneStaleIsNeverPlayedLate) {
  Feeder out;
  auto a =
      announcement("a", Priority::stop, {sound(0, tone(5000, 100)), sound(1, tone(5000, 200))});
  out.play(a);
  out.step();
  out.mixer.expire("a");  // the bus passed the stop during the first segment
  out.run_to(kSecond);

  const std::int64_t s = kStartLead;
  EXPECT_TRUE(out.tape.all(s, s + 5000, 100));
  EXPECT_TRUE(out.tape.all(s + 5000, s + 10'000, 0)) << "the second segment is not heard";
  const Cue* withdrawn = out.tape.find_cue("a", Cue::Event::withdrawn);
  ASSERT_NE(withdrawn, nullptr);
  EXPECT_EQ(withdrawn->start, samples_to_ns(s));
  EXPECT_EQ(withdrawn->end, samples_to_ns(s + 5000));
  EXPECT_EQ(out.tape.find_result("a")->outcome, Result::Outcome::expired);
  EXPECT_EQ(out.tape.find_result("a")->end, samples_to_ns(s + 5000));

  // One already out of date when its turn comes is dropped without a sound.
  auto late = announcement("late", Priority::stop, {sound(0, tone(1000, 300))});
  late->valid_until = steady_clock::now() - 1s;
  out.play(late);
  out.run_to(2 * kSecond);
  EXPECT_EQ(out.tape.find_result("late")->outcome, Result::Outcome::expired);
  EXPECT_EQ(out.tape.find_cue("late", Cue::Event::start), nullptr);
  EXPECT_TRUE(out.tape.all(kSecond, 2 * kSecond, 0));

  // And one that would cut in: the one playing goes on untouched.
  out.play(announcement("b", Priority::stop, {sound(0, tone(kSecond, 400))}));
  out.run_to(2 * kSecond + 3000);
  auto stale = announcement("stale", Priority::safety, {sound(0, tone(1000, 500))});
  stale->valid_until = steady_clock::now() - 1s;
  out.play(stale);
  EXPECT_EQ(out.tape.find_result("stale")->outcome, Result::Outcome::expired);
  out.run_to(4 * kSecond);
  EXPECT_EQ(out.tape.find_result("b")->outcome, Result::Outcome::finished);
  EXPECT_EQ(out.tape.find_cue("b", Cue::Event::cut), nullptr);
}

TEST(Mixer, AnAnnouncementWaitingWhenItGoesStaleIsDroppedAndTheNextOnePlays) {
  Feeder out;
  out.play(announcement("playing", Priority::stop, {sound(0, tone(5000, 100))}));
  out.play(announcement("stale", Priority::stop, {sound(0, tone(5000, 200))}));
  out.play(announcement("after", Priority::stop, {sound(0, tone(5000, 300))}));
  out.step();
  out.mixer.expire("stale");  // "next stop X" waiting, and the bus reached X
  EXPECT_EQ(out.tape.find_result("stale")->outcome, Result::Outcome::expired);
  out.run_to(kSecond);
  const std::int64_t s = kStartLead;
  EXPECT_TRUE(out.tape.all(s, s + 5000, 100));
  EXPECT_TRUE(out.tape.all(s + 5000, s + 10'000, 300)) << "the next one follows at once";
  EXPECT_EQ(out.tape.find_cue("stale", Cue::Event::start), nullptr);
  EXPECT_EQ(out.tape.find_result("playing")->outcome, Result::Outcome::finished);
}

TEST(Mixer, FallingBehindSkipsAheadOnceAndSaysSo) {
  Feeder out;
  out.play(announcement("a", Priority::stop, {sound(0, tone(3 * kSecond, 100))}));
  out.step();
  const std::int64_t before = out.mixer.write_position();
  out.now = kSecond;  // the feeder did not run for a second
  out.step();
  ASSERT_EQ(out.tape.problems.size(), 1u);
  EXPECT_EQ(out.tape.problems[0].kind, Problem::Kind::late);
  EXPECT_EQ(out.tape.problems[0].announcement_id, "a");
  // Nothing written for the second that passed: the next chunk is `lead` ahead of the clock.
  const auto after = std::find(out.tape.chunks.begin(), out.tape.chunks.end(), kSecond + kLead);
  ASSERT_NE(after, out.tape.chunks.end());
  EXPECT_EQ(*(after - 1), before - Mixer::kChunk);
  EXPECT_TRUE(out.tape.all(before, kSecond + kLead, 0));

  out.now = 2 * kSecond;
  out.step();
  EXPECT_EQ(out.tape.problems.size(), 1u) << "said once per announcement";
}

TEST(Mixer, CuesAreDeliveredWhenTheirSoundIsHeard) {
  Feeder out;
  out.latency = 1764;  // 80 ms from being put out to being heard
  out.play(announcement("a", Priority::stop, {sound(0, tone(2000, 100))}));
  out.run_to(kStartLead + out.latency - 1);
  EXPECT_TRUE(out.tape.cues.empty());
  EXPECT_EQ(out.mixer.next_event(), kStartLead);
  out.run_to(kStartLead + out.latency + 200);
  ASSERT_EQ(out.tape.cues.size(), 1u);
  EXPECT_LE(std::chrono::abs(out.tape.cues[0].rendered_at - out.when(kStartLead)), 1us);
  EXPECT_TRUE(out.tape.results.empty());
  EXPECT_TRUE(out.mixer.sounding()) << "until its last sound is heard";
  out.run_to(kStartLead + 2000 + out.latency);
  ASSERT_EQ(out.tape.results.size(), 1u);
  EXPECT_FALSE(out.mixer.sounding());
}

TEST(Mixer, LoudOverlapIsClippedNotWrappedAround) {
  Feeder out;
  out.play(announcement("a", Priority::stop, {sound(0, tone(kSecond, 30'000))}));
  out.run_to(3000);
  const std::int64_t cut = out.mixer.write_position();
  out.play(announcement("b", Priority::safety, {sound(0, tone(kSecond, 30'000))}));
  out.run_to(cut + kSecond / 2);
  EXPECT_EQ(out.tape.at(cut), 32'767);
  EXPECT_EQ(out.tape.at(cut + kFade), 30'000);
}

}  // namespace
}  // namespace stopcall::media::detail
