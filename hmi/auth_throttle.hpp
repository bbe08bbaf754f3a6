// How fast the console's token may be guessed. Every sign-in attempt (the `auth` message, or a
// token in the WebSocket query) is answered only after a delay that grows with the wrong tokens
// that came before it: per source (an IPv4 address, or an IPv6 /64) and over all sources. The
// delay is the same whether the token is right or wrong, so the answer's timing tells nothing, and
// it never exceeds max_delay: the right token is never locked out for longer than that (plus the
// turn of attempts from the same source already waiting, bounded by max_wait). Attempts from one
// source are answered one after another; one more than max_wait can hold is refused unchecked.
//
// Pure: times come in as arguments, so the rules are testable without a clock or a socket.
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace stopcall::hmi {

struct AuthThrottleConfig {
  std::chrono::milliseconds first_delay{100};  // after one wrong token from a source; doubles
  std::chrono::milliseconds max_delay{2000};   // never more than this for one attempt
  std::chrono::milliseconds max_wait{6000};    // attempts from one source waiting at most this
  int overall_free = 20;                       // wrong tokens from anywhere before the overall
  std::chrono::milliseconds overall_step{50};  // delay starts, then this much more for each
  std::chrono::seconds window{600};            // failures older than this are forgotten
  std::size_t max_sources = 1024;              // sources remembered (the oldest go first)
};

class AuthThrottle {
 public:
  using Clock = std::chrono::steady_clock;
  using TimePoint = Clock::time_point;

  explicit AuthThrottle(AuthThrottleConfig config = {}) : config_(config) {}

  // When an attempt from `source` arriving at `now` may be checked and answered; nullopt: too
  // many attempts from this source are waiting already (refuse it without checking).
  std::optional<TimePoint> schedule(const std::string& source, TimePoint now);
  // The outcome of a checked attempt.
  void failed(const std::string& source, TimePoint now);
  void succeeded(const std::string& source);

  // Wrong tokens in the window, from anywhere; the source and time of the last one.
  std::size_t recent_failures(TimePoint now);
  const std::string& last_failed_source() const { return last_source_; }

  // The source an address counts as: the address itself, an IPv6 address's /64 prefix (a host
  // has as many addresses in its /64 as it likes), an IPv4-mapped IPv6 address as IPv4.
  static std::string source_of(std::string_view address);

 private:
  struct Source {
    int failures = 0;
    TimePoint busy_until{};
    TimePoint last{};
  };
  std::chrono::milliseconds delay_for(const Source& s, TimePoint now);
  void forget_old(TimePoint now);

  AuthThrottleConfig config_;
  std::map<std::string, Source> sources_;
  std::deque<TimePoint> failures_;  // every wrong token in the window, oldest first
  std::string last_source_;
};

}  // namespace stopcall::hmi
