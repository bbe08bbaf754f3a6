// How fast the console token may be guessed: the rules, on a made-up clock.
#include "hmi/auth_throttle.hpp"

#include <gtest/gtest.h>

namespace stopcall::hmi {
namespace {

using namespace std::chrono_literals;
using TimePoint = AuthThrottle::TimePoint;

// Each attempt is answered when scheduled; the answer is a wrong token. Returns the seconds the
// last one waited.
double guess(AuthThrottle& throttle, const std::string& source, TimePoint& now) {
  auto at = throttle.schedule(source, now);
  EXPECT_TRUE(at);
  const double waited = std::chrono::duration<double>(*at - now).count();
  now = *at;
  throttle.failed(source, now);
  return waited;
}

TEST(AuthThrottle, WrongTokensFromOneSourceWaitLongerAndLongerUpToTheCap) {
  AuthThrottle throttle;
  TimePoint now{};
  std::vector<double> waits;
  for (int i = 0; i < 8; ++i)
    waits.push_back(guess(throttle, "10.0.0.7", now));
  EXPECT_EQ(waits, (std::vector<double>{0, 0.1, 0.2, 0.4, 0.8, 1.6, 2.0, 2.0}));
  // 1,000 guesses take half an hour instead of a tenth of a second.
  for (int i = 0; i < 992; ++i)
    guess(throttle, "10.0.0.7", now);
  EXPECT_GT(now - TimePoint{}, 30min);
  // Another address is not held up by that one's guesses (until there are many overall).
  auto other = throttle.schedule("10.0.0.8", now);
  ASSERT_TRUE(other);
  EXPECT_LE(*other - now, 2s) << "never more than the cap";
}

TEST(AuthThrottle, TheRightTokenWaitsNoLongerThanTheCapAndClearsTheSource) {
  AuthThrottle throttle;
  TimePoint now{};
  for (int i = 0; i < 20; ++i)
    guess(throttle, "10.0.0.7", now);
  auto right = throttle.schedule("10.0.0.7", now);
  ASSERT_TRUE(right);
  EXPECT_LE(*right - now, 2s);
  now = *right;
  throttle.succeeded("10.0.0.7");
  auto next = throttle.schedule("10.0.0.7", now);
  ASSERT_TRUE(next);
  EXPECT_EQ(*next, now) << "the console's own address starts afresh";
}

TEST(AuthThrottle, ManyAttemptsAtOnceFromOneSourceAreTakenInTurnThenRefused) {
  AuthThrottle throttle;
  TimePoint now{};
  for (int i = 0; i < 5; ++i)
    guess(throttle, "10.0.0.7", now);  // the next waits 1.6 s
  std::vector<TimePoint> answers;
  int refused = 0;
  for (int i = 0; i < 50; ++i) {
    if (auto at = throttle.schedule("10.0.0.7", now)) {
      answers.push_back(*at);
    } else {
      ++refused;
    }
  }
  // One after another, 1.6 s apart, as long as they wait at most 6 s; the rest unchecked.
  ASSERT_EQ(answers.size(), 3u);
  EXPECT_EQ(answers[1] - answers[0], 1600ms);
  EXPECT_EQ(answers[2] - now, 4800ms);
  EXPECT_EQ(refused, 47);
}

TEST(AuthThrottle, ManySourcesSlowEveryoneDownAndAreForgottenLater) {
  AuthThrottle throttle;
  TimePoint now{};
  for (int i = 0; i < 200; ++i)
    guess(throttle, "10.0.1." + std::to_string(i), now);
  EXPECT_EQ(throttle.recent_failures(now), 200u);
  auto fresh = throttle.schedule("192.168.7.1", now);
  ASSERT_TRUE(fresh);
  EXPECT_EQ(*fresh - now, 2s) << "the overall delay, at its cap";
  now += 11min;
  EXPECT_EQ(throttle.recent_failures(now), 0u);
  EXPECT_EQ(*throttle.schedule("192.168.7.2", now), now);
}

TEST(AuthThrottle, AnIpv6HostCountsAsItsSlash64) {
  EXPECT_EQ(AuthThrottle::source_of("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
  EXPECT_EQ(AuthThrottle::source_of("2001:db8:1:2:bbbb::9"), "2001:db8:1:2::/64");
  EXPECT_EQ(AuthThrottle::source_of("::ffff:10.0.0.7"), "10.0.0.7");
  EXPECT_EQ(AuthThrottle::source_of("10.0.0.7"), "10.0.0.7");
}

}  // namespace
}  // namespace stopcall::hmi
