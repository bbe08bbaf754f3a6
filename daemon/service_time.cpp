#include "daemon/service_time.hpp"

#include <cstdlib>
#include <ctime>

namespace stopcall::daemon {

ServiceClock::ServiceClock(const std::string& timezone) {
  if (!timezone.empty()) ::setenv("TZ", timezone.c_str(), 1);
  ::tzset();
}

ServiceTime ServiceClock::at(tracking::Time time) const {
  std::time_t t = std::chrono::duration_cast<std::chrono::seconds>(time.time_since_epoch()).count();
  std::tm local{};
  ::localtime_r(&t, &local);
  char date[16];
  std::strftime(date, sizeof date, "%Y%m%d", &local);
  return {date, local.tm_hour * 3600 + local.tm_min * 60 + local.tm_sec};
}

int ServiceClock::utc_offset_min(tracking::Time time) const {
  std::time_t t = std::chrono::duration_cast<std::chrono::seconds>(time.time_since_epoch()).count();
  std::tm local{};
  ::localtime_r(&t, &local);
  return static_cast<int>(local.tm_gmtoff / 60);
}

ServiceTime ServiceClock::day_before(tracking::Time time) const {
  ServiceTime earlier = at(time - std::chrono::hours(24));
  earlier.seconds = at(time).seconds + 24 * 3600;
  return earlier;
}

}  // namespace stopcall::daemon
