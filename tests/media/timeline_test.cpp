// The output's timeline alone: positions from a pipeline's running time, and continuity when a
// sink fails, the fallback takes over, a retried sink takes over again, or nothing plays at all.
#include "media/timeline.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>

#include "media/pcm.hpp"

namespace stopcall::media::detail {
namespace {

using namespace std::chrono_literals;
using std::chrono::steady_clock;

constexpr std::int64_t kSecond = kRate;

std::int64_t ns(std::chrono::nanoseconds d) {
  return d.count();
}

const steady_clock::time_point t0 = steady_clock::time_point{} + 1000s;

TEST(Timeline, TheFirstPipelineStartsItAtItsFirstSample) {
  Timeline t(t0);
  EXPECT_FALSE(t.available());
  t.place(ns(5s), ns(5100ms), t0 + 1s);
  EXPECT_TRUE(t.available());
  EXPECT_TRUE(t.placed());
  EXPECT_EQ(t.position(t0 + 99s, ns(5s)), 0) << "the steady clock is not read";
  EXPECT_EQ(t.position(t0, ns(6s)), kSecond);
  EXPECT_EQ(t.running_time(kSecond), ns(6s));
  EXPECT_EQ(t.running_time(kSecond / 2), ns(5500ms));
  // Heard later by the pipeline's latency.
  EXPECT_EQ(t.heard(t0, ns(6s), ns(40ms)), kSecond - ms_to_samples(40ms));
  // Exact after a day of running.
  EXPECT_EQ(t.position(t0, ns(5s) + ns(24h)), 86'400 * kSecond);
}

TEST(Timeline, WhenThePipelineFailsTheSteadyClockCarriesOn) {
  Timeline t(t0);
  t.place(ns(5s), ns(5s), t0);
  const std::int64_t last = t.position(t0 + 10s, ns(15s));
  EXPECT_EQ(last, 10 * kSecond);
  t.unplace(last, t0 + 10s);
  EXPECT_FALSE(t.placed());
  EXPECT_TRUE(t.available());
  EXPECT_EQ(t.position(t0 + 10500ms, 0), last + kSecond / 2);
  EXPECT_EQ(t.heard(t0 + 10500ms, 0, ns(40ms)), last + kSecond / 2) << "nothing to wait for";

  // The fallback, ready a second later, continues from where the steady clock is.
  t.place(ns(1s), ns(1200ms), t0 + 11s);
  EXPECT_EQ(t.position(t0 + 11s, ns(1200ms)), last + kSecond);
  EXPECT_EQ(t.position(t0 + 11s, ns(2200ms)), last + 2 * kSecond);
  EXPECT_EQ(t.running_time(last + 2 * kSecond), ns(2200ms));
}

TEST(Timeline, ARetriedSinkTakesOverWithoutAJump) {
  Timeline t(t0);
  t.place(ns(2s), ns(2s), t0);
  const std::int64_t now = t.position(t0, ns(32s));  // the fallback has played 30 s
  t.take_over(0, ns(300ms), now);
  EXPECT_EQ(t.position(t0, ns(300ms)), now);
  EXPECT_EQ(t.position(t0, ns(1300ms)), now + kSecond);
  EXPECT_EQ(t.running_time(now + kSecond), ns(1300ms));
}

TEST(Timeline, WhenNothingCanPlayItRunsOnTheSteadyClock) {
  Timeline t(t0);
  t.run_steady(t0 + 2s);
  EXPECT_TRUE(t.available());
  EXPECT_FALSE(t.placed());
  EXPECT_EQ(t.position(t0 + 3s, 0), kSecond);
  t.run_steady(t0 + 3s);  // already running: it goes on
  EXPECT_EQ(t.position(t0 + 4s, 0), 2 * kSecond);
  // A pipeline that becomes ready later continues it.
  t.place(ns(1s), ns(1s), t0 + 5s);
  EXPECT_EQ(t.position(t0, ns(2s)), 4 * kSecond);
}

}  // namespace
}  // namespace stopcall::media::detail
