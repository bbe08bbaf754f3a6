#include "hmi/auth_throttle.hpp"

#include <algorithm>
#include <boost/asio/ip/address.hpp>

namespace stopcall::hmi {

namespace {

constexpr std::size_t kMaxRemembered = 100'000;  // failures kept for the overall count

}  // namespace

std::string AuthThrottle::source_of(std::string_view address) {
  boost::system::error_code ec;
  auto parsed = boost::asio::ip::make_address(std::string(address), ec);
  if (ec) return std::string(address);
  if (parsed.is_v6()) {
    auto v6 = parsed.to_v6();
    if (v6.is_v4_mapped()) {
      return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, v6).to_string();
    }
    auto bytes = v6.to_bytes();
    std::fill(bytes.begin() + 8, bytes.end(), 0);
    return boost::asio::ip::address_v6(bytes).to_string() + "/64";
  }
  return parsed.to_string();
}

std::chrono::milliseconds AuthThrottle::delay_for(const Source& s, TimePoint now) {
  using std::chrono::milliseconds;
  milliseconds own{0};
  if (s.failures > 0) {
    const int doublings = std::min(s.failures - 1, 20);
    own = std::min(config_.max_delay, config_.first_delay * (1L << doublings));
  }
  const auto overall_failures = static_cast<long>(recent_failures(now));
  milliseconds overall{0};
  if (overall_failures > config_.overall_free) {
    overall = std::min(config_.max_delay,
                       config_.overall_step * (overall_failures - config_.overall_free));
  }
  return std::max(own, overall);
}

void AuthThrottle::forget_old(TimePoint now) {
  while (!failures_.empty() && now - failures_.front() > config_.window)
    failures_.pop_front();
  std::erase_if(sources_, [&](const auto& entry) {
    return now - entry.second.last > config_.window && entry.second.busy_until <= now;
  });
}

std::optional<AuthThrottle::TimePoint> AuthThrottle::schedule(const std::string& source,
                                                              TimePoint now) {
  forget_old(now);
  if (!sources_.count(source) && sources_.size() >= config_.max_sources) {
    // Too many sources to remember: the one heard from longest ago goes.
    auto oldest = std::min_element(
        sources_.begin(), sources_.end(),
        [](const auto& a, const auto& b) { return a.second.last < b.second.last; });
    sources_.erase(oldest);
  }
  Source& s = sources_[source];
  const TimePoint at = std::max(now, s.busy_until) + delay_for(s, now);
  if (at - now > config_.max_wait) return std::nullopt;
  s.busy_until = at;
  s.last = now;
  return at;
}

void AuthThrottle::failed(const std::string& source, TimePoint now) {
  Source& s = sources_[source];
  ++s.failures;
  s.last = now;
  failures_.push_back(now);
  if (failures_.size() > kMaxRemembered) failures_.pop_front();
  last_source_ = source;
}

void AuthThrottle::succeeded(const std::string& source) {
  auto it = sources_.find(source);
  if (it != sources_.end()) it->second.failures = 0;
}

std::size_t AuthThrottle::recent_failures(TimePoint now) {
  while (!failures_.empty() && now - failures_.front() > config_.window)
    failures_.pop_front();
  return failures_.size();
}

}  // namespace stopcall::hmi
